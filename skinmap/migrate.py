"""Schema migrations (alembic) run from Python, so every command can bring the atlas to head."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from skinmap import config
from skinmap.db import check_pgvector


def _alembic_config(url: str) -> Config:
    cfg = Config(str(config.REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(config.REPO_ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    """Migrate the atlas schema up to `revision` (idempotent)."""
    check_pgvector(url)
    command.upgrade(_alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(_alembic_config(url), revision)


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
