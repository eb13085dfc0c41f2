"""Scope 'all' edges: each image's k nearest other images of its model, in full or incrementally."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skinmap import db
from skinmap.knn.cross import TIE_TOLERANCE, CrossLists, cross_search, is_member
from skinmap.knn.reference import merge_rows, without_self
from skinmap.knn.store import KTH_RECORD, write_edges
from skinmap.knn.vectors import ModelImages, copy_packed, copy_records, id_array

SCOPE = "all"


@dataclass(frozen=True)
class StoredEdges:
    """Per image with edges (ids ascending): neighbours stored and the largest stored distance (the k-th)."""

    image_ids: np.ndarray
    counts: np.ndarray
    kth: np.ndarray

    def __len__(self) -> int:
        return len(self.image_ids)

    def at(self, image_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(counts, k-th distances) of these images, which all have edges."""
        rows = np.searchsorted(self.image_ids, image_ids)
        return self.counts[rows], self.kth[rows]


NO_EDGES = StoredEdges(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))


def existing_edges(url: str, model_id: int) -> StoredEdges:
    """What is stored per image (packed COPY into numpy); its images are the ones that are not new."""
    with db.connect(url) as conn:
        rows = copy_packed(conn, "int8send(image_id) || int4send(n) || float8send(kth)",
                           "from (select image_id, count(*)::integer as n, max(cosine_distance)::float8 as kth "
                           "from atlas.knn_edge where model_id = %s and scope = %s group by image_id) as stored",
                           (model_id, SCOPE), KTH_RECORD)
    return StoredEdges(rows["image"].astype(np.int64), rows["n"].astype(np.int64), rows["kth"].astype(np.float64))


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
    layout = np.dtype([("fields", ">i2"), ("l_image", ">i4"), ("image", ">i8"), ("l_rank", ">i4"), ("rank", ">i2"),
                       ("l_neighbour", ">i4"), ("neighbour", ">i8"), ("l_dist", ">i4"), ("dist", ">f4")])
    image_ids = np.asarray(image_ids, dtype=np.int64)
    ids = np.full((len(image_ids), k), -1, dtype=np.int64)
    dists = np.full((len(image_ids), k), np.nan)
    with db.connect(url) as conn:
        rows = copy_records(conn, "copy (select image_id, neighbour_rank, neighbour_image_id, cosine_distance "
                                  "from atlas.knn_edge where model_id = %s and scope = %s and image_id = "
                                  "any(%s::bigint[]) and neighbour_rank <= %s) to stdout (format binary)",
                            (model_id, SCOPE, id_array(image_ids), k), layout)
    order = np.argsort(image_ids)
    at = order[np.searchsorted(image_ids[order], rows["image"])]
    ids[at, rows["rank"] - 1], dists[at, rows["rank"] - 1] = rows["neighbour"], rows["dist"]
    return ids, dists


def build_edges(url: str, engine, images: ModelImages, k: int, *, full: bool = False,
                cross: CrossLists | None = None,
                existing: StoredEdges | None = None) -> dict[str, int]:
    """Fill atlas.knn_edge for one model; incremental unless `full` or k changed.

    Incremental: new images (no edges yet) get their lists; an old image's
    list is merged with its k nearest new images when the nearest of them is
    at least as near as its k-th neighbour. Old x old distances are never
    searched again, and the result equals a full recompute. `cross` (the
    lists of these new images, see skinmap.knn.cross) is searched when not given;
    `existing` (existing_edges) is read when not given.
    """
    if full:
        existing = NO_EDGES
    elif existing is None:
        existing = existing_edges(url, images.model_id)
    stored_k = int(existing.counts.max(initial=0))
    expected_k = min(k, max(0, len(images.image_ids) - 1))
    if len(existing) and stored_k != min(k, max(0, len(existing) - 1)):
        existing = NO_EDGES  # stored with another k: start over
    if not len(existing):
        with db.connect(url) as conn:
            conn.execute("delete from atlas.knn_edge where model_id = %s and scope = %s", (images.model_id, SCOPE))
            conn.commit()
        n = _search_and_write(url, engine, images, images.image_ids, k)
        return {"edge_images": len(images.image_ids), "edge_rows": n, "edge_repaired": 0}
    new_ids = images.image_ids[~is_member(images.image_ids, existing.image_ids)]
    if len(new_ids) == 0:
        return {"edge_images": 0, "edge_rows": 0, "edge_repaired": 0}
    if cross is None or cross.k < k or not np.array_equal(cross.new_ids, new_ids):
        cross = cross_search(engine, images.model_id, images.image_ids, new_ids, k)
    cand_ids, cand_d = (a[:, :k] for a in cross.old_to_new)
    n_stored, kth = existing.at(cross.old_ids)
    entered = (cand_d[:, 0] <= kth + TIE_TOLERANCE) | (n_stored < expected_k)
    repaired = cross.old_ids[entered]
    stored_ids, stored_d = stored_lists(url, images.model_id, repaired, k)
    merged_ids, merged_d = merge_rows(stored_ids, stored_d, cand_ids[entered], cand_d[entered], k)
    # a new image entering at rank r moves the places after it: only ranks from the first changed one are written
    differs = merged_ids != stored_ids
    first_changed = np.where(differs.any(axis=1), differs.argmax(axis=1) + 1, k + 1)
    new_lists = tuple(a[:, :k] for a in cross.new_to_all)
    with db.connect(url) as conn:
        n = write_edges(conn, images.model_id, SCOPE, engine.name, new_ids, *new_lists)
        n += write_edges(conn, images.model_id, SCOPE, engine.name, repaired, merged_ids, merged_d,
                         from_rank=first_changed)
        conn.commit()
    return {"edge_images": len(new_ids), "edge_rows": n, "edge_repaired": len(repaired)}
