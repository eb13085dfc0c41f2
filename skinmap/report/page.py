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
    shown = [c for c in columns if not isinstance(empty[0][c], list)]
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in shown)
    body = "".join(
        "<tr>" + "".join(f'<td class="{"num" if _is_number(r[c]) else "text"}">{html.escape(format_cell(c, r[c]))}</td>'
                         for c in shown) + "</tr>" for r in empty)
    return f'<table class="cells"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def format_cell(column: str, value) -> str:
    """A table cell for a reader: shares as percentages, counts with thousands separators, no None."""
    from decimal import Decimal

    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        if column.startswith("share") or column.endswith(("_share", "_low", "_high")):
            return f"{value:.1%}"
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# One sentence under each chart: what it shows and how to read it.
CAPTIONS = {
    "novelty_by_year": "Each point is a release year's mean distance from its images to their 100 nearest "
                       "images released earlier, divided by the same measure for random earlier images (the "
                       "band): above 1, that year added images unlike what existed; below 1, it repeated them.",
    "dataset_overlap": "Row A, column B: the share of dataset A's images that also appear in dataset B (the same "
                       "file, the same pixels, a shared source id, or a verified near copy); a dark row is a "
                       "dataset that mostly republishes others.",
    "representation": "Each bar is a value's share among the images where this attribute is known (count under "
                      "the bar), with its 95% Wilson interval; the title says for how many images it is known.",
    "empty_cells": "Phenotype cells (diagnosis group x Fitzpatrick group x age bin) with no image at all, largest "
                   "first by the images expected if the attributes were independent: what no public dataset "
                   "shows.",
    "acquisition_targets": "How many more images each cell or value needs to reach the target, longest bar first; "
                           "'has' is what the atlas holds now.",
    "atlas_map": "Each dot is a sampled image placed by its embedding (nearby dots look alike to the model); "
                 "colours are the legend's groups, and marked dots are uncovered images, suspected label errors "
                 "or structural-void boundaries.",
}


def _caption(kind: str) -> str:
    return f'<p class="caption">{html.escape(CAPTIONS[kind])}</p>'


# A view that reads values several ways (kpi_representation_v2: labelled or with imputed values; over
# images, unique images, lesions or patients) is drawn in the reading v1 had: every value, every image.
_DEFAULT_VARIANT = {"values_from": "labelled_and_imputed", "counted_over": "images"}


def _default_variant(view_rows: list[dict]) -> list[dict]:
    return [r for r in view_rows if all(r.get(k, v) == v for k, v in _DEFAULT_VARIANT.items())]


def _map_marks(data, views: dict[str, str]) -> dict[str, set[tuple[str, int]]]:
    """The images to mark on the maps, from the views that exist: {label: {(model_name, image_id)}}.

    Structural voids are another analysis's (issue 17 part 1): their boundary images are drawn as soon as
    a view kpi_structural_void_boundary_images exists (any version) with model_name and image_id."""
    marks = {"uncovered": {(r["model_name"], r["image_id"]) for r in data("kpi_uncovered_images")
                           if r.get("is_uncovered")},
             "suspected label error": {(r["model_name"], r["image_id"])
                                       for r in data("kpi_suspected_label_errors")}}
    if "kpi_structural_void_boundary_images" in views:
        marks["structural void boundary"] = {
            (r.get("model_name"), r["image_id"]) for r in data("kpi_structural_void_boundary_images")
            if "image_id" in r}
    return {label: marked for label, marked in marks.items() if marked}


def _map_sections(sample: list[dict], marks: dict, map_method: str) -> list[tuple[str, str]]:
    """PCA maps by dataset and Fitzpatrick group; with map_method 'umap', a UMAP map by dataset beside them.
    Marks go on the dataset maps. Without umap-learn installed, the UMAP map says so and is left out."""
    sections = []
    for colour_by in ("dataset_slug", "fitzpatrick_group"):
        fig = charts.atlas_map(sample, colour_by, marks=marks if colour_by == "dataset_slug" else None)
        if fig:
            sections.append((f"Atlas map by {colour_by.replace('_slug', '').replace('_', ' ')}",
                             _figure_html(fig, f"atlas_map_{colour_by}") + _caption("atlas_map")))
    if map_method == "umap" and sections:
        if not charts.umap_available():
            sections.append(("Atlas map (UMAP)", "<p>umap-learn is not installed (pip install "
                             "'skinmap[map]'): only the PCA maps are drawn.</p>"))
        else:
            fig = charts.atlas_map(sample, "dataset_slug", method="umap", marks=marks)
            if fig:
                sections.append(("Atlas map (UMAP) by dataset, uncovered images and suspected label "
                                 "errors marked", _figure_html(fig, "atlas_umap_dataset_slug") + _caption("atlas_map")))
    return sections


def build_sections(database_url: str, map_method: str = "umap") -> list[tuple[str, str]]:
    """[(section title, html)] for every section whose kpi view exists and has data.

    map_method: 'umap' draws a UMAP map beside the PCA ones; 'pca' only the PCA maps (fast: no numba)."""
    sections: list[tuple[str, str]] = []
    with connect(database_url) as conn:
        views = latest_views(conn)

        def data(topic: str) -> list[dict]:
            return _default_variant(rows(conn, views[topic])) if topic in views else []

        novelty = charts.novelty_by_year(data("kpi_novelty_by_year"))
        if novelty:
            sections.append(("Novelty by year", _figure_html(novelty, "novelty_by_year") + _caption("novelty_by_year")))
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
            sections.append(("Dataset overlap", _figure_html(overlap, "dataset_overlap") + _caption("dataset_overlap")))
        for attribute, fig in charts.representation(data("kpi_representation")):
            sections.append((f"Representation: {attribute.replace('_', ' ')}",
                             _figure_html(fig, f"representation_{attribute}") + _caption("representation")))
        gaps_topic = next((t for t in sorted(views) if "phenotype" in t), None)
        table = _empty_cells_table(data(gaps_topic)) if gaps_topic else None
        if table:
            sections.append((f"Largest empty phenotype cells ({views[gaps_topic]})", table + _caption("empty_cells")))
        targets_rows = data("kpi_acquisition_targets")
        for target_name, scope, chart_id in (("minimum_per_cell", "phenotype_cell", "acquisition_targets"),
                                             ("uniform", "attribute", "acquisition_targets_uniform")):
            targets_fig = charts.acquisition_targets(targets_rows, target_name, scope)
            if targets_fig:
                sections.append((f"Acquisition targets: {target_name} ({views['kpi_acquisition_targets']})",
                                 _figure_html(targets_fig, chart_id) + _caption("acquisition_targets")))
        sections.extend(_map_sections(data("kpi_atlas_sample"), _map_marks(data, views), map_method))
    return sections


def write_report(database_url: str, out: Path, map_method: str = "umap") -> int:
    """Write the report to `out`; return the number of sections."""
    sections = build_sections(database_url, map_method)
    out.write_text(render_page(sections))
    return len(sections)


def render_page(sections: list[tuple[str, str]]) -> str:
    """The whole HTML page around the sections (title, inner HTML), plotly.js inlined."""
    from plotly.offline import get_plotlyjs

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "\n".join(f"<section><h2>{html.escape(title)}</h2>{content}</section>" for title, content in sections)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SkinMap atlas report</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }}
section {{ margin-bottom: 2em; }} table.cells {{ border-collapse: collapse; font-size: 0.9em; }}
table.cells td, table.cells th {{ border: 1px solid #ccc; padding: 3px 8px; }}
table.cells td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
p.caption {{ color: #555; font-size: 0.92em; margin-top: 0.3em; }}
</style>
<script>{get_plotlyjs()}</script></head>
<body><h1>SkinMap atlas report</h1>
<p>Built {stamp} from the views of schema <code>kpi</code> only; {len(sections)} sections.</p>
{body}
</body></html>
"""
