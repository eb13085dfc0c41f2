"""Ingest edge cases against a real database: quarantine, issues, idempotency, messy CSV."""
from __future__ import annotations

from pathlib import Path

import pytest

from skinmap.db import connect
from skinmap.ingest import MappingError, ingest
from skinmap.ingest.mapping import build_mapping
from tests.fix_images import write_csv, write_image

HEADER = ["image_id", "fitz", "age", "sex", "site", "dx", "notes"]


@pytest.fixture
def messy_dataset(tmp_path: Path) -> dict:
    images = tmp_path / "images"
    for i, key in enumerate(["a", "b", "e", "f"]):
        write_image(images / f"{key}.png", seed=i)
    (images / "c.png").write_bytes(b"this is not an image at all")
    write_image(images / "f_copy.png", seed=3)  # same pixels as f: an exact duplicate
    rows = [
        ["a", "5", "12", "F", "back", "melanocytic nevus", ""],
        ["b", "9", "40", "male", "left forearm", "nevus, dysplastic", "quoted comma"],
        ["c", "2", "30", "female", "face", "melanoma", ""],
        ["d", "3", "50", "male", "chest", "melanoma", "file missing"],
        ["e", "-1", "240", "unknown", "", "", ""],
        ["a", "1", "20", "male", "back", "melanoma", "duplicated row"],
        ["f", "VI", "70", "M", "sole", "acral nevus", ""],
        ["f_copy", "6", "70", "M", "sole", "acral nevus", ""],
        ["", "4", "33", "F", "back", "nevus", "no key"],
    ]
    metadata = write_csv(tmp_path / "meta.csv", HEADER, rows, bom=True, crlf=True)
    raw = {
        "dataset": {"slug": "messy", "name": "Messy", "release_year": 2019, "modality": "clinical"},
        "metadata": str(metadata),
        "images": str(images),
        "file_template": "{image_id}.png",
        "columns": {"source_key": "image_id", "fitzpatrick": "fitz", "age": "age", "sex": "sex",
                    "body_site": "site", "diagnosis": "dx"},
    }
    return raw


def test_messy_ingest_quarantines_and_reports(atlas_db, messy_dataset, tmp_path):
    mapping = build_mapping(messy_dataset, tmp_path)
    summary = ingest(atlas_db, mapping, progress=False)

    assert summary.rows_read == 9
    assert summary.loaded == 7  # a b c d e f f_copy; duplicate 'a' and the key-less row are not images
    assert summary.quarantined == {"corrupt image": 1, "missing file": 1, "missing source key": 1}
    assert summary.issues["out of range: Fitzpatrick type must be 1-6"] == 1
    assert summary.issues["out of range: age must be 0-120 years"] == 1
    assert summary.issues["duplicate key in metadata file"] == 1
    assert summary.unknown_columns == ["notes"]

    with connect(atlas_db) as conn:
        statuses = dict(conn.execute("select source_key, coalesce(quarantine_reason, status) from atlas.image").fetchall())
        assert statuses == {"a": "ok", "b": "ok", "c": "corrupt image", "d": "missing file", "e": "ok",
                            "f": "ok", "f_copy": "ok"}
        meta = {r[0]: r[1:] for r in conn.execute(
            """select i.source_key, m.fitzpatrick_raw, m.fitzpatrick_type, m.fitzpatrick_group, m.age_years,
                      m.age_bin, m.sex, m.body_region, m.laterality, m.diagnosis, m.fitzpatrick_provenance
               from atlas.image i join atlas.image_metadata m using (image_id)""")}
        assert meta["a"] == ("5", 5, "V-VI", 12, "0-17", "female", "trunk back", None, "melanocytic nevus", "label")
        assert meta["b"][:3] == ("9", None, None)  # out of range -> unknown, raw kept
        assert meta["b"][6:8] == ("upper limb", "left")
        assert meta["b"][8] == "nevus, dysplastic"
        assert meta["e"][1] is None and meta["e"][3] is None and meta["e"][5] is None
        assert meta["f"][1:3] == (6, "V-VI")
        same = conn.execute(
            "select count(distinct pixel_sha256), count(distinct byte_sha256) from atlas.image where source_key in ('f', 'f_copy')"
        ).fetchone()
        assert same[0] == 1
        n_signatures = conn.execute("select count(*) from atlas.pixel_signature").fetchone()[0]
        assert n_signatures == 5  # every decodable image
        issues = conn.execute("select count(*) from atlas.ingest_issue").fetchone()[0]
        run = conn.execute("select n_rows_read, n_loaded, n_quarantined from atlas.ingest_run").fetchone()
        assert run == (9, 7, 3)

    again = ingest(atlas_db, mapping, progress=False)
    assert again.loaded == 0 and again.already_present == 7
    with connect(atlas_db) as conn:
        assert conn.execute("select count(*) from atlas.image").fetchone()[0] == 7
        assert conn.execute("select count(*) from atlas.image_metadata").fetchone()[0] == 7
        assert conn.execute("select count(*) from atlas.ingest_issue").fetchone()[0] == issues
        assert conn.execute("select count(*) from atlas.ingest_run").fetchone()[0] == 2


def test_mapping_errors_are_clear(tmp_path, messy_dataset):
    bad = dict(messy_dataset, columns={"source_key": "image_id", "fitzpatrick": "no_such_column"})
    mapping = build_mapping(bad, tmp_path)
    with pytest.raises(MappingError, match="no_such_column"):
        from skinmap.ingest.loader import _read_rows

        _read_rows(mapping)
    with pytest.raises(MappingError, match="unknown field"):
        build_mapping(dict(messy_dataset, columns={"source_key": "image_id", "skin": "fitz"}), tmp_path)
    with pytest.raises(MappingError, match="slug"):
        build_mapping(dict(messy_dataset, dataset={"slug": "Bad Slug"}), tmp_path)


def test_metadata_only_ingest_has_no_files(atlas_db, tmp_path):
    metadata = write_csv(tmp_path / "m.csv", ["id", "fitz"], [["x1", "2"], ["x2", ""]])
    mapping = build_mapping({"dataset": {"slug": "meta-only"}, "metadata": str(metadata),
                             "columns": {"source_key": "id", "fitzpatrick": "fitz"}}, tmp_path)
    summary = ingest(atlas_db, mapping, progress=False)
    assert summary.loaded == 2 and summary.unknown_fields["fitzpatrick"] == 1
    with connect(atlas_db) as conn:
        assert conn.execute("select count(*) from atlas.image where file_path is null and status = 'ok'").fetchone()[0] == 2
