"""Alembic round trip on a real database: base -> head -> base -> head."""
from __future__ import annotations

from skinmap import migrate
from skinmap.db import connect

CORE_TABLES = {"dataset", "ingest_run", "image", "image_metadata", "ingest_issue", "embedding_model",
               "embedding", "embed_run", "pixel_signature"}


def _atlas_tables(url: str) -> set[str]:
    with connect(url) as conn:
        rows = conn.execute("select table_name from information_schema.tables where table_schema = 'atlas'").fetchall()
    return {r[0] for r in rows}


def test_downgrade_base_then_upgrade_head(empty_db):
    migrate.upgrade(empty_db)
    at_head = _atlas_tables(empty_db)
    assert CORE_TABLES <= at_head
    assert migrate.current(empty_db) is not None
    migrate.downgrade(empty_db, "base")
    assert _atlas_tables(empty_db) == set()
    assert migrate.current(empty_db) is None
    with connect(empty_db) as conn:
        assert conn.execute("select count(*) from pg_proc where proname like 'ensure_embedding_index%'").fetchone()[0] == 0
    migrate.upgrade(empty_db)
    assert _atlas_tables(empty_db) == at_head
    with connect(empty_db) as conn:
        assert conn.execute("select extversion >= '0.8' from pg_extension where extname = 'vector'").fetchone()[0]


def test_upgrade_is_idempotent(atlas_db):
    before = migrate.current(atlas_db)
    migrate.upgrade(atlas_db)
    assert migrate.current(atlas_db) == before


def test_novelty_lists_move_to_their_own_table_and_back(empty_db):
    """i5_07 moves the newest cutoff's lists out of atlas.knn_novelty (one row per image); downgrade restores them."""
    import numpy as np

    from skinmap.knn import planted

    migrate.upgrade(empty_db, "i5_06")
    _, image_ids = planted.add_dataset(empty_db, "lists", 2020, planted.clustered_vectors(
        3, 8, 1, 0.5, np.random.default_rng(0)), index=False)
    with connect(empty_db) as conn:
        model_id = conn.execute("select model_id from atlas.embedding_model").fetchone()[0]
        for cutoff, lists in ((2020, None), (2021, "{0.25,0.5}")):
            conn.execute(
                "insert into atlas.knn_novelty (model_id, scope, cutoff_year, image_id, k, n_neighbours, "
                "sum_distance, novelty, kth_distance, engine, distances) select %s, 'earlier_years', %s, i, 2, "
                "case when %s::real[] is null then 0 else 2 end, null, case when %s::real[] is null then null "
                "else 0.375 end, null, 'exact', %s::real[] from unnest(%s::bigint[]) as i",
                (model_id, cutoff, lists, lists, lists, image_ids.tolist()))
        conn.commit()
    migrate.upgrade(empty_db, "i5_07")
    with connect(empty_db) as conn:
        moved = conn.execute("select image_id, distances from atlas.knn_novelty_list order by 1").fetchall()
        columns = {r[0] for r in conn.execute(
            "select column_name from information_schema.columns where table_name = 'knn_novelty'")}
    assert moved == [(int(i), [0.25, 0.5]) for i in sorted(image_ids)] and "distances" not in columns
    migrate.downgrade(empty_db, "i5_06")
    with connect(empty_db) as conn:
        restored = conn.execute("select cutoff_year, count(distances) from atlas.knn_novelty group by 1 order by 1")
        assert restored.fetchall() == [(2020, 0), (2021, 3)]
    migrate.upgrade(empty_db)  # i5_07 moves them again, i5_10 packs each list as float4 bytes
    with connect(empty_db) as conn:
        packed = [(i, np.frombuffer(d, dtype=">f4").tolist()) for i, d in conn.execute(
            "select image_id, distances from atlas.knn_novelty_list order by 1")]
    assert packed == moved
    persistence = "select relpersistence from pg_class where oid = 'atlas.knn_novelty_list'::regclass"
    with connect(empty_db) as conn:
        assert conn.execute(persistence).fetchone() == ("u",)  # unlogged: state the next full run derives again
    migrate.downgrade(empty_db, "i5_09")  # derived state: emptied, the column real[] again
    with connect(empty_db) as conn:
        left = conn.execute("select count(*), pg_typeof(min(distances))::text from atlas.knn_novelty_list")
        assert left.fetchone() == (0, "real[]")
        assert conn.execute(persistence).fetchone() == ("p",)
