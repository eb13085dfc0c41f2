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
from pgvector import HalfVector
from psycopg.types.json import Jsonb

from embedder.models import Encoder

STORAGES = ("vector", "halfvec")  # float32, float16; HNSW indexes up to 2,000 and 4,000 dimensions


def register_model(conn: psycopg.Connection, encoder: Encoder, storage: str | None = None) -> int:
    """Get or create the atlas.embedding_model row for this encoder; refuse a dimension or storage clash.

    storage: 'vector' (float32) or 'halfvec' (float16) for a new model; None keeps a registered model's
    choice and means 'vector' for a new one.
    """
    if storage is not None and storage not in STORAGES:
        raise ValueError(f"storage must be one of {STORAGES}, not {storage!r}")
    row = conn.execute(
        "select model_id, dimension, storage from atlas.embedding_model where model_name = %s", (encoder.model_name,)
    ).fetchone()
    if row:
        if row[1] != encoder.dimension:
            raise ValueError(
                f"model {encoder.model_name!r} is registered with dimension {row[1]}, "
                f"but the loaded encoder gives {encoder.dimension}"
            )
        if storage is not None and row[2] != storage:
            raise ValueError(
                f"model {encoder.model_name!r} already stores its vectors as {row[2]}: "
                f"pass --storage {row[2]} (one model keeps one storage)"
            )
        return int(row[0])
    inserted = conn.execute(
        """
        insert into atlas.embedding_model
            (model_name, family, architecture, weights, weights_sha256, is_random_weights, dimension, image_size,
             storage, revision, weight_files)
        values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        on conflict on constraint uq_embedding_model_name do nothing
        returning model_id
        """,
        (encoder.model_name, encoder.family, encoder.architecture, encoder.weights, encoder.weights_sha256,
         encoder.is_random_weights, encoder.dimension, encoder.image_size, storage or "vector", encoder.revision,
         None if encoder.weight_files is None else Jsonb(encoder.weight_files)),
    ).fetchone()
    conn.commit()
    if inserted is None:  # a concurrent worker registered it first: read and check its row
        return register_model(conn, encoder, storage)
    return int(inserted[0])


def storage_of(conn: psycopg.Connection, model_id: int) -> str:
    return conn.execute("select storage from atlas.embedding_model where model_id = %s", (model_id,)).fetchone()[0]


def write_vectors(conn: psycopg.Connection, model_id: int, image_ids: Sequence[int], vectors: np.ndarray) -> None:
    """Write one batch of L2-normalised vectors and commit."""
    with conn.transaction():
        _copy_vectors(conn, model_id, image_ids, vectors, storage_of(conn, model_id))


def _copy_vectors(conn: psycopg.Connection, model_id: int, image_ids: Sequence[int], vectors: np.ndarray,
                  storage: str) -> None:
    if len(image_ids) == 0:
        return
    is_half = storage == "halfvec"
    column = "vec_half" if is_half else "vec"
    with conn.cursor().copy(f"copy atlas.embedding (model_id, image_id, {column}) from stdin with (format binary)") as copy:
        copy.set_types(["int4", "int8", storage])
        for image_id, vector in zip(image_ids, vectors):
            vector = np.asarray(vector, dtype=np.float16 if is_half else np.float32)  # bf16 from the GPU too
            copy.write_row((model_id, int(image_id), HalfVector(vector) if is_half else vector))


@dataclass
class EncodedBatch:
    """What the writer receives for one claimed batch."""

    embed_work_id: int
    token: str
    image_ids: list[int]
    vectors: np.ndarray  # or a CPU torch tensor still being copied from the GPU until `ready`
    failures: list[tuple[int, str]]
    ready: object | None = None  # a torch.cuda.Event recorded after the copy


def commit_batch(conn: psycopg.Connection, model_id: int, batch: EncodedBatch, storage: str = "vector") -> bool:
    """Vectors, quarantines and 'done' of one claimed batch in one transaction; False if the lease was lost."""
    with conn.transaction():
        held = conn.execute(
            "update atlas.embed_work set status = 'done', finished_at = now(), lease_token = null, lease_until = null "
            "where embed_work_id = %s and lease_token = %s and status = 'claimed' returning 1",
            (batch.embed_work_id, batch.token),
        ).fetchone()
        if held is None:  # our lease ran out and another worker took the batch: it writes it
            raise _LeaseLost
        _copy_vectors(conn, model_id, batch.image_ids, batch.vectors, storage)
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

    def __init__(self, url: str, model_id: int, *, depth: int = 4, storage: str = "vector"):
        from skinmap.db import connect

        self._connect = lambda: connect(url)
        self.model_id, self.storage = model_id, storage
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
        if self._error is None:
            return
        import psycopg

        if isinstance(self._error, psycopg.OperationalError):  # the server went away: the CLI's one-line error
            raise self._error
        raise RuntimeError(f"writing vectors failed: {self._error}") from self._error

    def _run(self) -> None:
        try:
            with self._connect() as conn:
                while (batch := self._queue.get()) is not None:
                    if batch.ready is not None:
                        batch.ready.synchronize()
                    batch.vectors = np.asarray(batch.vectors)
                    try:
                        commit_batch(conn, self.model_id, batch, self.storage)
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
    from skinmap.knn.sql_engine import ensure_index

    ensure_index(conn, model_id)
    conn.commit()
    conn.execute("analyze atlas.embedding")
    conn.commit()
