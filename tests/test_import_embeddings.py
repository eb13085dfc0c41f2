"""Import of precomputed vectors from npz and parquet, matched to ingested images."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from skinmap.cli import cli
from skinmap.db import connect
from skinmap.ingest import ingest
from skinmap.ingest.mapping import build_mapping
from tests.fix_images import write_csv, write_image

N_IMAGES = 12


@pytest.fixture
def small_db(atlas_db, tmp_path) -> str:
    for i in range(N_IMAGES):
        write_image(tmp_path / "img" / f"k{i}.png", seed=700 + i)
    meta = write_csv(tmp_path / "m.csv", ["key"], [[f"k{i}"] for i in range(N_IMAGES)])
    mapping = build_mapping({"dataset": {"slug": "imp", "release_year": 2022}, "metadata": str(meta),
                             "images": str(tmp_path / "img"), "file_template": "{key}.png",
                             "columns": {"source_key": "key"}}, tmp_path)
    ingest(atlas_db, mapping, progress=False)
    return atlas_db


def _run(url: str, *args: str):
    return CliRunner().invoke(cli, ["--database-url", url, "import-embeddings", *args], catch_exceptions=False)


def _vectors(url: str, model_name: str) -> dict[str, np.ndarray]:
    with connect(url) as conn:
        rows = conn.execute(
            "select i.source_key, e.vec::text from atlas.embedding as e join atlas.image as i using (image_id) "
            "join atlas.embedding_model as m using (model_id) where m.model_name = %s", (model_name,)).fetchall()
    return {key: np.array([float(x) for x in str(vec).strip("[]").split(",")]) for key, vec in rows}


def test_parquet_list_column_is_imported_normalised(small_db, tmp_path):
    rng = np.random.default_rng(1)
    raw = rng.normal(size=(N_IMAGES + 2, 5)).astype(np.float32) * 3
    keys = [f"k{i}.png" for i in range(N_IMAGES)] + ["missing-1.png", "missing-2.png"]
    table = pa.table({"image_name": keys, "embedding": pa.array(raw.tolist(), type=pa.list_(pa.float32())),
                      "x": np.arange(len(keys), dtype=np.float64)})
    path = tmp_path / "atlas_input.parquet"
    pq.write_table(table, path)
    result = _run(small_db, str(path), "--model-name", "paper-atlas", "--key-column", "image_name",
                  "--match", "file-name")
    assert result.exit_code == 0, result.output
    assert f"{N_IMAGES} vectors imported (5 dims)" in result.output and "2 unmatched" in result.output
    stored = _vectors(small_db, "paper-atlas")
    assert len(stored) == N_IMAGES
    expected = raw[3] / np.linalg.norm(raw[3])
    assert np.allclose(stored["k3"], expected, atol=1e-6)
    again = _run(small_db, str(path), "--model-name", "paper-atlas", "--key-column", "image_name",
                 "--match", "file-name")
    assert "0 vectors imported" in again.output and f"{N_IMAGES} already present" in again.output


def test_npz_by_source_key_and_refusals(small_db, tmp_path):
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(4, 8))
    path = tmp_path / "v.npz"
    np.savez(path, keys=np.array(["k0", "k1", "k2", "nope"]), vectors=vectors)
    result = _run(small_db, str(path), "--model-name", "npz-model", "--key-column", "keys",
                  "--vector-column", "vectors", "--dataset", "imp")
    assert result.exit_code == 0, result.output
    assert "3 vectors imported (8 dims)" in result.output and "1 unmatched" in result.output
    assert np.allclose(_vectors(small_db, "npz-model")["k1"], vectors[1] / np.linalg.norm(vectors[1]), atol=1e-6)
    np.savez(tmp_path / "wide.npz", keys=np.array(["k0"]), vectors=np.ones((1, 9)))
    clash = _run(small_db, str(tmp_path / "wide.npz"), "--model-name", "npz-model", "--key-column", "keys",
                 "--vector-column", "vectors")
    assert clash.exit_code != 0 and "dimension 8" in clash.output
    wrong = _run(small_db, str(path), "--model-name", "x", "--key-column", "ids")
    assert wrong.exit_code != 0 and "no array 'ids'" in wrong.output
