"""Run the dbt project (dbt_project/) against the atlas database.

dbt reads its connection from dbt_project/profiles.yml, which takes every
setting from SKINMAP_DBT_* environment variables; this module derives them
from the one SKINMAP_DATABASE_URL setting so that no second configuration
exists. dbt runs as a subprocess (its Python API is not stable across minor
versions, and a subprocess keeps its logging and global state out of ours).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict

PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
TARGET_PATH_ENV = "SKINMAP_DBT_TARGET_PATH"  # lets concurrent runs (tests, CI) keep separate targets


def _target_path() -> Path:
    return Path(os.environ.get(TARGET_PATH_ENV) or PROJECT_DIR / "target")


class DbtError(RuntimeError):
    """dbt exited with an error; the message names the nodes that failed."""


def dbt_env(database_url: str) -> dict[str, str]:
    """The SKINMAP_DBT_* variables profiles.yml reads, from a libpq URL.

    conninfo_to_dict understands `?host=/socket/dir`, which the embedded
    server's URLs use; a host starting with '/' is a unix-socket directory.
    """
    params = conninfo_to_dict(database_url)
    return {
        "SKINMAP_DBT_HOST": str(params.get("host") or "localhost"),
        "SKINMAP_DBT_PORT": str(params.get("port") or 5432),
        "SKINMAP_DBT_USER": str(params.get("user") or os.environ.get("USER", "postgres")),
        "SKINMAP_DBT_PASSWORD": str(params.get("password") or ""),
        "SKINMAP_DBT_DBNAME": str(params.get("dbname") or "postgres"),
    }


def build(
    database_url: str,
    *,
    select: str | None = None,
    vars: dict | None = None,  # noqa: A002 - dbt's own name for them
    command: str = "build",
    quiet: bool = False,
    wait: bool = True,
) -> str:
    """Run `dbt <command>` (build, run, test, ...) on the project; return a one-line summary.

    Streams dbt's output unless `quiet` (then it is shown only on failure).
    Raises DbtError naming the failed models and tests when dbt fails.
    Holds the atlas writer lock (skinmap.atlas_lock) while dbt runs: another
    build, knn or verify-duplicates is waited for, or with `wait=False`
    raises AtlasBusy. A full `build` (no `select`) is built beside the live
    schemas and swapped in at once (skinmap.build_swap); a selection is
    built in place.
    """
    from skinmap import build_swap
    from skinmap.atlas_lock import writer_lock

    swap = command == "build" and not select
    with writer_lock(database_url, "build" if command == "build" else f"dbt {command}", wait=wait):
        if swap:
            build_swap.drop_leftovers(database_url)
            vars = {**(vars or {}), "schema_suffix": build_swap.SUFFIX}  # noqa: A001
        try:
            summary = _run(database_url, select=select, vars=vars, command=command, quiet=quiet)
        except DbtError as exc:
            if swap:
                raise DbtError(f"{exc}. Nothing went live: the kpi views are those of the last complete "
                               "build") from exc
            raise
        if swap:
            build_swap.swap_in(database_url)
    return summary


def _run(database_url: str, *, select: str | None, vars: dict | None, command: str,  # noqa: A002
         quiet: bool) -> str:
    dbt = Path(sys.executable).with_name("dbt")
    args = [str(dbt), *command.split(), "--project-dir", str(PROJECT_DIR)]  # "docs generate": two words
    target = _target_path()
    args += ["--profiles-dir", str(PROJECT_DIR), "--target-path", str(target), "--log-path", str(target / "logs")]
    if select:
        args += ["--select", select]
    if vars:
        args += ["--vars", json.dumps(vars)]
    env = {**os.environ, **dbt_env(database_url)}
    run_results = target / "run_results.json"
    run_results.unlink(missing_ok=True)  # never blame nodes of an earlier run
    done = subprocess.run(args, env=env, cwd=PROJECT_DIR, check=False, text=True,
                          capture_output=quiet)
    if done.returncode != 0:
        if quiet:
            sys.stderr.write(done.stdout[-20000:] + done.stderr[-5000:])
        raise DbtError(_failure_message(command, done.returncode, run_results))
    return _summary(command, run_results)


def _summary(command: str, run_results: Path) -> str:
    """'dbt build: 21 nodes built, 126 tests passed in 4.0 s' from run_results.json."""
    if not run_results.exists():
        return f"dbt {command}: done"
    run = json.loads(run_results.read_text())
    results = run.get("results", [])
    tests = sum(1 for r in results if r["unique_id"].startswith("test."))
    return (f"dbt {command}: {len(results) - tests} models and seeds built, {tests} tests passed "
            f"in {run.get('elapsed_time', 0):.1f} s")


def _failure_message(command: str, returncode: int, run_results: Path) -> str:
    """Name the failed nodes from dbt's run_results.json, where dbt got that far."""
    failed: list[str] = []
    if run_results.exists():
        results = json.loads(run_results.read_text()).get("results", [])
        failed = [
            f"{result['unique_id']} ({result['status']})"
            for result in results
            if result.get("status") in ("error", "fail", "runtime error")
        ]
    if not failed:
        return f"dbt {command} exited with code {returncode}; see its output above"
    return f"dbt {command} failed (exit {returncode}): " + ", ".join(failed)


def project_var(name: str):
    """A variable as dbt_project.yml declares it: the one place a threshold is set (Python steps read it too)."""
    import yaml

    declared = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text()).get("vars", {})
    if name not in declared:
        raise KeyError(f"dbt variable {name!r} is not declared in {PROJECT_DIR / 'dbt_project.yml'}")
    return declared[name]
