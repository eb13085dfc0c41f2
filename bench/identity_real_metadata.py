"""Identity without pixels on the real metadata files: unique images, overlap, images per lesion / patient.

Migrates a fresh database (the embedded server, or --database-url), runs a
metadata-only ingest (no image folder) of the public metadata files through
the real adapters, builds the identity models and KPI views with dbt, and
prints the figures next to the published totals (DATASETS.md):

    HAM10000 10,015 images of 7,470 lesions, all inside ISIC 2019's 25,331:
    unique images of HAM10000 + ISIC 2019 = 25,331, not 35,346;
    ISIC 2020 33,126 images of 2,056 patients.

The files are not shipped (each dataset's own licence); public copies are
in GitHub repositories (the README names the ones measured). Usage:

    .venv/bin/python bench/identity_real_metadata.py --dir /work/realmeta
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from skinmap import db, migrate
from skinmap.dbt_runner import build
from skinmap.ingest.adapters import ingest_with

FILES = {
    "ham10000": ["HAM10000_metadata.csv"],
    "isic2019": ["ISIC_2019_Training_Metadata.csv", "ISIC_2019_Training_GroundTruth.csv"],
    "isic2020": ["ISIC_2020_Training_GroundTruth.csv"],
}
MODELS = "+kpi_unique_images +kpi_images_per_lesion_and_patient +kpi_dataset_overlap.v2 +kpi_dataset_redundancy.v2"
# (query, expected value) from the published totals; None = printed, not checked
CHECKS = [
    ("HAM10000 images", "select n_images from kpi.kpi_unique_images_v1 where dataset_slug = 'ham10000'", 10015),
    ("ISIC 2019 images", "select n_images from kpi.kpi_unique_images_v1 where dataset_slug = 'isic2019'", 25331),
    ("HAM10000 lesions", "select n_lesions from kpi.kpi_images_per_lesion_and_patient_v1 "
                         "where dataset_slug = 'ham10000'", 7470),
    ("HAM10000 images in ISIC 2019 (source id)",
     "select n_with_duplicate_in_b from kpi.kpi_dataset_overlap_v2 where evidence = 'source_id' "
     "and dataset_slug_a = 'ham10000' and dataset_slug_b = 'isic2019'", 10015),
    ("share of HAM10000 inside ISIC 2019",
     "select share_with_duplicate_in_b from kpi.kpi_dataset_overlap_v2 where evidence = 'source_id' "
     "and dataset_slug_a = 'ham10000' and dataset_slug_b = 'isic2019'", 1.0),
    ("ISIC 2019 images also in HAM10000",
     "select n_with_duplicate_in_b from kpi.kpi_dataset_overlap_v2 where evidence = 'source_id' "
     "and dataset_slug_a = 'isic2019' and dataset_slug_b = 'ham10000'", 10015),
    ("ISIC 2020 images", "select n_images from kpi.kpi_unique_images_v1 where dataset_slug = 'isic2020'", 33126),
    ("ISIC 2020 patients", "select n_patients from kpi.kpi_images_per_lesion_and_patient_v1 "
                           "where dataset_slug = 'isic2020'", 2056),
]


def _pair_checks(with_2020: bool) -> list[tuple[str, str, float | None]]:
    n_all = 35346 + (33126 if with_2020 else 0)
    n_unique = 25331 + (33126 if with_2020 else 0)
    return [
        ("atlas image rows", "select n_images from kpi.kpi_unique_images_v1 where grain = 'atlas'", n_all),
        ("atlas unique images by source id",
         "select n_unique_by_source_id from kpi.kpi_unique_images_v1 where grain = 'atlas'", n_unique),
        ("atlas rows removed as shared-id copies",
         "select n_removed_by_source_id from kpi.kpi_unique_images_v1 where grain = 'atlas'", 10015),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, required=True, help="folder with the real metadata CSV files")
    parser.add_argument("--database-url", help="an empty database to use (default: a fresh one on the embedded server)")
    parser.add_argument("--without-2020", action="store_true", help="ingest HAM10000 and ISIC 2019 only")
    args = parser.parse_args()
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "cautious")  # only the tests of the selected models

    datasets = [d for d in FILES if not (args.without_2020 and d == "isic2020")]
    missing = [f for d in datasets for f in FILES[d] if not (args.dir / f).is_file()]
    if missing:
        raise SystemExit(f"missing in {args.dir}: {', '.join(missing)}")
    if args.database_url:
        url = args.database_url
    else:
        from skinmap import embedded

        url = db.create_database(embedded.admin_url(), "skinmap_bench_identity", drop_first=True)
    started = time.monotonic()
    migrate.upgrade(url)
    for name in datasets:
        summary = ingest_with(url, name, [args.dir / f for f in FILES[name]], None, progress=False)
        print("\n".join(summary.lines()))
    ingested = time.monotonic()
    print(build(url, select=MODELS, quiet=True))
    built = time.monotonic()
    print(f"ingest {ingested - started:.1f} s, dbt build {built - ingested:.1f} s")

    checks = [c for c in CHECKS if args.without_2020 is False or "2020" not in c[0]]
    checks += _pair_checks(not args.without_2020)
    failed = 0
    with db.connect(url) as conn:
        print("\ncheck | measured | published")
        for label, query, expected in checks:
            value = conn.execute(query).fetchone()[0]
            ok = expected is None or abs(float(value) - float(expected)) < 1e-9
            failed += not ok
            print(f"{label} | {value:,} | {expected:,} {'ok' if ok else 'MISMATCH'}")
        print("\nkpi_unique_images_v1")
        for row in conn.execute("select * from kpi.kpi_unique_images_v1 order by grain desc, dataset_slug"):
            print(" ", row)
        print("kpi_images_per_lesion_and_patient_v1")
        for row in conn.execute("select * from kpi.kpi_images_per_lesion_and_patient_v1 "
                                "order by grain desc, dataset_slug"):
            print(" ", row)
        print("kpi_dataset_overlap_v2 (source_id, off the diagonal, non-zero)")
        for row in conn.execute("select dataset_slug_a, dataset_slug_b, n_images_a, n_with_duplicate_in_b, "
                                "round(share_with_duplicate_in_b::numeric, 4) from kpi.kpi_dataset_overlap_v2 "
                                "where evidence = 'source_id' and n_with_duplicate_in_b > 0 order by 1, 2"):
            print(" ", row)
        print("kpi_dataset_redundancy_v2 (source_id)")
        for row in conn.execute("select dataset_slug, n_images, n_duplicated_within, n_in_earlier_datasets, "
                                "n_unique_images from kpi.kpi_dataset_redundancy_v2 where evidence = 'source_id' "
                                "order by dataset_slug"):
            print(" ", row)
        years = conn.execute(
            "select d.slug, i.release_year, count(*) from atlas.image i join atlas.dataset d using (dataset_id) "
            "group by 1, 2 order by 1, 2").fetchall()
        print("release years (an ISIC image takes its earliest collection's year):", years)
    print("all checks ok" if not failed else f"{failed} check(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
