"""Acquisition targets: the ranked list of kpi_acquisition_targets, one target at a time.

Everything here is a query against the documented view; `skinmap targets`
prints it. The targets themselves live in dbt (generated 'uniform' and
'minimum_per_cell', and the rows of seed acquisition_targets).
"""
from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from skinmap.db import connect
from skinmap.kpi import KPI_SCHEMA, resolve_view

TOPIC = "kpi_acquisition_targets"
SCOPES = ("attribute", "phenotype_cell")
COLUMNS = (  # for phenotype cells without attribute (always the grid's name)
    "rank_needed", "attribute", "value", "n_images", "n_known", "n_target", "n_needed", "is_unfilled")


class UnknownTarget(LookupError):
    pass


@dataclass(frozen=True)
class TargetList:
    target_name: str
    scope: str
    columns: tuple[str, ...]
    rows: list[tuple]
    n_rows: int  # rows of this target and scope, before --top
    n_unfilled: int  # of them, values or cells without any image


def target_names(url: str) -> list[str]:
    view = resolve_view(url, TOPIC)
    query = sql.SQL("select distinct target_name from {} order by target_name").format(
        sql.Identifier(KPI_SCHEMA, view))
    with connect(url) as conn:
        return [name for (name,) in conn.execute(query)]


def top(url: str, target_name: str, scope: str, limit: int | None = 20) -> TargetList:
    """The first `limit` rows of one target and scope, most images needed first."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, not {scope!r}")
    names = target_names(url)
    if target_name not in names:
        raise UnknownTarget(f"no acquisition target {target_name!r}; available: {', '.join(names) or '(none)'}"
                            " (add one to dbt_project/seeds/acquisition_targets.csv, then `skinmap build`)")
    view = sql.Identifier(KPI_SCHEMA, resolve_view(url, TOPIC))
    columns = COLUMNS if scope == "attribute" else tuple(c for c in COLUMNS if c != "attribute")
    where = sql.SQL(" where target_name = %s and scope = %s")
    select = sql.SQL("select {} from {}").format(sql.SQL(", ").join(map(sql.Identifier, columns)), view) + where
    select += sql.SQL(" order by rank_needed, is_unfilled desc, attribute, value")
    params: list = [target_name, scope]
    if limit:
        select += sql.SQL(" limit %s")
        params.append(limit)
    counts = sql.SQL("select count(*), count(*) filter (where is_unfilled) from {}").format(view) + where
    with connect(url) as conn:
        rows = conn.execute(select, params).fetchall()
        n_rows, n_unfilled = conn.execute(counts, [target_name, scope]).fetchone()
    return TargetList(target_name, scope, columns, rows, n_rows, n_unfilled)
