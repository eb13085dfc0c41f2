"""Text vectors beside image vectors: stored per model, and SQL ranks images by them."""
from __future__ import annotations

import numpy as np
from click.testing import CliRunner

from skinmap.cli import cli
from skinmap.db import connect
from tests.fix_images import write_csv, write_image


def test_text_vectors_rank_images_in_sql(atlas_db, tmp_path):
    from embedder.models import load_encoder
    from embedder.pipeline import embed_images
    from embedder.text import encode_texts, store_texts
    from skinmap.ingest import ingest
    from skinmap.ingest.mapping import build_mapping

    for i in range(6):
        write_image(tmp_path / "img" / f"k{i}.png", seed=900 + i)
    meta = write_csv(tmp_path / "m.csv", ["key"], [[f"k{i}"] for i in range(6)])
    ingest(atlas_db, build_mapping({"dataset": {"slug": "txt", "release_year": 2020}, "metadata": str(meta),
                                    "images": str(tmp_path / "img"), "file_template": "{key}.png",
                                    "columns": {"source_key": "key"}}, tmp_path), progress=False)
    encoder = load_encoder("skinmap-tiny-vit", "none")
    embed_images(atlas_db, encoder, workers=0, progress=False)
    with connect(atlas_db) as conn:
        assert store_texts(conn, encoder, ["melanoma", "psoriasis"]) == 2
        stored = conn.execute("select label, prompt, vector_dims(vec) from atlas.text_vector order by 1").fetchall()
        ranked = conn.execute(
            "select image_id from atlas.images_nearest_text_v1('skinmap-tiny-vit/random', 'melanoma', 3)"
        ).fetchall()
        images = conn.execute("select image_id, vec::text from atlas.embedding").fetchall()
    assert stored == [("melanoma", "a clinical photo of melanoma", 64), ("psoriasis", "a clinical photo of psoriasis", 64)]
    text = encode_texts(encoder, ["a clinical photo of melanoma"])[0]
    sims = {i: float(np.dot(text, np.array([float(x) for x in v.strip("[]").split(",")]))) for i, v in images}
    assert [r[0] for r in ranked] == sorted(sims, key=sims.get, reverse=True)[:3]

    result = CliRunner().invoke(cli, ["--database-url", atlas_db, "embed-text", "--model", "efficientnet-lite0",
                                      "--text", "x"])
    assert result.exit_code != 0 and "no text tower" in result.output
