"""A database password never reaches process arguments, logs or messages.

Any local user can read every process's arguments (`ps`, /proc/N/cmdline),
and logs are shared and kept. The embedded server's socket trusts local
users, so a URL with a password still connects there: the password is
carried through the real commands and must show up nowhere.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

from skinmap import urls
from tests.test_embed_queue import _ingest


def _with_password(url: str, password: str) -> str:
    return urls.build(replace(urls.parse(url), password=password))


def _cmdlines() -> list[str]:
    lines = []
    for proc in Path("/proc").iterdir():
        try:
            lines.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except (OSError, ValueError):
            continue
    return lines


def _run_watching_cmdlines(argv: list[str], env: dict, secret: str) -> tuple[subprocess.CompletedProcess, int, int]:
    """Run argv; meanwhile read every process's arguments. (result, snapshots taken, skinmap processes seen)."""
    process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    snapshots, seen, leaked = 0, 0, []
    while process.poll() is None:
        lines = _cmdlines()
        snapshots += 1
        seen = max(seen, sum("-m skinmap" in line for line in lines))
        leaked += [line for line in lines if secret in line]
        time.sleep(0.05)
    out, err = process.communicate()
    assert not leaked, leaked
    return subprocess.CompletedProcess(argv, process.returncode, out, err), snapshots, seen


def test_parallel_embed_workers_get_the_password_in_no_argument(atlas_db, tmp_path):
    secret = f"pw-{uuid.uuid4().hex}"
    _ingest(atlas_db, tmp_path, ".png")
    env = {**os.environ, "SKINMAP_DATABASE_URL": _with_password(atlas_db, secret), "SKINMAP_TEST_SLOW_BATCH": "0.2"}
    argv = [sys.executable, "-m", "skinmap", "embed", "--model", "skinmap-tiny-vit", "--pretrained", "none",
            "--device", "cpu", "--workers", "0", "--batch-size", "8", "--parallel", "2"]
    result, snapshots, seen = _run_watching_cmdlines(argv, env, secret)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("embedded") == 2  # both workers ran, and connected with the URL from the environment
    assert snapshots > 5 and seen >= 3  # the parent and its two workers were looked at
    assert secret not in result.stdout + result.stderr


def test_dbt_gets_the_password_from_the_environment_and_logs_none_of_it(atlas_db, tmp_path):
    secret = f"pw-{uuid.uuid4().hex}"
    target = tmp_path / "dbt_target"
    env = {**os.environ, "SKINMAP_DATABASE_URL": _with_password(atlas_db, secret),
           "SKINMAP_DBT_TARGET_PATH": str(target)}
    argv = [sys.executable, "-m", "skinmap", "build", "--select", "acquisition_targets"]  # a seed: dbt connects, writes, tests
    result, _, _ = _run_watching_cmdlines(argv, env, secret)
    assert result.returncode == 0, result.stderr
    logs = [p for p in target.rglob("*") if p.is_file()]
    assert any(p.name == "dbt.log" for p in logs)
    assert not [p for p in logs if secret.encode() in p.read_bytes()]
    assert secret not in result.stdout + result.stderr


def test_a_failed_login_names_the_server_but_not_the_password():
    secret = f"pw-{uuid.uuid4().hex}"
    result = subprocess.run([sys.executable, "-m", "skinmap", "--database-url",
                             f"postgresql://someone:{secret}@127.0.0.1:9/nowhere", "kpi", "kpi_representation"],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert "127.0.0.1" in result.stderr and secret not in result.stdout + result.stderr
