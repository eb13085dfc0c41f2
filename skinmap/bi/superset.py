"""Apache Superset beside the atlas: its own virtualenv, metadata database and process.

Superset pins hundreds of packages that clash with ours, so it lives in its
own virtualenv (.venv-superset, `make superset`) and is only ever run as a
subprocess. Its metadata (users, charts, dashboards) is a SQLite file in the
Superset home folder, beside the superset_config.py that holds the generated
SECRET_KEY; SUPERSET_CONFIG_PATH points Superset at that file.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from skinmap import config

VENV_ENV = "SKINMAP_SUPERSET_VENV"
ADMIN_USER = "admin"
SUPERSET_VERSION = "6.1.0"


class SupersetError(RuntimeError):
    """Superset is missing, failed a setup step, or did not answer."""


@dataclass(frozen=True)
class SupersetHome:
    """The folder that holds one Superset's metadata database, config and logs."""

    path: Path

    @property
    def config_file(self) -> Path:
        return self.path / "superset_config.py"

    @property
    def admin_password_file(self) -> Path:
        return self.path / "admin_password"

    @property
    def log_file(self) -> Path:
        return self.path / "superset.log"


def default_home() -> Path:
    return config.home() / "superset"


def superset_executable() -> Path:
    """The `superset` script of the Superset virtualenv (SKINMAP_SUPERSET_VENV or .venv-superset)."""
    venv = Path(os.environ.get(VENV_ENV) or config.REPO_ROOT / ".venv-superset")
    executable = venv / "bin" / "superset"
    if not executable.exists():
        raise SupersetError(
            f"Superset is not installed in {venv}: run `make superset` (apache-superset=={SUPERSET_VERSION} "
            f"in its own virtualenv) or set {VENV_ENV}"
        )
    return executable


def _secret(path: Path) -> str:
    """A random secret kept in `path` (mode 0600): generated once, the same on every later run."""
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(42)
    path.touch(mode=0o600)
    path.write_text(value)
    return value


_CONFIG_TEMPLATE = '''\
# Written by skinmap (skinmap/bi/superset.py); rewritten on every `skinmap bi superset`.
SECRET_KEY = {secret_key!r}
SQLALCHEMY_DATABASE_URI = {metadata_uri!r}
# The atlas is read through a reader login: SQL Lab may read, never write.
PREVENT_UNSAFE_DB_CONNECTIONS = True
# A local tool: no example data is loaded, logins are not rate-limited.
RATELIMIT_ENABLED = False
'''


def prepare_home(folder: Path) -> SupersetHome:
    """Create the Superset home: SECRET_KEY and admin password (kept), superset_config.py (written)."""
    folder.mkdir(parents=True, exist_ok=True)
    home = SupersetHome(folder.resolve())
    secret_key = _secret(home.path / "secret_key")
    _secret(home.admin_password_file)
    home.config_file.write_text(_CONFIG_TEMPLATE.format(
        secret_key=secret_key,
        metadata_uri=f"sqlite:///{home.path / 'superset.db'}?check_same_thread=false",  # Superset's own default
    ))
    return home


def admin_password(home: SupersetHome) -> str:
    return home.admin_password_file.read_text().strip()


def _env(home: SupersetHome) -> dict[str, str]:
    return {**os.environ, "SUPERSET_CONFIG_PATH": str(home.config_file), "FLASK_APP": "superset",
            "SUPERSET_LOAD_EXAMPLES": "no"}


def _run_superset(home: SupersetHome, *args: str) -> None:
    """One `superset ...` setup step; its output goes to the log, and its tail into the error."""
    with home.log_file.open("a") as log:
        log.write(f"\n$ superset {' '.join(args)}\n")
        log.flush()
        done = subprocess.run([str(superset_executable()), *args], env=_env(home), stdout=log,
                              stderr=subprocess.STDOUT, check=False, timeout=600)
    if done.returncode != 0:
        tail = home.log_file.read_text()[-3000:]
        raise SupersetError(f"`superset {args[0]}` failed (exit {done.returncode}); {home.log_file} ends with:\n{tail}")


def initialise(home: SupersetHome) -> None:
    """Migrate the metadata database, create the admin user (once) and the default roles."""
    _run_superset(home, "db", "upgrade")
    if not (home.path / "admin_created").exists():
        _run_superset(home, "fab", "create-admin", "--username", ADMIN_USER, "--firstname", "SkinMap",
                      "--lastname", "Admin", "--email", "admin@skinmap.invalid",
                      "--password", admin_password(home))
        (home.path / "admin_created").touch()
    _run_superset(home, "init")


def start_server(home: SupersetHome, port: int, *, timeout_s: float = 120) -> subprocess.Popen:
    """Run `superset run` on 127.0.0.1:`port` in the background; return once /health answers."""
    log = home.log_file.open("a")
    process = subprocess.Popen(
        [str(superset_executable()), "run", "-h", "127.0.0.1", "-p", str(port), "--with-threads"],
        env=_env(home), stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SupersetError(f"Superset exited (code {process.returncode}); see {home.log_file}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                if response.status == 200:
                    return process
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(1)
    stop_server(process)
    raise SupersetError(f"Superset did not answer on 127.0.0.1:{port} within {timeout_s:.0f} s; see {home.log_file}")


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
