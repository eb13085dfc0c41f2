"""What SkinMap puts into Superset: the reader connection, one dataset per kpi view, charts, a dashboard.

Charts use SQL metrics on the versioned kpi views only (never the atlas
tables), so they keep working for exactly as long as the view's contract.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from skinmap.bi.superset_api import SupersetApi

DATABASE_NAME = "SkinMap atlas (reader)"
DASHBOARD_SLUG = "skinmap-atlas"
DASHBOARD_TITLE = "SkinMap atlas"


@dataclass
class Provisioned:
    """Superset ids of what was created or updated."""

    database_id: int
    dataset_ids: dict[str, int] = field(default_factory=dict)
    chart_ids: dict[str, int] = field(default_factory=dict)
    dashboard_id: int = 0


def _metric(sql: str, label: str) -> dict:
    return {"expressionType": "SQL", "sqlExpression": sql, "label": label}


def _where(column: str, value: str) -> dict:
    return {"expressionType": "SIMPLE", "subject": column, "operator": "==", "comparator": value,
            "clause": "WHERE"}


def _bar(attribute: str) -> dict:
    """Images per value of one attribute of kpi_representation_v1."""
    return {"viz_type": "echarts_timeseries_bar", "x_axis": "value", "groupby": [],
            "metrics": [_metric("sum(n_images)", "images")], "adhoc_filters": [_where("attribute", attribute)],
            "row_limit": 100, "x_axis_sort_asc": True, "show_legend": False, "show_value": True,
            "xAxisLabelRotation": 45}


# (chart title, kpi view, form data): the starter dashboard, two charts a row.
CHARTS: list[tuple[str, str, dict]] = [
    ("Share of Fitzpatrick V-VI images", "kpi_representation_headline_v1",
     {"viz_type": "big_number_total", "metric": _metric("max(share_fitzpatrick_v_vi)", "share V-VI"),
      "y_axis_format": ".1%", "subheader": "of images with a known skin type",
      "header_font_size": 0.3, "subheader_font_size": 0.15}),
    ("Images by Fitzpatrick group", "kpi_representation_v1", _bar("fitzpatrick_group")),
    ("Images by continent", "kpi_representation_v1", _bar("continent")),
    ("Novelty by release year", "kpi_novelty_by_year_v1",
     {"viz_type": "echarts_timeseries_line", "x_axis": "release_year", "groupby": [],
      "metrics": [_metric("avg(raw_novelty)", "novelty"), _metric("avg(baseline_mean)", "baseline")],
      "row_limit": 100, "show_legend": True, "markerEnabled": True}),
    ("Representation with 95% intervals", "kpi_representation_v1",
     {"viz_type": "table", "query_mode": "raw",
      "all_columns": ["attribute", "value", "n_images", "share", "wilson_low", "wilson_high"],
      "order_by_cols": ['["attribute", true]', '["value_order", true]'], "row_limit": 500,
      "column_config": {name: {"d3NumberFormat": ".1%"} for name in ("share", "wilson_low", "wilson_high")}}),
]


def provision(api: SupersetApi, reader_sqlalchemy_uri: str, kpi_views: list[str]) -> Provisioned:
    """Create or update the connection, datasets, charts and dashboard; return their ids."""
    database = {"database_name": DATABASE_NAME, "sqlalchemy_uri": reader_sqlalchemy_uri,
                "expose_in_sqllab": True, "allow_dml": False, "allow_run_async": False}
    done = Provisioned(api.ensure("database", database, database_name=DATABASE_NAME))
    for view in kpi_views:
        done.dataset_ids[view] = _ensure_dataset(api, done.database_id, view)
    done.dashboard_id = api.ensure(
        "dashboard", {"dashboard_title": DASHBOARD_TITLE, "slug": DASHBOARD_SLUG, "published": True},
        slug=DASHBOARD_SLUG)
    for title, view, form_data in CHARTS:
        if view not in done.dataset_ids:
            continue  # that view is not built in this atlas yet
        dataset_id = done.dataset_ids[view]
        params = {**form_data, "datasource": f"{dataset_id}__table"}
        chart = {"slice_name": title, "viz_type": form_data["viz_type"], "datasource_id": dataset_id,
                 "datasource_type": "table", "params": json.dumps(params), "dashboards": [done.dashboard_id]}
        done.chart_ids[title] = api.ensure("chart", chart, slice_name=title)
    layout = _layout(done.chart_ids)
    api.request("PUT", f"/api/v1/dashboard/{done.dashboard_id}",
                {"position_json": json.dumps(layout), "json_metadata": json.dumps({"color_scheme": "supersetColors"})})
    return done


def _ensure_dataset(api: SupersetApi, database_id: int, view: str) -> int:
    """A dataset for schema kpi's `view`; an existing one has its columns re-read from the view."""
    existing = api.find("dataset", table_name=view, schema="kpi")
    if existing:
        api.request("PUT", f"/api/v1/dataset/{existing['id']}/refresh")
        return int(existing["id"])
    return int(api.request("POST", "/api/v1/dataset/",
                           {"database": database_id, "schema": "kpi", "table_name": view})["id"])


def _layout(chart_ids: dict[str, int]) -> dict:
    """Superset's dashboard grid (position_json v2): the charts two a row, in CHARTS order."""
    layout: dict = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": DASHBOARD_TITLE}},
    }
    titles = list(chart_ids)
    for row_number, start in enumerate(range(0, len(titles), 2)):
        row_id = f"ROW-{row_number}"
        layout["GRID_ID"]["children"].append(row_id)
        layout[row_id] = {"type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                          "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for title in titles[start:start + 2]:
            chart_id = f"CHART-{chart_ids[title]}"
            layout[row_id]["children"].append(chart_id)
            layout[chart_id] = {"type": "CHART", "id": chart_id, "children": [],
                                "parents": ["ROOT_ID", "GRID_ID", row_id],
                                "meta": {"width": 6, "height": 50, "chartId": chart_ids[title], "sliceName": title}}
    return layout
