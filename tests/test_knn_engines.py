"""The two kNN engines under one contract: SQL (HNSW) recall against exact, and incremental = full."""
from __future__ import annotations

import numpy as np
import pytest

from skinmap.db import connect
from skinmap.knn import compute_neighbours, planted

DIM, CLUSTERS, SPREAD = 64, 40, 0.7


def _plant(url: str, sizes_years: list[tuple[int, int]], seed: int = 0, start: int = 0) -> None:
    rng = np.random.default_rng(seed)
    for j, (n, year) in enumerate(sizes_years, start=start):
        planted.add_dataset(url, f"d{j}", year, planted.clustered_vectors(n, DIM, CLUSTERS, SPREAD, rng), seed=j)


def _edges(url: str) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    with connect(url) as conn:
        for image_id, neighbour in conn.execute(
            "select image_id, neighbour_image_id from atlas.knn_edge order by image_id, neighbour_rank"
        ):
            out.setdefault(image_id, []).append(neighbour)
    return out


def _snapshot(url: str):
    with connect(url) as conn:
        edges = conn.execute(
            "select model_id, image_id, neighbour_rank, neighbour_image_id, cosine_distance from atlas.knn_edge "
            "order by 1, 2, 3"
        ).fetchall()
        novelty = conn.execute(
            "select model_id, cutoff_year, image_id, k, n_neighbours, novelty from atlas.knn_novelty "
            "order by 1, 2, 3"
        ).fetchall()
        lists = [(m, i, np.frombuffer(d, dtype=">f4").tolist()) for m, i, d in conn.execute(
            "select model_id, image_id, distances from atlas.knn_novelty_list order by 1, 2")]
    return edges, novelty, lists


def _assert_same(incremental, full) -> None:
    """Edges, novelty rows and novelty lists equal; distances to float32 matmul-tile precision."""
    for got, want in zip(incremental, full):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            assert a[:-1] == b[:-1]
            assert (a[-1] is None and b[-1] is None) or a[-1] == pytest.approx(b[-1], abs=1e-6)


def test_sql_hnsw_engine_recall_against_exact_engine(atlas_db):
    _plant(atlas_db, [(700, 2018), (700, 2019), (600, 2020)])
    compute_neighbours(atlas_db, engine="exact", k=10, novelty_k=20, frechet=False)
    exact = _edges(atlas_db)
    summary = compute_neighbours(atlas_db, engine="sql", k=10, novelty_k=20, full=True, frechet=False,
                                 exact_below=100)  # force the HNSW path on this small set
    approximate = _edges(atlas_db)
    assert set(exact) == set(approximate) and len(exact) == 2000
    hits = sum(len(set(exact[i]) & set(approximate[i])) for i in exact)
    recall = hits / sum(len(v) for v in exact.values())
    assert recall >= 0.99, (recall, summary.line())


@pytest.mark.parametrize("engine", ["sql", "exact"])
def test_incremental_equals_full_recompute(atlas_db, engine):
    _plant(atlas_db, [(300, 2016), (300, 2018)])
    compute_neighbours(atlas_db, engine=engine, k=8, novelty_k=15, frechet=False)
    _plant(atlas_db, [(150, 2020), (120, 2017)], seed=5, start=2)  # a newer year and one in between
    summary = compute_neighbours(atlas_db, engine=engine, k=8, novelty_k=15, frechet=False)
    assert summary.counts["edge_images"] == 270
    assert summary.counts["edge_repaired"] < 600  # repaired some old images, not all of them
    incremental = _snapshot(atlas_db)
    compute_neighbours(atlas_db, engine=engine, k=8, novelty_k=15, full=True, frechet=False)
    full = _snapshot(atlas_db)
    _assert_same(incremental, full)


def test_novelty_cutoffs_cover_next_release(atlas_db):
    _plant(atlas_db, [(50, 2019), (50, 2021)])
    compute_neighbours(atlas_db, engine="sql", k=5, novelty_k=10, frechet=False)
    with connect(atlas_db) as conn:
        rows = dict(conn.execute(
            "select cutoff_year, count(*) from atlas.knn_novelty group by 1 order by 1").fetchall())
        first = conn.execute(
            "select count(*) from atlas.knn_novelty where cutoff_year = 2018 and novelty is not null").fetchone()[0]
    assert 2022 in rows and rows[2022] == 100  # the whole atlas, scored for the next release and `assess`
    assert first == 0  # nothing earlier than the first year: NULL, never 0


@pytest.mark.parametrize("engine,new_year,options", [
    ("sql", 2021, {}), ("exact", 2021, {}), ("exact", 2019, {}), ("exact", 2021, {"cross_tile": 100})])
def test_newer_release_is_merged_not_searched_again(atlas_db, engine, new_year, options):
    """A dataset of a new year: old lists are merged with the new images (stored distances), equal to a full run.
    2019: a tenth of its images are of 2018, the newest old year (planted.add_dataset). cross_tile 100: the
    exact cross search also meets tiles of old images only, whose old-only lists reuse the overall top-k."""
    _plant(atlas_db, [(300, 2016), (250, 2018)])
    compute_neighbours(atlas_db, engine=engine, k=8, novelty_k=15, frechet=False)
    with connect(atlas_db) as conn:
        lists = conn.execute("select count(*), min(octet_length(distances) / 4) from atlas.knn_novelty_list").fetchone()
    assert lists == (550, 15)  # one list per image, k places (at the newest cutoff every image has 549 before it)
    _plant(atlas_db, [(200, new_year)], seed=9, start=2)
    summary = compute_neighbours(atlas_db, engine=engine, k=8, novelty_k=15, frechet=False, **options)
    assert "novelty_searched_again" in summary.counts, summary.line()  # the merge path, not the general one
    # the new cutoffs start from the newest one's rows in the database: 2020, 2021, 2022 (new 2021); 2020 (new 2019)
    assert summary.counts["novelty_cutoffs_copied"] == (3 if new_year == 2021 else 1)
    assert 0 < summary.counts["novelty_repaired"] < 550  # some old lists gained a new image, not all
    assert summary.counts["novelty_searched_again"] < 60  # merged; searched: rows that the year filter cut short
    if engine == "sql":  # old images bounded by their stored lists read their new neighbours off the new lists
        assert summary.counts["cross_old_searched"] < 550, summary.line()
    incremental = _snapshot(atlas_db)
    compute_neighbours(atlas_db, engine=engine, k=8, novelty_k=15, full=True, frechet=False)
    full = _snapshot(atlas_db)
    _assert_same(incremental, full)


def test_lists_lost_to_a_crash_mean_a_rescore_not_wrong_values(atlas_db):
    """atlas.knn_novelty_list is unlogged: crash recovery empties it. The next update then re-scores (the
    general path) instead of merging, and still equals a full run."""
    _plant(atlas_db, [(200, 2016), (200, 2018)])
    compute_neighbours(atlas_db, engine="exact", k=6, novelty_k=12, frechet=False)
    with connect(atlas_db) as conn:
        conn.execute("truncate atlas.knn_novelty_list")  # what crash recovery does to an unlogged table
        conn.commit()
    _plant(atlas_db, [(100, 2021)], seed=9, start=2)
    summary = compute_neighbours(atlas_db, engine="exact", k=6, novelty_k=12, frechet=False)
    assert "novelty_searched_again" not in summary.counts and summary.counts["novelty_repaired"] > 0, summary.line()
    incremental = _snapshot(atlas_db)
    compute_neighbours(atlas_db, engine="exact", k=6, novelty_k=12, full=True, frechet=False)
    _, novelty, _ = _snapshot(atlas_db)
    _assert_same(incremental[1:2], [novelty])


def _novelty(url: str) -> dict[tuple[int, int], float]:
    with connect(url) as conn:
        return {(c, i): n for c, i, n in conn.execute(
            "select cutoff_year, image_id, novelty from atlas.knn_novelty where novelty is not null")}


def test_ivf_engine_recall_and_update_against_exact(atlas_db):
    """The approximate ivf engine (forced past its exact fallback): edges and novelty close to exact,
    in a full run and after a newer release is merged in."""
    ivf = {"engine": "ivf", "exact_below": 100, "frechet": False, "k": 10, "novelty_k": 20, "probes": 16,
           "check": 300}
    _plant(atlas_db, [(700, 2018), (700, 2019), (600, 2020)])
    for update in (False, True):
        if update:
            _plant(atlas_db, [(300, 2022)], seed=3, start=3)
            summary = compute_neighbours(atlas_db, **ivf)  # incremental: the cross lists, cell by cell
            assert summary.counts["edge_images"] == 300 and "novelty_searched_again" in summary.counts  # merged
            with connect(atlas_db) as conn:  # in the cells of the full run, the new images placed in them
                assert conn.execute("select l.trained_on, count(*) from atlas.knn_ivf_layout as l "
                                    "join atlas.knn_ivf_cell using (model_id) group by 1").fetchall() == [(2000, 2300)]
        else:
            summary = compute_neighbours(atlas_db, **ivf, full=True)
        approximate, approximate_novelty = _edges(atlas_db), _novelty(atlas_db)
        compute_neighbours(atlas_db, engine="exact", k=10, novelty_k=20, full=True, frechet=False)
        exact, exact_novelty = _edges(atlas_db), _novelty(atlas_db)
        assert set(exact) == set(approximate)
        recall = sum(len(set(exact[i]) & set(approximate[i])) for i in exact) / sum(map(len, exact.values()))
        assert recall >= 0.95, (update, recall, summary.line())
        assert set(exact_novelty) == set(approximate_novelty)
        error = np.array([approximate_novelty[key] / exact_novelty[key] - 1 for key in exact_novelty])
        assert np.all(error >= -1e-6)  # approximate lists can only miss nearer images: never lower novelty
        assert np.mean(error) < 0.02, (update, np.mean(error), error.max())  # messy 64-d clusters: the hard case
        assert "recall@10" in summary.checks[0] and "novelty@20 error +" in summary.checks[0], summary.checks
        compute_neighbours(atlas_db, **ivf, full=True)  # back to an ivf state before the update


@pytest.mark.parametrize("width,exact_below", [(None, 2000), (20, 2000), (25, 2000), (None, 100)])
def test_sql_cutoffs_from_one_wide_search_equal_exact(atlas_db, width, exact_below):
    """The SQL engine's novelty lists of every cutoff, derived from one wide search per image (rows left short
    searched again, year by year), equal the exact engine's: narrow widths force many rows down that path.
    exact_below 100: through HNSW indexes, nearly all lists equal and none nearer than exact."""
    from skinmap.knn.exact_engine import ExactEngine
    from skinmap.knn.sql_cutoffs import sql_cutoff_distances
    from skinmap.knn.sql_engine import SqlEngine
    from skinmap.knn.vectors import model_ids, model_images

    _plant(atlas_db, [(200, 2016), (250, 2017), (300, 2019)])
    images = model_images(atlas_db, model_ids(atlas_db)[0])
    ids, years, cutoffs, k = images.image_ids, images.release_years.astype(int), [2016, 2017, 2018, 2019, 2020], 20

    def by_key(parts):
        out = {}
        for cutoff, query_ids, dists in parts:
            for image_id, row in zip(query_ids, dists):
                assert (cutoff, int(image_id)) not in out  # every image once per cutoff
                out[cutoff, int(image_id)] = row
        return out

    want = by_key(ExactEngine(atlas_db).cutoff_distances(images.model_id, ids, years, cutoffs, k))
    got = by_key(sql_cutoff_distances(SqlEngine(atlas_db, exact_below=exact_below), images.model_id, ids, years,
                                      cutoffs, k, width=width, chunk=300))
    assert set(got) == set(want) and len(want) == sum(int((years <= c).sum()) for c in cutoffs)
    same = [np.allclose(got[key], row, atol=1e-6, equal_nan=True) for key, row in want.items()]
    if exact_below > len(ids):
        assert all(same), [key for key, ok in zip(want, same) if not ok][:5]
    else:
        assert np.mean(same) >= 0.97, np.mean(same)
        assert all(np.nansum(got[key]) >= np.nansum(row) - 1e-5 for key, row in want.items())


def test_ivf_cells_are_stored_reused_grown_and_trained_again(atlas_db):
    """The ivf engine's cells outlive a run: an update places only its new images, each in the cell of its
    nearest centroid, and keeps the old images' cells. New images near the atlas's clusters fit the stored
    cells; a novel dataset gets cells of its own. A model grown by half, other settings or a full run train
    them again."""
    from skinmap.knn.ivf_engine import IvfEngine
    from skinmap.knn.ivf_store import read_centroids, read_layout
    from skinmap.knn.vectors import model_ids

    def stored():
        with connect(atlas_db) as conn:
            return conn.execute("select l.trained_on, l.trained_at, l.cells, count(c.image_id) from "
                                "atlas.knn_ivf_layout as l left join atlas.knn_ivf_cell as c using (model_id) "
                                "group by 1, 2, 3").fetchall()

    def add(n: int, year: int, seed: int, like_seed: int | None) -> None:
        planted.add_dataset(atlas_db, f"d{year}", year, planted.clustered_vectors(
            n, DIM, CLUSTERS, SPREAD, np.random.default_rng(seed), like_seed=like_seed), seed=seed)

    add(400, 2018, 0, None)
    model_id = model_ids(atlas_db)[0]
    first = IvfEngine(atlas_db).cells(model_id)
    (trained_on, trained_at, n_cells, placed), = stored()
    assert (trained_on, n_cells, placed) == (400, 20, 400)  # sqrt(400) cells
    add(100, 2019, 1, like_seed=0)  # the same clusters: every new image fits a stored cell
    IvfEngine(atlas_db).cells(model_id)
    assert stored() == [(400, trained_at, 20, 500)]
    add(100, 2020, 2, like_seed=None)  # new clusters: cells of their own (100 images, 20 a cell: about 5)
    engine = IvfEngine(atlas_db)
    again = engine.cells(model_id)
    (_, _, grown, placed), = stored()
    assert 20 < grown <= 26 and placed == 600
    assert np.array_equal(again.near[:400].numpy(), first.near.numpy())  # new image ids come after the old ones
    with connect(atlas_db) as conn:
        centroids = read_centroids(conn, model_id, read_layout(conn, model_id).cells, DIM)
    new_rows = engine._vectors(model_id)[1][400:].numpy()
    assert np.array_equal(again.cell_of_row[400:].numpy(), np.argmax(new_rows @ centroids.T, axis=1))
    assert np.mean(again.cell_of_row[500:].numpy() >= 20) >= 0.9  # the novel ones mostly in the added cells

    for engine, reason in [(IvfEngine(atlas_db, probes=4), "other settings"),
                           (IvfEngine(atlas_db, reuse_cells=False), "a full run")]:
        engine.cells(model_id)
        (trained_on, later, n_cells, placed), = stored()
        assert later > trained_at and (trained_on, n_cells, placed) == (600, 24, 600), reason  # round(sqrt(600))
        trained_at = later
    add(300, 2021, 0, like_seed=0)  # 900 = 1.5 x 600: reused
    IvfEngine(atlas_db).cells(model_id)
    assert stored() == [(600, trained_at, 24, 900)]
    add(1, 2022, 3, like_seed=0)  # 901 > 1.5 x 600: trained again on every image
    IvfEngine(atlas_db).cells(model_id)
    assert stored()[0][::2] == (901, 30) and stored()[0][3] == 901


def test_deleted_images_take_their_knn_rows_and_dbt_finds_strays(atlas_db):
    """Without per-row foreign keys (alembic i5_09) a deleted image's rows still go (statement trigger, also on
    truncate), and a row of an image the model never embedded fails dbt's source tests."""
    from skinmap.dbt_runner import DbtError, build

    _plant(atlas_db, [(120, 2018), (80, 2019)])
    compute_neighbours(atlas_db, engine="ivf", k=5, novelty_k=10, frechet=False, exact_below=50)
    counts = ("select (select count(*) from atlas.knn_edge where image_id = any(%(gone)s) "
              "or neighbour_image_id = any(%(gone)s)), "
              "(select count(*) from atlas.knn_novelty where image_id = any(%(gone)s)), "
              "(select count(*) from atlas.knn_novelty_list where image_id = any(%(gone)s)), "
              "(select count(*) from atlas.knn_ivf_cell where image_id = any(%(gone)s))")
    with connect(atlas_db) as conn:
        gone = [r[0] for r in conn.execute("select image_id from atlas.image order by image_id limit 3")]
        before = conn.execute(counts, {"gone": gone}).fetchone()
        conn.execute("delete from atlas.image where image_id = any(%s)", (gone,))
        after = conn.execute(counts, {"gone": gone}).fetchone()
        conn.commit()
    assert min(before) > 0 and after == (0, 0, 0, 0), (before, after)
    build(atlas_db, select="source:atlas_knn", command="test", quiet=True)  # raises DbtError on a failed test
    with connect(atlas_db) as conn:  # a row of an image without this model's vector
        conn.execute("insert into atlas.knn_novelty (model_id, scope, cutoff_year, image_id, k, n_neighbours, "
                     "engine) select model_id, 'earlier_years', 2019, %s, 10, 0, 'ivf' from atlas.embedding_model",
                     (gone[0],))
        conn.commit()
    with pytest.raises(DbtError, match="rows_have_parent"):
        build(atlas_db, select="source:atlas_knn", command="test", quiet=True)
    with connect(atlas_db) as conn:  # truncating the images empties the kNN tables too
        conn.execute("truncate atlas.image cascade")
        left = conn.execute("select (select count(*) from atlas.knn_edge), (select count(*) from atlas.knn_novelty), "
                            "(select count(*) from atlas.knn_novelty_list), (select count(*) from atlas.knn_ivf_cell)")
        assert left.fetchone() == (0, 0, 0, 0)
