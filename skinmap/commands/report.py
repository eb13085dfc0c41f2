"""`skinmap report OUT.html`: the atlas in pictures, one self-contained file."""
from __future__ import annotations

from pathlib import Path

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


@cli.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--map", "map_method", type=click.Choice(["umap", "pca"]), default="umap", show_default=True,
              help="umap: a UMAP map (umap-learn, about 30 s of numba compilation) beside the PCA maps; "
                   "pca: the PCA maps only.")
@click.pass_context
@friendly
def report(ctx, out: Path, map_method: str) -> None:
    """Write one self-contained HTML report (charts inlined) from the kpi views.

    Sections whose views do not exist yet (run `skinmap build`) are left out.
    The maps mark uncovered images, suspected label errors and (once that
    view exists) the boundary images of structural voids.

    \b
    Example:
        skinmap build && skinmap report atlas.html
        skinmap report atlas.html --map pca     # no UMAP
    """
    from skinmap.report import write_report

    n_sections = write_report(atlas_url(ctx), out, map_method)
    click.echo(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, {n_sections} sections)")
