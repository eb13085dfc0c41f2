"""The one primitive both engines implement: a growable reference set that answers kNN queries."""
from __future__ import annotations

from typing import Protocol

import numpy as np


class ReferenceSet(Protocol):
    """Images of one model that queries are searched against; grows with add()."""

    def add(self, image_ids: np.ndarray) -> None:
        """Put these images (already embedded by the model) into the set."""

    def search(self, query_ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest members of each query: (ids, cosine distances), shape (n, k).

        Rows are sorted by (distance, id); missing places are id -1 and
        distance NaN. A query that is itself a member finds itself.
        """

    def close(self) -> None:
        """Release whatever the set holds (scratch tables, tensors)."""


class Engine(Protocol):
    name: str

    def reference(self, model_id: int) -> ReferenceSet:
        """A new, empty reference set for one model."""


def without_self(query_ids: np.ndarray, ids: np.ndarray, dists: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Drop each query's own id from its row (searched with k + 1) and keep the first k places."""
    is_self = ids == query_ids[:, None]
    order = np.argsort(is_self, axis=1, kind="stable")  # self moves to the end, others keep their order
    ids = np.take_along_axis(ids, order, axis=1)[:, :k]
    dists = np.take_along_axis(dists, order, axis=1)[:, :k]
    return ids, dists


def sorted_rows(ids: np.ndarray, dists: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort every row by (distance, id), missing places (NaN) last: the ties rule of both engines."""
    key_d = np.where(np.isnan(dists), np.inf, dists)
    # rows already in strictly rising distance (top-k output, no ties) keep their order: sorting 1.1M rows of
    # 100 places costs seconds, and most rows of a top-k are such rows
    unsorted = np.flatnonzero(~(key_d[:, 1:] > key_d[:, :-1]).all(axis=1))
    ids, dists = ids.copy(), dists.copy()
    if len(unsorted):
        key_i = np.where(ids[unsorted] < 0, np.iinfo(np.int64).max, ids[unsorted])
        order = np.lexsort((key_i, key_d[unsorted]), axis=1)
        ids[unsorted] = np.take_along_axis(ids[unsorted], order, axis=1)
        dists[unsorted] = np.take_along_axis(dists[unsorted], order, axis=1)
    return ids, dists


def merge_rows(ids_a: np.ndarray, d_a: np.ndarray, ids_b: np.ndarray, d_b: np.ndarray,
               k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise union of two neighbour lists, sorted by (distance, id), first k places kept.

    Both sides must hold different images (old stored lists and candidates
    among new images), so the union is the top-k of the larger reference.
    """
    ids, dists = sorted_rows(np.concatenate([ids_a, ids_b], axis=1), np.concatenate([d_a, d_b], axis=1))
    return ids[:, :k], dists[:, :k]
