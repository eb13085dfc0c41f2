"""`skinmap report`: a self-contained HTML file from the kpi views, checked in real headless Chromium."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from skinmap.cli import cli
from skinmap.db import connect

BROWSER_DIR = Path(__file__).parent / "browser"


def test_report_draws_every_chart_in_chromium(kpi_atlas, repo_root, tmp_path):
    # --map pca: the UMAP map costs about 30 s of numba compilation per process on 2 cores, so Chromium
    # checks the PCA maps here and test_umap_map_marks_images draws the UMAP figure (same plotly scatter)
    out = tmp_path / "atlas.html"
    result = CliRunner().invoke(cli, ["--database-url", kpi_atlas, "report", str(out), "--map", "pca"])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert not re.search(r"<script[^>]+src=", page), "the report must not load scripts from elsewhere"
    expected = ["representation_fitzpatrick_group", "representation_sex",
                "atlas_map_dataset_slug", "atlas_map_fitzpatrick_group", "acquisition_targets",
                "acquisition_targets_uniform"]
    with connect(kpi_atlas) as conn:
        if conn.execute("select count(*) from kpi.kpi_novelty_by_year_v1 where raw_novelty is not null").fetchone()[0]:
            expected.append("novelty_by_year")
        if conn.execute("select count(*) from kpi.kpi_near_duplicate_pairs_v1 where is_cross_dataset").fetchone()[0]:
            expected.append("dataset_overlap")
    for chart in expected:
        assert f'data-chart="{chart}"' in page, chart

    artifacts = repo_root / "artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "report.png"
    sections = artifacts / "report-sections"
    shutil.rmtree(sections, ignore_errors=True)
    sections.mkdir()
    done = subprocess.run(["node", str(BROWSER_DIR / "check_report.mjs"), str(out), str(shot), str(sections)],
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    check = json.loads(done.stdout.strip().splitlines()[-1])
    assert check["errors"] == [] and check["injected"] == []
    assert check["overlaps"] == [], check["overlaps"]  # no chart's labels collide
    assert len(list(sections.glob("section-*.png"))) == page.count("<section>")
    assert page.count('class="caption"') >= page.count('class="chart"')  # a sentence under every chart
    visible = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    assert ">None<" not in visible and not re.search(r">\d+\.\d{5,}<", visible)  # rounded cells, no None
    assert check["expected"] == len(check["drawn"]) >= 5
    assert all(chart["marks"] > 0 for chart in check["drawn"]), check["drawn"]
    assert shot.stat().st_size > 20_000
    shutil.copy(out, artifacts / "report.html")


def test_report_skips_sections_whose_views_are_missing(atlas_db, tmp_path):
    """A migrated atlas before any dbt build has no kpi views: the report still writes, with no sections."""
    out = tmp_path / "empty.html"
    result = CliRunner().invoke(cli, ["--database-url", atlas_db, "report", str(out)])
    assert result.exit_code == 0, result.output
    assert "0 sections" in result.output and 'class="chart"' not in out.read_text()


def test_a_view_read_several_ways_is_drawn_in_its_default_reading():
    """kpi_representation_v2 has eight readings of each value; the report draws v1's (all values, all images)."""
    from skinmap.report.page import _default_variant

    view = [{"value": "5-6", "values_from": vf, "counted_over": co, "n_images": n}
            for n, (vf, co) in enumerate([(vf, co) for vf in ("labelled", "labelled_and_imputed")
                                          for co in ("images", "unique_images", "lesions", "patients")])]
    assert _default_variant(view) == [view[4]]
    assert _default_variant([{"value": "5-6", "n_images": 3}]) == [{"value": "5-6", "n_images": 3}]


def _sample_rows(n: int = 80, dim: int = 16) -> list[dict]:
    import numpy as np

    rng = np.random.default_rng(4)
    centres = rng.standard_normal((2, dim))
    return [{"model_name": "m", "image_id": i, "dataset_slug": f"d{i % 2}", "fitzpatrick_group": "I-II",
             "vec": (centres[i % 2] + 0.3 * rng.standard_normal(dim)).tolist()} for i in range(n)]


def test_umap_map_marks_images():
    """The UMAP map (umap-learn, seeded) and the PCA map draw one trace per dataset plus one per mark kind
    present in the sample; UMAP keeps the two planted clusters apart."""
    import numpy as np

    from skinmap.report import charts

    rows = _sample_rows()
    marks = {"uncovered": {("m", 3), ("m", 5), ("other-model", 7)}, "suspected label error": {("m", 10)},
             "structural void boundary": {("m", 999)}}  # not in the sample: no trace
    for method in ("pca", "umap"):
        fig = charts.atlas_map(rows, "dataset_slug", method=method, marks=marks)
        names = [trace.name for trace in fig.data]
        assert names == ["d0", "d1", "uncovered (2)", "suspected label error (1)"], (method, names)
        assert method.upper() in fig.layout.title.text
    d0, d1 = (np.column_stack([fig.data[j].x, fig.data[j].y]) for j in (0, 1))
    spread = max(d0.std(axis=0).max(), d1.std(axis=0).max())
    assert np.linalg.norm(d0.mean(axis=0) - d1.mean(axis=0)) > 2 * spread


def test_map_marks_read_the_views_that_exist_and_the_void_hook():
    """Uncovered images and suspected label errors come from their views; structural void boundary images
    are drawn once a kpi_structural_void_boundary_images view exists (another analysis adds it)."""
    from skinmap.report.page import _map_marks

    data = {"kpi_uncovered_images": [{"model_name": "m", "image_id": 1, "is_uncovered": True},
                                     {"model_name": "m", "image_id": 2, "is_uncovered": False}],
            "kpi_suspected_label_errors": [{"model_name": "m", "image_id": 3}],
            "kpi_structural_void_boundary_images": [{"model_name": "m", "image_id": 4, "void_id": 1}]}
    views = {topic: f"{topic}_v1" for topic in data}
    read = lambda topic: data.get(topic, []) if topic in views else []
    assert _map_marks(read, views) == {"uncovered": {("m", 1)}, "suspected label error": {("m", 3)},
                                       "structural void boundary": {("m", 4)}}
    del views["kpi_structural_void_boundary_images"]
    assert "structural void boundary" not in _map_marks(read, views)


def test_table_cells_are_rounded_with_units_and_never_none():
    from decimal import Decimal

    from skinmap.report.page import format_cell

    assert format_cell("share_known", 0.26573033707865168) == "26.6%"
    assert format_cell("n_expected", 26.573033707865168) == "26.6"
    assert format_cell("n_images", 12345) == "12,345"
    assert format_cell("n_expected", Decimal("3.14159")) == "3.1"
    assert format_cell("age_bin", None) == "–" and format_cell("is_empty", True) == "yes"


# Strings a downloaded metadata file could carry into a label; each one, if it ever ran, sets the flag or opens a dialog.
XSS = ('<script>window.__skinmap_pwned=1;alert(1)</script>',
       '</script><script>window.__skinmap_pwned=1;alert(2)</script>',
       '<img src=x onerror="window.__skinmap_pwned=1;alert(3)">', '"><svg onload="alert(4)">',
       '<a href="javascript:alert(5)">click me</a>', "<iframe src=\"javascript:alert(6)\"></iframe>",
       "{{constructor.constructor('alert(7)')()}}")


def test_hostile_labels_render_inert_in_chromium(tmp_path):
    """Every chart kind and the cells table, fed labels and dataset names that are markup: no script runs."""
    from skinmap.report import charts, page

    representation = [{"attribute": "sex", "value": v, "value_order": i, "n_images": 10 + i, "share": 1 / len(XSS),
                       "wilson_low": 0.05, "wilson_high": 0.3, "share_known": 0.9} for i, v in enumerate(XSS)]
    sample = [{**r, "dataset_slug": XSS[i % len(XSS)]} for i, r in enumerate(_sample_rows())]
    figures = [*(fig for _, fig in charts.representation(representation)),
               charts.overlap_heatmap({(a, b): 0.1 for a in XSS[:3] for b in XSS[3:]}, XSS[0]),
               charts.atlas_map(sample, "dataset_slug", method="pca")]
    cells = page._empty_cells_table([{"diagnosis_group": v, "fitzpatrick_group": "V-VI", "n_images": 0,
                                      "n_expected": 3.5} for v in XSS])
    sections = [(XSS[i % len(XSS)], page._figure_html(fig, f"hostile_{i}")) for i, fig in enumerate(figures)]
    sections.append((XSS[1], cells))
    check = _browser_check(tmp_path / "hostile.html", page.render_page(sections))
    assert check["expected"] == len(figures) and all(c["marks"] > 0 for c in check["drawn"]), check["drawn"]
    assert check["errors"] == [], check["errors"]  # a dialog that opened is listed here
    assert check["injected"] == [], check["injected"]
    # the control: the same string pasted in unescaped is caught, by its dialog and its handler
    control = _browser_check(tmp_path / "control.html", page.render_page([("control", f"<div>{XSS[2]}</div>")]))
    assert "dialog opened: 3" in control["errors"] and "IMG onerror" in control["injected"]


def _browser_check(path: Path, text: str) -> dict:
    path.write_text(text)
    done = subprocess.run(["node", str(BROWSER_DIR / "check_report.mjs"), str(path), str(path.with_suffix(".png"))],
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
