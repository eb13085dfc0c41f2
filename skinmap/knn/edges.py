"""Scope 'all' edges: each image's k nearest other images of its model, in full or incrementally."""
from __future__ import annotations

import numpy as np

from skinmap import db
from skinmap.knn.cross import TIE_TOLERANCE, CrossLists, cross_search
from skinmap.knn.reference import merge_rows, without_self
from skinmap.knn.store import write_edges
from skinmap.knn.vectors import ModelImages

SCOPE = "all"


def existing_edges(url: str, model_id: int) -> dict[int, tuple[int, float]]:
    """image -> (neighbours stored, largest stored distance); its keys are the images that are not new."""
    with db.connect(url) as conn:
        rows = conn.execute(
            "select image_id, count(*), max(cosine_distance) from atlas.knn_edge "
            "where model_id = %s and scope = %s group by image_id",
            (model_id, SCOPE),
        ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _search_and_write(url, engine, images: ModelImages, query_ids: np.ndarray, k: int) -> int:
    reference = engine.whole_model(images.model_id, images.image_ids)
    try:
        ids, dists = reference.search(query_ids, k + 1)
    finally:
        reference.close()
    ids, dists = without_self(query_ids, ids, dists, k)
    with db.connect(url) as conn:
        n = write_edges(conn, images.model_id, SCOPE, engine.name, query_ids, ids, dists)
        conn.commit()
    return n


def stored_lists(url: str, model_id: int, image_ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The stored edge lists of these images, rows in their order, k places (-1 / NaN where missing)."""
    row_of = {int(i): r for r, i in enumerate(image_ids)}
    ids = np.full((len(image_ids), k), -1, dtype=np.int64)
    dists = np.full((len(image_ids), k), np.nan)
    with db.connect(url) as conn:
        for image_id, rank, neighbour, dist in conn.execute(
            "select image_id, neighbour_rank, neighbour_image_id, cosine_distance from atlas.knn_edge "
            "where model_id = %s and scope = %s and image_id = any(%s) and neighbour_rank <= %s",
            (model_id, SCOPE, [int(i) for i in image_ids], k),
        ):
            ids[row_of[image_id], rank - 1], dists[row_of[image_id], rank - 1] = neighbour, dist
    return ids, dists


def build_edges(url: str, engine, images: ModelImages, k: int, *, full: bool = False,
                cross: CrossLists | None = None,
                existing: dict[int, tuple[int, float]] | None = None) -> dict[str, int]:
    """Fill atlas.knn_edge for one model; incremental unless `full` or k changed.

    Incremental: new images (no edges yet) get their lists; an old image's
    list is merged with its k nearest new images when the nearest of them is
    at least as near as its k-th neighbour. Old x old distances are never
    searched again, and the result equals a full recompute. `cross` (the
    lists of these new images, see skinmap.knn.cross) is searched when not given;
    `existing` (existing_edges) is read when not given.
    """
    if full:
        existing = {}
    elif existing is None:
        existing = existing_edges(url, images.model_id)
    stored_k = max((n for n, _ in existing.values()), default=0)
    expected_k = min(k, max(0, len(images.image_ids) - 1))
    if existing and stored_k != min(k, max(0, len(existing) - 1)):
        existing = {}  # stored with another k: start over
    if not existing:
        with db.connect(url) as conn:
            conn.execute("delete from atlas.knn_edge where model_id = %s and scope = %s", (images.model_id, SCOPE))
            conn.commit()
        n = _search_and_write(url, engine, images, images.image_ids, k)
        return {"edge_images": len(images.image_ids), "edge_rows": n, "edge_repaired": 0}
    is_old = np.array([int(i) in existing for i in images.image_ids])
    new_ids = images.image_ids[~is_old]
    if len(new_ids) == 0:
        return {"edge_images": 0, "edge_rows": 0, "edge_repaired": 0}
    if cross is None or cross.k < k or not np.array_equal(cross.new_ids, new_ids):
        cross = cross_search(engine, images.model_id, images.image_ids, new_ids, k)
    cand_ids, cand_d = (a[:, :k] for a in cross.old_to_new)
    kth = np.array([existing[int(i)][1] for i in cross.old_ids], dtype=np.float64)
    n_stored = np.array([existing[int(i)][0] for i in cross.old_ids])
    entered = (cand_d[:, 0] <= kth + TIE_TOLERANCE) | (n_stored < expected_k)
    repaired = cross.old_ids[entered]
    stored_ids, stored_d = stored_lists(url, images.model_id, repaired, k)
    merged_ids, merged_d = merge_rows(stored_ids, stored_d, cand_ids[entered], cand_d[entered], k)
    new_lists = tuple(a[:, :k] for a in cross.new_to_all)
    with db.connect(url) as conn:
        n = write_edges(conn, images.model_id, SCOPE, engine.name, new_ids, *new_lists)
        n += write_edges(conn, images.model_id, SCOPE, engine.name, repaired, merged_ids, merged_d)
        conn.commit()
    return {"edge_images": len(new_ids), "edge_rows": n, "edge_repaired": len(repaired)}
