"""Assemble the report: query the kpi views, build the charts, write one HTML file.

plotly.js is inlined once, so the file opens offline and can be mailed.
"""
from __future__ import annotations

import html
from datetime import UTC, datetime
from pathlib import Path

from skinmap.db import connect
from skinmap.report import charts
from skinmap.report.views import latest_views, rows

_EMPTY_CELLS_SHOWN = 15


def _figure_html(fig, div_id: str) -> str:
    return (f'<div class="chart" data-chart="{div_id}">'
            + fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                          config={"displaylogo": False, "responsive": True})
            + "</div>")


def _empty_cells_table(view_rows: list[dict]) -> str | None:
    """The largest empty phenotype cells: observed 0, ordered by the count expected under independence."""
    if not view_rows:
        return None
    columns = list(view_rows[0])
    observed = next((c for c in ("n_images", "n_observed", "observed") if c in columns), None)
    expected = next((c for c in columns if c.startswith(("n_expected", "expected"))), None)
    if observed is None or expected is None:
        return None
    empty = sorted((r for r in view_rows if r[observed] == 0 and r[expected] is not None),
                   key=lambda r: -float(r[expected]))[:_EMPTY_CELLS_SHOWN]
    if not empty:
        return "<p>No empty cell.</p>"
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns if not isinstance(empty[0][c], list))
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(r[c]))}</td>" for c in columns if not isinstance(r[c], list))
        + "</tr>" for r in empty)
    return f'<table class="cells"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# A view that reads values several ways (kpi_representation_v2: labelled or with imputed values; over
# images, unique images, lesions or patients) is drawn in the reading v1 had: every value, every image.
_DEFAULT_VARIANT = {"values_from": "labelled_and_imputed", "counted_over": "images"}


def _default_variant(view_rows: list[dict]) -> list[dict]:
    return [r for r in view_rows if all(r.get(k, v) == v for k, v in _DEFAULT_VARIANT.items())]


def build_sections(database_url: str) -> list[tuple[str, str]]:
    """[(section title, html)] for every section whose kpi view exists and has data."""
    sections: list[tuple[str, str]] = []
    with connect(database_url) as conn:
        views = latest_views(conn)

        def data(topic: str) -> list[dict]:
            return _default_variant(rows(conn, views[topic])) if topic in views else []

        novelty = charts.novelty_by_year(data("kpi_novelty_by_year"))
        if novelty:
            sections.append(("Novelty by year", _figure_html(novelty, "novelty_by_year")))
        overlap_topic = next((t for t in sorted(views) if t.startswith("kpi_dataset_overlap")), None)
        overlap = None
        if overlap_topic:
            overlap_rows = data(overlap_topic)
            if overlap_rows and "evidence" in overlap_rows[0]:  # v2: one matrix, any evidence, one model
                models = sorted({r["model_name"] for r in overlap_rows if r["evidence"] == "any"},
                                key=lambda m: (m is None, m or ""))
                overlap_rows = [r for r in overlap_rows
                                if r["evidence"] == "any" and models and r["model_name"] == models[0]]
            share = next((c for c in (overlap_rows[0] if overlap_rows else {}) if c.startswith("share")), None)
            if share and {"dataset_slug_a", "dataset_slug_b"} <= set(overlap_rows[0]):
                matrix = {(r["dataset_slug_a"], r["dataset_slug_b"]): float(r[share] or 0) for r in overlap_rows}
                overlap = charts.overlap_heatmap(matrix, f"{share} ({views[overlap_topic]})")
        if overlap is None:
            overlap = charts.overlap_heatmap(charts.overlap_from_pairs(data("kpi_near_duplicate_pairs")),
                                             "images of A with a near duplicate in B")
        if overlap:
            sections.append(("Dataset overlap", _figure_html(overlap, "dataset_overlap")))
        for attribute, fig in charts.representation(data("kpi_representation")):
            sections.append((f"Representation: {attribute}", _figure_html(fig, f"representation_{attribute}")))
        gaps_topic = next((t for t in sorted(views) if "phenotype" in t), None)
        table = _empty_cells_table(data(gaps_topic)) if gaps_topic else None
        if table:
            sections.append((f"Largest empty phenotype cells ({views[gaps_topic]})", table))
        targets_rows = data("kpi_acquisition_targets")
        for target_name, scope, chart_id in (("minimum_per_cell", "phenotype_cell", "acquisition_targets"),
                                             ("uniform", "attribute", "acquisition_targets_uniform")):
            targets_fig = charts.acquisition_targets(targets_rows, target_name, scope)
            if targets_fig:
                sections.append((f"Acquisition targets: {target_name} ({views['kpi_acquisition_targets']})",
                                 _figure_html(targets_fig, chart_id)))
        sample = data("kpi_atlas_sample")
        for colour_by in ("dataset_slug", "fitzpatrick_group"):
            fig = charts.atlas_map(sample, colour_by)
            if fig:
                sections.append((f"Atlas map by {colour_by}", _figure_html(fig, f"atlas_map_{colour_by}")))
    return sections


def write_report(database_url: str, out: Path) -> int:
    """Write the report to `out`; return the number of sections."""
    from plotly.offline import get_plotlyjs

    sections = build_sections(database_url)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(f"<section><h2>{html.escape(title)}</h2>{content}</section>" for title, content in sections)
    out.write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SkinMap atlas report</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }}
section {{ margin-bottom: 2em; }} table.cells {{ border-collapse: collapse; font-size: 0.9em; }}
table.cells td, table.cells th {{ border: 1px solid #ccc; padding: 3px 8px; }}
</style>
<script>{get_plotlyjs()}</script></head>
<body><h1>SkinMap atlas report</h1>
<p>Built {stamp} from the views of schema <code>kpi</code> only; {len(sections)} sections.</p>
{body}
</body></html>
""")
    return len(sections)
