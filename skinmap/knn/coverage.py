"""Precision, recall, density and coverage of a dataset against the rest of the atlas (Naeem et al. 2020).

"Reliable Fidelity and Diversity Metrics for Generative Models" (ICML 2020),
as its reference code `prdc` computes them, with R = the reference images
(the rest of the atlas) and C = the compared images (one dataset, or a
candidate set in `skinmap assess`):

- each image's radius is the distance to its k-th nearest other image of
  its own set (R for R, C for C);
- precision = share of C inside some R image's ball; recall = share of R
  inside some C image's ball; density = mean over C of the number of R balls
  that contain it, divided by k; coverage = share of R images whose nearest
  C image lies inside their own ball.

Cosine distance is used, as everywhere in SkinMap; on unit vectors it is a
monotone function of the Euclidean distance prdc uses, so the four numbers
are the same. Why numpy, not SQL over atlas.knn_edge: the balls of R are
radii inside R without the dataset, which the stored lists (over the whole
atlas, k = 10) do not give once the dataset holds some of an image's
neighbours, and "inside some ball" needs every pair within a radius, not
only the k nearest. Both sets are sampled (at most `max_sample` each, as the
paper's 10k) with a seed, so a run costs three tiled matrix products per
dataset at any atlas size, on the vectors the Fréchet step loaded.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skinmap import db
from skinmap.knn.vectors import ModelImages, load_vectors

DEFAULT_K = 5  # the paper's choice
DEFAULT_MAX_SAMPLE = 10_000
_TILE = 2048


@dataclass(frozen=True)
class Prdc:
    k: int
    n_reference: int
    n_compared: int
    precision: float
    recall: float
    density: float
    coverage: float

    def line(self) -> str:
        return (f"precision {self.precision:.3f}, recall {self.recall:.3f}, density {self.density:.3f}, "
                f"coverage {self.coverage:.3f} (Naeem et al. 2020, k={self.k}, {self.n_compared} vs "
                f"{self.n_reference} atlas images)")


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def kth_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Per row: cosine distance to its k-th nearest other row (x unit vectors)."""
    radii = np.empty(len(x), dtype=np.float64)
    for start in range(0, len(x), _TILE):
        dist = 1.0 - (x[start:start + _TILE] @ x.T).astype(np.float64)
        dist[np.arange(len(dist)), np.arange(start, start + len(dist))] = np.inf  # itself
        radii[start:start + _TILE] = np.partition(dist, k - 1, axis=1)[:, k - 1]
    return radii


def prdc(reference: np.ndarray, compared: np.ndarray, k: int = DEFAULT_K) -> Prdc:
    """The four metrics of `compared` against `reference` (rows are vectors; normalised here)."""
    if len(reference) <= k or len(compared) <= k:
        raise ValueError(f"precision/recall/density/coverage need more than k={k} images on each side "
                         f"({len(reference)} reference, {len(compared)} compared)")
    ref, cmp_ = _unit(reference), _unit(compared)
    ref_radii, cmp_radii = kth_radii(ref, k), kth_radii(cmp_, k)
    balls_holding = np.zeros(len(cmp_), dtype=np.int64)  # per compared image: reference balls containing it
    in_compared_ball = np.zeros(len(ref), dtype=bool)
    nearest_compared = np.full(len(ref), np.inf)
    for start in range(0, len(ref), _TILE):
        dist = 1.0 - (ref[start:start + _TILE] @ cmp_.T).astype(np.float64)  # reference rows x compared
        radii = ref_radii[start:start + _TILE, None]
        balls_holding += (dist < radii).sum(axis=0)
        in_compared_ball[start:start + _TILE] = (dist < cmp_radii[None, :]).any(axis=1)
        nearest_compared[start:start + _TILE] = dist.min(axis=1)
    return Prdc(k, len(ref), len(cmp_),
                precision=float((balls_holding > 0).mean()),
                recall=float(in_compared_ball.mean()),
                density=float(balls_holding.mean() / k),
                coverage=float((nearest_compared < ref_radii).mean()))


def sample_rows(rows: np.ndarray, max_sample: int, rng: np.random.Generator) -> np.ndarray:
    """At most max_sample of the row positions, without replacement, ascending."""
    if len(rows) <= max_sample:
        return rows
    return np.sort(rng.choice(rows, max_sample, replace=False))


def build_dataset_coverage(url: str, images: ModelImages, vectors: np.ndarray | None = None, *,
                           k: int = DEFAULT_K, max_sample: int = DEFAULT_MAX_SAMPLE, seed: int = 42) -> int:
    """Replace the model's rows of atlas.dataset_coverage: each dataset against the rest; return rows written.

    `vectors`: the model's vectors in the order of images.image_ids, when the caller has them already.
    A dataset with k or fewer images, or whose rest has k or fewer, gets no row (no k-th neighbour)."""
    if vectors is None:
        vectors = load_vectors(url, images.model_id, images.image_ids)
    rng = np.random.default_rng(seed)
    positions = np.arange(len(images.image_ids))
    rows = []
    for dataset_id in np.unique(images.dataset_ids):
        inside = images.dataset_ids == dataset_id
        if inside.sum() <= k or (~inside).sum() <= k:
            continue
        compared = sample_rows(positions[inside], max_sample, rng)
        reference = sample_rows(positions[~inside], max_sample, rng)
        result = prdc(vectors[reference], vectors[compared], k)
        rows.append((images.model_id, int(dataset_id), k, int(inside.sum()), int((~inside).sum()),
                     len(compared), len(reference), result.precision, result.recall, result.density,
                     result.coverage, seed))
    with db.connect(url) as conn:
        conn.execute("delete from atlas.dataset_coverage where model_id = %s", (images.model_id,))
        with conn.cursor() as cur:
            cur.executemany(
                "insert into atlas.dataset_coverage (model_id, dataset_id, k, n_dataset, n_rest, n_dataset_sampled, "
                "n_rest_sampled, precision, recall, density, coverage, seed) "
                "values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", rows,
            )
        conn.commit()
    return len(rows)
