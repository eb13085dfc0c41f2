"""Domain shift: Fréchet distance between the Gaussian fits of two datasets' embeddings (as in FID).

d^2 = |mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)). The trace of the
matrix square root is the sum of the square roots of the eigenvalues of
S_a^(1/2) S_b S_a^(1/2) (symmetric, so numpy's eigh suffices; no scipy).
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


def build_frechet(url: str, images: ModelImages) -> int:
    """Replace the model's dataset x dataset Fréchet distances; return the pairs written."""
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
