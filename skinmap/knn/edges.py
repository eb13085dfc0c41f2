"""Scope 'all' edges: each image's k nearest other images of its model, in full or incrementally."""
from __future__ import annotations

import numpy as np

from skinmap import db
from skinmap.knn.reference import without_self
from skinmap.knn.store import write_edges
from skinmap.knn.vectors import ModelImages

SCOPE = "all"


def _existing(url: str, model_id: int) -> dict[int, tuple[int, float]]:
    """image -> (neighbours stored, largest stored distance)."""
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


def build_edges(url: str, engine, images: ModelImages, k: int, *, full: bool = False) -> dict[str, int]:
    """Fill atlas.knn_edge for one model; incremental unless `full` or k changed.

    Incremental: new images (no edges yet) get their lists; an old image is
    repaired when a new image is at least as near as its k-th neighbour
    (found by a 1-NN search of the old images among the new ones), so the
    result equals a full recompute without searching every image again.
    """
    existing = {} if full else _existing(url, images.model_id)
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
    new_ids, old_ids = images.image_ids[~is_old], images.image_ids[is_old]
    if len(new_ids) == 0:
        return {"edge_images": 0, "edge_rows": 0, "edge_repaired": 0}
    new_reference = engine.reference(images.model_id)
    try:
        new_reference.add(new_ids)
        _, nearest_new = new_reference.search(old_ids, 1)
    finally:
        new_reference.close()
    kth = np.array([existing[int(i)][1] for i in old_ids], dtype=np.float64)
    n_stored = np.array([existing[int(i)][0] for i in old_ids])
    entered = (nearest_new[:, 0] <= kth + 1e-6) | (n_stored < expected_k)
    repaired = old_ids[entered]
    query_ids = np.concatenate([new_ids, repaired])
    n = _search_and_write(url, engine, images, query_ids, k)
    return {"edge_images": len(new_ids), "edge_rows": n, "edge_repaired": len(repaired)}
