"""`skinmap bi ...`: BI tools on the kpi views, connected as a read-only reader login."""
from __future__ import annotations

import time
from pathlib import Path

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


@cli.group()
def bi() -> None:
    """Set up BI tools that read the kpi views through a read-only login over TCP.

    \b
    Example:
        skinmap bi superset --serve
    """


@bi.command("superset")
@click.option("--db-port", type=int, default=54329, show_default=True,
              help="TCP port of the embedded PostgreSQL for Superset (ignored with an external database).")
@click.option("--port", type=int, default=8088, show_default=True, help="Superset's port on 127.0.0.1.")
@click.option("--home", "home_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Superset's folder (metadata SQLite, config, secret); default $SKINMAP_HOME/superset.")
@click.option("--reader", "reader_name", default="superset", show_default=True,
              help="The reader login Superset connects as (created or its password reset).")
@click.option("--serve", "is_serving", is_flag=True, help="Keep Superset running until Ctrl-C (default: provision and stop).")
@click.pass_context
@friendly
def bi_superset(ctx, db_port: int, port: int, home_dir: Path | None, reader_name: str, is_serving: bool) -> None:
    """Provision Apache Superset: reader connection, a dataset per kpi view, charts, a starter dashboard.

    Superset runs from its own virtualenv (.venv-superset: `make superset`)
    with its metadata in SQLite; it connects to the atlas as a member of
    skinmap_reader over TCP. Run `skinmap build` first.

    \b
    Example:
        skinmap build && skinmap bi superset --serve --port 8088
    """
    from psycopg.conninfo import conninfo_to_dict

    from skinmap.bi import superset
    from skinmap.bi.superset_site import provision_superset

    if ctx.obj.get("database_url"):
        url = atlas_url(ctx)
        params = conninfo_to_dict(url)
        host, reader_port = str(params.get("host") or "localhost"), int(params.get("port") or 5432)
    else:
        from skinmap import embedded

        embedded.start_tcp(db_port)
        url, host, reader_port = atlas_url(ctx), "127.0.0.1", db_port
    started = time.monotonic()
    try:
        site = provision_superset(url, reader_host=host, reader_port=reader_port, reader_name=reader_name,
                                  home_dir=home_dir or superset.default_home(), port=port)
    except superset.SupersetError as exc:
        raise click.ClickException(str(exc)) from exc
    done = site.provisioned
    click.echo(f"Superset provisioned in {time.monotonic() - started:.0f} s ({site.home}): "
               f"{len(done.dataset_ids)} datasets, {len(done.chart_ids)} charts, reader login {reader_name}")
    click.echo(f"dashboard: {site.dashboard_url}")
    click.echo(f"login: {site.username} / {site.password}")
    if not is_serving:
        superset.stop_server(site.process)
        click.echo("stopped; `skinmap bi superset --serve` starts it again (the objects are kept)")
        return
    click.echo("serving (Ctrl-C stops)")
    try:
        site.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        superset.stop_server(site.process)
