"""Planted manifolds for checking the method, after the authors' `hole_detection/synthetic.py`.

Their rings and hypersphere shells live in the first coordinates of R^d.
Here each planted shape is rotated into a random 2-plane of R^d and every
coordinate gets Gaussian noise, so no axis gives the loop away. A "shell"
is the authors' `sample_hypersphere_shell` with d = 2 (an annulus, a thick
ring): H1 sees loops; the hollow of a 3-d shell is an H2 class, which
maxdim 1 (theirs and ours) does not compute.
"""
from __future__ import annotations

import numpy as np


def _into(points_2d: np.ndarray, dim: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    basis, _ = np.linalg.qr(rng.standard_normal((dim, 2)))
    return points_2d @ basis.T + noise * rng.standard_normal((len(points_2d), dim))


def ring(n: int, dim: int, *, radius: float = 3.0, noise: float = 0.15, seed: int = 0) -> np.ndarray:
    """A noisy circle (the authors' make_ring: radius 3, noise 0.15) in a random plane of R^dim."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    return _into(radius * np.c_[np.cos(theta), np.sin(theta)], dim, noise, rng)


def shell(n: int, dim: int, *, r_in: float = 0.8, r_out: float = 1.6, noise: float = 0.05,
          seed: int = 0) -> np.ndarray:
    """Uniform points of the annulus r_in <= r <= r_out (the authors' shell radii) in a random plane of R^dim."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.0, 2.0 * np.pi, n)
    r = np.sqrt(r_in ** 2 + rng.random(n) * (r_out ** 2 - r_in ** 2))
    return _into(r[:, None] * np.c_[np.cos(theta), np.sin(theta)], dim, noise, rng)


def blob(n: int, dim: int, *, seed: int = 0) -> np.ndarray:
    """A filled standard Gaussian: no void."""
    return np.random.default_rng(seed).standard_normal((n, dim))
