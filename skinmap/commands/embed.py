"""`skinmap embed`: one vector per image and model, shared by any number of workers."""
from __future__ import annotations

import sys

import click

from skinmap.cli import cli
from skinmap.commands._common import atlas_url, friendly

_LIST = "\0list"  # `--model` given without a value


@cli.command()
@click.option("--model", default="ViT-B-16", show_default=True, is_flag=False, flag_value=_LIST,
              help="open_clip architecture (e.g. ViT-B-16, skinmap-tiny-vit), hf:ORG/NAME or hf:/local/dir "
                   "(transformers: hf:Digital-Dermatology/SkinMap, hf:suinleelab/monet), or efficientnet-lite0. "
                   "Without a value: list the known names.")
@click.option("--list-models", is_flag=True, help="List the known model names and exit.")
@click.option("--pretrained", default=None,
              help="Weights: open_clip tag, local checkpoint path, hf-hub:ORG/NAME, or 'none' for random weights.")
@click.option("--revision", default=None,
              help="hf: models: hub branch, tag or commit (default main); the commit used is recorded.")
@click.option("--device", default=None, help="cpu, cuda or cuda:N (default: cuda if available).")
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--workers", type=int, default=None, help="Decoding processes (default: cores - 1).")
@click.option("--limit", type=int, default=None, help="Embed at most N images per worker process (then stop; rerun to continue).")
@click.option("--precision", type=click.Choice(["bf16", "fp32"]), default=None,
              help="Forward precision (default: bf16 autocast on CUDA, fp32 on CPU).")
@click.option("--decode", type=click.Choice(["device", "workers"]), default=None,
              help="Where JPEGs are decoded: 'device' (nvjpeg on the GPU, CPU fallback; default on CUDA) "
                   "or 'workers' (PIL in the decoding processes).")
@click.option("--compile", "compile_model", is_flag=True, help="torch.compile the image tower (slow start).")
@click.option("--parallel", type=int, default=1, show_default=True,
              help="Worker processes started by this command; 0 = one per visible GPU.")
@click.option("--lease-seconds", type=float, default=600.0, show_default=True,
              help="How long a claimed batch stays with a worker before others may take it over.")
@click.option("--worker-host", default=None,
              help="Machine name in lease records (default: hostname). Workers on one machine take over a dead "
                   "peer's batches at once; others wait for the lease to run out.")
@click.option("--storage", type=click.Choice(["vector", "halfvec"]), default=None,
              help="How a NEW model's vectors are stored (default: vector; a registered model keeps its choice). "
                   "halfvec (float16) halves the bytes per vector and allows the HNSW index up to 4,000 "
                   "dimensions (vector: 2,000). Measured on 20,000 clustered 512-d vectors: 49 vs 107 MiB with "
                   "the index, HNSW build 9.0 vs 12.0 s, recall@10 0.999 vs float32 (docs/scale.md).")
@click.pass_context
@friendly
def embed(ctx, model, list_models, pretrained, revision, device, batch_size, workers, limit, precision, decode,
          compile_model, parallel, lease_seconds, worker_host, storage) -> None:
    """Embed every image that has no vector for MODEL yet (restartable, shareable).

    Several processes, on one machine or many, may embed one model against one
    database at the same time: they claim disjoint batches and together write
    exactly one vector per image. A killed worker's batch is taken over once
    its lease runs out.

    \b
    Example:
        skinmap embed --model ViT-B-16 --pretrained laion2b_s34b_b88k --device cuda --batch-size 512
        skinmap embed --model ViT-B-16 --pretrained laion2b_s34b_b88k --device cuda --parallel 0  # every GPU
        skinmap embed --model efficientnet-lite0                  # offline ImageNet weights
        skinmap embed --model skinmap-tiny-vit --pretrained none  # random weights (tests)
        skinmap embed --model ViT-bigG-14 --pretrained laion2b_s39b_b160k --storage halfvec  # 1280-d, half size
        skinmap embed --model hf:Digital-Dermatology/SkinMap      # the authors' encoder (remote code), 1024-d
        skinmap embed --model hf:suinleelab/monet                 # MONET's CLIP image tower
        skinmap embed --list-models                               # the known names
    """
    if list_models or model == _LIST:
        _list_models()
        return
    from embedder.models import ModelLoadError, check_known

    try:
        check_known(model)  # before the database: a typo fails at once, naming the closest known names
    except ModelLoadError as exc:
        raise click.ClickException(str(exc)) from exc
    url = atlas_url(ctx)
    import torch

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if parallel != 1:
        _embed_in_parallel(ctx, url, device, parallel)
        return

    from embedder.models import load_encoder
    from embedder.pipeline import embed_images

    try:
        encoder = load_encoder(model, pretrained, device=device, revision=revision)
    except ModelLoadError as exc:
        raise click.ClickException(str(exc)) from exc
    if encoder.revision:
        click.echo(f"{encoder.model_name}: revision {encoder.revision}, {len(encoder.weight_files or {})} files "
                   f"hashed (atlas.embedding_model.weight_files)", err=True)
    if encoder.is_random_weights:
        click.echo(f"NOTE: {encoder.model_name} uses RANDOM weights: its vectors cannot show duplicates or novelty.", err=True)
    summary = embed_images(url, encoder, device=device, batch_size=batch_size, workers=workers, limit=limit,
                           progress=sys.stderr.isatty(), precision=precision, decode=decode,
                           compile_model=compile_model, lease_seconds=lease_seconds, worker_host=worker_host,
                           storage=storage)
    click.echo(summary.line())


def _list_models() -> None:
    from embedder.models import HF_EXAMPLES, known_models

    for family, names in known_models().items():
        click.echo(f"{family}:")
        for name in names:
            note = HF_EXAMPLES.get(name)
            click.echo(f"  {name}" + (f"  ({note})" if note else ""))


def _embed_in_parallel(ctx: click.Context, url: str, device: str, parallel: int) -> None:
    import torch

    from embedder.parallel import spawn_workers, wait_all

    is_cuda = device.startswith("cuda")
    n = parallel if parallel > 0 else (torch.cuda.device_count() if is_cuda else 1)
    if n < 1:
        raise click.ClickException("--parallel 0 needs visible GPUs; pass --parallel N for N CPU workers")
    args = ["embed"]  # the URL travels in the environment (spawn_workers), out of `ps`
    for name, value in ctx.params.items():
        if name in ("parallel", "device", "list_models") or value is None or value is False:
            continue
        flag = "--compile" if name == "compile_model" else "--" + name.replace("_", "-")
        args += [flag] if value is True else [flag, str(value)]
    args += ["--parallel", "1", "--device", "cuda" if is_cuda else device]
    click.echo(f"starting {n} embed workers on {'one GPU each' if is_cuda else device}", err=True)
    lines, codes = wait_all(spawn_workers(args, n, is_cuda=is_cuda, database_url=url))
    for line in lines:
        click.echo(line)
    if any(codes):
        raise click.ClickException(f"{sum(1 for c in codes if c)} of {n} workers failed (exit codes {codes}); "
                                   "rerun the command: finished batches are kept")
