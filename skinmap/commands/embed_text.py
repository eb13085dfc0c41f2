"""`skinmap embed-text`: text-tower vectors for diagnosis names and captions (semantic search in SQL)."""
from __future__ import annotations

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


@cli.command("embed-text")
@click.option("--model", default="ViT-B-16", show_default=True, help="open_clip architecture (as for `embed`).")
@click.option("--pretrained", default=None, help="Weights, as for `skinmap embed` (must match the image vectors).")
@click.option("--text", "texts", multiple=True, help="A caption or query to embed (repeatable).")
@click.option("--diagnoses", is_flag=True, help="Embed every harmonised diagnosis name in the atlas.")
@click.option("--template", default="a clinical photo of {}", show_default=True,
              help="Prompt built around each text; {} is replaced by it.")
@click.option("--device", default="cpu", show_default=True)
@click.pass_context
@friendly
def embed_text(ctx, model, pretrained, texts, diagnoses, template, device) -> None:
    """Store text vectors next to MODEL's image vectors, so SQL can rank images by a text.

    \b
    Example:
        skinmap embed-text --model ViT-B-16 --pretrained laion2b_s34b_b88k --diagnoses --text "melanoma on dark skin"
        psql -c "select * from atlas.images_nearest_text_v1('ViT-B-16/laion2b_s34b_b88k', 'melanoma on dark skin', 20)"
    """
    from embedder.models import ModelLoadError, load_encoder
    from embedder.text import diagnosis_names, store_texts
    from skinmap.db import connect

    if "{}" not in template:
        raise click.ClickException("--template must contain {} where the text goes")
    url = atlas_url(ctx)
    try:
        encoder = load_encoder(model, pretrained, device=device)
    except ModelLoadError as exc:
        raise click.ClickException(str(exc)) from exc
    with connect(url) as conn:
        labels = list(dict.fromkeys([*texts, *(diagnosis_names(conn) if diagnoses else [])]))
        if not labels:
            raise click.ClickException("nothing to embed: pass --text TEXT and/or --diagnoses")
        try:
            n = store_texts(conn, encoder, labels, template=template, device=device)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    weights = " (RANDOM weights: rankings carry no meaning)" if encoder.is_random_weights else ""
    click.echo(f"{n} text vectors stored for {encoder.model_name}{weights}")
