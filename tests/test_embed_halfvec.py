"""halfvec storage: a model's vectors in atlas.embedding.vec_half, its own HNSW index, readers see one `vec`."""
from __future__ import annotations

import numpy as np
import pytest

from skinmap.db import connect
from skinmap.dbt_runner import build
from skinmap.ingest import ingest
from skinmap.ingest.mapping import build_mapping
from tests.fix_images import write_csv, write_image

N_IMAGES = 24
HALF = "efficientnet-lite0/imagenet"
FULL = "skinmap-tiny-vit/random"


@pytest.fixture
def images_db(atlas_db, tmp_path) -> str:
    for i in range(N_IMAGES):
        write_image(tmp_path / "img" / f"h{i}.png", seed=300 + i, size=(64, 64))
    meta = write_csv(tmp_path / "m.csv", ["key"], [[f"h{i}"] for i in range(N_IMAGES)])
    mapping = build_mapping({"dataset": {"slug": "half", "release_year": 2021}, "metadata": str(meta),
                             "images": str(tmp_path / "img"), "file_template": "{key}.png",
                             "columns": {"source_key": "key"}}, tmp_path)
    ingest(atlas_db, mapping, progress=False)
    return atlas_db


def test_halfvec_model_beside_a_vector_model(images_db):
    from embedder.models import load_encoder
    from embedder.pipeline import embed_images

    full = embed_images(images_db, load_encoder("skinmap-tiny-vit", "none"), workers=0, progress=False)
    half_encoder = load_encoder("efficientnet-lite0")
    half = embed_images(images_db, half_encoder, batch_size=8, workers=0, progress=False, storage="halfvec")
    assert (full.n_embedded, half.n_embedded) == (N_IMAGES, N_IMAGES)
    with pytest.raises(ValueError, match="--storage halfvec"):
        embed_images(images_db, half_encoder, workers=0, progress=False, storage="vector")
    again = embed_images(images_db, half_encoder, workers=0, progress=False)  # None keeps the model's storage
    assert again.n_todo == 0

    with connect(images_db) as conn:
        stored = dict((r[0], r[1:]) for r in conn.execute(
            "select m.model_name, m.storage, count(e.vec), count(e.vec_half), min(vector_dims(e.vec)), "
            "min(vector_dims(e.vec_half)) from atlas.embedding e join atlas.embedding_model m using (model_id) "
            "group by 1, 2"
        ))
        assert stored == {FULL: ("vector", N_IMAGES, 0, 64, None), HALF: ("halfvec", 0, N_IMAGES, None, 1280)}
        indexes = dict(conn.execute(
            "select m.model_name, i.indexdef from pg_indexes i join atlas.embedding_model m "
            "on i.indexname = 'ix_embedding_hnsw_model_' || m.model_id where i.schemaname = 'atlas'"
        ).fetchall())
        assert "vec_half)::halfvec(1280)) halfvec_cosine_ops" in indexes[HALF]
        assert "vec)::vector(64)) vector_cosine_ops" in indexes[FULL]

    build(images_db, select="stg_atlas__embeddings stg_atlas__embedding_models", quiet=True)  # with its tests
    with connect(images_db) as conn:
        rows = conn.execute(
            "select m.model_name, e.vec from staging.stg_atlas__embeddings e "
            "join atlas.embedding_model m using (model_id)"
        ).fetchall()
    by_model: dict[str, list[np.ndarray]] = {}
    for name, vec in rows:
        by_model.setdefault(name, []).append(vec.to_numpy())
    assert {name: len(v) for name, v in by_model.items()} == {FULL: N_IMAGES, HALF: N_IMAGES}
    half_norms = np.linalg.norm(np.stack(by_model[HALF]).astype(np.float64), axis=1)
    full_norms = np.linalg.norm(np.stack(by_model[FULL]).astype(np.float64), axis=1)
    assert np.allclose(full_norms, 1.0, atol=1e-5)
    assert np.allclose(half_norms, 1.0, atol=1e-3)  # float16: at most 2^-11 relative rounding
    assert np.all(np.stack(by_model[HALF]) == np.stack(by_model[HALF]).astype(np.float16))  # really float16 values
