"""The transformers encoder family (hf:) through tiny RANDOM-weight models in local directories, no network.

A CLIPModel with its CLIPImageProcessor (the MONET path: get_image_features)
and a remote-code model with the SkinMap interface (auto_map, trust_remote_code:
encode_image, predict_meta) embed fixture images into a real PostgreSQL; the
atlas records revision, file hashes and that the weights are random. A fake hub
cache stands in for a downloaded snapshot, so the commit hash is recorded as a
download would record it. `skinmap impute --from-model` stores the remote-code
model's own predictions with the model as provenance.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from skinmap.cli import cli
from skinmap.db import connect
from skinmap.ingest import ingest
from skinmap.ingest.mapping import build_mapping
from skinmap.knn.vectors import as_array
from tests.fix_hf_models import save_tiny_clip, save_tiny_skinmap
from tests.fix_images import write_csv, write_image

N_IMAGES = 24
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module", autouse=True)
def _offline_hf(tmp_path_factory):
    """Hub and remote-code caches in the test's temp, and no network (set before transformers is imported)."""
    home = tmp_path_factory.mktemp("hf_home")
    saved = {k: os.environ.get(k) for k in ("HF_HOME", "HF_MODULES_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_VERBOSITY")}
    os.environ.update(HF_HOME=str(home), HF_MODULES_CACHE=str(home / "modules"), HF_HUB_OFFLINE="1",
                      TRANSFORMERS_VERBOSITY="error")
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hf_models")
    return {"clip": save_tiny_clip(root / "tiny-clip"), "skinmap": save_tiny_skinmap(root / "tiny-skinmap")}


@pytest.fixture
def hf_db(atlas_db, tmp_path) -> str:
    """N_IMAGES JPEG and PNG images; half of them labelled with sex, a few with Fitzpatrick type."""
    rows = []
    for i in range(N_IMAGES):
        ext = "jpg" if i % 2 else "png"
        write_image(tmp_path / "img" / f"k{i}.{ext}", seed=300 + i, size=(60, 45))
        rows.append([f"k{i}.{ext}", "female" if i < N_IMAGES // 2 and i % 3 else ("male" if i < N_IMAGES // 2 else ""),
                     "5" if i < 3 else ""])
    meta = write_csv(tmp_path / "m.csv", ["file", "sex", "fst"], rows)
    mapping = build_mapping({"dataset": {"slug": "hf", "release_year": 2024}, "metadata": str(meta),
                             "images": str(tmp_path / "img"), "file_template": "{file}",
                             "columns": {"source_key": "file", "sex": "sex", "fitzpatrick": "fst"}}, tmp_path)
    ingest(atlas_db, mapping, progress=False)
    return atlas_db


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _vectors(url: str, model_name: str) -> np.ndarray:
    with connect(url) as conn:
        rows = conn.execute("select e.vec from atlas.embedding e join atlas.embedding_model m using (model_id) "
                            "where m.model_name = %s order by e.image_id", (model_name,)).fetchall()
    return np.array([as_array(r[0]) for r in rows], dtype=np.float32)


def _model_row(url: str, model_name: str) -> dict:
    with connect(url) as conn:
        cur = conn.execute("select * from atlas.embedding_model where model_name = %s", (model_name,))
        names = [d.name for d in cur.description]
        return dict(zip(names, cur.fetchone()))


def _assert_non_degenerate(vectors: np.ndarray, dim: int) -> None:
    assert vectors.shape == (N_IMAGES, dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()
    assert len({v.round(5).tobytes() for v in vectors}) == N_IMAGES, "every image gets its own vector"
    cosine = vectors @ vectors.T
    assert cosine[~np.eye(N_IMAGES, dtype=bool)].min() < 0.999, "not one direction for all images"
    assert vectors.std(axis=0).max() > 1e-3


def test_clip_directory_embeds_through_its_image_tower(hf_db, tiny_dirs):
    from embedder.models import load_encoder
    from embedder.pipeline import embed_images

    encoder = load_encoder(f"hf:{tiny_dirs['clip']}")
    assert (encoder.family, encoder.dimension, encoder.image_size) == ("transformers", 24, 32)
    assert encoder.predict_meta is None
    from embedder.decode import recipe_of
    recipe = recipe_of(encoder.preprocess)  # the processor's recipe, so the GPU decode path applies too
    assert recipe is not None and (recipe.size, recipe.is_squash) == (32, False)
    assert recipe.mean == pytest.approx((0.48145466, 0.4578275, 0.40821073))
    summary = embed_images(hf_db, encoder, batch_size=8, workers=0, progress=False)
    assert summary.n_embedded == N_IMAGES and summary.is_random_weights
    assert "RANDOM weights" in summary.line()
    _assert_non_degenerate(_vectors(hf_db, encoder.model_name), 24)
    row = _model_row(hf_db, encoder.model_name)
    weights = _sha(tiny_dirs["clip"] / "model.safetensors")
    assert row["family"] == "transformers" and row["revision"] == "local" and row["is_random_weights"]
    assert row["weight_files"] == {"model.safetensors": weights}
    assert row["weights_sha256"] == weights and row["weights"] == "random"
    assert encoder.model_name == f"hf:tiny-clip@random-{weights[:12]}"
    assert row["architecture"] == f"hf:{tiny_dirs['clip']}"


def test_remote_code_directory_embeds_with_encode_image_on_the_cli(hf_db, tiny_dirs):
    result = CliRunner().invoke(cli, ["--database-url", hf_db, "embed", "--model", f"hf:{tiny_dirs['skinmap']}",
                                      "--device", "cpu", "--workers", "0", "--batch-size", "8"])
    assert result.exit_code == 0, result.output
    assert "RANDOM weights" in result.output and "revision local" in result.output
    with connect(hf_db) as conn:
        name = conn.execute("select model_name from atlas.embedding_model").fetchone()[0]
    assert name.startswith("hf:tiny-skinmap@random-")
    _assert_non_degenerate(_vectors(hf_db, name), 16)
    files = _model_row(hf_db, name)["weight_files"]
    assert files == {f: _sha(tiny_dirs["skinmap"] / f) for f in
                     ("model.safetensors", "configuration_tiny_skinmap.py", "modeling_tiny_skinmap.py")}


def test_hub_snapshot_records_its_commit(tiny_dirs, _offline_hf, monkeypatch):
    """A hub id resolves to its snapshot in the hub cache; the snapshot's commit is the recorded revision."""
    import huggingface_hub.constants as hub

    from embedder.models import load_encoder

    cache = _offline_hf / "hub"
    repo = cache / "models--tiny-org--tiny-clip"
    shutil.copytree(tiny_dirs["clip"], repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    monkeypatch.setattr(hub, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hub, "HF_HUB_OFFLINE", True)
    encoder = load_encoder("hf:tiny-org/tiny-clip")
    assert (encoder.revision, encoder.weights) == (COMMIT, "random")
    assert encoder.model_name == f"hf:tiny-org/tiny-clip@{COMMIT[:12]}"
    assert encoder.architecture == "hf:tiny-org/tiny-clip"
    from embedder.models import ModelLoadError
    with pytest.raises(ModelLoadError, match="Without network"):
        load_encoder("hf:tiny-org/not-downloaded")


def test_model_names_are_listed_and_a_wrong_one_names_the_closest():
    runner = CliRunner()
    listed = runner.invoke(cli, ["embed", "--model"])
    assert listed.exit_code == 0, listed.output
    for name in ("ViT-B-16", "skinmap-tiny-vit", "hf:Digital-Dermatology/SkinMap", "hf:suinleelab/monet",
                 "efficientnet-lite0"):
        assert f"  {name}" in listed.output
    assert runner.invoke(cli, ["embed", "--list-models"]).output == listed.output
    wrong = runner.invoke(cli, ["--database-url", "postgresql://nobody@127.0.0.1:1/none", "embed",
                                "--model", "ViT-B-61"])
    assert wrong.exit_code != 0
    assert "unknown model 'ViT-B-61'" in wrong.output and "ViT-B-16" in wrong.output


def _labelled_fields(conn) -> dict[tuple[int, str], tuple]:
    out = {}
    for image_id, sex, sex_prov, fst, group, fst_prov in conn.execute(
            "select image_id, sex, sex_provenance, fitzpatrick_type, fitzpatrick_group, fitzpatrick_provenance "
            "from atlas.image_metadata").fetchall():
        if sex_prov == "label":
            out[(image_id, "sex")] = (sex,)
        if fst_prov == "label":
            out[(image_id, "fitzpatrick")] = (fst, group)
    return out


def test_impute_from_model_stores_its_predictions_with_the_model_as_provenance(hf_db, tiny_dirs):
    runner = CliRunner()
    assert runner.invoke(cli, ["--database-url", hf_db, "embed", "--model", f"hf:{tiny_dirs['skinmap']}",
                               "--device", "cpu", "--workers", "0"]).exit_code == 0
    with connect(hf_db) as conn:
        name = conn.execute("select model_name from atlas.embedding_model").fetchone()[0]
        before = _labelled_fields(conn)
    assert len(before) == N_IMAGES // 2 + 3
    no_probes = runner.invoke(cli, ["--database-url", hf_db, "impute", "--from-model", "no-such-model"])
    assert no_probes.exit_code != 0 and "skinmap embed" in no_probes.output

    def run():
        result = runner.invoke(cli, ["--database-url", hf_db, "impute", "--from-model", name, "--bootstrap", "20"])
        assert result.exit_code == 0, result.output
        with connect(hf_db) as conn:
            values = conn.execute("select image_id, attribute, source, probe_id, value, confidence, is_written "
                                  "from atlas.imputed_value order by 1, 2").fetchall()
            meta = conn.execute("select image_id, sex, sex_provenance, fitzpatrick_type, fitzpatrick_group, "
                                "fitzpatrick_provenance, age_years, age_bin, age_provenance "
                                "from atlas.image_metadata order by 1").fetchall()
        return result.output, values, meta

    output, values, meta = run()
    assert "RANDOM weights" in output
    assert "sex: 24 predictions, unmeasured (12 labels)" in output  # 12 < MIN_LABELLED: used, and it says so
    assert {v[2] for v in values} == {"model"} and {v[3] for v in values} == {None}
    by_attribute = {a: [v for v in values if v[1] == a] for a in ("sex", "fitzpatrick_type", "age_years")}
    assert len(by_attribute["sex"]) == N_IMAGES // 2, "labelled images get no imputed value"
    assert len(by_attribute["fitzpatrick_type"]) == N_IMAGES - 3
    assert len(by_attribute["age_years"]) == N_IMAGES
    assert all(v[4] in ("female", "male") and 0 <= v[5] <= 1 for v in by_attribute["sex"])
    assert all(1 <= int(v[4]) <= 6 for v in by_attribute["fitzpatrick_type"])
    assert all(v[5] is None and 30 <= float(v[4]) <= 70 for v in by_attribute["age_years"])
    assert [v for v in values if not v[6]] == []
    with connect(hf_db) as conn:
        assert _labelled_fields(conn) == before, "labelled fields are never touched"
    labelled = {image_id for image_id, family in before if family == "sex"}
    imputed = [m for m in meta if m[0] not in labelled]
    assert all(m[2] == "imputed" and m[1] in ("female", "male") for m in imputed)
    assert all(m[5] == "imputed" and m[4] in ("I-II", "III-IV", "V-VI") for m in imputed)
    assert all(m[8] == "imputed" and m[7] is not None for m in meta)
    assert run()[1:] == (values, meta), "a rerun gives the same rows"


def test_a_model_keeps_probe_and_head_values_apart_and_migrations_step_back_over_them(hf_db, tiny_dirs):
    """imputed_value: one value per source; a head value has no probe. Downgrading below i18_02 removes the
    transformers model, its vectors and its head values, and upgrading again works."""
    import psycopg

    from skinmap import migrate

    runner = CliRunner()
    assert runner.invoke(cli, ["--database-url", hf_db, "embed", "--model", f"hf:{tiny_dirs['skinmap']}",
                               "--device", "cpu", "--workers", "0"]).exit_code == 0
    with connect(hf_db) as conn:
        name = conn.execute("select model_name from atlas.embedding_model").fetchone()[0]
    assert runner.invoke(cli, ["--database-url", hf_db, "impute", "--from-model", name]).exit_code == 0
    with connect(hf_db) as conn:
        image_id, model_id = conn.execute("select image_id, model_id from atlas.imputed_value "
                                          "where attribute = 'age_years' limit 1").fetchone()
        probe_id = conn.execute(
            "insert into atlas.imputation_probe (model_id, attribute, task, estimator, split, group_source, seed, "
            "n_train, n_test, n_groups, n_bootstrap, r2, headline_metric, headline_value, quality_bar, "
            "is_imputable, is_used, decision) values (%s, 'age_years', 'regression', 'Ridge', 'g', 'g', 1, 1, 1, 1, "
            "1, 0.5, 'r2', 0.5, 0.3, true, false, 'test') returning probe_id", (model_id,)).fetchone()[0]
        conn.execute("insert into atlas.imputed_value (image_id, attribute, model_id, probe_id, source, value, "
                     "is_written) values (%s, 'age_years', %s, %s, 'probe', '40', false)",
                     (image_id, model_id, probe_id))
        with pytest.raises(psycopg.errors.CheckViolation):
            with conn.transaction():
                conn.execute("update atlas.imputed_value set probe_id = %s where source = 'model' "
                             "and image_id = %s and attribute = 'age_years'", (probe_id, image_id))
        conn.commit()
    migrate.downgrade(hf_db, "i17_02")
    with connect(hf_db) as conn:
        assert conn.execute("select count(*) from atlas.embedding_model").fetchone()[0] == 0
        assert conn.execute("select count(*) from atlas.embedding").fetchone()[0] == 0
        assert conn.execute("select count(*) from atlas.image_metadata where age_provenance = 'imputed'"
                            ).fetchone()[0] == 0
    migrate.upgrade(hf_db)
