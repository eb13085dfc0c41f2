"""Alembic round trip on a real database: base -> head -> base -> head."""
from __future__ import annotations

from skinmap import migrate
from skinmap.db import connect

CORE_TABLES = {"dataset", "ingest_run", "image", "image_metadata", "ingest_issue", "embedding_model",
               "embedding", "embed_run", "pixel_signature"}


def _atlas_tables(url: str) -> set[str]:
    with connect(url) as conn:
        rows = conn.execute("select table_name from information_schema.tables where table_schema = 'atlas'").fetchall()
    return {r[0] for r in rows}


def test_downgrade_base_then_upgrade_head(empty_db):
    migrate.upgrade(empty_db)
    at_head = _atlas_tables(empty_db)
    assert CORE_TABLES <= at_head
    assert migrate.current(empty_db) is not None
    migrate.downgrade(empty_db, "base")
    assert _atlas_tables(empty_db) == set()
    assert migrate.current(empty_db) is None
    with connect(empty_db) as conn:
        assert conn.execute("select count(*) from pg_proc where proname like 'ensure_embedding_index%'").fetchone()[0] == 0
    migrate.upgrade(empty_db)
    assert _atlas_tables(empty_db) == at_head
    with connect(empty_db) as conn:
        assert conn.execute("select extversion >= '0.8' from pg_extension where extname = 'vector'").fetchone()[0]


def test_upgrade_is_idempotent(atlas_db):
    before = migrate.current(atlas_db)
    migrate.upgrade(atlas_db)
    assert migrate.current(atlas_db) == before


def test_novelty_lists_move_to_their_own_table_and_back(empty_db):
    """i5_07 moves the newest cutoff's lists out of atlas.knn_novelty (one row per image); downgrade restores them."""
    import numpy as np

    from skinmap.knn import planted

    migrate.upgrade(empty_db, "i5_06")
    _, image_ids = planted.add_dataset(empty_db, "lists", 2020, planted.clustered_vectors(
        3, 8, 1, 0.5, np.random.default_rng(0)), index=False)
    with connect(empty_db) as conn:
        model_id = conn.execute("select model_id from atlas.embedding_model").fetchone()[0]
        for cutoff, lists in ((2020, None), (2021, "{0.25,0.5}")):
            conn.execute(
                "insert into atlas.knn_novelty (model_id, scope, cutoff_year, image_id, k, n_neighbours, "
                "sum_distance, novelty, kth_distance, engine, distances) select %s, 'earlier_years', %s, i, 2, "
                "case when %s::real[] is null then 0 else 2 end, null, case when %s::real[] is null then null "
                "else 0.375 end, null, 'exact', %s::real[] from unnest(%s::bigint[]) as i",
                (model_id, cutoff, lists, lists, lists, image_ids.tolist()))
        conn.commit()
    migrate.upgrade(empty_db, "i5_07")
    with connect(empty_db) as conn:
        moved = conn.execute("select image_id, distances from atlas.knn_novelty_list order by 1").fetchall()
        columns = {r[0] for r in conn.execute(
            "select column_name from information_schema.columns where table_name = 'knn_novelty'")}
    assert moved == [(int(i), [0.25, 0.5]) for i in sorted(image_ids)] and "distances" not in columns
    migrate.downgrade(empty_db, "i5_06")
    with connect(empty_db) as conn:
        restored = conn.execute("select cutoff_year, count(distances) from atlas.knn_novelty group by 1 order by 1")
        assert restored.fetchall() == [(2020, 0), (2021, 3)]
    migrate.upgrade(empty_db)  # i5_07 moves them again, i5_10 packs each list as float4 bytes
    with connect(empty_db) as conn:
        packed = [(i, np.frombuffer(d, dtype=">f4").tolist()) for i, d in conn.execute(
            "select image_id, distances from atlas.knn_novelty_list order by 1")]
    assert packed == moved
    persistence = "select relpersistence from pg_class where oid = 'atlas.knn_novelty_list'::regclass"
    with connect(empty_db) as conn:
        assert conn.execute(persistence).fetchone() == ("u",)  # unlogged: state the next full run derives again
    migrate.downgrade(empty_db, "i5_09")  # derived state: emptied, the column real[] again
    with connect(empty_db) as conn:
        left = conn.execute("select count(*), pg_typeof(min(distances))::text from atlas.knn_novelty_list")
        assert left.fetchone() == (0, "real[]")
        assert conn.execute(persistence).fetchone() == ("p",)


def _revisions_oldest_first() -> list[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(migrate._alembic_config("postgresql://unused/none"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def _row_counts(url: str) -> dict[str, int]:
    with connect(url) as conn:
        tables = [t for (t,) in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'atlas' and c.relkind in ('r', 'p') order by 1")]
        return {t: conn.execute(f'select count(*) from atlas."{t}"').fetchone()[0] for t in tables}  # catalog names


def _populate_oldest(url: str) -> None:
    """Rows valid at revision 0001: two datasets, 30 images (3 quarantined), their metadata and issues."""
    with connect(url) as conn:
        for slug, year in (("old-a", 2016), ("old-b", 2019)):
            dataset_id = conn.execute(
                "insert into atlas.dataset (slug, name, release_year, modality) values (%s, %s, %s, 'clinical') "
                "returning dataset_id", (slug, slug.upper(), year)).fetchone()[0]
            run_id = conn.execute(
                "insert into atlas.ingest_run (dataset_id, metadata_path, mapping) values (%s, 'm.csv', '{}') "
                "returning ingest_run_id", (dataset_id,)).fetchone()[0]
            for i in range(15):
                bad = i < 2 and slug == "old-a" or i == 0 and slug == "old-b"
                image_id = conn.execute(
                    "insert into atlas.image (dataset_id, source_key, file_path, pixel_sha256, width, height, "
                    "release_year, status, quarantine_reason, ingest_run_id) values (%s, %s, %s, %s, 64, 48, %s, "
                    "%s, %s, %s) returning image_id",
                    (dataset_id, f"{slug}-{i}", f"/img/{slug}-{i}.jpg", f"{i % 11:064x}", year,
                     "quarantined" if bad else "ok", "corrupt image" if bad else None, run_id)).fetchone()[0]
                conn.execute("insert into atlas.image_metadata (image_id, fitzpatrick_raw, fitzpatrick_type, "
                             "fitzpatrick_group, age_raw, age_years) values (%s, %s, %s, %s, %s, %s)",
                             (image_id, str(i % 6 + 1), i % 6 + 1, ("I-II", "III-IV", "V-VI")[i % 6 // 2],
                              str(20 + i), 20 + i))
                if bad:
                    conn.execute("insert into atlas.ingest_issue (ingest_run_id, dataset_id, source_key, reason, "
                                 "is_row_quarantined) values (%s, %s, %s, 'corrupt image', true)",
                                 (run_id, dataset_id, f"{slug}-{i}"))
        conn.commit()


def _populate_embeddings(url: str) -> None:
    """Rows valid at revision 0002: one model's 8-d vectors for every ok image, and its run."""
    with connect(url) as conn:
        model_id = conn.execute(
            "insert into atlas.embedding_model (model_name, family, architecture, weights, is_random_weights, "
            "dimension) values ('old/model', 'imported', 'old', 'none', true, 8) returning model_id").fetchone()[0]
        conn.execute("insert into atlas.embedding (model_id, image_id, vec) select %s, image_id, "
                     "array_fill(image_id::real, array[8])::vector from atlas.image where status = 'ok'", (model_id,))
        conn.execute("insert into atlas.embed_run (model_id, device, batch_size, is_random_weights, n_embedded) "
                     "values (%s, 'cpu', 8, true, 27)", (model_id,))
        conn.commit()


def test_upgrade_from_every_revision_with_data_then_down_and_up_loses_no_row(empty_db):
    """Populated at the oldest revisions, stepped up one revision at a time, down to 0002 and up again.

    At every step each table that existed before keeps every row (a
    revision that moves rows moves them all), and the vectors themselves
    come through intact.
    """
    revisions = _revisions_oldest_first()
    assert revisions[0] == "0001" and len(revisions) == len(set(revisions)) >= 29
    migrate.upgrade(empty_db, revisions[0])
    _populate_oldest(empty_db)
    counts = _row_counts(empty_db)
    assert counts["image"] == 30 and counts["image_metadata"] == 30 and counts["ingest_issue"] == 3
    with connect(empty_db) as conn:
        keys = conn.execute("select source_key, status from atlas.image order by 1").fetchall()

    for revision in revisions[1:]:
        migrate.upgrade(empty_db, revision)
        if revision == "0002":
            _populate_embeddings(empty_db)
        now = _row_counts(empty_db)
        lost = {t: (n, now.get(t)) for t, n in counts.items() if now.get(t) != n}
        assert not lost, f"upgrade to {revision} lost rows (before, after): {lost}"
        counts = {**now}
    at_head = counts
    assert at_head["embedding"] == 27 and at_head["embedding_model"] == 1

    for revision in reversed(revisions[1:-1]):  # down to 0002, one revision at a time
        migrate.downgrade(empty_db, revision)
        now = _row_counts(empty_db)
        lost = {t: (at_head[t], n) for t, n in now.items() if at_head.get(t) is not None and n != at_head[t]}
        assert not lost, f"downgrade to {revision} lost rows (at head, now): {lost}"
    migrate.upgrade(empty_db)
    assert _row_counts(empty_db) == at_head
    with connect(empty_db) as conn:
        assert conn.execute("select source_key, status from atlas.image order by 1").fetchall() == keys
        wrong = conn.execute("select count(*) from atlas.embedding e where e.vec::real[] <> "
                             "array_fill(e.image_id::real, array[8])").fetchone()[0]
    assert wrong == 0
