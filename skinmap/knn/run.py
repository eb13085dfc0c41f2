"""One entry point: fill edges, novelty aggregates and Fréchet distances for every model."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from skinmap import db
from skinmap.knn.check import sampled_quality
from skinmap.knn.cross import CrossLists, cross_search, is_member
from skinmap.knn.edges import StoredEdges, build_edges, existing_edges
from skinmap.knn.frechet import build_frechet
from skinmap.knn.novelty import build_novelty
from skinmap.knn.store import read_newest_kth
from skinmap.knn.vectors import model_ids, model_images

ENGINES = ("sql", "exact", "ivf")


def make_engine(url: str, name: str, **options):
    if name == "sql":
        from skinmap.knn.sql_engine import SqlEngine

        return SqlEngine(url, **options)
    if name == "exact":
        from skinmap.knn.exact_engine import ExactEngine

        return ExactEngine(url, **options)
    if name == "ivf":
        from skinmap.knn.ivf_engine import IvfEngine

        return IvfEngine(url, **options)
    raise ValueError(f"unknown kNN engine {name!r}: choose one of {', '.join(ENGINES)}")


@dataclass
class KnnSummary:
    engine: str
    models: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    checks: list[str] = field(default_factory=list)

    def line(self) -> str:
        counts = ", ".join(f"{k} {v}" for k, v in self.counts.items())
        secs = ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items())
        checks = "".join(f"\n  {c}" for c in self.checks)
        return f"kNN ({self.engine} engine, {self.models} model(s)): {counts}; {secs}{checks}"


def _stored_bounds(existing: StoredEdges, k: int, novelty_k: int, newest) -> tuple[np.ndarray, np.ndarray]:
    """(old image ids ascending, the largest distance their stored lists hold: the k-th edge and the
    novelty_k-th distance at the newest cutoff, `newest` as store.read_newest_kth gives it). Images whose
    lists are short or missing are left out."""
    if newest is None:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    _, ids, found, kth = newest
    full = (existing.counts >= min(k, max(0, len(existing) - 1))) & ~np.isnan(existing.kth)
    edge_ids, edge_d = existing.image_ids[full], existing.kth[full]
    novelty_full = found == novelty_k
    both, at_edge, at_novelty = np.intersect1d(edge_ids, ids[novelty_full], assume_unique=True, return_indices=True)
    return both, np.maximum(edge_d[at_edge], kth[novelty_full][at_novelty])


def _cross_of_new_images(url: str, knn, images, existing: StoredEdges, k: int,
                         novelty_k: int) -> tuple[CrossLists | None, tuple | None]:
    """(the cross lists of the images without edges yet, the newest novelty cutoff's stored rows) when some
    images have edges (an update); else (None, None). Both steps after it read the newest rows: read once."""
    is_new = ~is_member(images.image_ids, existing.image_ids)
    if not len(existing) or not is_new.any() or is_new.all():
        return None, None
    with db.connect(url) as conn:
        newest = read_newest_kth(conn, images.model_id, novelty_k)
    bounds = _stored_bounds(existing, k, novelty_k, newest)
    cross = cross_search(knn, images.model_id, images.image_ids, images.image_ids[is_new], max(k, novelty_k), bounds)
    return cross, newest


def compute_neighbours(url: str, *, engine: str = "sql", k: int = 10, novelty_k: int = 100,
                       full: bool = False, model_name: str | None = None, frechet: bool = True,
                       check: int = 0, **engine_options) -> KnnSummary:
    """Edges (k), novelty aggregates (novelty_k) and Fréchet distances; incremental unless `full`.

    `check` > 0: score that many sampled images exactly afterwards and report
    recall and novelty error (skinmap.knn.check), for approximate engines.
    """
    if engine == "ivf":  # a full run trains the ivf cells afresh; an update places the new images in the stored ones
        engine_options.setdefault("reuse_cells", not full)
    knn = make_engine(url, engine, **engine_options)
    summary = KnnSummary(engine)
    for model_id in model_ids(url, model_name):
        images = model_images(url, model_id)
        summary.models += 1
        started = time.monotonic()
        existing = None if full else existing_edges(url, model_id)
        cross, newest = (None, None) if full else _cross_of_new_images(url, knn, images, existing, k, novelty_k)
        summary.seconds["cross"] = summary.seconds.get("cross", 0.0) + time.monotonic() - started
        if cross is not None and cross.old_searched >= 0:
            summary.counts["cross_old_searched"] = summary.counts.get("cross_old_searched", 0) + cross.old_searched
        steps = [("edges", lambda m, c=cross, e=existing: build_edges(url, knn, m, k, full=full, cross=c, existing=e)),
                 ("novelty", lambda m, c=cross, n=newest: build_novelty(url, knn, m, novelty_k, full=full, cross=c,
                                                                      newest=n))]
        if frechet:
            steps.append(("frechet", lambda m: {"frechet_pairs": build_frechet(url, m)}))
        for step, fn in steps:
            started = time.monotonic()
            for key, value in fn(images).items():
                summary.counts[key] = summary.counts.get(key, 0) + value
            summary.seconds[step] = summary.seconds.get(step, 0.0) + time.monotonic() - started
        if check:
            started = time.monotonic()
            summary.checks.append(f"model {model_id}: " + sampled_quality(url, images, k, novelty_k, check))
            summary.seconds["check"] = summary.seconds.get("check", 0.0) + time.monotonic() - started
    return summary
