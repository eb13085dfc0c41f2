"""atlas.ensure_embedding_index_v3: a graph as dense as the model's size needs, rebuilt when it grows past it."""
from __future__ import annotations

import os

import numpy as np
import pytest

from skinmap import db, migrate
from skinmap.knn import planted
from skinmap.knn.sql_engine import SqlEngine, graph_m, hnsw_build_memory, search_breadth

DIM = 16
INDEX = "ix_embedding_hnsw_model_{}"


@pytest.fixture(scope="module")
def small_model(server_url):
    url = db.create_database(server_url, "t_embedding_index", drop_first=True)
    migrate.upgrade(url)
    vectors = planted.clustered_vectors(600, DIM, 6, 0.5, np.random.default_rng(3))
    planted.add_dataset(url, "ix", 2020, vectors, index=False)
    with db.connect(url) as conn:
        model_id = conn.execute("select model_id from atlas.embedding_model where model_name = 'planted'").fetchone()[0]
    yield url, model_id
    db.drop_database(server_url, "t_embedding_index")


def _index_state(conn, model_id: int) -> tuple[int, int, list[str]]:
    """(oid of the model's index, its m, names of every index on atlas.embedding for this model)."""
    name = INDEX.format(model_id)
    oid = conn.execute("select %s::regclass::oid", (f"atlas.{name}",)).fetchone()[0]
    names = [r[0] for r in conn.execute(
        "select indexname from pg_indexes where schemaname = 'atlas' and indexname like %s", (f"{name}%",))]
    return oid, graph_m(conn, name), names


def test_index_grows_denser_with_the_model_and_never_back(small_model):
    url, model_id = small_model
    with db.connect(url, autocommit=True) as conn:
        ensure = "select atlas.ensure_embedding_index_v3(%s, %s)"
        assert conn.execute(ensure, (model_id, 10_000)).fetchone()[0] == INDEX.format(model_id)
        sparse_oid, m, names = _index_state(conn, model_id)
        assert m == 16 and names == [INDEX.format(model_id)]
        conn.execute(ensure, (model_id, 10_000))
        assert _index_state(conn, model_id)[0] == sparse_oid  # nothing to do: not rebuilt

        conn.execute(ensure, (model_id, 600))  # the model has reached the dense size: rebuilt under the same name
        dense_oid, m, names = _index_state(conn, model_id)
        assert dense_oid != sparse_oid and m == 32 and names == [INDEX.format(model_id)]
        options = conn.execute("select reloptions from pg_class where oid = %s", (dense_oid,)).fetchone()[0]
        assert sorted(options) == ["ef_construction=128", "m=32"]
        conn.execute(ensure, (model_id, 10_000))  # a denser graph than needed is kept, not thinned
        assert _index_state(conn, model_id)[0] == dense_oid

        conn.execute("set enable_seqscan = off")  # 600 rows: a scan would be cheaper; the index must be usable
        conn.execute("set enable_bitmapscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            f"explain select image_id from atlas.embedding where model_id = {int(model_id)} "
            f"order by vec::vector({DIM}) <=> (select vec from atlas.embedding limit 1) limit 5"))
        assert INDEX.format(model_id) in plan


def test_sql_engine_searches_a_dense_graph_wider(small_model):
    url, model_id = small_model
    with db.connect(url, autocommit=True) as conn:
        conn.execute("select atlas.ensure_embedding_index_v3(%s, 600)", (model_id,))
        ids = np.array([r[0] for r in conn.execute(
            "select image_id from atlas.embedding where model_id = %s order by image_id", (model_id,))])
    reference = SqlEngine(url, exact_below=100).whole_model(model_id, ids)
    got, _ = reference.search(ids[:20], 5)
    assert reference.has_index and reference.graph_m == 32  # the engine's call (dense from 250,000) kept it dense
    assert (got[:, 0] == ids[:20]).all()  # each image is its own nearest


@pytest.mark.parametrize(("k", "m", "chosen", "expected"), [
    (10, 16, None, 40), (100, 16, None, 100), (100, 32, None, 200), (10, 32, None, 160),
    (100, 32, 150, 150), (100, 16, 55, 100), (800, 32, None, 1000),
])
def test_search_breadth(k, m, chosen, expected):
    assert search_breadth(k, m, chosen) == expected


def test_build_memory_fits_the_graph_within_bounds():
    assert hnsw_build_memory(1_000, 512) == f"{1 << 20}kB"  # at least 1 GB
    third_of_memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 3
    at_field_scale = int(hnsw_build_memory(1_140_000, 512)[:-2]) << 10
    assert at_field_scale <= third_of_memory
    assert at_field_scale >= min(third_of_memory - 1024, 1_140_000 * 4 * 512)  # at least the vectors themselves
