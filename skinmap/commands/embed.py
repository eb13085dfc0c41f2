"""`skinmap embed`: one vector per image and model."""
from __future__ import annotations

import sys

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


@cli.command()
@click.option("--model", default="ViT-B-16", show_default=True,
              help="open_clip architecture (e.g. ViT-B-16, skinmap-tiny-vit) or efficientnet-lite0.")
@click.option("--pretrained", default=None,
              help="Weights: open_clip tag, local checkpoint path, hf-hub:ORG/NAME, or 'none' for random weights.")
@click.option("--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available).")
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--workers", type=int, default=None, help="Decoding processes (default: cores - 1).")
@click.option("--limit", type=int, default=None, help="Embed at most N images (then stop; rerun to continue).")
@click.pass_context
@friendly
def embed(ctx, model, pretrained, device, batch_size, workers, limit) -> None:
    """Embed every image that has no vector for MODEL yet (restartable).

    \b
    Example:
        skinmap embed --model ViT-B-16 --pretrained laion2b_s34b_b88k --device cuda --batch-size 512
        skinmap embed --model efficientnet-lite0                  # offline ImageNet weights
        skinmap embed --model skinmap-tiny-vit --pretrained none  # random weights (tests)
    """
    url = atlas_url(ctx)
    import torch

    from embedder.models import ModelLoadError, load_encoder
    from embedder.pipeline import embed_images

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        encoder = load_encoder(model, pretrained, device=device)
    except ModelLoadError as exc:
        raise click.ClickException(str(exc)) from exc
    if encoder.is_random_weights:
        click.echo(f"NOTE: {encoder.model_name} uses RANDOM weights: its vectors cannot show duplicates or novelty.", err=True)
    summary = embed_images(url, encoder, device=device, batch_size=batch_size, workers=workers, limit=limit,
                           progress=sys.stderr.isatty())
    click.echo(summary.line())
