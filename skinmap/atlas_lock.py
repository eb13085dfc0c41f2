"""One writer of derived state per atlas: `skinmap knn`, `verify-duplicates` and `build` take turns.

Two `dbt build`s at once collide on dbt's `__dbt_tmp` / `__dbt_backup`
relations and one fails with a dbt error that names neither the cause nor
the cure; a build during a kNN update reads half-written kNN tables. A
session-level PostgreSQL advisory lock, held on its own connection for the
step's duration, serialises them per database. PostgreSQL frees it when the
holder's connection ends, so a killed process (or a restarted server) never
leaves it behind. The holder's connection is named after it
(`application_name`), so the one who waits is told who holds the lock.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg

from skinmap.db import DatabaseError, connect

# pg_advisory_lock(bigint) key, one per database; the digits spell nothing, they only have to be fixed.
WRITER_LOCK_KEY = 0x5A1F_0016
APPLICATION_PREFIX = "skinmap "


class AtlasBusy(DatabaseError):
    """Another skinmap step holds the writer lock and we were told not to wait."""


def holder(conn: psycopg.Connection) -> str | None:
    """'skinmap build (pid 123)' of the session holding the writer lock, or None when it is free."""
    row = conn.execute(
        "select a.application_name, a.pid from pg_locks as l join pg_stat_activity as a using (pid) "
        "where l.locktype = 'advisory' and l.granted and l.database = "
        "(select oid from pg_database where datname = current_database()) "
        "and (l.classid::bigint << 32) | l.objid::bigint = %s and l.objsubid = 1",
        (WRITER_LOCK_KEY,),
    ).fetchone()
    if row is None:
        return None
    name, backend_pid = row
    return name if name.startswith(APPLICATION_PREFIX) else f"a session (server pid {backend_pid})"


def _application_name(step: str) -> str:
    return f"{APPLICATION_PREFIX}{step} (pid {os.getpid()})"


@contextmanager
def writer_lock(url: str, step: str, *, wait: bool = True,
                echo: Callable[[str], None] = lambda line: print(line, file=sys.stderr)) -> Iterator[None]:
    """Hold the atlas writer lock while the block runs; wait for it (saying for whom) or raise AtlasBusy."""
    with connect(url, autocommit=True) as conn:
        conn.execute("select set_config('application_name', %s, false)", (_application_name(step),))
        if not conn.execute("select pg_try_advisory_lock(%s)", (WRITER_LOCK_KEY,)).fetchone()[0]:
            other = holder(conn) or "another skinmap step"
            message = f"another skinmap step is writing this atlas: {other}"
            if not wait:
                raise AtlasBusy(f"{message}; `skinmap {step}` not started. Rerun it when that one has finished.")
            echo(f"{message}; `skinmap {step}` waits for it to finish")
            conn.execute("select pg_advisory_lock(%s)", (WRITER_LOCK_KEY,))
        try:
            yield
        finally:
            if not conn.closed:
                try:
                    conn.execute("select pg_advisory_unlock(%s)", (WRITER_LOCK_KEY,))
                except psycopg.OperationalError:
                    pass  # the server went away: the lock went with the session
