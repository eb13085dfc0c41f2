"""Seeded random landmarks: the authors' default (`landmark_method='random'`), so H1 runs on m points, not n."""
from __future__ import annotations

import numpy as np


def draw_landmarks(n_points: int, n_landmarks: int, seed: int) -> np.ndarray:
    """Positions (ascending) of min(n_landmarks, n_points) points drawn without replacement.

    The authors seed with 0 always; here the seed is an argument, stored with
    the run, so a run can be repeated exactly and its stability checked.
    """
    if n_landmarks < 3:
        raise ValueError(f"{n_landmarks} landmarks: at least 3 are needed for a loop")
    if n_landmarks >= n_points:
        return np.arange(n_points)
    return np.sort(np.random.default_rng(seed).choice(n_points, size=n_landmarks, replace=False))
