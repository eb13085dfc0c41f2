"""Benchmark: kNN engines, KPI build and near-duplicate detection at field scale, with peers.

Synthetic clustered vectors (n_clusters centres, within-cluster spread, 512
dimensions) in 10 datasets over 10 release years, with planted near
duplicates (perturbed copies, same pixel signature). One run reports: load
time; HNSW build time; kNN edges (k) and novelty (novelty_k) time and recall
vs exact for both engines; full `dbt build`; incremental time after a 10k
dataset as a share of a full rebuild; and the near-duplicate step of FAISS
(exact flat index) and cleanlab's Datalab on the same vectors.

cleanlab's Datalab needs `datasets` (cleanlab[datalab]), which conflicts with the
main lock, so it runs in its own interpreter (default .venv-bench/bin/python):

    python3.11 -m venv .venv-bench && .venv-bench/bin/pip install "cleanlab[datalab]" numpy
    .venv/bin/python bench/knn_field_scale.py --n 100000 --only-duplicates
    .venv/bin/python bench/knn_field_scale.py --n 100000
    .venv/bin/python bench/knn_field_scale.py --n 1100000      # the field; hours on 2 cores
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from skinmap import db, migrate
from skinmap.dbt_runner import build
from skinmap.knn import planted
from skinmap.knn.edges import build_edges
from skinmap.knn.run import compute_neighbours, make_engine
from skinmap.knn.sql_engine import ensure_index, graph_m
from skinmap.knn.vectors import model_images

TAU = 0.10  # dbt default near_duplicate_max_distance
BENCH_PYTHON = Path(__file__).resolve().parent.parent / ".venv-bench" / "bin" / "python"


def _timed(label: str, fn, times: dict):
    started = time.monotonic()
    out = fn()
    times[label] = time.monotonic() - started
    print(f"  {label}: {times[label]:.1f} s", flush=True)
    return out


def _plan(n: int, n_datasets: int, dup_share: float, dim: int, clusters: int, spread: float, seed: int):
    rng = np.random.default_rng(seed)
    x = planted.clustered_vectors(n, dim, clusters, spread, rng)
    sizes = np.full(n_datasets, n // n_datasets)
    sizes[-1] += n - sizes.sum()
    plans, start = [], 0
    for j, size in enumerate(sizes):
        part = x[start:start + size].copy()
        n_copies = int(size * dup_share)
        copies = {}
        for c in range(n_copies):
            row, source = size - 1 - c, c  # last rows copy the first ones
            v = part[source] + 0.02 * rng.standard_normal(dim).astype(np.float32) / np.sqrt(dim)
            part[row] = v / np.linalg.norm(v)
            copies[row] = source
        plans.append((f"d{j:02d}", 2010 + j, part, copies))
        start += size
    return plans


def _planted_pairs(image_ids: np.ndarray, copies: dict[int, int]) -> set[tuple[int, int]]:
    """The planted (source, copy) pairs as image ids; known from the plan (a SQL self-join on
    1024-d signatures is a nested loop: minutes at 20k, hours at 100k)."""
    return {(int(min(image_ids[s], image_ids[r])), int(max(image_ids[s], image_ids[r]))) for r, s in copies.items()}


def _recall(url: str, engine_a, engine_b, model_id: int, ids: np.ndarray, k: int, n_sample: int = 1000) -> float:
    sample = np.sort(np.random.default_rng(0).choice(ids, min(n_sample, len(ids)), replace=False))
    got = engine_a.whole_model(model_id, ids).search(sample, k + 1)[0]
    want = engine_b.whole_model(model_id, ids).search(sample, k + 1)[0]
    return float(np.mean([len(set(g) & set(w)) / len(w) for g, w in zip(got, want)]))


def _skinmap_pairs(url: str) -> set[tuple[int, int]]:
    with db.connect(url) as conn:
        return {(a, b) for a, b in conn.execute("select image_id_a, image_id_b from kpi.kpi_near_duplicate_pairs_v1")}


def _pr(found: set, truth: set) -> str:
    hit = len(found & truth)
    return f"{len(found)} pairs, recall {hit / max(1, len(truth)):.3f}, precision {hit / max(1, len(found)):.3f}"


def _faiss_pairs(x: np.ndarray, ids: np.ndarray, k: int) -> set[tuple[int, int]]:
    import faiss

    faiss.omp_set_num_threads(os.cpu_count() or 1)
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    sims, nn = index.search(x, k + 1)
    pairs = set()
    for i, (row_s, row_n) in enumerate(zip(sims, nn)):
        for s, j in zip(row_s, row_n):
            if j != i and j >= 0 and 1 - s <= TAU:
                pairs.add((int(min(ids[i], ids[j])), int(max(ids[i], ids[j]))))
    return pairs


# Runs in the cleanlab interpreter: reads features.npy, writes result.json (row-index pairs and the
# seconds of find_issues + get_issues, so interpreter start and imports are not counted).
_CLEANLAB_SCRIPT = """
import json, sys, time
import numpy as np
from cleanlab import Datalab

x = np.load(sys.argv[1])
started = time.monotonic()
lab = Datalab(data={"label": np.zeros(len(x), dtype=int)}, label_name="label", verbosity=0)
lab.find_issues(features=x, issue_types={"near_duplicate": {}})
sets = lab.get_issues("near_duplicate")["near_duplicate_sets"]
seconds = time.monotonic() - started
pairs = sorted({(min(i, int(j)), max(i, int(j))) for i, members in enumerate(sets) for j in members})
json.dump({"seconds": seconds, "pairs": pairs}, open(sys.argv[2], "w"))
"""


def _cleanlab_pairs(x: np.ndarray, ids: np.ndarray, python: str, timeout: float) -> tuple[set, float, float]:
    """cleanlab Datalab's near-duplicate pairs (as image ids), its own seconds and the subprocess wall time;
    run in a separate interpreter because cleanlab[datalab] cannot live in the main environment."""
    with tempfile.TemporaryDirectory(prefix="bench_cleanlab_") as tmp:
        features, result = Path(tmp) / "features.npy", Path(tmp) / "result.json"
        np.save(features, x)
        started = time.monotonic()
        subprocess.run([python, "-c", _CLEANLAB_SCRIPT, str(features), str(result)], check=True,
                       capture_output=True, text=True, timeout=timeout)
        wall = time.monotonic() - started
        out = json.loads(result.read_text())
    pairs = {(int(min(ids[i], ids[j])), int(max(ids[i], ids[j]))) for i, j in out["pairs"]}
    return pairs, out["seconds"], wall


def _loaded(url: str) -> int:
    with db.connect(url) as conn:
        return conn.execute("select count(*) from atlas.embedding e join atlas.embedding_model m using (model_id) "
                            "where m.model_name = 'planted'").fetchone()[0]


def _names(text: str) -> list[str]:
    return [e.strip() for e in text.split(",") if e.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=10_000, help="size of the dataset added incrementally")
    parser.add_argument("--new-kinds", default="novel,overlap",
                        help="datasets added one after the other: novel (new clusters), overlap (the atlas's clusters)")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=0.8)
    parser.add_argument("--dup-share", type=float, default=0.01)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--novelty-k", type=int, default=100)
    parser.add_argument("--engines", default="sql,exact,ivf",
                        help="engines for the full kNN, recall and incremental steps (sql novelty takes longest)")
    parser.add_argument("--dup-engines", default=None,
                        help="engines for the near-duplicate step (default --engines; 'none': no such step)")
    parser.add_argument("--skip-peers", action="store_true", help="no FAISS / cleanlab (e.g. at 1.1M: hours)")
    parser.add_argument("--skip-cleanlab", action="store_true")
    parser.add_argument("--cleanlab-python", default=str(BENCH_PYTHON) if BENCH_PYTHON.exists() else None,
                        help="interpreter with cleanlab[datalab] (default .venv-bench/bin/python when it exists)")
    parser.add_argument("--cleanlab-timeout", type=float, default=None, help="seconds before cleanlab is stopped")
    parser.add_argument("--only-duplicates", action="store_true", help="stop after the near-duplicate step")
    parser.add_argument("--recall-engines", default=None,
                        help="engines whose recall vs exact is measured (default --engines minus exact); e.g. sql "
                             "at 1.1M, where its full kNN takes hours on 2 cores but its HNSW recall can be shown")
    parser.add_argument("--reuse-database", action="store_true",
                        help="keep the bench database of an earlier run with at least --n images: no load and no "
                             "duplicate step; recall, full kNN and update run on it (the update adds a dataset of "
                             "the year after the newest)")
    parser.add_argument("--skip-dbt", action="store_true",
                        help="no dbt build around the full and incremental kNN (their ratio only)")
    parser.add_argument("--only-recall", action="store_true", help="stop after the recall step (skips duplicates)")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    engines, dup_engines = _names(args.engines), _names(args.dup_engines or args.engines)
    if args.dup_engines == "none":
        dup_engines = []
    recall_engines = [e for e in _names(args.recall_engines or args.engines) if e != "exact"]
    if args.only_recall:
        dup_engines, args.skip_peers = [], True

    from skinmap import embedded

    url = args.database_url or db.create_database(embedded.admin_url(), "skinmap_bench_knn",
                                                  drop_first=not args.reuse_database)
    migrate.upgrade(url)
    times: dict[str, float] = {}
    print(f"bench: {args.n} vectors, {args.dim} dims, {args.clusters} clusters, cores {os.cpu_count()}; "
          f"engines {engines}, duplicate step {dup_engines}, recall {recall_engines}", flush=True)
    truth: set[tuple[int, int]] = set()

    def load():
        for slug, year, part, copies in _plan(args.n, 10, args.dup_share, args.dim, args.clusters, args.spread,
                                              seed=0):
            _, image_ids = planted.add_dataset(url, slug, year, part, seed=int(slug[1:]), copy_rows=copies,
                                               index=False)
            truth.update(_planted_pairs(image_ids, copies))
    loaded = _loaded(url) if args.reuse_database else 0
    if args.reuse_database and loaded >= args.n:
        print(f"  reusing the bench database ({loaded} images): no load, no duplicate step", flush=True)
        dup_engines, args.skip_peers = [], True
    else:
        _timed("load", load, times)
    with db.connect(url) as conn:
        model_id = conn.execute("select model_id from atlas.embedding_model where model_name = 'planted'").fetchone()[0]

    def hnsw():
        with db.connect(url, autocommit=True) as conn:
            print(f"  HNSW graph m {graph_m(conn, ensure_index(conn, model_id))}", flush=True)
            conn.execute("analyze atlas.embedding")
    images = model_images(url, model_id)
    if "sql" in engines + dup_engines + recall_engines:
        _timed("HNSW build (atlas.embedding)", hnsw, times)
    made = {name: make_engine(url, name) for name in {"exact", *engines, *dup_engines, *recall_engines}}

    # near-duplicate step (the 100k target): SkinMap (edges k + pair verification in dbt) per engine, then
    # the peers on the same vectors
    dup_labels = {}
    for name in dup_engines:
        def skinmap_dups(name=name):
            _timed(f"{name} engine: edges k", lambda: build_edges(url, made[name], images, args.k, full=True), times)
            _timed(f"dbt run +kpi_near_duplicate_pairs ({name})", lambda: build(
                url, select="+kpi_near_duplicate_pairs", command="run", quiet=True), times)
        dup_labels[name] = f"near-dup SkinMap ({name} edges + dbt pairs)"
        _timed(dup_labels[name], skinmap_dups, times)
        print(f"  SkinMap near duplicates ({name} engine): {_pr(_skinmap_pairs(url), truth)}", flush=True)
    if not args.skip_peers:
        _peers(args, url, model_id, images, truth, times, dup_labels)
    if args.only_duplicates:
        _print_summary(times)
        return

    for name in recall_engines:
        recall = [_recall(url, made[name], made["exact"], model_id, images.image_ids, k) for k in (args.k, args.novelty_k)]
        print(f"  {name} engine recall vs exact (1,000 queries): @{args.k} {recall[0]:.4f}, "
              f"@{args.novelty_k} {recall[1]:.4f}", flush=True)
    if args.only_recall:
        _print_summary(times)
        return

    # full kNN and incremental update, per engine: full (edges k + novelty novelty_k, all cutoffs), the dbt build
    # on that state, a 10k dataset of a new release year, the incremental update, and the dbt build after it
    for name in engines:
        full = _timed(f"full kNN {name} (edges + novelty)", lambda e=name: compute_neighbours(
            url, engine=e, k=args.k, novelty_k=args.novelty_k, full=True, frechet=False,
            check=0 if e == "exact" else 1000), times)
        print(f"    {full.line()}", flush=True)
        with db.connect(url) as conn:
            sizes = conn.execute(
                "select pg_total_relation_size('atlas.knn_edge'), pg_total_relation_size('atlas.knn_novelty'), "
                "pg_total_relation_size('atlas.knn_novelty_list'), (select count(*) from atlas.knn_edge), "
                "(select count(*) from atlas.knn_novelty), (select count(*) from atlas.knn_novelty_list)").fetchone()
        print(f"  storage: knn_edge {sizes[3]} rows {sizes[0] / 2**20:.1f} MiB; knn_novelty {sizes[4]} rows "
              f"{sizes[1] / 2**20:.1f} MiB; knn_novelty_list {sizes[5]} rows {sizes[2] / 2**20:.1f} MiB", flush=True)
        if not args.skip_dbt:
            _timed(f"dbt build, all models + tests ({name})", lambda: build(url, quiet=True), times)
            end_to_end = times[f"full kNN {name} (edges + novelty)"] + times[f"dbt build, all models + tests ({name})"]
            print(f"  end to end ({name}): kNN + dbt build {end_to_end:.1f} s = {end_to_end / 60:.1f} min", flush=True)
        knn_seconds = times[f"full kNN {name} (edges + novelty)"] - full.seconds.get("check", 0.0)
        for kind in _names(args.new_kinds):
            _update(args, url, model_id, name, kind, times, knn_seconds, end_to_end if not args.skip_dbt else None)
    _print_summary(times)


def _update(args, url: str, model_id: int, name: str, kind: str, times: dict[str, float], knn_seconds: float,
            end_to_end: float | None) -> None:
    """Add a dataset of args.new images of a new release year, then time the incremental kNN (and dbt build)
    against the full run's (`knn_seconds`: edges and novelty, without its sampled quality check).

    kind 'novel': around new cluster centres (nothing old is near, few old lists change); 'overlap': around the
    atlas's own centres (a new dataset of the same diseases: many old lists gain new images)."""
    with db.connect(url) as conn:
        year = conn.execute("select max(release_year) + 1 from atlas.dataset").fetchone()[0]
    # seeded by its year, so a run on a reused database adds different images; no HNSW build here (an existing
    # index takes the new rows on insert; at 1.1M a build is many minutes outside the timed update)
    like = {"novel": None, "overlap": 0}[kind]  # _plan draws the atlas from default_rng(0)
    planted.add_dataset(url, f"new{year}", year, planted.clustered_vectors(
        args.new, args.dim, args.clusters, args.spread, np.random.default_rng(year), like_seed=like),
        seed=year, index=False)
    label = f"incremental kNN {name} ({kind})"
    inc = _timed(label, lambda: compute_neighbours(url, engine=name, k=args.k, novelty_k=args.novelty_k,
                                                   frechet=False), times)
    print(f"    {inc.line()}", flush=True)
    n_old = len(model_images(url, model_id).image_ids) - args.new
    line = f"  incremental / full ({name} engine, {args.new} {kind} new on {n_old}): " \
           f"kNN {times[label] / knn_seconds:.1%} of the full run's edges + novelty ({knn_seconds:.1f} s)"
    if end_to_end is not None:
        _timed(f"dbt build after the update ({name}, {kind})", lambda: build(url, quiet=True), times)
        line += f"; with the dbt build on both sides " \
                f"{(times[label] + times[f'dbt build after the update ({name}, {kind})']) / end_to_end:.1%}"
    print(line, flush=True)


def _print_summary(times: dict[str, float]) -> None:
    print("summary: " + "; ".join(f"{k} {v:.1f} s" for k, v in times.items()), flush=True)


def _peers(args, url, model_id, images, truth, times, dup_labels) -> None:
    """FAISS exact flat index and cleanlab Datalab on the same vectors; ratios against each SkinMap engine."""
    from skinmap.knn.vectors import load_vectors

    x = load_vectors(url, model_id, images.image_ids)
    faiss_pairs = _timed("near-dup FAISS IndexFlatIP", lambda: _faiss_pairs(x, images.image_ids, args.k), times)
    for name, label in dup_labels.items():
        print(f"  FAISS: {_pr(faiss_pairs, truth)}; SkinMap ({name}) / FAISS time "
              f"{times[label] / times['near-dup FAISS IndexFlatIP']:.2f}", flush=True)
    if args.skip_cleanlab:
        return
    if not args.cleanlab_python:
        print("  cleanlab Datalab NOT RUN: no interpreter with cleanlab[datalab] (create .venv-bench, see the "
              "docstring, or pass --cleanlab-python)", flush=True)
        return
    try:
        clean, seconds, wall = _cleanlab_pairs(x, images.image_ids, args.cleanlab_python, args.cleanlab_timeout)
    except subprocess.TimeoutExpired:
        print(f"  cleanlab Datalab STOPPED after {args.cleanlab_timeout:.0f} s", flush=True)
        return
    except subprocess.CalledProcessError as error:
        print(f"  cleanlab Datalab FAILED: {(error.stderr or '').strip().splitlines()[-1:]}", flush=True)
        return
    times["near-dup cleanlab Datalab"] = seconds
    print(f"  near-dup cleanlab Datalab: {seconds:.1f} s (subprocess wall {wall:.1f} s)", flush=True)
    for name, label in dup_labels.items():
        print(f"  cleanlab: {_pr(clean, truth)}; SkinMap ({name}) / cleanlab time {times[label] / seconds:.2f}",
              flush=True)


if __name__ == "__main__":
    main()
