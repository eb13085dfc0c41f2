"""Near duplicates on real skin images: the transform benchmark of issue 14, through the whole atlas.

Hides copies of `../shared/realdev` images (skinmap.duplicates.benchmark) in a
second dataset, then runs what a user runs: ingest, embed (EfficientNet-Lite0,
ImageNet weights, offline), knn, verify-duplicates, dbt build, and scores
kpi_near_duplicate_pairs_v2 per transform and modality. It then compares
verifiers on the same candidate pairs (the pixel signature, ORB + RANSAC, and
SIFT + RANSAC with --sift) and projects the verification's cost to the field.

    .venv/bin/python bench/near_duplicates_real.py            # about 4 minutes on 2 cores
    .venv/bin/python bench/near_duplicates_real.py --sift     # + SIFT on the same pairs (slower)

Uses SKINMAP_DATABASE_URL's server if set, else the embedded one.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from skinmap import db, migrate
from skinmap.dbt_runner import build, project_var
from skinmap.duplicates import benchmark
from skinmap.duplicates.benchmark import Score, Truth

FIELD_IMAGES = 1_100_000
FIELD_CANDIDATES = 10


def _server_url() -> str:
    if os.environ.get("SKINMAP_DATABASE_URL"):
        return os.environ["SKINMAP_DATABASE_URL"]
    from skinmap import embedded

    return embedded.admin_url()


def _run_pipeline(url: str, data: Path) -> dict[str, float]:
    from embedder.models import load_encoder
    from embedder.pipeline import embed_images
    from skinmap.duplicates.verify import verify_candidates
    from skinmap.ingest import ingest, load_mapping
    from skinmap.knn import compute_neighbours

    seconds = {}
    started = time.monotonic()
    for slug in (benchmark.ORIGINALS, benchmark.COPIES):
        print("\n".join(ingest(url, load_mapping(data / slug / "mapping.yaml"), progress=False).lines()))
    seconds["ingest"] = time.monotonic() - started
    started = time.monotonic()
    print(embed_images(url, load_encoder("efficientnet-lite0", "imagenet"), batch_size=32, progress=False).line())
    seconds["embed"] = time.monotonic() - started
    started = time.monotonic()
    print(compute_neighbours(url, engine="exact", k=10).line())
    seconds["knn"] = time.monotonic() - started
    started = time.monotonic()
    summary = verify_candidates(url, progress=False)
    print(summary.line())
    seconds["verify"] = time.monotonic() - started
    seconds["verify_pairs"] = summary.verified
    started = time.monotonic()
    build(url, quiet=True)
    seconds["dbt build"] = time.monotonic() - started
    return seconds


def _print_table(title: str, scores: dict[tuple[str, str], Score], rows: list[str]) -> None:
    print(f"\n{title}")
    print(f"{'':18s} {'modality':12s} {'copies':>6s} {'found':>6s} {'false':>6s} {'P':>6s} {'R':>6s} {'F1':>6s}")
    for row in rows:
        for mod in ("all", "clinical", "dermoscopic"):
            s = scores.get((row, mod))
            if s is None:
                continue
            print(f"{row:18s} {mod:12s} {s.tp + s.fn:6d} {s.tp:6d} {s.fp:6d} "
                  f"{s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f}")


def _candidates(url: str) -> dict[frozenset[str], dict]:
    """Every candidate pair the verification saw, with its distance, signature similarity and verdict."""
    with db.connect(url) as conn:
        rows = conn.execute(
            """
            with c as (
                select distinct least(image_id, neighbour_image_id) as a,
                    greatest(image_id, neighbour_image_id) as b, cosine_distance
                from atlas.knn_edge where neighbour_rank <= %s
            )
            select ia.source_key, ib.source_key, c.cosine_distance,
                greatest(1 - (sa.signature <=> sb.signature), 1 - (sa.signature <=> sb.signature_mirrored)),
                v.n_inliers, ia.file_path, ib.file_path
            from c
            join atlas.image ia on ia.image_id = c.a join atlas.image ib on ib.image_id = c.b
            join atlas.pixel_signature sa on sa.image_id = c.a join atlas.pixel_signature sb on sb.image_id = c.b
            left join atlas.duplicate_verification v on v.image_id_a = c.a and v.image_id_b = c.b
            """,
            (int(project_var("near_duplicate_candidates_k")),),
        ).fetchall()
    return {frozenset((a, b)): dict(distance=d, signature=s, orb=n, files=(fa, fb)) for a, b, d, s, n, fa, fb in rows}


def _sift_inliers(candidates: dict) -> tuple[dict, float]:
    from PIL import Image

    from skinmap.duplicates.local_features import FeatureConfig, describe, inliers

    config = FeatureConfig(method="sift", side=384, n_features=500)
    files = sorted({f for c in candidates.values() for f in c["files"]})
    started = time.monotonic()
    features = {f: describe(Image.open(f).convert("RGB"), config) for f in files}
    out = {pair: inliers(features[c["files"][0]], features[c["files"][1]], config) for pair, c in candidates.items()}
    return out, time.monotonic() - started


def _compare(candidates: dict, truth: Truth, sift: dict | None) -> None:
    tau = float(project_var("near_duplicate_max_distance"))
    within = {p: c for p, c in candidates.items() if c["distance"] <= tau}
    methods = {"pixel signature (NCC)": ({p: c["signature"] for p, c in within.items()}, np.arange(0.80, 1.0, 0.01)),
               "ORB + RANSAC (inliers)": ({p: c["orb"] or 0 for p, c in within.items()}, range(4, 31))}
    if sift is not None:
        methods["SIFT + RANSAC (inliers)"] = ({p: sift[p] for p in within}, range(4, 31))
    print(f"\nVerifiers on the same {len(within)} candidate pairs (tau {tau}); best threshold by F1 "
          "(other shots of one lesion left out):")
    for name, (values, thresholds) in methods.items():
        best = max(((benchmark.score({p for p, v in values.items() if v >= t}, truth)[("all", "all")], t)
                    for t in thresholds), key=lambda x: x[0].f1)
        s, t = best
        print(f"  {name:26s} threshold {t:6.2f}: P {s.precision:.3f} R {s.recall:.3f} F1 {s.f1:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--realdev", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "realdev")
    parser.add_argument("--copies-per-transform", type=int, default=20)
    parser.add_argument("--sift", action="store_true", help="also score SIFT + RANSAC on the same pairs")
    args = parser.parse_args()
    if not (args.realdev / "images.csv").is_file():
        raise SystemExit(f"{args.realdev}/images.csv not found: pass --realdev")
    with tempfile.TemporaryDirectory() as tmp:
        truth = benchmark.build(args.realdev, Path(tmp), copies_per_transform=args.copies_per_transform)
        n_images = len(truth.modality)
        print(f"benchmark: {n_images - len(truth.copy_of)} real images, {len(truth.copy_of)} hidden copies "
              f"({args.copies_per_transform} per transform)")
        server = _server_url()
        url = db.create_database(server, "bench_near_duplicates_real", drop_first=True)
        try:
            migrate.upgrade(url)
            seconds = _run_pipeline(url, Path(tmp))
            with db.connect(url) as conn:
                found = {frozenset(r) for r in conn.execute(
                    "select ia.source_key, ib.source_key from kpi.kpi_near_duplicate_pairs_v2 p "
                    "join atlas.image ia on ia.image_id = p.image_id_a "
                    "join atlas.image ib on ib.image_id = p.image_id_b")}
            scores = benchmark.score(found, truth)
            families = ["all", "resize", "jpeg", "crop", "mirror", "rotate", "jitter", "combo"]
            _print_table("kpi_near_duplicate_pairs_v2 against the planted copies (defaults of dbt_project.yml)",
                         scores, families)
            _print_table("per transform", scores, [t for t in benchmark.transforms.all_names()])
            same = scores.get(("same lesion", "all"), Score())
            allp = scores[("all", "all")]
            strict = Score(allp.tp, allp.fp + same.tp, allp.fn)
            print(f"\nother shots of one lesion (same lesion id) found as pairs: {same.tp}; counted as false: "
                  f"P {strict.precision:.3f} F1 {strict.f1:.3f}")
            candidates = _candidates(url)
            sift, sift_seconds = _sift_inliers(candidates) if args.sift else (None, 0.0)
            _compare(candidates, truth, sift)
            rate = seconds["verify_pairs"] / seconds["verify"]
            per_image = len(candidates) / n_images
            field_pairs = FIELD_IMAGES * FIELD_CANDIDATES * per_image / 10
            print(f"\ncost: verify-duplicates {seconds['verify_pairs']} pairs in {seconds['verify']:.1f} s = "
                  f"{rate:.0f} pairs/s on this machine ({os.cpu_count()} cores, reading and describing each image "
                  f"once); {per_image:.2f} distinct candidate pairs per image at k 10")
            print(f"field projection: {FIELD_IMAGES:,} images x {FIELD_CANDIDATES} candidates = {field_pairs:,.0f} "
                  f"distinct pairs: {field_pairs / rate / 3600:.1f} h here, "
                  f"{field_pairs / rate / 3600 * os.cpu_count() / 16:.1f} h on 16 cores")
            if sift is not None:
                print(f"SIFT on the same pairs: {len(candidates) / sift_seconds:.0f} pairs/s (one process)")
            print("steps (s): " + ", ".join(f"{k} {v:.1f}" for k, v in seconds.items() if k != "verify_pairs"))
        finally:
            db.drop_database(server, "bench_near_duplicates_real")


if __name__ == "__main__":
    main()
