"""A real `dbt build` on a small generated atlas; its KPI views must recover the planted truth.

This is the demo's own check (skinmap.demo.check_against_truth) run at a
smaller scale, plus direct assertions on the views' invariants.
"""
from __future__ import annotations

import pytest

from skinmap import demo
from skinmap.db import connect

SCALE = 0.2


@pytest.fixture(scope="module")
def built_atlas(server_url, tmp_path_factory):
    from skinmap import db

    name = "t_kpis_vs_truth"
    url = db.create_database(server_url, name, drop_first=True)
    data_dir = tmp_path_factory.mktemp("synth")
    truth = demo.prepare_data(data_dir, scale=SCALE, seed=11)
    demo.run_pipeline(url, data_dir, truth, echo=lambda line: None, progress=False)
    yield url, truth
    db.drop_database(server_url, name)


def test_headline_kpis_recover_planted_truth(built_atlas):
    url, truth = built_atlas
    checks = demo.check_against_truth(url, truth, f"{demo.DEMO_MODEL}/{demo.DEMO_WEIGHTS}")
    failed = [c for c in checks if not c.ok]
    assert not failed, demo.format_checks(checks)


def test_representation_counts_match_planted_counts(built_atlas):
    url, truth = built_atlas
    counts = truth["counts_ok"]
    with connect(url) as conn:
        rows = {(a, v): (n, known, total) for a, v, n, known, total in conn.execute(
            "select attribute, value, n_images, n_known, n_total from kpi.kpi_representation_v1"
        )}
        shares = dict(conn.execute(
            "select attribute, sum(share) from kpi.kpi_representation_v1 where value <> 'unknown' group by 1"
        ).fetchall())
    v_vi = rows[("fitzpatrick_group", "V-VI")]
    assert v_vi == (counts["n_fitzpatrick_v_vi"], counts["n_fitzpatrick_known"], counts["n_ok"])
    assert rows[("sex", "female")][:2] == (counts["n_female"], counts["n_sex_known"])
    assert rows[("age_bin", "0-17")][:2] == (counts["n_pediatric"], counts["n_age_known"])
    for attribute, total in shares.items():
        assert float(total) == pytest.approx(1.0, abs=1e-9), attribute


def test_novelty_first_year_null_and_baseline_band(built_atlas):
    url, truth = built_atlas
    with connect(url) as conn:
        rows = conn.execute(
            "select release_year, raw_novelty, baseline_p025, baseline_mean, baseline_p975 "
            "from kpi.kpi_novelty_by_year_v1 order by release_year"
        ).fetchall()
    assert [r[0] for r in rows] == sorted(d["release_year"] for d in truth["datasets"])
    assert rows[0][1:] == (None, None, None, None)
    for year, raw, low, mean, high in rows[1:]:
        assert raw is not None and low <= mean <= high, year


def test_kpi_command_prints_the_view(built_atlas):
    from click.testing import CliRunner

    from skinmap.cli import cli

    url, truth = built_atlas
    runner = CliRunner()
    listing = runner.invoke(cli, ["--database-url", url, "kpi"])
    assert listing.exit_code == 0 and "kpi_novelty_by_year_v1" in listing.output
    shown = runner.invoke(cli, ["--database-url", url, "kpi", "kpi_representation_headline"])
    assert shown.exit_code == 0, shown.output
    assert "kpi.kpi_representation_headline_v1" in shown.output
    assert f"{truth['fitzpatrick_v_vi_share_known']:.4f}" in shown.output
