"""`skinmap report OUT.html`: the atlas in pictures, one self-contained file."""
from __future__ import annotations

from pathlib import Path

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@friendly
def report(ctx, out: Path) -> None:
    """Write one self-contained HTML report (charts inlined) from the kpi views.

    Sections whose views do not exist yet (run `skinmap build`) are left out.

    \b
    Example:
        skinmap build && skinmap report atlas.html
    """
    from skinmap.report import write_report

    n_sections = write_report(atlas_url(ctx), out)
    click.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {n_sections} sections)")
