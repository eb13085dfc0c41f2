"""Every dataset adapter on small fixture files in the dataset's real layout, on a real atlas."""
from __future__ import annotations

import csv
from pathlib import Path

from click.testing import CliRunner

from skinmap.cli import cli
from skinmap.db import connect
from skinmap.ingest import packaged
from skinmap.ingest.adapters import ADAPTERS, ingest_with, sources
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
    "isic2016": ["isic2016/ISBI2016_ISIC_Part3_Training_GroundTruth.csv", "isic2016/ISBI2016_ISIC_Part3_Test_GroundTruth.csv"],
    "isic2017": ["isic2017/ISIC-2017_Validation_Part3_GroundTruth.csv"],
    "isic2024": ["isic2024/test-metadata.csv"],
    "mskcc": ["mskcc/lesion-size-2020_metadata.csv", "mskcc/data_joined.csv"],
    "ph2": ["ph2/PH2_dataset.xlsx"],
    "isic-archive": ["isic-archive/metadata.csv"],
    # folder-per-class (packaged mappings): a file listing stands for the image tree
    "dermnet": ["dermnet/files.txt"],
    "med-node": ["med-node/files.txt"],
    "sd-128": ["sd-128/files.txt"],
}
# The adapters that read CSV files: the property tests rewrite their fixtures' rows (PH2's .xlsx and the
# folder-per-class mappings' file listings have their own fixture tests).
CSV_FILES = {name: files for name, files in FILES.items()
             if not name.startswith(("dermnet", "med-node", "sd-128")) and all(f.endswith(".csv") for f in files)}
# adapter: (rows read, loaded, quarantined, issues), measured on the fixtures above
EXPECTED = {
    "fitzpatrick17k": (6, 4, 1, 1), "ham10000": (6, 6, 0, 0), "isic2018": (4, 4, 0, 1), "isic2019": (5, 5, 0, 0),
    "isic2020": (5, 5, 0, 0), "pad-ufes-20": (5, 5, 0, 1), "ddi": (6, 6, 0, 1), "derm7pt": (6, 6, 1, 0),
    "scin": (7, 7, 1, 4), "isic2016": (9, 9, 0, 0), "isic2017": (6, 6, 0, 0), "isic2024": (3, 3, 0, 0),
    "mskcc": (10, 10, 0, 0), "ph2": (9, 9, 0, 0), "isic-archive": (5, 5, 0, 0), "dermnet": (6, 6, 0, 6), "med-node": (4, 4, 0, 0),
    "sd-128": (4, 4, 0, 0),
}
CATALOG = Path(__file__).parents[1] / "dbt_project" / "seeds" / "dataset_catalog.csv"


def _paths(name: str) -> list[Path]:
    return [FIXTURES / f for f in FILES[name]]


def test_every_adapter_has_a_fixture():
    assert set(FILES) == set(sources()) == set(ADAPTERS) | set(packaged.names())
    for name in FILES:
        assert (FIXTURES / FILES[name][0]).parent.joinpath("SOURCES.md").is_file() or name in {
            "fitzpatrick17k", "ham10000", "isic2018", "isic2019", "isic2020", "pad-ufes-20", "ddi", "derm7pt", "scin",
        }, f"{name}: fixture without SOURCES.md"


def test_every_source_is_listed_and_has_its_catalog_row():
    listed = CliRunner().invoke(cli, ["adapters"])
    assert listed.exit_code == 0, listed.output
    names = {line.split()[0] for line in listed.output.splitlines() if line and not line.startswith(" ")}
    assert names == {*sources(), "mapped"}
    with CATALOG.open(newline="") as handle:
        catalog = {r["dataset_slug"]: r for r in csv.DictReader(handle)}
    for name in sources():
        d = ADAPTERS[name].dataset if name in ADAPTERS else packaged.dataset(name)
        assert d.slug in catalog, f"{name}: no dataset_catalog row"
        year = d.release_year or int(catalog[d.slug]["release_year"])  # the archive: a year per image
        assert (int(catalog[d.slug]["release_year"]), catalog[d.slug]["modality"]) == (year, d.modality), name
        assert d.release_year is not None or name == "isic-archive"


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
    # ISIC 2016: no header row (test) and a copy with one (training); benign/malignant only, never a diagnosis
    assert meta["isic2016", "ISIC_0000003"][12:] == (None, None, False)
    assert meta["isic2016", "ISIC_0000013"][14] is True and meta["isic2016", "ISIC_0000002"][14] is True
    # ISIC 2017: neither class marked is a nevus
    assert meta["isic2017", "ISIC_0001769"][12:] == ("D22.9", "exact", False)
    assert meta["isic2017", "ISIC_0012143"][12] == "L82.1"
    # ISIC 2024: total-body tiles; the country from the attribution (quoted commas), patients kept
    assert meta["isic2024", "ISIC_0015729"][2:4] == ("total-body tile", False)
    assert meta["isic2024", "ISIC_0015729"][8:12] == ("female", "AU", "Oceania", "lower limb")
    assert meta["isic2024", "ISIC_0015657"][9] == "US"
    # MSKCC: its own file and the archive export layout
    assert meta["mskcc", "ISIC_1099075"][4:] == (None, None, 60, "50-69", "female", "US", "North America", "lower limb",
                                                 "D03.9", "exact", True)
    assert meta["mskcc", "ISIC_0186998"][12:] == ("C43.9", "exact", True)
    # ISIC archive export: no dataset year; a shared id takes the year of the collection that published it
    assert meta["isic-archive", "ISIC_0245720"][:3] == (None, None, "dermoscopic")
    assert meta["isic-archive", "ISIC_0245720"][9] == "US"
    assert meta["isic-archive", "ISIC_0051799"][0] == 2020  # also in the MSKCC fixture
    # PH2: clinical class where no histology; histology where given
    assert meta["ph2", "IMD003"][12:14] == ("D22.9", "synonym") and meta["ph2", "IMD435"][12] == "D03.9"
    assert meta["ph2", "IMD002"][9] == "PT"
    # folder-per-class: the class folder is the diagnosis; DermNet's split folder the collection
    assert meta["med-node", "naevus/stand-in-naevus-1.jpg"][9:] == ("NL", "Europe", None, "D22.9", "exact", False)
    assert meta["dermnet", "test/Acne and Rosacea Photos/07PerioralDermEye.jpg"][1:3] == ("test", "clinical")
    assert meta["sd-128", "Actinic_solar_Damage(Actinic_Keratosis)/stand-in-2.jpg"][12:14] == ("L57.0", "synonym")


def test_images_are_read_and_missing_files_quarantined(atlas_db, tmp_path):
    images = tmp_path / "images"
    for i, key in enumerate(["000001", "000002", "000003"]):
        write_image(images / f"{key}.png", seed=i)
    summary = ingest_with(atlas_db, "ddi", _paths("ddi"), images, progress=False)
    assert summary.loaded == 6 and summary.quarantined == {"missing file": 3}
    with connect(atlas_db) as conn:
        n = conn.execute("select count(*) from atlas.image where has_image_file").fetchone()[0]
    assert n == 3


def test_folder_layout_reads_an_image_tree_and_skips_other_files(atlas_db, tmp_path):
    root = tmp_path / "complete_mednode_dataset"
    write_image(root / "melanoma" / "136733.jpg", seed=1)
    write_image(root / "naevus" / "1001.jpg", seed=2)
    (root / "readme.txt").write_text("not an image")
    result = CliRunner().invoke(cli, ["--database-url", atlas_db, "ingest", "med-node", "--images", str(root)])
    assert result.exit_code == 0, result.output
    assert "2 rows read, 2 loaded (2 ok, 0 quarantined)" in result.output
    with connect(atlas_db) as conn:
        rows = conn.execute("select i.source_key, i.has_image_file, m.diagnosis from atlas.image i "
                            "join atlas.image_metadata m using (image_id) order by 1").fetchall()
    assert rows == [("melanoma/136733.jpg", True, "melanoma"), ("naevus/1001.jpg", True, "melanocytic nevus")]
    listing_only = CliRunner().invoke(cli, ["--database-url", atlas_db, "ingest", "dermnet"])
    assert listing_only.exit_code != 0 and "--metadata or --images" in listing_only.output


def test_mapping_names_a_headerless_csv_and_gives_constants(atlas_db, tmp_path):
    from skinmap.ingest import ingest
    from skinmap.ingest.mapping import MappingError, build_mapping

    (tmp_path / "truth.csv").write_bytes(b"ISIC_0000003,0.0\r\nISIC_0000013,1.0\r\n")  # the ISIC 2016 test layout
    raw = {"dataset": {"slug": "headerless", "release_year": 2016, "modality": "dermoscopic"},
           "metadata": "truth.csv", "header": ["image_id", "malignant"], "constants": {"country": "US"},
           "columns": {"source_key": "image_id", "is_malignant": "malignant"}}
    summary = ingest(atlas_db, build_mapping(raw, tmp_path), progress=False)
    assert (summary.rows_read, summary.loaded, summary.unknown_columns) == (2, 2, [])
    with connect(atlas_db) as conn:
        rows = conn.execute("select i.source_key, m.is_malignant, m.country_code from atlas.image i "
                            "join atlas.image_metadata m using (image_id) order by 1").fetchall()
    assert rows == [("ISIC_0000003", False, "US"), ("ISIC_0000013", True, "US")]
    for bad in ({"constants": {"source_key": "x"}}, {"constants": {"is_malignant": "true"}}, {"layout": "tree"}):
        try:
            build_mapping({**raw, **bad}, tmp_path)
        except MappingError:
            continue
        raise AssertionError(f"{bad} accepted")
