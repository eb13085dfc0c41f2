"""Where a vector is written: binary COPY of one batch into atlas.embedding, one transaction.

A batch is committed whole or not at all, so a killed run leaves no partial
batch and the next run embeds exactly the images that still have no vector.
"""
from __future__ import annotations

from collections.abc import Sequence

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
        with conn.cursor().copy(
            "copy atlas.embedding (model_id, image_id, vec) from stdin with (format binary)"
        ) as copy:
            copy.set_types(["int4", "int8", "vector"])
            for image_id, vector in zip(image_ids, vectors):
                copy.write_row((model_id, int(image_id), vector.astype(np.float32, copy=False)))


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
