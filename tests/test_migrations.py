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
