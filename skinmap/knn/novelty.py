"""Per-image novelty aggregates for scope 'earlier_years', in full or incrementally.

For each cutoff year c (every release year of an image or a dataset, and the
year after the newest, so that next year's release and `skinmap assess` find
the whole atlas already scored) and each image released in c or earlier:
the mean cosine distance to its k nearest images released before c, itself
left out. Cutoffs are processed in ascending order with one reference set
that grows year by year (DESIGN.md: add images in release order and query
each year's images just before that year is added).
"""
from __future__ import annotations

import numpy as np

from skinmap import db
from skinmap.knn.cross import TIE_TOLERANCE, CrossLists
from skinmap.knn.novelty_update import merge_newer_release
from skinmap.knn.reference import without_self
from skinmap.knn.store import copy_novelty_cutoff, forget_old_cutoffs, write_novelty
from skinmap.knn.vectors import ModelImages


def cutoff_years(url: str, images: ModelImages) -> list[int]:
    years = {int(y) for y in images.release_years[~np.isnan(images.release_years)]}
    if not years:
        return []
    with db.connect(url) as conn:
        dataset_years = {r[0] for r in conn.execute(
            "select distinct release_year from atlas.dataset where release_year is not null "
            "and dataset_id = any(%s)", ([int(d) for d in set(images.dataset_ids.tolist())],),
        )}
    return sorted(years | dataset_years | {max(years | dataset_years) + 1})


def _stored(url: str, model_id: int) -> tuple[dict[int, dict[int, tuple[int, float]]], set[int]]:
    """cutoff -> image -> (neighbours, k-th distance); and the k values stored."""
    out: dict[int, dict[int, tuple[int, float]]] = {}
    with db.connect(url) as conn:
        rows = conn.execute(
            "select cutoff_year, image_id, n_neighbours, kth_distance, k from atlas.knn_novelty "
            "where model_id = %s and scope = 'earlier_years'", (model_id,),
        ).fetchall()
    for cutoff, image_id, n, kth, _ in rows:
        out.setdefault(cutoff, {})[image_id] = (n, np.nan if kth is None else kth)
    return out, {r[4] for r in rows}


def _score(url, engine, reference, model_id: int, cutoff: int, query_ids: np.ndarray, k: int,
           newest: bool) -> int:
    ids, dists = reference.search(query_ids, k + 1)
    _, dists = without_self(query_ids, ids, dists, k)
    with db.connect(url) as conn:
        n = write_novelty(conn, model_id, cutoff, k, engine.name, query_ids, dists, keep_distances=newest)
        conn.commit()
    return n


def build_novelty(url: str, engine, images: ModelImages, k: int, *, full: bool = False,
                  cross: CrossLists | None = None, newest=None) -> dict[str, int]:
    """Fill atlas.knn_novelty for one model; return counts of what was (re)computed.

    A dataset of a newer release year is merged in (skinmap.knn.novelty_update);
    other changes re-score the images whose lists they can change. `newest`:
    the newest cutoff's stored rows if already read (store.read_newest_kth).
    """
    model_id = images.model_id
    cutoffs = cutoff_years(url, images)
    if not full:
        merged = merge_newer_release(url, engine, images, k, cutoffs, cross, newest)
        if merged is not None:
            return merged
    stored, stored_k = ({}, set()) if full else _stored(url, model_id)
    if stored_k and stored_k != {k}:
        stored = {}
    known_images = set().union(*[set(v) for v in stored.values()]) if stored else set()
    has_year = ~np.isnan(images.release_years)
    ids, years = images.image_ids[has_year], images.release_years[has_year].astype(int)
    is_new = np.array([int(i) not in known_images for i in ids], dtype=bool)
    if not stored:
        with db.connect(url) as conn:
            conn.execute("delete from atlas.knn_novelty where model_id = %s and scope = 'earlier_years'", (model_id,))
            conn.execute("delete from atlas.knn_novelty_list where model_id = %s", (model_id,))
            conn.commit()
    counts = {"novelty_rows": 0, "novelty_repaired": 0, "novelty_cutoffs_copied": 0}
    if not stored and hasattr(engine, "cutoff_distances"):  # every cutoff in one pass over the images
        for cutoff, query_ids, dists in engine.cutoff_distances(model_id, ids, years, cutoffs, k):
            with db.connect(url) as conn:
                counts["novelty_rows"] += write_novelty(conn, model_id, cutoff, k, engine.name, query_ids, dists,
                                                        keep_distances=cutoff == cutoffs[-1])
                conn.commit()
        return counts
    old_years = years[~is_new]
    reference = engine.reference(model_id)
    new_reference = engine.reference(model_id) if stored else None
    added = np.zeros(len(ids), dtype=bool)
    try:
        for cutoff in cutoffs:
            grow = (years < cutoff) & ~added
            reference.add(ids[grow])
            if new_reference is not None:
                new_reference.add(ids[grow & is_new])
            added |= grow
            in_s = years <= cutoff
            if not stored:
                counts["novelty_rows"] += _score(url, engine, reference, model_id, cutoff, ids[in_s], k,
                                                 cutoff == cutoffs[-1])
                continue
            rows = stored.get(cutoff)
            if rows is None:
                donor = _same_old_reference(stored, old_years, cutoff)
                if donor is None:
                    counts["novelty_rows"] += _score(url, engine, reference, model_id, cutoff, ids[in_s], k,
                                                     cutoff == cutoffs[-1])
                    continue
                copy_novelty_cutoff(url, model_id, donor, cutoff)
                rows = stored[donor]
                counts["novelty_cutoffs_copied"] += 1
            new_in_s = ids[in_s & is_new]
            old_in_s = ids[in_s & ~is_new]
            repaired = np.zeros(0, dtype=np.int64)
            if np.any((years < cutoff) & is_new) and len(old_in_s):
                _, nearest_new = new_reference.search(old_in_s, 1)
                n_ref = int((years < cutoff).sum())
                kth = np.array([rows.get(int(i), (0, np.nan))[1] for i in old_in_s])
                found = np.array([rows.get(int(i), (0, np.nan))[0] for i in old_in_s])
                expected = np.minimum(k, n_ref - (years[in_s & ~is_new] < cutoff))
                entered = (found < expected) | (nearest_new[:, 0] <= np.nan_to_num(kth, nan=-1.0) + TIE_TOLERANCE)
                repaired = old_in_s[entered]
            query_ids = np.concatenate([new_in_s, repaired])
            if len(query_ids):
                counts["novelty_rows"] += _score(url, engine, reference, model_id, cutoff, query_ids, k,
                                                 cutoff == cutoffs[-1])
            counts["novelty_repaired"] += len(repaired)
    finally:
        reference.close()
        if new_reference is not None:
            new_reference.close()
    forget_old_cutoffs(url, model_id, cutoffs)
    return counts


def _same_old_reference(stored: dict, old_years: np.ndarray, cutoff: int) -> int | None:
    """A stored cutoff whose old query and reference images are those of `cutoff` (e.g. last year's 'next year')."""
    for donor in sorted(stored):
        if (np.array_equal(old_years < donor, old_years < cutoff)
                and np.array_equal(old_years <= donor, old_years <= cutoff)):
            return donor
    return None

