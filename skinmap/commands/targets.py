"""`skinmap targets`: what to collect next, from kpi_acquisition_targets."""
from __future__ import annotations

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


@cli.command()
@click.option("--target", "target_name", default="uniform", show_default=True,
              help="uniform, minimum_per_cell, or a target_name of dbt_project/seeds/acquisition_targets.csv.")
@click.option("--scope", type=click.Choice(["all", "attribute", "phenotype_cell"]), default="all",
              show_default=True, help="Attribute values, phenotype cells, or both lists.")
@click.option("--top", "limit", type=int, default=20, show_default=True, help="Rows per list (0: all).")
@click.pass_context
@friendly
def targets(ctx, target_name, scope, limit) -> None:
    """Print the acquisition targets: images still needed per value and cell, ranked.

    Reads kpi_acquisition_targets (run `skinmap build` first). A phenotype
    cell is diagnosis group x Fitzpatrick group x age bin; is_unfilled marks
    the values and cells that no public image has at all.

    \b
    Example:
        skinmap targets --target uniform --top 20
        skinmap targets --target minimum_per_cell --scope phenotype_cell
    """
    from skinmap import targets as targetsmod
    from skinmap.kpi import format_table

    url = atlas_url(ctx)
    scopes = targetsmod.SCOPES if scope == "all" else (scope,)
    for index, one_scope in enumerate(scopes):
        try:
            listed = targetsmod.top(url, target_name, one_scope, limit or None)
        except targetsmod.UnknownTarget as exc:
            raise click.ClickException(str(exc)) from exc
        if index:
            click.echo()
        click.echo(f"{target_name}, {one_scope}: top {len(listed.rows)} of {listed.n_rows} "
                   f"({listed.n_unfilled} without any image)")
        click.echo(format_table(listed.columns, listed.rows))
