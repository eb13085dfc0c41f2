"""New images against the atlas: the one search an incremental update needs.

When a dataset is added, three lists decide every update: each new image's
nearest images overall (its edges, and its novelty once the new year is in
the reference), each new image's nearest OLD images (its novelty at its own
release year), and each old image's nearest NEW images (what may enter the
lists it already has). Old x old distances never change, so they are never
searched again: an update costs about new x all instead of all x all.

Engines may answer all three in one pass (`engine.cross`, the exact engine
does one matmul); otherwise they come from plain reference searches.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skinmap.knn.reference import without_self


@dataclass
class CrossLists:
    """Neighbour lists (ids, cosine distances), rows sorted by (distance, id), -1 / NaN where missing."""

    k: int
    new_ids: np.ndarray
    old_ids: np.ndarray
    new_to_all: tuple[np.ndarray, np.ndarray]  # (n_new, 2k), self left out: room to filter by year
    new_to_old: tuple[np.ndarray, np.ndarray]  # (n_new, k)
    old_to_new: tuple[np.ndarray, np.ndarray]  # (n_old, k)


def _search(reference, query_ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        return reference.search(query_ids, k)
    finally:
        reference.close()


def keep_allowed(ids: np.ndarray, dists: np.ndarray, allowed: np.ndarray, k: int):
    """Keep the allowed ids of sorted rows (k places) and count them per row."""
    keep = np.isin(ids, allowed) & (ids >= 0)
    order = np.argsort(~keep, axis=1, kind="stable")
    ids = np.where(np.take_along_axis(keep, order, 1), np.take_along_axis(ids, order, 1), -1)[:, :k]
    dists = np.where(ids >= 0, np.take_along_axis(dists, order, 1)[:, :k], np.nan)
    return ids, dists, keep.sum(axis=1)


def search_allowed(engine, model_id: int, all_ids: np.ndarray, query_ids: np.ndarray, allowed: np.ndarray,
                   k: int, width: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """k nearest images among `allowed` (self left out), by searching the whole model and filtering.

    Rows left short (others crowd their top places) are searched again with
    a list four times as wide, until they are full or the list is the atlas.
    """
    allowed = np.unique(allowed)
    crowded = 1 - len(allowed) / max(1, len(all_ids))  # share of the atlas that is filtered away
    width = min(len(all_ids), width or k + 9 + int(np.ceil(2 * (k + 1) * crowded)))
    out_i = np.full((len(query_ids), k), -1, dtype=np.int64)
    out_d = np.full((len(query_ids), k), np.nan)
    rows = np.arange(len(query_ids))
    while len(rows):
        ids, dists = _search(engine.whole_model(model_id, all_ids), query_ids[rows], width)
        ids, dists = without_self(query_ids[rows], ids, dists, width)
        out_i[rows], out_d[rows], found = keep_allowed(ids, dists, allowed, k)
        available = np.minimum(k, len(allowed) - np.isin(query_ids[rows], allowed))
        if width >= len(all_ids):
            break
        rows = rows[found < available]
        width = min(len(all_ids), width * 4)
    return out_i, out_d


def cross_search(engine, model_id: int, all_ids: np.ndarray, new_ids: np.ndarray, k: int) -> CrossLists:
    """The three lists for these new images; k places each (new_to_all: 2k, for later filtering)."""
    new_ids = np.asarray(new_ids, dtype=np.int64)
    old_ids = np.setdiff1d(all_ids, new_ids)
    if hasattr(engine, "cross"):
        return engine.cross(model_id, all_ids, new_ids, old_ids, k)
    ids, dists = _search(engine.whole_model(model_id, all_ids), new_ids, 2 * k + 1)
    new_to_all = without_self(new_ids, ids, dists, 2 * k)
    new_to_old = search_allowed(engine, model_id, all_ids, new_ids, old_ids, k)
    new_reference = engine.reference(model_id)
    new_reference.add(new_ids)
    old_to_new = _search(new_reference, old_ids, k)
    return CrossLists(k, new_ids, old_ids, new_to_all, new_to_old, old_to_new)
