"""`skinmap knn`: fill the kNN edge table and the novelty aggregates the dbt models read."""
from __future__ import annotations

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly


@cli.command()
@click.option("--engine", type=click.Choice(["sql", "exact", "ivf"]), default="sql", show_default=True,
              help="sql: pgvector HNSW with iterative scans (exact scan for small sets); exact: torch matmul + "
                   "top-k; ivf: k-means cells in torch, approximate, for field scale on CPUs (recall measured "
                   "by bench/knn_field_scale.py).")
@click.option("--k", "k", type=int, default=10, show_default=True,
              help="Edges kept per image (near-duplicate candidates, graphs); >= near_duplicate_candidates_k.")
@click.option("--novelty-k", type=int, default=100, show_default=True,
              help="Neighbours averaged per image for novelty (must equal the dbt variable novelty_k).")
@click.option("--full", is_flag=True, help="Recompute everything instead of only what new images change.")
@click.option("--model", "model_name", default=None, help="Only this embedding model (default: every model).")
@click.option("--device", default=None, help="Exact and ivf engines: cpu or cuda (default: cuda if available).")
@click.option("--check", "check", type=int, default=None,
              help="Images scored exactly after the run to report recall and novelty error "
                   "(default 500 for the approximate sql and ivf engines, 0 for exact).")
@click.option("--probes", type=int, default=None,
              help="ivf engine: cells searched per query cell (default 8; more: higher recall, slower).")
@click.option("--no-wait", is_flag=True, help="Fail at once if another build, knn or verify-duplicates is running.")
@click.pass_context
@friendly
def knn(ctx, engine, k, novelty_k, full, model_name, device, check, probes, no_wait) -> None:
    """Compute kNN edges, per-image novelty, dataset Fréchet distances and coverage (incremental by default).

    Run it after `skinmap embed` and before `skinmap build`. Adding a dataset
    later computes the new images' neighbours and repairs only the old images
    whose neighbour lists the new ones enter.

    \b
    Example:
        skinmap knn                      # SQL engine, incremental
        skinmap knn --engine exact --full --device cuda
        skinmap knn --engine ivf --probes 12   # 1.1M images on a CPU
    """
    from skinmap.atlas_lock import writer_lock
    from skinmap.knn import compute_neighbours

    options = {"device": device} if engine in ("exact", "ivf") and device else {}
    if probes is not None:
        if engine != "ivf":
            raise click.UsageError("--probes applies to --engine ivf only")
        options["probes"] = probes
    if check is None:
        check = 0 if engine == "exact" else 500
    url = atlas_url(ctx)
    with writer_lock(url, "knn", wait=not no_wait, echo=lambda line: click.echo(line, err=True)):
        click.echo(compute_neighbours(url, engine=engine, k=k, novelty_k=novelty_k, full=full,
                                      model_name=model_name, check=check, **options).line())
