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

    return migrate.ready(db.resolve_url(ctx.obj.get("database_url"), atlas=ctx.obj.get("atlas")))


def other_atlases_hint(url: str) -> str:
    """For an empty atlas: the other named atlases on the same server, and how to read one."""
    from skinmap import db

    with db.connect(url, autocommit=True) as conn:
        current = conn.execute("select current_database()").fetchone()[0]
        names = [r[0] for r in conn.execute(
            "select substr(datname, 9) from pg_database where datname like 'skinmap\\_%%' and datname <> %s "
            "order by 1", (current,))]
        if current != db.atlas_database(None) and conn.execute(
                "select 1 from pg_database where datname = %s", (db.atlas_database(None),)).fetchone():
            names.insert(0, db.MAIN_ATLAS)
    if not names:
        return ""
    return (f"\nThis atlas ({current}) is empty; other atlases on this server: {', '.join(names)} "
            f"(e.g. skinmap --atlas {names[0]} kpi)")
