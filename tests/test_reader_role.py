"""The read-only role skinmap_reader: what a BI login can read, and everything it cannot."""
from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from skinmap import migrate, reader_access
from skinmap.db import connect
from skinmap.dbt_runner import build

READER = "t_reader_role"


def _as(url: str, user: str) -> str:
    """The same socket URL, logged in as another role (the socket trusts local users)."""
    return make_conninfo(**{**conninfo_to_dict(url), "user": user})


@pytest.fixture(scope="module")
def reader_url(kpi_atlas) -> str:
    reader_access.grant_reader(kpi_atlas, READER)
    return _as(kpi_atlas, READER)


def _kpi_views(url: str) -> list[str]:
    with connect(url) as conn:
        return [r[0] for r in conn.execute(
            "select table_name from information_schema.views where table_schema = 'kpi' order by 1"
        )]


def test_reader_reads_every_kpi_view_after_dbt_build(kpi_atlas, reader_url):
    views = _kpi_views(kpi_atlas)
    assert "kpi_representation_v1" in views and "kpi_novelty_by_year_v1" in views
    with psycopg.connect(reader_url) as conn:
        for view in views:
            conn.execute(f"select count(*) from kpi.{view}").fetchone()  # noqa: S608 - names from the catalog
        n = conn.execute("select sum(n_images) from kpi.kpi_representation_v1 where attribute = 'sex'").fetchone()[0]
    assert n > 0


@pytest.mark.parametrize("query", [
    "select * from atlas.image limit 1",
    "select file_path from atlas.image limit 1",
    "select * from atlas.embedding limit 1",
    "select * from atlas.ingest_run limit 1",
    "select * from staging.stg_atlas__images limit 1",
    "select * from intermediate.int_embeddings_joined_to_images limit 1",
    "select * from public.alembic_version",
    "select * from atlas.nearest_images_v1(1, 'efficientnet-lite0/imagenet', 3)",
    "select * from atlas.nearest_images_v2(1, 'efficientnet-lite0/imagenet', 3)",
    "select * from atlas.images_nearest_text_v2('efficientnet-lite0/imagenet', 'melanoma', 3)",
    "select * from atlas.novelty_of_images_v2(array[1]::bigint[], 'efficientnet-lite0/imagenet', 3)",
])
def test_reader_is_refused_outside_kpi(reader_url, query):
    with psycopg.connect(reader_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(query)


@pytest.mark.parametrize("statement", [
    "insert into atlas.dataset (slug, name) values ('x', 'x')",
    "delete from atlas.image",
    "create table kpi.t (x int)",
    "create table public.t (x int)",
    "create view kpi.v as select 1 as x",
    "drop view kpi.kpi_representation_v1",
])
def test_reader_cannot_write(reader_url, statement):
    with psycopg.connect(reader_url) as conn, pytest.raises(
        (psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)
    ):
        conn.execute(statement)


def test_privileges_survive_rebuild_and_cover_new_views(kpi_atlas, reader_url):
    """dbt drops and recreates views; a view added later is readable without a new grant."""
    build(kpi_atlas, select="kpi_representation", quiet=True)
    with connect(kpi_atlas, autocommit=True) as conn:
        conn.execute("create or replace view kpi.kpi_t_added_later_v1 as select 1 as x")
    try:
        with psycopg.connect(reader_url) as conn:
            assert conn.execute("select count(*) from kpi.kpi_representation_v1").fetchone()[0] > 0
            assert conn.execute("select x from kpi.kpi_t_added_later_v1").fetchone() == (1,)
    finally:
        with connect(kpi_atlas, autocommit=True) as conn:
            conn.execute("drop view kpi.kpi_t_added_later_v1")


def test_grant_reader_rejects_unsafe_names(kpi_atlas):
    from skinmap.db import DatabaseError

    with pytest.raises(DatabaseError, match="lower-case"):
        reader_access.grant_reader(kpi_atlas, 'x"; drop table atlas.image; --')


def test_reader_migrations_downgrade_and_upgrade(atlas_db):
    with connect(atlas_db) as conn:
        assert conn.execute("select has_schema_privilege('skinmap_reader', 'kpi', 'usage')").fetchone()[0]
    migrate.downgrade(atlas_db, "i6_01-1")  # below i6_01, however many revisions now sit above it
    with connect(atlas_db) as conn:
        assert conn.execute("select to_regclass('atlas.text_vector')").fetchone()[0] is None
        assert conn.execute("select to_regprocedure('atlas.grant_kpi_reader_v1()')").fetchone()[0] is None
        exists = conn.execute("select 1 from pg_roles where rolname = 'skinmap_reader'").fetchone()
        if exists:  # kept because other databases on the server still use it
            assert not conn.execute("select has_schema_privilege('skinmap_reader', 'kpi', 'usage')").fetchone()[0]
    migrate.upgrade(atlas_db)
    with connect(atlas_db) as conn:
        assert conn.execute("select has_schema_privilege('skinmap_reader', 'kpi', 'usage')").fetchone()[0]


def test_every_relation_the_reader_can_read_is_a_kpi_view(reader_url):
    """The whole catalog as the reader sees it: relations it may select, schemas it may use, functions it may
    run in a schema it can use. Nothing outside kpi and PostgreSQL's own catalogs (and pgvector's types)."""
    with psycopg.connect(reader_url) as conn:
        readable = conn.execute("""
            select n.nspname, c.relname, c.relkind from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_toast%'
              and c.relkind in ('r', 'v', 'm', 'p', 'f', 'S')
              and (has_table_privilege(c.oid, 'select') or has_any_column_privilege(c.oid, 'select'))
            order by 1, 2""").fetchall()
        schemas = [s for (s,) in conn.execute("""
            select nspname from pg_namespace where has_schema_privilege(oid, 'usage')
              and nspname not in ('pg_catalog', 'information_schema') and nspname not like 'pg\\_%' order by 1""")]
        functions = conn.execute("""
            select n.nspname, p.proname from pg_proc as p join pg_namespace as n on n.oid = p.pronamespace
            where n.nspname not in ('pg_catalog', 'information_schema') and has_schema_privilege(n.oid, 'usage')
              and has_function_privilege(p.oid, 'execute') and n.nspname <> 'public' order by 1, 2""").fetchall()
    views = set(_kpi_views(reader_url))
    assert readable and {(s, k) for s, _, k in readable} == {("kpi", "v")}, readable
    assert {name for _, name, _ in readable} == views
    assert set(schemas) <= {"kpi", "public"}, schemas  # public: pgvector's vector types, nothing readable there
    assert all(schema == "kpi" for schema, _ in functions), functions
