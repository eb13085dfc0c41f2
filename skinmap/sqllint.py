"""`python -m skinmap.sqllint`: sqlfluff over dbt models and sql/ against the atlas database.

sqlfluff's dbt templater compiles the models and so needs a reachable
database; this points it at the same atlas every command uses.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from skinmap import config, db, migrate
from skinmap.dbt_runner import dbt_env


def main(url: str | None = None) -> int:
    """Lint dbt models (dbt templater) and sql/ (plain PostgreSQL, raw templater); 0 when clean."""
    url = migrate.ready(url or db.resolve_url())
    env = {**os.environ, **dbt_env(url)}
    sqlfluff = str(Path(sys.executable).with_name("sqlfluff"))
    runs = [[sqlfluff, "lint", "dbt_project/models"], [sqlfluff, "lint", "--templater", "raw", "sql"]]
    codes = [subprocess.run(args, env=env, cwd=config.REPO_ROOT, check=False).returncode for args in runs]
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
