"""Neighbours at field scale: kNN engines that fill atlas.knn_edge and atlas.knn_novelty.

Two engines answer one question under one contract, "the k nearest images of
these query images inside this reference set": the SQL engine (pgvector HNSW
with iterative scans, or an exact scan for small sets; the default) and the
exact engine (torch matmul + top-k in tiles). Edges (small k) and per-image
novelty aggregates (large k) are built on that one primitive, in full or
incrementally. torch is imported only inside the exact engine.
"""
from skinmap.knn.run import ENGINES, KnnSummary, compute_neighbours

__all__ = ["ENGINES", "KnnSummary", "compute_neighbours"]
