"""`skinmap bench embed`: how fast the embedder is on this device, against its ceiling and a naive script."""
from __future__ import annotations

import click

from skinmap.cli import cli
from skinmap.commands._common import friendly


@cli.group()
def bench() -> None:
    """Benchmarks (not tests): measured figures printed for the issue tracker."""


@bench.command("embed")
@click.option("--model", default="ViT-B-16", show_default=True, help="open_clip architecture (random weights).")
@click.option("--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available).")
@click.option("--images", "n_images", type=int, default=2048, show_default=True, help="Synthetic 600x450 JPEGs.")
@click.option("--batch-size", type=int, default=256, show_default=True)
@click.option("--workers", type=int, default=-1, help="Decoding processes (default: cores - 1).")
@click.option("--precision", type=click.Choice(["bf16", "fp32"]), default=None)
@click.option("--decode", type=click.Choice(["device", "workers"]), default=None)
@click.option("--compile", "compile_model", is_flag=True, help="torch.compile the image tower.")
@click.option("--iterations", type=int, default=10, show_default=True, help="Batches timed for raw forward.")
@click.option("--peak-tflops", type=float, default=None, help="The device's peak FLOP/s, if not known to SkinMap.")
@click.pass_context
@friendly
def bench_embed(ctx, model, device, n_images, batch_size, workers, precision, decode, compile_model, iterations,
                peak_tflops) -> None:
    """Raw forward, decode-only, end-to-end (JPEG -> rows) and naive-baseline images/s, in one run.

    End to end runs in a scratch database on the atlas' server, dropped afterwards.

    \b
    Example:
        skinmap bench embed --model ViT-B-16 --device cuda --batch-size 1024 --images 20000
        skinmap bench embed --model ViT-B-32 --device cpu --batch-size 32 --images 256
    """
    import torch

    from embedder.bench import run
    from skinmap import db

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    run(db.resolve_url(ctx.obj.get("database_url"), atlas=ctx.obj.get("atlas")), model=model, device=device, n_images=n_images,
        batch_size=batch_size, workers=workers, precision=precision, decode=decode, compile_model=compile_model,
        iterations=iterations, peak_tflops=peak_tflops, echo=click.echo)
