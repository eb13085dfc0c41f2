"""`skinmap docs`: dbt docs generated offline from the atlas, written to a folder and served on loopback."""
from __future__ import annotations

import json
import socket
import threading
import urllib.request

from click.testing import CliRunner

from skinmap.cli import cli
from skinmap.db import connect
from skinmap.docs_site import serve


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_docs_catalog_lists_every_kpi_view_with_its_columns(kpi_atlas, tmp_path):
    site = tmp_path / "site"
    result = CliRunner().invoke(cli, ["--database-url", kpi_atlas, "docs", "--out", str(site)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in site.iterdir()} >= {"index.html", "manifest.json", "catalog.json"}
    assert (site / "index.html").stat().st_size > 100_000  # dbt's bundled single-page app

    catalog = json.loads((site / "catalog.json").read_text())["nodes"]
    in_catalog = {node["metadata"]["name"]: node for node in catalog.values() if node["metadata"]["schema"] == "kpi"}
    with connect(kpi_atlas) as conn:
        views = {name for (name,) in conn.execute(
            "select table_name from information_schema.views where table_schema = 'kpi'")}
        columns = [name for (name,) in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'kpi' and table_name = 'kpi_representation_v1' order by ordinal_position")]
    assert {"kpi_representation_v1", "kpi_novelty_by_year_v1"} <= views
    assert set(in_catalog) == views
    assert list(in_catalog["kpi_representation_v1"]["columns"]) == columns

    manifest = json.loads((site / "manifest.json").read_text())["nodes"]
    kpi_models = [n for n in manifest.values() if n["resource_type"] == "model" and n["schema"] == "kpi"]
    assert kpi_models and all(n["config"]["contract"]["enforced"] and n["version"] for n in kpi_models)
    assert all(n["description"] for n in kpi_models)


def test_docs_site_is_served_on_loopback(tmp_path):
    (tmp_path / "index.html").write_text("<html>dbt docs</html>")
    (tmp_path / "catalog.json").write_text('{"nodes": {}}')
    server = serve(tmp_path, _free_port())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/catalog.json", timeout=10) as response:
            assert json.loads(response.read()) == {"nodes": {}}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert b"dbt docs" in response.read()
    finally:
        server.shutdown()
        server.server_close()


def test_docs_needs_a_destination():
    result = CliRunner().invoke(cli, ["docs"])
    assert result.exit_code != 0 and "--out DIR" in result.output
