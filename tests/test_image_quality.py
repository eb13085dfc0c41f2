"""Image-quality screening: metrics at ingest, flags and KPI views in dbt, on real images and planted junk.

Real PostgreSQL and a real `dbt build` of the quality models (with their
tests). The real images are a handful from ../shared/realdev (both
modalities); each planted junk kind (skinmap.junk) is made from one of them.
"""
from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skinmap import quality
from skinmap.db import connect
from skinmap.dbt_runner import build
from skinmap.hashing import fingerprint
from skinmap.ingest import ingest
from skinmap.ingest.loader import IngestSummary
from skinmap.ingest.mapping import build_mapping
from skinmap.junk import JUNK_KINDS, make_junk
from tests.fix_images import write_csv

REPO = Path(__file__).resolve().parent.parent
REALDEV = REPO.parent / "shared" / "realdev"
SELECT = "+kpi_image_quality +kpi_image_quality_flags"
N_REAL_PER_MODALITY = 4


def _build(url: str) -> None:
    """dbt build of the quality models with their tests; only tests whose parents are all selected
    (stg_atlas__images also has parents of tests on models outside this selection)."""
    previous = os.environ.get("DBT_INDIRECT_SELECTION")
    os.environ["DBT_INDIRECT_SELECTION"] = "cautious"
    try:
        build(url, select=SELECT, quiet=True)  # raises DbtError on a failed model or test
    finally:
        if previous is None:
            del os.environ["DBT_INDIRECT_SELECTION"]
        else:
            os.environ["DBT_INDIRECT_SELECTION"] = previous


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _realdev_sample() -> dict[str, list[dict[str, str]]]:
    """The first images of each modality, spread over the sources (deterministic)."""
    with (REALDEV / "images.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    picked: dict[str, list[dict[str, str]]] = {"clinical": [], "dermoscopic": []}
    sources_seen: set[str] = set()
    for row in rows:  # one per source first, then fill up
        if row["source"] not in sources_seen and len(picked[row["modality"]]) < N_REAL_PER_MODALITY:
            picked[row["modality"]].append(row)
            sources_seen.add(row["source"])
    for row in rows:
        if len(picked[row["modality"]]) < N_REAL_PER_MODALITY and row not in picked[row["modality"]]:
            picked[row["modality"]].append(row)
    return picked


def _write_dataset(root: Path, slug: str, modality: str, files: dict[str, bytes]) -> dict:
    images = root / slug / "images"
    images.mkdir(parents=True)
    for key, data in files.items():
        (images / f"{key}.jpg").write_bytes(data)
    metadata = write_csv(root / slug / "meta.csv", ["image_id"], [[k] for k in files])
    return {
        "dataset": {"slug": slug, "name": slug, "release_year": 2020, "modality": modality},
        "metadata": str(metadata),
        "images": str(images),
        "file_template": "{image_id}.jpg",
        "columns": {"source_key": "image_id"},
    }


@pytest.fixture(scope="module")
def quality_atlas(server_url, tmp_path_factory):
    """Two real datasets (clinical, dermoscopic) with every junk kind planted in each, and a gray dataset."""
    from skinmap import db, migrate

    if not (REALDEV / "images.csv").is_file():
        pytest.fail(f"the real development images are missing: {REALDEV} (CI has them at ../shared/realdev)")
    name = "t_image_quality"
    url = db.create_database(server_url, name, drop_first=True)
    migrate.upgrade(url)
    root = tmp_path_factory.mktemp("quality")
    expected: dict[tuple[str, str], str | None] = {}  # (slug, key) -> the issue it must have, None = clean
    rng = np.random.default_rng(14)
    summaries: dict[str, IngestSummary] = {}
    for modality, rows in _realdev_sample().items():
        slug = f"real-{modality}"
        files: dict[str, bytes] = {}
        for i, row in enumerate(rows):
            files[f"real_{i}"] = (REALDEV / row["file"]).read_bytes()
            expected[(slug, f"real_{i}")] = None
        for j, kind in enumerate(JUNK_KINDS):
            with Image.open(REALDEV / rows[j % len(rows)]["file"]) as im:
                source = im.convert("RGB")
            files[f"junk_{kind}"] = _jpeg(make_junk(kind, source, rng))
            expected[(slug, f"junk_{kind}")] = JUNK_KINDS[kind]
        summary = ingest(url, build_mapping(_write_dataset(root, slug, modality, files), root), progress=False)
        summaries[slug] = summary
    gray_rows = _realdev_sample()["dermoscopic"][:3]
    gray = {f"gray_{i}": _jpeg(Image.open(REALDEV / r["file"]).convert("L")) for i, r in enumerate(gray_rows)}
    summaries["gray-set"] = ingest(url, build_mapping(_write_dataset(root, "gray-set", "dermoscopic", gray), root),
                                   progress=False)
    expected.update({("gray-set", k): None for k in gray})  # a grayscale dataset: gray is not an issue there
    _build(url)
    yield url, expected, summaries
    db.drop_database(server_url, name)


def _flags(url: str) -> dict[tuple[str, str], list[str]]:
    with connect(url) as conn:
        return {(r[0], r[1]): list(r[2]) for r in conn.execute(
            "select d.slug, i.source_key, f.issues from intermediate.int_images_quality_flagged f "
            "join atlas.image i using (image_id) join atlas.dataset d on d.dataset_id = i.dataset_id")}


def test_every_planted_junk_kind_is_flagged_and_real_images_are_not(quality_atlas):
    url, expected, _ = quality_atlas
    flags = _flags(url)
    assert set(flags) == set(expected)
    missed = {k: flags[k] for k, issue in expected.items() if issue is not None and issue not in flags[k]}
    assert not missed, f"junk not flagged with its issue: {missed}"
    false_alarms = {k: flags[k] for k, issue in expected.items() if issue is None and flags[k]}
    assert not false_alarms, f"real images flagged: {false_alarms}"
    # degenerate: stripes / near-constant / low information (an over-exposed copy may be low information too)
    with connect(url) as conn:
        degenerate = {(r[0], r[1]) for r in conn.execute(
            "select d.slug, i.source_key from intermediate.int_images_quality_flagged f "
            "join atlas.image i using (image_id) join atlas.dataset d on d.dataset_id = i.dataset_id "
            "where f.is_degenerate")}
    must = {k for k, issue in expected.items() if issue in quality.DEGENERATE}
    assert len(must) == 8 and must <= degenerate
    assert all(k[1].startswith("junk_") for k in degenerate), degenerate


def test_sql_flags_agree_with_python(quality_atlas):
    """int_images_quality_flagged and skinmap.quality.issues() apply the same thresholds the same way."""
    url, _, _ = quality_atlas
    columns = quality.ImageQuality.columns()
    with connect(url) as conn:
        rows = conn.execute(
            f"select d.slug, i.source_key, i.width, i.height, {', '.join('q.' + c for c in columns)}, f.issues, "
            "f.is_colour_dataset from atlas.image i join atlas.dataset d using (dataset_id) "
            "join atlas.image_quality q using (image_id) "
            "join intermediate.int_images_quality_flagged f using (image_id)").fetchall()
    assert len(rows) == 8 + 20 + 3
    for row in rows:
        q = quality.ImageQuality(*row[4:4 + len(columns)])
        assert quality.issues(q, row[2], row[3], dataset_is_colour=row[-1]) == list(row[-2]), row[:2]
    assert {r[0]: r[-1] for r in rows} == {"real-clinical": True, "real-dermoscopic": True, "gray-set": False}


def test_kpi_counts_and_flag_list(quality_atlas):
    url, expected, _ = quality_atlas
    with connect(url) as conn:
        kpi = {(r[0], r[1]): r[2:] for r in conn.execute(
            "select dataset_slug, issue, n_images, n_screened, n_not_screened, n_flagged, share_flagged "
            "from kpi.kpi_image_quality_v1")}
        flag_rows = conn.execute(
            "select dataset_slug, source_key, file_path, issue, metric, metric_value, threshold "
            "from kpi.kpi_image_quality_flags_v1").fetchall()
    n_real, n_junk = N_REAL_PER_MODALITY, len(JUNK_KINDS)
    for slug in ("real-clinical", "real-dermoscopic"):
        assert kpi[(slug, "any")] == (n_real + n_junk, n_real + n_junk, 0, n_junk,
                                      pytest.approx(n_junk / (n_real + n_junk)))
        assert kpi[(slug, "stripes")][3] == 2  # vertical and horizontal
        assert kpi[(slug, "degenerate")][3] >= 4  # two stripes, flat, noise (flat is also low information)
        assert kpi[(slug, "grayscale")][3] == 1
    assert kpi[("gray-set", "any")][3:5] == (0, 0.0)
    assert len({k[1] for k in kpi}) == 2 + len(quality.ISSUES)
    by_key = {(r[0], r[1]): r for r in flag_rows}
    stripe = next(r for r in flag_rows if r[1] == "junk_stripes_vertical" and r[3] == "stripes")
    assert stripe[2].endswith("junk_stripes_vertical.jpg") and stripe[4] == "least(column_std, row_std)"
    assert stripe[5] < stripe[6]
    assert {k for k in by_key} == {k for k, issue in expected.items() if issue is not None}


def test_an_image_without_quality_row_is_not_screened_and_breaks_nothing(quality_atlas):
    """An atlas ingested before screening existed: images without a quality row are counted apart."""
    url, _, _ = quality_atlas
    with connect(url) as conn:
        image_id = conn.execute(
            "select image_id from atlas.image i join atlas.dataset d using (dataset_id) "
            "where d.slug = 'real-clinical' and i.source_key = 'junk_flat'").fetchone()[0]
        saved = conn.execute("select * from atlas.image_quality where image_id = %s", (image_id,)).fetchone()
        conn.execute("delete from atlas.image_quality where image_id = %s", (image_id,))
        conn.commit()
    try:
        _build(url)
        with connect(url) as conn:
            status = conn.execute(
                "select quality_status, is_flagged, issues from intermediate.int_images_quality_flagged "
                "where image_id = %s", (image_id,)).fetchone()
            anyrow = conn.execute(
                "select n_images, n_screened, n_not_screened, n_flagged from kpi.kpi_image_quality_v1 "
                "where dataset_slug = 'real-clinical' and issue = 'any'").fetchone()
            listed = conn.execute("select count(*) from kpi.kpi_image_quality_flags_v1 where image_id = %s",
                                  (image_id,)).fetchone()[0]
        assert status == ("not screened", False, [])
        n = N_REAL_PER_MODALITY + len(JUNK_KINDS)
        assert anyrow == (n, n - 1, 1, len(JUNK_KINDS) - 1)
        assert listed == 0
    finally:
        with connect(url) as conn:
            placeholders = ", ".join(["%s"] * len(saved))
            conn.execute(f"insert into atlas.image_quality values ({placeholders})", saved)
            conn.commit()
        _build(url)


def test_ingest_summary_previews_the_issues(quality_atlas):
    """The ingest summary counts the issues skinmap.quality finds; the views find the same."""
    url, _, summaries = quality_atlas
    clinical = summaries["real-clinical"]
    assert clinical.quality_issues["stripes"] == 2 and clinical.quality_issues["blurry"] == 1
    assert clinical.quality_issues["grayscale"] == 1 and not summaries["gray-set"].quality_issues
    assert any(line.startswith("  image quality among new ok images: ") for line in clinical.lines())
    with connect(url) as conn:
        counted = dict(conn.execute(
            "select issue, n_flagged from kpi.kpi_image_quality_v1 "
            "where dataset_slug = 'real-clinical' and not is_summary and n_flagged > 0").fetchall())
    assert counted == dict(clinical.quality_issues)


def test_quality_row_is_written_with_the_image_and_removed_with_it(quality_atlas):
    url, _, _ = quality_atlas
    with connect(url) as conn:
        n_ok, n_quality = conn.execute(
            "select count(*) filter (where status = 'ok'), count(q.image_id) "
            "from atlas.image i left join atlas.image_quality q using (image_id)").fetchone()
    assert n_ok == n_quality == 8 + 20 + 3


def test_metrics_of_constructed_images():
    """The raw metrics do what their names say, on images whose answer is known."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, size=(300, 400, 3), dtype=np.uint8)
    rows_equal = quality.measure(Image.fromarray(np.repeat(base[:1], 300, axis=0)))
    assert rows_equal.column_std == pytest.approx(0.0, abs=1e-6) and rows_equal.row_std > 20
    flat = quality.measure(Image.fromarray(np.full((300, 400, 3), 128, np.uint8)))
    assert flat.thumb_std == 0.0 and flat.sharpness == 0.0 and flat.chroma == 0.0
    assert flat.entropy == pytest.approx(np.log2(3))  # PIL: one 768-bin histogram of the 3 bands, one bin each
    black = quality.measure(Image.fromarray(np.zeros((80, 80, 3), np.uint8)))
    assert black.brightness_p99 == 0.0
    assert quality.issues(rows_equal, 400, 300) == ["stripes"]
    assert quality.issues(flat, 400, 300)[:1] == ["near_constant"] and "stripes" not in quality.issues(flat, 400, 300)
    assert quality.issues(flat, 400, 300, dataset_is_colour=False).count("grayscale") == 0


def test_fingerprint_carries_quality_and_is_fast():
    data = (REALDEV / "padufes_groupit").glob("*.jpg").__next__().read_bytes()
    fp = fingerprint(data)
    assert quality.issues(fp.quality, fp.width, fp.height) == []
    import time

    image = Image.open(io.BytesIO(data)).convert("RGB")
    started = time.perf_counter()
    for _ in range(20):
        quality.measure(image)
    assert (time.perf_counter() - started) / 20 < 0.05  # a few ms per image; 50 ms is a clear regression


def test_issue_names_are_declared_once_in_python_and_dbt():
    macro = (REPO / "dbt_project" / "macros" / "quality_issues.sql").read_text()
    pairs = re.findall(r"\('(\w+)', (true|false)\)", macro)
    assert [p[0] for p in pairs] == list(quality.ISSUES)
    assert {p[0] for p in pairs if p[1] == "true"} == quality.DEGENERATE
    variables = quality.thresholds()
    used = set(re.findall(r"var\('(quality_\w+)'\)", (REPO / "dbt_project" / "models" / "intermediate"
                                             / "int_images_quality_flagged.sql").read_text()))
    assert used == set(variables)
