"""Clustered synthetic vectors written straight into the atlas: for kNN tests and the benchmark.

No image files: datasets, images (with release year, modality, pixel hash),
metadata and one L2-normalised vector per image are planted directly, so
the engines and the dbt models can be checked on known geometry at any
size. Vectors come from `n_clusters` centres with within-cluster spread
(uniform random vectors would make every neighbour list meaningless), and
planted near-duplicate clusters are tiny perturbations of one vector, with
identical pixel signatures so the second check confirms them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skinmap import db
from skinmap.knn.sql_engine import ensure_index
from skinmap.knn.vectors import as_array

MODALITIES = ("dermoscopic", "clinical")
FITZ_GROUPS = ("I-II", "III-IV", "V-VI", None)
ICD_BLOCKS = ("C43-C44", "D10-D36", "L20-L30", None)


@dataclass
class PlantedAtlas:
    model_id: int
    model_name: str
    dataset_ids: list[int]
    image_ids: np.ndarray
    vectors: np.ndarray
    duplicate_clusters: list[list[int]] = field(default_factory=list)


def clustered_vectors(n: int, dim: int, n_clusters: int, spread: float, rng: np.random.Generator,
                      like_seed: int | None = None) -> np.ndarray:
    """n unit vectors around n_clusters random centres. `like_seed`: around the centres that a call with
    rng = default_rng(like_seed) drew (new images of the same clusters), the points still drawn from rng."""
    centres_rng = rng if like_seed is None else np.random.default_rng(like_seed)
    centres = centres_rng.standard_normal((n_clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    labels = rng.integers(0, n_clusters, n)
    x = centres[labels] + spread * rng.standard_normal((n, dim)).astype(np.float32) / np.sqrt(dim)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def ensure_model(conn, name: str, dim: int) -> int:
    row = conn.execute("select model_id from atlas.embedding_model where model_name = %s", (name,)).fetchone()
    if row:
        return row[0]
    return conn.execute(
        "insert into atlas.embedding_model (model_name, family, architecture, weights, is_random_weights, dimension) "
        "values (%s, 'imported', 'planted', 'none', true, %s) returning model_id", (name, dim),
    ).fetchone()[0]


def add_dataset(url: str, slug: str, release_year: int, vectors: np.ndarray, *, model_name: str = "planted",
                seed: int = 0, copy_rows: dict[int, int] | None = None, copy_images: dict[int, int] | None = None,
                index: bool = True) -> tuple[int, np.ndarray]:
    """Plant one dataset of len(vectors) images; return (dataset_id, image_ids).

    A planted copy gets the pixel signature of what it copies (similarity 1):
    `copy_rows` maps a row to an earlier row of this dataset, `copy_images`
    maps a row to an image id already in the atlas.
    """
    rng = np.random.default_rng(seed)
    n, dim = vectors.shape
    copy_rows, copy_images = copy_rows or {}, copy_images or {}
    with db.connect(url) as conn:
        model_id = ensure_model(conn, model_name, dim)
        modality = MODALITIES[seed % len(MODALITIES)]
        dataset_id = conn.execute(
            "insert into atlas.dataset (slug, name, release_year, modality) values (%s, %s, %s, %s) "
            "returning dataset_id", (slug, slug, release_year, modality),
        ).fetchone()[0]
        years = release_year - (rng.random(n) < 0.1).astype(int)  # some images were released a year earlier
        with conn.cursor().copy(
            "copy atlas.image (dataset_id, source_key, pixel_sha256, modality, release_year) from stdin"
        ) as copy:
            for i in range(n):
                copy.write_row((dataset_id, f"{slug}-{i}", f"{slug}-{i}", modality, int(years[i])))
        image_ids = np.array([r[0] for r in conn.execute(
            "select image_id from atlas.image where dataset_id = %s order by image_id", (dataset_id,))], dtype=np.int64)
        with conn.cursor().copy(
            "copy atlas.image_metadata (image_id, fitzpatrick_group, icd10_block, fitzpatrick_provenance, "
            "diagnosis_provenance) from stdin"
        ) as copy:
            for i, image_id in enumerate(image_ids):
                fitz, block = FITZ_GROUPS[i % 4], ICD_BLOCKS[(i // 4) % 4]
                copy.write_row((int(image_id), fitz, block, fitz and "label", block and "label"))
        with conn.cursor().copy("copy atlas.embedding (model_id, image_id, vec) from stdin (format binary)") as copy:
            copy.set_types(["int4", "int8", "vector"])
            for image_id, vec in zip(image_ids, vectors):
                copy.write_row((model_id, int(image_id), vec.astype(np.float32)))
        signatures = np.random.default_rng(seed + 7919).standard_normal((n, 1024)).astype(np.float32)
        signatures -= signatures.mean(axis=1, keepdims=True)
        signatures /= np.linalg.norm(signatures, axis=1, keepdims=True)
        for row, source in sorted(copy_rows.items()):
            signatures[row] = signatures[source]
        if copy_images:
            existing = dict(conn.execute(
                "select image_id, signature from atlas.pixel_signature where image_id = any(%s)",
                ([int(v) for v in copy_images.values()],),
            ).fetchall())
            for row, image_id in copy_images.items():
                signatures[row] = as_array(existing[image_id])
        with conn.cursor().copy(
            "copy atlas.pixel_signature (image_id, signature, signature_mirrored) from stdin (format binary)"
        ) as copy:
            copy.set_types(["int8", "vector", "vector"])
            for i, image_id in enumerate(image_ids):
                copy.write_row((int(image_id), signatures[i], signatures[i][::-1].copy()))
        conn.commit()
        if index:
            ensure_index(conn, model_id)
            conn.execute("analyze atlas.embedding")
            conn.commit()
    return dataset_id, image_ids
