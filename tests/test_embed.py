"""Embedding against a real database: vectors, restart after a kill, several models side by side."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from skinmap.db import connect
from skinmap.ingest import ingest
from skinmap.ingest.mapping import build_mapping
from tests.fix_images import write_csv, write_image

N_IMAGES = 120


@pytest.fixture
def images_db(atlas_db, tmp_path) -> str:
    for i in range(N_IMAGES):
        write_image(tmp_path / "img" / f"k{i}.png", seed=100 + i, size=(64, 64))
    meta = write_csv(tmp_path / "m.csv", ["key"], [[f"k{i}"] for i in range(N_IMAGES)])
    mapping = build_mapping({"dataset": {"slug": "emb", "release_year": 2020}, "metadata": str(meta),
                             "images": str(tmp_path / "img"), "file_template": "{key}.png",
                             "columns": {"source_key": "key"}}, tmp_path)
    ingest(atlas_db, mapping, progress=False)
    return atlas_db


def _counts(url: str) -> dict[str, tuple[int, int]]:
    with connect(url) as conn:
        rows = conn.execute(
            """select m.model_name, count(*), count(distinct e.image_id)
               from atlas.embedding e join atlas.embedding_model m using (model_id) group by 1"""
        ).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def _embed_cmd(url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "skinmap", "--database-url", url, "embed", "--model", "skinmap-tiny-vit",
            "--pretrained", "none", "--device", "cpu", "--workers", "0", *extra]


def test_embed_is_restartable_after_kill(images_db):
    env = dict(os.environ, SKINMAP_TEST_SLOW_BATCH="0.3")
    proc = subprocess.Popen(_embed_cmd(images_db, "--batch-size", "8"), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = _counts(images_db).get("skinmap-tiny-vit/random", (0, 0))[0]
        if done >= 16:
            break
        time.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _counts(images_db)["skinmap-tiny-vit/random"][0]
    assert 16 <= partial < N_IMAGES, "the kill must land mid-run"
    assert partial % 8 == 0, "only whole batches are committed"

    result = subprocess.run(_embed_cmd(images_db, "--batch-size", "32"), capture_output=True, text=True, check=True)
    assert "RANDOM weights" in result.stdout + result.stderr
    assert _counts(images_db)["skinmap-tiny-vit/random"] == (N_IMAGES, N_IMAGES)
    with connect(images_db) as conn:
        norms = [n for (n,) in conn.execute("select vector_norm(vec) from atlas.embedding")]
        assert np.allclose(norms, 1.0, atol=1e-5)
        run = conn.execute("select is_random_weights from atlas.embedding_model").fetchone()
        assert run == (True,)
        assert conn.execute(
            "select count(*) from pg_indexes where schemaname = 'atlas' and indexname like 'ix_embedding_hnsw_model_%'"
        ).fetchone()[0] == 1


def test_second_model_lives_beside_the_first(images_db):
    from embedder.models import load_encoder
    from embedder.pipeline import embed_images

    tiny = embed_images(images_db, load_encoder("skinmap-tiny-vit", "none"), batch_size=64, workers=0, progress=False)
    effnet = embed_images(images_db, load_encoder("efficientnet-lite0"), batch_size=32, workers=0, limit=40,
                          progress=False)
    assert (tiny.n_embedded, effnet.n_embedded) == (N_IMAGES, 40)
    assert not effnet.is_random_weights
    again = embed_images(images_db, load_encoder("skinmap-tiny-vit", "none"), workers=0, progress=False)
    assert again.n_todo == 0
    assert _counts(images_db) == {"skinmap-tiny-vit/random": (N_IMAGES, N_IMAGES),
                                  "efficientnet-lite0/imagenet": (40, 40)}
    with connect(images_db) as conn:
        dims = dict(conn.execute(
            "select m.model_name, min(vector_dims(e.vec)) from atlas.embedding e join atlas.embedding_model m using (model_id) group by 1"
        ).fetchall())
    assert dims == {"skinmap-tiny-vit/random": 64, "efficientnet-lite0/imagenet": 1280}


def test_corrupt_file_at_embed_time_is_quarantined(images_db):
    from embedder.models import load_encoder
    from embedder.pipeline import embed_images

    with connect(images_db) as conn:
        path = conn.execute("select file_path from atlas.image order by image_id limit 1").fetchone()[0]
    Path(path).write_bytes(b"\x89PNG broken")
    summary = embed_images(images_db, load_encoder("skinmap-tiny-vit", "none"), workers=0, progress=False)
    assert (summary.n_embedded, summary.n_quarantined) == (N_IMAGES - 1, 1)
    with connect(images_db) as conn:
        reason = conn.execute("select quarantine_reason from atlas.image where file_path = %s", (path,)).fetchone()[0]
    assert reason.startswith("unreadable at embed time")
