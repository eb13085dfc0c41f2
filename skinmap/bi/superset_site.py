"""`skinmap bi superset` end to end: a reader login, a running Superset, and the objects in it.

Superset reaches the atlas over TCP as a member of skinmap_reader (never as
the owner), so whatever a dashboard user does in SQL Lab is bounded by that
role's grants: the kpi views, read-only.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from skinmap import reader_access
from skinmap.bi import superset
from skinmap.bi.superset_api import SupersetApi
from skinmap.bi.superset_dashboard import DASHBOARD_SLUG, Provisioned, provision
from skinmap.db import connect


@dataclass
class SupersetSite:
    """A provisioned Superset, still running as `process` (stop it with superset.stop_server)."""

    url: str
    username: str
    password: str
    home: Path
    provisioned: Provisioned
    process: subprocess.Popen

    @property
    def dashboard_url(self) -> str:
        return f"{self.url}/superset/dashboard/{DASHBOARD_SLUG}/"


def kpi_views(database_url: str) -> list[str]:
    """The views of schema kpi, in name order (the ones dbt has built)."""
    with connect(database_url) as conn:
        rows = conn.execute("select table_name from information_schema.views "
                            "where table_schema = 'kpi' order by table_name").fetchall()
    return [name for (name,) in rows]


def provision_superset(database_url: str, *, reader_host: str, reader_port: int, reader_name: str,
                       home_dir: Path, port: int) -> SupersetSite:
    """Grant `reader_name`, set Superset up in `home_dir`, start it on `port`, provision; leave it running."""
    superset.superset_executable()  # fail before granting anything when Superset is not installed
    views = kpi_views(database_url)
    if not views:
        raise superset.SupersetError("schema kpi has no views yet: run `skinmap build` first")
    reader_access.grant_reader(database_url, reader_name)
    reader_url = reader_access.reader_url(database_url, reader_name, host=reader_host, port=reader_port)
    home = superset.prepare_home(home_dir)
    superset.initialise(home)
    process = superset.start_server(home, port)
    url = f"http://127.0.0.1:{port}"
    password = superset.admin_password(home)
    try:
        api = SupersetApi(url, superset.ADMIN_USER, password)
        done = provision(api, reader_url.replace("postgresql://", "postgresql+psycopg2://", 1), views)
    except Exception:
        superset.stop_server(process)
        raise
    return SupersetSite(url, superset.ADMIN_USER, password, home.path, done, process)
