"""The embed loop: claim a batch -> decode (workers or GPU) -> encode -> COPY on a background thread.

Work comes from atlas.embed_work (embedder.queue): each DataLoader worker
process claims its own batches and reads/decodes them, so decoding overlaps
the forward pass, and several processes or machines share one model's work.
Restartable by construction: batches commit whole, with their 'done' mark; a
killed run's batches are claimed again (at once on the same machine, after the
lease elsewhere), and `--limit` stops early and leaves the rest pending.

Speed path on CUDA: pinned memory, JPEG decode with nvjpeg on the GPU, resize
and normalise on the GPU, bf16 autocast, channels-last, optional torch.compile,
vector copy back without blocking, and writes on the writer thread. On the CPU
the same loop runs with PIL decode in the workers and fp32.
"""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info
from tqdm import tqdm

from embedder import queue as work
from embedder.decode import PixelRecipe, cpu_pixels, decode_on_device, device_can_decode, normalise, recipe_of
from embedder.models import Encoder
from embedder.writer import BackgroundWriter, EncodedBatch, finish, register_model, storage_of
from skinmap.db import connect
from skinmap.hashing import UnreadableImage, decode_rgb


@dataclass
class EmbedSummary:
    model_name: str
    is_random_weights: bool
    n_todo: int
    n_embedded: int
    n_quarantined: int
    seconds: float
    device: str

    @property
    def images_per_second(self) -> float:
        return self.n_embedded / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        weights = "RANDOM weights (vectors carry no meaning)" if self.is_random_weights else "pretrained weights"
        return (
            f"{self.model_name} [{weights}] on {self.device}: {self.n_embedded} embedded, "
            f"{self.n_quarantined} quarantined, {self.seconds:.1f} s ({self.images_per_second:.1f} images/s)"
        )


@dataclass
class LoadedBatch:
    """One claimed batch as a worker hands it over: CPU-decoded pixels and/or JPEG bytes for the device."""

    embed_work_id: int
    token: str
    cpu_ids: list[int]
    cpu_pixels: torch.Tensor | None  # uint8 N x 3 x S x S, or float if the encoder needs its own preprocess
    device_ids: list[int]
    encoded: list[torch.Tensor]  # JPEG bytes, decoded on the device
    failures: list[tuple[int, str]]


class _ClaimedBatches(IterableDataset):
    """Yields LoadedBatches; every DataLoader worker claims its own batches from the database."""

    def __init__(self, url: str, model_id: int, worker: work.WorkerId, encoder: Encoder, *, lease_seconds: float,
                 limit: int | None, is_device_decode: bool, poll_seconds: float):
        self.url, self.model_id, self.worker = url, model_id, worker
        self.recipe: PixelRecipe | None = recipe_of(encoder.preprocess)
        self.preprocess = encoder.preprocess
        self.lease_seconds, self.limit, self.poll_seconds = lease_seconds, limit, poll_seconds
        self.is_device_decode = is_device_decode and self.recipe is not None

    def __iter__(self):
        info = get_worker_info()
        n_workers, index = (info.num_workers, info.id) if info else (1, 0)
        remaining = None if self.limit is None else self.limit // n_workers + (index < self.limit % n_workers)
        with connect(self.url) as conn:
            while remaining is None or remaining > 0:
                claim = work.claim(conn, self.model_id, self.worker, lease_seconds=self.lease_seconds,
                                   max_images=remaining)
                if claim is None:
                    wait = work.others_hold_open_work(conn, self.model_id, self.worker)
                    if wait is None:
                        return
                    work.expire_dead_local_leases(conn, self.model_id, self.worker.host)
                    time.sleep(min(self.poll_seconds, wait + 0.05))
                    continue
                if remaining is not None:
                    remaining -= len(claim.items)
                yield self._load(claim)

    def _load(self, claim: work.Claim) -> LoadedBatch:
        cpu_ids, cpu_tensors, device_ids, encoded, failures = [], [], [], [], []
        for image_id, path in claim.items:
            try:
                data = Path(path).read_bytes()
                if self.is_device_decode and device_can_decode(data):
                    device_ids.append(image_id)
                    encoded.append(torch.frombuffer(bytearray(data), dtype=torch.uint8))
                    continue
                if self.recipe is not None:
                    cpu_tensors.append(cpu_pixels(data, self.recipe))
                else:
                    cpu_tensors.append(self.preprocess(decode_rgb(data)))
                cpu_ids.append(image_id)
            except (OSError, UnreadableImage) as exc:
                failures.append((image_id, f"unreadable at embed time: {exc}"[:500]))
        pixels = torch.stack(cpu_tensors) if cpu_tensors else None
        return LoadedBatch(claim.embed_work_id, claim.token, cpu_ids, pixels, device_ids, encoded, failures)


def _as_is(batch):
    return batch


_SLOW_BATCH_SECONDS = float(os.environ.get("SKINMAP_TEST_SLOW_BATCH", "0") or 0)


def default_workers() -> int:
    return max(1, min(8, (os.cpu_count() or 2) - 1))


def embed_images(
    url: str,
    encoder: Encoder,
    *,
    device: str = "cpu",
    batch_size: int = 64,
    workers: int | None = None,
    limit: int | None = None,
    progress: bool = True,
    precision: str | None = None,
    channels_last: bool | None = None,
    compile_model: bool = False,
    decode: str | None = None,
    lease_seconds: float = work.DEFAULT_LEASE_SECONDS,
    worker_host: str | None = None,
    build_index: bool = True,
    storage: str | None = None,
) -> EmbedSummary:
    """Embed every ok image that has no vector for this encoder yet, sharing the work with other workers.

    precision: 'bf16' or 'fp32' (default bf16 on CUDA, fp32 on CPU); decode: 'device' (nvjpeg on the
    device, CPU fallback) or 'workers' (PIL in the worker processes; default on CPU); storage: 'vector'
    (float32) or 'halfvec' (float16, half the bytes) for a new model, None keeps a registered model's choice.
    """
    started = time.monotonic()
    workers = default_workers() if workers is None else workers
    is_cuda = device.startswith("cuda")
    precision = precision or ("bf16" if is_cuda else "fp32")
    if precision not in ("bf16", "fp32"):
        raise ValueError(f"precision must be bf16 or fp32, not {precision!r}")
    channels_last = is_cuda if channels_last is None else channels_last
    decode = decode or ("device" if is_cuda else "workers")
    recipe = recipe_of(encoder.preprocess)
    if channels_last:
        encoder.module.to(memory_format=torch.channels_last)
    if compile_model:
        encoder._forward = torch.compile(encoder._forward)
    worker = work.WorkerId.here(worker_host)
    with connect(url) as conn:
        model_id = register_model(conn, encoder, storage)
        storage = storage_of(conn, model_id)
        work.expire_dead_local_leases(conn, model_id, worker.host)
        work.seed(conn, model_id, batch_size)
        n_todo = work.count_todo(conn, model_id)
        n_todo = n_todo if limit is None else min(n_todo, limit)
        run_id = conn.execute(
            "insert into atlas.embed_run (model_id, device, batch_size, is_random_weights) values (%s, %s, %s, %s) "
            "returning embed_run_id",
            (model_id, device, batch_size, encoder.is_random_weights),
        ).fetchone()[0]
        conn.commit()
        batches = _ClaimedBatches(url, model_id, worker, encoder, lease_seconds=lease_seconds, limit=limit,
                                  is_device_decode=decode == "device", poll_seconds=min(1.0, lease_seconds / 4))
        loader = DataLoader(batches, batch_size=None, num_workers=workers, collate_fn=_as_is, pin_memory=is_cuda,
                            prefetch_factor=2 if workers else None, persistent_workers=False)
        autocast = (torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16)
                    if precision == "bf16" else contextlib.nullcontext())
        writer = BackgroundWriter(url, model_id, storage=storage)
        try:
            with tqdm(total=n_todo, desc=f"embed {encoder.model_name}", unit="img", disable=not progress) as bar:
                for batch in loader:
                    encoded = _encode_batch(batch, encoder, recipe, device, autocast, channels_last)
                    if _SLOW_BATCH_SECONDS:  # lets the restart tests kill a run mid-way, holding a claim
                        time.sleep(_SLOW_BATCH_SECONDS)
                    writer.submit(encoded)
                    bar.update(len(batch.cpu_ids) + len(batch.device_ids) + len(batch.failures))
        finally:
            writer.close()
        if build_index:
            with conn.transaction():  # one worker at a time builds the index
                conn.execute("select pg_advisory_xact_lock(20265, %s)", (model_id,))
            finish(conn, model_id)
        seconds = time.monotonic() - started
        conn.execute(
            "update atlas.embed_run set n_embedded = %s, n_quarantined = %s, seconds = %s, finished_at = now() "
            "where embed_run_id = %s",
            (writer.n_written, writer.n_quarantined, seconds, run_id),
        )
        conn.commit()
    return EmbedSummary(encoder.model_name, encoder.is_random_weights, n_todo, writer.n_written,
                        writer.n_quarantined, seconds, device)


def _encode_batch(batch: LoadedBatch, encoder: Encoder, recipe: PixelRecipe | None, device: str, autocast,
                  channels_last: bool) -> EncodedBatch:
    """Pixels to the device (decoding JPEGs there), normalise, forward; vectors come back without blocking."""
    ids, parts = list(batch.cpu_ids), []
    failures = list(batch.failures)
    if batch.cpu_pixels is not None:
        parts.append(batch.cpu_pixels.to(device, non_blocking=True))
    if batch.encoded:
        order, pixels, failed = decode_on_device(batch.encoded, recipe, device)
        ids += [batch.device_ids[i] for i in order]
        failures += [(batch.device_ids[i], reason) for i, reason in failed]
        if pixels is not None:
            parts.append(pixels)
    if not ids:
        return EncodedBatch(batch.embed_work_id, batch.token, [], torch.empty(0, encoder.dimension), failures)
    pixels = torch.cat(parts) if len(parts) > 1 else parts[0]
    if pixels.dtype == torch.uint8:
        pixels = normalise(pixels, recipe, channels_last=channels_last)
    elif channels_last:
        pixels = pixels.contiguous(memory_format=torch.channels_last)
    with autocast:
        vectors = encoder.encode(pixels)
    ready = None
    if vectors.is_cuda:
        host = torch.empty(vectors.shape, dtype=vectors.dtype, pin_memory=True)
        host.copy_(vectors, non_blocking=True)
        ready = torch.cuda.Event()
        ready.record()
        vectors = host
    return EncodedBatch(batch.embed_work_id, batch.token, ids, vectors, failures, ready)
