"""Connections to the atlas database, wherever it lives.

One setting decides: SKINMAP_DATABASE_URL (or --database-url) points at any
PostgreSQL with pgvector >= 0.8; without it the embedded server is used.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from skinmap import config, urls

MIN_PGVECTOR = (0, 8, 0)


class DatabaseError(RuntimeError):
    """The database cannot serve as an atlas; the message says what to do."""


MAIN_ATLAS = "main"
_ATLAS_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


def atlas_database(atlas: str | None) -> str:
    """The database of a named atlas: `main` (the default) is `skinmap`, any other NAME is `skinmap_NAME`."""
    if atlas is None or atlas == MAIN_ATLAS:
        return "skinmap"
    if not _ATLAS_NAME.match(atlas):
        raise DatabaseError(f"--atlas {atlas!r}: an atlas name is lower-case letters, digits and _ (e.g. demo)")
    return f"skinmap_{atlas}"


def resolve_url(explicit: str | None = None, *, atlas: str | None = None) -> str:
    """The URL to use: explicit option, then SKINMAP_DATABASE_URL, then the embedded server.

    A named atlas (`--atlas demo`) is a database on that server; on the
    embedded server its URL is rebuilt from the running server each time, so
    it follows the socket when `skinmap db start --port` moves it.
    """
    url = explicit or config.configured_database_url()
    if url:
        return with_database(url, atlas_database(atlas)) if atlas else url
    from skinmap import embedded

    return embedded.start(atlas_database(atlas))


@contextmanager
def connect(url: str, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A psycopg connection with pgvector's types registered (when the extension exists)."""
    try:
        conn = psycopg.connect(url, autocommit=autocommit)
    except psycopg.OperationalError as exc:
        raise DatabaseError(_connection_failure(url, exc)) from exc
    try:
        if conn.execute("select 1 from pg_extension where extname = 'vector'").fetchone():
            from pgvector.psycopg import register_vector

            register_vector(conn)
            if not autocommit:
                conn.commit()
        yield conn
    finally:
        conn.close()


def _connection_failure(url: str, exc: Exception) -> str:
    """Which atlas, where the client looked, and the fix (a socket file named by another port, most often)."""
    from pathlib import Path

    try:
        address = urls.parse(url)
    except urls.AddressError as bad:
        return str(bad)
    lines = [f"Cannot connect to atlas database {address.dbname!r} at {address.where()}: {str(exc).strip()}"]
    folder = Path(address.host) if address.is_socket and address.host else None
    sockets = sorted(folder.glob(".s.PGSQL.*")) if folder and folder.is_dir() else []
    ports = [s.name.rsplit(".", 1)[1] for s in sockets if not s.name.endswith(".lock")]
    if ports and str(address.port or urls.DEFAULT_PORT) not in ports:
        lines.append(f"A server in {folder} listens on port {', '.join(ports)} (`skinmap db start --port` moves the "
                     f"socket): add port={ports[0]} to the URL, or let `skinmap --atlas NAME …` find it.")
    elif config.configured_database_url() or not (folder and (folder / "PG_VERSION").exists()):
        lines.append("Check the URL (--database-url or SKINMAP_DATABASE_URL), or unset it to use the embedded "
                     "database (`skinmap --atlas NAME …`).")
    else:
        lines.append("The embedded server is not running: `skinmap db start` starts it (any command does).")
    return "\n".join(lines)


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
    return urls.redact(url)


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database (URL form, as alembic and dbt need)."""
    try:
        return urls.build(urls.parse(url).with_database(dbname))
    except urls.AddressError as exc:
        raise DatabaseError(str(exc)) from exc


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
