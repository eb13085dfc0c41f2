"""`skinmap impute`: linear probes on a model's embeddings, held-out quality, imputed metadata."""
from __future__ import annotations

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly
from skinmap.db import connect
from skinmap.impute import DEFAULT_MIN_BALANCED_ACCURACY, DEFAULT_MIN_R2


@cli.command()
@click.option("--model", "model_name", default=None, help="Embedding model whose vectors the probes read.")
@click.option("--from-model", "from_model", default=None,
              help="A registered transformers model with predict_meta (e.g. the authors' SkinMap): store its own "
                   "metadata predictions as imputed values, with the model as provenance, instead of probes.")
@click.option("--device", default="cpu", show_default=True, help="--from-model: where predict_meta runs.")
@click.option("--batch-size", type=int, default=32, show_default=True, help="--from-model: images per forward.")
@click.option("--min-balanced-accuracy", type=float, default=DEFAULT_MIN_BALANCED_ACCURACY, show_default=True,
              help="Quality bar for categorical probes: held-out (group split) balanced accuracy below it "
                   "imputes nothing.")
@click.option("--min-r2", type=float, default=DEFAULT_MIN_R2, show_default=True,
              help="Quality bar for the age probe: held-out R² below it imputes nothing.")
@click.option("--bootstrap", "n_boot", type=int, default=200, show_default=True,
              help="Bootstrap resamples of the held-out images for the 95% intervals.")
@click.option("--seed", type=int, default=15, show_default=True, help="Seed of the splits and the bootstrap.")
@click.pass_context
@friendly
def impute(ctx, model_name, from_model, device, batch_size, min_balanced_accuracy, min_r2, n_boot, seed) -> None:
    """Train one linear probe per attribute and impute unlabelled metadata with the good ones.

    Logistic regression (categories) and ridge (age) on the model's vectors
    of labelled images, held out by patient, lesion and duplicate cluster;
    metrics with bootstrap intervals and the authors' plain-split figure go
    to atlas.imputation_probe (view kpi.kpi_imputation_probe_quality_v1
    after `skinmap build`). Probes above the bar fill the unlabelled fields
    of atlas.image_metadata with provenance 'imputed'; labels are never
    replaced. Only the last run's model is written there; rerunning is
    idempotent. Run `skinmap build` first so duplicate clusters are known.

    With --from-model, a model that predicts metadata itself (predict_meta)
    is run over its images instead; where enough labels exist its
    predictions are measured against them and held to the same bars, and
    the values it imputes carry the model as provenance
    (atlas.imputed_value.source = 'model').

    \b
    Example:
        skinmap impute --model efficientnet-lite0/imagenet
        skinmap impute --model planted --min-balanced-accuracy 0.7 --min-r2 0.4
        skinmap impute --from-model hf:Digital-Dermatology/SkinMap@0123456789ab --device cuda
    """
    from skinmap.impute import ImputeError
    from skinmap.impute import impute as run_impute

    if (model_name is None) == (from_model is None):
        raise click.UsageError("pass --model NAME (linear probes) or --from-model NAME (its predict_meta), one of them")
    if from_model is not None:
        _from_model(atlas_url(ctx), from_model, device, batch_size, min_balanced_accuracy, min_r2, n_boot, seed)
        return
    try:
        result = run_impute(atlas_url(ctx), model_name, min_balanced_accuracy=min_balanced_accuracy,
                            min_r2=min_r2, seed=seed, n_boot=n_boot)
    except ImputeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(result.line())


def _from_model(url, model_name, device, batch_size, min_balanced_accuracy, min_r2, n_boot, seed) -> None:
    from embedder.meta import predict_metadata
    from embedder.models import ModelLoadError
    from skinmap.impute import impute_from_model

    try:
        predictions = predict_metadata(url, model_name, device=device, batch_size=batch_size)
    except ModelLoadError as exc:
        raise click.ClickException(str(exc)) from exc
    with connect(url) as conn:
        is_random = conn.execute("select is_random_weights from atlas.embedding_model where model_id = %s",
                                 (predictions.model_id,)).fetchone()[0]
    if is_random:
        click.echo(f"NOTE: {model_name} uses RANDOM weights: its metadata predictions carry no meaning.", err=True)
    result = impute_from_model(url, predictions, min_balanced_accuracy=min_balanced_accuracy, min_r2=min_r2,
                               seed=seed, n_boot=n_boot)
    click.echo(result.line())
