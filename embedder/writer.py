"""Where a vector is written: binary COPY of one batch into atlas.embedding, one transaction.

A batch is committed whole or not at all, so a killed run leaves no partial
batch and the next run embeds exactly the images that still have no vector.
With a work queue (embedder.queue) the same transaction marks the claimed
batch done, and only while this worker still holds its lease: a batch is
written once even when a slow worker's lease was taken over. BackgroundWriter
does this on its own thread and connection, so the GPU never waits for the
database.
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import psycopg

from embedder.models import Encoder


def register_model(conn: psycopg.Connection, encoder: Encoder) -> int:
    """Get or create the atlas.embedding_model row for this encoder; refuse a dimension clash."""
    row = conn.execute(
        "select model_id, dimension from atlas.embedding_model where model_name = %s", (encoder.model_name,)
    ).fetchone()
    if row:
        if row[1] != encoder.dimension:
            raise ValueError(
                f"model {encoder.model_name!r} is registered with dimension {row[1]}, "
                f"but the loaded encoder gives {encoder.dimension}"
            )
        return int(row[0])
    model_id = conn.execute(
        """
        insert into atlas.embedding_model
            (model_name, family, architecture, weights, weights_sha256, is_random_weights, dimension, image_size)
        values (%s, %s, %s, %s, %s, %s, %s, %s)
        returning model_id
        """,
        (encoder.model_name, encoder.family, encoder.architecture, encoder.weights, encoder.weights_sha256,
         encoder.is_random_weights, encoder.dimension, encoder.image_size),
    ).fetchone()[0]
    conn.commit()
    return int(model_id)


def write_vectors(conn: psycopg.Connection, model_id: int, image_ids: Sequence[int], vectors: np.ndarray) -> None:
    """Write one batch of L2-normalised vectors and commit."""
    with conn.transaction():
        _copy_vectors(conn, model_id, image_ids, vectors)


def _copy_vectors(conn: psycopg.Connection, model_id: int, image_ids: Sequence[int], vectors: np.ndarray) -> None:
    if len(image_ids) == 0:
        return
    with conn.cursor().copy("copy atlas.embedding (model_id, image_id, vec) from stdin with (format binary)") as copy:
        copy.set_types(["int4", "int8", "vector"])
        for image_id, vector in zip(image_ids, vectors):
            copy.write_row((model_id, int(image_id), vector.astype(np.float32, copy=False)))


@dataclass
class EncodedBatch:
    """What the writer receives for one claimed batch."""

    embed_work_id: int
    token: str
    image_ids: list[int]
    vectors: np.ndarray  # or a CPU torch tensor still being copied from the GPU until `ready`
    failures: list[tuple[int, str]]
    ready: object | None = None  # a torch.cuda.Event recorded after the copy


def commit_batch(conn: psycopg.Connection, model_id: int, batch: EncodedBatch) -> bool:
    """Vectors, quarantines and 'done' of one claimed batch in one transaction; False if the lease was lost."""
    with conn.transaction():
        held = conn.execute(
            "update atlas.embed_work set status = 'done', finished_at = now(), lease_token = null, lease_until = null "
            "where embed_work_id = %s and lease_token = %s and status = 'claimed' returning 1",
            (batch.embed_work_id, batch.token),
        ).fetchone()
        if held is None:  # our lease ran out and another worker took the batch: it writes it
            raise _LeaseLost
        _copy_vectors(conn, model_id, batch.image_ids, batch.vectors)
        if batch.failures:
            conn.cursor().executemany(
                "update atlas.image set status = 'quarantined', quarantine_reason = %s where image_id = %s",
                [(reason, image_id) for image_id, reason in batch.failures],
            )
    return True


class _LeaseLost(Exception):
    pass


class BackgroundWriter:
    """Commits EncodedBatches on a thread with its own connection; a bounded queue applies back-pressure."""

    def __init__(self, url: str, model_id: int, *, depth: int = 4):
        from skinmap.db import connect

        self._connect = lambda: connect(url)
        self.model_id = model_id
        self._queue: queue.Queue[EncodedBatch | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self.n_written = self.n_quarantined = self.n_lost = 0
        self._thread = threading.Thread(target=self._run, name="skinmap-writer", daemon=True)
        self._thread.start()

    def submit(self, batch: EncodedBatch) -> None:
        self._raise_if_failed()
        while True:
            try:
                self._queue.put(batch, timeout=0.5)
                return
            except queue.Full:
                self._raise_if_failed()

    def close(self) -> None:
        """Wait until every submitted batch is committed; re-raise a writer error."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"writing vectors failed: {self._error}") from self._error

    def _run(self) -> None:
        try:
            with self._connect() as conn:
                while (batch := self._queue.get()) is not None:
                    if batch.ready is not None:
                        batch.ready.synchronize()
                    batch.vectors = np.asarray(batch.vectors)
                    try:
                        commit_batch(conn, self.model_id, batch)
                    except _LeaseLost:
                        self.n_lost += len(batch.image_ids)
                        continue
                    self.n_written += len(batch.image_ids)
                    self.n_quarantined += len(batch.failures)
        except BaseException as exc:  # surfaced to the embedding thread by submit()/close()
            self._error = exc
            while True:  # drain so a blocked submit() wakes up and sees the error
                try:
                    self._queue.get_nowait()
                except queue.Empty:
                    break


def quarantine(conn: psycopg.Connection, failures: Sequence[tuple[int, str]]) -> None:
    """Mark images that could not be decoded at embed time, with the reason."""
    if failures:
        with conn.transaction():
            conn.cursor().executemany(
                "update atlas.image set status = 'quarantined', quarantine_reason = %s where image_id = %s",
                [(reason, image_id) for image_id, reason in failures],
            )


def finish(conn: psycopg.Connection, model_id: int) -> None:
    """Build the model's HNSW index after loading (not during), then refresh planner statistics."""
    conn.execute("select atlas.ensure_embedding_index_v1(%s)", (model_id,))
    conn.commit()
    conn.execute("analyze atlas.embedding")
    conn.commit()
