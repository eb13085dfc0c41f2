"""Import precomputed vectors (npz, parquet) under a named model, matched to atlas images by a key.

Lets users audit with the published atlas' own vectors (`atlas_input.parquet`,
an `embedding` list column) without re-embedding. Rows are matched to images
by the image's source key (optionally within one dataset), file name,
image id or byte/pixel hash; unmatched keys are counted, never guessed.
Vectors are L2-normalised on import, as every vector in atlas.embedding is.
An imported model is a model of family 'imported': importing under the name
of an embedded model is refused, and a second import adds only missing rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg

from skinmap.knn.sql_engine import ensure_index

MATCH_COLUMNS = {
    "source-key": "i.source_key",
    "file-name": "regexp_replace(i.file_path, '^.*/', '')",
    "image-id": "i.image_id::text",
    "byte-sha256": "i.byte_sha256",
    "pixel-sha256": "i.pixel_sha256",
}


class ImportError_(ValueError):
    """The file or options cannot be imported; the message says what to change."""


@dataclass
class ImportSummary:
    model_name: str
    n_rows: int
    n_imported: int
    n_already_present: int
    n_unmatched: int
    dimension: int

    def line(self) -> str:
        return (f"{self.model_name}: {self.n_rows} rows, {self.n_imported} vectors imported "
                f"({self.dimension} dims), {self.n_already_present} already present, {self.n_unmatched} unmatched")


def read_vectors(path: Path, key_column: str, vector_column: str) -> tuple[list[str], np.ndarray]:
    """Keys (as text) and an n x d float32 matrix from an .npz or .parquet file."""
    suffix = path.suffix.lower()
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            missing = [c for c in (key_column, vector_column) if c not in data.files]
            if missing:
                raise ImportError_(f"{path.name} has no array {missing[0]!r}; arrays: {', '.join(data.files)}")
            keys, vectors = data[key_column], data[vector_column]
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path, columns=None)
        missing = [c for c in (key_column, vector_column) if c not in table.column_names]
        if missing:
            raise ImportError_(f"{path.name} has no column {missing[0]!r}; columns: {', '.join(table.column_names)}")
        keys = table.column(key_column).to_pylist()
        column = table.column(vector_column).combine_chunks()
        try:
            vectors = np.asarray(column.flatten().to_numpy(zero_copy_only=False)).reshape(len(keys), -1)
        except ValueError as exc:
            raise ImportError_(f"column {vector_column!r} must hold lists of one length: {exc}") from exc
    else:
        raise ImportError_(f"{path.name}: expected a .npz or .parquet file")
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(keys):
        raise ImportError_(f"expected one vector per key, got {len(keys)} keys and vectors of shape {vectors.shape}")
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    if not np.all(np.isfinite(vectors)) or np.any(norms == 0):
        raise ImportError_("some vectors are zero, NaN or infinite")
    return [str(k) for k in keys], vectors / norms


def import_vectors(conn: psycopg.Connection, path: Path, *, model_name: str, key_column: str = "key",
                   vector_column: str = "embedding", match: str = "source-key", dataset: str | None = None,
                   source: str | None = None) -> ImportSummary:
    """Load the file's vectors into atlas.embedding under `model_name` (one transaction)."""
    if match not in MATCH_COLUMNS:
        raise ImportError_(f"--match must be one of {', '.join(MATCH_COLUMNS)}")
    keys, vectors = read_vectors(path, key_column, vector_column)
    dimension = int(vectors.shape[1])
    with conn.transaction():
        model_id = _imported_model(conn, model_name, dimension, source or path.name)
        conn.execute("create temporary table import_vector (key text, vec vector) on commit drop")
        with conn.cursor().copy("copy import_vector (key, vec) from stdin with (format binary)") as copy:
            copy.set_types(["text", "vector"])
            for key, vector in zip(keys, vectors):
                copy.write_row((key, vector))
        dataset_filter = "and d.slug = %(dataset)s" if dataset else ""
        matched = conn.execute(
            f"""
            create temporary table import_match on commit drop as
            select distinct on (i.image_id) i.image_id, v.vec
            from import_vector as v
            inner join atlas.image as i on {MATCH_COLUMNS[match]} = v.key
            inner join atlas.dataset as d on i.dataset_id = d.dataset_id
            where true {dataset_filter}
            order by i.image_id
            """,
            {"dataset": dataset},
        ).rowcount
        n_keys_matched = conn.execute(
            f"""
            select count(distinct v.key) from import_vector as v
            inner join atlas.image as i on {MATCH_COLUMNS[match]} = v.key
            inner join atlas.dataset as d on i.dataset_id = d.dataset_id
            where true {dataset_filter}
            """,
            {"dataset": dataset},
        ).fetchone()[0]
        inserted = conn.execute(
            "insert into atlas.embedding (model_id, image_id, vec) select %s, image_id, vec from import_match "
            "on conflict on constraint pk_embedding do nothing",
            (model_id,),
        ).rowcount
    ensure_index(conn, model_id)
    conn.commit()
    return ImportSummary(model_name, len(keys), inserted, matched - inserted, len(set(keys)) - n_keys_matched,
                         dimension)


def _imported_model(conn: psycopg.Connection, model_name: str, dimension: int, source: str) -> int:
    row = conn.execute("select model_id, family, dimension from atlas.embedding_model where model_name = %s",
                       (model_name,)).fetchone()
    if row:
        model_id, family, known = row
        if family != "imported":
            raise ImportError_(f"{model_name!r} is an embedded ({family}) model; import under another --model-name")
        if known != dimension:
            raise ImportError_(f"{model_name!r} has dimension {known}, the file has {dimension}")
        return int(model_id)
    return int(conn.execute(
        """
        insert into atlas.embedding_model (model_name, family, architecture, weights, is_random_weights, dimension)
        values (%s, 'imported', 'imported', %s, false, %s) returning model_id
        """,
        (model_name, f"file:{source}", dimension),
    ).fetchone()[0])
