"""Structural voids (skinmap/voids/): planted rings and shells in 64-d are found, a filled blob is not.

The method is the authors' (kNN graph k = 30, effective resistance with the
von Luxburg correction, ripser H1); the planted shapes follow their
synthetic checks, rotated into a random plane of R^64 with noise on every
coordinate. The end-to-end test plants a ring of images in the atlas,
runs `skinmap knn`, `skinmap voids` and the dbt build of the new views, and
reads the kpi view.
"""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from skinmap import db
from skinmap.cli import cli
from skinmap.voids import synthetic
from skinmap.voids.detect import detect_voids
from skinmap.voids.graph import knn_from_vectors, landmark_graph, neighbours_from_edges
from skinmap.voids.landmarks import draw_landmarks
from skinmap.voids.resistance import effective_resistance

N = 200  # points per planted shape: every one a landmark
DIM = 64


def _around(points: np.ndarray, cycle: tuple[int, ...]) -> float:
    """The largest angular gap (radians) between the cycle's points, seen in the shape's own plane (PCA)."""
    centred = points - points.mean(axis=0)
    plane = np.linalg.svd(centred, full_matrices=False)[2][:2]
    xy = centred[list(cycle)] @ plane.T
    angles = np.sort(np.arctan2(xy[:, 1], xy[:, 0]))
    return float(np.max(np.diff(np.r_[angles, angles[0] + 2 * np.pi])))


def test_resistance_of_a_path_and_a_triangle_by_hand():
    path = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=float)
    r = effective_resistance(path, corrected=False)
    assert r[0, 1] == pytest.approx(1.0) and r[0, 2] == pytest.approx(2.0)
    triangle = 1.0 - np.eye(3)  # two paths in parallel: 1 and 2 ohms -> 2/3
    r = effective_resistance(triangle, corrected=False)
    assert r[0, 1] == pytest.approx(2 / 3)
    # von Luxburg: subtract 1/d_i + 1/d_j - 2 w_ij / (d_i d_j) = 1/2 + 1/2 - 2/4
    assert effective_resistance(triangle, corrected=True)[0, 1] == pytest.approx(2 / 3 - 0.5)
    two_parts = np.zeros((4, 4))
    two_parts[0, 1] = two_parts[1, 0] = two_parts[2, 3] = two_parts[3, 2] = 1.0
    r = effective_resistance(two_parts, corrected=False)
    assert r[0, 2] == pytest.approx(2.0) and r[0, 1] == pytest.approx(1.0)  # across parts: twice the largest


def test_stored_edges_give_the_same_landmark_graph_as_the_vectors():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((120, 16))
    ids = np.arange(1000, 1120, dtype=np.int64)
    full = knn_from_vectors(x, 15)  # every point's 15 nearest: what atlas.knn_edge stores with --k 15
    image, rank = np.repeat(ids, 15), np.tile(np.arange(1, 16), 120)
    landmarks = draw_landmarks(120, 120, seed=0)
    covered = neighbours_from_edges(ids[landmarks], image, rank, ids[full.ravel()], k=10)
    assert len(covered) == 120
    adj_stored, n_stored = landmark_graph(x, 10, stored=covered)
    adj_vectors, _ = landmark_graph(x, 10)
    assert n_stored == 120 and np.array_equal(adj_stored, adj_vectors)
    few = draw_landmarks(120, 40, seed=1)  # a sample: few stored neighbours are landmarks, so few are covered
    covered = neighbours_from_edges(ids[few], image, rank, ids[full.ravel()], k=10)
    assert len(covered) < 40
    for row, hits in covered.items():
        assert np.array_equal(hits, knn_from_vectors(x[few], 10, rows=np.array([row]))[0])


@pytest.mark.parametrize("shape", ["ring", "shell"])
def test_a_planted_ring_or_shell_in_64_dimensions_is_a_significant_void(shape):
    points = getattr(synthetic, shape)(N, DIM, seed=5)
    result = detect_voids(points, metric="euclidean", seed=1)
    significant = result.significant()
    assert len(significant) == 1, [(v.persistence, v.p_value) for v in result.voids[:3]]
    void = significant[0]
    assert void.p_value == pytest.approx(1 / 20) and void.persistence > 3 * result.null_max.max()
    assert len(void.feature.cycle) >= 8
    assert _around(points, void.feature.cycle) < np.pi / 2  # the boundary goes around the hole


def test_two_planted_rings_are_two_significant_voids():
    big = synthetic.ring(N // 2, DIM, radius=3.0, noise=0.1, seed=6)
    small = synthetic.ring(N // 2, DIM, radius=1.5, noise=0.1, seed=7)
    small[:, 0] += 8.0
    result = detect_voids(np.vstack([big, small]), metric="euclidean", seed=2)
    assert len(result.significant()) == 2
    sides = [set(np.array(v.feature.cycle) < N // 2) for v in result.significant()]
    assert sorted(map(tuple, sides)) == [(False,), (True,)]  # one cycle on each ring


def test_a_filled_gaussian_blob_has_no_void_above_the_null():
    result = detect_voids(synthetic.blob(N, DIM, seed=8), metric="euclidean", seed=3)
    assert result.significant() == []
    assert all(v.p_value > 0.05 for v in result.voids)


def test_the_result_is_deterministic_for_a_seed():
    points = synthetic.ring(400, DIM, seed=9)
    landmarks = draw_landmarks(400, 200, seed=3)
    assert np.array_equal(landmarks, draw_landmarks(400, 200, seed=3))
    assert not np.array_equal(landmarks, draw_landmarks(400, 200, seed=4))
    first = detect_voids(points[landmarks], metric="euclidean", seed=3, n_null=5)
    again = detect_voids(points[landmarks], metric="euclidean", seed=3, n_null=5)
    assert first.voids == again.voids and np.array_equal(first.null_max, again.null_max)


def _plant_ring(url: str) -> np.ndarray:
    """A ring of 160 unit vectors on the sphere (around a centre direction), split over two datasets."""
    from skinmap.knn.planted import add_dataset

    rng = np.random.default_rng(12)
    centre = rng.standard_normal(DIM)
    centre /= np.linalg.norm(centre)
    loop = synthetic.ring(160, DIM, radius=0.6, noise=0.02, seed=12)
    loop -= np.outer(loop @ centre, centre)  # the ring's plane orthogonal to the centre
    vectors = (centre + loop).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    order = np.argsort(np.arctan2(*(loop @ np.linalg.svd(loop, full_matrices=False)[2][:2].T).T))
    vectors = vectors[order]  # by angle: each dataset holds one half of the ring
    _, first = add_dataset(url, "ring-east", 2020, vectors[:80], seed=0, index=False)
    _, second = add_dataset(url, "ring-west", 2021, vectors[80:], seed=1, index=False)
    return np.r_[first, second]


def test_voids_end_to_end_through_the_atlas_and_the_kpi_views(atlas_db):
    from skinmap.dbt_runner import build
    from skinmap.knn.run import compute_neighbours

    image_ids = _plant_ring(atlas_db)
    compute_neighbours(atlas_db, engine="sql", k=30, novelty_k=10, frechet=False)
    runner = CliRunner()
    args = ["--database-url", atlas_db, "voids", "--model", "planted", "--seed", "5"]
    done = runner.invoke(cli, args)
    assert done.exit_code == 0, done.output
    assert "1 significant" in done.output
    with db.connect(atlas_db) as conn:
        first = conn.execute("select void_rank, birth, death, p_value from atlas.structural_void "
                             "order by void_rank").fetchall()
        boundary = conn.execute("select image_id from atlas.void_boundary_image order by void_rank, position"
                                ).fetchall()
    assert runner.invoke(cli, args).exit_code == 0  # a rerun replaces the run, with the same rows
    with db.connect(atlas_db) as conn:
        assert conn.execute("select count(*) from atlas.void_run").fetchone()[0] == 1
        assert conn.execute("select void_rank, birth, death, p_value from atlas.structural_void "
                            "order by void_rank").fetchall() == first
    assert {r[0] for r in boundary} <= set(image_ids.tolist())
    # the new nodes, the staging views they read, and only the tests whose parents are all selected
    build(atlas_db, select="+kpi_structural_voids +kpi_structural_void_boundary_images",
          command="build --indirect-selection cautious", quiet=True)
    with db.connect(atlas_db) as conn:
        rows = conn.execute(
            "select void_rank, is_significant, p_value, n_landmarks, n_landmarks_from_stored_edges, n_datasets, "
            "datasets, n_boundary_images, icd10_blocks, fitzpatrick_groups from kpi.kpi_structural_voids_v1 "
            "where model_name = 'planted' order by void_rank").fetchall()
        images = conn.execute(
            "select dataset_slug, fitzpatrick_group from kpi.kpi_structural_void_boundary_images_v1 "
            "where void_rank = 1 order by boundary_position").fetchall()
    top = rows[0]
    assert top[1] is True and [r for r in rows if r[1]] == [top]
    assert top[3] == 160 and top[4] == 160  # every image a landmark, every list from the stored edges
    assert top[5] == 2 and "ring-east" in top[6] and "ring-west" in top[6]  # the loop crosses both datasets
    assert top[7] == len(images) >= 8 and "I-II" in top[9] and top[8]


def test_voids_of_a_model_without_vectors_says_what_to_do(atlas_db):
    done = CliRunner().invoke(cli, ["--database-url", atlas_db, "voids", "--model", "nope"])
    assert done.exit_code != 0 and "skinmap embed" in done.output
