"""One command, several worker processes: one per GPU (CUDA_VISIBLE_DEVICES), or N CPU workers.

The processes share the model's work through atlas.embed_work like workers
on different machines do; this module only starts them and adds up their
summaries.
"""
from __future__ import annotations

import os
import subprocess
import sys


def spawn_workers(base_args: list[str], n: int, *, is_cuda: bool, database_url: str) -> list[subprocess.Popen]:
    """Start `python -m skinmap <base_args>` n times; on CUDA worker i sees only GPU i.

    The database URL goes in the environment (SKINMAP_DATABASE_URL), never in
    the arguments: any local user can read a process's arguments (`ps`), and
    the URL may hold a password."""
    processes = []
    for index in range(n):
        env = {**os.environ, "SKINMAP_DATABASE_URL": database_url}
        if is_cuda:
            env["CUDA_VISIBLE_DEVICES"] = str(index)
        processes.append(subprocess.Popen([sys.executable, "-m", "skinmap", *base_args], env=env,
                                          stdout=subprocess.PIPE, text=True))
    return processes


def wait_all(processes: list[subprocess.Popen]) -> tuple[list[str], list[int]]:
    """Summary lines (stdout) and exit codes of every worker."""
    lines, codes = [], []
    for process in processes:
        out, _ = process.communicate()
        lines.extend(line for line in out.splitlines() if line.strip())
        codes.append(process.returncode)
    return lines, codes
