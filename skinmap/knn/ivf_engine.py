"""The ivf engine: k-means cells (inverted lists) in torch, so field-scale kNN costs cells, not all pairs.

Every image belongs to the cell of its nearest centroid (spherical k-means,
about sqrt(n) cells). The images of one cell are scored, as one matmul,
against the cells whose centroids are nearest to their own cell's
centroid, and the cells almost as near (`slack`) to each query as its own:
at least `probes` cells, and more until they hold as many reference images
as `probes` cells hold on average. A reference that lies
far away (the earlier years, for a genuinely novel dataset) is thus still
reached, instead of leaving a novel image with only distant, wrong
neighbours. At 1.1M x 512 on 2 CPU cores that turns hours of
all-pairs distances into minutes. It is approximate: recall against the
exact engine is measured (bench/knn_field_scale.py, tests), never assumed,
and `probes` trades time for recall. Reference sets of fewer than
`exact_below` images, and cutoffs whose earlier years hold fewer, are
searched exactly, so small sets never get short lists.

The centroids and every image's cells are stored (skinmap.knn.ivf_store):
a full run trains them afresh, an update reuses them and places only the
new images, which saves about 18 s of a 1.1M update on 2 cores.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skinmap import db
from skinmap.knn import ivf_store
from skinmap.knn.exact_engine import _TIE_MARGIN, ExactEngine, ExactReference, _merge_lists, _nearest, row_positions
from skinmap.knn.reference import sorted_rows, without_self
from skinmap.knn.vectors import positions_in

EXACT_BELOW = 50_000
GROWTH = 1.5  # stored cells serve until the model has grown (or shrunk) by this factor since they were trained
FIT_QUANTILE = 0.01  # a new image less similar to every centroid than this share of the trained images fits none


@dataclass
class Cells:
    cell_of_row: object  # torch long (n,): each matrix row's cell
    rows_by_cell: object  # torch long (n,): matrix rows ordered by cell
    starts: np.ndarray  # (n_cells + 1,): cell c's rows are rows_by_cell[starts[c]:starts[c + 1]]
    order: object  # torch long (n_cells, n_cells): every cell's cells, nearest centroid first (itself first)
    near: object  # torch long (n, n_probes): each row's own cell, then cells almost as near (or its own again)
    n_probes: int

    def span(self, cell: int) -> slice:
        """Where the cell's rows lie in rows_by_cell (and in a matrix put in that order)."""
        return slice(int(self.starts[cell]), int(self.starts[cell + 1]))

    def rows(self, cell: int):
        return self.rows_by_cell[self.span(cell)]

    def probes(self, is_reference) -> np.ndarray:
        """Cells to search for each query cell: at least n_probes, more until they hold n_probes cells'
        average share of the reference (`is_reference`: bool per matrix row)."""
        import torch

        n_cells = len(self.starts) - 1
        counts = torch.bincount(self.cell_of_row[is_reference], minlength=n_cells).to(torch.float64)
        target = self.n_probes * counts.sum() / n_cells
        reached = torch.cumsum(counts[self.order], dim=1) >= target - 1e-9
        needed = torch.where(reached.any(1), reached.to(torch.int8).argmax(1) + 1, n_cells)
        return torch.clamp(needed, min=min(self.n_probes, n_cells)).cpu().numpy()

    def candidate_cells(self, cell: int, n_probes: int, queries):
        """The cell's nearest cells, and the cells that several of its queries have almost as near as their
        own (a cluster split between cells keeps both halves). A cell named by one or two queries only (an
        isolated, novel image: its next cells are near-random) is left out; at most 2 x n_probes such
        cells, the most named first, so a cell never searches the whole atlas."""
        import torch

        probed = self.order[cell, :int(n_probes)]
        named = torch.bincount(self.near[queries][:, 1:].flatten(), minlength=len(self.starts) - 1)
        named[probed] = 0
        named[self.near[queries][:, 0]] = 0
        top = torch.topk(named, min(2 * self.n_probes, len(named)))
        extra = top.indices[top.values >= max(3, int(np.ceil(0.02 * len(queries))))]
        return torch.cat([probed, extra])

    def candidates(self, cell: int, n_probes: int, queries):
        """Rows of the candidate cells (candidate_cells)."""
        return self.rows_of(self.candidate_cells(cell, n_probes, queries).tolist())

    def rows_of(self, cells: list[int]):
        import torch

        return torch.cat([self.rows(p) for p in cells])


def _nearest_centroids(x, centroids, n: int, chunk: int = 65536):
    import torch

    return torch.cat([torch.topk(x[s:s + chunk] @ centroids.T, n, dim=1).indices for s in range(0, len(x), chunk)])


def _near_cells(x, centroids, n: int, slack: float, chunk: int = 65536):
    """Each row's nearest cell first, then its next nearest ones within `slack` cosine similarity of it (else
    the first again): the cells an image at a border shares. Without the slack, the 2nd-8th nearest centroids
    of a well-clustered image are near-random cells and every cell would end up searching the whole atlas."""
    import torch

    parts = []
    for s in range(0, len(x), chunk):
        top = torch.topk(x[s:s + chunk] @ centroids.T, n, dim=1)
        close = top.values >= top.values[:, :1] - slack
        parts.append(torch.where(close, top.indices, top.indices[:, :1]))
    return torch.cat(parts)


class IvfEngine(ExactEngine):
    name = "ivf"

    def __init__(self, url: str, *, device: str | None = None, cells: int | None = None, probes: int = 8,
                 slack: float = 0.1, exact_below: int = EXACT_BELOW, iterations: int = 10, seed: int = 0,
                 reuse_cells: bool = True):
        super().__init__(url, device=device)
        self.n_cells, self.n_probes, self.slack, self.exact_below = cells, probes, slack, exact_below
        self.iterations, self.seed, self.reuse_cells = iterations, seed, reuse_cells
        self._cells: dict[int, Cells] = {}

    def cells(self, model_id: int) -> Cells:
        """Every image's cells: stored ones (atlas.knn_ivf_cell) when `reuse_cells` and they still fit the model,
        the images without one placed and added; else centroids trained afresh and stored with every image's."""
        import torch

        if model_id in self._cells:
            return self._cells[model_id]
        ids, matrix = self._vectors(model_id)
        stored = self._stored_cells(model_id, ids, matrix) if self.reuse_cells else None
        if stored is None:
            n_cells = max(1, min(len(ids), self.n_cells or int(round(np.sqrt(len(ids))))))
            centroids, fit_floor = self._train(matrix, n_cells)
            near = _near_cells(matrix, centroids, min(self.n_probes, n_cells), self.slack)
            with db.connect(self.url) as conn:
                layout = ivf_store.Layout(n_cells, self.n_probes, self.slack, self.iterations, self.seed, len(ids),
                                          fit_floor)
                ivf_store.write_layout(conn, model_id, layout, centroids.cpu().numpy())
                ivf_store.write_cells(conn, model_id, ids, near.cpu().numpy())
                conn.commit()
        else:
            centroids, near = stored
        n_cells = centroids.shape[0]
        cell_of_row = near[:, 0].contiguous()
        rows_by_cell = torch.argsort(cell_of_row, stable=True)
        starts = np.concatenate([[0], np.cumsum(torch.bincount(cell_of_row, minlength=n_cells).cpu().numpy())])
        order = torch.argsort(centroids @ centroids.T, dim=1, descending=True)
        self._cells[model_id] = Cells(cell_of_row, rows_by_cell, starts, order, near, self.n_probes)
        return self._cells[model_id]

    def _train(self, matrix, n_cells: int):
        """Spherical k-means on a seeded sample (64 images a cell): (the centroids (n_cells, dim), the fit floor:
        the 1st percentile of the sample's similarity to its own centroid)."""
        import torch

        n = matrix.shape[0]
        generator = torch.Generator().manual_seed(self.seed)
        sample = matrix[torch.randperm(n, generator=generator)[:min(n, 64 * n_cells)].to(matrix.device)]
        centroids = sample[:n_cells].clone()
        for _ in range(self.iterations):
            assigned = _nearest_centroids(sample, centroids, 1)[:, 0]
            sums = torch.zeros_like(centroids).index_add_(0, assigned, sample)
            empty = torch.bincount(assigned, minlength=n_cells) == 0
            reseed = torch.randint(len(sample), (int(empty.sum()),), generator=generator).to(matrix.device)
            sums[empty] = sample[reseed]  # an empty cell restarts at a random sample image
            centroids = torch.nn.functional.normalize(sums, dim=1)
        fit = (sample @ centroids.T).max(dim=1).values
        return centroids, float(torch.quantile(fit.double().cpu(), FIT_QUANTILE))

    def _stored_cells(self, model_id: int, ids: np.ndarray, matrix):
        """(centroids, each row's cells) from the database, new images placed and stored; None when there are
        none, they were made with other settings, or the model has grown or shrunk by half since they were."""
        import torch

        with db.connect(self.url) as conn:
            layout = ivf_store.read_layout(conn, model_id)
            if (layout is None or layout.cells > len(ids)
                    or not layout.trained_on / GROWTH <= len(ids) <= layout.trained_on * GROWTH
                    or (layout.probes, layout.iterations, layout.seed) != (self.n_probes, self.iterations, self.seed)
                    or abs(layout.slack - self.slack) > 1e-6 or self.n_cells not in (None, layout.cells)):
                return None
            centroids = ivf_store.read_centroids(conn, model_id, layout.cells, matrix.shape[1])
            if centroids is None:
                return None
            width = min(self.n_probes, layout.cells)
            stored_ids, stored = ivf_store.read_cells(conn, model_id, width)
            centroids = torch.from_numpy(centroids).to(self.device)
            near = torch.zeros((len(ids), width), dtype=torch.long, device=self.device)
            at, hit = positions_in(ids, stored_ids)
            placed = np.zeros(len(ids), dtype=bool)
            placed[at[hit]] = True
            near[torch.as_tensor(at[hit], device=self.device)] = torch.as_tensor(stored[hit], device=self.device)
            missing = torch.as_tensor(np.flatnonzero(~placed), device=self.device)
            if len(missing):
                centroids = self._grown(conn, model_id, layout, centroids, matrix[missing])
                if min(self.n_probes, len(centroids)) != width:
                    return None
                near[missing] = _near_cells(matrix[missing], centroids, width, self.slack)
                ivf_store.write_cells(conn, model_id, ids[missing.cpu().numpy()], near[missing].cpu().numpy())
                conn.commit()
        return centroids, near

    def _grown(self, conn, model_id: int, layout: ivf_store.Layout, centroids, new):
        """The centroids, with cells of their own for new images that fit none (a novel dataset, far from every
        trained cell: crowded into the nearest old ones, its images would miss each other). They are stored."""
        import torch

        misfit = new[(new @ centroids.T).max(dim=1).values < layout.fit_floor]
        cell_size = layout.trained_on / layout.cells
        if len(misfit) < cell_size / 2:
            return centroids
        added, _ = self._train(misfit, max(1, int(round(len(misfit) / cell_size))))
        ivf_store.add_centroids(conn, model_id, len(centroids), added.cpu().numpy())
        return torch.cat([centroids, added])

    def _is_small(self, model_id: int) -> bool:
        return self._vectors(model_id)[1].shape[0] < self.exact_below

    def reference(self, model_id: int) -> ExactReference:
        ids, matrix = self._vectors(model_id)
        if self._is_small(model_id):
            return ExactReference(self, ids, matrix)
        return IvfReference(self, model_id, ids, matrix)

    def cutoff_distances(self, model_id: int, image_ids: np.ndarray, years: np.ndarray, cutoffs: list[int],
                         k: int, flush_rows: int = 262_144):
        """As the exact engine's; cutoffs with fewer than exact_below earlier images are searched exactly."""
        import torch

        if self._is_small(model_id):
            yield from super().cutoff_distances(model_id, image_ids, years, cutoffs, k)
            return
        small = [c for c in cutoffs if int((years < c).sum()) < self.exact_below]
        for cutoff in small:
            reference = ExactEngine.reference(self, model_id)
            reference.add(image_ids[years < cutoff])
            queries = image_ids[years <= cutoff]
            ids, dists = reference.search(queries, k + 1)
            yield cutoff, queries, without_self(queries, ids, dists, k)[1]
        large = [c for c in cutoffs if c not in small]
        if not large:
            return
        ids_all, matrix = self._vectors(model_id)
        cells = self.cells(model_id)
        year_of_row = torch.full((matrix.shape[0],), np.iinfo(np.int32).max, dtype=torch.long, device=self.device)
        query_rows = torch.as_tensor(row_positions(ids_all, image_ids), device=self.device)
        year_of_row[query_rows] = torch.as_tensor(years, dtype=torch.long, device=self.device)
        row_ids = torch.as_tensor(ids_all, device=self.device)
        take = k + 1
        pending: dict[int, list] = {c: [] for c in large}
        probes = np.max([cells.probes(year_of_row < c) for c in large], axis=0)
        for cell in range(len(cells.starts) - 1):
            q = cells.rows(cell)
            q = q[year_of_row[q] <= large[-1]]
            if len(q) == 0:
                continue
            cand = cells.candidates(cell, probes[cell], q)
            cand = cand[year_of_row[cand] < large[-1]]
            cand = cand[torch.argsort(year_of_row[cand], stable=True)]
            cand_years = year_of_row[cand]
            similarity = matrix[q] @ matrix[cand].T
            best_d = torch.full((len(q), take), float("inf"), device=self.device)
            best_j = torch.full((len(q), take), -1, dtype=torch.long, device=self.device)
            start = 0
            for cutoff in large:
                stop = int(torch.searchsorted(cand_years, torch.tensor(cutoff, device=self.device)))
                if stop > start:
                    d, j = _nearest(similarity[:, start:stop], min(take, stop - start))
                    best_d, best_j = _merge_lists(best_d, best_j, d, row_ids[cand[start:stop][j]], take)
                    start = stop
                in_s = year_of_row[q] <= cutoff
                if in_s.any():
                    query_ids = row_ids[q[in_s]].cpu().numpy()
                    d = best_d[in_s].double().cpu().numpy()
                    j = best_j[in_s].cpu().numpy()
                    d[np.isinf(d)] = np.nan
                    pending[cutoff].append((query_ids, without_self(query_ids, *sorted_rows(j, d), k)[1]))
                if sum(len(p[0]) for p in pending[cutoff]) >= flush_rows:
                    yield cutoff, *_joined(pending[cutoff])
                    pending[cutoff] = []
        for cutoff in large:
            if pending[cutoff]:
                yield cutoff, *_joined(pending[cutoff])

    def cross(self, model_id: int, all_ids: np.ndarray, new_ids: np.ndarray, old_ids: np.ndarray, k: int,
              bounds: np.ndarray | None = None):
        """The cross lists of skinmap.knn.cross, cell by cell: new images against their cells' candidates (one
        matmul for both of their lists), old images only against the new images among theirs. `bounds` (per old
        image, skinmap.knn.cross): an old image whose nearest new candidate lies beyond it gets no list."""
        import torch

        from skinmap.knn.cross import TIE_TOLERANCE, CrossLists, within_bound

        if self._is_small(model_id):
            return super().cross(model_id, all_ids, new_ids, old_ids, k, bounds)
        ids_all, matrix = self._vectors(model_id)
        cells = self.cells(model_id)
        dev = self.device
        row_ids = torch.as_tensor(ids_all, device=dev)
        n_rows = matrix.shape[0]
        new_rows_ = torch.as_tensor(row_positions(ids_all, new_ids), device=dev)
        is_new = torch.zeros(n_rows, dtype=torch.bool, device=dev)
        is_new[new_rows_] = True
        group_rows = {"new": new_rows_, "old": torch.nonzero(~is_new).flatten()}
        if not np.array_equal(ids_all[group_rows["old"].cpu().numpy()], old_ids):  # old: the model's other images
            group_rows["old"] = torch.as_tensor(row_positions(ids_all, old_ids), device=dev)
        position = {}
        for name, rows in group_rows.items():
            position[name] = torch.full((n_rows,), -1, dtype=torch.long, device=dev)
            position[name][rows] = torch.arange(len(rows), device=dev)
        bound_of_row = torch.full((n_rows,), float("inf"), dtype=torch.float64, device=dev)
        if bounds is not None:
            bound_of_row[group_rows["old"]] = torch.as_tensor(
                np.nan_to_num(np.asarray(bounds, dtype=np.float64), nan=np.inf), device=dev)
        shapes = {"all": (len(new_ids), 2 * k + 1), "old": (len(new_ids), k)}
        out = {name: (np.full(shape, -1, dtype=np.int64), np.full(shape, np.nan)) for name, shape in shapes.items()}
        to_new = []  # per cell: (old image positions, their lists cut at their bounds), joined at the end

        def put(name, at, similarity, columns, width, bound=None):
            if similarity.shape[1] == 0 or similarity.shape[0] == 0:
                return
            d, j = _nearest(similarity, min(width + _TIE_MARGIN, similarity.shape[1]))
            ids, dists = sorted_rows(row_ids[columns[j]].cpu().numpy(), d.double().cpu().numpy())
            width = min(width, ids.shape[1])
            if bound is not None:
                ids, dists = within_bound(ids[:, :width], dists[:, :width], bound)
                if ids.shape[1] < k and (ids[:, -1] >= 0).any():  # all candidates listed: the empty last place says so
                    ids, dists = np.pad(ids, ((0, 0), (0, 1)), constant_values=-1), np.pad(
                        dists, ((0, 0), (0, 1)), constant_values=np.nan)
                to_new.append((at, ids, dists))
            else:
                out[name][0][at, :width], out[name][1][at, :width] = ids[:, :width], dists[:, :width]

        everything = torch.ones(n_rows, dtype=torch.bool, device=dev)
        # the new images' candidates serve both their lists: the probes of either reference, whichever is wider
        probes_new = np.maximum(cells.probes(everything), cells.probes(~is_new))
        probes_old = cells.probes(is_new)
        # the new rows by cell (in row order, as cells.rows): an old image's candidates are only these
        new_rows = cells.rows_by_cell[is_new[cells.rows_by_cell]]
        new_count = torch.bincount(cells.cell_of_row[new_rows], minlength=len(cells.starts) - 1)
        new_starts = np.concatenate([[0], np.cumsum(new_count.cpu().numpy())])
        # the matrix in cell order: a cell's rows are a slice, not gathered again for every cell that probes it
        # (at 1.1M, gathering the candidates of the new images' cells copied about 17 GB)
        by_cell = matrix[cells.rows_by_cell]
        listed = 0
        for cell in range(len(cells.starts) - 1):
            q = cells.rows(cell)
            old_in_cell = ~is_new[q]
            q_new, q_old = q[~old_in_cell], q[old_in_cell]
            if len(q_new):
                named = cells.candidate_cells(cell, probes_new[cell], q_new).tolist()
                cand = cells.rows_of(named)
                at = position["new"][q_new].cpu().numpy()
                x = matrix[q_new]
                similarity = torch.cat([x @ by_cell[cells.span(p)].T for p in named], dim=1)
                put("all", at, similarity, cand, 2 * k + 1)
                old_columns = ~is_new[cand]
                put("old", at, similarity[:, old_columns], cand[old_columns], k)
            if len(q_old):
                named = cells.candidate_cells(cell, probes_old[cell], q_old)
                named = named[new_count[named] > 0].tolist()
                if not named:
                    continue  # no new image in any of its cells (a novel dataset: most cells)
                cand = torch.cat([new_rows[int(new_starts[c]):int(new_starts[c + 1])] for c in named])
                similarity = (by_cell[cells.span(cell)] @ matrix[cand].T)[old_in_cell]
                nearest = 1.0 - similarity.max(dim=1).values.double()
                within = nearest <= bound_of_row[q_old] + TIE_TOLERANCE
                listed += int(within.sum())
                put("to_new", position["old"][q_old[within]].cpu().numpy(), similarity[within], cand, k,
                    bound=bound_of_row[q_old[within]].cpu().numpy())
        width = max([1] + [block[1].shape[1] for block in to_new])  # at most k; narrow where bounds cut the lists
        out["to_new"] = (np.full((len(old_ids), width), -1, dtype=np.int64), np.full((len(old_ids), width), np.nan))
        for at, ids, dists in to_new:
            out["to_new"][0][at, :ids.shape[1]], out["to_new"][1][at, :ids.shape[1]] = ids, dists
        new_ids = np.asarray(new_ids)
        return CrossLists(k, new_ids, np.asarray(old_ids), without_self(new_ids, *out["all"], 2 * k),
                          out["old"], out["to_new"], listed if bounds is not None else -1)


def _joined(parts: list) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


class IvfReference(ExactReference):
    """Members are rows of the model's matrix; queries of a cell are scored against the members in its probes."""

    def __init__(self, engine: IvfEngine, model_id: int, ids, matrix):
        super().__init__(engine, ids, matrix)
        self.model_id = model_id

    def search(self, query_ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        if len(self.member_rows) < self.engine.exact_below:
            return super().search(query_ids, k)
        dev = self.engine.device
        cells = self.engine.cells(self.model_id)
        is_member = torch.zeros(self.matrix.shape[0], dtype=torch.bool, device=dev)
        is_member[torch.as_tensor(self.member_rows, dtype=torch.long, device=dev)] = True
        row_ids = torch.as_tensor(self.ids, device=dev)
        query_rows = torch.as_tensor(row_positions(self.ids, query_ids), device=dev)
        out_ids = np.full((len(query_ids), k), -1, dtype=np.int64)
        out_d = np.full((len(query_ids), k), np.nan)
        query_cells = cells.cell_of_row[query_rows]
        order = torch.argsort(query_cells, stable=True)
        bounds = torch.searchsorted(query_cells[order], torch.arange(len(cells.starts), device=dev)).cpu().numpy()
        probes = cells.probes(is_member)
        for cell in range(len(cells.starts) - 1):
            at = order[bounds[cell]:bounds[cell + 1]]
            if len(at) == 0:
                continue
            cand = cells.candidates(cell, probes[cell], query_rows[at])
            cand = cand[is_member[cand]]
            if len(cand) == 0:
                continue
            d, j = _nearest(self.matrix[query_rows[at]] @ self.matrix[cand].T, min(k + _TIE_MARGIN, len(cand)))
            ids, dists = sorted_rows(row_ids[cand[j]].cpu().numpy(), d.double().cpu().numpy())
            width = min(k, ids.shape[1])
            rows_at = at.cpu().numpy()
            out_ids[rows_at, :width], out_d[rows_at, :width] = ids[:, :width], dists[:, :width]
        return out_ids, out_d
