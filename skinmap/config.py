"""Where SkinMap keeps its state: one home folder and one connection setting.

SKINMAP_HOME holds the embedded database and caches (tests and users keep
separate atlases by pointing it elsewhere); SKINMAP_DATABASE_URL, when set,
replaces the embedded database with any PostgreSQL that has pgvector >= 0.8.
SKINMAP_MAX_PIXELS is the decoding budget: an image whose header claims more
pixels is quarantined unread, so a decompression bomb cannot exhaust memory.
"""
from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "SKINMAP_HOME"
DATABASE_URL_ENV = "SKINMAP_DATABASE_URL"
ATLAS_ENV = "SKINMAP_ATLAS"  # a named atlas: a database on the server (skinmap --atlas NAME)
MAX_PIXELS_ENV = "SKINMAP_MAX_PIXELS"
DEFAULT_MAX_PIXELS = 100_000_000  # a 10,000 x 10,000 total-body photo fits; a 400 MP bomb does not
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


def max_pixels() -> int:
    """The pixel budget: width x height above which an image is never decoded."""
    configured = os.environ.get(MAX_PIXELS_ENV)
    if not configured:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(configured.replace("_", ""))
    except ValueError:
        raise ValueError(f"{MAX_PIXELS_ENV}={configured!r} is not a whole number of pixels") from None
    if value < 1:
        raise ValueError(f"{MAX_PIXELS_ENV}={configured!r} must be at least 1")
    return value
