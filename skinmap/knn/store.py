"""Writing engine results into atlas.knn_edge and atlas.knn_novelty (binary COPY)."""
from __future__ import annotations

import numpy as np


def write_edges(conn, model_id: int, scope: str, engine: str, query_ids: np.ndarray,
                ids: np.ndarray, dists: np.ndarray) -> int:
    """Replace the edges of these query images; return the rows written."""
    conn.execute(
        "delete from atlas.knn_edge where model_id = %s and scope = %s and image_id = any(%s)",
        (model_id, scope, [int(i) for i in query_ids]),
    )
    n = 0
    with conn.cursor().copy(
        "copy atlas.knn_edge (model_id, scope, image_id, neighbour_rank, neighbour_image_id, cosine_distance, engine) "
        "from stdin (format binary)"
    ) as copy:
        copy.set_types(["int4", "text", "int8", "int2", "int8", "float4", "text"])
        for q, row_ids, row_d in zip(query_ids, ids, dists):
            for rank, (neighbour, dist) in enumerate(zip(row_ids, row_d), start=1):
                if neighbour < 0:
                    break
                copy.write_row((model_id, scope, int(q), rank, int(neighbour), float(dist), engine))
                n += 1
    return n


def novelty_aggregates(dists: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: neighbours found, sum, mean and largest (k-th) distance; NaN where none."""
    found = (~np.isnan(dists)).sum(axis=1)
    total = np.nansum(dists, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(found > 0, total / np.maximum(found, 1), np.nan)
    kth = np.where(found > 0, np.nanmax(np.where(np.isnan(dists), -np.inf, dists), axis=1), np.nan)
    return found, np.where(found > 0, total, np.nan), mean, kth


def write_novelty(conn, model_id: int, cutoff_year: int, k: int, engine: str, query_ids: np.ndarray,
                  dists: np.ndarray) -> int:
    """Replace the novelty aggregates of these images at this cutoff; return the rows written."""
    conn.execute(
        "delete from atlas.knn_novelty where model_id = %s and scope = 'earlier_years' and cutoff_year = %s "
        "and image_id = any(%s)",
        (model_id, cutoff_year, [int(i) for i in query_ids]),
    )
    found, total, mean, kth = novelty_aggregates(dists)

    def _num(x: float) -> float | None:
        return None if np.isnan(x) else float(x)

    with conn.cursor().copy(
        "copy atlas.knn_novelty (model_id, scope, cutoff_year, image_id, k, n_neighbours, sum_distance, "
        "novelty, kth_distance, engine) from stdin (format binary)"
    ) as copy:
        copy.set_types(["int4", "text", "int2", "int8", "int4", "int4", "float8", "float8", "float8", "text"])
        for i, q in enumerate(query_ids):
            copy.write_row((model_id, "earlier_years", cutoff_year, int(q), k, int(found[i]),
                            _num(total[i]), _num(mean[i]), _num(kth[i]), engine))
    return len(query_ids)
