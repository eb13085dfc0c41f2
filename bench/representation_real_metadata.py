"""The headline shares of the public metadata files over images, unique images, lesions and patients.

Migrates a fresh database (the embedded server, or --database-url), ingests
the real metadata files metadata-only (no image folder) through the existing
adapters (`skinmap adapters`), builds kpi_representation_headline_v2 with dbt
and prints, for values_from 'labelled' (and 'labelled_and_imputed' with
--with-imputed; equal until `skinmap impute` has run), Fitzpatrick V-VI and
pediatric shares with their 95% Wilson intervals, the units known and the
rows each variant removed. A file that is missing is skipped and named.

The files are not shipped (each dataset's own licence); /work/realmeta's
SOURCES.md names the public copies measured (docs/representation.md, "Representation over
images, unique images, lesions and patients"). Usage:

    .venv/bin/python bench/representation_real_metadata.py --dir /work/realmeta
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
    "fitzpatrick17k": ["fitzpatrick17k.csv"],
    "pad-ufes-20": ["pad-ufes-20/metadata.csv"],
    "ddi": ["ddi_metadata.csv"],
    "derm7pt": ["derm7pt/meta/meta.csv"],
}
MODELS = "+kpi_representation_headline.v2 +kpi_unique_images"
HEADLINE = """
select counted_over, n_total, n_removed, n_images_without_id,
       n_fitzpatrick_known, n_fitzpatrick_v_vi, share_fitzpatrick_v_vi,
       share_fitzpatrick_v_vi_wilson_low, share_fitzpatrick_v_vi_wilson_high,
       n_age_known, n_pediatric, share_pediatric, share_pediatric_wilson_low, share_pediatric_wilson_high
from kpi.kpi_representation_headline_v2
where values_from = %s
order by array_position(array['images', 'unique_images', 'lesions', 'patients'], counted_over)
"""


def _pct(share: float | None, low: float | None, high: float | None) -> str:
    if share is None:
        return "-"
    return f"{100 * share:.1f}% [{100 * low:.1f}, {100 * high:.1f}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, required=True, help="folder with the real metadata files")
    parser.add_argument("--database-url", help="an empty database to use (default: a fresh one on the embedded server)")
    parser.add_argument("--with-imputed", action="store_true", help="print the labelled_and_imputed table too")
    args = parser.parse_args()
    os.environ.setdefault("DBT_INDIRECT_SELECTION", "cautious")  # only the tests of the selected models

    present = {d: fs for d, fs in FILES.items() if all((args.dir / f).is_file() for f in fs)}
    for name in FILES.keys() - present.keys():
        print(f"skipped {name}: no {', '.join(FILES[name])} in {args.dir}")
    if args.database_url:
        url = args.database_url
    else:
        from skinmap import embedded

        url = db.create_database(embedded.admin_url(), "skinmap_bench_representation", drop_first=True)
    started = time.monotonic()
    migrate.upgrade(url)
    for name, files in present.items():
        summary = ingest_with(url, name, [args.dir / f for f in files], None, progress=False)
        print("\n".join(summary.lines()))
    ingested = time.monotonic()
    print(build(url, select=MODELS, quiet=True))
    built = time.monotonic()
    print(f"ingest {ingested - started:.1f} s, dbt build {built - ingested:.1f} s")

    with db.connect(url) as conn:
        per_dataset = conn.execute("select dataset_slug, n_images from kpi.kpi_unique_images_v1 "
                                   "where grain = 'dataset' order by dataset_slug").fetchall()
        print("images per dataset:", ", ".join(f"{s} {n:,}" for s, n in per_dataset))
        for values_from in ("labelled", "labelled_and_imputed") if args.with_imputed else ("labelled",):
            print(f"\nvalues_from = {values_from}\n")
            print("| counted over | units | removed | without id | V-VI [95% CI] | V-VI / known "
                  "| pediatric [95% CI] | pediatric / known |")
            print("|---|---:|---:|---:|---|---:|---|---:|")
            for r in conn.execute(HEADLINE, (values_from,)):
                (over, n, removed, no_id, n_fitz, n_vvi, s_vvi, lo_vvi, hi_vvi,
                 n_age, n_ped, s_ped, lo_ped, hi_ped) = r
                print(f"| {over} | {n:,} | {removed:,} | {no_id:,} | {_pct(s_vvi, lo_vvi, hi_vvi)} "
                      f"| {n_vvi:,} / {n_fitz:,} | {_pct(s_ped, lo_ped, hi_ped)} | {n_ped:,} / {n_age:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
