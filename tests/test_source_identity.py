"""Identity without pixels: shared source ids, lesions and patients, on a real atlas with a real dbt build.

The fixtures in tests/fixtures/identity are rows of the real metadata files
(docs/ingest.md, "Identity without pixels": HAM10000_metadata.csv, ISIC 2019
training metadata with its `gender` header and CRLF ground truth, ISIC 2020
ground truth), cut to a few images: HAM10000's 8 images of 3 lesions all
reappear in ISIC 2019, one of them as `ISIC_0031650_downsampled` (a quirk the
real file shows on other ids), beside 4 ISIC 2019 images of its own. The
ingest is metadata-only: no image files, no pixels, no vectors.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from skinmap import db, migrate
from skinmap.dbt_runner import build
from skinmap.ingest import ingest, load_mapping
from skinmap.ingest.adapters import ingest_with
from skinmap.ingest.identity import canonical_source_image_id, isic_image_id

FIXTURES = Path(__file__).parent / "fixtures"
IDENTITY = FIXTURES / "identity"
MODELS = ("+kpi_unique_images +kpi_images_per_lesion_and_patient +kpi_dataset_overlap.v2 "
          "+kpi_dataset_redundancy.v2 +kpi_duplicate_clusters.v2")
# A clinic dataset whose raw lesion and patient ids collide with PAD-UFES-20's (1765, 881; PAT_1516)
# without being the same lesions or people, and which republishes one HAM10000 image under its ISIC id.
CLINIC_CSV = """image_id,isic_id,patient_id,lesion_id,diagnosis
C1,,PAT_1516,1765,melanocytic nevus
C2,,PAT_1516,1765,melanocytic nevus
C3,ISIC_0027419.jpg,PAT_9,881,benign keratosis
"""
CLINIC_YAML = """dataset: {slug: clinic, name: Clinic, release_year: 2023, modality: dermoscopic}
metadata: clinic.csv
columns:
  source_key: image_id
  source_image_id: isic_id
  patient_id: patient_id
  lesion_id: lesion_id
  diagnosis: diagnosis
"""


def test_canonical_source_image_id():
    assert isic_image_id("ISIC_0024306") == "ISIC_0024306"
    assert isic_image_id("ISIC_0024306_downsampled") == "ISIC_0024306"
    assert isic_image_id("isic_0024306.JPG") == "ISIC_0024306"
    assert isic_image_id("ISIC_00243060") is None and isic_image_id("PAT_46_881_939.png") is None
    assert canonical_source_image_id("  ISIC_0024306_downsampled ") == "ISIC_0024306"
    assert canonical_source_image_id("DDI-000001") == "DDI-000001"
    assert canonical_source_image_id("") is None and canonical_source_image_id(None) is None


def ingest_isic_fixtures(url: str) -> None:
    """HAM10000, ISIC 2019 and ISIC 2020 rows in their real layouts, metadata only."""
    ingest_with(url, "ham10000", [IDENTITY / "HAM10000_metadata.csv"], None, progress=False)
    ingest_with(url, "isic2019", [IDENTITY / "ISIC_2019_Training_Metadata.csv",
                                  IDENTITY / "ISIC_2019_Training_GroundTruth.csv"], None, progress=False)
    ingest_with(url, "isic2020", [IDENTITY / "ISIC_2020_Training_GroundTruth.csv"], None, progress=False)


@pytest.fixture(scope="module")
def identity_atlas(server_url, tmp_path_factory) -> str:
    """HAM10000 + ISIC 2019 + ISIC 2020 + PAD-UFES-20 + a mapped clinic set, metadata only, built once."""
    os.environ["DBT_INDIRECT_SELECTION"] = "cautious"  # the selected models' own tests
    name = f"t_identity_{uuid.uuid4().hex[:8]}"
    url = db.create_database(server_url, name)
    migrate.upgrade(url)
    ingest_isic_fixtures(url)
    ingest_with(url, "pad-ufes-20", [FIXTURES / "datasets" / "pad-ufes-20" / "metadata.csv"], None, progress=False)
    clinic = tmp_path_factory.mktemp("clinic")
    (clinic / "clinic.csv").write_text(CLINIC_CSV)
    (clinic / "clinic.yaml").write_text(CLINIC_YAML)
    ingest(url, load_mapping(clinic / "clinic.yaml"), progress=False)
    try:
        build(url, select=MODELS, quiet=True)
        yield url
    finally:
        os.environ.pop("DBT_INDIRECT_SELECTION", None)
        db.drop_database(server_url, name)


def _rows(url: str, query: str) -> list[tuple]:
    with db.connect(url) as conn:
        return conn.execute(query).fetchall()


def test_every_row_gets_its_source_id_without_pixels(identity_atlas):
    rows = dict(((slug, key), (sid, has_file, year)) for slug, key, sid, has_file, year in _rows(
        identity_atlas, "select d.slug, i.source_key, i.source_image_id, i.has_image_file, i.release_year "
                        "from atlas.image i join atlas.dataset d using (dataset_id)"))
    assert len(rows) == 8 + 12 + 5 + 5 + 3
    assert not any(has_file for _, has_file, _ in rows.values())
    assert rows["isic2019", "ISIC_0031650_downsampled"][0] == "ISIC_0031650"
    assert rows["ham10000", "ISIC_0031650"][0] == "ISIC_0031650"
    assert rows["isic2020", "ISIC_2637011"][0] == "ISIC_2637011"
    assert rows["clinic", "C3"][0] == "ISIC_0027419"  # mapped field, extension dropped
    assert rows["clinic", "C1"][0] is None
    assert all(sid is None for (slug, _), (sid, _, _) in rows.items() if slug == "pad-ufes-20")
    # a republished image takes its earliest year: HAM10000's images in ISIC 2019 are 2018's
    assert rows["isic2019", "ISIC_0031650_downsampled"][2] == 2018
    assert rows["isic2019", "ISIC_0073251"][2] == 2019


def test_unique_images_by_source_id(identity_atlas):
    got = {(g, s): r for g, s, *r in _rows(identity_atlas, "select * from kpi.kpi_unique_images_v1")}
    # n_images, n_with_source_id, n_unique_by_source_id, n_removed_by_source_id, share, n_representatives
    assert got["dataset", "ham10000"] == [8, 8, 8, 0, 1.0, 8]
    assert got["dataset", "isic2019"] == [12, 12, 12, 0, 1.0, 4]  # its 8 HAM images are HAM10000's first
    assert got["dataset", "clinic"][:5] == [3, 1, 3, 0, 1.0] and got["dataset", "clinic"][5] == 2
    # atlas: 33 rows; 8 HAM copies in ISIC 2019 and 1 in the clinic set are the same images
    assert got["atlas", None][:4] == [33, 26, 24, 9]
    assert got["atlas", None][5] == 24


def test_overlap_rows_say_the_evidence_was_the_source_id(identity_atlas):
    rows = _rows(identity_atlas, "select evidence, model_name, dataset_slug_a, dataset_slug_b, n_images_a, "
                                 "n_with_duplicate_in_b, share_with_duplicate_in_b, n_found_by_source_id, "
                                 "n_found_by_exact_pixels, n_found_by_near_duplicate from kpi.kpi_dataset_overlap_v2")
    assert {(r[0], r[1]) for r in rows} == {("source_id", None), ("exact_pixels", None), ("any", None)}
    overlap = {(r[0], r[2], r[3]): r[4:] for r in rows}
    assert overlap["source_id", "ham10000", "isic2019"] == (8, 8, 1.0, 8, 0, 0)  # HAM10000 inside ISIC 2019
    assert overlap["source_id", "isic2019", "ham10000"] == (12, 8, 8 / 12, 8, 0, 0)
    assert overlap["any", "ham10000", "isic2019"] == (8, 8, 1.0, 8, 0, 0)
    assert overlap["source_id", "clinic", "ham10000"][:2] == (3, 1)
    assert overlap["source_id", "ham10000", "ham10000"][1] == 0  # no copies inside HAM10000
    assert all(v[1] == 0 for (e, a, _), v in overlap.items() if e == "exact_pixels" or a == "pad-ufes-20")
    assert overlap["source_id", "isic2020", "isic2019"][1] == 0


def test_redundancy_and_clusters_by_source_id(identity_atlas):
    red = {(r[0], r[1]): r[2:] for r in _rows(
        identity_atlas, "select evidence, dataset_slug, n_images, n_duplicated_within, n_in_earlier_datasets, "
                        "n_unique_images from kpi.kpi_dataset_redundancy_v2 where model_name is null")}
    assert red["source_id", "isic2019"] == (12, 0, 8, 4)
    assert red["source_id", "ham10000"] == (8, 0, 0, 8)
    assert red["source_id", "clinic"] == (3, 0, 1, 2)
    clusters = _rows(identity_atlas, "select n_images, dataset_slugs, is_cross_dataset from "
                                     "kpi.kpi_duplicate_clusters_v2 where evidence = 'source_id'")
    assert len(clusters) == 8
    assert sorted(c[0] for c in clusters) == [2] * 7 + [3]
    assert ["clinic", "ham10000", "isic2019"] in [c[1] for c in clusters]
    assert all(c[2] for c in clusters)


def test_images_per_lesion_and_patient_with_namespaced_ids(identity_atlas):
    got = {(r[0], r[1]): r[2:] for r in _rows(
        identity_atlas, "select * from kpi.kpi_images_per_lesion_and_patient_v1")}
    # n_images, n_with_lesion_id, n_lesions, mean, max per lesion, n_with_patient_id, n_patients, mean, max
    assert got["dataset", "ham10000"] == (8, 8, 3, pytest.approx(8 / 3), 4, 0, 0, None, None)
    assert got["dataset", "isic2019"][:5] == (12, 10, 5, pytest.approx(2.0), 4)
    assert got["dataset", "isic2020"][5:] == (5, 2, pytest.approx(2.5), 4)
    assert got["dataset", "clinic"][:5] == (3, 3, 2, pytest.approx(1.5), 2)
    atlas = got["atlas", None]
    # 24 unique images; lesions: 3 HAM_ (shared by HAM10000 and ISIC 2019) + 2 BCN_ + 5 PAD-UFES-20 + 2 clinic,
    # the clinic's "1765" and "881" stay apart from PAD-UFES-20's; HAM_0003847's 4 images count once each
    assert atlas[0] == 24
    assert atlas[2] == 12 and atlas[4] == 4
    # patients: 2 ISIC 2020 + 5 PAD-UFES-20 + 2 clinic (its PAT_1516 is not PAD-UFES-20's PAT_1516)
    assert atlas[6] == 9 and atlas[8] == 4
    keys = dict(_rows(identity_atlas, "select source_key, lesion_key from intermediate.int_images_keyed_by_identity "
                                      "where source_key in ('C1', 'ISIC_0027419', 'PAT_1516_1765_530.png')"))
    assert keys == {"C1": "clinic:1765", "ISIC_0027419": "HAM_0000118",
                    "PAT_1516_1765_530.png": "pad-ufes-20:1765"}


def test_migration_backfills_existing_rows_and_downgrades(empty_db):
    migrate.upgrade(empty_db, "i14_01")
    with db.connect(empty_db) as conn:
        dataset_id = conn.execute("insert into atlas.dataset (slug, name) values ('old', 'Old') "
                                  "returning dataset_id").fetchone()[0]
        conn.execute("insert into atlas.image (dataset_id, source_key) values (%s, 'ISIC_0024306_downsampled'), "
                     "(%s, 'ISIC_0024306.jpg'), (%s, 'PAT_1_2_3.png'), (%s, 'ISIC_123')",
                     (dataset_id,) * 4)
        conn.commit()
    migrate.upgrade(empty_db)
    with db.connect(empty_db) as conn:
        got = dict(conn.execute("select source_key, source_image_id from atlas.image").fetchall())
        assert conn.execute("select count(*) from pg_indexes where indexname = 'ix_image_source_image_id'"
                            ).fetchone()[0] == 1
    assert got == {"ISIC_0024306_downsampled": "ISIC_0024306", "ISIC_0024306.jpg": "ISIC_0024306",
                   "PAT_1_2_3.png": None, "ISIC_123": None}
    migrate.downgrade(empty_db, "i14_01")
    with db.connect(empty_db) as conn:
        assert conn.execute("select count(*) from information_schema.columns where table_schema = 'atlas' "
                            "and table_name = 'image' and column_name = 'source_image_id'").fetchone()[0] == 0


def test_v2_overlap_keeps_the_vector_evidence_beside_the_ids(kpi_atlas):
    """On the embedded demo atlas: per-model rows exist, and v2's evidence covers everything v1 counted."""
    with db.connect(kpi_atlas) as conn:
        scopes = set(conn.execute("select distinct evidence, model_name is null from kpi.kpi_dataset_overlap_v2"))
        uncovered = conn.execute(
            """
            select v1.model_name, v1.dataset_slug_a, v1.dataset_slug_b, v1.n_with_duplicate_in_b,
                   v2.n_with_duplicate_in_b, v2.n_found_by_exact_pixels, v2.n_found_by_near_duplicate
            from kpi.kpi_dataset_overlap_v1 as v1
            join kpi.kpi_dataset_overlap_v2 as v2
                on v2.evidence = 'any' and v2.model_name = v1.model_name
                and v2.dataset_slug_a = v1.dataset_slug_a and v2.dataset_slug_b = v1.dataset_slug_b
            where v2.n_with_duplicate_in_b < v1.n_with_duplicate_in_b
               or v2.n_found_by_exact_pixels + v2.n_found_by_near_duplicate < v1.n_with_duplicate_in_b
            """).fetchall()
        n_v1 = conn.execute("select sum(n_with_duplicate_in_b) from kpi.kpi_dataset_overlap_v1").fetchone()[0]
        exact = conn.execute("select coalesce(sum(n_with_duplicate_in_b), 0) from kpi.kpi_dataset_overlap_v2 "
                             "where evidence = 'exact_pixels'").fetchone()[0]
    assert scopes == {("source_id", True), ("exact_pixels", True), ("any", True),
                      ("near_duplicate", False), ("any", False)}
    assert n_v1 > 0 and exact > 0  # (this fixture computes no kNN edges: v1's pairs are its exact duplicates)
    assert uncovered == []
