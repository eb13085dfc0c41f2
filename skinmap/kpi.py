"""Reading KPI views: everything `skinmap kpi` shows is a plain query against schema `kpi`."""
from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from psycopg import sql

from skinmap.db import connect

KPI_SCHEMA = "kpi"


class UnknownKpi(LookupError):
    pass


def list_views(url: str) -> list[str]:
    with connect(url) as conn:
        rows = conn.execute(
            "select table_name from information_schema.views where table_schema = %s order by table_name",
            (KPI_SCHEMA,),
        ).fetchall()
    return [r[0] for r in rows]


def resolve_view(url: str, name: str) -> str:
    """`kpi_representation` -> its latest version `kpi_representation_v1`; exact names pass."""
    views = list_views(url)
    name = name.removeprefix(f"{KPI_SCHEMA}.")
    if name in views:
        return name
    versions = [(int(m.group(1)), v) for v in views if (m := re.fullmatch(re.escape(name) + r"_v(\d+)", v))]
    if not versions:
        raise UnknownKpi(f"no KPI view {name!r}; available: {', '.join(views) or '(none: run `skinmap build`)'}")
    return max(versions)[1]


def fetch(url: str, view: str, *, where_model: str | None = None, limit: int | None = None) -> tuple[list[str], list[tuple]]:
    """Column names and rows of one KPI view (optionally one embedding model's rows)."""
    query = sql.SQL("select * from {}.{}").format(sql.Identifier(KPI_SCHEMA), sql.Identifier(view))
    params: list[Any] = []
    with connect(url) as conn:
        columns = [c.name for c in conn.execute(query + sql.SQL(" limit 0")).description]
        if where_model and "model_name" in columns:
            query += sql.SQL(" where model_name = %s")
            params.append(where_model)
        if limit:
            query += sql.SQL(" limit %s")
            params.append(limit)
        rows = conn.execute(query, params).fetchall()
    return columns, rows


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (float, Decimal)):
        return f"{float(value):.4f}"
    if isinstance(value, (list, tuple)):
        text = ",".join(str(v) for v in value)
        return text if len(text) <= 40 else text[:37] + "..."
    return str(value)


def format_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = lambda values: "  ".join(v.ljust(w) for v, w in zip(values, widths)).rstrip()  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths]), *(line(r) for r in cells)])
