"""Novelty of a candidate set of images against the whole atlas, without adding it.

A team deciding whether to collect, buy or publish a dataset asks what it
would add: Q = the candidate vectors, R = every usable image of the model.
novelty(q) = mean cosine distance to the k nearest images of R. The null
baseline draws min(|Q|, max_sample) atlas images with replacement and
averages their novelty inside the atlas (itself left out): those scores are
already stored by the kNN step at the cutoff after the newest release year.

Beside novelty: precision, recall, density and coverage of the candidates
against the atlas (skinmap.knn.coverage, Naeem et al. 2020): does the set
fall where the atlas is (precision, density), and how much of the atlas
does it reach (recall, coverage)?
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skinmap import db
from skinmap.knn.coverage import DEFAULT_K, DEFAULT_MAX_SAMPLE, Prdc, prdc, sample_rows
from skinmap.knn.vectors import load_vectors, model_images


@dataclass(frozen=True)
class Assessment:
    model_name: str
    n_candidates: int
    n_atlas: int
    k: int
    raw_novelty: float
    baseline_mean: float | None
    baseline_p025: float | None
    baseline_p975: float | None
    per_image: np.ndarray
    coverage: Prdc | None = None

    @property
    def novelty_vs_baseline(self) -> float | None:
        return self.raw_novelty / self.baseline_mean if self.baseline_mean else None

    def lines(self) -> list[str]:
        ratio = self.novelty_vs_baseline
        band = ("no baseline (run `skinmap knn` first)" if self.baseline_mean is None else
                f"baseline {self.baseline_mean:.4f} [{self.baseline_p025:.4f}, {self.baseline_p975:.4f}]")
        return [
            f"{self.n_candidates} candidate images vs {self.n_atlas} atlas images ({self.model_name}, k={self.k})",
            f"raw novelty {self.raw_novelty:.4f}; {band}",
            "novelty_vs_baseline " + ("n/a" if ratio is None else f"{ratio:.3f}")
            + (" (above 1: adds more than a draw from the atlas)" if ratio is not None else ""),
            "coverage: " + (self.coverage.line() if self.coverage else "n/a (too few images for k)"),
        ]


def candidate_novelty(atlas: np.ndarray, candidates: np.ndarray, k: int, *, tile: int = 4096) -> np.ndarray:
    """Per candidate: mean cosine distance to its k nearest atlas vectors (exact, in tiles)."""
    atlas = atlas / np.linalg.norm(atlas, axis=1, keepdims=True)
    candidates = candidates / np.linalg.norm(candidates, axis=1, keepdims=True)
    k = min(k, len(atlas))
    best = np.full((len(candidates), k), np.inf, dtype=np.float64)
    for start in range(0, len(atlas), tile):
        dist = 1.0 - np.clip(candidates @ atlas[start:start + tile].T, -1, 1).astype(np.float64)
        merged = np.concatenate([best, dist], axis=1)
        best = np.partition(merged, k - 1, axis=1)[:, :k]
    return best.mean(axis=1)


def candidate_coverage(atlas: np.ndarray, candidates: np.ndarray, *, k: int = DEFAULT_K,
                       max_sample: int = DEFAULT_MAX_SAMPLE, seed: int = 42) -> Prdc | None:
    """PRDC of the candidates against the atlas, both sampled to max_sample; None when a side has <= k."""
    if len(atlas) <= k or len(candidates) <= k:
        return None
    rng = np.random.default_rng(seed)
    reference = sample_rows(np.arange(len(atlas)), max_sample, rng)
    compared = sample_rows(np.arange(len(candidates)), max_sample, rng)
    return prdc(atlas[reference], candidates[compared], k)


def assess_vectors(url: str, model_name: str, candidates: np.ndarray, *, k: int = 100, draws: int = 100,
                   max_sample: int = 10_000, seed: int = 42, coverage_k: int = DEFAULT_K) -> Assessment:
    """The novelty and coverage of candidate vectors (L2-normalised, the model's dimension) against the atlas."""
    with db.connect(url) as conn:
        row = conn.execute("select model_id from atlas.embedding_model where model_name = %s",
                           (model_name,)).fetchone()
        if row is None:
            raise db.DatabaseError(f"model {model_name!r} has no vectors in this atlas: embed the atlas first")
        model_id = row[0]
        stored = np.array([r[0] for r in conn.execute(
            "select novelty from atlas.knn_novelty where model_id = %s and scope = 'earlier_years' "
            "and novelty is not null and cutoff_year = (select max(cutoff_year) from atlas.knn_novelty "
            "where model_id = %s and scope = 'earlier_years') order by image_id", (model_id, model_id),
        )], dtype=np.float64)
        stored_k = conn.execute("select max(k) from atlas.knn_novelty where model_id = %s", (model_id,)).fetchone()[0]
    images = model_images(url, model_id)
    atlas = load_vectors(url, model_id, images.image_ids)
    candidates = np.asarray(candidates, dtype=np.float32)
    per_image = candidate_novelty(atlas, candidates, k)
    coverage = candidate_coverage(atlas, candidates, k=coverage_k, max_sample=max_sample, seed=seed)
    baseline = (None, None, None)
    if len(stored) and stored_k == k:
        rng = np.random.default_rng(seed)
        n_sample = min(len(candidates), max_sample)
        means = np.array([stored[rng.integers(0, len(stored), n_sample)].mean() for _ in range(draws)])
        baseline = (float(means.mean()), float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5)))
    return Assessment(model_name, len(candidates), len(images.image_ids), min(k, len(atlas)),
                      float(per_image.mean()), *baseline, per_image, coverage)
