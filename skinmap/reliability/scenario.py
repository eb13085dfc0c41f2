"""The crash-recovery scenario end to end: a reference run, then the same pipeline under kills.

Used by tests/test_crash_recovery.py (a few kills per step) and
bench/crash_recovery.py (20 and more); both assert the same things: after
every completed step its tables hold exactly the reference's rows (none
missing, none twice, none unexpected), and at the end every kpi view
equals the reference's (`atlas_state.kpi_contents`).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from skinmap import db, migrate
from skinmap.reliability import atlas_state, crash


@dataclass
class ScenarioResult:
    reference_seconds: dict[str, float]
    kills: dict[str, crash.KillReport]
    server_restarts: dict[str, str] = field(default_factory=dict)  # "step #n" -> how the step ended
    table_diffs: list[atlas_state.TableDiff] = field(default_factory=list)
    differing_views: list[str] = field(default_factory=list)
    n_views: int = 0
    seconds: float = 0.0

    @property
    def rows_lost(self) -> int:
        return sum(d.n_missing for d in self.table_diffs)

    @property
    def rows_duplicated(self) -> int:
        return sum(d.n_duplicate for d in self.table_diffs)


class InvariantBroken(AssertionError):
    """A completed step left rows missing, twice or unexpected, or a kpi view differs."""


def reference_run(admin_url: str, dbname: str, steps: list[crash.Step], logs: Path) -> dict[str, float]:
    """Every step once, uninterrupted, in a fresh database; seconds per step."""
    url = db.create_database(admin_url, dbname, drop_first=True)
    migrate.upgrade(url)
    return {s.name: crash.run_step(s, url, logs / f"reference-{s.name}.log") for s in steps}


def crash_run(admin_url: str, data_dir: Path, truth: dict, logs: Path, *, kills: dict[str, int],
              server_stops: dict[str, int], seed: int, stop_server, start_server,
              reference_db: str = "crash_reference", reference_seconds: dict[str, float] | None = None,
              crashed_db: str = "crash_killed", echo=print) -> ScenarioResult:
    """Each step killed `kills[step]` times and its server stopped `server_stops[step]` times.

    Compared with the uninterrupted run in `reference_db`, made first unless
    `reference_seconds` says it exists already.
    """
    started = time.monotonic()
    logs.mkdir(parents=True, exist_ok=True)
    steps = crash.pipeline_steps(data_dir, truth)
    if reference_seconds is None:
        reference_seconds = reference_run(admin_url, reference_db, steps, logs)
        echo("reference run: " + ", ".join(f"{k} {v:.1f} s" for k, v in reference_seconds.items()))
    reference_url = db.with_database(admin_url, reference_db)
    reference_rows = atlas_state.table_rows(reference_url)
    reference_contents = atlas_state.kpi_contents(reference_url)

    url = db.create_database(admin_url, crashed_db, drop_first=True)
    migrate.upgrade(url)
    rng = random.Random(seed)
    result = ScenarioResult(reference_seconds, {})

    def check(step_name: str) -> None:
        tables = crash.STEP_TABLES[step_name]
        diffs = atlas_state.compare_tables(atlas_state.table_rows(url, tables), reference_rows) if tables else []
        broken = [d for d in diffs if not d.ok]
        if broken:
            raise InvariantBroken(f"after {step_name}: {broken}")
        if step_name == "build":
            differing = atlas_state.differing_views(atlas_state.kpi_contents(url), reference_contents)
            if differing:
                raise InvariantBroken(f"after build: kpi views differ from the reference: {differing}")

    for step in steps:
        log = logs / f"killed-{step.name}.log"
        log.write_text("")
        restore_point = f"{crashed_db}_before_stop"
        n, longest = 0, reference_seconds[step.name]
        while n < server_stops.get(step.name, 0):
            crash.snapshot(admin_url, crashed_db, restore_point)
            delay = rng.uniform(0.1, longest)
            outcome, seconds = crash.stop_server_under(step, url, delay=delay, stop=stop_server,
                                                       start=start_server,
                                                       log=logs / f"server-stop-{step.name}-{n}.log")
            check(step.name)
            crash.restore(admin_url, restore_point, crashed_db)
            if outcome == "finished before the stop":
                longest = min(longest, seconds)  # draw again within the time it really took
                continue
            n += 1
            result.server_restarts[f"{step.name} #{n}"] = f"{outcome} (stopped at {delay:.1f} s)"
        db.drop_database(admin_url, restore_point)
        report = crash.kill_repeatedly(step, admin_url, crashed_db, kills=kills.get(step.name, 0),
                                       duration=reference_seconds[step.name], rng=rng, log=log, check=check)
        result.kills[step.name] = report
        echo(f"{step.name}: {report.n_kills} kills, {report.n_completions} completions checked, "
             f"{report.seconds:.1f} s")

    result.table_diffs = atlas_state.compare_tables(atlas_state.table_rows(url), reference_rows)
    contents = atlas_state.kpi_contents(url)
    result.n_views = len(contents)
    result.differing_views = atlas_state.differing_views(contents, reference_contents)
    result.seconds = time.monotonic() - started
    return result
