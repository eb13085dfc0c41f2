"""`skinmap kpi`: print a KPI view."""
from __future__ import annotations

import json

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly, other_atlases_hint


@cli.command()
@click.argument("view", required=False)
@click.option("--model", "model_name", default=None, help="Only rows of this embedding model.")
@click.option("--limit", type=int, default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print rows as JSON lines.")
@click.pass_context
@friendly
def kpi(ctx, view, model_name, limit, as_json) -> None:
    """Print a KPI view as a table (without VIEW: list the views).

    \b
    Example:
        skinmap kpi                       # list
        skinmap kpi kpi_novelty_by_year   # latest version of that view
    """
    from skinmap import kpi as kpimod

    url = atlas_url(ctx)
    if not view:
        for name in kpimod.list_views(url):
            click.echo(name)
        return
    try:
        name = kpimod.resolve_view(url, view)
    except kpimod.UnknownKpi as exc:
        hint = "" if kpimod.list_views(url) else other_atlases_hint(url)
        raise kpimod.UnknownKpi(f"{exc}{hint}") from exc
    columns, rows = kpimod.fetch(url, name, where_model=model_name, limit=limit)
    if as_json:
        for row in rows:
            click.echo(json.dumps(dict(zip(columns, row)), default=str))
    else:
        click.echo(f"kpi.{name}")
        click.echo(kpimod.format_table(columns, rows))
