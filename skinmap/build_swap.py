"""A full `dbt build` goes live in one transaction: readers see the old views or the new, never neither.

dbt replaces a table by renaming it away and dropping it with `cascade`,
which drops every view on it; the kpi views that read an intermediate
table are gone until dbt reaches them again. Measured on the demo atlas: a
reader polling every kpi view during a build got "relation does not exist"
for 11,523 of 30,296 queries. So a full build writes the schemas
`staging__next`, `intermediate__next`, `kpi__next` (dbt variable
`schema_suffix`) while the live ones keep serving, and then one transaction
renames them into place and re-grants skinmap_reader. Renaming a schema
takes no lock on the relations in it, so a reader's query never waits: it
reads the old views or, once that commit is visible, the new ones.

The old schemas are dropped afterwards, each in its own transaction, views
first (`kpi`, then `intermediate`, then `staging`): a reader's query locks a
view before the tables under it, and a `drop ... cascade` of the tables
inside the swap took them in the other order. A reader polling during two
builds got a deadlock error twice in 34,854 queries, and PostgreSQL may
pick the build as the victim (tests/test_build_swap.py reproduced it in
under 60 swaps). A killed build leaves `__next` or `__old` schemas, which
the next build drops.
"""
from __future__ import annotations

from psycopg import sql

from skinmap.db import connect

SCHEMAS = ("staging", "intermediate", "kpi")
SUFFIX = "__next"
OLD_SUFFIX = "__old"


def drop_leftovers(url: str) -> None:
    """Remove the `__next` / `__old` schemas a killed build left behind."""
    with connect(url) as conn:
        for schema in SCHEMAS:
            for suffix in (SUFFIX, OLD_SUFFIX):
                conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema + suffix)))
        conn.commit()


def swap_in(url: str) -> None:
    """Put the `__next` schemas live atomically, then drop the ones they replace."""
    with connect(url) as conn:
        existing = {s for (s,) in conn.execute("select nspname from pg_namespace")}
        missing = [s + SUFFIX for s in SCHEMAS if s + SUFFIX not in existing]
        if missing:
            raise RuntimeError(f"the build wrote no schema {', '.join(missing)}: nothing to swap in")
        for schema in SCHEMAS:
            if schema in existing:
                conn.execute(sql.SQL("alter schema {} rename to {}").format(
                    sql.Identifier(schema), sql.Identifier(schema + OLD_SUFFIX)))
            conn.execute(sql.SQL("alter schema {} rename to {}").format(
                sql.Identifier(schema + SUFFIX), sql.Identifier(schema)))
        conn.execute("select atlas.grant_kpi_reader_v1()")
        conn.commit()
        for schema in reversed(SCHEMAS):  # views before the tables under them: a reader's lock order
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema + OLD_SUFFIX)))
            conn.commit()
