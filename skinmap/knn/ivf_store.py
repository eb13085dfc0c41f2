"""The ivf engine's cells kept between runs (atlas.knn_ivf_layout, _centroid, _cell; migration i5_08).

Training the centroids and placing 1.1M images in cells is about 18 s on
2 cores, most of what adding a 10k dataset cost beyond the search itself.
An update reads them back (binary COPY, no Python object per row) and
places only the images that have no cell yet.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skinmap.knn.store import copy_in
from skinmap.knn.vectors import copy_packed, copy_records


@dataclass(frozen=True)
class Layout:
    """How cells were trained; an update reuses them only when its settings are the same."""

    cells: int
    probes: int
    slack: float
    iterations: int
    seed: int
    trained_on: int  # images in the model when the centroids were trained
    fit_floor: float  # an image less similar than this to every centroid fits none (ivf_engine.FIT_QUANTILE)


def read_layout(conn, model_id: int) -> Layout | None:
    row = conn.execute("select cells, probes, slack, iterations, seed, trained_on, fit_floor "
                       "from atlas.knn_ivf_layout where model_id = %s", (model_id,)).fetchone()
    return None if row is None else Layout(*row)


_MODEL = [("l_model", ">i4"), ("model", ">i4")]  # leads the rows written; reads select by model instead


def _cell_rows(width: int, model: bool = False, packed: bool = False) -> np.dtype:
    """One binary COPY row of ([model_id integer,] image_id bigint, cells integer[width]); `packed`: the record
    int8send(image_id) || array_send(cells) (vectors.copy_packed)."""
    array = [("ndim", ">i4"), ("flags", ">i4"), ("oid", ">i4"), ("dim", ">i4"), ("lbound", ">i4"),
             ("cells", [("l", ">i4"), ("v", ">i4")], (width,))]
    if packed:
        return np.dtype([("image", ">i8")] + array)
    return np.dtype([("fields", ">i2")] + (_MODEL if model else []) + [
        ("l_image", ">i4"), ("image", ">i8"), ("l_cells", ">i4")] + array)


def _centroid_rows(dim: int, model: bool = False) -> np.dtype:
    """One binary COPY row of ([model_id integer,] cell integer, centroid vector(dim)), pgvector's binary form."""
    return np.dtype([("fields", ">i2")] + (_MODEL if model else []) + [
        ("l_cell", ">i4"), ("cell", ">i4"), ("l_vec", ">i4"), ("dim", ">u2"), ("unused", ">u2"),
        ("vec", ">f4", (dim,))])


def read_centroids(conn, model_id: int, n_cells: int, dim: int) -> np.ndarray | None:
    """(cells, dim) float32, row c = cell c; None when not every cell is stored in this dimension."""
    rows = copy_records(conn, "copy (select cell, centroid from atlas.knn_ivf_centroid where model_id = %s "
                              "and vector_dims(centroid) = %s order by cell) to stdout (format binary)",
                        (model_id, dim), _centroid_rows(dim))
    if not np.array_equal(rows["cell"], np.arange(n_cells)):
        return None
    return rows["vec"].astype(np.float32)


def read_cells(conn, model_id: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(image ids ascending, their cells (n, width)) of every image placed with this width."""
    rows = copy_packed(conn, "int8send(image_id) || array_send(cells)", "from atlas.knn_ivf_cell where model_id = %s "
                       "and cardinality(cells) = %s", (model_id, width), _cell_rows(width, packed=True))
    return rows["image"].astype(np.int64), rows["cells"]["v"].astype(np.int64)


def write_layout(conn, model_id: int, layout: Layout, centroids: np.ndarray) -> None:
    """Replace the model's layout and centroids, dropping its images' cells (placed in the old centroids)."""
    conn.execute("delete from atlas.knn_ivf_cell where model_id = %s", (model_id,))
    conn.execute("delete from atlas.knn_ivf_layout where model_id = %s", (model_id,))
    conn.execute("insert into atlas.knn_ivf_layout (model_id, cells, probes, slack, iterations, seed, trained_on, "
                 "fit_floor) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                 (model_id, layout.cells, layout.probes, layout.slack, layout.iterations, layout.seed,
                  layout.trained_on, layout.fit_floor))
    add_centroids(conn, model_id, 0, centroids)


def add_centroids(conn, model_id: int, first_cell: int, centroids: np.ndarray) -> None:
    """Store centroids as cells first_cell, first_cell + 1, ...; the layout counts them."""
    rows = np.zeros(len(centroids), dtype=_centroid_rows(centroids.shape[1], model=True))
    rows["fields"], rows["l_model"], rows["l_cell"], rows["l_vec"] = 3, 4, 4, 4 + 4 * centroids.shape[1]
    rows["model"], rows["cell"] = model_id, np.arange(first_cell, first_cell + len(centroids))
    rows["dim"], rows["vec"] = centroids.shape[1], centroids
    copy_in(conn, "copy atlas.knn_ivf_centroid (model_id, cell, centroid) from stdin (format binary)", rows)
    conn.execute("update atlas.knn_ivf_layout set cells = %s where model_id = %s",
                 (first_cell + len(centroids), model_id))


def write_cells(conn, model_id: int, image_ids: np.ndarray, cells: np.ndarray) -> None:
    """Add these images' cells (own cell first); images already placed keep theirs."""
    rows = np.zeros(len(image_ids), dtype=_cell_rows(cells.shape[1], model=True))
    rows["fields"], rows["l_model"], rows["l_image"], rows["l_cells"] = 3, 4, 8, 20 + 8 * cells.shape[1]
    rows["ndim"], rows["oid"], rows["dim"], rows["lbound"] = 1, 23, cells.shape[1], 1  # int4
    rows["model"], rows["image"], rows["cells"]["l"], rows["cells"]["v"] = model_id, image_ids, 4, cells
    copy_in(conn, "copy atlas.knn_ivf_cell (model_id, image_id, cells) from stdin (format binary)", rows)
