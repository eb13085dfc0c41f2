"""A dataset of a newer release year, merged into the novelty aggregates without searching old x old.

The common update is a new release: the new images are of the newest year
already scored or later. Old images' scores then change only at cutoffs
after the newest old year, where the reference is every old image plus the
new images of earlier years: old images merge their stored sorted distances
of the newest cutoff (atlas.knn_novelty_list, whose reference is every
old image) with their nearest new images of those years; new images take
their nearest images in the reference, filtered from their lists overall.
These lists come from one cross search (skinmap.knn.cross); only rows that
filtering cut short are searched again. Only the lists that a new image
can enter (its distance below the list's k-th, or a short list) are read
and written; the rest stay as stored. Any other change returns None and
is handled by the general re-scoring path in skinmap.knn.novelty.
"""
from __future__ import annotations

import numpy as np

from skinmap import db
from skinmap.knn.cross import CrossLists, cross_search, is_member, keep_allowed, search_allowed
from skinmap.knn.store import (
    copy_novelty_cutoff,
    forget_old_cutoffs,
    read_distance_lists,
    read_kth,
    stored_cutoffs,
    write_novelty,
)
from skinmap.knn.vectors import ModelImages


def _stored_state(url: str, model_id: int, newest=None):
    """(the cutoffs scored, the k they were scored with, lists stored, the newest cutoff's (image ids, neighbours
    found, k-th)), the last taken from `newest` (store.read_newest_kth) when that was read at the newest cutoff.

    Every write path scores all of a model's rows with one k (another k starts over), so the newest cutoff's k
    is theirs; the cutoffs come from a skip scan of the primary key, not a count over its 10M rows at 1.1M.
    """
    with db.connect(url) as conn:
        cutoffs = stored_cutoffs(conn, model_id)
        if not cutoffs:
            return cutoffs, set(), 0, (np.zeros(0, dtype=np.int64),) * 3
        ks = {r[0] for r in conn.execute("select k from atlas.knn_novelty where model_id = %s and scope = "
                                         "'earlier_years' and cutoff_year = %s limit 1", (model_id, max(cutoffs)))}
        n_lists = conn.execute("select count(*) from atlas.knn_novelty_list where model_id = %s",
                               (model_id,)).fetchone()[0]
        if newest is None or newest[0] != max(cutoffs):
            newest = (max(cutoffs), *read_kth(conn, model_id, max(cutoffs)))
    return cutoffs, ks, n_lists, newest[1:]


def _merge_stored(url: str, model_id: int, old_ids: np.ndarray, found: np.ndarray, kth: np.ndarray,
                  cand_d: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Old images' stored lists merged with their candidate new distances (rows sorted, NaN last).

    Returns (rows whose list can change, their merged lists, every row's merged k-th distance or NaN if
    short). A list can change only where a candidate is nearer than its k-th, or the list is short; only
    those lists are read from the database.
    """
    short = found < k
    can_change = np.flatnonzero((short & ~np.isnan(cand_d[:, 0])) | (cand_d[:, 0] < np.nan_to_num(kth, nan=np.inf)))
    with db.connect(url) as conn:
        listed, stored = read_distance_lists(conn, model_id, k, old_ids[can_change])
    if not np.array_equal(listed, old_ids[can_change]):
        raise RuntimeError(f"model {model_id}: atlas.knn_novelty_list lacks lists of scored images")
    merged = np.sort(np.concatenate([stored, cand_d[can_change]], axis=1), axis=1)[:, :k]  # NaN sorts last
    # a merged list is place by place at most the stored one (the i-th nearest of more images is no farther), so
    # it changed where a place came nearer, or where a short list gained a place
    changed = (merged < stored).any(axis=1)
    gained = np.flatnonzero(short[can_change])
    changed[gained] |= (np.isnan(stored[gained]) & ~np.isnan(merged[gained])).any(axis=1)
    merged_kth = np.where(short, np.nan, kth)
    merged_kth[can_change] = merged[:, -1]
    return can_change[changed], merged[changed], merged_kth


def _new_rows(engine, images: ModelImages, cross: CrossLists, queries: np.ndarray, reference: np.ndarray,
              k: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(the queried new images, their distances to their k nearest images in `reference`, how many were searched
    again): read off their overall lists (2k wide), filtered; only rows that filtering cut short are searched."""
    q = cross.new_ids[queries]
    wide_i, wide_d = (a[queries] for a in cross.new_to_all)
    _, dists, found = keep_allowed(wide_i, wide_d, reference, k)
    complete = (found >= np.minimum(k, len(reference) - is_member(q, reference))) | np.isnan(wide_d[:, -1])
    redo = np.flatnonzero(~complete)
    if len(redo):
        dists[redo] = search_allowed(engine, images.model_id, images.image_ids, q[redo], reference, k)[1]
    return q, dists, len(redo)


def _with_searched(engine, images: ModelImages, old_ids: np.ndarray, reference: np.ndarray, k: int,
                   changed: tuple[np.ndarray, np.ndarray], redo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The changed rows (row numbers, lists) with the rows in `redo` searched again and put in their place."""
    if len(redo) == 0:
        return changed
    searched = search_allowed(engine, images.model_id, images.image_ids, old_ids[redo], reference, k)[1]
    keep = ~np.isin(changed[0], redo)
    rows = np.concatenate([changed[0][keep], redo])
    lists = np.concatenate([changed[1][keep], searched])
    order = np.argsort(rows)
    return rows[order], lists[order]


def merge_newer_release(url: str, engine, images: ModelImages, k: int, cutoffs: list[int],
                        cross: CrossLists | None, newest=None) -> dict[str, int] | None:
    """Merge new images released after every scored image; None when the change is not of that kind.
    `newest`: the newest cutoff's stored rows if already read (store.read_newest_kth)."""
    model_id = images.model_id
    if np.isnan(images.release_years).any():
        return None  # images without a year are outside every reference: the general path leaves them out
    scored, ks, n_lists, (stored_ids, stored_found, stored_kth) = _stored_state(url, model_id, newest)
    if not scored or ks != {k}:
        return None
    newest = max(scored)
    if n_lists != len(stored_ids):
        return None  # stored before lists were kept
    years = images.release_years.astype(int)
    is_new = ~np.isin(images.image_ids, stored_ids)
    if not is_new.any() or is_new.all() or len(stored_ids) != int((~is_new).sum()):
        return None
    old_max, first_new = int(years[~is_new].max()), int(years[is_new].min())
    if (first_new < old_max or [c for c in scored if c > old_max] != [newest]
            or any(c not in scored for c in cutoffs if c <= old_max)):
        return None
    new_ids, new_years = images.image_ids[is_new], years[is_new]
    if cross is None or cross.k < k or not np.array_equal(cross.new_ids, new_ids):
        cross = cross_search(engine, model_id, images.image_ids, new_ids, k)
    old_ids = cross.old_ids
    at = np.searchsorted(stored_ids, old_ids)
    stored_found, stored_kth = stored_found[at], stored_kth[at]
    old_to_new = (cross.old_to_new[0][:, :k], cross.old_to_new[1][:, :k])
    last_new = old_to_new[1][:, -1]  # NaN: the list holds every new image, nothing was cut
    counts = {"novelty_rows": 0, "novelty_repaired": 0, "novelty_cutoffs_copied": 0, "novelty_searched_again": 0}
    for cutoff in (c for c in cutoffs if c >= first_new):
        keep = cutoff == cutoffs[-1]
        queries = new_years <= cutoff
        earlier_new = new_ids[new_years < cutoff]
        if cutoff <= old_max:  # new images of the newest old year: scored against the old images before it
            q, dists, searched = _new_rows(engine, images, cross, queries, images.image_ids[years < cutoff], k)
            rows = [(q, dists)]
            counts["novelty_searched_again"] += searched
        elif len(earlier_new) == 0:  # the reference is still every old image
            rows = [(new_ids[queries], cross.new_to_old[1][queries][:, :k])]
        else:
            reference = np.concatenate([old_ids, earlier_new])
            if len(earlier_new) == len(new_ids):  # every new image is in the reference: nothing to filter
                cand_d, found = old_to_new[1], (old_to_new[0] >= 0).sum(axis=1)
            else:
                _, cand_d, found = keep_allowed(*old_to_new, earlier_new, k)
            changed, merged, merged_kth = _merge_stored(url, model_id, old_ids, stored_found, stored_kth, cand_d, k)
            # a list is complete unless a new image beyond the old image's nearest new ones could still enter it
            redo = np.flatnonzero(~((found >= k) | np.isnan(last_new) | (merged_kth <= last_new)))
            changed, merged = _with_searched(engine, images, old_ids, reference, k, (changed, merged), redo)
            q, dists, searched = _new_rows(engine, images, cross, queries, reference, k)
            # only the old rows a new image entered are written: the others equal the newest cutoff's rows, which
            # stay (a cutoff already scored) or are copied in the database (a new one) after these are written.
            rows = [(old_ids[changed], merged), (q, dists)]
            counts["novelty_searched_again"] += len(redo) + searched
            if keep:
                counts["novelty_repaired"] = len(changed)
        with db.connect(url) as conn:
            for query_ids, dists in rows:
                counts["novelty_rows"] += write_novelty(conn, model_id, cutoff, k, engine.name, query_ids, dists,
                                                        keep_distances=keep, replace=cutoff in scored)
            conn.commit()
        if cutoff not in scored:
            copy_novelty_cutoff(url, model_id, newest, cutoff)
            counts["novelty_cutoffs_copied"] += 1
    forget_old_cutoffs(url, model_id, cutoffs)
    return counts
