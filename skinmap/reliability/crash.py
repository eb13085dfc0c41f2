"""Kill pipeline steps at random points, restart them, and say what survived.

Each step is the real CLI (`python -m skinmap ...`) run in its own process
group, so SIGKILL reaches what it started too (decoding processes, dbt). A
step is killed after a delay drawn uniformly within its measured
uninterrupted duration, then started again; when a restart outlives its
delay the step is complete, its tables are checked against the reference,
and the atlas goes back to its state before the step (a template copy) for
the next round of kills, so every step takes as many kills as asked. The
last round runs to completion and the pipeline goes on from there.
The server can also be stopped under a running step (`stop_server_under`):
the step must fail with a clear message, never a traceback, and succeed
when rerun once the server is back.
"""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from skinmap import db

# Tables each step writes, checked against the reference when it completes.
STEP_TABLES = {
    "ingest": ["atlas.image", "atlas.image_metadata", "atlas.pixel_signature", "atlas.image_quality",
               "atlas.ingest_issue"],
    "embed": ["atlas.embedding"],
    "knn": ["atlas.knn_edge", "atlas.knn_novelty", "atlas.dataset_frechet"],
    "verify-duplicates": ["atlas.duplicate_verification"],
    "build": [],  # its product is the kpi views, compared by fingerprint
}


class StepFailed(RuntimeError):
    """A step exited non-zero when it should have finished, or failed without a clear message."""


@dataclass(frozen=True)
class Step:
    """One pipeline step: CLI argument lists run one after another (ingest: one per dataset)."""

    name: str
    commands: list[list[str]]


@dataclass
class KillReport:
    step: str
    n_kills: int = 0
    n_completions: int = 0
    n_server_restarts: int = 0
    seconds: float = 0.0
    kill_delays: list[float] = field(default_factory=list)


def pipeline_steps(data_dir: Path, truth: dict, *, model: str = "efficientnet-lite0",
                   pretrained: str = "imagenet") -> list[Step]:
    """The demo pipeline as CLI steps: ingest every dataset, embed, knn, verify-duplicates, build."""
    slugs = [d["slug"] for d in [*truth["datasets"], *truth.get("metadata_only_datasets", [])]]
    return [
        Step("ingest", [["ingest", str(data_dir / slug / "mapping.yaml"), "--workers", "2"] for slug in slugs]),
        Step("embed", [["embed", "--model", model, "--pretrained", pretrained, "--device", "cpu",
                        "--batch-size", "32", "--workers", "1"]]),
        Step("knn", [["knn", "--check", "0"]]),
        Step("verify-duplicates", [["verify-duplicates", "--workers", "2"]]),
        Step("build", [["build"]]),
    ]


def _argv(url: str, command: list[str]) -> list[str]:
    return [sys.executable, "-m", "skinmap", "--database-url", url, *command]


class _Run:
    """A step's commands run in sequence in one new process group, killable as a whole."""

    def __init__(self, step: Step, url: str, log: Path):
        self.step, self.url, self.log = step, url, log
        self.index, self.proc = 0, None
        self.started = time.monotonic()
        self._start_next()

    def _start_next(self) -> None:
        with self.log.open("a") as out:
            out.write(f"--- {' '.join(self.step.commands[self.index])}\n")
        self.proc = subprocess.Popen(_argv(self.url, self.step.commands[self.index]), start_new_session=True,
                                     stdout=self.log.open("a"), stderr=subprocess.STDOUT)

    def poll(self) -> int | None:
        """None while running; the exit code of the first failing command, or 0 when all finished."""
        code = self.proc.poll()
        if code is None:
            return None
        if code != 0 or self.index + 1 == len(self.step.commands):
            return code
        self.index += 1
        self._start_next()
        return None

    def wait(self, seconds: float | None = None) -> int | None:
        deadline = None if seconds is None else time.monotonic() + seconds
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.02)
        return code

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


def run_step(step: Step, url: str, log: Path) -> float:
    """Run a step to completion; its seconds. Raises StepFailed with the log's tail otherwise."""
    run = _Run(step, url, log)
    code = run.wait()
    if code != 0:
        raise StepFailed(f"{step.name} exited {code}; log {log}:\n{log.read_text()[-3000:]}")
    return time.monotonic() - run.started


def snapshot(admin_url: str, dbname: str, snap: str) -> None:
    """Copy database `dbname` to `snap` (PostgreSQL's template copy: files, not rows)."""
    from psycopg import sql

    with db.connect(admin_url, autocommit=True) as conn:
        # a killed client's backend may still be finishing its statement; a template copy needs it gone
        conn.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s "
                     "and pid <> pg_backend_pid()", (dbname,))
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(snap)))
        conn.execute(sql.SQL("create database {} template {}").format(sql.Identifier(snap), sql.Identifier(dbname)))


def restore(admin_url: str, snap: str, dbname: str) -> None:
    snapshot(admin_url, snap, dbname)


def kill_repeatedly(step: Step, admin_url: str, dbname: str, *, kills: int, duration: float,
                    rng: random.Random, log: Path,
                    check: Callable[[str], None] = lambda step_name: None) -> KillReport:
    """Kill `step` `kills` times at random points, restarting it, then let it finish.

    Restarts run on the killed state; a restart that finishes before its
    kill is a completion: `check` runs, and the atlas returns to the state
    before the step for the remaining kills.
    """
    url = db.with_database(admin_url, dbname)
    snap = f"{dbname}_before_{step.name.replace('-', '_')}"
    snapshot(admin_url, dbname, snap)
    report = KillReport(step.name)
    started = time.monotonic()
    while report.n_kills < kills:
        delay = rng.uniform(0.0, duration)
        run = _Run(step, url, log)
        code = run.wait(delay)
        if code is None:
            run.kill()
            report.n_kills += 1
            report.kill_delays.append(delay)
            continue
        if code != 0:
            raise StepFailed(f"{step.name} restarted after {report.n_kills} kills exited {code}; log {log}:\n"
                             f"{log.read_text()[-3000:]}")
        report.n_completions += 1
        check(step.name)
        restore(admin_url, snap, dbname)
    run_step(step, url, log)
    report.n_completions += 1
    check(step.name)
    report.seconds = time.monotonic() - started
    db.drop_database(admin_url, snap)
    return report


def stop_server_under(step: Step, url: str, *, delay: float, stop: Callable[[], None],
                      start: Callable[[], None], log: Path) -> tuple[str, float]:
    """Stop the server `delay` s into `step`, start it again, rerun the step; (how it ended, its seconds).

    'failed clearly' when it exited non-zero with a one-line error (no
    traceback), 'finished despite the stop' when it retried and completed,
    'finished before the stop' when it was done first (nothing was stopped).
    """
    log.write_text("")
    run = _Run(step, url, log)
    code = run.wait(delay)
    if code is not None:
        seconds = time.monotonic() - run.started
        if code != 0:
            raise StepFailed(f"{step.name} exited {code} before the server was stopped; log {log}")
        return "finished before the stop", seconds
    stop()
    code = run.wait(120)
    if code is None:
        run.kill()
        start()
        raise StepFailed(f"{step.name} hung for 120 s after the server stopped; log {log}")
    start()
    text = log.read_text()
    if code != 0:
        if "Traceback" in text or "Error:" not in text:
            raise StepFailed(f"{step.name} failed without a clear message when the server stopped:\n{text[-3000:]}")
        outcome = "failed clearly"
    else:
        outcome = "finished despite the stop"
    run_step(step, url, log)
    return outcome, time.monotonic() - run.started
