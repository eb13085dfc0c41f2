"""Novelty at every cutoff for the SQL engine, from one wide HNSW search per image.

Searching each image once per cutoff, in a reference that grows year by
year, costs about 5.5 HNSW queries per image at 10 release years. Instead
each image is searched once in the whole model with `width` places (3k by
default); a cutoff's list is the places of years before it, when at least
k of them are there (or the places hold the whole model). The rows left
short, mostly at early cutoffs whose earlier years are a small share of the
atlas, are searched again in a reference that grows year by year, as
before. The wide search runs with hnsw.ef_search >= width, so its lists are
no less accurate than the per-cutoff searches; where the whole model is
searched exactly (small sets) the result is exact.
"""
from __future__ import annotations

import numpy as np

from skinmap.knn.cross import first_kept
from skinmap.knn.reference import without_self
from skinmap.knn.vectors import model_images

NO_YEAR = np.iinfo(np.int64).max  # a neighbour without a release year is in no cutoff's reference


def _years_of(image_ids: np.ndarray, years: np.ndarray):
    order = np.argsort(image_ids)
    sorted_ids, sorted_years = image_ids[order], years[order].astype(np.int64)

    def lookup(ids: np.ndarray) -> np.ndarray:
        pos = np.clip(np.searchsorted(sorted_ids, ids), 0, max(0, len(sorted_ids) - 1))
        return np.where((ids >= 0) & (sorted_ids[pos] == ids), sorted_years[pos], NO_YEAR)
    return lookup


def _first_allowed(ids: np.ndarray, dists: np.ndarray, allowed: np.ndarray, k: int) -> np.ndarray:
    """Each row's first k allowed distances (rows are sorted), NaN-padded to k places."""
    d = first_kept(ids, dists, allowed, k)[1]
    return np.pad(d, ((0, 0), (0, k - d.shape[1])), constant_values=np.nan)


def sql_cutoff_distances(engine, model_id: int, image_ids: np.ndarray, years: np.ndarray, cutoffs: list[int],
                         k: int, *, width: int | None = None, chunk: int = 20_000):
    """Yield (cutoff, query ids, distances (n, k)); a cutoff may come in several parts, each image once.

    Same contract as ExactEngine.cutoff_distances: queries are the images of
    year <= cutoff, distances to their k nearest images of years < cutoff,
    self left out, ascending, NaN where fewer exist.
    """
    all_ids = model_images(engine.url, model_id).image_ids
    width = max(1, min(len(all_ids) - 1, width or 3 * k))
    year_of = _years_of(image_ids, years)
    n_before = {c: int((years < c).sum()) for c in cutoffs}
    short: dict[int, list[np.ndarray]] = {c: [] for c in cutoffs}
    whole = engine.whole_model(model_id, all_ids)
    try:
        for start in range(0, len(image_ids), chunk):
            q, q_years = image_ids[start:start + chunk], years[start:start + chunk]
            ids, dists = without_self(q, *whole.search(q, width + 1), width)
            neighbour_years = year_of(ids)
            whole_listed = (width >= len(all_ids) - 1) | np.isnan(dists[:, -1])
            for cutoff in cutoffs:
                rows = np.flatnonzero(q_years <= cutoff)
                if len(rows) == 0:
                    continue
                allowed = neighbour_years[rows] < cutoff
                available = np.minimum(k, n_before[cutoff] - (q_years[rows] < cutoff))
                done = (allowed.sum(axis=1) >= available) | whole_listed[rows]
                if done.any():
                    yield cutoff, q[rows[done]], _first_allowed(ids[rows[done]], dists[rows[done]], allowed[done], k)
                short[cutoff].append(q[rows[~done]])
    finally:
        whole.close()
    reference, added = engine.reference(model_id), np.zeros(len(image_ids), dtype=bool)
    try:
        for cutoff in cutoffs:
            redo = np.concatenate(short[cutoff]) if short[cutoff] else np.zeros(0, dtype=np.int64)
            if len(redo) == 0:
                continue
            grow = (years < cutoff) & ~added
            reference.add(image_ids[grow])
            added |= grow
            yield cutoff, redo, without_self(redo, *reference.search(redo, k + 1), k)[1]
    finally:
        reference.close()
