"""Database URLs: built and read in one place, for unix sockets, TCP and foreign servers.

A PostgreSQL URL names a socket folder in its query (`?host=/folder`),
never in the host part, where no client can read it; the socket file in that
folder is named by the port (`.s.PGSQL.<port>`), so a socket URL carries the
port too whenever it is not 5432. `Address` holds the parts, `build` writes
the one URL form every tool here reads (psycopg, alembic, dbt, BI tools),
and `parse` reads any URL or conninfo string a user may give.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import quote, urlencode

DEFAULT_PORT = 5432


class AddressError(ValueError):
    """The text is not a PostgreSQL URL or conninfo string; the message says what one looks like."""


@dataclass(frozen=True)
class Address:
    dbname: str
    host: str | None = None  # a host name or IP, or a socket folder (an absolute path)
    port: int | None = None
    user: str | None = None
    password: str | None = None
    options: tuple[tuple[str, str], ...] = ()  # any other conninfo parameter (sslmode, ...)

    @property
    def is_socket(self) -> bool:
        return self.host is None or self.host.startswith("/")

    def with_database(self, dbname: str) -> Address:
        return replace(self, dbname=dbname)

    def where(self) -> str:
        """Where a client looks for the server, for messages: the socket file, or host:port."""
        port = self.port or DEFAULT_PORT
        if self.is_socket:
            folder = self.host or "the default socket folder (/var/run/postgresql or /tmp)"
            return f"socket {folder}/.s.PGSQL.{port}" if self.host else f"socket .s.PGSQL.{port} in {folder}"
        return f"{self.host}:{port}"


def build(address: Address) -> str:
    """The URL of `address`: `postgresql://user:password@host:port/db`, sockets in the query."""
    auth = ""
    if address.user:
        auth = quote(address.user, safe="")
        if address.password is not None:
            auth += ":" + quote(address.password, safe="*")
        auth += "@"
    query: list[tuple[str, str]] = []
    if address.is_socket:
        netloc = auth
        if address.host:
            query.append(("host", address.host))
        if address.port and address.port != DEFAULT_PORT:
            query.append(("port", str(address.port)))
    else:
        host = f"[{address.host}]" if ":" in str(address.host) else str(address.host)
        netloc = auth + host + (f":{address.port}" if address.port else "")
    query += list(address.options)
    tail = ("?" + urlencode(query, safe="/")) if query else ""
    return f"postgresql://{netloc}/{quote(address.dbname, safe='')}{tail}"


def parse(url: str) -> Address:
    """Read a URL (`postgresql://…`, `postgres://…`) or a conninfo string (`host=… dbname=…`)."""
    import psycopg

    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise AddressError(
            f"not a PostgreSQL URL: {exc}. A URL looks like postgresql://user:password@host:5432/dbname, "
            "or postgresql://user@/dbname?host=/socket/folder for a unix socket"
        ) from exc
    host = info.pop("host", None) or None
    port = info.pop("port", None)
    try:
        port_number = int(port) if port else None
    except ValueError as exc:
        raise AddressError(f"port {port!r} is not a number") from exc
    return Address(
        dbname=str(info.pop("dbname", None) or info.get("user") or "postgres"),
        host=str(host) if host else None,
        port=port_number,
        user=info.pop("user", None) or None,
        password=info.pop("password", None),
        options=tuple(sorted((k, str(v)) for k, v in info.items())),
    )


def redact(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        address = parse(url)
    except AddressError:
        return "<unparseable database URL>"
    return build(replace(address, password="***") if address.password else address)
