"""End to end: `skinmap bi superset` on a small built atlas, then Superset's REST API and its dashboard in Chromium.

Superset (6.1.0, its own virtualenv .venv-superset: `make superset`) reaches
the atlas over TCP as a reader login. The check reads a kpi view through SQL
Lab and the chart data API, is refused a raw table, and opens the starter
dashboard in headless Chromium with the telemetry pixel blocked. Its wall
time goes to artifacts/superset_check.json.
"""
from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from skinmap import embedded, migrate
from skinmap.bi import superset
from skinmap.bi.superset_api import SupersetApi
from skinmap.bi.superset_dashboard import CHARTS, DATABASE_NAME
from skinmap.cli import cli
from skinmap.db import connect

pytestmark = pytest.mark.superset
BROWSER_DIR = Path(__file__).parent / "browser"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _build_small_atlas(url: str, data_dir: Path) -> None:
    """Ingest, embed and kNN a 0.1-scale synthetic atlas, then `dbt seed` + `dbt run` (the kpi views)."""
    from embedder.models import load_encoder
    from embedder.pipeline import embed_images
    from skinmap import demo
    from skinmap.dbt_runner import build
    from skinmap.ingest import ingest, load_mapping
    from skinmap.knn import compute_neighbours

    migrate.upgrade(url)
    truth = demo.prepare_data(data_dir, scale=0.1, seed=11)
    for dataset in truth["datasets"]:
        ingest(url, load_mapping(data_dir / dataset["slug"] / "mapping.yaml"), progress=False)
    embed_images(url, load_encoder(demo.DEMO_MODEL, demo.DEMO_WEIGHTS), batch_size=32, progress=False)
    compute_neighbours(url)
    build(url, command="seed", quiet=True)
    build(url, command="run", quiet=True)


@pytest.fixture
def tcp_atlas(server_url, tmp_path, monkeypatch):
    """A second embedded server in its own SKINMAP_HOME on a TCP port, with a small built atlas."""
    monkeypatch.setenv("SKINMAP_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SKINMAP_DATABASE_URL", raising=False)
    port = _free_port()
    embedded.start_tcp(port)
    url = embedded.start()
    started = time.monotonic()
    _build_small_atlas(url, tmp_path / "synth")
    yield url, port, time.monotonic() - started
    embedded.stop()


def test_superset_dashboard_reads_kpi_views_as_reader_only(tcp_atlas, tmp_path, repo_root):
    started = time.monotonic()
    url, db_port, atlas_seconds = tcp_atlas
    home_dir, port = tmp_path / "superset", _free_port()
    provisioned = CliRunner().invoke(cli, ["bi", "superset", "--db-port", str(db_port), "--port", str(port),
                                           "--home", str(home_dir), "--reader", "dash"])
    assert provisioned.exit_code == 0, provisioned.output
    assert "/superset/dashboard/skinmap-atlas/" in provisioned.output and "5 charts" in provisioned.output
    assert (home_dir / "superset.db").exists() and "SECRET_KEY" in (home_dir / "superset_config.py").read_text()
    seconds = {"provision": time.monotonic() - started}

    home = superset.prepare_home(home_dir)  # the kept secret and password, the same config
    process = superset.start_server(home, port)  # the objects outlive the provisioning run
    try:
        base = f"http://127.0.0.1:{port}"
        api = SupersetApi(base, superset.ADMIN_USER, superset.admin_password(home))
        database = api.find("database", database_name=DATABASE_NAME)
        assert database is not None

        def sql_lab(query: str) -> dict:
            return api.request("POST", "/api/v1/sqllab/execute/",
                               {"database_id": database["id"], "sql": query, "schema": "kpi", "runAsync": False},
                               ok_statuses=(400, 422, 500))

        connection = api.request("GET", f"/api/v1/database/{database['id']}/connection")["result"]
        assert connection["sqlalchemy_uri"].startswith("postgresql+psycopg2://dash:")  # the reader, not the owner
        assert connection["sqlalchemy_uri"].endswith(f"@127.0.0.1:{db_port}/skinmap")
        read = sql_lab("select value, n_images from kpi.kpi_representation_v1 "
                       "where attribute = 'fitzpatrick_group' order by value_order")
        with connect(url) as conn:
            expected = conn.execute("select value, n_images from kpi.kpi_representation_v1 "
                                    "where attribute = 'fitzpatrick_group' order by value_order").fetchall()
        assert [(row["value"], row["n_images"]) for row in read["data"]] == expected and expected

        dataset = api.find("dataset", table_name="kpi_novelty_by_year_v1", schema="kpi")
        chart_data = api.request("POST", "/api/v1/chart/data", {
            "datasource": {"id": dataset["id"], "type": "table"},
            "queries": [{"columns": ["release_year"], "metrics": [
                {"expressionType": "SQL", "sqlExpression": "avg(raw_novelty)", "label": "novelty"}],
                "orderby": [["release_year", True]], "row_limit": 100}],
            "result_format": "json", "result_type": "full"})
        years = chart_data["result"][0]["data"]
        assert len(years) >= 3 and any(row["novelty"] is not None for row in years)

        refused = sql_lab("select * from atlas.image limit 1")
        assert "data" not in refused or not refused.get("data")
        assert "permission denied for schema atlas" in json.dumps(refused)
        seconds["api"] = time.monotonic() - started - seconds["provision"]

        artifacts = repo_root / "artifacts"
        artifacts.mkdir(exist_ok=True)
        shot = artifacts / "superset_dashboard.png"
        done = subprocess.run(
            ["node", str(BROWSER_DIR / "check_superset.mjs"), base, superset.ADMIN_USER,
             superset.admin_password(home), "/superset/dashboard/skinmap-atlas/", str(shot)],
            capture_output=True, text=True, timeout=240, check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        check = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        superset.stop_server(process)
    assert check["errors"] == [] and check["title"] == "SkinMap atlas"
    assert check["expected"] == len(CHARTS)
    assert all(chart["drawn"] and chart["error"] is None for chart in check["charts"]), check["charts"]
    assert all("127.0.0.1" not in blocked for blocked in check["blocked"])
    assert shot.stat().st_size > 50_000
    seconds["browser"] = time.monotonic() - started - seconds["provision"] - seconds["api"]
    seconds["total"] = time.monotonic() - started + atlas_seconds
    (artifacts / "superset_check.json").write_text(json.dumps(
        {"seconds": {k: round(v, 1) for k, v in {"atlas": atlas_seconds, **seconds}.items()}, "charts": check["charts"],
         "blocked_requests": check["blocked"]}, indent=2))


def test_missing_superset_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv(superset.VENV_ENV, str(tmp_path / "no-venv"))
    with pytest.raises(superset.SupersetError, match="make superset"):
        superset.superset_executable()
