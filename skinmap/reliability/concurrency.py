"""Steps started at the same time on one atlas, watched by a reader that polls every kpi view.

A reader must never get an error or an empty view while dbt rebuilds
(dbt replaces each view and table inside a transaction, and default
privileges re-grant new views to skinmap_reader); a second writer must
wait for the first or, with --no-wait, stop with a message naming it
(skinmap.atlas_lock).
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo


@dataclass
class PollResult:
    n_queries: int = 0
    errors: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # views with rows before that came back empty


class ViewPoller:
    """A thread reading every kpi view in turn, as `login`, until stopped."""

    def __init__(self, url: str, login: str | None = None):
        self.url = make_conninfo(url, user=login) if login else url
        self.result = PollResult()
        self._stop = threading.Event()
        with psycopg.connect(self.url, autocommit=True) as conn:
            views = [v for (v,) in conn.execute(
                "select table_name from information_schema.views where table_schema = 'kpi' order by 1")]
            self.non_empty = {v for v in views if conn.execute(sql.SQL("select 1 from kpi.{} limit 1").format(sql.Identifier(v))).fetchone()}
        self.views = views
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ViewPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(60)

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                for view in self.views:
                    try:
                        row = conn.execute(sql.SQL("select count(*) from kpi.{}").format(sql.Identifier(view))).fetchone()  # names from the catalog
                    except psycopg.Error as exc:
                        self.result.errors.append(f"{view}: {str(exc).strip()}")
                        continue
                    finally:
                        self.result.n_queries += 1
                    if view in self.non_empty and row[0] == 0:
                        self.result.empty.append(view)


@dataclass
class Finished:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str
    started_at: float
    seconds: float


def start(url: str, *command: str) -> tuple[subprocess.Popen, list[str], float]:
    argv = [sys.executable, "-m", "skinmap", "--database-url", url, *command]
    return (subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), argv,
            time.monotonic())


def finish(started: tuple[subprocess.Popen, list[str], float], timeout: float = 600) -> Finished:
    proc, argv, t0 = started
    out, err = proc.communicate(timeout=timeout)
    return Finished(argv, proc.returncode, out, err, t0, time.monotonic() - t0)


def wait_for_lock_holder(url: str, step: str, timeout: float = 60) -> None:
    """Block until a `skinmap <step>` process holds the atlas writer lock."""
    from skinmap.atlas_lock import holder

    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            who = holder(conn)
            if who and who.startswith(f"skinmap {step} "):
                return
            time.sleep(0.05)
    raise TimeoutError(f"no skinmap {step} took the writer lock within {timeout} s")


EMBED_WORKER = ("embed", "--model", "skinmap-tiny-vit", "--pretrained", "none", "--device", "cpu",
                "--workers", "0", "--batch-size", "8")


def embed_workers_at_once(url: str, n: int = 4) -> dict:
    """`n` separate `skinmap embed` processes on one model: every ok image embedded exactly once."""
    runs = [finish(r) for r in [start(url, *EMBED_WORKER) for _ in range(n)]]
    with psycopg.connect(url) as conn:
        model_id = conn.execute("select model_id from atlas.embedding_model where model_name = %s",
                                ("skinmap-tiny-vit/random",)).fetchone()[0]
        n_rows, n_images = conn.execute("select count(*), count(distinct image_id) from atlas.embedding "
                                        "where model_id = %s", (model_id,)).fetchone()
        n_ok = conn.execute("select count(*) from atlas.image where status = 'ok' and file_path is not null").fetchone()[0]
        embedded_by_runs = [r for (r,) in conn.execute(
            "select n_embedded from atlas.embed_run where model_id = %s order by embed_run_id", (model_id,))]
        not_done = conn.execute("select count(*) from atlas.embed_work where model_id = %s and status <> 'done'",
                                (model_id,)).fetchone()[0]
    return {"workers": n, "exit_codes": [r.returncode for r in runs], "ok_images": n_ok, "vectors": n_rows,
            "distinct_images": n_images, "embedded_per_worker": embedded_by_runs, "batches_not_done": not_done,
            "ok": (all(r.returncode == 0 for r in runs) and n_rows == n_images == n_ok == sum(embedded_by_runs)
                   and not_done == 0),
            "stderr": [r.stderr[-2000:] for r in runs if r.returncode]}


def writers_at_once(url: str, *, login: str | None, second_build: bool) -> dict:
    """knn --full, a build started during it (waits), a --no-wait build that loses; a reader polls throughout.

    With `second_build`, one more build is started while the first runs
    and waits its turn: two `skinmap build` at once.
    """
    with ViewPoller(url, login) as poller:
        knn = start(url, "knn", "--full", "--check", "0")
        wait_for_lock_holder(url, "knn")
        build = start(url, "build")
        knn_done = finish(knn)
        wait_for_lock_holder(url, "build")
        loser = finish(start(url, "build", "--no-wait"))
        second = start(url, "build") if second_build else None
        build_done = finish(build)
        second_done = finish(second) if second else None
    knn_pid, build_pid = knn[0].pid, build[0].pid
    checks = {
        "knn exit 0": knn_done.returncode == 0,
        "build during knn waited for it": build_done.returncode == 0
        and f"skinmap knn (pid {knn_pid})" in build_done.stderr and "waits for it to finish" in build_done.stderr,
        "--no-wait build lost with a clear message": loser.returncode == 1
        and f"another skinmap step is writing this atlas: skinmap build (pid {build_pid})" in loser.stderr
        and "Traceback" not in loser.stderr,
        "reader saw no error": not poller.result.errors,
        "reader saw no empty view": not poller.result.empty,
    }
    if second_done is not None:
        checks["second build at once waited, then built"] = (
            second_done.returncode == 0 and f"skinmap build (pid {build_pid})" in second_done.stderr)
    return {"checks": checks, "reader_queries": poller.result.n_queries, "reader_errors": poller.result.errors[:5],
            "reader_empty": sorted(set(poller.result.empty)), "loser_message": loser.stderr.strip().splitlines()[-1:],
            "ok": all(checks.values()),
            "stderr": {"knn": knn_done.stderr[-1500:], "build": build_done.stderr[-1500:]}}


def run_all(admin_url: str, built_db: str, *, login: str | None, second_build: bool = True,
            echo=print) -> dict:
    """Both checks on a copy of a built atlas (the original stays as it was)."""
    from skinmap import db
    from skinmap.reliability.crash import snapshot

    copy = f"{built_db}_concurrency"
    snapshot(admin_url, built_db, copy)
    url = db.with_database(admin_url, copy)
    try:
        embeds = embed_workers_at_once(url)
        echo(f"{embeds['workers']} embed workers at once: {embeds['vectors']} vectors for {embeds['ok_images']} "
             f"images ({embeds['embedded_per_worker']} per worker), exactly once: {embeds['ok']}")
        writers = writers_at_once(url, login=login, second_build=second_build)
        echo(f"build during knn, two builds at once: {writers['checks']}; reader {writers['reader_queries']} "
             f"queries, {len(writers['reader_errors'])} errors; loser said {writers['loser_message']}")
    finally:
        db.drop_database(admin_url, copy)
    return {"embed": embeds, "writers": writers, "ok": embeds["ok"] and writers["ok"]}
