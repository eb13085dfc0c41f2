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
_RUN_RESULTS = PROJECT_DIR / "target" / "run_results.json"


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
) -> None:
    """Run `dbt <command>` (build, run, test, ...) on the project, streaming its output.

    Raises DbtError naming the failed models and tests when dbt fails.
    """
    dbt = Path(sys.executable).with_name("dbt")
    args = [str(dbt), command, "--project-dir", str(PROJECT_DIR)]
    args += ["--profiles-dir", str(PROJECT_DIR)]
    if select:
        args += ["--select", select]
    if vars:
        args += ["--vars", json.dumps(vars)]
    env = {**os.environ, **dbt_env(database_url)}
    _RUN_RESULTS.unlink(missing_ok=True)  # never blame nodes of an earlier run
    returncode = subprocess.run(args, env=env, cwd=PROJECT_DIR, check=False).returncode
    if returncode != 0:
        raise DbtError(_failure_message(command, returncode))


def _failure_message(command: str, returncode: int) -> str:
    """Name the failed nodes from dbt's run_results.json, where dbt got that far."""
    failed: list[str] = []
    if _RUN_RESULTS.exists():
        results = json.loads(_RUN_RESULTS.read_text()).get("results", [])
        failed = [
            f"{result['unique_id']} ({result['status']})"
            for result in results
            if result.get("status") in ("error", "fail", "runtime error")
        ]
    if not failed:
        return f"dbt {command} exited with code {returncode}; see its output above"
    return f"dbt {command} failed (exit {returncode}): " + ", ".join(failed)
