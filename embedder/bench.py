"""`skinmap bench embed`: raw forward, decode-only, end-to-end and a naive baseline, in one run.

Weights are random (speed does not depend on them). End-to-end goes from JPEG
files on disk to committed rows in a scratch PostgreSQL database created and
dropped on the atlas' server, through the real embed pipeline (work queue,
workers, writer thread); index building is left out. The naive baseline is
how research scripts embed: PIL decode and transforms in the main process,
fp32, vectors saved to a .npy file.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

# Dense bf16 tensor-core peaks from the vendors' data sheets (SXM parts), TFLOP/s.
GPU_PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10": 125.0}


NAIVE_IMAGES = 2048  # the naive baseline's rate needs no more (it runs at a few hundred images/s)


def _write_jpeg_range(folder: Path, start: int, stop: int, size: tuple[int, int], seed: int) -> list[Path]:
    width, height = size
    yy, xx = np.mgrid[0:height, 0:width]
    paths = []
    for i in range(start, stop):
        rng = np.random.default_rng((seed, i))
        base = rng.uniform(120, 220, size=3)
        cx, cy, r = rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height, rng.uniform(40, 150)
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
        pixels = base * (1 - 0.6 * blob) + rng.normal(0, 8, size=(height, width, 3))
        path = folder / f"b{i:06d}.jpg"
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=90)
        paths.append(path)
    return paths


def write_jpegs(folder: Path, n: int, size: tuple[int, int] = (600, 450), seed: int = 0) -> list[Path]:
    """Synthetic lesion-like JPEGs (smooth colour field + blob + noise), quality 90; one seed per image,
    written by a process per core (about 15 ms an image on one core: 20,000 would take 5 minutes alone)."""
    from concurrent.futures import ProcessPoolExecutor

    folder.mkdir(parents=True, exist_ok=True)
    n_procs = max(1, min(os.cpu_count() or 1, n // 256))
    if n_procs == 1:
        return _write_jpeg_range(folder, 0, n, size, seed)
    bounds = np.linspace(0, n, n_procs + 1).astype(int)
    with ProcessPoolExecutor(n_procs) as pool:
        parts = pool.map(_write_jpeg_range, [folder] * n_procs, bounds[:-1], bounds[1:], [size] * n_procs,
                         [seed] * n_procs)
        return [path for part in parts for path in part]


def flops_per_image(encoder, device: str) -> float:
    """FLOPs of one image's forward pass, counted by torch's FlopCounterMode (2 per multiply-add)."""
    from torch.utils.flop_counter import FlopCounterMode

    pixels = torch.zeros(1, 3, encoder.image_size, encoder.image_size, device=device)
    counter = FlopCounterMode(display=False)
    with counter, torch.inference_mode():
        encoder.encode(pixels)
    return float(counter.get_total_flops())


def device_peak_flops(device: str, precision: str) -> tuple[float | None, str]:
    """The device's physical FLOP/s limit and how it was obtained."""
    if device.startswith("cuda"):
        name = torch.cuda.get_device_name(torch.device(device))
        for key, tflops in GPU_PEAK_BF16_TFLOPS.items():
            if key in name:
                return tflops * 1e12, f"{name}: {tflops:g} TFLOP/s dense bf16 (data sheet)"
        return None, f"{name}: unknown peak (pass --peak-tflops)"
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    mhz = [float(line.split(":")[1]) for line in flags.splitlines() if line.startswith("cpu MHz")]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if not mhz:
        return None, "unknown CPU clock (pass --peak-tflops)"
    has_fma = " fma " in flags and " avx2 " in flags
    per_cycle = 32 if has_fma else 8  # fp32: 2 FMA pipes x 8 lanes (256-bit) x 2 FLOPs
    if precision == "bf16" and "avx512_bf16" in flags:
        per_cycle *= 2
    ghz = max(mhz) / 1000
    return cores * ghz * 1e9 * per_cycle, (
        f"{cores} cores x {ghz:.2f} GHz x {per_cycle} {precision} FLOP/cycle "
        f"({'2 FMA pipes x 8 fp32 lanes x 2' if has_fma else 'no FMA'}{', x2 bf16 dot' if per_cycle > 32 else ''})")


def raw_forward(encoder, device: str, batch_size: int, precision: str, iterations: int) -> float:
    """images/s of the model alone on device-resident random pixels (the ceiling for the pipeline)."""
    pixels = torch.randn(batch_size, 3, encoder.image_size, encoder.image_size, device=device)
    autocast = _autocast(device, precision)
    with autocast:
        encoder.encode(pixels)
    _sync(device)
    started = time.perf_counter()
    with autocast:
        for _ in range(iterations):
            encoder.encode(pixels)
    _sync(device)
    return batch_size * iterations / (time.perf_counter() - started)


class _DecodeBatches(Dataset):
    def __init__(self, batches, claims):
        self.batches, self.claims = batches, claims

    def __len__(self):
        return len(self.claims)

    def __getitem__(self, index):
        return self.batches._load(self.claims[index])


def decode_only(encoder, paths: list[Path], device: str, batch_size: int, workers: int, decode: str) -> float:
    """images/s of reading + decoding + resizing + normalising onto the device, as the pipeline does, no model."""
    from embedder.decode import decode_on_device, normalise, recipe_of
    from embedder.pipeline import _as_is, _ClaimedBatches
    from embedder.queue import Claim, WorkerId

    batches = _ClaimedBatches("", 0, WorkerId.here(), encoder, lease_seconds=1, limit=None,
                              is_device_decode=decode == "device", poll_seconds=1)
    items = [(i, str(p)) for i, p in enumerate(paths)]
    claims = [Claim(0, "", items[s:s + batch_size]) for s in range(0, len(items), batch_size)]
    recipe = recipe_of(encoder.preprocess)
    loader = DataLoader(_DecodeBatches(batches, claims), batch_size=None, num_workers=workers, collate_fn=_as_is,
                        pin_memory=device.startswith("cuda"))
    started = time.perf_counter()
    n = 0
    for batch in loader:
        parts = [batch.cpu_pixels.to(device, non_blocking=True)] if batch.cpu_pixels is not None else []
        if batch.encoded:
            parts.append(decode_on_device(batch.encoded, recipe, device)[1])
        pixels = torch.cat(parts)
        if pixels.dtype == torch.uint8:
            pixels = normalise(pixels, recipe)
        n += len(pixels)
    _sync(device)
    return n / (time.perf_counter() - started)


def naive_baseline(encoder, paths: list[Path], device: str, batch_size: int, out: Path) -> float:
    """images/s the research-script way: PIL + transforms in the main process, fp32, np.save."""
    started = time.perf_counter()
    vectors = []
    for start in range(0, len(paths), batch_size):
        pixels = torch.stack([encoder.preprocess(Image.open(p).convert("RGB")) for p in paths[start:start + batch_size]])
        vectors.append(encoder.encode(pixels.to(device)).cpu().numpy())
    np.save(out, np.concatenate(vectors))
    return len(paths) / (time.perf_counter() - started)


def end_to_end(server_url: str, encoder, image_dir: Path, n: int, *, device: str, batch_size: int, workers: int,
               precision: str, decode: str, compile_model: bool) -> tuple[float, float]:
    """images/s and seconds from JPEG files to committed rows, in a scratch database (created, then dropped)."""
    from embedder.pipeline import embed_images
    from skinmap import db, migrate
    from skinmap.ingest import ingest
    from skinmap.ingest.mapping import build_mapping

    admin = db.with_database(server_url, "postgres")
    name = f"bench_{uuid.uuid4().hex[:8]}"
    url = db.create_database(admin, name)
    try:
        migrate.upgrade(url)
        meta = image_dir.parent / "bench.csv"
        meta.write_text("key\n" + "".join(f"b{i:06d}\n" for i in range(n)))
        ingest(url, build_mapping({"dataset": {"slug": "bench", "release_year": 2024}, "metadata": str(meta),
                                   "images": str(image_dir), "file_template": "{key}.jpg",
                                   "columns": {"source_key": "key"}}, image_dir.parent), progress=False)
        summary = embed_images(url, encoder, device=device, batch_size=batch_size, workers=workers, progress=False,
                               precision=precision, decode=decode, compile_model=compile_model, build_index=False)
        if summary.n_embedded != n:
            raise RuntimeError(f"end-to-end embedded {summary.n_embedded} of {n} images")
        return summary.images_per_second, summary.seconds
    finally:
        db.drop_database(admin, name)


def run(server_url: str, *, model: str, device: str, n_images: int, batch_size: int, workers: int,
        precision: str | None, decode: str | None, compile_model: bool, iterations: int,
        peak_tflops: float | None, echo=print) -> dict[str, float]:
    """The whole benchmark; prints one line per figure and returns them."""
    from embedder.models import load_encoder
    from embedder.pipeline import default_workers

    is_cuda = device.startswith("cuda")
    precision = precision or ("bf16" if is_cuda else "fp32")
    decode = decode or ("device" if is_cuda else "workers")
    workers = default_workers() if workers < 0 else workers
    torch.manual_seed(0)
    encoder = load_encoder(model, "none", device=device)
    echo(f"bench embed: {model} (random weights), {encoder.image_size} px, dim {encoder.dimension}, device {device}, "
         f"precision {precision}, decode {decode}, batch {batch_size}, {workers} decode workers, "
         f"{n_images} JPEGs 600x450, torch {torch.__version__}, {torch.get_num_threads()} threads")
    flops = flops_per_image(encoder, device)
    peak, peak_note = device_peak_flops(device, precision)
    if peak_tflops:
        peak, peak_note = peak_tflops * 1e12, f"{peak_tflops:g} TFLOP/s (given)"
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="skinmap-bench-") as scratch:
        image_dir = Path(scratch) / "img"
        written = time.perf_counter()
        paths = write_jpegs(image_dir, n_images)
        echo(f"wrote {n_images} JPEGs 600x450 in {time.perf_counter() - written:.1f} s")
        naive_encoder = load_encoder(model, "none", device=device)
        n_naive = min(len(paths), NAIVE_IMAGES)
        figures["naive"] = naive_baseline(naive_encoder, paths[:n_naive], device, batch_size,
                                          Path(scratch) / "naive.npy")
        del naive_encoder
        # each figure is printed as soon as it is measured, so a run stopped at a time limit keeps the first ones
        echo(f"naive baseline:     {figures['naive']:10.1f} images/s  (PIL in main process, fp32, np.save; "
             f"{n_naive} images)")
        figures["decode"] = decode_only(encoder, paths, device, batch_size, workers, decode)
        echo(f"decode only:        {figures['decode']:10.1f} images/s  ({decode})")
        figures["e2e"], seconds = end_to_end(server_url, encoder, image_dir, n_images, device=device,
                                             batch_size=batch_size, workers=workers, precision=precision,
                                             decode=decode, compile_model=compile_model)
        echo(f"end to end:         {figures['e2e']:10.1f} images/s  ({n_images} JPEGs -> committed rows, {seconds:.1f} s)")
        figures["raw"] = raw_forward(encoder, device, batch_size, precision, iterations)
    figures["flops_per_image"] = flops
    echo(f"raw forward:        {figures['raw']:10.1f} images/s  (batch {batch_size}, {precision})")
    echo(f"end to end / raw forward:  {figures['e2e'] / figures['raw']:.1%}")
    echo(f"speed-up over naive:       {figures['e2e'] / figures['naive']:.2f}x")
    echo(f"model FLOPs per image:     {flops / 1e9:.3f} GFLOP (torch FlopCounterMode)")
    if peak:
        figures["share_of_peak"] = figures["raw"] * flops / peak
        echo(f"raw forward / peak:        {figures['share_of_peak']:.1%} of {peak / 1e12:.3f} TFLOP/s [{peak_note}]")
    else:
        echo(f"raw forward / peak:        unknown [{peak_note}]")
    return figures


def _autocast(device: str, precision: str):
    if precision == "bf16":
        return torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(torch.device(device))
