"""`skinmap impute`: linear probes on a model's embeddings, held-out quality, imputed metadata."""
from __future__ import annotations

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly
from skinmap.impute import DEFAULT_MIN_BALANCED_ACCURACY, DEFAULT_MIN_R2


@cli.command()
@click.option("--model", "model_name", required=True, help="Embedding model whose vectors the probes read.")
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
def impute(ctx, model_name, min_balanced_accuracy, min_r2, n_boot, seed) -> None:
    """Train one linear probe per attribute and impute unlabelled metadata with the good ones.

    Logistic regression (categories) and ridge (age) on the model's vectors
    of labelled images, held out by patient, lesion and duplicate cluster;
    metrics with bootstrap intervals and the authors' plain-split figure go
    to atlas.imputation_probe (view kpi.kpi_imputation_probe_quality_v1
    after `skinmap build`). Probes above the bar fill the unlabelled fields
    of atlas.image_metadata with provenance 'imputed'; labels are never
    replaced. Only the last run's model is written there; rerunning is
    idempotent. Run `skinmap build` first so duplicate clusters are known.

    \b
    Example:
        skinmap impute --model efficientnet-lite0/imagenet
        skinmap impute --model planted --min-balanced-accuracy 0.7 --min-r2 0.4
    """
    from skinmap.impute import ImputeError
    from skinmap.impute import impute as run_impute

    try:
        result = run_impute(atlas_url(ctx), model_name, min_balanced_accuracy=min_balanced_accuracy,
                            min_r2=min_r2, seed=seed, n_boot=n_boot)
    except ImputeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(result.line())
