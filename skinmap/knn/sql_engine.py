"""The SQL engine: pgvector in PostgreSQL, LATERAL kNN joins run in parallel batches.

A reference set is an unlogged scratch table of the model's vectors, typed
vector(dim). Small sets are searched by an exact sequential scan (ties broken
by image id); from `exact_below` members on, the table gets an HNSW cosine
index and searches run with hnsw.ef_search >= k and iterative scans, so a
query always gets k results. Images are added in release order, so the
index of "earlier years" grows with the years instead of being rebuilt.
The whole model is searched through its own index
(atlas.ensure_embedding_index_v3), which is built denser from 250,000
images; searches on such a graph run with ef_search max(160, 2k).
"""
from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from skinmap import db
from skinmap.knn.reference import sorted_rows

# Members under which a sequential scan is both exact and fast enough. Measured at 512 dims on 2 cores:
# an HNSW query at k=101 costs about 1 ms, a scan about 0.3 us per member, so scans win below a few thousand.
EXACT_BELOW = 2_000


def hnsw_build_memory(n: int, dim: int) -> str:
    """maintenance_work_mem for an HNSW build of n vectors: room for the whole graph (pgvector builds far slower
    once it spills), between 1 GB and a third of this machine's memory. About 3.5 KB an image at 512 d, m 32."""
    wanted = int(n * (4 * dim + 1536) * 1.25)
    try:
        ceiling = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 3
    except (ValueError, OSError, AttributeError):
        ceiling = 4 << 30
    return f"{max(1 << 20, min(wanted >> 10, ceiling >> 10))}kB"


def search_breadth(k: int, graph_m: int, ef_search: int | None = None) -> int:
    """hnsw.ef_search for k results: the caller's choice, else max(40, k) on a default graph and max(160, 2k) on
    a dense one (m >= 32: an atlas large enough that clusters hold far more than k images). Measured at 1.1M x 512,
    1,000 clusters (300 queries): k 11: ef 40 0.922, 80 0.976, 160 0.996; k 101: ef 101 0.985, 202 0.999; the
    time per query barely changed. On a default graph max(40, k) gave recall@101 0.99 at 30k x 512 (2k: 0.997,
    1.8x slower). pgvector caps ef_search at 1,000; iterative scans still return k rows beyond that."""
    wanted = ef_search or (max(160, 2 * k) if graph_m >= 32 else max(40, k))
    return min(1000, max(int(wanted), k))


def ensure_index(conn, model_id: int, workers: int | None = None) -> str | None:
    """atlas.ensure_embedding_index_v3 with the build's memory sized to the model (hnsw_build_memory) and
    parallel build workers, both for this call's transaction only: with the server's default 64 MB a 1.1M graph
    spills to disk and builds far slower. Returns the index name (None: the model is searched exactly)."""
    n, dim = conn.execute(
        "select (select count(*) from atlas.embedding where model_id = %s), dimension "
        "from atlas.embedding_model where model_id = %s", (model_id, model_id)).fetchone()
    with conn.transaction():
        conn.execute("select set_config('maintenance_work_mem', %s, true)", (hnsw_build_memory(n, dim),))
        conn.execute("select set_config('max_parallel_maintenance_workers', %s, true)",
                     (str(max(0, (workers or os.cpu_count() or 1) - 1)),))
        return conn.execute("select atlas.ensure_embedding_index_v3(%s)", (model_id,)).fetchone()[0]


def graph_m(conn, index: str | None) -> int:
    """The m an HNSW index in schema atlas was built with (16, pgvector's default, when not given)."""
    row = conn.execute(
        "select (select split_part(o, '=', 2)::integer from unnest(c.reloptions) as o where o like 'm=%%') "
        "from pg_class as c join pg_namespace as n on n.oid = c.relnamespace "
        "where n.nspname = 'atlas' and c.relname = %s", (index,),
    ).fetchone()
    return (row[0] if row else None) or 16


class SqlEngine:
    name = "sql"

    def __init__(self, url: str, *, workers: int | None = None, batch_size: int = 256,
                 exact_below: int = EXACT_BELOW, ef_search: int | None = None):
        self.url = url
        self.workers = workers or max(1, os.cpu_count() or 1)
        self.batch_size, self.exact_below, self.ef_search = batch_size, exact_below, ef_search

    def reference(self, model_id: int) -> SqlReference:
        return SqlReference(self, model_id)

    def whole_model(self, model_id: int, image_ids: np.ndarray) -> SqlReference:
        """Every image of the model, searched in atlas.embedding through its own partial HNSW index."""
        return SqlReference(self, model_id, whole_model_size=len(image_ids))

    def cutoff_distances(self, model_id: int, image_ids: np.ndarray, years: np.ndarray, cutoffs: list[int], k: int):
        """Novelty lists of every cutoff from one wide search per image (skinmap.knn.sql_cutoffs)."""
        from skinmap.knn.sql_cutoffs import sql_cutoff_distances

        return sql_cutoff_distances(self, model_id, image_ids, years, cutoffs, k)


class SqlReference:
    def __init__(self, engine: SqlEngine, model_id: int, *, whole_model_size: int | None = None):
        self.engine, self.model_id = engine, int(model_id)
        self.is_whole_model = whole_model_size is not None
        self.n_members = whole_model_size or 0
        self.has_index = False
        self.graph_m = 16  # the HNSW graph's m (pgvector's default) once there is an index
        self.index_seconds = 0.0
        with db.connect(engine.url) as conn:
            self.dim, storage = conn.execute(
                "select dimension, storage from atlas.embedding_model where model_id = %s", (model_id,)
            ).fetchone()
            # the vector of a query row, in the type the searched column has
            self.query_vec = f"coalesce(q.vec, q.vec_half::vector)::vector({self.dim})"
            if self.is_whole_model:
                # the partial index matches only with the model id as a literal and the same cast
                self.table = "atlas.embedding"
                self.vec = f"r.vec::vector({self.dim})"
                if storage == "halfvec":
                    self.vec, self.query_vec = f"r.vec_half::halfvec({self.dim})", f"q.vec_half::halfvec({self.dim})"
                self.where = f"where r.model_id = {self.model_id}"
            else:
                self.table = f"atlas.knn_scratch_{uuid.uuid4().hex[:12]}"
                self.vec, self.where = "r.vec", ""
                conn.execute(
                    f"create unlogged table {self.table} "
                    f"(image_id bigint primary key, vec vector({self.dim}) not null)"
                )
            conn.commit()

    def add(self, image_ids: np.ndarray) -> None:
        if self.is_whole_model:
            raise ValueError("a whole-model reference already holds every image")
        if len(image_ids) == 0:
            return
        with db.connect(self.engine.url) as conn:
            conn.execute(
                f"insert into {self.table} (image_id, vec) "
                f"select image_id, coalesce(vec, vec_half::vector)::vector({self.dim}) "
                "from atlas.embedding where model_id = %s and image_id = any(%s)",
                (self.model_id, [int(i) for i in image_ids]),
            )
            conn.commit()
        self.n_members += len(image_ids)

    def _ensure_index(self) -> None:
        if self.has_index or self.n_members < self.engine.exact_below:
            return
        import time

        started = time.monotonic()
        with db.connect(self.engine.url, autocommit=True) as conn:
            if self.is_whole_model:
                self.graph_m = graph_m(conn, ensure_index(conn, self.model_id, self.engine.workers))
            else:
                conn.execute(f"set maintenance_work_mem = '{hnsw_build_memory(self.n_members, self.dim)}'")
                conn.execute(f"set max_parallel_maintenance_workers = {max(0, self.engine.workers - 1)}")
                conn.execute(f"create index on {self.table} using hnsw (vec vector_cosine_ops)")
            conn.execute(f"analyze {self.table}")
        self.has_index = True
        self.index_seconds += time.monotonic() - started

    def _batch(self, query_ids: list[int], k: int) -> list[tuple[int, int, float]]:
        order = "nn_distance" if self.has_index else "nn_distance, r.image_id"
        sql = (
            "select q.image_id, nn.image_id, nn.nn_distance "
            "from atlas.embedding as q "
            "cross join lateral ("
            f"  select r.image_id, {self.vec} <=> {self.query_vec} as nn_distance "
            f"  from {self.table} as r {self.where} "
            f"  order by {order} limit {int(k)}"
            ") as nn where q.model_id = %s and q.image_id = any(%s)"
        )
        with db.connect(self.engine.url) as conn:
            if self.has_index:
                conn.execute(f"set hnsw.ef_search = {search_breadth(k, self.graph_m, self.engine.ef_search)}")
                conn.execute("set hnsw.iterative_scan = relaxed_order")
            else:
                conn.execute("set enable_indexscan = off")
            return conn.execute(sql, (self.model_id, query_ids)).fetchall()

    def search(self, query_ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        n = len(query_ids)
        out_ids = np.full((n, k), -1, dtype=np.int64)
        out_d = np.full((n, k), np.nan, dtype=np.float64)
        if n == 0 or self.n_members == 0 or k == 0:
            return out_ids, out_d
        self._ensure_index()
        row_of = {int(i): r for r, i in enumerate(query_ids)}
        filled = np.zeros(n, dtype=np.int64)
        batches = [[int(i) for i in query_ids[s:s + self.engine.batch_size]]
                   for s in range(0, n, self.engine.batch_size)]
        with ThreadPoolExecutor(self.engine.workers) as pool:
            for rows in pool.map(lambda b: self._batch(b, k), batches):
                for q, neighbour, dist in rows:
                    r = row_of[q]
                    if filled[r] < k:
                        out_ids[r, filled[r]], out_d[r, filled[r]] = neighbour, dist
                        filled[r] += 1
        return sorted_rows(out_ids, out_d)

    def close(self) -> None:
        if self.is_whole_model:
            return
        with db.connect(self.engine.url) as conn:
            conn.execute(f"drop table if exists {self.table}")
            conn.commit()
