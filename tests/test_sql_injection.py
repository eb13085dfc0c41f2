"""No SQL is built from user input: every run-time-built SQL string is a reviewed site interpolating code constants.

The AST scan (tests/sql_sites.py) finds execute/copy calls whose SQL is an
f-string, `%`/`+` expression or `.format()` call (psycopg.sql composition
is safe by construction and not listed). A new site, or a new value
interpolated into a reviewed one, fails here until it is reviewed and added
to tests/sql_dynamic_sites.txt with its reason; a user value must be a
parameter instead.
"""
from __future__ import annotations

import ast
from pathlib import Path

from tests.sql_sites import dynamic_sites

ROOT = Path(__file__).resolve().parent.parent
REVIEWED = Path(__file__).with_name("sql_dynamic_sites.txt")


def _reviewed() -> dict[str, tuple[str, str]]:
    entries = {}
    for line in REVIEWED.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            site, names, reason = (part.strip() for part in line.split(" | "))
            entries[site] = (names, reason)
    return entries


def test_every_run_time_built_sql_is_reviewed():
    found = dynamic_sites([ROOT / "skinmap", ROOT / "embedder"], ROOT)
    reviewed = _reviewed()
    unreviewed = {site: names for site, names in found.items() if reviewed.get(site, ("",))[0] != names}
    assert not unreviewed, (
        "SQL built at run time that is not in tests/sql_dynamic_sites.txt (pass user values as %s parameters "
        f"or psycopg.sql.Identifier; if it interpolates only code constants, add it with a reason): {unreviewed}"
    )
    assert not set(reviewed) - set(found), f"stale entries in {REVIEWED.name}: {sorted(set(reviewed) - set(found))}"
    assert all(reason for _, reason in reviewed.values())


def test_the_scan_catches_f_strings_concatenation_and_format(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "bad.py").write_text(
        "def a(conn, name):\n    conn.execute(f\"select * from t where n = '{name}'\")\n"
        "def b(conn, name):\n    q = \"select * from t where n = '\" + name + \"'\"\n    conn.execute(q)\n"
        "def c(conn, name):\n    conn.cursor().execute(\"select %s\" % name)\n"
        "def d(conn, name):\n    conn.execute(\"select {}\".format(name))\n"
        "def e(conn, name):\n    q = 'select 1'\n    q += name\n    conn.execute(q)\n"
        "def ok(conn, name):\n    conn.execute('select %s', (name,))\n"
        "def ok2(conn, name):\n    conn.execute(sql.SQL('select {}').format(sql.Identifier(name)))\n"
        "def bad2(conn, name):\n    conn.execute(sql.SQL(f'select {name}'))\n"
    )
    found = dynamic_sites([package], tmp_path)
    assert sorted(site.split(":")[1] for site in found) == ["a", "b", "bad2", "c", "d", "e"]
    assert ast.parse((package / "bad.py").read_text())
