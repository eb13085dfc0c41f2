"""The schema swap that puts a full build live, under readers that never stop.

A reader's query locks a kpi view first and the tables under it after; the
swap must never take those locks in the other order, or PostgreSQL breaks
the cycle by killing one side (a deadlock error the reader sees).
"""
from __future__ import annotations

import threading

import psycopg

from skinmap import build_swap
from skinmap.db import connect

N_SWAPS = 60
N_READERS = 3


def _write_next_schemas(url: str, generation: int) -> None:
    """A miniature build into the `__next` schemas: staging table, intermediate table, kpi view."""
    with connect(url) as conn:
        conn.execute("create schema staging__next")
        conn.execute("create schema intermediate__next")
        conn.execute("create schema kpi__next")
        conn.execute("create table staging__next.images as select g as image_id from generate_series(1, 200) g")
        conn.execute("create table intermediate__next.counted as "
                     f"select image_id, image_id % 7 as cell, {generation} as generation from staging__next.images")
        conn.execute("create view kpi__next.cells as select s.image_id, c.cell, c.generation "
                     "from staging__next.images s join intermediate__next.counted c using (image_id)")
        conn.commit()


def _poll(url: str, stop: threading.Event, seen: list[int], errors: list[str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            try:
                n, generation = conn.execute("select count(*), max(generation) from kpi.cells").fetchone()
            except psycopg.Error as exc:
                errors.append(str(exc).strip())
                continue
            if n != 200:
                errors.append(f"{n} rows")
            seen.append(generation)


def test_swaps_under_polling_readers_give_no_error_and_each_reader_moves_forward(atlas_db):
    _write_next_schemas(atlas_db, 0)
    build_swap.swap_in(atlas_db)
    stop = threading.Event()
    seen: list[list[int]] = [[] for _ in range(N_READERS)]
    errors: list[str] = []
    readers = [threading.Thread(target=_poll, args=(atlas_db, stop, seen[i], errors)) for i in range(N_READERS)]
    for reader in readers:
        reader.start()
    try:
        for generation in range(1, N_SWAPS + 1):
            _write_next_schemas(atlas_db, generation)
            build_swap.swap_in(atlas_db)
    finally:
        stop.set()
        for reader in readers:
            reader.join(30)
    assert errors == []
    assert all(s and s == sorted(s) for s in seen), "a reader saw an older build after a newer one"
    assert max(max(s) for s in seen) >= N_SWAPS - 1
    with connect(atlas_db) as conn:
        left = [s for (s,) in conn.execute("select nspname from pg_namespace where nspname like '%\\_\\_%'")]
    assert left == []
