"""Benchmark: the SQL engine's novelty at every cutoff, one wide search per image against one search per cutoff.

Same clustered vectors as bench/knn_field_scale.py (10 datasets over 10
release years). Runs the full novelty step of the SQL engine twice on the
same database: the per-cutoff path (a reference that grows year by year,
every image searched at every cutoff from its own year on) as the baseline,
then the wide-search path (skinmap.knn.sql_cutoffs). Prints both times,
their ratio, and each path's novelty against the exact engine's.

    .venv/bin/python bench/sql_novelty_wide_search.py --n 100000
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from skinmap import db, migrate
from skinmap.knn import planted
from skinmap.knn.exact_engine import ExactEngine
from skinmap.knn.novelty import build_novelty
from skinmap.knn.sql_engine import SqlEngine
from skinmap.knn.vectors import model_images


class PerCutoffSql:
    """The SQL engine without cutoff_distances: build_novelty then searches once per cutoff (the old path)."""

    def __init__(self, engine: SqlEngine):
        self.engine, self.name = engine, engine.name

    def reference(self, model_id: int):
        return self.engine.reference(model_id)

    def whole_model(self, model_id: int, image_ids: np.ndarray):
        return self.engine.whole_model(model_id, image_ids)


def _novelty(url: str) -> dict[tuple[int, int], float]:
    with db.connect(url) as conn:
        return {(c, i): n for c, i, n in conn.execute(
            "select cutoff_year, image_id, novelty from atlas.knn_novelty where novelty is not null")}


def _against(got: dict, want: dict) -> str:
    error = np.array([got[key] / want[key] - 1 for key in want if key in got])
    return (f"{len(got)} rows (exact {len(want)}), novelty error mean {error.mean():+.4%}, "
            f"max {error.max():+.4%}, rows equal to 1e-6 {np.mean(np.abs(error) < 1e-6):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=0.8)
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from skinmap import embedded

    url = args.database_url or db.create_database(embedded.admin_url(), "skinmap_bench_sql_novelty", drop_first=True)
    migrate.upgrade(url)
    print(f"bench: {args.n} vectors, {args.dim} dims, {args.clusters} clusters, k {args.k}, cores {os.cpu_count()}",
          flush=True)
    x = planted.clustered_vectors(args.n, args.dim, args.clusters, args.spread, np.random.default_rng(0))
    started = time.monotonic()
    for j, part in enumerate(np.array_split(x, 10)):
        planted.add_dataset(url, f"d{j:02d}", 2010 + j, part, seed=j, index=False)
    print(f"  load: {time.monotonic() - started:.1f} s", flush=True)
    with db.connect(url) as conn:
        model_id = conn.execute("select model_id from atlas.embedding_model where model_name = 'planted'").fetchone()[0]
    images = model_images(url, model_id)
    sql = SqlEngine(url)
    started = time.monotonic()
    sql.whole_model(model_id, images.image_ids)._ensure_index()
    print(f"  HNSW build (atlas.embedding): {time.monotonic() - started:.1f} s", flush=True)

    seconds, novelty = {}, {}
    for label, engine in (("per cutoff", PerCutoffSql(sql)), ("wide search", sql), ("exact", ExactEngine(url))):
        started = time.monotonic()
        counts = build_novelty(url, engine, images, args.k, full=True)
        seconds[label] = time.monotonic() - started
        novelty[label] = _novelty(url)
        print(f"  novelty, {label}: {seconds[label]:.1f} s ({counts['novelty_rows']} rows)", flush=True)
    for label in ("per cutoff", "wide search"):
        print(f"  {label} vs exact: {_against(novelty[label], novelty['exact'])}", flush=True)
    print(f"  wide search / per cutoff time: {seconds['wide search'] / seconds['per cutoff']:.2f} "
          f"({seconds['per cutoff'] / seconds['wide search']:.1f}x faster)", flush=True)


if __name__ == "__main__":
    main()
