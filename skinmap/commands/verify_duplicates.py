"""`skinmap verify-duplicates`: check each near-duplicate candidate with local features."""
from __future__ import annotations

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


@cli.command("verify-duplicates")
@click.option("--workers", type=int, default=2, show_default=True, help="Processes that read and describe images.")
@click.option("--no-wait", is_flag=True, help="Fail at once if another build, knn or verify-duplicates is running.")
@click.pass_context
@friendly
def verify_duplicates(ctx, workers, no_wait) -> None:
    """Verify near-duplicate candidates (the vector neighbours) by matching their local features.

    Run it after `skinmap knn` and before `skinmap build`. Each candidate
    pair gets the number of ORB keypoint matches that agree on one
    similarity transform (atlas.duplicate_verification); dbt keeps the pairs
    with at least `near_duplicate_min_inliers`. Incremental: pairs already
    verified are skipped.

    \b
    Example:
        skinmap knn && skinmap verify-duplicates && skinmap build
    """
    from skinmap.atlas_lock import writer_lock
    from skinmap.duplicates.verify import verify_candidates

    url = atlas_url(ctx)
    with writer_lock(url, "verify-duplicates", wait=not no_wait, echo=lambda line: click.echo(line, err=True)):
        click.echo(verify_candidates(url, workers=workers, progress=True).line())
