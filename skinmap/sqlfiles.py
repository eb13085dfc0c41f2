"""Access to the versioned SQL objects in `sql/` (functions, roles, grants).

Released files are never edited: a change is a new `_vN` file applied by a new
migration, so a migration always reads the exact text it was written for.
"""
from __future__ import annotations

from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


def read_sql(object_name: str) -> str:
    """Return the text of the one file in sql/ named `<object_name>.sql`."""
    matches = sorted(SQL_DIR.rglob(f"{object_name}.sql"))
    if len(matches) != 1:
        raise FileNotFoundError(f"expected one sql/**/{object_name}.sql, found {len(matches)}")
    return matches[0].read_text()


def apply_sql(object_name: str) -> None:
    """Run a sql/ file inside the current alembic migration, verbatim.

    Goes through the driver connection without parameters, so neither
    SQLAlchemy (`:name`) nor psycopg (`%s`) treats the text as a template.
    """
    from alembic import op

    op.get_bind().connection.driver_connection.execute(read_sql(object_name))
