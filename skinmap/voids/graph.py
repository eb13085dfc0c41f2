"""The landmarks' kNN graph: from the atlas's stored edges where they suffice, else from the vectors.

The authors build the graph among the landmarks from their vectors
(sklearn NearestNeighbors, cosine in their CLI). A landmark's stored list
(atlas.knn_edge: its K nearest images of all images) contains its k nearest
*landmarks* exactly when at least k of its K stored neighbours are
landmarks: the landmarks among the K nearest images are the nearest
landmarks. Such a landmark takes its neighbours from the stored edges; any
other (the usual case when landmarks are a sample: a 1,000-of-1.1M landmark
rarely has another landmark among its 10 stored neighbours) gets them from
an exact numpy search over the landmark vectors. Both give the same lists
when the stored edges are exact (`--engine exact`, or sql below 2,000
images); an approximate engine's lists are taken as stored. The stored
edges save the search where the atlas is small enough that every image is a
landmark and `skinmap knn --k` was at least k.
"""
from __future__ import annotations

import numpy as np


def knn_from_vectors(x: np.ndarray, k: int, metric: str = "cosine", rows: np.ndarray | None = None) -> np.ndarray:
    """(len(rows), k) positions of each row's k nearest other points of x, nearest first (exact)."""
    if metric not in ("cosine", "euclidean"):
        raise ValueError(f"metric {metric!r}: cosine or euclidean")
    x = np.asarray(x, dtype=np.float64)
    rows = np.arange(len(x)) if rows is None else np.asarray(rows)
    if metric == "cosine":
        unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        dist = 1.0 - unit[rows] @ unit.T
    else:
        sq = (x * x).sum(axis=1)
        dist = sq[rows, None] + sq[None, :] - 2.0 * x[rows] @ x.T
    dist[np.arange(len(rows)), rows] = np.inf
    part = np.argpartition(dist, k - 1, axis=1)[:, :k]
    order = np.argsort(np.take_along_axis(dist, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def neighbours_from_edges(landmark_ids: np.ndarray, edge_image: np.ndarray, edge_rank: np.ndarray,
                          edge_neighbour: np.ndarray, k: int) -> dict[int, np.ndarray]:
    """{landmark position: its k nearest landmarks' positions} for the landmarks the stored edges cover.

    `landmark_ids` ascending; the edges are atlas.knn_edge rows (any order;
    rows of other images are ignored). A landmark is covered when at least k
    of its stored neighbours are landmarks.
    """
    landmark_ids = np.asarray(landmark_ids, dtype=np.int64)
    edge_image, edge_rank, edge_neighbour = (np.asarray(a, dtype=np.int64)
                                             for a in (edge_image, edge_rank, edge_neighbour))
    mine = _is_in(landmark_ids, edge_image)
    edge_image, edge_rank, edge_neighbour = edge_image[mine], edge_rank[mine], edge_neighbour[mine]
    order = np.lexsort((edge_rank, edge_image))
    image, neighbour = edge_image[order], edge_neighbour[order]
    pos = np.minimum(np.searchsorted(landmark_ids, neighbour), len(landmark_ids) - 1)
    is_landmark = landmark_ids[pos] == neighbour
    covered: dict[int, np.ndarray] = {}
    starts = np.flatnonzero(np.r_[True, image[1:] != image[:-1]]) if len(image) else np.array([], dtype=int)
    for start, end in zip(starts, np.r_[starts[1:], len(image)]):
        hits = pos[start:end][is_landmark[start:end]]
        if len(hits) >= k:
            covered[int(np.searchsorted(landmark_ids, image[start]))] = hits[:k]
    return covered


def _is_in(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    pos = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
    return sorted_ids[pos] == ids


def adjacency(neighbours: np.ndarray) -> np.ndarray:
    """The symmetric 0/1 adjacency of kNN lists (an edge when either lists the other), as the authors'."""
    m, k = neighbours.shape
    adj = np.zeros((m, m), dtype=np.float64)
    adj[np.repeat(np.arange(m), k), neighbours.ravel()] = 1.0
    np.fill_diagonal(adj, 0.0)
    return np.maximum(adj, adj.T)


def landmark_graph(x: np.ndarray, k: int, metric: str = "cosine",
                   stored: dict[int, np.ndarray] | None = None) -> tuple[np.ndarray, int]:
    """(adjacency, how many landmarks took their lists from the stored edges) of the landmarks x."""
    m = len(x)
    if not 1 <= k < m:
        raise ValueError(f"k = {k} neighbours among {m} landmarks: k must be at least 1 and below the landmarks")
    stored = stored or {}
    lists = np.zeros((m, k), dtype=np.int64)
    for row, hits in stored.items():
        lists[row] = hits
    missing = np.array([row for row in range(m) if row not in stored], dtype=np.int64)
    if len(missing):
        for chunk in np.array_split(missing, max(1, len(missing) // 2048)):
            lists[chunk] = knn_from_vectors(x, k, metric, rows=chunk)
    return adjacency(lists), len(stored)
