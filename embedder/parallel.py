"""One command, several worker processes: one per GPU (CUDA_VISIBLE_DEVICES), or N CPU workers.

The processes share the model's work through atlas.embed_work like workers
on different machines do; this module only starts them and adds up their
summaries.
"""
from __future__ import annotations

import os
import subprocess
import sys


def spawn_workers(base_args: list[str], n: int, *, is_cuda: bool) -> list[subprocess.Popen]:
    """Start `python -m skinmap <base_args>` n times; on CUDA worker i sees only GPU i."""
    processes = []
    for index in range(n):
        env = dict(os.environ)
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
