"""`skinmap voids`: structural voids (H1 persistent homology) of one model's embedding space."""
from __future__ import annotations

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly
from skinmap.voids import defaults


@cli.command()
@click.option("--model", "model_name", required=True, help="Embedding model whose vectors are searched.")
@click.option("--landmarks", "n_landmarks", type=int, default=defaults.LANDMARKS, show_default=True,
              help="Images drawn (seeded) to carry the homology; all images when the model has fewer.")
@click.option("--k", "k", type=int, default=defaults.K, show_default=True,
              help="Neighbours per landmark in the graph whose effective resistance is the distance.")
@click.option("--corrected/--uncorrected", default=True, show_default=True,
              help="von Luxburg correction of the resistance (large kNN graphs otherwise lose their geometry).")
@click.option("--null-draws", "n_null", type=int, default=defaults.NULL_DRAWS, show_default=True,
              help="Gaussian draws of the null; p-values are at least 1/(draws + 1).")
@click.option("--alpha", type=float, default=defaults.ALPHA, show_default=True,
              help="A void is significant at p-value <= alpha.")
@click.option("--max-voids", type=int, default=defaults.MAX_VOIDS, show_default=True,
              help="Most persistent H1 features kept (with their boundary images).")
@click.option("--seed", type=int, default=defaults.SEED, show_default=True, help="Seed of landmarks and null.")
@click.pass_context
@friendly
def voids(ctx, model_name, n_landmarks, k, corrected, n_null, alpha, max_voids, seed) -> None:
    """Find structural voids: loops in the embedding space that no image fills.

    Draws landmarks, links each to its k nearest landmarks (from the stored
    `skinmap knn` edges where they cover it, else from the vectors),
    computes effective-resistance distances and runs ripser H1; each
    void's persistence is compared with the most persistent loop of
    Gaussian draws fitted to the landmarks. Writes atlas.void_run,
    atlas.structural_void and atlas.void_boundary_image (a rerun replaces
    the model's run); `skinmap build` turns them into
    kpi.kpi_structural_voids_v1 and kpi.kpi_structural_void_boundary_images_v1.

    \b
    Example:
        skinmap voids --model efficientnet-lite0/imagenet
        skinmap voids --model planted --landmarks 2000 --null-draws 39 --seed 3
    """
    from skinmap.voids.run import VoidsError, run_voids

    try:
        result = run_voids(atlas_url(ctx), model_name, n_landmarks=n_landmarks, k=k, corrected=corrected,
                           n_null=n_null, seed=seed, max_voids=max_voids, alpha=alpha)
    except (VoidsError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(result.line())
