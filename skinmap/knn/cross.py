"""New images against the atlas: the one search an incremental update needs.

When a dataset is added, three lists decide every update: each new image's
nearest images overall (its edges, and its novelty once the new year is in
the reference), each new image's nearest OLD images (its novelty at its own
release year), and each old image's nearest NEW images (what may enter the
lists it already has). Old x old distances never change, so they are never
searched again: an update costs about new x all instead of all x all.

Engines may answer all three in one pass (`engine.cross`, the exact engine
does one matmul); otherwise they come from plain reference searches. There,
each old image's nearest new images need not be searched when its stored
lists bound them (`bounds`: its largest stored distance). A new image i
lists its W = 2k nearest old images; if an old image j is not in that list,
d(i, j) >= d_W(i). So where j's bound is below T = min over i of d_W(i),
every new image that can enter j's lists named j: its list is read off the
new images' lists (inverted), not searched. The rest are searched as before.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skinmap.knn.reference import without_self
from skinmap.knn.vectors import sorted_unique

# A candidate this close beyond a stored k-th distance still counts as entering the list (float32 distances
# round differently in different passes). The rule that repairs an edge list and the rule that prunes an old
# image's new neighbours by its bound must use the same tolerance, or a prune could drop an entering image.
TIE_TOLERANCE = 1e-6


@dataclass
class CrossLists:
    """Neighbour lists (ids, cosine distances), rows sorted by (distance, id), -1 / NaN where missing."""

    k: int
    new_ids: np.ndarray
    old_ids: np.ndarray
    new_to_all: tuple[np.ndarray, np.ndarray]  # (n_new, 2k), self left out: room to filter by year
    new_to_old: tuple[np.ndarray, np.ndarray]  # (n_new, k)
    old_to_new: tuple[np.ndarray, np.ndarray]  # (n_old, <= k); complete up to the old image's bound where bounded
    old_searched: int = -1  # old images whose nearest new images were searched or listed (-1: all)


def _search(reference, query_ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        return reference.search(query_ids, k)
    finally:
        reference.close()


def is_member(ids: np.ndarray, members: np.ndarray) -> np.ndarray:
    """ids in members (ids < 0: never), by a lookup table over the id range: np.isin sorts, this does not."""
    members = np.asarray(members, dtype=np.int64)
    table = np.zeros(max(int(ids.max(initial=-1)), int(members.max(initial=-1))) + 1, dtype=bool)
    table[members[members >= 0]] = True
    return (ids >= 0) & table[np.maximum(ids, 0)]


def first_kept(ids: np.ndarray, dists: np.ndarray, keep: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The kept places of sorted rows, closed up in their order: first k places (-1 / NaN after the last)."""
    out_i, out_d = np.where(keep, ids, -1), np.where(keep, dists, np.nan)
    mixed = np.flatnonzero((~keep & (ids >= 0)).any(axis=1))  # rows with a place to close up
    if len(mixed):
        order = np.argsort(~keep[mixed], axis=1, kind="stable")
        out_i[mixed] = np.take_along_axis(out_i[mixed], order, 1)
        out_d[mixed] = np.take_along_axis(out_d[mixed], order, 1)
    return out_i[:, :k], out_d[:, :k]


def keep_allowed(ids: np.ndarray, dists: np.ndarray, allowed: np.ndarray, k: int):
    """Keep the allowed ids of sorted rows (k places) and count them per row. Only rows with a first place are
    looked at (an old image no new image came near has none: most of them, when the new images are novel)."""
    listed = np.flatnonzero(ids[:, 0] >= 0) if ids.shape[1] else np.zeros(0, dtype=np.int64)
    if len(listed) == len(ids):
        keep = is_member(ids, allowed)
        return (*first_kept(ids, dists, keep, k), keep.sum(axis=1))
    width = min(k, ids.shape[1])
    out_i, out_d = np.full((len(ids), width), -1, dtype=np.int64), np.full((len(ids), width), np.nan)
    count = np.zeros(len(ids), dtype=np.int64)
    keep = is_member(ids[listed], allowed)
    out_i[listed], out_d[listed] = first_kept(ids[listed], dists[listed], keep, k)
    count[listed] = keep.sum(axis=1)
    return out_i, out_d, count


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


def inverted_lists(new_ids: np.ndarray, new_to_old: tuple[np.ndarray, np.ndarray], old_ids: np.ndarray,
                   k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each old image's k nearest among the new images whose lists name it, rows sorted by (distance, id)."""
    ids, dists = new_to_old
    named = ids >= 0
    old = ids[named]
    query = np.broadcast_to(np.asarray(new_ids)[:, None], ids.shape)[named]
    d = dists[named]
    row = np.searchsorted(old_ids, old)
    order = np.lexsort((query, d, row))
    row, query, d = row[order], query[order], d[order]
    rank = np.arange(len(row)) - np.searchsorted(row, row)  # place within the row
    keep = rank < k
    out_i = np.full((len(old_ids), k), -1, dtype=np.int64)
    out_d = np.full((len(old_ids), k), np.nan)
    out_i[row[keep], rank[keep]], out_d[row[keep], rank[keep]] = query[keep], d[keep]
    return out_i, out_d


def cross_search(engine, model_id: int, all_ids: np.ndarray, new_ids: np.ndarray, k: int,
                 bounds: tuple[np.ndarray, np.ndarray] | None = None) -> CrossLists:
    """The three lists for these new images; k places each (new_to_all: 2k, for later filtering).

    `bounds`: (old image ids ascending, the largest distance each one's stored
    lists hold), see the module docstring; without it every old image is
    searched. Engines with one pass (`engine.cross`) list only the old images
    with a new image within their bound.
    """
    new_ids = np.asarray(new_ids, dtype=np.int64)
    all_ids = np.asarray(all_ids, dtype=np.int64)
    old_ids = sorted_unique(all_ids[~is_member(all_ids, new_ids)])  # as np.setdiff1d, without its sort
    bound = None if bounds is None else bound_of(old_ids, *bounds)
    if hasattr(engine, "cross"):
        cross = engine.cross(model_id, all_ids, new_ids, old_ids, k, bound)
        if bound is not None:
            cross.old_to_new = within_bound(*cross.old_to_new, bound)
        return cross
    ids, dists = _search(engine.whole_model(model_id, all_ids), new_ids, 2 * k + 1)
    new_to_all = without_self(new_ids, ids, dists, 2 * k)
    width = k if bound is None else 2 * k
    new_to_old = search_allowed(engine, model_id, all_ids, new_ids, old_ids, width)
    searched = np.ones(len(old_ids), dtype=bool)
    old_to_new = (np.full((len(old_ids), k), -1, dtype=np.int64), np.full((len(old_ids), k), np.nan))
    if bound is not None:
        last = new_to_old[1][:, -1]  # NaN: that new image listed every old image
        floor = np.nanmin(last) if (~np.isnan(last)).any() else np.inf
        searched = ~(bound < floor)
        old_to_new = inverted_lists(new_ids, new_to_old, old_ids, k)
    if searched.any():
        new_reference = engine.reference(model_id)
        new_reference.add(new_ids)
        old_to_new[0][searched], old_to_new[1][searched] = _search(new_reference, old_ids[searched], k)
    if bound is not None:
        old_to_new = within_bound(*old_to_new, bound)
    return CrossLists(k, new_ids, old_ids, new_to_all, tuple(a[:, :k] for a in new_to_old), old_to_new,
                      int(searched.sum()))


def within_bound(ids: np.ndarray, dists: np.ndarray, bound: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Old images' nearest new images without the places beyond each one's bound (no list can take them), the
    rows narrowed to the widest one left plus an empty place: a list with its last place empty is complete.

    At 1.1M with 10,000 new images among the atlas's own clusters, each old image's candidates fill most of
    its k = 100 places, yet about one lies within its bound: every later step over these rows (the year
    filter, the merges) handled 1.1M x 100 places for that.
    """
    within = dists <= bound[:, None] + TIE_TOLERANCE  # rows are sorted: the places beyond come last
    width = int(within.sum(axis=1).max(initial=0))
    if width >= ids.shape[1]:
        return ids, dists
    ids, dists, within = ids[:, :width + 1], dists[:, :width + 1], within[:, :width + 1]
    return np.where(within, ids, -1), np.where(within, dists, np.nan)


def bound_of(old_ids: np.ndarray, bounded_ids: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Each old image's bound, +inf where it has none (its lists are short or missing: it is searched)."""
    at = np.minimum(np.searchsorted(bounded_ids, old_ids), max(0, len(bounded_ids) - 1))
    has = (bounded_ids[at] == old_ids) if len(bounded_ids) else np.zeros(len(old_ids), dtype=bool)
    return np.where(has, np.nan_to_num(bounds[at] if len(bounds) else 0.0, nan=np.inf), np.inf)
