"""`skinmap build`: dbt build of the KPI models and their tests."""
from __future__ import annotations

import json

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


@cli.command()
@click.option("--select", default=None,
              help="dbt node selection, e.g. kpi_novelty_by_year+. Built in place: dbt's drop of a rebuilt "
                   "table also drops the views on it, so select their models too (a trailing +).")
@click.option("--var", "dbt_vars", multiple=True, metavar="NAME=VALUE", help="dbt variable (repeatable), e.g. novelty_k=50.")
@click.option("--no-wait", is_flag=True, help="Fail at once if another build, knn or verify-duplicates is running.")
@click.pass_context
@friendly
def build(ctx, select, dbt_vars, no_wait) -> None:
    """Run `dbt build` (models + tests) on dbt_project/ against the atlas.

    \b
    One build, knn or verify-duplicates writes an atlas at a time: a second
    one waits (saying which process it waits for), or fails with --no-wait.
    A full build goes live at once: readers of the kpi views see the old
    views until the new ones replace them in one transaction.

    \b
    Example:
        skinmap build --var near_duplicate_max_distance=0.08
    """
    from skinmap.dbt_runner import build as dbt_build

    values = {}
    for item in dbt_vars:
        if "=" not in item:
            raise click.ClickException(f"--var {item!r}: expected NAME=VALUE")
        name, value = item.split("=", 1)
        values[name] = json.loads(value) if value.replace(".", "", 1).lstrip("-").isdigit() else value
    click.echo(dbt_build(atlas_url(ctx), select=select, vars=values or None, wait=not no_wait))
