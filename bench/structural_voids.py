"""Benchmark: `skinmap voids` at 100k and 1.1M clustered vectors on the CPUs at hand (landmarks, not all points).

Two measurements:

* in the atlas (`--n 100000`): N clustered 512-d unit vectors are planted in
  a real PostgreSQL (embedded server in SKINMAP_HOME, or --database-url) and
  `run_voids` is timed end to end, split into reading (the model's ids, the
  landmarks' vectors and stored edges), the voids (graph, resistance, ripser
  H1 with cycles), the null (the Gaussian draws) and writing;
* the landmark part in numpy (`--numpy-only --n 1100000`): the N vectors are
  generated in memory (in chunks), landmarks drawn and gathered, and
  `detect_voids` timed on them. Past the read, the method costs the same at
  any N: it touches only the landmarks.

    .venv/bin/python bench/structural_voids.py --n 100000 --landmarks 1000,2000
    .venv/bin/python bench/structural_voids.py --numpy-only --n 1100000 --landmarks 1000,2000
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

DIM, CLUSTERS, SPREAD = 512, 200, 0.6  # the clustered vectors of bench/knn_field_scale.py's defaults


def clustered_in_chunks(n: int, seed: int = 0, chunk: int = 100_000) -> np.ndarray:
    """n unit vectors around CLUSTERS centres, float32, without a float64 copy of the whole matrix."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CLUSTERS, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        x = centres[rng.integers(0, CLUSTERS, size)] + SPREAD * rng.standard_normal(
            (size, DIM), dtype=np.float32) / np.sqrt(DIM)
        out[start:start + size] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def _report(label: str, result, total: float) -> None:
    parts = ", ".join(f"{k} {v:.1f} s" for k, v in result.seconds.items())
    significant = result.significant()
    print(f"  {label}: {total:.1f} s ({parts}); {len(result.voids)} H1 features, {len(significant)} significant, "
          f"top persistence {result.voids[0].persistence if result.voids else 0:.3g}, "
          f"null max {result.null_max.max():.3g}", flush=True)


def numpy_only(n: int, landmark_counts: list[int], n_null: int, seed: int) -> None:
    from skinmap.voids.detect import detect_voids
    from skinmap.voids.landmarks import draw_landmarks

    started = time.perf_counter()
    x = clustered_in_chunks(n)
    print(f"  generated {n} x {DIM} vectors in {time.perf_counter() - started:.1f} s", flush=True)
    for m in landmark_counts:
        started = time.perf_counter()
        landmarks = x[draw_landmarks(n, m, seed)]
        gathered = time.perf_counter() - started
        result = detect_voids(landmarks, n_null=n_null, seed=seed)
        result.seconds = {"draw+gather": gathered, **result.seconds}
        _report(f"{m} landmarks of {n}", result, time.perf_counter() - started)


def in_atlas(n: int, landmark_counts: list[int], n_null: int, seed: int, url: str | None) -> None:
    from skinmap import db, embedded, migrate
    from skinmap.knn import planted
    from skinmap.voids.run import run_voids

    url = url or db.create_database(embedded.admin_url(), "skinmap_bench_voids", drop_first=True)
    migrate.upgrade(url)
    started = time.perf_counter()
    x = clustered_in_chunks(n)
    for j, part in enumerate(np.array_split(x, 10)):
        planted.add_dataset(url, f"d{j}", 2015 + j, part, model_name="bench", seed=j, index=False)
    print(f"  planted {n} images in {time.perf_counter() - started:.1f} s", flush=True)
    for m in landmark_counts:
        run = run_voids(url, "bench", n_landmarks=m, n_null=n_null, seed=seed)
        _report(f"skinmap voids, {m} landmarks of {n} images", run.result, run.seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--landmarks", default="1000,2000", help="comma-separated landmark counts")
    parser.add_argument("--null-draws", type=int, default=19)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--numpy-only", action="store_true", help="vectors in memory, no database")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    counts = [int(v) for v in args.landmarks.split(",")]
    print(f"bench: {args.n} clustered vectors, {DIM} dims, {CLUSTERS} clusters, cores {os.cpu_count()}, "
          f"{args.null_draws} null draws", flush=True)
    if args.numpy_only:
        numpy_only(args.n, counts, args.null_draws, args.seed)
    else:
        in_atlas(args.n, counts, args.null_draws, args.seed, args.database_url)


if __name__ == "__main__":
    main()
