"""Many read-only sessions querying every kpi view at once, as BI dashboards do.

Each session is a thread with its own psycopg connection, logged in as a
reader role over TCP (what `skinmap db url --reader` hands a BI tool); it
reads the kpi views round-robin, starting at a different view each, until
the time is up. psycopg releases the GIL while it waits on the server, so
threads are enough to keep 50 sessions busy.
"""
from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql


@dataclass
class LoadResult:
    n_sessions: int
    seconds: float
    n_queries: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    views_read: set[str] = field(default_factory=set)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")

    def line(self) -> str:
        return (f"{self.n_sessions} reader sessions x {self.seconds:.0f} s over {len(self.views_read)} kpi views: "
                f"{self.n_queries} queries, {len(self.errors)} errors, p50 {self.percentile(50):.1f} ms, "
                f"p95 {self.percentile(95):.1f} ms, mean {statistics.fmean(self.latencies_ms or [0]):.1f} ms")


def _session(url: str, views: list[str], offset: int, deadline: list[float], result: LoadResult,
             lock: threading.Lock, started: threading.Barrier) -> None:
    latencies, errors, read = [], [], set()
    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        with lock:
            result.errors.append(f"connect: {exc}")
        started.abort()
        return
    try:
        started.wait()
        i = offset
        while time.monotonic() < deadline[0]:
            view = views[i % len(views)]
            i += 1
            t0 = time.perf_counter()
            try:
                rows = conn.execute(sql.SQL("select * from kpi.{}").format(sql.Identifier(view))).fetchall()  # names from information_schema
            except psycopg.Error as exc:
                errors.append(f"{view}: {exc}".strip())
                continue
            latencies.append((time.perf_counter() - t0) * 1000)
            if rows:
                read.add(view)
    finally:
        conn.close()
    with lock:
        result.latencies_ms += latencies
        result.errors += errors
        result.n_queries += len(latencies) + len(errors)
        result.views_read |= read


def kpi_view_names(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [v for (v,) in conn.execute(
            "select table_name from information_schema.views where table_schema = 'kpi' order by 1")]


def load(reader_url: str, *, sessions: int, seconds: float) -> LoadResult:
    """`sessions` concurrent reader sessions querying every kpi view for `seconds`."""
    views = kpi_view_names(reader_url)
    if not views:
        raise ValueError("the reader sees no kpi view: run `skinmap build` first")
    result = LoadResult(sessions, seconds)
    lock = threading.Lock()
    deadline: list[float] = []  # set once every session is connected: the clock starts then
    started = threading.Barrier(sessions, action=lambda: deadline.append(time.monotonic() + seconds))
    threads = [threading.Thread(target=_session, args=(reader_url, views, n, deadline, result, lock, started),
                                daemon=True) for n in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 120)
    return result
