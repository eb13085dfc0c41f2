"""The analyst helpers in sql/: nearest images, images nearest a text vector, novelty of a set.

Each result is checked against a brute-force numpy computation on the same vectors.
"""
from __future__ import annotations

import numpy as np
import psycopg
import pytest

from skinmap.db import connect

MODEL = "efficientnet-lite0/imagenet"


@pytest.fixture(scope="module")
def vectors(kpi_atlas) -> dict[int, np.ndarray]:
    with connect(kpi_atlas) as conn:
        rows = conn.execute(
            "select e.image_id, e.vec from atlas.embedding as e "
            "join atlas.embedding_model as m using (model_id) "
            "join atlas.image as i using (image_id) where m.model_name = %s and i.status = 'ok'",
            (MODEL,),
        ).fetchall()
    return {image_id: np.asarray(vec.to_numpy(), dtype=np.float64) for image_id, vec in rows}


def _cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(1 - a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_nearest_images_match_brute_force(kpi_atlas, vectors):
    query = sorted(vectors)[7]
    expected = sorted((_cosine_distance(vectors[query], v), i) for i, v in vectors.items() if i != query)[:5]
    with connect(kpi_atlas) as conn:
        rows = conn.execute(
            "select neighbour_image_id, dataset_slug, cosine_distance from atlas.nearest_images_v1(%s, %s, 5)",
            (query, MODEL),
        ).fetchall()
    assert [r[0] for r in rows] == [i for _, i in expected]
    assert [r[2] for r in rows] == pytest.approx([d for d, _ in expected], abs=1e-5)
    assert all(r[1] for r in rows)


def test_images_nearest_stored_text_vector(kpi_atlas, vectors):
    probe = sorted(vectors)[3]
    with connect(kpi_atlas) as conn:
        conn.execute(
            "insert into atlas.text_vector (model_id, label, prompt, vec) "
            "select model_id, 'probe', 'copy of an image vector', vec from atlas.embedding "
            "join atlas.embedding_model using (model_id) where model_name = %s and image_id = %s",
            (MODEL, probe),
        )
        rows = conn.execute(
            "select image_id, cosine_distance from atlas.images_nearest_text_v1(%s, 'probe', 3)", (MODEL,)
        ).fetchall()
        conn.rollback()
    assert rows[0][0] == probe and rows[0][1] == pytest.approx(0, abs=1e-6)
    assert rows[1][1] >= rows[0][1] and len(rows) == 3


def test_novelty_of_a_set_matches_brute_force(kpi_atlas, vectors):
    ids = sorted(vectors)[:20]
    k = 5
    reference = [v for i, v in vectors.items() if i not in ids]
    per_image = [np.mean(sorted(_cosine_distance(vectors[q], r) for r in reference)[:k]) for q in ids]
    with connect(kpi_atlas) as conn:
        row = conn.execute(
            "select n_query, n_missing, n_reference, k, novelty from atlas.novelty_of_images_v1(%s, %s, %s)",
            (ids + [10**12], MODEL, k),
        ).fetchone()
    assert row[:4] == (20, 1, len(reference), k)
    assert row[4] == pytest.approx(float(np.mean(per_image)), abs=1e-5)


@pytest.mark.parametrize("call", [
    ("select * from atlas.nearest_images_v1(1, %s)", "x'); drop table atlas.image; --"),
    ("select * from atlas.images_nearest_text_v1(%s, 'x')", "'; drop table atlas.image; --"),
    ("select * from atlas.novelty_of_images_v1(array[1], %s)", "x' or '1'='1"),
])
def test_hostile_strings_are_values_not_sql(kpi_atlas, call):
    sql, hostile = call
    with connect(kpi_atlas) as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="unknown embedding model|no text vector"):
            conn.execute(sql, (hostile,))
        conn.rollback()
        assert conn.execute("select count(*) from atlas.image").fetchone()[0] > 0
