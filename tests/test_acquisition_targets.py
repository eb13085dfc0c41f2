"""Acquisition targets and prevalence cross-sections on the hand-made atlas of test_gap_kpis.

The fourteen usable images of tests/test_gap_kpis.ROWS (Fitzpatrick known
for 12: I-II 6, III-IV 3, V-VI 3; all three phenotype axes known for 10, in
7 of the 6 x 3 x 5 = 90 cells). Every expected number is counted by hand
from ROWS; a real `dbt build` (models, seed and their data tests) makes the
views.
"""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from skinmap.cli import cli
from skinmap.db import connect
from tests.test_gap_kpis import MELANOMA_BLOCK, TRIPLE, ingest_rows_atlas

SELECT = "+kpi_acquisition_targets +kpi_prevalence_by_diagnosis +kpi_phenotype_gaps"
L20_BLOCK = "L20-L30 Dermatitis and eczema"


@pytest.fixture(scope="module")
def target_atlas(server_url, tmp_path_factory):
    from skinmap import db

    name = "t_acquisition_targets"
    url = ingest_rows_atlas(server_url, tmp_path_factory.mktemp("target_atlas"), name, SELECT,
                            {"acquisition_min_images_per_cell": 3})
    yield url
    db.drop_database(server_url, name)


def _query(url: str, query: str, params=()) -> list[tuple]:
    with connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _target(url: str, target: str, attribute: str) -> dict[str, tuple]:
    return {value: rest for value, *rest in _query(url, """
        select value, n_images, n_known, n_target, n_needed, rank_needed, is_met, is_unfilled
        from kpi.kpi_acquisition_targets_v1 where target_name = %s and attribute = %s""", (target, attribute))}


def test_share_targets_need_the_hand_counted_images(target_atlas):
    uniform = _target(target_atlas, "uniform", "fitzpatrick_group")
    # V-VI: 3 of 12; (3 + x) / (12 + x) >= 1/3 first at x = 2 (5/14; 4/13 < 1/3)
    assert uniform["V-VI"][:4] == [3, 12, 5, 2]
    assert uniform["III-IV"][:4] == [3, 12, 5, 2]
    # I-II: 6 of 12 is met; with the other 6 unchanged it needs m = ceil(6 / 2) = 3 (3/9 = 1/3)
    assert uniform["I-II"][:4] == [6, 12, 3, 0] and uniform["I-II"][5] is True
    # ranks run over all attributes of the target: a met value has the last rank
    (last_rank,) = _query(target_atlas, """select max(rank_needed) from kpi.kpi_acquisition_targets_v1
        where target_name = 'uniform' and scope = 'attribute'""")[0]
    assert uniform["I-II"][4] == last_rank > uniform["V-VI"][4] == uniform["III-IV"][4]
    mix = _target(target_atlas, "example_fitzpatrick_mix", "fitzpatrick_group")
    # III-IV at 0.45: m = ceil(0.45 * 9 / 0.55) = 8 (8/17 = 0.47; 7/16 = 0.44), so 5 more
    assert mix["III-IV"][:4] == [3, 12, 8, 5]
    assert mix["V-VI"][3] == 0 and mix["I-II"][3] == 0  # 3/12 >= 0.20, 6/12 >= 0.35
    # sex is unknown everywhere: one image of each value would already reach any share
    sex = _target(target_atlas, "example_fitzpatrick_mix", "sex")
    assert sex["female"][:4] == [0, 0, 1, 1] and sex["female"][6] is True


def test_cells_are_the_phenotype_grid_and_unfilled_ones_are_listed(target_atlas):
    cells = _target(target_atlas, "minimum_per_cell", TRIPLE)
    gaps = {(dx, fitz, age): n for dx, fitz, age, n in _query(target_atlas, """
        select diagnosis_group, fitzpatrick_group, age_bin, n_images
        from kpi.kpi_phenotype_gaps_v1 where combination = %s""", (TRIPLE,))}
    assert len(cells) == len(gaps) == 90
    assert {tuple(value.split(" | ")): row[0] for value, row in cells.items()} == gaps
    filled = {value: row[0] for value, row in cells.items() if not row[6]}
    assert filled == {
        f"{MELANOMA_BLOCK} | I-II | 18-29": 2, f"{MELANOMA_BLOCK} | I-II | 30-49": 2,
        "D10-D36 Benign neoplasms, except benign neuroendocrine tumors | V-VI | 0-17": 2,
        f"{MELANOMA_BLOCK} | III-IV | 70+": 1, "L40-L45 Papulosquamous disorders | III-IV | 50-69": 1,
        f"{L20_BLOCK} | V-VI | 30-49": 1, "L60-L75 Disorders of skin appendages | I-II | 30-49": 1,
    }
    # minimum 3 (var): the 83 unfilled cells need 3 and rank first, the 1-image cells 2, the 2-image ones 1
    unfilled = [row for row in cells.values() if row[6]]
    assert len(unfilled) == 83 and {(r[3], r[4]) for r in unfilled} == {(3, 1)}
    assert cells[f"{MELANOMA_BLOCK} | III-IV | 70+"][3:5] == [2, 2]
    assert cells[f"{MELANOMA_BLOCK} | I-II | 18-29"][3:5] == [1, 3]
    # uniform over 90 cells of 10 images: an empty cell needs 1 (1/11 >= 1/90), a filled one none
    uniform = _target(target_atlas, "uniform", TRIPLE)
    assert sum(row[3] for row in uniform.values()) == 83
    assert {row[3] for row in uniform.values() if not row[6]} == {0}


def test_prevalence_shares_of_a_diagnosis_group(target_atlas):
    rows = {(dx, attribute, value): rest for dx, attribute, value, *rest in _query(target_atlas, """
        select diagnosis_group, attribute, value, n_images, n_known, n_total, share
        from kpi.kpi_prevalence_by_diagnosis_v1""")}
    # melanoma block: a1 a2 b2 c1 (I-II), b3 (III-IV); the quarantined row counts nowhere
    assert rows[(MELANOMA_BLOCK, "fitzpatrick_group", "I-II")] == [4, 5, 5, pytest.approx(0.8)]
    assert rows[(MELANOMA_BLOCK, "fitzpatrick_group", "V-VI")] == [0, 5, 5, 0.0]
    assert rows[(MELANOMA_BLOCK, "age_bin", "70+")] == [1, 5, 5, pytest.approx(0.2)]
    assert rows[(L20_BLOCK, "age_bin", "30-49")] == [1, 1, 2, pytest.approx(1.0)]
    assert rows[(L20_BLOCK, "age_bin", "unknown")] == [1, 1, 2, None]
    assert rows[(MELANOMA_BLOCK, "sex", "unknown")] == [5, 0, 5, None]
    sums = _query(target_atlas, """
        select diagnosis_group, attribute, sum(share) from kpi.kpi_prevalence_by_diagnosis_v1
        group by diagnosis_group, attribute having count(share) > 0""")
    # six diagnosis groups with a known age, five with a known Fitzpatrick group (not a7's
    # L80-L99); sex, continent and body region are never known
    assert len(sums) == 6 + 5
    assert all(total == pytest.approx(1.0, abs=1e-12) for *_, total in sums)


def test_targets_command_prints_the_top_of_the_list(target_atlas):
    runner = CliRunner()
    result = runner.invoke(cli, ["--database-url", target_atlas, "targets", "--target", "example_fitzpatrick_mix",
                                 "--scope", "attribute", "--top", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "example_fitzpatrick_mix, attribute: top 3 of 5 (2 without any image)"
    first = lines[3].split()
    assert first[:3] == ["1", "fitzpatrick_group", "III-IV"] and first[-2:] == ["5", "False"]
    both = runner.invoke(cli, ["--database-url", target_atlas, "targets", "--top", "2"])
    assert both.exit_code == 0, both.output
    assert "uniform, phenotype_cell: top 2 of 90 (83 without any image)" in both.output
    missing = runner.invoke(cli, ["--database-url", target_atlas, "targets", "--target", "nope"])
    assert missing.exit_code != 0 and "minimum_per_cell" in missing.output


def test_report_chart_puts_the_holes_of_the_largest_diagnosis_group_first(target_atlas):
    from skinmap.report import charts
    from skinmap.report.views import rows

    with connect(target_atlas) as conn:
        view_rows = rows(conn, "kpi_acquisition_targets_v1")
    fig = charts.acquisition_targets(view_rows, "minimum_per_cell", "phenotype_cell")
    (unfilled,) = fig.data  # 83 empty cells tie at rank 1: the 20 shown are all unfilled
    assert unfilled.name == "no public image" and len(unfilled.y) == charts.ACQUISITION_TARGETS_SHOWN
    # each needs 3; the melanoma block has the most images (5 of the grid's 10), so its holes come
    # first (plotly draws bottom-up: the last bar is the top of the list)
    assert set(unfilled.x) == {3} and unfilled.y[-1].startswith("C43-C44 | ")
    assert "83 without any image" in fig.layout.title.text
    assert charts.acquisition_targets(view_rows, "no-such-target") is None
