"""Logins for BI tools and analysts: members of the read-only role skinmap_reader.

The role itself comes from a migration (sql/roles/skinmap_reader_v1.sql); this
module only creates member logins with a generated password and remembers the
password in $SKINMAP_HOME/readers.json (mode 0600), so that `skinmap db url
--reader` can print the connection string a BI tool needs.
"""
from __future__ import annotations

import json
import os
import re
import secrets
from pathlib import Path

from psycopg import sql

from skinmap import config
from skinmap.db import DatabaseError, connect

READER_GROUP = "skinmap_reader"
_LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _credentials_file() -> Path:
    return config.home() / "readers.json"


def _load() -> dict[str, str]:
    path = _credentials_file()
    return json.loads(path.read_text()) if path.exists() else {}


def _save(credentials: dict[str, str]) -> None:
    path = _credentials_file()
    path.touch(mode=0o600, exist_ok=True)
    os.chmod(path, 0o600)
    path.write_text(json.dumps(credentials, indent=2, sort_keys=True))


def grant_reader(database_url: str, name: str, password: str | None = None) -> str:
    """Create (or reset) login `name` as a member of skinmap_reader; return its password.

    The login is read-only by default (default_transaction_read_only) on top
    of the grants, and may not create objects anywhere.
    """
    if not _LOGIN_NAME.match(name):
        raise DatabaseError(f"reader name {name!r}: use lower-case letters, digits and _ (max 63)")
    password = password or secrets.token_urlsafe(18)
    with connect(database_url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_roles where rolname = %s", (READER_GROUP,)).fetchone():
            raise DatabaseError("role skinmap_reader is missing: run `skinmap db migrate` first")
        login = sql.Identifier(name)
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (name,)).fetchone()
        verb = sql.SQL("alter") if exists else sql.SQL("create")
        conn.execute(sql.SQL("{} role {} login password {}").format(verb, login, sql.Literal(password)))
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(READER_GROUP), login))
        conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(login))
    credentials = _load()
    credentials[name] = password
    _save(credentials)
    return password


def reader_url(database_url: str, name: str, *, host: str | None = None, port: int | None = None) -> str:
    """The URL a BI tool uses: `name`'s stored password on the atlas database of `database_url`.

    `host` and `port` replace the URL's own (the embedded server's TCP port);
    without them the URL's host, socket folder and port are kept as they are.
    """
    from dataclasses import replace

    from skinmap import urls

    password = _load().get(name)
    if password is None:
        raise DatabaseError(f"no stored password for reader {name!r}: run `skinmap db grant-reader {name}`")
    address = replace(urls.parse(database_url), user=name, password=password)
    if host is not None:
        address = replace(address, host=host, port=port)
    return urls.build(address)
