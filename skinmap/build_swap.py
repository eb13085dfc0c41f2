"""A full `dbt build` goes live in one transaction: readers see the old views or the new, never neither.

dbt replaces a table by renaming it away and dropping it with `cascade`,
which drops every view on it; the kpi views that read an intermediate
table are gone until dbt reaches them again. Measured on the demo atlas: a
reader polling every kpi view during a build got "relation does not exist"
for 11,523 of 30,296 queries. So a full build writes the schemas
`staging__next`, `intermediate__next`, `kpi__next` (dbt variable
`schema_suffix`) while the live ones keep serving, and then one transaction
renames them into place, drops the old ones and re-grants skinmap_reader.
A reader's query waits for that commit and then reads the new view. A
killed build leaves only `__next` schemas, which the next build drops.
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
    """Put the `__next` schemas live and drop the ones they replace, atomically."""
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
        for schema in SCHEMAS:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema + OLD_SUFFIX)))
        conn.execute("select atlas.grant_kpi_reader_v1()")
        conn.commit()
