"""One entry point: fill edges, novelty aggregates, Fréchet distances (whole and per ICD block) and dataset
coverage for every model."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from skinmap import db
from skinmap.knn.check import sampled_quality
from skinmap.knn.coverage import build_dataset_coverage
from skinmap.knn.cross import CrossLists, cross_search, is_member
from skinmap.knn.edges import StoredEdges, build_edges, existing_edges
from skinmap.knn.frechet import build_frechet, build_frechet_by_block
from skinmap.knn.novelty import build_novelty
from skinmap.knn.store import read_newest_kth
from skinmap.knn.vectors import load_vectors, model_ids, model_images

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


def _cross_of_new_images(knn, images, existing: StoredEdges, k: int, novelty_k: int,
                         newest) -> CrossLists | None:
    """The cross lists of the images without edges yet when some images have edges (an update); else None.
    `newest`: the newest novelty cutoff's stored rows (store.read_newest_kth)."""
    is_new = ~is_member(images.image_ids, existing.image_ids)
    if not len(existing) or not is_new.any() or is_new.all():
        return None
    bounds = _stored_bounds(existing, k, novelty_k, newest)
    return cross_search(knn, images.model_id, images.image_ids, images.image_ids[is_new], max(k, novelty_k), bounds)


def _read_stored(url: str, knn, images, novelty_k: int) -> tuple[StoredEdges, tuple | None]:
    """(the edges stored, the newest novelty cutoff's rows), both read once for both steps. When images are
    missing from the newest cutoff (new ones, most likely), the engine starts reading the vectors meanwhile."""
    with db.connect(url) as conn:
        newest = read_newest_kth(conn, images.model_id, novelty_k)
    dated = images.image_ids[~np.isnan(images.release_years)]
    if hasattr(knn, "prefetch") and (newest is None or not is_member(dated, newest[1]).all()):
        knn.prefetch(images.model_id, images.image_ids)
    return existing_edges(url, images.model_id), newest


def _frechet_pairs(url: str, images) -> dict[str, int]:
    """Whole-dataset and per-ICD-block Fréchet distances and dataset coverage, on one load of the vectors."""
    vectors = load_vectors(url, images.model_id, images.image_ids)
    return {"frechet_pairs": build_frechet(url, images, vectors),
            "frechet_block_pairs": build_frechet_by_block(url, images, vectors),
            "coverage_datasets": build_dataset_coverage(url, images, vectors)}


def _run_steps(summary: KnnSummary, steps: dict, *, concurrently: bool) -> None:
    """Run the steps (name -> function returning counts), adding their counts and seconds to the summary.

    `concurrently`: in threads, for the two steps of an update. Each merges
    the cross lists into its own tables and spends most of its time in
    PostgreSQL writing them, so on 2 cores one step's writes overlap the
    other's reads and merging.
    """
    def timed(fn):
        started = time.monotonic()
        counts = fn()
        return counts, time.monotonic() - started

    if concurrently:
        with ThreadPoolExecutor(len(steps)) as pool:
            futures = {step: pool.submit(timed, fn) for step, fn in steps.items()}
            results = {step: future.result() for step, future in futures.items()}
    else:
        results = {step: timed(fn) for step, fn in steps.items()}
    for step, (counts, seconds) in results.items():
        for key, value in counts.items():
            summary.counts[key] = summary.counts.get(key, 0) + value
        summary.seconds[step] = summary.seconds.get(step, 0.0) + seconds


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
        existing, newest = (None, None) if full else _read_stored(url, knn, images, novelty_k)
        cross = None if full else _cross_of_new_images(knn, images, existing, k, novelty_k, newest)
        summary.seconds["cross"] = summary.seconds.get("cross", 0.0) + time.monotonic() - started
        if cross is not None and cross.old_searched >= 0:
            summary.counts["cross_old_searched"] = summary.counts.get("cross_old_searched", 0) + cross.old_searched
        steps = {"edges": partial(build_edges, url, knn, images, k, full=full, cross=cross, existing=existing),
                 "novelty": partial(build_novelty, url, knn, images, novelty_k, full=full, cross=cross, newest=newest)}
        if cross is not None:  # an update: both steps merge what the cross search found, mostly waiting on writes
            started = time.monotonic()
            _run_steps(summary, steps, concurrently=True)
            wall = summary.seconds.get("edges+novelty wall", 0.0)
            summary.seconds["edges+novelty wall"] = wall + time.monotonic() - started
        else:
            _run_steps(summary, steps, concurrently=False)
        if frechet:
            _run_steps(summary, {"frechet": partial(_frechet_pairs, url, images)}, concurrently=False)
        if check:
            started = time.monotonic()
            summary.checks.append(f"model {model_id}: " + sampled_quality(url, images, k, novelty_k, check))
            summary.seconds["check"] = summary.seconds.get("check", 0.0) + time.monotonic() - started
    return summary
