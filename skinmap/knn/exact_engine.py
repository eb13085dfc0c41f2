"""The exact engine: cosine distances by torch matmul, top-k in tiles, on CUDA when present.

Every distance is computed, so results are exact (ties broken by image id,
like the SQL engine's exact scan). torch is imported here only, when the
engine is used: the rest of skinmap never loads it.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from skinmap.knn.reference import sorted_rows, without_self
from skinmap.knn.vectors import load_vectors, model_images, positions_in

_TIE_MARGIN = 4  # extra places per tile, so equal distances at the k-th place can be re-sorted by id


def _nearest(similarity, width: int):
    """The `width` nearest columns of each row as (cosine distances, positions), nearest first.

    top-k runs on the similarities and only the kept places are turned into
    distances: two fewer passes over every tile than converting first.
    """
    import torch

    s, j = torch.topk(similarity, width, dim=1, largest=True)
    return 1.0 - s.clamp_(-1.0, 1.0), j


def row_positions(model_ids: np.ndarray, image_ids) -> np.ndarray:
    """Matrix rows of these images: the model's ids are sorted (model_images orders them), so a binary search
    replaces a dict lookup per image (seconds at 1.1M)."""
    pos, found = positions_in(model_ids, image_ids)
    if not found.all():
        raise KeyError(f"images without a vector of this model: {np.asarray(image_ids)[~found][:5]}")
    return pos


def _merge_lists(best_d, best_j, d, j, take: int, largest: bool = False):
    """Fold candidate places (d, j) into running lists (best_d, best_j), keeping `take` places per row."""
    import torch

    cat_d, cat_j = torch.cat([best_d, d], 1), torch.cat([best_j, j], 1)
    best_d, pos = torch.topk(cat_d, min(take, cat_d.shape[1]), dim=1, largest=largest)
    return best_d, torch.gather(cat_j, 1, pos)


class ExactEngine:
    name = "exact"

    def __init__(self, url: str, *, device: str | None = None, query_tile: int = 1024,
                 reference_tile: int = 65536, cross_tile: int = 8192):
        import torch

        self.url = url
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.query_tile, self.reference_tile, self.cross_tile = query_tile, reference_tile, cross_tile
        self._cache: dict[int, tuple[np.ndarray, object]] = {}  # model -> (sorted image ids, matrix rows)
        self._loading: dict[int, Future] = {}

    def prefetch(self, model_id: int, image_ids: np.ndarray) -> None:
        """Start reading the model's vectors (its image ids, as model_images gives them) in a thread, so that an
        update's reads of what is stored overlap them (8 s at 1.1M x 512 on 2 cores); _vectors waits for it."""
        if model_id not in self._cache and model_id not in self._loading:
            pool = ThreadPoolExecutor(1)
            self._loading[model_id] = pool.submit(self._load, model_id, image_ids)
            pool.shutdown(wait=False)  # the thread ends with the read

    def _load(self, model_id: int, ids: np.ndarray | None = None):
        import torch

        ids = model_images(self.url, model_id).image_ids if ids is None else ids
        matrix = torch.from_numpy(load_vectors(self.url, model_id, ids)).to(self.device)
        return ids, torch.nn.functional.normalize(matrix, dim=1) if len(ids) else matrix

    def _vectors(self, model_id: int):
        if model_id not in self._cache:
            loading = self._loading.pop(model_id, None)
            self._cache[model_id] = loading.result() if loading is not None else self._load(model_id)
        return self._cache[model_id]

    def reference(self, model_id: int) -> ExactReference:
        return ExactReference(self, *self._vectors(model_id))

    def whole_model(self, model_id: int, image_ids: np.ndarray) -> ExactReference:
        reference = self.reference(model_id)
        reference.add(image_ids)
        return reference

    def cutoff_distances(self, model_id: int, image_ids: np.ndarray, years: np.ndarray, cutoffs: list[int],
                         k: int):
        """Yield (cutoff, query ids, distances (n, k)) for every cutoff, ascending, in one pass.

        Queries are the images of year <= cutoff; distances are to their k
        nearest images of years < cutoff, self left out, ascending, NaN where
        fewer exist. Every pair is scored once: each image keeps a running
        top list that is merged with one release year's block at a time, so
        all cutoffs cost one all-pairs pass instead of one search per cutoff
        (7x fewer distances for 10 years). Only aggregates are derived from
        these lists, and they do not depend on how ties are ordered.
        """
        import torch

        model_ids, matrix = self._vectors(model_id)
        x = matrix[torch.as_tensor(row_positions(model_ids, image_ids), device=self.device)]
        n, take = len(image_ids), k + 1
        best_d = torch.full((n, take), float("inf"), device=self.device)
        best_j = torch.full((n, take), -1, dtype=torch.long, device=self.device)
        added: set[int] = set()
        for cutoff in cutoffs:
            for year in sorted({int(y) for y in years} - added):
                if year < cutoff:
                    block = torch.as_tensor(np.flatnonzero(years == year), device=self.device)
                    self._merge_block(x, block, best_d, best_j, take)
                    added.add(year)
            in_s = np.flatnonzero(years <= cutoff)
            if len(in_s) == 0:
                continue
            rows_s = torch.as_tensor(in_s, device=self.device)
            d, j = best_d[rows_s].clone(), best_j[rows_s]
            d[(j == rows_s[:, None]) | (j < 0)] = float("inf")  # self and empty places
            d = torch.sort(d, dim=1).values[:, :k].double().cpu().numpy()
            d[np.isinf(d)] = np.nan
            yield cutoff, image_ids[in_s], d

    def cross(self, model_id: int, all_ids: np.ndarray, new_ids: np.ndarray, old_ids: np.ndarray, k: int,
              bounds: np.ndarray | None = None):
        """The cross lists of skinmap.knn.cross in one pass over new x all distances.

        Each tile of the atlas gives, at once, the new images' running lists
        (overall, and over old images only) and, complete, the tile's old
        images' nearest new images: one matmul instead of three searches.
        `bounds` (per old image): an old image whose nearest new image lies
        beyond it gets no list (its rows are not sorted).
        """
        import torch

        from skinmap.knn.cross import TIE_TOLERANCE, CrossLists

        model_ids, matrix = self._vectors(model_id)
        dev = self.device
        all_t = torch.as_tensor(np.asarray(all_ids, dtype=np.int64), device=dev)
        new_t = torch.as_tensor(np.asarray(new_ids, dtype=np.int64), device=dev)
        x_new = matrix[torch.as_tensor(row_positions(model_ids, new_ids), device=dev)]
        all_rows = torch.as_tensor(row_positions(model_ids, all_ids), device=dev)
        is_new = torch.isin(all_t, new_t)
        n_new, wide, narrow = len(new_ids), 2 * k + 1 + _TIE_MARGIN, k + _TIE_MARGIN
        # running lists hold similarities (top-k on them, distances only for what is kept)
        lists = {name: (torch.full((n_new, width), -float("inf"), device=dev),
                        torch.full((n_new, width), -1, dtype=torch.long, device=dev))
                 for name, width in (("all", wide), ("old", narrow))}
        old_s = torch.full((len(old_ids), min(narrow, n_new)), -float("inf"), device=dev)
        old_j = torch.full_like(old_s, -1, dtype=torch.long)
        old_pos, tile = 0, self.cross_tile
        for t0 in range(0, len(all_ids), tile):
            cols, col_ids, col_new = all_rows[t0:t0 + tile], all_t[t0:t0 + tile], is_new[t0:t0 + tile]
            similarity = x_new @ matrix[cols].T
            old_cols = torch.nonzero(~col_new).flatten()
            if len(old_cols):  # complete in this tile: each old column's nearest new images
                s_, j = torch.topk(similarity[:, old_cols], old_s.shape[1], dim=0)
                old_s[old_pos:old_pos + len(old_cols)], old_j[old_pos:old_pos + len(old_cols)] = s_.T, new_t[j.T]
                old_pos += len(old_cols)
            for name in ("all", "old"):
                best_s, best_j = lists[name]
                width = min(best_s.shape[1], similarity.shape[1])
                if name == "all" or bool(col_new.any()):
                    if name == "old":
                        similarity.masked_fill_(col_new[None, :], -float("inf"))
                    s_, j = torch.topk(similarity, width, dim=1)
                    j = torch.where(torch.isinf(s_), -1, col_ids[j])
                else:  # a tile of old images only: the old list's places are the first of the overall ones
                    s_, j = s_[:, :width], j[:, :width]
                best_s[:], best_j[:] = _merge_lists(best_s, best_j, s_, j, best_s.shape[1], largest=True)

        listed = -1
        if bounds is not None:  # old images whose nearest new image is beyond their bound: no list
            nearest = 1.0 - old_s[:, 0].double().clamp(-1.0, 1.0).cpu().numpy()
            beyond = ~(nearest <= np.nan_to_num(np.asarray(bounds, dtype=np.float64), nan=np.inf) + TIE_TOLERANCE)
            old_s[torch.as_tensor(beyond, device=dev)] = -float("inf")
            listed = int((~beyond).sum())

        def _rows(pair, query=None, width=k):
            sim, j = pair
            d = torch.where(torch.isinf(sim), float("inf"), 1.0 - sim.clamp(-1.0, 1.0)).double().cpu().numpy()
            j = j.cpu().numpy()
            d[np.isinf(d)] = np.nan
            j[np.isnan(d)] = -1
            ids, dists = j.copy(), d.copy()
            some = np.flatnonzero(~np.isnan(d).all(axis=1))  # rows without any place need no sorting
            ids[some], dists[some] = sorted_rows(j[some], d[some])
            if query is not None:
                return without_self(query, ids, dists, width)
            pad = max(0, width - ids.shape[1])
            ids = np.pad(ids, ((0, 0), (0, pad)), constant_values=-1)[:, :width]
            return ids, np.pad(dists, ((0, 0), (0, pad)), constant_values=np.nan)[:, :width]

        return CrossLists(k, np.asarray(new_ids), np.asarray(old_ids), _rows(lists["all"], np.asarray(new_ids), 2 * k),
                          _rows(lists["old"]), _rows((old_s, old_j)), listed)

    def _merge_block(self, x, block, best_d, best_j, take: int) -> None:
        """Fold one block of reference rows into every image's running top-`take` list."""

        for r0 in range(0, len(block), self.reference_tile):
            tile = block[r0:r0 + self.reference_tile]
            reference = x[tile].T.contiguous()
            width = min(take, len(tile))
            for q0 in range(0, x.shape[0], self.query_tile):
                q1 = min(q0 + self.query_tile, x.shape[0])
                d, j = _nearest(x[q0:q1] @ reference, width)
                best_d[q0:q1], best_j[q0:q1] = _merge_lists(best_d[q0:q1], best_j[q0:q1], d, tile[j], take)


class ExactReference:
    """Members are rows of the model's matrix; a search scores queries against all of them."""

    def __init__(self, engine: ExactEngine, ids: np.ndarray, matrix):
        self.engine, self.ids, self.matrix = engine, ids, matrix
        self.member_rows: list[int] = []

    def add(self, image_ids: np.ndarray) -> None:
        self.member_rows.extend(row_positions(self.ids, image_ids).tolist())

    def search(self, query_ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        import torch

        n = len(query_ids)
        out_ids = np.full((n, k), -1, dtype=np.int64)
        out_d = np.full((n, k), np.nan, dtype=np.float64)
        if n == 0 or not self.member_rows or k == 0:
            return out_ids, out_d
        members = torch.as_tensor(np.array(sorted(self.member_rows)), device=self.engine.device)
        member_ids = torch.as_tensor(self.ids, device=self.engine.device)[members]
        query_rows = torch.as_tensor(row_positions(self.ids, query_ids), device=self.engine.device)
        take = min(k + _TIE_MARGIN, len(members))
        for start in range(0, n, self.engine.query_tile):
            queries = self.matrix[query_rows[start:start + self.engine.query_tile]]
            best_d = best_i = None
            for r0 in range(0, len(members), self.engine.reference_tile):
                tile = members[r0:r0 + self.engine.reference_tile]
                d, j = _nearest(queries @ self.matrix[tile].T, min(take, len(tile)))
                i = member_ids[r0:r0 + self.engine.reference_tile][j]
                if best_d is None:
                    best_d, best_i = d, i
                else:
                    best_d, best_i = _merge_lists(best_d, best_i, d, i, take)
            ids, dists = sorted_rows(best_i.cpu().numpy(), best_d.double().cpu().numpy())
            width = min(k, ids.shape[1])
            out_ids[start:start + len(ids), :width] = ids[:, :width]
            out_d[start:start + len(ids), :width] = dists[:, :width]
        return out_ids, out_d

    def close(self) -> None:
        self.member_rows = []
