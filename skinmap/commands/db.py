"""`skinmap db ...`: the embedded server or the external database."""
from __future__ import annotations

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


@cli.group()
def db() -> None:
    """Manage the atlas database (the embedded server, or the one SKINMAP_DATABASE_URL names).

    \b
    Example:
        skinmap db start && skinmap db url
    """


@db.command("start")
@click.pass_context
@friendly
def db_start(ctx: click.Context) -> None:
    """Start (or reuse) the embedded PostgreSQL and migrate the atlas schema.

    \b
    Example:
        SKINMAP_HOME=~/atlas2 skinmap db start
    """
    url = atlas_url(ctx)
    click.echo(f"atlas ready: {url}")


@db.command("stop")
@click.pass_context
@friendly
def db_stop(ctx: click.Context) -> None:
    """Stop the embedded PostgreSQL (an external server is never touched).

    \b
    Example:
        skinmap db stop
    """
    from skinmap import embedded

    if ctx.obj.get("database_url"):
        raise click.ClickException("SKINMAP_DATABASE_URL / --database-url is set: that server is not SkinMap's to stop.")
    click.echo("stopped" if embedded.stop() else "the embedded server was not running")


@db.command("status")
@click.pass_context
@friendly
def db_status(ctx: click.Context) -> None:
    """Say which database is used, whether it runs, and the schema revision.

    \b
    Example:
        skinmap db status
    """
    from skinmap import db as dbmod
    from skinmap import embedded, migrate

    if ctx.obj.get("database_url"):
        url = ctx.obj["database_url"]
        click.echo(f"external database: {dbmod.redact(url)}")
    else:
        status = embedded.status()
        click.echo(f"embedded database in {status.pgdata}: {'running, pid ' + str(status.pid) if status.is_running else 'stopped'}")
        if not status.is_running:
            return
        url = embedded.start()
    click.echo(f"pgvector {dbmod.check_pgvector(url)}; schema revision {migrate.current(url) or '(none: run skinmap db start)'}")


@db.command("url")
@click.pass_context
@friendly
def db_url(ctx: click.Context) -> None:
    """Print the connection URL of the atlas (starts the embedded server if needed).

    \b
    Example:
        psql "$(skinmap db url)" -c 'select * from kpi.kpi_representation_headline_v1'
    """
    from skinmap import db as dbmod

    click.echo(dbmod.resolve_url(ctx.obj.get("database_url")))


@db.command("migrate")
@click.option("--revision", default="heads", show_default=True, help="Alembic revision to move to.")
@click.option("--downgrade", is_flag=True, help="Move down to REVISION ('base' removes the atlas schema).")
@click.pass_context
@friendly
def db_migrate(ctx: click.Context, revision: str, downgrade: bool) -> None:
    """Upgrade (default) or downgrade the atlas schema with alembic.

    \b
    Example:
        skinmap db migrate
        skinmap db migrate --downgrade --revision base
    """
    from skinmap import db as dbmod
    from skinmap import migrate

    url = dbmod.resolve_url(ctx.obj.get("database_url"))
    (migrate.downgrade if downgrade else migrate.upgrade)(url, revision)
    click.echo(f"schema revision: {migrate.current(url)}")
