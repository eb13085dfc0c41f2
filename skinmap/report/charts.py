"""One plotly figure per report section, from kpi rows; None when the data is not there."""
from __future__ import annotations

from collections import defaultdict

import numpy as np
import plotly.graph_objects as go

REPRESENTATION_ATTRIBUTES = ("fitzpatrick_type", "fitzpatrick_group", "age_bin", "sex", "continent")
_LAYOUT = {"template": "plotly_white", "height": 380, "margin": {"l": 60, "r": 20, "t": 50, "b": 50}}


def novelty_by_year(rows: list[dict]) -> go.Figure | None:
    """Raw novelty per year, with the null baseline's 2.5-97.5% band and mean, per model."""
    scored = [r for r in rows if r.get("raw_novelty") is not None]
    if not scored:
        return None
    fig = go.Figure()
    by_model: dict[str, list[dict]] = defaultdict(list)
    for row in sorted(scored, key=lambda r: r["release_year"]):
        by_model[row["model_name"]].append(row)
    for model, model_rows in by_model.items():
        years = [r["release_year"] for r in model_rows]
        band = [r for r in model_rows if r.get("baseline_p025") is not None]
        if band:
            fig.add_trace(go.Scatter(
                x=[r["release_year"] for r in band] + [r["release_year"] for r in reversed(band)],
                y=[r["baseline_p975"] for r in band] + [r["baseline_p025"] for r in reversed(band)],
                fill="toself", line={"width": 0}, opacity=0.25, name=f"{model}: baseline 95% band",
            ))
            fig.add_trace(go.Scatter(x=[r["release_year"] for r in band], y=[r["baseline_mean"] for r in band],
                                     mode="lines", line={"dash": "dash"}, name=f"{model}: baseline mean"))
        fig.add_trace(go.Scatter(x=years, y=[r["raw_novelty"] for r in model_rows], mode="lines+markers",
                                 name=f"{model}: raw novelty"))
    fig.update_layout(title="Novelty by release year (mean cosine distance to the k nearest earlier images)",
                      xaxis_title="release year", yaxis_title="novelty", **_LAYOUT)
    return fig


def representation(rows: list[dict]) -> list[tuple[str, go.Figure]]:
    """One bar chart per attribute: share of known values with the 95% Wilson interval."""
    figures = []
    for attribute in REPRESENTATION_ATTRIBUTES:
        known = sorted((r for r in rows if r["attribute"] == attribute and r.get("share") is not None),
                       key=lambda r: (r.get("value_order") or 0, r["value"]))
        if not known:
            continue
        share_known = known[0].get("share_known")
        fig = go.Figure(go.Bar(  # counts go under the bars, where no error bar reaches them
            x=[f"{r['value']}<br>n={r['n_images']:,}" for r in known], y=[r["share"] for r in known],
            error_y={"type": "data", "symmetric": False,
                     "array": [r["wilson_high"] - r["share"] for r in known],
                     "arrayminus": [r["share"] - r["wilson_low"] for r in known]},
            hovertemplate="%{x}: %{y:.1%}<extra></extra>",
        ))
        known_note = f" (known for {share_known:.0%} of images)" if share_known is not None else ""
        fig.update_layout(title=f"{attribute}: share with 95% interval{known_note}",
                          yaxis_title="share of known", yaxis_tickformat=".0%", **_LAYOUT)
        figures.append((attribute, fig))
    return figures


def overlap_heatmap(matrix: dict[tuple[str, str], float], label: str) -> go.Figure | None:
    """Heatmap of dataset A (rows) x dataset B (columns)."""
    if not matrix:
        return None
    slugs = sorted({a for a, _ in matrix} | {b for _, b in matrix})
    z = [[matrix.get((a, b), 0) for b in slugs] for a in slugs]
    fig = go.Figure(go.Heatmap(z=z, x=slugs, y=slugs, colorscale="Blues", colorbar={"title": label},
                               text=z, texttemplate="%{text:.3~g}"))
    fig.update_layout(title=f"Dataset overlap: {label}", xaxis_title="dataset B", yaxis_title="dataset A",
                      **_LAYOUT)
    return fig


def overlap_from_pairs(rows: list[dict]) -> dict[tuple[str, str], float]:
    """Images of A with a near duplicate in B (B != A), from kpi_near_duplicate_pairs, first model."""
    cross = [r for r in rows if r["dataset_slug_a"] != r["dataset_slug_b"]]
    if not cross:
        return {}
    model = sorted({r["model_name"] for r in cross})[0]
    images: dict[tuple[str, str], set[int]] = defaultdict(set)
    for r in cross:
        if r["model_name"] != model:
            continue
        images[(r["dataset_slug_a"], r["dataset_slug_b"])].add(r["image_id_a"])
        images[(r["dataset_slug_b"], r["dataset_slug_a"])].add(r["image_id_b"])
    return {pair: float(len(ids)) for pair, ids in images.items()}


# Marked images drawn over a map: label -> marker. Voids come from kpi_structural_void_boundary_images_v1.
MAP_MARKS = {
    "uncovered": {"symbol": "circle-open", "size": 12, "color": "#111", "line": {"width": 1.5}},
    "suspected label error": {"symbol": "x-thin-open", "size": 11, "color": "#d62728", "line": {"width": 2}},
    "structural void boundary": {"symbol": "diamond-open", "size": 12, "color": "#9467bd", "line": {"width": 1.5}},
}


def _unit_rows(sample: list[dict]) -> np.ndarray:
    vectors = np.asarray([r["vec"] for r in sample], dtype=np.float64)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, tuple[str, str]]:
    """The first two principal components and their axis titles (explained variance)."""
    centred = vectors - vectors.mean(axis=0)
    _, singular, components = np.linalg.svd(centred, full_matrices=False)
    explained = singular[:2] ** 2 / (singular ** 2).sum()
    return centred @ components[:2].T, (f"PC1 ({explained[0]:.0%})", f"PC2 ({explained[1]:.0%})")


def umap_2d(vectors: np.ndarray, seed: int = 42) -> tuple[np.ndarray, tuple[str, str]]:
    """UMAP (McInnes et al. 2018, umap-learn) on cosine distance, seeded so a report redraws the same map.

    Imported here: numba compiles UMAP's kernels on the first call in a process (about 30 s on 2 cores)."""
    import umap

    n_neighbors = max(2, min(15, len(vectors) - 1))
    reducer = umap.UMAP(n_components=2, n_neighbors=n_neighbors, metric="cosine", random_state=seed,
                        n_jobs=1, init="spectral" if len(vectors) > n_neighbors + 2 else "random")
    return reducer.fit_transform(vectors), ("UMAP 1", "UMAP 2")


def umap_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("umap") is not None


def atlas_map(rows: list[dict], colour_by: str = "dataset_slug", method: str = "pca",
              marks: dict[str, set[tuple[str, int]]] | None = None) -> go.Figure | None:
    """A 2-D map (PCA or UMAP) of the sampled vectors of the first model, one colour per group.

    `marks`: {label in MAP_MARKS: {(model_name, image_id)}}, drawn over the sampled images they hold."""
    if len(rows) < 3:
        return None
    model = sorted({r["model_name"] for r in rows})[0]
    sample = [r for r in rows if r["model_name"] == model]
    if len(sample) < 3:
        return None
    if method not in ("pca", "umap"):
        raise ValueError(f"unknown map method {method!r}: pca or umap")
    xy, (x_title, y_title) = (umap_2d if method == "umap" else pca_2d)(_unit_rows(sample))
    fig = go.Figure()
    for group in sorted({r[colour_by] for r in sample}):
        mask = [r[colour_by] == group for r in sample]
        fig.add_trace(go.Scatter(x=xy[mask, 0], y=xy[mask, 1], mode="markers", name=str(group),
                                   marker={"size": 6, "opacity": 0.75}))
    for label, marked in (marks or {}).items():
        mask = np.array([(model, r["image_id"]) in marked for r in sample], dtype=bool)
        if mask.any():
            fig.add_trace(go.Scatter(x=xy[mask, 0], y=xy[mask, 1], mode="markers",
                                       name=f"{label} ({int(mask.sum())})", marker=MAP_MARKS[label]))
    fig.update_layout(title=f"The atlas in 2-D: {method.upper()} of {len(sample)} sampled {model} vectors, "
                            f"by {colour_by}", xaxis_title=x_title, yaxis_title=y_title,
                      **{**_LAYOUT, "height": 480})
    return fig


ACQUISITION_TARGETS_SHOWN = 20


def acquisition_targets(rows: list[dict], target_name: str = "minimum_per_cell",
                        scope: str = "phenotype_cell") -> go.Figure | None:
    """Horizontal bars of n_needed for the top values or phenotype cells of one target.

    Ties (many empty cells need the same) go to the cells of the diagnosis
    groups with the most images: a hole beside plenty is the clearest gap.
    """
    listed = [r for r in rows if r["scope"] == scope and r["target_name"] == target_name and r["n_needed"] > 0]
    if not listed:
        return None
    group_size: dict[str, int] = defaultdict(int)
    for r in listed if scope == "phenotype_cell" else ():
        group_size[r["diagnosis_group"]] += r["n_images"]
    top = sorted(listed, key=lambda r: (r["rank_needed"], not r["is_unfilled"],
                                        -group_size.get(r["diagnosis_group"], 0), r["attribute"], r["value"]))
    top = top[:ACQUISITION_TARGETS_SHOWN][::-1]  # plotly draws the first bar at the bottom

    def label(r: dict) -> str:  # the ICD block's code range keeps the axis readable
        if scope != "phenotype_cell":
            return f"{r['attribute']}: {r['value']}"
        return f"{r['diagnosis_group'].split(' ', 1)[0]} | {r['fitzpatrick_group']} | {r['age_bin']}"

    fig = go.Figure()
    for unfilled, name, colour in ((True, "no public image", "#c0392b"), (False, "some images", "#2e86c1")):
        part = [r for r in top if r["is_unfilled"] is unfilled]
        if part:
            fig.add_trace(go.Bar(y=[label(r) for r in part], x=[r["n_needed"] for r in part], orientation="h",
                                 name=name, marker={"color": colour},
                                 text=[f"has {r['n_images']}" for r in part], textposition="auto"))
    n_unfilled = sum(1 for r in listed if r["is_unfilled"])
    what = "phenotype cell" if scope == "phenotype_cell" else "attribute value"
    fig.update_layout(title=(f"Images still needed per {what}, target {target_name} "
                             f"(top {len(top)} of {len(listed)}; {n_unfilled} without any image)"),
                      xaxis_title="images needed",
                      yaxis={"categoryorder": "array", "categoryarray": [label(r) for r in top]},
                      **{**_LAYOUT, "height": max(380, 24 * len(top) + 120),
                         "margin": {**_LAYOUT["margin"], "l": 200}})
    return fig
