"""Schema migrations (alembic) run from Python, so every command can bring the atlas to head."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config

from skinmap import config
from skinmap.db import DatabaseError, check_pgvector


def _alembic_config(url: str) -> Config:
    cfg = Config(str(config.REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(config.REPO_ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Migrate the atlas schema up to `revision` (idempotent)."""
    check_pgvector(url)
    with _connection_lost_is_clear():
        command.upgrade(_alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    with _connection_lost_is_clear():
        command.downgrade(_alembic_config(url), revision)


@contextmanager
def _connection_lost_is_clear() -> Iterator[None]:
    """A server that goes away under alembic (SQLAlchemy's OperationalError) is one line, not a traceback.

    Found by bench/crash_recovery.py: the server stopped while `skinmap
    ingest` was bringing the schema to head, and the command died with
    SQLAlchemy's traceback. The migration's transaction rolls back.
    """
    from sqlalchemy.exc import OperationalError

    try:
        yield
    except OperationalError as exc:
        first = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else type(exc).__name__
        raise DatabaseError(
            f"lost the connection to the database while migrating its schema ({first}). Start it again if "
            "it stopped (`skinmap db start`) and rerun the command: the migration was rolled back."
        ) from exc


def current(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine, pool

    engine = create_engine(
        "postgresql+psycopg://" + url.split("://", 1)[1], poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None


def ready(url: str) -> str:
    """Bring the schema to head and return the URL: the first step of every command."""
    upgrade(url)
    return url
