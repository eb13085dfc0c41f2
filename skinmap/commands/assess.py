"""`skinmap assess`: what would a candidate dataset add to the atlas? Novelty without adding it."""
from __future__ import annotations

from pathlib import Path

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly

_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


def _embed_files(paths: list[Path], model: str, pretrained: str | None, batch_size: int):
    import numpy as np
    import torch

    from embedder.models import load_encoder
    from skinmap.hashing import decode_rgb

    encoder = load_encoder(model, pretrained)
    chunks = []
    for start in range(0, len(paths), batch_size):
        batch = [encoder.preprocess(decode_rgb(p.read_bytes())) for p in paths[start:start + batch_size]]
        chunks.append(encoder.encode(torch.stack(batch)).cpu().numpy())
    return encoder.model_name, np.concatenate(chunks)


@cli.command()
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--model", default="efficientnet-lite0", show_default=True, help="Encoder the atlas was embedded with.")
@click.option("--pretrained", default=None, help="Its weights (as for `skinmap embed`).")
@click.option("--novelty-k", type=int, default=100, show_default=True, help="Neighbours averaged per image.")
@click.option("--coverage-k", type=int, default=5, show_default=True,
              help="k of precision/recall/density/coverage (Naeem et al. 2020: the k-th neighbour's radius).")
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.pass_context
@friendly
def assess(ctx, directory, model, pretrained, novelty_k, coverage_k, batch_size) -> None:
    """Novelty and coverage of the images in DIRECTORY against the whole atlas, without adding them.

    Embeds the candidate images with the atlas's model, then reports their
    raw novelty, the null baseline (draws from the atlas scored inside the
    atlas; needs `skinmap knn` to have run) and novelty_vs_baseline, then
    precision, recall, density and coverage against the atlas.

    \b
    Example:
        skinmap assess ./new_clinic_photos --model efficientnet-lite0
    """
    from skinmap.knn.assess import assess_vectors

    paths = sorted(p for p in directory.rglob("*") if p.suffix.lower() in _SUFFIXES)
    if not paths:
        raise click.ClickException(f"no images ({', '.join(sorted(_SUFFIXES))}) under {directory}")
    url = atlas_url(ctx)
    model_name, vectors = _embed_files(paths, model, pretrained, batch_size)
    for line in assess_vectors(url, model_name, vectors, k=novelty_k, coverage_k=coverage_k).lines():
        click.echo(line)
