"""Planted duplicate clusters (inside and across datasets) are recovered by the duplicate KPIs."""
from __future__ import annotations

import numpy as np
import pytest

from skinmap.db import connect
from skinmap.dbt_runner import build
from skinmap.knn import compute_neighbours, planted


def _copy(vec: np.ndarray, rng, eps: float = 0.02) -> np.ndarray:
    out = vec + eps * rng.standard_normal(vec.shape) / np.sqrt(len(vec))
    return (out / np.linalg.norm(out)).astype(np.float32)


@pytest.fixture(scope="module")
def duplicate_atlas(server_url):
    from skinmap import db, migrate

    name = "t_duplicates_planted"
    url = db.create_database(server_url, name, drop_first=True)
    migrate.upgrade(url)
    rng = np.random.default_rng(1)
    a = planted.clustered_vectors(300, 64, 30, 0.8, rng)
    for copy, source in [(1, 0), (2, 0), (11, 10)]:  # a cluster of 3 and a pair inside dataset a
        a[copy] = _copy(a[source], rng)
    _, ids_a = planted.add_dataset(url, "a", 2018, a, seed=0, copy_rows={1: 0, 2: 0, 11: 10})
    b = planted.clustered_vectors(200, 64, 30, 0.8, rng)
    crossing = {0: 20, 1: 21, 2: 0}  # b's rows 0-1 copy a's 20-21; row 2 joins a's cluster of 3
    for row, source in crossing.items():
        b[row] = _copy(a[source], rng)
    _, ids_b = planted.add_dataset(url, "b", 2020, b, seed=1,
                                   copy_images={r: int(ids_a[s]) for r, s in crossing.items()})
    compute_neighbours(url, engine="sql", k=10)
    build(url, quiet=True)
    planted_clusters = {
        frozenset({ids_a[0], ids_a[1], ids_a[2], ids_b[2]}),
        frozenset({ids_a[10], ids_a[11]}),
        frozenset({ids_a[20], ids_b[0]}),
        frozenset({ids_a[21], ids_b[1]}),
    }
    yield url, {frozenset(int(i) for i in c) for c in planted_clusters}, ids_a
    db.drop_database(server_url, name)


def test_planted_clusters_recovered(duplicate_atlas):
    url, clusters, ids_a = duplicate_atlas
    with connect(url) as conn:
        rows = conn.execute(
            "select image_ids, representative_image_id, n_datasets from kpi.kpi_duplicate_clusters_v1").fetchall()
    assert {frozenset(r[0]) for r in rows} == clusters
    big = next(r for r in rows if len(r[0]) == 4)
    with connect(url) as conn:
        years = dict(conn.execute("select image_id, release_year from atlas.image where image_id = any(%s)",
                                  (list(big[0]),)).fetchall())
    assert big[1] == min(big[0], key=lambda i: (years[i], i)) and big[2] == 2  # earliest release, then smallest id


def test_redundancy_and_overlap(duplicate_atlas):
    url, _, _ = duplicate_atlas
    with connect(url) as conn:
        redundancy = {r[0]: r[1:] for r in conn.execute(
            "select dataset_slug, n_images, n_duplicated_within, n_in_earlier_datasets, n_unique_images "
            "from kpi.kpi_dataset_redundancy_v1")}
        overlap = {(r[0], r[1]): r[2:] for r in conn.execute(
            "select dataset_slug_a, dataset_slug_b, n_with_duplicate_in_b, share_with_duplicate_in_b "
            "from kpi.kpi_dataset_overlap_v1")}
    assert redundancy["a"] == (300, 5, 0, 300 - 3)  # clusters {0,1,2,+b}, {10,11}: 5 within; 2 non-representatives
    assert redundancy["b"] == (200, 0, 3, 200 - 3)  # all three copies are already in a
    assert overlap[("a", "b")][0] == 5  # a's 0, 1, 2 (via b's row 2), 20, 21
    assert overlap[("b", "a")] == (3, pytest.approx(3 / 200))
    assert overlap[("a", "a")][0] == 5


def test_frechet_distances_symmetric_with_zero_diagonal(duplicate_atlas):
    url, _, _ = duplicate_atlas
    with connect(url) as conn:
        d = {(r[0], r[1]): r[2] for r in conn.execute(
            "select dataset_slug_a, dataset_slug_b, frechet_distance from kpi.kpi_dataset_frechet_distances_v1")}
    assert d[("a", "a")] == 0 and d[("b", "b")] == 0
    assert d[("a", "b")] == pytest.approx(d[("b", "a")], rel=1e-6) and d[("a", "b")] > 0
