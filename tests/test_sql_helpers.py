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
    ("select * from atlas.nearest_images_v2(1, %s)", "x'); drop table atlas.image; --"),
    ("select * from atlas.images_nearest_text_v2(%s, 'x')", "'; drop table atlas.image; --"),
    ("select * from atlas.novelty_of_images_v2(array[1], %s)", "x' or '1'='1"),
])
def test_hostile_strings_are_values_not_sql(kpi_atlas, call):
    sql, hostile = call
    with connect(kpi_atlas) as conn:
        with pytest.raises(psycopg.errors.RaiseException, match="unknown embedding model|no text vector"):
            conn.execute(sql, (hostile,))
        conn.rollback()
        assert conn.execute("select count(*) from atlas.image").fetchone()[0] > 0


# --- v2: the same helpers for both storages (vector and halfvec models) ---

DIM = 32
STORED = {"planted-f32": "vector", "planted-f16": "halfvec"}


@pytest.fixture(scope="module")
def two_storage_atlas(server_url):
    """One planted dataset embedded twice: float32 (vec) and float16 (vec_half), each with its HNSW index.

    Yields (url, {model: {image_id: stored vector}}, {image_id: float32 vector}, quarantined image id).
    """
    from skinmap import db, migrate
    from skinmap.knn import planted

    name = "t_sql_helpers_v2"
    url = db.create_database(server_url, name, drop_first=True)
    migrate.upgrade(url)
    vectors = planted.clustered_vectors(400, DIM, 12, 0.8, np.random.default_rng(17))
    _, image_ids = planted.add_dataset(url, "v2", 2021, vectors, model_name="planted-f32")
    quarantined = int(image_ids[11])
    with connect(url) as conn:
        half_id = conn.execute(
            "insert into atlas.embedding_model (model_name, family, architecture, weights, is_random_weights, "
            "dimension, storage) values ('planted-f16', 'imported', 'planted', 'none', true, %s, 'halfvec') "
            "returning model_id", (DIM,),
        ).fetchone()[0]
        conn.execute(
            "insert into atlas.embedding (model_id, image_id, vec_half) select %s, e.image_id, e.vec::halfvec "
            "from atlas.embedding as e join atlas.embedding_model as m using (model_id) "
            "where m.model_name = 'planted-f32'", (half_id,),
        )
        conn.execute("select atlas.ensure_embedding_index_v3(%s)", (half_id,))
        conn.execute(
            "update atlas.image set status = 'quarantined', quarantine_reason = 'test' where image_id = %s",
            (quarantined,),
        )
        conn.execute("analyze")
        conn.commit()
        rows = conn.execute(
            "select m.model_name, m.storage, e.image_id, coalesce(e.vec, e.vec_half::vector) from atlas.embedding e "
            "join atlas.embedding_model m using (model_id) join atlas.image i using (image_id) where i.status = 'ok'"
        ).fetchall()
    stored: dict[str, dict[int, np.ndarray]] = {}
    for model, storage, image_id, vec in rows:
        assert STORED[model] == storage
        stored.setdefault(model, {})[image_id] = np.asarray(vec.to_numpy(), dtype=np.float64)
    exact = {int(i): v.astype(np.float32).astype(np.float64) for i, v in zip(image_ids, vectors)}
    yield url, stored, exact, quarantined
    db.drop_database(server_url, name)


def _nearest(pool: dict[int, np.ndarray], probe: np.ndarray, k: int, exclude: int | None = None):
    return sorted((_cosine_distance(probe, v), i) for i, v in pool.items() if i != exclude)[:k]


@pytest.mark.parametrize("model", sorted(STORED))
def test_nearest_images_v2_match_brute_force(two_storage_atlas, model):
    url, stored, exact, quarantined = two_storage_atlas
    pool = stored[model]
    query = sorted(pool)[7]
    expected = _nearest(pool, pool[query], 8, exclude=query)
    with connect(url) as conn:
        rows = conn.execute(
            "select neighbour_image_id, dataset_slug, cosine_distance from atlas.nearest_images_v2(%s, %s, 8)",
            (query, model),
        ).fetchall()
    assert [r[0] for r in rows] == [i for _, i in expected]
    assert [r[2] for r in rows] == pytest.approx([d for d, _ in expected], abs=1e-5)
    assert quarantined not in [r[0] for r in rows] and {r[1] for r in rows} == {"v2"}
    truth = _nearest({i: exact[i] for i in pool}, exact[query], 8, exclude=query)  # float32 originals
    assert [r[2] for r in rows] == pytest.approx([d for d, _ in truth], abs=1e-3)


@pytest.mark.parametrize("model", sorted(STORED))
def test_images_nearest_text_v2_match_brute_force(two_storage_atlas, model):
    url, stored, exact, _ = two_storage_atlas
    pool = stored[model]
    probe = sorted(pool)[3]
    text_vec = exact[probe] + 0.05 * np.sin(np.arange(DIM))  # a float32 text vector near one image
    expected = _nearest(pool, text_vec, 6)
    with connect(url) as conn:
        conn.execute(
            "insert into atlas.text_vector (model_id, label, prompt, vec) select model_id, 'probe', 'near an image', "
            "%s::real[]::vector from atlas.embedding_model where model_name = %s",
            (text_vec.astype(np.float32).tolist(), model),
        )
        rows = conn.execute(
            "select image_id, cosine_distance from atlas.images_nearest_text_v2(%s, 'probe', 6)", (model,)
        ).fetchall()
        conn.rollback()
    assert rows[0][0] == probe
    assert [r[0] for r in rows] == [i for _, i in expected]
    tol = 1e-5 if STORED[model] == "vector" else 1e-3  # halfvec: the text vector is rounded to float16 too
    assert [r[1] for r in rows] == pytest.approx([d for d, _ in expected], abs=tol)


@pytest.mark.parametrize("model", sorted(STORED))
def test_novelty_of_images_v2_matches_brute_force(two_storage_atlas, model):
    url, stored, exact, quarantined = two_storage_atlas
    pool = stored[model]
    ids = sorted(pool)[:20]
    k = 7

    def novelty(vecs: dict[int, np.ndarray]) -> float:
        reference = [v for i, v in vecs.items() if i not in ids]
        return float(np.mean([np.mean(sorted(_cosine_distance(vecs[q], r) for r in reference)[:k]) for q in ids]))

    with connect(url) as conn:
        row = conn.execute(
            "select n_query, n_missing, n_reference, k, novelty from atlas.novelty_of_images_v2(%s, %s, %s)",
            (ids + [quarantined, 10**12], model, k),
        ).fetchone()
    assert row[:4] == (20, 2, len(pool) - 20, k)
    assert row[4] == pytest.approx(novelty(pool), abs=1e-5)
    assert row[4] == pytest.approx(novelty({i: exact[i] for i in pool}), abs=1e-3)


def test_v2_equals_v1_on_a_vector_model(two_storage_atlas):
    url, stored, _, _ = two_storage_atlas
    query = sorted(stored["planted-f32"])[5]
    with connect(url) as conn:
        v1, v2 = (conn.execute(
            f"select * from atlas.nearest_images_{v}(%s, 'planted-f32', 12)", (query,)  # noqa: S608 - fixed names
        ).fetchall() for v in ("v1", "v2"))
        n1, n2 = (conn.execute(
            f"select * from atlas.novelty_of_images_{v}(%s, 'planted-f32', 30)", (sorted(stored["planted-f32"])[:9],)  # noqa: S608
        ).fetchone() for v in ("v1", "v2"))
    assert [r[:3] for r in v2] == [r[:3] for r in v1]
    assert [r[3] for r in v2] == pytest.approx([r[3] for r in v1], abs=1e-6)
    assert n2[:4] == n1[:4] and n2[4] == pytest.approx(n1[4], abs=1e-6)


def test_v2_leaves_the_callers_search_settings_alone(two_storage_atlas):
    url, stored, _, _ = two_storage_atlas
    with connect(url) as conn:
        conn.execute("set hnsw.ef_search = 55")
        rows = conn.execute(
            "select * from atlas.nearest_images_v2(%s, 'planted-f16', 200)", (sorted(stored["planted-f16"])[0],)
        ).fetchall()
        assert len(rows) == 200  # k beyond the default ef_search of 40 still gives k rows
        assert conn.execute("show hnsw.ef_search").fetchone()[0] == "55"
        assert conn.execute("show hnsw.iterative_scan").fetchone()[0] == "off"
