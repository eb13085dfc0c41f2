"""A hostile corpus of >= 1,000 files through the real `skinmap ingest` CLI: nothing crashes, nothing escapes.

skinmap.hostile writes every kind of issue 16 (bombs, path tricks, broken
and exotic images, hostile metadata) and says what ingest must do with each
row; here every row is checked against that: loaded ok, quarantined with its
specific reason, or rejected with an issue row. Ingest runs in a child
process so that its peak resident memory (and its decode workers') is
measured: a single decoded 20,000 x 20,000 bomb alone would need 1.2 GB.
"""
from __future__ import annotations

from collections import Counter

import pytest

from skinmap import hostile
from skinmap.db import connect
from skinmap.hashing import ImageTooLarge, decode_rgb, open_within_budget
from skinmap.ingest import paths

PEAK_RSS_BOUND = 400 * 2**20  # measured ~125 MiB for the 1,000-file corpus; one decoded bomb is 1.2 GB


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return hostile.write_corpus(tmp_path_factory.mktemp("hostile") / "corpus", n_files=1000)


@pytest.fixture(scope="module")
def ingested(corpus, server_url):
    """The corpus ingested through the CLI into its own atlas: (url, [(exit code, output, peak RSS)])."""
    from skinmap import db, migrate

    url = db.create_database(server_url, "t_hostile_inputs", drop_first=True)
    migrate.upgrade(url)
    runs = [hostile.ingest_in_child(url, m, "--workers", "2") for m in (corpus.mapping, corpus.latin1_mapping)]
    yield url, runs
    db.drop_database(server_url, "t_hostile_inputs")


def test_the_corpus_has_every_kind_and_at_least_1000_files(corpus):
    kinds = Counter(e.kind for e in corpus.expected)
    assert corpus.n_files >= 1000
    assert set(kinds) == set(hostile.IMAGE_KINDS) | set(hostile.METADATA_KINDS)
    assert kinds["png_bomb"] >= 1 and kinds["jpeg_bomb"] >= 1


def test_ingest_does_not_crash_and_memory_stays_bounded(ingested):
    _, runs = ingested
    for code, output, peak in runs:
        assert code == 0, output
        assert "crash" not in output and "Traceback" not in output, output
        assert 0 < peak < PEAK_RSS_BOUND, f"peak RSS {peak / 2**20:.0f} MiB"


def test_every_row_is_accounted_for_as_the_generator_expects(corpus, ingested):
    url, _ = ingested
    outcome = hostile.check(url, corpus)
    assert outcome.mismatches == []
    assert sum(outcome.counts.values()) == len(corpus.expected)
    expected = Counter((e.kind, e.outcome) for e in corpus.expected)
    assert outcome.counts == dict(expected)


def test_path_tricks_and_bombs_are_quarantined_with_their_specific_reason(corpus, ingested):
    url, _ = ingested
    with connect(url) as conn:
        reasons = dict(conn.execute(
            "select source_key, quarantine_reason from atlas.image as i join atlas.dataset as d using (dataset_id) "
            "where d.slug = %s", (hostile.SLUG,)).fetchall())
        secret_read = conn.execute(
            "select count(*) from atlas.image where status = 'ok' and file_path like %s", ("%outside%",)).fetchone()[0]
    specific = {"parent_path": paths.PARENT, "absolute_path": paths.ABSOLUTE, "symlink_out": paths.OUTSIDE,
                "directory_jpg": paths.NOT_A_FILE, "png_bomb": "over the pixel budget",
                "jpeg_bomb": "over the pixel budget"}
    for e in corpus.expected:
        if e.kind in specific:
            assert reasons[e.key].startswith(specific[e.kind]), (e.kind, reasons[e.key])
    assert secret_read == 0


def test_hostile_strings_come_back_byte_identical_and_nul_is_reported(corpus, ingested):
    url, _ = ingested
    with connect(url) as conn:
        stored = dict(conn.execute(
            "select i.source_key, m.diagnosis_raw from atlas.image as i join atlas.image_metadata as m "
            "using (image_id) where i.source_key like 'meta_%' or i.source_key like 'latin1_%'").fetchall())
        nul_issues = conn.execute(
            "select count(*) from atlas.ingest_issue where reason like 'NUL character removed%'").fetchone()[0]
    for value in hostile.HOSTILE_STRINGS:
        keys = [e.key for e in corpus.expected if e.kind == "hostile_string" and e.stored == value]
        assert keys and all(stored[k] == value for k in keys), value
    assert [stored[f"latin1_{i}"] for i in range(len(hostile.LATIN1_STRINGS))] == list(hostile.LATIN1_STRINGS)
    assert nul_issues == sum(e.kind == "nul_byte" for e in corpus.expected)


def test_a_second_run_adds_nothing(corpus, ingested):
    url, _ = ingested
    code, output, _ = hostile.ingest_in_child(url, corpus.mapping)
    assert code == 0 and " 0 loaded" in output, output


def test_a_bomb_is_refused_from_its_header_in_process_too(tmp_path, atlas_db):
    """A dataset of two bombs takes the single-process path: its peak stays small as well."""
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "png.png").write_bytes(hostile._png_bomb())
    (tmp_path / "images" / "jpeg.jpg").write_bytes(hostile._jpeg_bomb())
    (tmp_path / "m.csv").write_text("id,file\npng,png.png\njpeg,jpeg.jpg\n")
    (tmp_path / "m.yaml").write_text("dataset: {slug: bombs}\nmetadata: m.csv\nimages: images\n"
                                     "columns: {source_key: id, file: file}\n")
    code, output, peak = hostile.ingest_in_child(atlas_db, tmp_path / "m.yaml")
    assert code == 0, output
    assert "2 x over the pixel budget: more than 100 megapixels" in output
    assert peak < PEAK_RSS_BOUND, f"peak RSS {peak / 2**20:.0f} MiB"


def test_the_pixel_budget_is_configurable(tmp_path, atlas_db):
    (tmp_path / "images").mkdir()
    hostile._plain(__import__("numpy").random.default_rng(0), (40, 30)).save(tmp_path / "images" / "a.png")
    (tmp_path / "m.csv").write_text("id,file\na,a.png\n")
    (tmp_path / "m.yaml").write_text("dataset: {slug: budget}\nmetadata: m.csv\nimages: images\n"
                                     "columns: {source_key: id, file: file}\n")
    code, output, _ = hostile.ingest_in_child(atlas_db, tmp_path / "m.yaml", env={"SKINMAP_MAX_PIXELS": "1000"})
    assert code == 0 and "1 x over the pixel budget: more than 0.001 megapixels" in output, output


def test_every_decoder_goes_through_the_budget():
    """decode_rgb (ingest, duplicate verification, embed CPU path) and the embedder's nvjpeg gate."""
    from embedder.decode import PixelRecipe, cpu_pixels, device_can_decode

    bomb = hostile._jpeg_bomb()
    with pytest.raises(ImageTooLarge, match="4225.0 megapixels"):  # 65,000 x 65,000
        open_within_budget(bomb)
    with pytest.raises(ImageTooLarge):
        decode_rgb(hostile._png_bomb())
    assert not device_can_decode(bomb)  # so a file swapped in after ingest never reaches nvjpeg
    with pytest.raises(ImageTooLarge):
        cpu_pixels(bomb, PixelRecipe(224, False, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5)))
