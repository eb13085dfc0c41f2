"""A dataset of a newer release year, merged into the novelty aggregates without searching old x old.

The common update is a new release: the new images are of the newest year
already scored or later. Old images' scores then change only at cutoffs
after the newest old year, where the reference is every old image plus the
new images of earlier years: old images merge their stored sorted distances
of the newest cutoff (atlas.knn_novelty.distances, whose reference is every
old image) with their nearest new images of those years; new images take
their nearest images in the reference, filtered from their lists overall.
These lists come from one cross search (skinmap.knn.cross); only rows that
filtering cut short are searched again. Any other change returns None and
is handled by the general re-scoring path in skinmap.knn.novelty.
"""
from __future__ import annotations

import numpy as np

from skinmap import db
from skinmap.knn.cross import CrossLists, cross_search, keep_allowed, search_allowed
from skinmap.knn.store import copy_novelty_cutoff, forget_old_cutoffs, read_distance_lists, write_novelty
from skinmap.knn.vectors import ModelImages


def _stored_state(url: str, model_id: int, k: int):
    """cutoff -> (rows, rows with lists); the k values; the newest cutoff's images and sorted lists."""
    with db.connect(url) as conn:
        per_cutoff = {c: (n, n_lists) for c, n, n_lists in conn.execute(
            "select cutoff_year, count(*), count(distances) from atlas.knn_novelty "
            "where model_id = %s and scope = 'earlier_years' group by cutoff_year", (model_id,))}
        ks = {r[0] for r in conn.execute(
            "select distinct k from atlas.knn_novelty where model_id = %s and scope = 'earlier_years'", (model_id,))}
        lists = (np.zeros(0, dtype=np.int64), np.zeros((0, k)))
        if per_cutoff and ks == {k}:
            lists = read_distance_lists(conn, model_id, max(per_cutoff), k)
    return per_cutoff, ks, lists


def _complete(engine, images: ModelImages, query_ids: np.ndarray, reference: np.ndarray, k: int,
              lists: tuple[np.ndarray, np.ndarray], valid: np.ndarray) -> np.ndarray:
    """Distances of the rows, the rows that filtering may have cut short searched again."""
    dists = lists[1].copy()
    redo = np.flatnonzero(~valid)
    if len(redo):
        dists[redo] = search_allowed(engine, images.model_id, images.image_ids, query_ids[redo], reference, k)[1]
    return dists


def merge_newer_release(url: str, engine, images: ModelImages, k: int, cutoffs: list[int],
                        cross: CrossLists | None) -> dict[str, int] | None:
    """Merge new images released after every scored image; None when the change is not of that kind."""
    model_id = images.model_id
    if np.isnan(images.release_years).any():
        return None  # images without a year are outside every reference: the general path leaves them out
    per_cutoff, ks, (stored_ids, stored_lists) = _stored_state(url, model_id, k)
    if not per_cutoff or ks != {k}:
        return None
    newest = max(per_cutoff)
    if per_cutoff[newest][1] != per_cutoff[newest][0]:
        return None  # stored before lists were kept
    years = images.release_years.astype(int)
    is_new = ~np.isin(images.image_ids, stored_ids)
    if not is_new.any() or is_new.all() or len(stored_ids) != int((~is_new).sum()):
        return None
    old_max, first_new = int(years[~is_new].max()), int(years[is_new].min())
    if (first_new < old_max or [c for c in per_cutoff if c > old_max] != [newest]
            or any(c not in per_cutoff for c in cutoffs if c <= old_max)):
        return None
    new_ids, new_years = images.image_ids[is_new], years[is_new]
    if cross is None or cross.k < k or not np.array_equal(cross.new_ids, new_ids):
        cross = cross_search(engine, model_id, images.image_ids, new_ids, k)
    old_ids = cross.old_ids
    stored = stored_lists[np.searchsorted(stored_ids, old_ids)]
    old_to_new = (cross.old_to_new[0][:, :k], cross.old_to_new[1][:, :k])
    last_new = old_to_new[1][:, -1]  # NaN: the list holds every new image, nothing was cut
    counts = {"novelty_rows": 0, "novelty_repaired": 0, "novelty_cutoffs_copied": 0, "novelty_searched_again": 0}
    for cutoff in (c for c in cutoffs if c >= first_new):
        keep = cutoff == cutoffs[-1]
        queries = new_years <= cutoff
        earlier_new = new_ids[new_years < cutoff]
        if cutoff <= old_max:  # new images of the newest old year: scored against the old images before it
            q = new_ids[queries]
            reference = images.image_ids[years < cutoff]
            rows = [(q, search_allowed(engine, model_id, images.image_ids, q, reference, k)[1])]
            counts["novelty_searched_again"] += len(q)
        elif len(earlier_new) == 0:  # the reference is still every old image
            if cutoff not in per_cutoff:
                copy_novelty_cutoff(url, model_id, newest, cutoff)
                counts["novelty_cutoffs_copied"] += 1
            rows = [(new_ids[queries], cross.new_to_old[1][queries][:, :k])]
        else:
            reference = np.concatenate([old_ids, earlier_new])
            _, cand_d, found = keep_allowed(*old_to_new, earlier_new, k)
            merged = np.sort(np.concatenate([stored, cand_d], axis=1), axis=1)[:, :k]  # NaN sorts last
            valid_old = (found >= k) | np.isnan(last_new) | (merged[:, -1] <= last_new)
            merged = _complete(engine, images, old_ids, reference, k, (None, merged), valid_old)
            wide_i, wide_d = (a[queries] for a in cross.new_to_all)
            new_lists = keep_allowed(wide_i, wide_d, reference, k)
            q = new_ids[queries]
            valid_new = (new_lists[2] >= np.minimum(k, len(reference) - np.isin(q, reference))) | np.isnan(wide_d[:, -1])
            # only the old rows a new image entered are written: the others equal the newest cutoff's rows, which
            # stay (a cutoff already scored) or are copied in the database (a new one). A list changed here is
            # changed at every later cutoff too, so the copy never carries a row written earlier in this loop.
            changed = (np.nan_to_num(merged, nan=-1.0) != np.nan_to_num(stored, nan=-1.0)).any(axis=1)
            if cutoff not in per_cutoff:
                copy_novelty_cutoff(url, model_id, newest, cutoff)
                counts["novelty_cutoffs_copied"] += 1
            rows = [(old_ids[changed], merged[changed]),
                    (q, _complete(engine, images, q, reference, k, new_lists[:2], valid_new))]
            counts["novelty_searched_again"] += int((~valid_old).sum() + (~valid_new).sum())
            if keep:
                counts["novelty_repaired"] = int(changed.sum())
        with db.connect(url) as conn:
            for query_ids, dists in rows:
                counts["novelty_rows"] += write_novelty(conn, model_id, cutoff, k, engine.name, query_ids, dists,
                                                        keep_distances=keep)
            conn.commit()
    forget_old_cutoffs(url, model_id, cutoffs)
    return counts
