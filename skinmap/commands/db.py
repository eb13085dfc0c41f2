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
@click.option("--port", type=int, default=None,
              help="Also listen on 127.0.0.1:PORT (password logins of reader roles only), for BI tools.")
@click.pass_context
@friendly
def db_start(ctx: click.Context, port: int | None) -> None:
    """Start (or reuse) the embedded PostgreSQL and migrate the atlas schema.

    Without --port the server listens on its unix socket only.

    \b
    Example:
        SKINMAP_HOME=~/atlas2 skinmap db start
        skinmap db start --port 54329 && skinmap db grant-reader bi && skinmap db url --reader
    """
    if port is not None:
        from skinmap import embedded

        if ctx.obj.get("database_url"):
            raise click.ClickException("--port is for the embedded server; SKINMAP_DATABASE_URL names another one.")
        embedded.start_tcp(port)
    url = atlas_url(ctx)
    click.echo(f"atlas ready: {url}")
    if port is not None:
        click.echo(f"listening on 127.0.0.1:{port} for reader logins (skinmap db grant-reader NAME)")


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
@click.option("--reader", is_flag=True, help="The read-only TCP URL for a BI tool (a grant-reader login).")
@click.option("--name", default=None, help="Which reader login (default: the only one granted).")
@click.pass_context
@friendly
def db_url(ctx: click.Context, reader: bool, name: str | None) -> None:
    """Print the connection URL of the atlas (starts the embedded server if needed).

    \b
    Example:
        psql "$(skinmap db url)" -c 'select * from kpi.kpi_representation_headline_v1'
        skinmap db url --reader --name bi
    """
    from skinmap import db as dbmod

    url = dbmod.resolve_url(ctx.obj.get("database_url"), atlas=ctx.obj.get("atlas"))
    if not reader:
        click.echo(url)
        return
    click.echo(_reader_url(ctx, url, name))


def _reader_url(ctx: click.Context, url: str, name: str | None) -> str:
    """Host and port: the external server's, or the embedded server's TCP port."""
    from skinmap import embedded, reader_access

    if name is None:
        names = sorted(reader_access._load())
        if len(names) != 1:
            raise click.ClickException(
                f"--name is needed: readers granted here: {', '.join(names) or 'none (skinmap db grant-reader NAME)'}"
            )
        name = names[0]
    if ctx.obj.get("database_url"):
        return reader_access.reader_url(url, name)  # that server's own host, or socket folder, and port
    port = embedded.status().tcp_port
    if port is None:
        raise click.ClickException("the embedded server listens on its socket only: run `skinmap db start --port N`")
    return reader_access.reader_url(url, name, host="127.0.0.1", port=port)


@db.command("grant-reader")
@click.argument("name")
@click.pass_context
@friendly
def db_grant_reader(ctx: click.Context, name: str) -> None:
    """Create (or reset the password of) a read-only login NAME for BI tools and analysts.

    NAME becomes a member of skinmap_reader: it reads the views of schema kpi
    and nothing else. The password is printed once and kept (mode 0600) in
    $SKINMAP_HOME/readers.json for `skinmap db url --reader`.

    \b
    Example:
        skinmap db grant-reader bi
    """
    from skinmap import reader_access

    password = reader_access.grant_reader(atlas_url(ctx), name)
    click.echo(f"reader login {name} (member of skinmap_reader), password: {password}")


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

    url = dbmod.resolve_url(ctx.obj.get("database_url"), atlas=ctx.obj.get("atlas"))
    (migrate.downgrade if downgrade else migrate.upgrade)(url, revision)
    click.echo(f"schema revision: {migrate.current(url)}")
