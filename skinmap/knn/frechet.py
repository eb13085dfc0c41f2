"""Domain shift: Fréchet distance between the Gaussian fits of two datasets' embeddings (as in FID).

d^2 = |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)). The trace of the
matrix square root is the sum of the square roots of the eigenvalues of
S_a^(1/2) S_b S_a^(1/2) (symmetric, so numpy's eigh suffices; no scipy).

Per ICD-10 block (DESIGN.md "Domain shift"): the same distance between the
fits of two datasets' images of one block, for the pairs where both have at
least `min_images` of it (a 512-d covariance from a handful of images is
noise; the dbt var frechet_block_min_images can only raise that floor).
"""
from __future__ import annotations

import numpy as np

from skinmap import db
from skinmap.knn.vectors import ModelImages, load_vectors


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mu_a, cov_a, mu_b, cov_b, *, root_a: np.ndarray | None = None) -> float:
    """`root_a`, the square root of `cov_a`, when the caller has it already (one per dataset, not per pair)."""
    root_a = _sqrt_psd(cov_a) if root_a is None else root_a
    middle = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_sqrt = np.sqrt(np.clip(middle, 0, None)).sum()
    value = float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt)
    return max(value, 0.0)


def gaussian_fit(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = vectors.astype(np.float64)
    mu = x.mean(axis=0)
    cov = np.cov(x, rowvar=False) if len(x) > 1 else np.zeros((x.shape[1], x.shape[1]))
    return mu, cov


DEFAULT_BLOCK_MIN_IMAGES = 50


def build_frechet(url: str, images: ModelImages, vectors: np.ndarray | None = None) -> int:
    """Replace the model's dataset x dataset Fréchet distances; return the pairs written.

    `vectors`: the model's vectors in the order of images.image_ids, when the caller has them already."""
    if vectors is None:
        vectors = load_vectors(url, images.model_id, images.image_ids)
    fits = {int(d): gaussian_fit(vectors[images.dataset_ids == d]) for d in np.unique(images.dataset_ids)}
    sizes = {d: int((images.dataset_ids == d).sum()) for d in fits}
    roots = {d: _sqrt_psd(cov) for d, (_, cov) in fits.items()} if len(fits) > 1 else {}
    rows = []
    for a in fits:
        for b in fits:
            distance = 0.0 if a == b else frechet_distance(*fits[a], *fits[b], root_a=roots[a])
            rows.append((images.model_id, a, b, sizes[a], sizes[b], distance))
    with db.connect(url) as conn:
        conn.execute("delete from atlas.dataset_frechet where model_id = %s", (images.model_id,))
        with conn.cursor() as cur:
            cur.executemany(
                "insert into atlas.dataset_frechet (model_id, dataset_id_a, dataset_id_b, n_images_a, n_images_b, "
                "frechet_distance) values (%s, %s, %s, %s, %s, %s)", rows,
            )
        conn.commit()
    return len(rows)


def image_blocks(url: str, images: ModelImages) -> np.ndarray:
    """Each image's ICD-10 block (None when unknown), in the order of images.image_ids."""
    with db.connect(url) as conn:
        known = dict(conn.execute(
            "select image_id, icd10_block from atlas.image_metadata "
            "where image_id = any(%s) and icd10_block is not null", (images.image_ids.tolist(),),
        ).fetchall())
    return np.array([known.get(int(i)) for i in images.image_ids], dtype=object)


def build_frechet_by_block(url: str, images: ModelImages, vectors: np.ndarray | None = None, *,
                           min_images: int = DEFAULT_BLOCK_MIN_IMAGES) -> int:
    """Replace the model's per-ICD-block dataset x dataset Fréchet distances; return the rows written.

    Ordered pairs of different datasets that both hold at least min_images (>= 2) images of the block."""
    if min_images < 2:
        raise ValueError("a covariance needs at least 2 images: min_images >= 2")
    if vectors is None:
        vectors = load_vectors(url, images.model_id, images.image_ids)
    blocks = image_blocks(url, images)
    rows = []
    for block in sorted({b for b in blocks if b is not None}):
        in_block = blocks == block
        sizes = {int(d): int((in_block & (images.dataset_ids == d)).sum()) for d in np.unique(images.dataset_ids)}
        fits = {d: gaussian_fit(vectors[in_block & (images.dataset_ids == d)])
                for d, n in sizes.items() if n >= min_images}
        for a in fits:
            for b in fits:
                if a < b:
                    distance = frechet_distance(*fits[a], *fits[b])
                    rows.append((images.model_id, block, a, b, sizes[a], sizes[b], distance))
                    rows.append((images.model_id, block, b, a, sizes[b], sizes[a], distance))
    with db.connect(url) as conn:
        conn.execute("delete from atlas.dataset_frechet_by_block where model_id = %s", (images.model_id,))
        with conn.cursor() as cur:
            cur.executemany(
                "insert into atlas.dataset_frechet_by_block (model_id, icd10_block, dataset_id_a, dataset_id_b, "
                "n_images_a, n_images_b, frechet_distance) values (%s, %s, %s, %s, %s, %s, %s)", rows,
            )
        conn.commit()
    return len(rows)
