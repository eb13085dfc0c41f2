"""`skinmap import-embeddings`: precomputed vectors (npz, parquet) under a named model."""
from __future__ import annotations

from pathlib import Path

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


@cli.command("import-embeddings")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--model-name", required=True, help="Name the vectors are stored under (a new 'imported' model).")
@click.option("--key-column", default="key", show_default=True, help="Column (parquet) or array (npz) with the keys.")
@click.option("--vector-column", default="embedding", show_default=True,
              help="List column (parquet) or n x d array (npz) with the vectors.")
@click.option("--match", default="source-key", show_default=True,
              type=click.Choice(["source-key", "file-name", "image-id", "byte-sha256", "pixel-sha256"]),
              help="Which image attribute the keys hold.")
@click.option("--dataset", default=None, help="Match source keys only within this dataset slug.")
@click.pass_context
@friendly
def import_embeddings(ctx, path, model_name, key_column, vector_column, match, dataset) -> None:
    """Import precomputed image vectors, so the KPIs can use the paper's own embeddings.

    \b
    Example:
        skinmap import-embeddings atlas_input.parquet --model-name paper-atlas \\
            --key-column image_name --vector-column embedding --match file-name
        skinmap import-embeddings vectors.npz --model-name my-model --key-column keys --vector-column vectors
    """
    from embedder.importer import ImportError_, import_vectors
    from skinmap.db import connect

    with connect(atlas_url(ctx)) as conn:
        try:
            summary = import_vectors(conn, path, model_name=model_name, key_column=key_column,
                                     vector_column=vector_column, match=match, dataset=dataset)
        except ImportError_ as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(summary.line())
