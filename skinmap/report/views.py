"""Reading the kpi views that exist: the newest version of each topic, rows as dicts.

Other parts of SkinMap add KPI views over time; the report asks the catalog
what is there instead of assuming, and a missing view just drops a section.
"""
from __future__ import annotations

import re
from typing import Any

from psycopg import sql

_VERSIONED = re.compile(r"^(kpi_[a-z0-9_]+)_v(\d+)$")


def latest_views(conn) -> dict[str, str]:
    """{topic: newest view name}, e.g. {'kpi_representation': 'kpi_representation_v2'}."""
    newest: dict[str, tuple[int, str]] = {}
    for (name,) in conn.execute(
        "select table_name from information_schema.views where table_schema = 'kpi'"
    ):
        match = _VERSIONED.match(name)
        if match and int(match[2]) > newest.get(match[1], (0, ""))[0]:
            newest[match[1]] = (int(match[2]), name)
    return {topic: name for topic, (_, name) in newest.items()}


def rows(conn, view: str, order_by: str | None = None) -> list[dict[str, Any]]:
    """All rows of kpi.<view> as dicts (the view name comes from the catalog, quoted anyway)."""
    query = sql.SQL("select * from {}").format(sql.Identifier("kpi", view))
    cursor = conn.execute(query)
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
