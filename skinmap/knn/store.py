"""Writing engine results into atlas.knn_edge and atlas.knn_novelty (binary COPY)."""
from __future__ import annotations

import numpy as np

from skinmap import db
from skinmap.knn.vectors import copy_packed, id_array, sorted_unique

_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8  # signature, flags, no header extension
_BINARY_TRAILER = b"\xff\xff"


KTH_RECORD = np.dtype([("image", ">i8"), ("n", ">i4"), ("kth", ">f8")])  # an image's count and k-th distance


def copy_in(conn, statement: str, *row_arrays: np.ndarray) -> None:
    """Write numpy records laid out as binary COPY rows (header and trailer added) with one COPY ... FROM STDIN."""
    with conn.cursor().copy(statement) as copy:
        copy.write(_BINARY_HEADER + b"".join(rows.tobytes() for rows in row_arrays) + _BINARY_TRAILER)


def _edge_rows(scope: str, engine: str) -> np.dtype:
    """One binary COPY row of knn_edge: fixed size per call (scope and engine are constant), built by numpy."""
    return np.dtype([("fields", ">i2"), ("l_model", ">i4"), ("model", ">i4"), ("l_scope", ">i4"),
                     ("scope", f"S{len(scope)}"), ("l_image", ">i4"), ("image", ">i8"), ("l_rank", ">i4"),
                     ("rank", ">i2"), ("l_neighbour", ">i4"), ("neighbour", ">i8"), ("l_dist", ">i4"),
                     ("dist", ">f4"), ("l_engine", ">i4"), ("engine", f"S{len(engine)}")])


def write_edges(conn, model_id: int, scope: str, engine: str, query_ids: np.ndarray,
                ids: np.ndarray, dists: np.ndarray, *, replace: bool = True, from_rank: np.ndarray | None = None) -> int:
    """Replace the edges of these query images (`replace=False`: none stored yet); return the rows written.
    `from_rank` (per image): only its places from that rank on are replaced (those before it are unchanged).

    Rows are packed by numpy into one binary COPY stream: 11M edges at 1.1M
    images are written without a Python object per row.
    """
    query_ids = np.asarray(query_ids, dtype=np.int64)
    ranks = np.broadcast_to(np.arange(1, ids.shape[1] + 1), ids.shape)
    if replace and len(query_ids) and from_rank is None:
        conn.execute(
            "delete from atlas.knn_edge where model_id = %s and scope = %s and image_id = any(%s::bigint[])",
            (model_id, scope, id_array(query_ids)),
        )
    elif replace and len(query_ids):
        for rank in np.unique(from_rank):  # one indexed delete per first rank (a join with 96k pairs scanned 11M rows)
            conn.execute(
                "delete from atlas.knn_edge where model_id = %s and scope = %s and image_id = any(%s::bigint[]) "
                "and neighbour_rank >= %s", (model_id, scope, id_array(query_ids[from_rank == rank]), int(rank)),
            )
    if ids.size == 0:
        return 0
    present = ids >= 0  # rows are sorted: missing places (-1) come last
    if from_rank is not None:
        present &= ranks >= np.asarray(from_rank)[:, None]
    rows = np.zeros(int(present.sum()), dtype=_edge_rows(scope, engine))
    rows["fields"] = 7
    for field, size in (("l_model", 4), ("l_scope", len(scope)), ("l_image", 8), ("l_rank", 2),
                        ("l_neighbour", 8), ("l_dist", 4), ("l_engine", len(engine))):
        rows[field] = size
    rows["model"], rows["scope"], rows["engine"] = model_id, scope.encode(), engine.encode()
    rows["image"] = np.broadcast_to(query_ids[:, None], ids.shape)[present]
    rows["rank"] = ranks[present]
    rows["neighbour"], rows["dist"] = ids[present], dists[present]
    copy_in(conn, "copy atlas.knn_edge (model_id, scope, image_id, neighbour_rank, neighbour_image_id, "
                  "cosine_distance, engine) from stdin (format binary)", rows)
    return len(rows)


def novelty_aggregates(dists: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: neighbours found, sum, mean and largest (k-th) distance; NaN where none."""
    found = (~np.isnan(dists)).sum(axis=1)
    total = np.nansum(dists, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(found > 0, total / np.maximum(found, 1), np.nan)
    kth = np.where(found > 0, np.nanmax(np.where(np.isnan(dists), -np.inf, dists), axis=1), np.nan)
    return found, np.where(found > 0, total, np.nan), mean, kth


_SCOPE = b"earlier_years"


def _novelty_rows(n: int, engine: str) -> np.dtype:
    """One binary COPY row of knn_novelty for images with n neighbours (n = 0: NULL aggregates)."""
    fields = [("fields", ">i2"), ("l_model", ">i4"), ("model", ">i4"), ("l_scope", ">i4"), ("scope", f"S{len(_SCOPE)}"),
              ("l_cutoff", ">i4"), ("cutoff", ">i2"), ("l_image", ">i4"), ("image", ">i8"), ("l_k", ">i4"),
              ("k", ">i4"), ("l_n", ">i4"), ("n", ">i4")]
    for name in ("sum", "mean", "kth"):
        fields += [(f"l_{name}", ">i4")] + ([(name, ">f8")] if n else [])
    return np.dtype(fields + [("l_engine", ">i4"), ("engine", f"S{len(engine)}")])


def _list_rows(n: int) -> np.dtype:
    """One binary COPY row of knn_novelty_list (model_id, image_id, distances: n packed float4, bytea)."""
    return np.dtype([("fields", ">i2"), ("l_model", ">i4"), ("model", ">i4"), ("l_image", ">i4"), ("image", ">i8"),
                     ("l_list", ">i4"), ("values", ">f4", (n,))])


def write_novelty(conn, model_id: int, cutoff_year: int, k: int, engine: str, query_ids: np.ndarray,
                  dists: np.ndarray, *, keep_distances: bool = False, replace: bool = True) -> int:
    """Replace the novelty aggregates of these images at this cutoff; return the rows written.

    `keep_distances` also replaces each image's sorted list in
    atlas.knn_novelty_list (the newest cutoff's, so that a newer release can
    be merged in; see skinmap.knn.novelty_update). Rows are packed by numpy
    into binary COPY, one fixed layout per number of neighbours found, so
    millions of rows need no Python object each.
    """
    query_ids = np.asarray(query_ids, dtype=np.int64)
    if replace and len(query_ids):
        conn.execute(
            "delete from atlas.knn_novelty where model_id = %s and scope = 'earlier_years' and cutoff_year = %s "
            "and image_id = any(%s::bigint[])",
            (model_id, cutoff_year, id_array(query_ids)),
        )
    found, total, mean, kth = novelty_aggregates(dists)
    chunks = []
    for n in np.unique(found):
        at = np.flatnonzero(found == n)
        rows = np.zeros(len(at), dtype=_novelty_rows(int(n), engine))
        rows["fields"] = 10
        lengths = {"l_model": 4, "l_scope": len(_SCOPE), "l_cutoff": 2, "l_image": 8, "l_k": 4, "l_n": 4,
                   "l_sum": 8 if n else -1, "l_mean": 8 if n else -1, "l_kth": 8 if n else -1,
                   "l_engine": len(engine)}
        for field, size in lengths.items():
            rows[field] = size
        rows["model"], rows["scope"], rows["cutoff"], rows["k"], rows["n"] = model_id, _SCOPE, cutoff_year, k, n
        rows["image"], rows["engine"] = query_ids[at], engine.encode()
        if n:
            rows["sum"], rows["mean"], rows["kth"] = total[at], mean[at], kth[at]
        chunks.append(rows)
    copy_in(conn, "copy atlas.knn_novelty (model_id, scope, cutoff_year, image_id, k, n_neighbours, sum_distance, "
                  "novelty, kth_distance, engine) from stdin (format binary)", *chunks)
    if keep_distances:  # a list belongs to the image, not to a cutoff: an image's earlier list is replaced
        write_distance_lists(conn, model_id, query_ids, dists, found)
    return len(query_ids)


def write_distance_lists(conn, model_id: int, query_ids: np.ndarray, dists: np.ndarray, found: np.ndarray, *,
                         replace: bool = True) -> None:
    """Replace these images' sorted lists in atlas.knn_novelty_list (NaN places left out)."""
    if replace and len(query_ids):
        conn.execute("delete from atlas.knn_novelty_list where model_id = %s and image_id = any(%s::bigint[])",
                     (model_id, id_array(query_ids)))
    in_order = ((dists[:, 1:] >= dists[:, :-1]) | np.isnan(dists[:, 1:])).all()  # merged lists come sorted
    ordered = dists if in_order else np.sort(dists, axis=1)  # NaN last
    chunks = []
    for n in np.unique(found):
        at = np.flatnonzero(found == n)
        rows = np.zeros(len(at), dtype=_list_rows(int(n)))
        rows["fields"], rows["l_model"], rows["l_image"], rows["l_list"] = 3, 4, 8, 4 * int(n)
        rows["model"], rows["image"], rows["values"] = model_id, query_ids[at], ordered[at, :n]
        chunks.append(rows)
    copy_in(conn, "copy atlas.knn_novelty_list (model_id, image_id, distances) from stdin (format binary)", *chunks)


def read_distance_lists(conn, model_id: int, k: int, image_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """These images' stored sorted lists: (image ids ascending, distances (n, k), NaN-padded).

    Lists of k places (all but the smallest atlases) come packed by
    PostgreSQL (vectors.copy_packed) and are parsed by numpy: 2.0-2.2 s for
    660k lists of 100, against 4.5-6.2 s for blocks of 4,096 ids looked up
    in the index.
    """
    image_ids = sorted_unique(image_ids)
    full = copy_packed(conn, "int8send(image_id) || distances", "from atlas.knn_novelty_list where model_id = %s "
                       "and image_id = any(%s::bigint[]) and octet_length(distances) = %s",
                       (model_id, id_array(image_ids), 4 * k), np.dtype([("image", ">i8"), ("values", ">f4", (k,))]))
    if len(full) == len(image_ids):  # every list is full (copy_packed orders them by image)
        return full["image"].astype(np.int64), full["values"].astype(np.float64)
    rest = conn.execute(
        "select image_id, distances from atlas.knn_novelty_list where model_id = %s and image_id = any(%s::bigint[]) "
        "and octet_length(distances) <> %s", (model_id, id_array(image_ids), 4 * k),
    ).fetchall()
    ids = np.concatenate([full["image"].astype(np.int64), np.array([r[0] for r in rest], dtype=np.int64)])
    dists = np.full((len(ids), k), np.nan)
    dists[:len(full)] = full["values"]
    for r, (_, packed) in enumerate(rest, start=len(full)):
        values = np.frombuffer(packed, dtype=">f4")
        dists[r, :len(values)] = values
    order = np.argsort(ids)
    return ids[order], dists[order]


def read_newest_kth(conn, model_id: int, k: int):
    """(newest cutoff, and its rows as read_kth gives them) of the model's novelty scored with k neighbours;
    None when nothing is scored with k."""
    newest = conn.execute("select max(cutoff_year) from atlas.knn_novelty where model_id = %s "
                          "and scope = 'earlier_years' and k = %s", (model_id, k)).fetchone()[0]
    return None if newest is None else (newest, *read_kth(conn, model_id, newest))


def read_kth(conn, model_id: int, cutoff_year: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every row at one cutoff: (image ids ascending, neighbours found, k-th distance (NaN: none)), packed."""
    rows = copy_packed(conn, "int8send(image_id) || int4send(n_neighbours) || float8send(coalesce(kth_distance, "
                             "'NaN'))", "from atlas.knn_novelty where model_id = %s and scope = 'earlier_years' "
                             "and cutoff_year = %s", (model_id, cutoff_year), KTH_RECORD)
    return rows["image"].astype(np.int64), rows["n"].astype(np.int64), rows["kth"].astype(np.float64)


def stored_cutoffs(conn, model_id: int) -> set[int]:
    """The cutoffs the model's novelty is scored at: a skip scan of the primary key, not a pass over its 10M rows
    at 1.1M."""
    return {r[0] for r in conn.execute(
        "with recursive c (year) as (select min(cutoff_year) from atlas.knn_novelty where model_id = %(m)s "
        "and scope = 'earlier_years' union all select (select min(n.cutoff_year) from atlas.knn_novelty as n "
        "where n.model_id = %(m)s and n.scope = 'earlier_years' and n.cutoff_year > c.year) from c "
        "where c.year is not null) select year from c where year is not null", {"m": model_id})}


def forget_old_cutoffs(url: str, model_id: int, cutoffs: list[int]) -> None:
    """Drop cutoffs that are no longer a release year (an old 'next year')."""
    with db.connect(url) as conn:
        stale = sorted(stored_cutoffs(conn, model_id) - set(cutoffs))
        if stale:
            conn.execute("delete from atlas.knn_novelty where model_id = %s and scope = 'earlier_years' "
                         "and cutoff_year = any(%s)", (model_id, stale))
            conn.commit()


def copy_novelty_cutoff(url: str, model_id: int, donor: int, cutoff: int) -> None:
    """Rows of a cutoff whose query and reference images equal the donor's: copied, not searched. Images that
    already have a row at the cutoff (written first, because a new image entered their lists) keep it."""
    with db.connect(url) as conn:
        # the rows just written are not in the planner's statistics yet: it expects none and picks a nested loop
        # that compares every copied row with every written one (300 s at 1.1M x 20k); a hash anti join is 1 pass
        conn.execute("set local enable_nestloop = off")
        conn.execute(
            "insert into atlas.knn_novelty (model_id, scope, cutoff_year, image_id, k, n_neighbours, sum_distance, "
            "novelty, kth_distance, engine) select d.model_id, d.scope, %s, d.image_id, d.k, d.n_neighbours, "
            "d.sum_distance, d.novelty, d.kth_distance, d.engine from atlas.knn_novelty as d "
            "where d.model_id = %s and d.scope = 'earlier_years' and d.cutoff_year = %s and not exists ("
            "select from atlas.knn_novelty as w where w.model_id = d.model_id and w.scope = d.scope "
            "and w.cutoff_year = %s and w.image_id = d.image_id)", (cutoff, model_id, donor, cutoff),
        )
        conn.commit()
