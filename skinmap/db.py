"""Connections to the atlas database, wherever it lives.

One setting decides: SKINMAP_DATABASE_URL (or --database-url) points at any
PostgreSQL with pgvector >= 0.8; without it the embedded server is used.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from skinmap import config

MIN_PGVECTOR = (0, 8, 0)


class DatabaseError(RuntimeError):
    """The database cannot serve as an atlas; the message says what to do."""


def resolve_url(explicit: str | None = None) -> str:
    """The URL to use: explicit option, then SKINMAP_DATABASE_URL, then the embedded server."""
    url = explicit or config.configured_database_url()
    if url:
        return url
    from skinmap import embedded

    return embedded.start()


@contextmanager
def connect(url: str, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A psycopg connection with pgvector's types registered (when the extension exists)."""
    try:
        conn = psycopg.connect(url, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        raise DatabaseError(
            f"Cannot connect to {redact(url)}: {exc}".strip()
            + "\nCheck SKINMAP_DATABASE_URL, or unset it to use the embedded database."
        ) from exc
    try:
        if conn.execute("select 1 from pg_extension where extname = 'vector'").fetchone():
            from pgvector.psycopg import register_vector

            register_vector(conn)
            if not autocommit:
                conn.commit()
        yield conn
    finally:
        conn.close()


def check_pgvector(url: str) -> str:
    """Fail with instructions unless pgvector >= 0.8 is available; return its version."""
    with connect(url, autocommit=True) as conn:
        row = conn.execute(
            "select default_version, installed_version from pg_available_extensions where name = 'vector'"
        ).fetchone()
    if row is None:
        raise DatabaseError(
            "pgvector is not installed on this PostgreSQL server. Install it "
            "(e.g. `apt install postgresql-16-pgvector`, or use the pgvector/pgvector "
            "Docker image), or unset SKINMAP_DATABASE_URL to use the embedded database."
        )
    version = row[1] or row[0]
    parts = tuple(int(p) for p in version.split(".")[:3] if p.isdigit())
    if parts < MIN_PGVECTOR:
        raise DatabaseError(
            f"pgvector {version} is too old: SkinMap needs >= 0.8 (iterative index scans). "
            "Upgrade the extension package, then run `alter extension vector update`."
        )
    return version


def redact(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable database URL>"
    if info.get("password"):
        info["password"] = "***"
    return psycopg.conninfo.make_conninfo(**info)


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database (URL form, as alembic and dbt need)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise DatabaseError("database URLs must look like postgresql://user:password@host:port/dbname")
    return urlunsplit(parts._replace(path="/" + dbname))


def create_database(admin_url: str, dbname: str, *, drop_first: bool = False) -> str:
    """Create `dbname` on the server of `admin_url` (optionally dropping it first); return its URL."""
    from psycopg import sql

    with connect(admin_url, autocommit=True) as conn:
        if drop_first:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))
        exists = conn.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
    return with_database(admin_url, dbname)


def drop_database(admin_url: str, dbname: str) -> None:
    from psycopg import sql

    with connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname)))
