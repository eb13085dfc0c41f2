"""`skinmap db start --port N`: loopback TCP with passwords for reader logins only; socket-only by default."""
from __future__ import annotations

import socket

import psycopg
import pytest
from click.testing import CliRunner

from skinmap import embedded
from skinmap.cli import cli


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_session_server_is_socket_only(server_url):
    assert embedded.status().tcp_port is None
    assert "?host=/" in server_url


@pytest.fixture
def tcp_home(server_url, tmp_path, monkeypatch):
    """A second embedded server in its own SKINMAP_HOME, started on a TCP port; stopped afterwards."""
    monkeypatch.setenv("SKINMAP_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SKINMAP_DATABASE_URL", raising=False)
    yield _free_port()
    embedded.stop()


def test_tcp_reader_login_with_password_only(tcp_home):
    port = tcp_home
    runner = CliRunner()
    started = runner.invoke(cli, ["db", "start", "--port", str(port)])
    assert started.exit_code == 0, started.output
    assert embedded.status().tcp_port == port
    granted = runner.invoke(cli, ["db", "grant-reader", "bi"])
    assert granted.exit_code == 0, granted.output
    url = runner.invoke(cli, ["db", "url", "--reader"])
    assert url.exit_code == 0, url.output
    reader_url = url.output.strip()
    assert reader_url.startswith("postgresql://bi:") and f"@127.0.0.1:{port}/skinmap" in reader_url

    with psycopg.connect(reader_url) as conn:
        assert conn.execute("select current_user, inet_server_port()").fetchone() == ("bi", port)
        assert conn.execute("show default_transaction_read_only").fetchone() == ("on",)
        assert conn.execute("select has_schema_privilege('kpi', 'usage')").fetchone() == (True,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from atlas.image")

    wrong = reader_url.replace("postgresql://bi:", "postgresql://bi:wrong", 1).split("@")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect("postgresql://bi:wrong@" + wrong[-1])
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects"):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/skinmap")

    # the socket still serves the owner, and a second start on the same port reuses the server
    pid = embedded.status().pid
    again = runner.invoke(cli, ["db", "start", "--port", str(port)])
    assert again.exit_code == 0, again.output
    assert embedded.status().pid == pid
    with psycopg.connect(embedded.start()) as conn:
        assert conn.execute("select current_user").fetchone() == ("postgres",)


def test_url_reader_without_tcp_says_what_to_do(tcp_home):
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "start"]).exit_code == 0
    assert runner.invoke(cli, ["db", "grant-reader", "bi"]).exit_code == 0
    result = runner.invoke(cli, ["db", "url", "--reader"])
    assert result.exit_code != 0
    assert "skinmap db start --port" in result.output
