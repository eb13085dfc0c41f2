"""Benchmark: float32 `vector` vs float16 `halfvec` storage for embedding vectors.

Clustered synthetic unit vectors (n_clusters centres, within-cluster spread,
as bench/knn_field_scale.py) are stored both ways in the embedded PostgreSQL,
each with the HNSW cosine index SkinMap builds (pgvector defaults m=16,
ef_construction=64). For each dimension it prints: table + index size
(pg_total_relation_size), HNSW build time, mean query latency (k=10,
hnsw.ef_search=40) and recall@10 against the exact float32 neighbours
(numpy), for an exact scan and for the index.

    .venv/bin/python bench/halfvec_tradeoff.py                      # 20,000 x 512 and x 1280
    .venv/bin/python bench/halfvec_tradeoff.py --n 100000 --dims 768
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from pgvector import HalfVector

from skinmap import db
from skinmap.knn.planted import clustered_vectors

K = 10


def _load(conn, table: str, kind: str, dim: int, x: np.ndarray) -> None:
    conn.execute(f"drop table if exists {table}")
    conn.execute(f"create table {table} (id integer primary key, vec {kind}({dim}) not null)")
    with conn.cursor().copy(f"copy {table} (id, vec) from stdin with (format binary)") as copy:
        copy.set_types(["int4", kind])
        for i, v in enumerate(x):
            copy.write_row((i, HalfVector(v) if kind == "halfvec" else v))
    conn.execute(f"vacuum analyze {table}")


def _search(conn, table: str, kind: str, dim: int, queries: np.ndarray, *, use_index: bool):
    conn.execute(f"set enable_indexscan = {'on' if use_index else 'off'}")
    conn.execute("set hnsw.ef_search = 40")
    found, started = [], time.monotonic()
    for q in queries:
        rows = conn.execute(
            f"select id from {table} order by vec <=> %s::{kind}({dim}) limit {K}",
            (HalfVector(q) if kind == "halfvec" else q,),
        ).fetchall()
        found.append([r[0] for r in rows])
    return found, (time.monotonic() - started) / len(queries) * 1000


def _recall(found: list[list[int]], truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth)]))


def run_dim(url: str, n: int, dim: int, n_queries: int, clusters: int, spread: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = clustered_vectors(n + n_queries, dim, clusters, spread, rng)
    data, queries = x[:n], x[n:]
    truth = np.argsort(-(queries @ data.T), axis=1)[:, :K]  # exact float32 cosine neighbours
    print(f"\n{n:,} x {dim} ({clusters} clusters, spread {spread}); {n_queries} queries, k={K}", flush=True)
    print(f"{'storage':8} {'MiB':>7} {'build s':>8} {'exact ms':>9} {'exact R@10':>11} "
          f"{'hnsw ms':>8} {'hnsw R@10':>10}")
    with db.connect(url, autocommit=True) as conn:
        conn.execute("set maintenance_work_mem = '1GB'")
        conn.execute("set max_parallel_maintenance_workers = 1")
        for kind in ("vector", "halfvec"):
            table = f"bench_{kind}_{dim}"
            _load(conn, table, kind, dim, data)
            exact, exact_ms = _search(conn, table, kind, dim, queries, use_index=False)
            started = time.monotonic()
            conn.execute(f"create index on {table} using hnsw (vec {kind}_cosine_ops)")
            build_s = time.monotonic() - started
            conn.execute(f"analyze {table}")
            approx, hnsw_ms = _search(conn, table, kind, dim, queries, use_index=True)
            mib = conn.execute("select pg_total_relation_size(%s)", (table,)).fetchone()[0] / 2**20
            print(f"{kind:8} {mib:7.1f} {build_s:8.1f} {exact_ms:9.1f} {_recall(exact, truth):11.4f} "
                  f"{hnsw_ms:8.2f} {_recall(approx, truth):10.4f}", flush=True)
            conn.execute(f"drop table {table}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--dims", default="512,1280")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--clusters", type=int, default=500)
    parser.add_argument("--spread", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    from skinmap import embedded

    url = args.database_url or db.create_database(embedded.admin_url(), "skinmap_bench_halfvec", drop_first=True)
    with db.connect(url, autocommit=True) as conn:
        conn.execute("create extension if not exists vector")
    for dim in (int(d) for d in args.dims.split(",")):
        run_dim(url, args.n, dim, args.queries, args.clusters, args.spread, args.seed)


if __name__ == "__main__":
    main()
