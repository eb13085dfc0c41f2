"""What `skinmap voids` reads from the atlas (stored kNN edges) and writes (one run per model)."""
from __future__ import annotations

import numpy as np

from skinmap import db
from skinmap.voids.detect import VoidResult


def stored_edges(url: str, model_id: int, landmark_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image, rank, neighbour) of the atlas.knn_edge rows of the landmarks (empty before `skinmap knn`)."""
    from skinmap.knn.vectors import id_array

    with db.connect(url) as conn:
        rows = conn.execute(
            "select image_id, neighbour_rank, neighbour_image_id from atlas.knn_edge "
            "where model_id = %s and scope = 'all' and image_id = any(%s::bigint[])",
            (model_id, id_array(landmark_ids)),
        ).fetchall()
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    image, rank, neighbour = (np.array(column, dtype=np.int64) for column in zip(*rows))
    return image, rank, neighbour


def landmark_vectors(url: str, model_id: int, landmark_ids: np.ndarray) -> np.ndarray:
    """The landmarks' vectors, rows in the order of landmark_ids, by primary-key lookups.

    Not skinmap.knn.vectors.load_vectors: it reads blocks of consecutive
    image ids, so 1,000 landmarks spread over 1.1M images would read every
    vector between them.
    """
    from skinmap.knn.vectors import as_array, id_array

    with db.connect(url) as conn:
        rows = conn.execute(
            "select image_id, coalesce(vec, vec_half::vector) from atlas.embedding "
            "where model_id = %s and image_id = any(%s::bigint[])", (model_id, id_array(landmark_ids))).fetchall()
    found = {image_id: as_array(vec) for image_id, vec in rows}
    return np.stack([found[int(i)] for i in landmark_ids])


def write_run(url: str, *, model_id: int, n_images: int, landmark_ids: np.ndarray, k: int, metric: str,
              corrected: bool, seed: int, max_voids: int | None, result: VoidResult, seconds: float) -> int:
    """Replace the model's run by this one (voids and boundary images with it), in one transaction."""
    with db.connect(url) as conn:
        conn.execute("delete from atlas.void_run where model_id = %s", (model_id,))
        run_id = conn.execute(
            "insert into atlas.void_run (model_id, n_images, n_landmarks, n_landmarks_from_stored_edges, k, metric, "
            "is_corrected, seed, n_null_draws, null_max_persistence, alpha, max_voids, seconds) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning run_id",
            (model_id, n_images, len(landmark_ids), result.n_from_stored_edges, k, metric, corrected, seed,
             len(result.null_max), [float(v) for v in result.null_max], result.alpha, max_voids, seconds),
        ).fetchone()[0]
        with conn.cursor() as cur:
            cur.executemany(
                "insert into atlas.structural_void (run_id, void_rank, birth, death, persistence, p_value, "
                "n_cocycle_edges, n_boundary_landmarks) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                [(run_id, rank, v.feature.birth, v.feature.death, v.persistence, v.p_value,
                  v.feature.n_cocycle_edges, len(v.feature.cycle)) for rank, v in enumerate(result.voids, 1)])
            cur.executemany(
                "insert into atlas.void_boundary_image (run_id, void_rank, position, image_id) "
                "values (%s, %s, %s, %s)",
                [(run_id, rank, position, int(landmark_ids[point]))
                 for rank, v in enumerate(result.voids, 1) for position, point in enumerate(v.feature.cycle, 1)])
        conn.commit()
    return run_id
