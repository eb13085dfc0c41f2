"""Vectors in, voids out: the whole method on one matrix of landmark vectors (no database)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from skinmap.voids import defaults
from skinmap.voids.graph import landmark_graph
from skinmap.voids.homology import Feature, h1_features, max_h1_persistence
from skinmap.voids.null import gaussian_like, p_value
from skinmap.voids.resistance import effective_resistance

DEFAULT_K, DEFAULT_NULL_DRAWS, DEFAULT_ALPHA, DEFAULT_MAX_VOIDS = (defaults.K, defaults.NULL_DRAWS, defaults.ALPHA,
                                                                  defaults.MAX_VOIDS)


@dataclass(frozen=True)
class Void:
    feature: Feature
    p_value: float

    @property
    def persistence(self) -> float:
        return self.feature.persistence


@dataclass
class VoidResult:
    voids: list[Void]
    null_max: np.ndarray
    n_from_stored_edges: int = 0  # landmarks whose kNN lists came from atlas.knn_edge
    alpha: float = DEFAULT_ALPHA
    seconds: dict[str, float] = field(default_factory=dict)  # 'voids' (graph, resistance, H1), 'null'

    def significant(self) -> list[Void]:
        return [v for v in self.voids if v.p_value <= self.alpha]


def resistance_distance(x: np.ndarray, k: int, metric: str, corrected: bool,
                        stored: dict[int, np.ndarray] | None = None) -> tuple[np.ndarray, int]:
    adj, n_stored = landmark_graph(x, k, metric, stored)
    return effective_resistance(adj, corrected), n_stored


def detect_voids(x: np.ndarray, *, k: int = DEFAULT_K, metric: str = "cosine", corrected: bool = True,
                 n_null: int = DEFAULT_NULL_DRAWS, seed: int = 0, max_voids: int | None = DEFAULT_MAX_VOIDS,
                 alpha: float = DEFAULT_ALPHA, stored: dict[int, np.ndarray] | None = None) -> VoidResult:
    """H1 voids of the points x (landmarks) with p-values against n_null seeded Gaussian draws."""
    if n_null < 1:
        raise ValueError("n_null must be at least 1: the p-value needs null draws")
    started = time.perf_counter()
    dist, n_stored = resistance_distance(x, k, metric, corrected, stored)
    features = h1_features(dist, max_voids)
    observed = time.perf_counter()
    rng = np.random.default_rng(seed)
    null_max = np.array([max_h1_persistence(resistance_distance(gaussian_like(x, rng), k, metric, corrected)[0])
                         for _ in range(n_null)])
    voids = [Void(f, p_value(f.persistence, null_max)) for f in features]
    return VoidResult(voids, null_max, n_stored, alpha=alpha,
                      seconds={"voids": observed - started, "null": time.perf_counter() - observed})
