"""H1 persistent homology with ripser (maxdim 1, as the authors) and one boundary cycle per void.

ripser gives each H1 interval [birth, death) and a representative cocycle
(`do_cocycles=True`). The authors report the cocycle's vertices; a cocycle
is a cut across the loop, not the loop, so SkinMap stores a representative
*cycle* instead: the birth edge (the cocycle edge whose length equals the
birth, the edge that closes the loop) plus the shortest path between its
two ends in the Rips graph just before birth (edges shorter than the birth,
lengths = the distance). That path cannot use the birth edge, so edge + path
is a loop present at birth: the ring of landmarks around the void, the
images a reader can look at. It is one representative of the class, not
necessarily the shortest one.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csgraph, csr_matrix


@dataclass(frozen=True)
class Feature:
    birth: float
    death: float
    cycle: tuple[int, ...]  # positions of the points on the boundary cycle, in order around it
    n_cocycle_edges: int

    @property
    def persistence(self) -> float:
        return self.death - self.birth


def h1_diagram(dist: np.ndarray, do_cocycles: bool = False) -> dict:
    """ripser's answer for the H1 (and H0) diagram of a distance matrix."""
    from ripser import ripser

    return ripser(dist, distance_matrix=True, maxdim=1, do_cocycles=do_cocycles)


def max_h1_persistence(dist: np.ndarray) -> float:
    """The largest finite H1 persistence (0 without H1): the statistic of the null."""
    h1 = h1_diagram(dist)["dgms"][1]
    h1 = h1[np.isfinite(h1[:, 1])] if len(h1) else h1
    return float((h1[:, 1] - h1[:, 0]).max()) if len(h1) else 0.0


def boundary_cycle(dist: np.ndarray, birth: float, cocycle: np.ndarray) -> tuple[int, ...]:
    """The birth edge of the cocycle closed by a shortest path through edges shorter than the birth."""
    edges = np.asarray(cocycle[:, :2], dtype=np.int64)
    lengths = dist[edges[:, 0], edges[:, 1]]
    u, v = (int(p) for p in edges[int(np.argmin(np.abs(lengths - birth)))])
    below = np.where(dist < birth, dist, 0.0)  # csgraph: 0 = no edge
    np.fill_diagonal(below, 0.0)
    below[u, v] = below[v, u] = 0.0
    _, predecessors = csgraph.dijkstra(csr_matrix(below), directed=False, indices=u, return_predecessors=True)
    if predecessors[v] < 0:  # ties at the birth length: allow them, except the birth edge itself
        below = np.where(dist <= birth, np.maximum(dist, 1e-12), 0.0)
        np.fill_diagonal(below, 0.0)
        below[u, v] = below[v, u] = 0.0
        _, predecessors = csgraph.dijkstra(csr_matrix(below), directed=False, indices=u, return_predecessors=True)
        if predecessors[v] < 0:
            return (u, v)
    path = [v]
    while path[-1] != u:
        path.append(int(predecessors[path[-1]]))
    return tuple(path[::-1])


def h1_features(dist: np.ndarray, max_features: int | None = None) -> list[Feature]:
    """The finite H1 intervals, most persistent first (at most max_features), each with its boundary cycle."""
    answer = h1_diagram(dist, do_cocycles=True)
    h1, cocycles = answer["dgms"][1], answer["cocycles"][1]
    if not len(h1):
        return []
    persistence = np.where(np.isfinite(h1[:, 1]), h1[:, 1] - h1[:, 0], -np.inf)
    order = [i for i in np.argsort(-persistence, kind="stable") if np.isfinite(persistence[i]) and persistence[i] > 0]
    features = []
    for i in order[:max_features]:
        birth, death = float(h1[i, 0]), float(h1[i, 1])
        features.append(Feature(birth, death, boundary_cycle(dist, birth, cocycles[i]), len(cocycles[i])))
    return features
