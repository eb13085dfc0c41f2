"""Shared fixtures: a real PostgreSQL with pgvector for every test, never a stub.

With SKINMAP_DATABASE_URL set, tests create their databases on that server;
otherwise the embedded server is started in a temporary SKINMAP_HOME (so a
user's own atlas is never touched) and stopped at the end.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from skinmap import db, migrate


def pytest_configure(config):
    config.addinivalue_line("markers", "superset: Superset end to end (needs .venv-superset: make superset)")


@pytest.fixture(scope="session", autouse=True)
def _private_dbt_target(tmp_path_factory):
    """dbt's target/ (manifest, run results) per test session, so concurrent runs never collide."""
    os.environ["SKINMAP_DBT_TARGET_PATH"] = str(tmp_path_factory.mktemp("dbt_target"))


@pytest.fixture(scope="session")
def server_url(tmp_path_factory) -> str:
    external = os.environ.get("SKINMAP_DATABASE_URL")
    if external:
        yield external
        return
    home = tmp_path_factory.mktemp("home")
    os.environ["SKINMAP_HOME"] = str(home)
    from skinmap import embedded

    yield embedded.admin_url()
    embedded.stop()


@pytest.fixture
def empty_db(server_url) -> str:
    """A new, empty database (no schema) on the test server; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    url = db.create_database(server_url, name)
    yield url
    db.drop_database(server_url, name)


@pytest.fixture
def atlas_db(empty_db) -> str:
    """A new database migrated to head."""
    migrate.upgrade(empty_db)
    return empty_db


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def kpi_atlas(server_url, tmp_path_factory) -> str:
    """A small generated atlas, ingested, embedded, `dbt seed` + `dbt run` once per session; treat as read-only.

    `dbt run`, not build: the data tests are test_kpis_vs_truth's job, and a
    model that fails to build is reported while the others stay usable.
    """
    import sys

    from embedder.models import load_encoder
    from embedder.pipeline import embed_images
    from skinmap import demo
    from skinmap.dbt_runner import DbtError, build
    from skinmap.ingest import ingest, load_mapping

    name = "t_kpi_atlas_session"
    url = db.create_database(server_url, name, drop_first=True)
    migrate.upgrade(url)
    data_dir = tmp_path_factory.mktemp("kpi_atlas_synth")
    truth = demo.prepare_data(data_dir, scale=0.1, seed=11)
    for dataset in truth["datasets"]:
        ingest(url, load_mapping(data_dir / dataset["slug"] / "mapping.yaml"), progress=False)
    embed_images(url, load_encoder(demo.DEMO_MODEL, demo.DEMO_WEIGHTS), batch_size=32, progress=False)
    try:
        build(url, command="seed", quiet=True)
        build(url, command="run", quiet=True)
    except DbtError as exc:
        sys.stderr.write(f"kpi_atlas: {exc}\n")
    yield url
    db.drop_database(server_url, name)
