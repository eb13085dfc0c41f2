"""Alembic environment: plain SQL migrations (no ORM models) against the atlas database.

The URL comes from the `sqlalchemy.url` option that skinmap.migrate sets, or
from SKINMAP_DATABASE_URL when alembic is run by hand.
"""
from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("SKINMAP_DATABASE_URL")
    if not url:
        raise RuntimeError(
            "No database URL: run migrations through `skinmap db migrate`, "
            "or set SKINMAP_DATABASE_URL."
        )
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            version_table="alembic_version",
            version_table_schema="public",
            transaction_per_migration=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
