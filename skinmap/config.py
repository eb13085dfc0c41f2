"""Where SkinMap keeps its state: one home folder and one connection setting.

SKINMAP_HOME holds the embedded database and caches (tests and users keep
separate atlases by pointing it elsewhere); SKINMAP_DATABASE_URL, when set,
replaces the embedded database with any PostgreSQL that has pgvector >= 0.8.
"""
from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "SKINMAP_HOME"
DATABASE_URL_ENV = "SKINMAP_DATABASE_URL"
ATLAS_ENV = "SKINMAP_ATLAS"  # a named atlas: a database on the server (skinmap --atlas NAME)
REPO_ROOT = Path(__file__).resolve().parent.parent


def home() -> Path:
    """The SkinMap home folder (created on first use)."""
    configured = os.environ.get(HOME_ENV)
    if configured:
        path = Path(configured).expanduser()
    else:
        import platformdirs

        path = platformdirs.user_data_path("skinmap")
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def configured_database_url() -> str | None:
    """The external database URL, if the user chose one."""
    return os.environ.get(DATABASE_URL_ENV) or None
