"""Novelty from the SQL views equals an independent numpy computation of DESIGN.md's definition."""
from __future__ import annotations

import numpy as np
import pytest

from skinmap.db import connect
from skinmap.dbt_runner import build
from skinmap.knn import compute_neighbours, planted
from skinmap.knn.assess import assess_vectors
from skinmap.knn.vectors import as_array

K = 100  # the dbt default novelty_k


@pytest.fixture(scope="module")
def novelty_atlas(server_url):
    from skinmap import db, migrate

    name = "t_novelty_vs_numpy"
    url = db.create_database(server_url, name, drop_first=True)
    migrate.upgrade(url)
    rng = np.random.default_rng(3)
    for j, (n, year) in enumerate([(250, 2015), (200, 2017), (150, 2018), (120, 2018)]):
        planted.add_dataset(url, f"n{j}", year, planted.clustered_vectors(n, 48, 25, 0.8, rng), seed=j)
    compute_neighbours(url, engine="sql", k=10, novelty_k=K)
    build(url, quiet=True)
    with connect(url) as conn:
        rows = conn.execute(
            "select e.image_id, i.release_year, d.slug, d.release_year, i.modality, e.vec from atlas.embedding e "
            "join atlas.image i using (image_id) join atlas.dataset d using (dataset_id) order by e.image_id"
        ).fetchall()
    vectors = np.array([as_array(r[5]).astype(np.float64) for r in rows])
    meta = {
        "year": np.array([r[1] for r in rows]),
        "slug": np.array([r[2] for r in rows]),
        "dataset_year": np.array([r[3] for r in rows]),
        "modality": np.array([r[4] for r in rows]),
    }
    yield url, vectors, meta
    db.drop_database(server_url, name)


def _novelty(vectors: np.ndarray, query: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Mean cosine distance of each query row to its K nearest reference rows, itself excluded."""
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    dist = 1.0 - unit[query] @ unit[reference].T
    dist[query[:, None] == reference[None, :]] = np.inf
    nearest = np.sort(dist, axis=1)[:, :K]
    return np.array([row[np.isfinite(row)].mean() for row in nearest])  # fewer than K: all there are


def test_novelty_by_year_equals_numpy(novelty_atlas):
    url, vectors, meta = novelty_atlas
    idx = np.arange(len(vectors))
    with connect(url) as conn:
        rows = conn.execute("select release_year, raw_novelty from kpi.kpi_novelty_by_year_v1").fetchall()
    first = min(meta["year"])
    assert len(rows) == len(set(meta["year"]))
    for year, raw in rows:
        if year == first:
            assert raw is None
            continue
        want = _novelty(vectors, idx[meta["year"] == year], idx[meta["year"] < year]).mean()
        assert raw == pytest.approx(want, abs=1e-6), year


def test_novelty_by_dataset_and_modality_equal_numpy(novelty_atlas):
    url, vectors, meta = novelty_atlas
    idx = np.arange(len(vectors))
    with connect(url) as conn:
        rows = conn.execute(
            "select cohort_kind, group_value, release_year, raw_novelty, n_query from kpi.kpi_novelty_by_group_v1 "
            "where cohort_kind in ('dataset', 'modality')"
        ).fetchall()
    checked = 0
    for cohort_kind, value, year, raw, n_query in rows:
        if cohort_kind == "dataset":
            query = idx[(meta["slug"] == value) & (meta["year"] <= year)]
        else:
            query = idx[(meta["modality"] == value) & (meta["year"] == year)]
        assert n_query == len(query)
        reference = idx[meta["year"] < year]
        if len(reference) == 0:
            assert raw is None
            continue
        assert raw == pytest.approx(_novelty(vectors, query, reference).mean(), abs=1e-6), (cohort_kind, value)
        checked += 1
    assert checked >= 5


def test_group_rows_carry_a_baseline(novelty_atlas):
    url, _, _ = novelty_atlas
    with connect(url) as conn:
        rows = conn.execute(
            "select cohort_kind, count(*) filter (where baseline_mean is not null) from kpi.kpi_novelty_by_group_v1 "
            "group by 1 order by 1").fetchall()
    assert {g for g, _ in rows} == {"dataset", "fitzpatrick_group", "icd10_block", "modality"}
    assert all(n > 0 for _, n in rows)


def test_cohort_reference_grains_are_the_tables_keys(novelty_atlas):
    """int_novelty_cohort_references enforces its two grains as a primary key and a unique index: a second row
    for an image, or for a reference index, is refused."""
    import psycopg

    url, _, _ = novelty_atlas
    table = "intermediate.int_novelty_cohort_references"
    with connect(url) as conn:
        keys = conn.execute(
            "select i.indisprimary, array_agg(a.attname::text order by k.n) from pg_index as i cross join lateral "
            "unnest(i.indkey) with ordinality as k (attnum, n) join pg_attribute as a on a.attrelid = i.indrelid "
            "and a.attnum = k.attnum where i.indrelid = %s::regclass and i.indisunique group by i.indexrelid, "
            "i.indisprimary order by 1 desc", (table,)).fetchall()
        assert keys == [(True, ["model_id", "cohort_kind", "reference_group", "release_year", "image_id"]),
                        (False, ["model_id", "cohort_kind", "reference_group", "release_year", "reference_index"])]
        copy_of_a_row = f"insert into {table} select * from {table} limit 1"
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(copy_of_a_row)
        conn.rollback()
        with pytest.raises(psycopg.errors.UniqueViolation):  # another image at a taken index
            conn.execute(f"insert into {table} (model_id, cohort_kind, reference_group, release_year, image_id, "
                         f"novelty, reference_index) select model_id, cohort_kind, reference_group, release_year, "
                         f"-1, novelty, reference_index from {table} limit 1")
        conn.rollback()


def test_assess_candidate_set_against_the_atlas(novelty_atlas):
    url, vectors, _ = novelty_atlas
    rng = np.random.default_rng(9)
    far = planted.clustered_vectors(40, vectors.shape[1], 3, 0.5, rng)  # new clusters: unlike the atlas
    near = vectors[:40] + 0.01 * rng.standard_normal((40, vectors.shape[1]))
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    novel = assess_vectors(url, "planted", far, k=K)
    repeat = assess_vectors(url, "planted", near, k=K)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    want = np.sort(1.0 - (far / np.linalg.norm(far, axis=1, keepdims=True)) @ unit.T, axis=1)[:, :K].mean()
    assert novel.raw_novelty == pytest.approx(want, abs=1e-6)
    assert novel.baseline_mean is not None
    assert novel.novelty_vs_baseline > 1.0 > repeat.novelty_vs_baseline
