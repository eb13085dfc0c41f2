"""`skinmap demo`: the synthetic atlas end to end."""
from __future__ import annotations

import click

from skinmap.cli import cli
from skinmap.commands._common import friendly


@cli.command()
@click.option("--scale", type=float, default=1.0, show_default=True, help="Size of the synthetic atlas (1.0 = 2,142 images).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--keep/--fresh", default=False, show_default=True,
              help="Keep the demo database from an earlier run (default: start it fresh).")
@click.pass_context
@friendly
def demo(ctx, scale, seed, keep) -> None:
    """Generate a synthetic atlas with planted truth, run the whole pipeline, compare KPIs to the truth.

    \b
    Example:
        skinmap demo --scale 0.3
    """
    from skinmap.demo import run_demo

    ok = run_demo(ctx.obj.get("database_url"), scale=scale, seed=seed, fresh=not keep, echo=click.echo)
    if not ok:
        raise click.ClickException("the demo's KPIs did not recover the planted truth (see the table above)")
