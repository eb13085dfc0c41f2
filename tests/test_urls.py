"""Database URLs (skinmap.urls) and named atlases: one function builds and reads them all."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from skinmap import db, urls


@pytest.mark.parametrize("text, expected", [
    ("postgresql://postgres:@/skinmap_demo?host=/srv/pgdata",
     urls.Address("skinmap_demo", host="/srv/pgdata", user="postgres")),
    ("postgresql://postgres@/skinmap_demo?host=/srv/pgdata&port=54329",
     urls.Address("skinmap_demo", host="/srv/pgdata", port=54329, user="postgres")),
    ("postgresql://bi:p%40ss@127.0.0.1:54329/skinmap_demo",
     urls.Address("skinmap_demo", host="127.0.0.1", port=54329, user="bi", password="p@ss")),
    ("postgres://analyst@db.example.org/atlas?sslmode=require",
     urls.Address("atlas", host="db.example.org", user="analyst", options=(("sslmode", "require"),))),
    ("host=/tmp port=5433 dbname=x user=y", urls.Address("x", host="/tmp", port=5433, user="y")),
    ("postgresql://u:p@[::1]:5433/a", urls.Address("a", host="::1", port=5433, user="u", password="p")),
])
def test_parse_and_build_round_trip(text, expected):
    address = urls.parse(text)
    assert address == expected
    assert urls.parse(urls.build(address)) == address


def test_a_socket_stays_in_the_query_and_its_port_names_the_socket_file():
    url = urls.build(urls.Address("skinmap_demo", host="/srv/pgdata", port=54329, user="bi", password="x"))
    assert url == "postgresql://bi:x@/skinmap_demo?host=/srv/pgdata&port=54329"
    assert urls.parse(url).where() == "socket /srv/pgdata/.s.PGSQL.54329"
    assert urls.parse("postgresql://h.example:6543/a").where() == "h.example:6543"


def test_redact_and_bad_urls():
    assert "secret" not in urls.redact("postgresql://u:secret@h/a") and "***" in urls.redact("postgresql://u:secret@h/a")
    with pytest.raises(urls.AddressError, match="postgresql://user:password@host:5432/dbname"):
        urls.parse("postgresql://u@h:notaport/a x=")


def test_atlas_names_map_to_databases():
    assert db.atlas_database(None) == db.atlas_database("main") == "skinmap"
    assert db.atlas_database("demo") == "skinmap_demo"
    with pytest.raises(db.DatabaseError, match="lower-case"):
        db.atlas_database("Demo; drop")
    assert urls.parse(db.with_database("postgresql://u@/x?host=/s&port=5", "skinmap_demo")) == urls.Address(
        "skinmap_demo", host="/s", port=5, user="u")


def test_a_wrong_socket_port_names_the_socket_and_the_fix(server_url):
    address = urls.parse(server_url)
    assert address.is_socket and address.host
    wrong = urls.build(urls.Address("skinmap", host=address.host, port=(address.port or 5432) + 1, user="postgres"))
    with pytest.raises(db.DatabaseError) as failure:
        with db.connect(wrong):
            pass
    message = str(failure.value)
    assert f".s.PGSQL.{(address.port or 5432) + 1}" in message and "'skinmap'" in message
    assert f"listens on port {address.port or 5432}" in message


def test_named_atlas_through_the_cli(server_url):
    """`--atlas NAME` reads the database skinmap_NAME; an empty atlas points at the others on the server."""
    from skinmap.cli import cli

    for name in ("skinmap_t_named", "skinmap_t_empty"):
        db.create_database(server_url, name, drop_first=True)
    runner = CliRunner()
    try:
        shown = runner.invoke(cli, ["--atlas", "t_named", "db", "url"])
        assert shown.exit_code == 0, shown.output
        assert urls.parse(shown.output.strip()).dbname == "skinmap_t_named"
        empty = runner.invoke(cli, ["--atlas", "t_empty", "kpi", "kpi_novelty_by_year"])
        assert empty.exit_code != 0
        assert "other atlases on this server" in empty.output and "t_named" in empty.output
        assert "skinmap --atlas" in empty.output
    finally:
        for name in ("skinmap_t_named", "skinmap_t_empty"):
            db.drop_database(server_url, name)


def test_reader_url_of_a_socket_atlas_connects(atlas_db):
    """`skinmap --database-url <socket URL> db url --reader` keeps the socket folder and port in the query
    (it once put the folder in the host part, where no client reads it); the printed URL logs in."""
    from skinmap.cli import cli

    if not urls.parse(atlas_db).is_socket:
        pytest.skip("the test server is reached over TCP here; the socket form is what this test is about")
    runner = CliRunner()
    granted = runner.invoke(cli, ["--database-url", atlas_db, "db", "grant-reader", "t_url_reader"])
    assert granted.exit_code == 0, granted.output
    printed = runner.invoke(cli, ["--database-url", atlas_db, "db", "url", "--reader", "--name", "t_url_reader"])
    assert printed.exit_code == 0, printed.output
    reader = printed.output.strip()
    address = urls.parse(reader)
    assert address.host == urls.parse(atlas_db).host and address.user == "t_url_reader"
    assert reader.startswith("postgresql://t_url_reader:") and "@/" in reader
    with db.connect(reader) as conn:
        assert conn.execute("select current_user").fetchone()[0] == "t_url_reader"
