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
    with db.connect(url) as conn:
        dim = conn.execute("select dimension from atlas.embedding_model where model_id = %s", (model_id,)).fetchone()[0]
        rows = conn.execute(
            "select e.image_id, i.release_year, i.dataset_id from atlas.embedding e "
            "join atlas.image i using (image_id) where e.model_id = %s and i.status = 'ok' order by e.image_id",
            (model_id,),
        ).fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    years = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=np.float64)
    datasets = np.array([r[2] for r in rows], dtype=np.int64)
    return ModelImages(model_id, dim, ids, years, datasets)


_COPY_HEADER = 19  # PGCOPY signature (11 bytes), flags (4), header extension length (4)


def copy_out(conn, statement: str, params: tuple) -> bytes:
    """The whole output of a COPY ... TO STDOUT as bytes.

    libpq hands COPY data over one row at a time; psycopg's iterator costs
    about 10 us a row in Python (12 s of 23 s for 1.1M vectors), so the rows
    are taken straight from libpq through psycopg.pq, its documented wrapper
    (the parameters are bound client-side by psycopg first).
    """
    import psycopg
    from psycopg import pq

    query = psycopg.ClientCursor(conn).mogrify(statement, params)
    pgconn = conn.pgconn
    result = pgconn.exec_(query.encode())
    if result.status != pq.ExecStatus.COPY_OUT:
        raise psycopg.OperationalError(f"{statement!r}: {pgconn.error_message.decode(errors='replace')}")
    chunks = []
    while True:
        size, data = pgconn.get_copy_data(0)
        if size < 0:
            break
        chunks.append(data)
    while (result := pgconn.get_result()) is not None:
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise psycopg.OperationalError(f"{statement!r}: {result.error_message.decode(errors='replace')}")
    return b"".join(chunks)


def copy_records(conn, statement: str, params: tuple, layout: np.dtype) -> np.ndarray:
    """A binary COPY ... TO STDOUT whose rows all have one fixed size, parsed by numpy as records."""
    buffer = copy_out(conn, statement, params)
    return np.frombuffer(memoryview(buffer)[_COPY_HEADER:len(buffer) - 2], dtype=layout)


def _copy_rows(dim: int) -> np.dtype:
    """One binary COPY row of (image_id bigint, vec vector(dim)): fixed size, so numpy reads them all at once."""
    return np.dtype([("fields", ">i2"), ("id_len", ">i4"), ("image_id", ">i8"), ("vec_len", ">i4"),
                     ("dim", ">u2"), ("unused", ">u2"), ("vec", ">f4", (dim,))])


def load_vectors(url: str, model_id: int, image_ids: np.ndarray, parts: int | None = None) -> np.ndarray:
    """float32 matrix of the vectors, rows in the order of image_ids.

    Binary COPY, parsed by numpy in one go (no Python object per row): 1.1M
    vectors come out of PostgreSQL at disk speed instead of minutes. The id
    range is read in `parts` (default: one per core, at least 2) over as many
    connections at once: at 1.1M x 512 on 2 cores 4 parts took 15.1 s, one 24.5 s.
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
    n_parts = max(1, min(parts or max(2, 2 * (os.cpu_count() or 1)), len(wanted)))
    edges = [int(wanted[int(i)]) for i in np.linspace(0, len(wanted), n_parts, endpoint=False)] + [int(wanted[-1]) + 1]

    def read(low: int, high: int) -> None:
        with db.connect(url) as conn:
            rows = copy_records(conn, "copy (select image_id, coalesce(vec, vec_half::vector) from atlas.embedding "
                                      "where model_id = %s and image_id >= %s and image_id < %s) to stdout (format binary)",
                                (model_id, low, high), _copy_rows(dim))
        if len(rows) and not (np.all(rows["vec_len"] == 4 + 4 * dim) and np.all(rows["fields"] == 2)):
            raise ValueError(f"model {model_id}: vectors of another dimension than {dim} in atlas.embedding")
        pos = np.minimum(np.searchsorted(wanted, rows["image_id"]), len(wanted) - 1)
        hit = wanted[pos] == rows["image_id"]
        out[order[pos[hit]]] = rows["vec"][hit]

    with ThreadPoolExecutor(len(edges) - 1) as pool:
        list(pool.map(lambda pair: read(*pair), zip(edges[:-1], edges[1:])))
    return out
