"""Gap KPIs on a hand-made atlas: per-dataset representation, phenotype grids, rare diagnoses.

Fourteen usable images in four metadata-only datasets (plus one quarantined
row that must count nowhere); every expected number below is counted by hand
from ROWS, and a real `dbt build` (models and their data tests) produces the
views.
"""
from __future__ import annotations

import math

import pytest

from skinmap.db import connect
from skinmap.dbt_runner import build
from skinmap.ingest import ingest
from skinmap.ingest.mapping import build_mapping
from tests.fix_images import write_csv

YEARS = {"gap-a": 2015, "gap-b": 2018, "gap-c": 2024, "gap-d": 2021}
# (dataset, key, Fitzpatrick type, age, diagnosis) -> ICD block, group, age bin in the comments
ROWS = [
    ("gap-a", "a1", "1", "25", "melanoma"),              # C43-C44  I-II    18-29
    ("gap-a", "a2", "2", "40", "melanoma"),              # C43-C44  I-II    30-49
    ("gap-a", "a3", "5", "10", "melanocytic nevus"),     # D10-D36  V-VI    0-17
    ("gap-a", "a4", "", "60", "acne"),                   # L60-L75  unknown 50-69
    ("gap-a", "a5", "3", "", "eczema"),                  # L20-L30  III-IV  unknown
    ("gap-a", "a6", "1", "25", ""),                      # unknown  I-II    18-29
    ("gap-a", "a7", "", "65", "seborrheic keratosis"),   # L80-L99  unknown 50-69
    ("gap-b", "b1", "6", "12", "melanocytic nevus"),     # D10-D36  V-VI    0-17
    ("gap-b", "b2", "1", "30", "melanoma"),              # C43-C44  I-II    30-49
    ("gap-b", "b3", "3", "75", "basal cell carcinoma"),  # C43-C44  III-IV  70+
    ("gap-b", "b4", "4", "55", "psoriasis"),             # L40-L45  III-IV  50-69
    ("gap-c", "c1", "2", "20", "melanoma"),              # C43-C44  I-II    18-29
    ("gap-c", "c2", "5", "45", "eczema"),                # L20-L30  V-VI    30-49
    ("gap-c", "", "6", "50", "melanoma"),                # no key: quarantined, counts nowhere
    ("gap-d", "d1", "1", "35", "acne vulgaris"),         # L60-L75  I-II    30-49
]
MELANOMA_BLOCK = "C43-C44 Melanoma and other malignant neoplasms of skin"
NEVUS_BLOCK = "D10-D36 Benign neoplasms, except benign neuroendocrine tumors"
TRIPLE = "diagnosis_group x fitzpatrick_group x age_bin"
FITZ_AGE = "fitzpatrick_group x age_bin"
DX_FITZ = "diagnosis_group x fitzpatrick_group"
SELECT = "+kpi_representation +kpi_representation_by_dataset +kpi_phenotype_gaps +kpi_rare_diagnoses"


def ingest_rows_atlas(server_url: str, folder, name: str, select: str, vars: dict) -> str:  # noqa: A002
    """A fresh atlas of ROWS (one mapped dataset per year), built with dbt for `select` only."""
    from skinmap import db, migrate

    url = db.create_database(server_url, name, drop_first=True)
    migrate.upgrade(url)
    for slug, year in YEARS.items():
        rows = [[key, fitz, age, dx] for dataset, key, fitz, age, dx in ROWS if dataset == slug]
        metadata = write_csv(folder / f"{slug}.csv", ["id", "fitz", "age", "dx"], rows)
        mapping = build_mapping({
            "dataset": {"slug": slug, "release_year": year, "modality": "clinical"},
            "metadata": str(metadata),
            "columns": {"source_key": "id", "fitzpatrick": "fitz", "age": "age", "diagnosis": "dx"},
        }, folder)
        ingest(url, mapping, progress=False)
    with pytest.MonkeyPatch.context() as env:
        # only the data tests whose models are all selected (not, say, other views' tests on staging)
        env.setenv("DBT_INDIRECT_SELECTION", "cautious")
        build(url, select=select, vars=vars, quiet=True)
    return url


@pytest.fixture(scope="module")
def gap_atlas(server_url, tmp_path_factory):
    from skinmap import db

    name = "t_gap_kpis"
    url = ingest_rows_atlas(server_url, tmp_path_factory.mktemp("gap_atlas"), name, SELECT,
                            {"phenotype_sparse_threshold": 2, "rare_diagnosis_max_images": 3})
    yield url
    db.drop_database(server_url, name)


def _query(url: str, sql: str) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute(sql).fetchall()


def _wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    p = k / n
    centre, spread = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n), (centre + spread) / (1 + z * z / n)


def test_representation_by_dataset_matches_hand_counts(gap_atlas):
    rows = {(d, v): r for d, v, *r in _query(gap_atlas, """
        select dataset_slug, value, n_images, n_known, n_total, share, wilson_low, wilson_high, share_known
        from kpi.kpi_representation_by_dataset_v1 where attribute = 'fitzpatrick_group'""")}
    assert {d for d, _ in rows} == set(YEARS)
    # gap-a: 7 images, Fitzpatrick known for 5: I-II a1 a2 a6, III-IV a5, V-VI a3
    assert rows[("gap-a", "I-II")][:4] == [3, 5, 7, pytest.approx(0.6)]
    assert rows[("gap-a", "I-II")][4:6] == pytest.approx(list(_wilson(3, 5)), abs=1e-12)
    assert rows[("gap-a", "unknown")][:4] == [2, 5, 7, None]
    assert rows[("gap-a", "V-VI")][-1] == pytest.approx(5 / 7)
    assert rows[("gap-b", "III-IV")][:4] == [2, 4, 4, pytest.approx(0.5)]
    assert rows[("gap-c", "V-VI")][:3] == [1, 2, 2]  # the quarantined V-VI row is not counted
    assert rows[("gap-d", "V-VI")][:4] == [0, 1, 1, 0.0]  # declared value, no image: count 0, share 0


def test_representation_by_dataset_adds_up_to_the_atlas(gap_atlas):
    mismatched = _query(gap_atlas, """
        select atlas.attribute, atlas.value, atlas.n_images, sum(by_dataset.n_images)
        from kpi.kpi_representation_v1 as atlas
        join kpi.kpi_representation_by_dataset_v1 as by_dataset using (attribute, value)
        group by atlas.attribute, atlas.value, atlas.n_images
        having atlas.n_images <> sum(by_dataset.n_images)""")
    assert mismatched == []
    n_rows = _query(gap_atlas, """select (select count(*) from kpi.kpi_representation_by_dataset_v1),
                                         (select count(*) from kpi.kpi_representation_v1)""")[0]
    assert n_rows[0] == 4 * n_rows[1]
    assert _query(gap_atlas, "select sum(n_images) from kpi.kpi_representation_by_dataset_v1 "
                             "where attribute = 'icd10_block' and value = 'unknown'") == [(1,)]  # a6


def test_phenotype_grids_observed_and_expected(gap_atlas):
    cells = {(c, dx, fitz, age): (n, expected, total, empty, sparse)
             for c, dx, fitz, age, n, expected, total, empty, sparse in _query(gap_atlas, """
                select combination, diagnosis_group, fitzpatrick_group, age_bin, n_images, n_expected,
                       n_total_known, is_empty, is_sparse
                from kpi.kpi_phenotype_gaps_v1""")}
    by_grid = {}
    for (combination, *_), (n, expected, total, empty, _sparse) in cells.items():
        grid = by_grid.setdefault(combination, {"cells": 0, "n": 0, "expected": 0.0, "empty": 0, "totals": set()})
        grid["cells"] += 1
        grid["n"] += n
        grid["expected"] += expected
        grid["empty"] += empty
        grid["totals"].add(total)
    # 6 known ICD blocks (L80-L99 only from a7, whose Fitzpatrick type is unknown), 3 groups, 5 age bins
    assert {c: g["cells"] for c, g in by_grid.items()} == {TRIPLE: 90, FITZ_AGE: 15, DX_FITZ: 18}
    # images with every axis of the grid known: 10 (no a4 a5 a6 a7), 11 (no a4 a5 a7), 11 (no a4 a6 a7)
    assert {c: (g["n"], g["totals"]) for c, g in by_grid.items()} == {
        TRIPLE: (10, {10}), FITZ_AGE: (11, {11}), DX_FITZ: (11, {11})}
    assert {c: g["empty"] for c, g in by_grid.items()} == {TRIPLE: 83, FITZ_AGE: 9, DX_FITZ: 11}
    for combination, grid in by_grid.items():
        assert grid["expected"] == pytest.approx(grid["n"], abs=1e-6), combination

    # triple margins over its 10 images: C43-C44 5/10, I-II 5/10, 30-49 4/10
    assert cells[(TRIPLE, MELANOMA_BLOCK, "I-II", "30-49")][:2] == (2, pytest.approx(10 * 0.5 * 0.5 * 0.4))
    assert cells[(TRIPLE, NEVUS_BLOCK, "V-VI", "0-17")][:2] == (2, pytest.approx(10 * 0.2 * 0.3 * 0.2))
    empty_cell = cells[(TRIPLE, MELANOMA_BLOCK, "V-VI", "30-49")]
    assert empty_cell == (0, pytest.approx(10 * 0.5 * 0.3 * 0.4), 10, True, True)
    seborrheic = [v for k, v in cells.items() if k[0] == TRIPLE and k[1].startswith("L80-L99")]
    assert len(seborrheic) == 15 and all(n == 0 and e == 0 for n, e, *_ in seborrheic)
    # pair grids: I-II 6/11 and 18-29 3/11 (a1 a6 c1); C43-C44 x I-II = a1 a2 b2 c1
    assert cells[(FITZ_AGE, None, "I-II", "18-29")][:2] == (3, pytest.approx(11 * 6 / 11 * 3 / 11))
    assert cells[(DX_FITZ, MELANOMA_BLOCK, "I-II", None)][:2] == (4, pytest.approx(11 * 5 / 11 * 5 / 11))
    # threshold 2 for this build: only cells with 2+ images are not sparse
    not_sparse = sorted((k[0], n) for k, (n, _e, _t, _empty, sparse) in cells.items() if not sparse)
    assert not_sparse == sorted([(TRIPLE, 2)] * 3 + [(FITZ_AGE, 3), (FITZ_AGE, 3), (FITZ_AGE, 2)]
                                + [(DX_FITZ, 4), (DX_FITZ, 2)])


def test_rare_and_orphan_diagnoses(gap_atlas):
    rows = {code: rest for code, *rest in _query(gap_atlas, """
        select icd10_code, icd10_category, n_images, n_datasets, first_release_year, last_release_year,
               atlas_last_release_year, is_rare, is_orphan
        from kpi.kpi_rare_diagnoses_v1""")}
    # rare: fewer than 3 images (var set for this build); orphan: last year before 2021 (2024 - 3)
    assert rows == {
        "C43.9": ["C43", 4, 3, 2015, 2024, 2024, False, False],   # a1 a2 b2 c1; the quarantined one not
        "D22.9": ["D22", 2, 2, 2015, 2018, 2024, True, True],
        "L70.9": ["L70", 1, 1, 2015, 2015, 2024, True, True],
        "L30.9": ["L30", 2, 2, 2015, 2024, 2024, True, False],
        "L82.1": ["L82", 1, 1, 2015, 2015, 2024, True, True],
        "C44.91": ["C44", 1, 1, 2018, 2018, 2024, True, True],
        "L40.9": ["L40", 1, 1, 2018, 2018, 2024, True, True],
        "L70.0": ["L70", 1, 1, 2021, 2021, 2024, True, False],   # exactly 3 years: not an orphan
    }
