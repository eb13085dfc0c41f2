"""Every dataset adapter on small fixture files in the dataset's real layout, on a real atlas."""
from __future__ import annotations

from pathlib import Path

from skinmap.db import connect
from skinmap.ingest.adapters import ADAPTERS, ingest_with
from tests.fix_images import write_image

FIXTURES = Path(__file__).parent / "fixtures" / "datasets"
FILES = {
    "fitzpatrick17k": ["fitzpatrick17k/fitzpatrick17k.csv"],
    "ham10000": ["ham10000/HAM10000_metadata.csv"],
    "isic2018": ["isic2018/ISIC2018_Task3_Test_GroundTruth.csv"],
    "isic2019": ["isic2019/ISIC_2019_Training_Metadata.csv", "isic2019/ISIC_2019_Training_GroundTruth.csv"],
    "isic2020": ["isic2020/ISIC_2020_Training_GroundTruth.csv"],
    "pad-ufes-20": ["pad-ufes-20/metadata.csv"],
    "ddi": ["ddi/ddi_metadata.csv"],
    "derm7pt": ["derm7pt/meta/meta.csv"],
    "scin": ["scin/scin_cases.csv", "scin/scin_labels.csv"],
}
# adapter: (rows read, loaded, quarantined, issues), measured on the fixtures above
EXPECTED = {
    "fitzpatrick17k": (6, 4, 1, 1), "ham10000": (6, 6, 0, 0), "isic2018": (4, 4, 0, 1), "isic2019": (5, 5, 0, 0),
    "isic2020": (5, 5, 0, 0), "pad-ufes-20": (5, 5, 0, 1), "ddi": (6, 6, 0, 1), "derm7pt": (6, 6, 1, 0),
    "scin": (7, 7, 1, 4),
}


def _paths(name: str) -> list[Path]:
    return [FIXTURES / f for f in FILES[name]]


def test_every_adapter_has_a_fixture():
    assert set(FILES) == set(ADAPTERS)


def test_each_adapter_reads_its_fixture_and_a_second_run_changes_nothing(atlas_db):
    for name in FILES:
        summary = ingest_with(atlas_db, name, _paths(name), None, progress=False)
        counts = (summary.rows_read, summary.loaded, summary.n_quarantined, sum(summary.issues.values()))
        assert counts == EXPECTED[name], name
    with connect(atlas_db) as conn:
        before = conn.execute("select count(*), sum(hashtext(i::text)), sum(hashtext(m::text)) "
                              "from atlas.image i join atlas.image_metadata m using (image_id)").fetchone()
        n_issues = conn.execute("select count(*) from atlas.ingest_issue").fetchone()[0]
    for name in FILES:
        again = ingest_with(atlas_db, name, _paths(name), None, progress=False)
        assert again.loaded == 0 and again.already_present == EXPECTED[name][1], name
    with connect(atlas_db) as conn:
        after = conn.execute("select count(*), sum(hashtext(i::text)), sum(hashtext(m::text)) "
                             "from atlas.image i join atlas.image_metadata m using (image_id)").fetchone()
        assert after == before
        assert conn.execute("select count(*) from atlas.ingest_issue").fetchone()[0] == n_issues
        meta = {
            (r[0], r[1]): r[2:] for r in conn.execute(
                """select d.slug, i.source_key, i.release_year, i.source_collection, i.modality, i.has_image_file,
                          m.fitzpatrick_type, m.fitzpatrick_group, m.age_years, m.age_bin, m.sex, m.country_code,
                          m.continent, m.body_region, m.icd10_code, m.icd10_match, m.is_malignant
                   from atlas.image i join atlas.dataset d using (dataset_id)
                   join atlas.image_metadata m using (image_id)""")
        }
        unknown_columns = {r[0] for r in conn.execute(
            "select column_name from atlas.ingest_issue where reason like 'unknown column%'")}
    assert unknown_columns == {"fitzpatrick17k.csv:extra_col", "scin_cases.csv:wearable_id"}
    # Fitzpatrick17k: -1 falls back to the Centaur label; quoted comma fuzzily matched, never guessed silently
    assert meta["fitzpatrick17k", "fa2911a9b13b6f8af79cb700937cc14f"][4:6] == (5, "V-VI")
    assert meta["fitzpatrick17k", "d2c5d3e4ff1d1fde2ad3b9bd6a0bb1f2"][12:] == ("C44.92", "fuzzy", True)
    # HAM10000: `gender` for `sex`, `dataset` column, age -1 unknown, metadata only
    assert meta["ham10000", "ISIC_0029176"][:3] == (2018, "vienna_dermoscopy", "dermoscopic")
    assert meta["ham10000", "ISIC_0029176"][3] is False
    assert meta["ham10000", "ISIC_0029176"][7:9] == ("0-17", "male")
    assert meta["ham10000", "ISIC_0025837"][6] is None
    # ISIC 2019: collection from the lesion prefix; release year = earliest collection containing the image
    assert meta["isic2019", "ISIC_0027419"][:2] == (2018, "ham10000")
    assert meta["isic2019", "ISIC_0012345"][:2] == (2019, "msk")
    assert meta["isic2019", "ISIC_0053494_downsampled"][1] == "bcn20000"
    assert meta["isic2019", "ISIC_0060000"][11:13] == ("hand/foot", None)  # UNK class -> unknown diagnosis
    assert meta["isic2018", "ISIC_0034526"][12] is None  # two classes hot: unknown, reported
    # ISIC 2020: benign/malignant kept even where the diagnosis is unknown
    assert meta["isic2020", "ISIC_2637011"][12:] == (None, None, False)
    # PAD-UFES-20: `fitspatrick`, FEMALE, country from the catalog
    assert meta["pad-ufes-20", "PAT_46_881_939.png"][4:11] == (3, "III-IV", 55, "50-69", "female", "BR", "South America")
    assert meta["pad-ufes-20", "PAT_684_1302_588.png"][4] is None  # Fitzpatrick 7 out of range
    # DDI: groups only, never a type
    assert meta["ddi", "000001.png"][4:6] == (None, "V-VI")
    assert meta["ddi", "000001.png"][12:] == ("D03.9", "exact", True)
    # Derm7pt: clinical and dermoscopic image of one case
    assert meta["derm7pt", "NEL/Nel026.jpg"][2] == "clinical" and meta["derm7pt", "NEL/Nel025.jpg"][2] == "dermoscopic"
    assert meta["derm7pt", "case:4"][13] == "unmapped"
    # SCIN: dermatologist type before self-report, age bucket midpoint, one row per image
    assert meta["scin", "-3205742176803893704.png"][4:9] == (3, "III-IV", 23.5, "18-29", "female")
    assert sum(1 for (slug, _) in meta if slug == "scin") == 7


def test_images_are_read_and_missing_files_quarantined(atlas_db, tmp_path):
    images = tmp_path / "images"
    for i, key in enumerate(["000001", "000002", "000003"]):
        write_image(images / f"{key}.png", seed=i)
    summary = ingest_with(atlas_db, "ddi", _paths("ddi"), images, progress=False)
    assert summary.loaded == 6 and summary.quarantined == {"missing file": 3}
    with connect(atlas_db) as conn:
        n = conn.execute("select count(*) from atlas.image where has_image_file").fetchone()[0]
    assert n == 3
