"""Helpers shared by the command modules: error translation and atlas URL resolution."""
from __future__ import annotations

import functools

import click
import psycopg


def friendly(fn):
    """Turn the library's known errors into one-line ClickExceptions that say what to do."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from skinmap.db import DatabaseError
        from skinmap.dbt_runner import DbtError
        from skinmap.embedded import EmbeddedServerError
        from skinmap.ingest.mapping import MappingError
        from skinmap.kpi import UnknownKpi

        try:
            return fn(*args, **kwargs)
        except (DatabaseError, DbtError, EmbeddedServerError, MappingError, UnknownKpi) as exc:
            raise click.ClickException(str(exc)) from exc
        except psycopg.OperationalError as exc:  # the server went away mid-step (stopped, restarted, network)
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise click.ClickException(
                f"lost the connection to the database ({first}). Start it again if it stopped "
                "(`skinmap db start`) and rerun the command: committed work is kept, the rest is redone."
            ) from exc

    return wrapper


def atlas_url(ctx: click.Context) -> str:
    """Resolve the database (option, SKINMAP_DATABASE_URL, or embedded) and migrate it to head."""
    from skinmap import db, migrate

    return migrate.ready(db.resolve_url(ctx.obj.get("database_url")))
