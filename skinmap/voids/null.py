"""Significance of a void against a Gaussian null: the authors' code reports persistence without one.

The null keeps everything but the shape: the same number of points, drawn
from a Gaussian with the landmarks' mean and covariance (a filled blob:
no void by construction), through the same kNN graph, resistance and
ripser. Each seeded draw gives its largest H1 persistence; a void's
p-value is (1 + draws at least as persistent) / (1 + draws), the Monte Carlo
p-value of the maximum, so it holds for all of a run's voids at once. With
19 draws the smallest p-value is 0.05.
"""
from __future__ import annotations

import numpy as np


def gaussian_like(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """len(x) points from the Gaussian fitted to x (mean, sample covariance), without forming the d x d matrix:
    mean + z @ (x - mean) / sqrt(m - 1), z standard normal, has exactly that covariance."""
    x = np.asarray(x, dtype=np.float64)
    centred = x - x.mean(axis=0)
    z = rng.standard_normal((len(x), len(x)))
    return x.mean(axis=0) + z @ centred / np.sqrt(max(1, len(x) - 1))


def p_value(persistence: float, null_max: np.ndarray) -> float:
    null_max = np.asarray(null_max, dtype=np.float64)
    return float((1 + np.sum(null_max >= persistence)) / (1 + len(null_max)))
