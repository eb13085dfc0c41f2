"""The dbt documentation site of the atlas: generated offline, written to a folder or served.

`dbt docs generate` compiles the project and reads the catalog (columns and
types of every relation) from the atlas; the site is three static files
(index.html, manifest.json, catalog.json) that need no network to open.
"""
from __future__ import annotations

import functools
import json
import shutil
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from skinmap import dbt_runner

SITE_FILES = ("index.html", "manifest.json", "catalog.json")


def write_site(database_url: str, out_dir: Path) -> list[str]:
    """Run `dbt docs generate` against the atlas, copy the site to `out_dir`; return the kpi views catalogued."""
    dbt_runner.build(database_url, command="docs generate", quiet=True)
    target = dbt_runner._target_path()
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in SITE_FILES:
        shutil.copy(target / name, out_dir / name)
    return catalogued_kpi_views(out_dir / "catalog.json")


def catalogued_kpi_views(catalog_path: Path) -> list[str]:
    """Names of the relations in schema kpi that the catalog describes (columns read from the database)."""
    nodes = json.loads(catalog_path.read_text())["nodes"].values()
    return sorted(node["metadata"]["name"] for node in nodes if node["metadata"]["schema"] == "kpi")


def serve(site_dir: Path, port: int) -> ThreadingHTTPServer:
    """An HTTP server for `site_dir` on 127.0.0.1:`port` (call serve_forever on it)."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


class _QuietHandler(SimpleHTTPRequestHandler):
    """Static files without a log line per request."""

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - the base class's name
        pass
