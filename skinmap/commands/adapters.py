"""`skinmap adapters`: the dataset formats `skinmap ingest` reads, and what each expects."""
from __future__ import annotations

import click

from skinmap.cli import cli


@cli.command()
def adapters() -> None:
    """List the ingest adapters and packaged mappings: dataset, year, modality, expected files.

    \b
    Example:
        skinmap adapters
        skinmap ingest ddi --metadata ddi_metadata.csv --images ddi_images
    """
    from skinmap.ingest import packaged
    from skinmap.ingest.adapters import ADAPTERS, MAPPED_EXPECTS

    for adapter in ADAPTERS.values():
        d = adapter.dataset
        year = d.release_year or "year per image"
        click.echo(f"{adapter.name:<15} {d.name} ({year}, {d.modality})")
        click.echo(f"{'':<15} expects: {adapter.expects}")
    for name in packaged.names():
        d = packaged.dataset(name)
        click.echo(f"{name:<15} {d.name} ({d.release_year}, {d.modality}; packaged mapping)")
        click.echo(f"{'':<15} expects: {packaged.expects(name)}")
    click.echo(f"{'mapped':<15} expects: {MAPPED_EXPECTS}")
