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
    truth = demo.prepare_data(data_dir, scale=SCALE, seed=11, plant_void=True)
    demo.run_pipeline(url, data_dir, truth, echo=lambda line: None, progress=False)
    yield url, truth
    db.drop_database(server_url, name)


def test_headline_kpis_recover_planted_truth(built_atlas):
    url, truth = built_atlas
    checks = demo.check_against_truth(url, truth, f"{demo.DEMO_MODEL}/{demo.DEMO_WEIGHTS}")
    failed = [c for c in checks if c.claimed and not c.ok]
    assert not failed, demo.format_checks(checks)


def test_representation_counts_match_planted_counts(built_atlas):
    url, truth = built_atlas
    counts = truth["counts_ok"]
    with connect(url) as conn:
        labelled_over_images = "values_from = 'labelled' and counted_over = 'images'"
        rows = {(a, v): (n, known, total) for a, v, n, known, total in conn.execute(
            "select attribute, value, n_images, n_known, n_total from kpi.kpi_representation_v2 where "
            + labelled_over_images
        )}
        shares = dict(conn.execute(
            "select attribute, sum(share) from kpi.kpi_representation_v2 where value <> 'unknown' and "
            + labelled_over_images + " group by 1"
        ).fetchall())
    v_vi = rows[("fitzpatrick_group", "V-VI")]
    assert v_vi == (counts["n_fitzpatrick_v_vi"], counts["n_fitzpatrick_known"], counts["n_ok"])
    assert rows[("sex", "female")][:2] == (counts["n_female"], counts["n_sex_known"])
    assert rows[("age_bin", "0-17")][:2] == (counts["n_pediatric"], counts["n_age_known"])
    for attribute, total in shares.items():
        assert float(total) == pytest.approx(1.0, abs=1e-9), attribute


def test_imputation_fills_only_unlabelled_fields_with_the_truth_in_the_pixels(built_atlas):
    """The demo's impute step: every image with a vector and no Fitzpatrick label gets a group, no label moves,
    and the imputed groups agree with the planted skin tone more often than chance (3 groups)."""
    url, truth = built_atlas
    true_group = {(t["slug"], t["key"]): ("I-II", "I-II", "III-IV", "III-IV", "V-VI", "V-VI")[t["fitzpatrick_true"] - 1]
                  for t in truth["images"] if t["status"] == "ok"}
    labelled = {(t["slug"], t["key"]): t["fitzpatrick"] for t in truth["images"] if t["status"] == "ok"}
    with connect(url) as conn:
        rows = conn.execute(
            "select d.slug, i.source_key, m.fitzpatrick_type, m.fitzpatrick_group, m.fitzpatrick_provenance "
            "from atlas.image i join atlas.dataset d using (dataset_id) join atlas.image_metadata m using (image_id) "
            "where i.status = 'ok' and d.slug = any(%s)", ([d["slug"] for d in truth["datasets"]],)).fetchall()
    imputed = [(k, g) for *k, _, g, prov in rows if prov == "imputed"]
    moved = [(k, t) for *k, t, _, prov in rows if prov == "label" and t != labelled[tuple(k)]]
    unlabelled = [k for *k, _, _, prov in rows if labelled[tuple(k)] is None]
    assert moved == [] and imputed and len(imputed) == len(unlabelled)
    agreement = sum(g == true_group[tuple(k)] for k, g in imputed) / len(imputed)
    assert agreement > 0.5, agreement


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
    assert "kpi.kpi_representation_headline_v2" in shown.output  # the latest version
    assert f"{truth['fitzpatrick_v_vi_share_known']:.4f}" in shown.output


def test_overlap_v2_evidence_covers_v1_with_near_duplicates(built_atlas):
    """kpi_dataset_overlap_v2's per-model `any` rows see every overlap v1 saw; near duplicates are their own evidence."""
    url, truth = built_atlas
    with connect(url) as conn:
        uncovered = conn.execute(
            """
            select v1.model_name, v1.dataset_slug_a, v1.dataset_slug_b
            from kpi.kpi_dataset_overlap_v1 as v1
            join kpi.kpi_dataset_overlap_v2 as v2
                on v2.evidence = 'any' and v2.model_name = v1.model_name
                and v2.dataset_slug_a = v1.dataset_slug_a and v2.dataset_slug_b = v1.dataset_slug_b
            where v2.n_found_by_exact_pixels + v2.n_found_by_near_duplicate < v1.n_with_duplicate_in_b
            """).fetchall()
        near = conn.execute("select sum(n_with_duplicate_in_b) from kpi.kpi_dataset_overlap_v2 "
                            "where evidence = 'near_duplicate' and dataset_slug_a <> dataset_slug_b").fetchone()[0]
        republished = conn.execute(
            "select evidence, model_name is null, n_with_duplicate_in_b from kpi.kpi_dataset_overlap_v2 "
            "where dataset_slug_a = %s and dataset_slug_b = %s and n_with_duplicate_in_b > 0 order by 1, 2",
            (truth["republished"]["slug"], truth["republished"]["from"])).fetchall()
    assert uncovered == []
    assert near > 0
    n = truth["republished"]["n"]
    assert republished == [("any", False, n), ("any", True, n), ("source_id", True, n)]
