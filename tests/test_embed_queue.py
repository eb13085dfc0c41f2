"""Shared embedding work: exactly once under concurrent and killed workers, resume, GPU decode path on CPU."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from skinmap.db import connect
from skinmap.ingest import ingest
from skinmap.ingest.mapping import build_mapping
from tests.fix_images import write_csv, write_image

N_IMAGES = 96
MODEL = "skinmap-tiny-vit/random"


def _ingest(url, tmp_path, suffix: str) -> str:
    for i in range(N_IMAGES):
        write_image(tmp_path / "img" / f"k{i}{suffix}", seed=300 + i, size=(80, 60))
    meta = write_csv(tmp_path / "m.csv", ["key"], [[f"k{i}"] for i in range(N_IMAGES)])
    mapping = build_mapping({"dataset": {"slug": "q", "release_year": 2021}, "metadata": str(meta),
                             "images": str(tmp_path / "img"), "file_template": "{key}" + suffix,
                             "columns": {"source_key": "key"}}, tmp_path)
    ingest(url, mapping, progress=False)
    return url


@pytest.fixture
def png_db(atlas_db, tmp_path) -> str:
    return _ingest(atlas_db, tmp_path, ".png")


@pytest.fixture
def jpeg_db(atlas_db, tmp_path) -> str:
    return _ingest(atlas_db, tmp_path, ".jpg")


def _cmd(url: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "skinmap", "--database-url", url, "embed", "--model", "skinmap-tiny-vit",
            "--pretrained", "none", "--device", "cpu", "--workers", "0", "--batch-size", "8", *extra]


def _state(url: str) -> dict:
    with connect(url) as conn:
        n_rows, n_images = conn.execute(
            "select count(*), count(distinct image_id) from atlas.embedding").fetchone()
        work = dict(conn.execute("select status, count(*) from atlas.embed_work group by 1").fetchall())
        max_claims = conn.execute("select coalesce(max(n_claims), 0) from atlas.embed_work").fetchone()[0]
        runs = [r for (r,) in conn.execute("select n_embedded from atlas.embed_run order by embed_run_id")]
    return {"rows": n_rows, "images": n_images, "work": work, "max_claims": max_claims, "runs": runs}


def test_two_concurrent_workers_write_each_vector_once(png_db):
    env = dict(os.environ, SKINMAP_TEST_SLOW_BATCH="0.1")
    result = subprocess.run(_cmd(png_db, "--parallel", "2"), env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    state = _state(png_db)
    assert (state["rows"], state["images"]) == (N_IMAGES, N_IMAGES)
    assert state["work"] == {"done": N_IMAGES // 8}
    assert len(state["runs"]) == 2 and sum(state["runs"]) == N_IMAGES
    assert min(state["runs"]) > 0, "both workers must have taken batches"
    assert result.stdout.count("embedded") == 2


def test_killed_workers_batch_is_taken_over_after_its_lease(png_db):
    slow = dict(os.environ, SKINMAP_TEST_SLOW_BATCH="0.5")
    doomed = subprocess.Popen(_cmd(png_db, "--lease-seconds", "3", "--worker-host", "another-machine"), env=slow,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = _state(png_db)
        if state["rows"] >= 8 and state["work"].get("claimed"):
            break
        time.sleep(0.05)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    held = _state(png_db)
    assert held["work"].get("claimed") == 1 and held["rows"] < N_IMAGES
    started = time.monotonic()
    survivor = subprocess.run(_cmd(png_db, "--lease-seconds", "3"), capture_output=True, text=True, timeout=240)
    assert survivor.returncode == 0, survivor.stderr
    state = _state(png_db)
    assert (state["rows"], state["images"]) == (N_IMAGES, N_IMAGES)
    assert state["work"] == {"done": N_IMAGES // 8}
    assert state["max_claims"] == 2, "the dead worker's batch was claimed a second time"
    assert time.monotonic() - started >= 1.0, "another machine's lease is waited for, not broken"


def test_limit_then_resume_finishes_the_rest(png_db):
    from embedder.models import load_encoder
    from embedder.pipeline import embed_images

    first = embed_images(png_db, load_encoder("skinmap-tiny-vit", "none"), batch_size=16, workers=1, limit=20,
                         progress=False)
    assert (first.n_todo, first.n_embedded) == (20, 20)
    state = _state(png_db)
    assert state["rows"] == 20 and state["work"]["pending"] >= 1
    rest = embed_images(png_db, load_encoder("skinmap-tiny-vit", "none"), batch_size=16, workers=2, progress=False)
    assert (rest.n_todo, rest.n_embedded) == (N_IMAGES - 20, N_IMAGES - 20)
    assert _state(png_db)["images"] == N_IMAGES


def test_second_model_never_overwrites_the_first(png_db):
    from embedder.models import load_encoder
    from embedder.pipeline import embed_images

    embed_images(png_db, load_encoder("skinmap-tiny-vit", "none"), workers=0, progress=False)
    with connect(png_db) as conn:
        before = conn.execute("select image_id, vec::text from atlas.embedding order by image_id").fetchall()
    other = load_encoder("skinmap-tiny-vit", "none")
    other.model_name = "skinmap-tiny-vit/random-second-draw"
    assert embed_images(png_db, other, workers=0, progress=False).n_embedded == N_IMAGES
    with connect(png_db) as conn:
        after = conn.execute(
            "select e.image_id, e.vec::text from atlas.embedding as e join atlas.embedding_model as m "
            "using (model_id) where m.model_name = %s order by e.image_id", (MODEL,)).fetchall()
        per_model = conn.execute("select model_id, count(*) from atlas.embedding group by 1 order by 1").fetchall()
    assert after == before
    assert [n for _, n in per_model] == [N_IMAGES, N_IMAGES]


def test_device_decode_path_matches_worker_decode_on_cpu(jpeg_db):
    from embedder.models import load_encoder
    from embedder.pipeline import embed_images

    encoder = load_encoder("skinmap-tiny-vit", "none")
    on_device = embed_images(jpeg_db, encoder, decode="device", channels_last=True, workers=1, progress=False)
    encoder.model_name = "skinmap-tiny-vit/random-workers"
    in_workers = embed_images(jpeg_db, encoder, decode="workers", workers=1, progress=False)
    assert on_device.n_embedded == in_workers.n_embedded == N_IMAGES
    with connect(jpeg_db) as conn:
        rows = conn.execute(
            "select a.vec <=> b.vec from atlas.embedding as a join atlas.embedding as b using (image_id) "
            "where a.model_id < b.model_id").fetchall()
    distances = np.array([d for (d,) in rows])
    assert len(distances) == N_IMAGES
    assert distances.max() < 0.01, "GPU-style decode and resize must give the pixels the model expects"
