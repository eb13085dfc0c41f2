"""What the engines read about one model's images: ids, release years, datasets and vectors."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skinmap import db


@dataclass
class ModelImages:
    """The usable (status ok) images embedded by one model, ordered by image_id."""

    model_id: int
    dimension: int
    image_ids: np.ndarray  # int64
    release_years: np.ndarray  # float64, NaN = unknown
    dataset_ids: np.ndarray  # int64


def as_array(vec) -> np.ndarray:
    """A pgvector value as float32 numpy (COPY gives Vector objects, queries numpy arrays)."""
    return np.asarray(vec.to_numpy() if hasattr(vec, "to_numpy") else vec, dtype=np.float32)


def model_ids(url: str, model_name: str | None = None) -> list[int]:
    """The models that have vectors (or the one named)."""
    with db.connect(url) as conn:
        rows = conn.execute(
            "select m.model_id from atlas.embedding_model m "
            "where exists (select 1 from atlas.embedding e where e.model_id = m.model_id) "
            "and (%s::text is null or m.model_name = %s) order by m.model_id",
            (model_name, model_name),
        ).fetchall()
    return [r[0] for r in rows]


def model_images(url: str, model_id: int) -> ModelImages:
    with db.connect(url) as conn:
        dim = conn.execute("select dimension from atlas.embedding_model where model_id = %s", (model_id,)).fetchone()[0]
        rows = conn.execute(
            "select e.image_id, i.release_year, i.dataset_id from atlas.embedding e "
            "join atlas.image i using (image_id) where e.model_id = %s and i.status = 'ok' order by e.image_id",
            (model_id,),
        ).fetchall()
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    years = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=np.float64)
    datasets = np.array([r[2] for r in rows], dtype=np.int64)
    return ModelImages(model_id, dim, ids, years, datasets)


def load_vectors(url: str, model_id: int, image_ids: np.ndarray) -> np.ndarray:
    """float32 matrix of the vectors, rows in the order of image_ids (binary COPY)."""
    position = {int(i): n for n, i in enumerate(image_ids)}
    out: np.ndarray | None = None
    with db.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "copy (select image_id, coalesce(vec, vec_half::vector) from atlas.embedding where model_id = %s) "
            "to stdout (format binary)",
            (model_id,),
        ) as copy:
            copy.set_types(["int8", "vector"])
            for image_id, vec in copy.rows():
                n = position.get(image_id)
                if n is None:
                    continue
                vec = as_array(vec)
                if out is None:
                    out = np.zeros((len(image_ids), len(vec)), dtype=np.float32)
                out[n] = vec
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)
