"""The embed loop: images without a vector for a model -> decode (worker processes) -> encode -> COPY.

Restartable by construction: the work list is recomputed from the database at
start (images that have no vector for this model), and each batch commits on
its own, so a killed run is finished by running it again.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from embedder.models import Encoder
from embedder.writer import finish, quarantine, register_model, write_vectors
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


class _ImageFiles(Dataset):
    def __init__(self, items: list[tuple[int, str]], encoder: Encoder):
        self.items, self.preprocess = items, encoder.preprocess

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int):
        image_id, path = self.items[index]
        try:
            return image_id, self.preprocess(decode_rgb(Path(path).read_bytes())), None
        except (OSError, UnreadableImage) as exc:
            return image_id, None, f"unreadable at embed time: {exc}"[:500]


def _collate(samples):
    ok = [(i, t) for i, t, _ in samples if t is not None]
    failed = [(i, reason) for i, t, reason in samples if t is None]
    ids = [i for i, _ in ok]
    pixels = torch.stack([t for _, t in ok]) if ok else None
    return ids, pixels, failed


def _todo(conn, model_id: int, limit: int | None) -> list[tuple[int, str]]:
    return conn.execute(
        """
        select i.image_id, i.file_path
        from atlas.image as i
        where i.status = 'ok'
          and i.file_path is not null
          and not exists (
              select 1 from atlas.embedding as e where e.model_id = %s and e.image_id = i.image_id
          )
        order by i.image_id
        limit %s
        """,
        (model_id, limit),
    ).fetchall()


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
) -> EmbedSummary:
    """Embed every ok image that has no vector for this encoder yet."""
    started = time.monotonic()
    workers = default_workers() if workers is None else workers
    with connect(url) as conn:
        model_id = register_model(conn, encoder)
        items = _todo(conn, model_id, limit)
        conn.commit()
        run_id = conn.execute(
            "insert into atlas.embed_run (model_id, device, batch_size, is_random_weights) values (%s, %s, %s, %s) "
            "returning embed_run_id",
            (model_id, device, batch_size, encoder.is_random_weights),
        ).fetchone()[0]
        conn.commit()
        loader = DataLoader(
            _ImageFiles(items, encoder), batch_size=batch_size, num_workers=workers, collate_fn=_collate,
            pin_memory=device.startswith("cuda"), persistent_workers=False,
        )
        n_done = n_failed = 0
        with tqdm(total=len(items), desc=f"embed {encoder.model_name}", unit="img", disable=not progress) as bar:
            for ids, pixels, failed in loader:
                if pixels is not None:
                    vectors = encoder.encode(pixels.to(device, non_blocking=True)).cpu().numpy()
                    write_vectors(conn, model_id, ids, vectors)
                    if _SLOW_BATCH_SECONDS:  # lets the restart test kill a run mid-way
                        time.sleep(_SLOW_BATCH_SECONDS)
                    n_done += len(ids)
                quarantine(conn, failed)
                n_failed += len(failed)
                bar.update(len(ids) + len(failed))
        finish(conn, model_id)
        seconds = time.monotonic() - started
        conn.execute(
            "update atlas.embed_run set n_embedded = %s, n_quarantined = %s, seconds = %s, finished_at = now() "
            "where embed_run_id = %s",
            (n_done, n_failed, seconds, run_id),
        )
        conn.commit()
    return EmbedSummary(encoder.model_name, encoder.is_random_weights, len(items), n_done, n_failed, seconds, device)
