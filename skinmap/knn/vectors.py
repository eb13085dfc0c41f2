"""What the engines read about one model's images: ids, release years, datasets and vectors."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skinmap import db


@dataclass
class ModelImages:
    """The usable (status ok) images embedded by one model, ordered by image_id."""

    model_id: int
    dimension: int
    image_ids: np.ndarray  # int64
    release_years: np.ndarray  # float64, NaN = unknown
    dataset_ids: np.ndarray  # int64


def as_array(vec) -> np.ndarray:
    """A pgvector value as float32 numpy (COPY gives Vector objects, queries numpy arrays)."""
    return np.asarray(vec.to_numpy() if hasattr(vec, "to_numpy") else vec, dtype=np.float32)


def positions_in(sorted_ids: np.ndarray, image_ids) -> tuple[np.ndarray, np.ndarray]:
    """(each image's position in the ascending sorted_ids, whether it is there): a binary search, where a dict
    lookup per image costs seconds at 1.1M."""
    image_ids = np.asarray(image_ids, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_ids, image_ids), max(0, len(sorted_ids) - 1))
    return pos, (sorted_ids[pos] == image_ids) if len(sorted_ids) else np.zeros(len(image_ids), dtype=bool)


def sorted_unique(ids) -> np.ndarray:
    """The ids ascending, each once, as np.unique gives them; ids already so (the model's, and subsets of them)
    are returned as they are: np.unique sorts, 1.8 s at 1.1M."""
    ids = np.asarray(ids, dtype=np.int64)
    return ids if (ids[1:] > ids[:-1]).all() else np.unique(ids)


def model_ids(url: str, model_name: str | None = None) -> list[int]:
    """The models that have vectors (or the one named)."""
    with db.connect(url) as conn:
        rows = conn.execute(
            "select m.model_id from atlas.embedding_model m "
            "where exists (select 1 from atlas.embedding e where e.model_id = m.model_id) "
            "and (%s::text is null or m.model_name = %s) order by m.model_id",
            (model_name, model_name),
        ).fetchall()
    return [r[0] for r in rows]


def model_images(url: str, model_id: int) -> ModelImages:
    layout = np.dtype([("image", ">i8"), ("year", ">i4"), ("dataset", ">i8")])
    with db.connect(url) as conn:
        dim = conn.execute("select dimension from atlas.embedding_model where model_id = %s", (model_id,)).fetchone()[0]
        rows = copy_packed(  # an unknown year as -1 keeps every record the same size
            conn, "int8send(image_id) || int4send(coalesce(i.release_year, -1)::integer) || int8send(i.dataset_id)",
            "from atlas.embedding as e join atlas.image as i using (image_id) where e.model_id = %s "
            "and i.status = 'ok'", (model_id,), layout)
    years = rows["year"].astype(np.float64)
    years[years < 0] = np.nan
    return ModelImages(model_id, dim, rows["image"].astype(np.int64), years, rows["dataset"].astype(np.int64))


_COPY_HEADER = 19  # PGCOPY signature (11 bytes), flags (4), header extension length (4)


def id_array(ids: np.ndarray) -> str:
    """Image ids as a PostgreSQL array literal, for `= any(%s::bigint[])`: psycopg adapts a list of a million
    Python ints in 0.71 s, this text takes 0.24 s (numpy's astype(str) 0.92 s)."""
    return "{" + ",".join(map(str, np.asarray(ids, dtype=np.int64).tolist())) + "}"


def copy_messages(conn, statement: str, params: tuple):
    """The data messages of a COPY ... TO STDOUT, as libpq hands them over (one row each), as bytes.

    psycopg's iterator costs about 10 us a row in Python (12 s of 23 s for
    1.1M rows of a vector), so the rows are taken straight from libpq through
    psycopg.pq, its documented wrapper (the parameters are bound client-side
    by psycopg first).
    """
    import psycopg
    from psycopg import pq

    query = psycopg.ClientCursor(conn).mogrify(statement, params)
    pgconn = conn.pgconn
    result = pgconn.exec_(query.encode())
    if result.status != pq.ExecStatus.COPY_OUT:
        raise psycopg.OperationalError(f"{statement!r}: {pgconn.error_message.decode(errors='replace')}")
    while True:
        size, data = pgconn.get_copy_data(0)
        if size < 0:
            break
        yield data
    while (result := pgconn.get_result()) is not None:
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise psycopg.OperationalError(f"{statement!r}: {result.error_message.decode(errors='replace')}")


def copy_out(conn, statement: str, params: tuple) -> bytes:
    """The whole output of a COPY ... TO STDOUT as bytes."""
    return b"".join(copy_messages(conn, statement, params))


def copy_records(conn, statement: str, params: tuple, layout: np.dtype) -> np.ndarray:
    """A binary COPY ... TO STDOUT whose rows all have one fixed size, parsed by numpy as records."""
    buffer = copy_out(conn, statement, params)
    return np.frombuffer(memoryview(buffer)[_COPY_HEADER:len(buffer) - 2], dtype=layout)


def bytea_values(conn, statement: str, params: tuple):
    """The values of a binary COPY ... TO STDOUT of one bytea column, one memoryview a row (NULL rows left out),
    parsed as the rows arrive: a caller that handles each value needs no copy of the whole output."""
    pending, header, ended = b"", True, False
    for message in copy_messages(conn, statement, params):  # read to the end, so that the COPY completes
        if ended:
            continue
        buffer = memoryview(pending + message if pending else message)
        at = _COPY_HEADER if header else 0
        header = False
        while at + 2 <= len(buffer):
            fields = int.from_bytes(buffer[at:at + 2], "big", signed=True)
            if fields == -1:
                ended = True
                break
            if fields != 1:
                raise ValueError(f"{statement!r}: rows of {fields} columns, one expected")
            if at + 6 > len(buffer):
                break
            size = int.from_bytes(buffer[at + 2:at + 6], "big", signed=True)
            if at + 6 + max(size, 0) > len(buffer):
                break  # the row goes on in the next message
            if size > 0:
                yield buffer[at + 6:at + 6 + size]
            at += 6 + max(size, 0)
        pending = bytes(buffer[at:])


def copy_bytea_rows(conn, statement: str, params: tuple) -> bytes:
    """The values of a binary COPY ... TO STDOUT of one bytea column, joined (NULL rows left out)."""
    return b"".join(bytea_values(conn, statement, params))


def copy_packed(conn, record: str, source: str, params: tuple, layout: np.dtype) -> np.ndarray:
    """The rows of `select <record> <source>`, ordered by image id, as numpy records.

    `record` is a bytea expression of fixed size led by the image id
    (`int8send(image_id) || int4send(n) ...`), `source` the from/where
    clause, with an `image_id` column. PostgreSQL packs a range of 4,096 ids
    into one COPY row: one COPY row an image costs about 2.5 us in Python, 2-3
    s for each 1.1M-row read of an update.
    """
    data = copy_bytea_rows(conn, f"copy (select string_agg({record}, ''::bytea) {source} group by image_id >> 12) "
                                 "to stdout (format binary)", params)
    rows = np.frombuffer(data, dtype=layout)
    return rows[np.argsort(rows["image"], kind="stable")]


def _vector_records(dim: int) -> np.dtype:
    """int8send(image_id) || vector_send(vec): fixed size, so numpy reads a block of them at once."""
    return np.dtype([("image_id", ">i8"), ("dim", ">u2"), ("unused", ">u2"), ("vec", ">f4", (dim,))])


BLOCK = 4096  # vectors per COPY row: 8 MB at 512 dims


def load_vectors(url: str, model_id: int, image_ids: np.ndarray, parts: int | None = None) -> np.ndarray:
    """float32 matrix of the vectors, rows in the order of image_ids.

    Each COPY row is a block of up to BLOCK vectors, packed by PostgreSQL
    (string_agg of pgvector's binary form), so neither side pays per vector
    and numpy parses a block at once. The blocks are read in `parts`
    (default: one per core, at least 2) over as many connections at once.
    At 320k x 512 on 2 cores: 2.4 s, against 5.0 s for one COPY row a vector.
    """
    import os
    from concurrent.futures import ThreadPoolExecutor

    image_ids = np.asarray(image_ids, dtype=np.int64)
    with db.connect(url) as conn:
        dim = conn.execute("select dimension from atlas.embedding_model where model_id = %s", (model_id,)).fetchone()
    if dim is None or len(image_ids) == 0:
        return np.zeros((len(image_ids), dim[0] if dim else 0), dtype=np.float32)
    dim = dim[0]
    out = np.zeros((len(image_ids), dim), dtype=np.float32)
    order = np.argsort(image_ids, kind="stable")
    wanted = image_ids[order]
    starts = wanted[::BLOCK]
    ends = np.append(starts[1:], wanted[-1] + 1)
    n_parts = max(1, min(parts or max(2, 2 * (os.cpu_count() or 1)), len(starts)))

    def read(blocks: np.ndarray) -> None:
        with db.connect(url) as conn:
            for block in bytea_values(
                    conn, "copy (select (select string_agg(int8send(e.image_id) || vector_send(coalesce(e.vec, "
                          "e.vec_half::vector)), ''::bytea) from atlas.embedding as e where e.model_id = %s "
                          "and e.image_id >= b.low and e.image_id < b.high) from unnest(%s::bigint[], %s::bigint[]) "
                          "as b (low, high)) to stdout (format binary)",
                    (model_id, starts[blocks].tolist(), ends[blocks].tolist())):
                _place(block)

    def _place(block) -> None:
        """One block of vectors into their rows of `out` (a slice when the rows are consecutive: no gather)."""
        if len(block) % _vector_records(dim).itemsize:
            raise ValueError(f"model {model_id}: vectors of another dimension than {dim} in atlas.embedding")
        rows = np.frombuffer(block, dtype=_vector_records(dim))
        if not np.all(rows["dim"] == dim):
            raise ValueError(f"model {model_id}: vectors of another dimension than {dim} in atlas.embedding")
        pos, hit = positions_in(wanted, rows["image_id"])
        rows_at = order[pos[hit]]
        if hit.all() and len(rows_at) and rows_at[-1] - rows_at[0] == len(rows_at) - 1 and (np.diff(rows_at) == 1).all():
            out[rows_at[0]:rows_at[-1] + 1] = rows["vec"]
        else:
            out[rows_at] = rows["vec"][hit]

    with ThreadPoolExecutor(n_parts) as pool:
        list(pool.map(read, np.array_split(np.arange(len(starts)), n_parts)))
    return out
