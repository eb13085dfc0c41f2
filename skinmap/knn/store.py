"""Writing engine results into atlas.knn_edge and atlas.knn_novelty (binary COPY)."""
from __future__ import annotations

import numpy as np

from skinmap import db

_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # signature, flags, no header extension
_BINARY_TRAILER = b"\xff\xff"


def _edge_rows(scope: str, engine: str) -> np.dtype:
    """One binary COPY row of knn_edge: fixed size per call (scope and engine are constant), built by numpy."""
    return np.dtype([("fields", ">i2"), ("l_model", ">i4"), ("model", ">i4"), ("l_scope", ">i4"),
                     ("scope", f"S{len(scope)}"), ("l_image", ">i4"), ("image", ">i8"), ("l_rank", ">i4"),
                     ("rank", ">i2"), ("l_neighbour", ">i4"), ("neighbour", ">i8"), ("l_dist", ">i4"),
                     ("dist", ">f4"), ("l_engine", ">i4"), ("engine", f"S{len(engine)}")])


def write_edges(conn, model_id: int, scope: str, engine: str, query_ids: np.ndarray,
                ids: np.ndarray, dists: np.ndarray, *, replace: bool = True) -> int:
    """Replace the edges of these query images (`replace=False`: none stored yet); return the rows written.

    Rows are packed by numpy into one binary COPY stream: 11M edges at 1.1M
    images are written without a Python object per row.
    """
    query_ids = np.asarray(query_ids, dtype=np.int64)
    if replace and len(query_ids):
        conn.execute(
            "delete from atlas.knn_edge where model_id = %s and scope = %s and image_id = any(%s)",
            (model_id, scope, query_ids.tolist()),
        )
    if ids.size == 0:
        return 0
    present = ids >= 0  # rows are sorted: missing places (-1) come last
    rows = np.zeros(int(present.sum()), dtype=_edge_rows(scope, engine))
    rows["fields"] = 7
    for field, size in (("l_model", 4), ("l_scope", len(scope)), ("l_image", 8), ("l_rank", 2),
                        ("l_neighbour", 8), ("l_dist", 4), ("l_engine", len(engine))):
        rows[field] = size
    rows["model"], rows["scope"], rows["engine"] = model_id, scope.encode(), engine.encode()
    rows["image"] = np.broadcast_to(query_ids[:, None], ids.shape)[present]
    rows["rank"] = np.broadcast_to(np.arange(1, ids.shape[1] + 1), ids.shape)[present]
    rows["neighbour"], rows["dist"] = ids[present], dists[present]
    with conn.cursor().copy(
        "copy atlas.knn_edge (model_id, scope, image_id, neighbour_rank, neighbour_image_id, cosine_distance, engine) "
        "from stdin (format binary)"
    ) as copy:
        copy.write(_BINARY_HEADER + rows.tobytes() + _BINARY_TRAILER)
    return len(rows)


def novelty_aggregates(dists: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: neighbours found, sum, mean and largest (k-th) distance; NaN where none."""
    found = (~np.isnan(dists)).sum(axis=1)
    total = np.nansum(dists, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(found > 0, total / np.maximum(found, 1), np.nan)
    kth = np.where(found > 0, np.nanmax(np.where(np.isnan(dists), -np.inf, dists), axis=1), np.nan)
    return found, np.where(found > 0, total, np.nan), mean, kth


def write_novelty(conn, model_id: int, cutoff_year: int, k: int, engine: str, query_ids: np.ndarray,
                  dists: np.ndarray, *, keep_distances: bool = False) -> int:
    """Replace the novelty aggregates of these images at this cutoff; return the rows written.

    `keep_distances` also stores each sorted list (the newest cutoff does, so
    that a newer release can be merged in; see skinmap.knn.novelty_update).
    """
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
        "novelty, kth_distance, engine, distances) from stdin (format binary)"
    ) as copy:
        copy.set_types(["int4", "text", "int2", "int8", "int4", "int4", "float8", "float8", "float8", "text",
                        "float4[]"])
        for i, q in enumerate(query_ids):
            kept = [float(d) for d in np.sort(dists[i][~np.isnan(dists[i])])] if keep_distances else None
            copy.write_row((model_id, "earlier_years", cutoff_year, int(q), k, int(found[i]),
                            _num(total[i]), _num(mean[i]), _num(kth[i]), engine, kept))
    return len(query_ids)


def forget_old_cutoffs(url: str, model_id: int, cutoffs: list[int]) -> None:
    """Drop cutoffs that are no longer a release year (an old 'next year'); lists stay at the newest only."""
    with db.connect(url) as conn:
        conn.execute(
            "delete from atlas.knn_novelty where model_id = %s and scope = 'earlier_years' "
            "and not (cutoff_year = any(%s))", (model_id, cutoffs),
        )
        conn.execute(
            "update atlas.knn_novelty set distances = null where model_id = %s and scope = 'earlier_years' "
            "and cutoff_year <> %s and distances is not null", (model_id, cutoffs[-1]),
        )
        conn.commit()


def copy_novelty_cutoff(url: str, model_id: int, donor: int, cutoff: int) -> None:
    """Rows of a cutoff whose query and reference images equal the donor's: copied, not searched."""
    with db.connect(url) as conn:
        conn.execute(
            "insert into atlas.knn_novelty (model_id, scope, cutoff_year, image_id, k, n_neighbours, sum_distance, "
            "novelty, kth_distance, engine, distances) select model_id, scope, %s, image_id, k, n_neighbours, "
            "sum_distance, novelty, kth_distance, engine, distances from atlas.knn_novelty where model_id = %s and scope = 'earlier_years' "
            "and cutoff_year = %s", (cutoff, model_id, donor),
        )
        conn.commit()
