"""Representation over labelled vs labelled + imputed values, counted over images, unique images, lesions, patients.

A metadata-only atlas of real-layout rows (tests/fixtures/identity: HAM10000's
8 images of 3 lesions, all republished by ISIC 2019 beside 4 images of its
own; 5 ISIC 2020 images of 2 patients) plus a mapped clinic set with
Fitzpatrick types, ages and patients, one of whose images is HAM10000's
ISIC_0027419 again. Imputed values are written with SQL into empty fields
(provenance 'imputed'), as `skinmap impute` does. Every expected number below
is counted by hand from these rows; the comments show the count.
"""
from __future__ import annotations

import os
import uuid

import pytest

from skinmap import db, migrate
from skinmap.dbt_runner import build
from skinmap.ingest import ingest, load_mapping
from tests.test_source_identity import ingest_isic_fixtures

MODELS = "+kpi_representation +kpi_representation_by_dataset +kpi_representation_headline"
CLINIC_CSV = """image_id,isic_id,patient_id,lesion_id,fitzpatrick,age,sex,diagnosis
C1,,P1,L1,5,10,female,melanocytic nevus
C2,,P1,L1,6,12,female,melanocytic nevus
C3,,P1,L2,,14,female,melanocytic nevus
C4,,P2,L3,2,16,female,melanocytic nevus
C5,,P2,L3,5,41,male,melanocytic nevus
C6,,P2,L3,,42,male,melanocytic nevus
C7,,,,1,,,melanocytic nevus
C8,ISIC_0027419,P3,,6,80,male,benign keratosis
"""
CLINIC_YAML = """dataset: {slug: clinic, name: Clinic, release_year: 2023, modality: dermoscopic}
metadata: clinic.csv
columns:
  source_key: image_id
  source_image_id: isic_id
  patient_id: patient_id
  lesion_id: lesion_id
  fitzpatrick: fitzpatrick
  age: age
  sex: sex
  diagnosis: diagnosis
"""
IMPUTE_FITZPATRICK = """
update atlas.image_metadata m set fitzpatrick_type = 5, fitzpatrick_group = 'V-VI',
    fitzpatrick_provenance = 'imputed'
from atlas.image i join atlas.dataset d using (dataset_id)
where m.image_id = i.image_id and d.slug = 'ham10000' and i.lesion_id = 'HAM_0003847'
    and m.fitzpatrick_group is null
"""
IMPUTE_AGE = """
update atlas.image_metadata m set age_years = 15, age_bin = '0-17', age_provenance = 'imputed'
from atlas.image i join atlas.dataset d using (dataset_id)
where m.image_id = i.image_id and d.slug = 'clinic' and i.source_key = 'C7' and m.age_years is null
"""


@pytest.fixture(scope="module")
def variants_atlas(server_url, tmp_path_factory) -> str:
    os.environ["DBT_INDIRECT_SELECTION"] = "cautious"  # the selected models' own tests
    name = f"t_reprvar_{uuid.uuid4().hex[:8]}"
    url = db.create_database(server_url, name)
    migrate.upgrade(url)
    ingest_isic_fixtures(url)
    clinic = tmp_path_factory.mktemp("clinic")
    (clinic / "clinic.csv").write_text(CLINIC_CSV)
    (clinic / "clinic.yaml").write_text(CLINIC_YAML)
    ingest(url, load_mapping(clinic / "clinic.yaml"), progress=False)
    with db.connect(url) as conn:
        assert conn.execute(IMPUTE_FITZPATRICK).rowcount == 4
        assert conn.execute(IMPUTE_AGE).rowcount == 1
        conn.commit()
    try:
        build(url, select=MODELS, quiet=True)
        yield url
    finally:
        os.environ.pop("DBT_INDIRECT_SELECTION", None)
        db.drop_database(server_url, name)


def _rows(url: str, query: str) -> list[tuple]:
    with db.connect(url) as conn:
        return conn.execute(query).fetchall()


def _headline(url: str) -> dict[tuple[str, str], dict]:
    with db.connect(url) as conn:
        cur = conn.execute("select * from kpi.kpi_representation_headline_v2")
        names = [c.name for c in cur.description]
        return {(r["values_from"], r["counted_over"]): r for r in (dict(zip(names, row)) for row in cur)}


def test_headline_variants_match_a_count_by_hand(variants_atlas):
    got = _headline(variants_atlas)
    assert set(got) == {(v, c) for v in ("labelled", "labelled_and_imputed")
                        for c in ("images", "unique_images", "lesions", "patients")}
    # (n_total, n_images_counted, n_removed, V-VI, Fitzpatrick known, pediatric, age known)
    expected = {
        # 33 rows: HAM 8 + ISIC 2019 12 + ISIC 2020 5 + clinic 8. Fitzpatrick labelled only in the clinic:
        # V-VI C1 C2 C5 C8, I-II C4 C7. Age known everywhere but C7; pediatric C1 C2 C3 C4 (10-16).
        ("labelled", "images"): (33, 33, 0, 4, 6, 4, 32),
        # + HAM_0003847's 4 HAM10000 images imputed V-VI, + C7 imputed age 15
        ("labelled_and_imputed", "images"): (33, 33, 0, 8, 10, 5, 33),
        # 8 HAM images in ISIC 2019 and ISIC_0027419 once more as C8: 33 - 9 = 24 clusters;
        # C8's cluster takes C8's type (its only known one)
        ("labelled", "unique_images"): (24, 33, 9, 4, 6, 4, 23),
        # the imputed HAM images' clusters (each with its unlabelled ISIC 2019 copy) read V-VI
        ("labelled_and_imputed", "unique_images"): (24, 33, 9, 8, 10, 5, 24),
        # lesions: HAM_0000118, HAM_0002730, HAM_0003847 (HAM + ISIC 2019 copies), BCN_0002083,
        # BCN_0001079, clinic L1 L2 L3 = 8, holding 8 + 10 + 6 = 24 images (9 without a lesion id).
        # L1 V-VI; L3 ties I-II (C4) and V-VI (C5): the earlier image, C4, wins. Youngest age:
        # L1 10, L2 14, L3 16 (although most of L3's images are 41-42) -> 3 pediatric lesions.
        ("labelled", "lesions"): (8, 24, 25, 1, 2, 3, 8),
        ("labelled_and_imputed", "lesions"): (8, 24, 25, 2, 3, 3, 8),
        # patients: IP_7279968, IP_3075186 (ISIC 2020), P1, P2, P3 = 5 of 12 images.
        # P1 V-VI, P2 tie -> I-II (C4 first), P3 V-VI (C8); pediatric P1 (10) and P2 (16)
        ("labelled", "patients"): (5, 12, 28, 2, 3, 2, 5),
        ("labelled_and_imputed", "patients"): (5, 12, 28, 2, 3, 2, 5),
    }
    for key, (n_total, n_counted, n_removed, n_v_vi, n_fitz, n_ped, n_age) in expected.items():
        row = got[key]
        assert (row["n_total"], row["n_images_counted"], row["n_removed"], row["n_fitzpatrick_v_vi"],
                row["n_fitzpatrick_known"], row["n_pediatric"], row["n_age_known"]) == (
            n_total, n_counted, n_removed, n_v_vi, n_fitz, n_ped, n_age), key
        assert row["n_images_all"] == 33 and row["n_images_without_id"] == 33 - n_counted
        assert row["share_fitzpatrick_v_vi"] == pytest.approx(n_v_vi / n_fitz)
        assert row["share_pediatric"] == pytest.approx(n_ped / n_age)
        assert row["share_fitzpatrick_v_vi_wilson_low"] <= row["share_fitzpatrick_v_vi"] \
            <= row["share_fitzpatrick_v_vi_wilson_high"]
    # Wilson 95% interval of 2 / 5 (z = 1.959964), by hand
    z, p, n = 1.959964, 2 / 5, 5
    centre, half = p + z * z / (2 * n), z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5)
    row = got["labelled", "patients"]
    assert row["share_pediatric_wilson_low"] == pytest.approx((centre - half) / (1 + z * z / n))
    assert row["share_pediatric_wilson_high"] == pytest.approx((centre + half) / (1 + z * z / n))


def test_labelled_and_imputed_differ_exactly_by_the_imputed_values(variants_atlas):
    rows = _rows(variants_atlas, """
        select l.attribute, l.value, l.n_images, i.n_images, i.n_imputed, l.n_imputed, i.n_labelled, l.n_labelled
        from kpi.kpi_representation_v2 l
        join kpi.kpi_representation_v2 i using (counted_over, attribute, value)
        where l.values_from = 'labelled' and i.values_from = 'labelled_and_imputed'
            and l.counted_over = 'images' and l.value <> 'unknown'""")
    diff = {(a, v): n_i - n_l for a, v, n_l, n_i, imp, l_imp, i_lab, l_lab in rows if n_i != n_l}
    assert diff == {("fitzpatrick_type", "5"): 4, ("fitzpatrick_group", "V-VI"): 4,
                    ("age_bin", "0-17"): 1, ("is_pediatric", "true"): 1}
    for _attribute, _value, n_l, n_i, imp, l_imp, i_lab, l_lab in rows:
        assert imp == n_i - n_l and l_imp == 0 and i_lab == l_lab == n_l
    # the v1 view counts labels and imputed values alike, like 'labelled_and_imputed'
    v1 = dict(((a, v), n) for a, v, n in _rows(variants_atlas,
              "select attribute, value, n_images from kpi.kpi_representation_v1"))
    v2 = dict(((a, v), n) for a, v, n in _rows(variants_atlas,
              "select attribute, value, n_images from kpi.kpi_representation_v2 "
              "where values_from = 'labelled_and_imputed' and counted_over = 'images'"))
    assert v1 == v2


def test_a_unit_takes_its_most_frequent_value(variants_atlas):
    sex = {(c, v): n for c, v, n in _rows(variants_atlas, """
        select counted_over, value, n_images from kpi.kpi_representation_v2
        where values_from = 'labelled' and attribute = 'sex'""")}
    # patients: IP_7279968 male (4 images), IP_3075186 female, P1 female, P2 male (C5, C6) over
    # female (C4, its earliest image), P3 male
    assert (sex["patients", "male"], sex["patients", "female"], sex["patients", "unknown"]) == (3, 2, 0)
    # lesions: 3 HAM (male) + BCN_0002083 female + BCN_0001079 male + L1 L2 female + L3 male (2 of 3)
    assert (sex["lesions", "male"], sex["lesions", "female"]) == (5, 3)
    # unique images: 24 clusters; C7 has no sex
    assert sex["unique_images", "unknown"] == 1 and sum(n for (c, _), n in sex.items()
                                                         if c == "unique_images") == 24


def test_by_dataset_counts_units_inside_each_dataset(variants_atlas):
    got = {(c, s): (n_total, n) for c, s, n_total, n in _rows(variants_atlas, """
        select counted_over, dataset_slug, n_total, n_images from kpi.kpi_representation_by_dataset_v2
        where values_from = 'labelled' and attribute = 'is_pediatric' and value = 'true'""")}
    # inside ISIC 2019 every row is its own image (its HAM copies are duplicates of HAM10000's rows)
    assert got["unique_images", "isic2019"] == (12, 0) and got["images", "isic2019"] == (12, 0)
    # its lesions: 3 HAM lesions + 2 BCN; ISIC 2020 has patients and no lesion ids
    assert got["lesions", "isic2019"] == (5, 0) and got["lesions", "isic2020"] == (0, 0)
    assert got["patients", "isic2020"] == (2, 0) and got["patients", "clinic"] == (3, 2)
    assert got["lesions", "clinic"] == (3, 3)
