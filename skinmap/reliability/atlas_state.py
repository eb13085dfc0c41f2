"""What an atlas holds, in terms two runs of the same pipeline can compare.

Surrogate keys are not comparable: a killed ingest rolls back its
transaction but not the `image_id` sequence, so a restarted run numbers the
same images differently. Every image id is therefore replaced by its
natural key `dataset slug/source key` before rows are compared, in the
atlas tables and in the kpi views alike.

Two kpi columns are left out of the comparison, because they legitimately
differ between two correct runs:

- `kpi_atlas_sample_v1.sample_rank`: the sample is ordered by
  `md5(image_id::text)`, a hash of the surrogate key itself;
- `kpi_imputation_probe_quality_v1.trained_at`: when the probe was trained.

Floating-point values are compared to a relative 1e-9: `avg()` over a double
column sums in the order the rows lie on disk, and a killed and restarted
step writes them in another order. Shuffling the physical rows of
`knn_edge`, `knn_novelty`, `embedding` and `image_metadata` of the demo
atlas and rebuilding changed three views by at most 8.7e-16 relative
(`kpi_novelty_by_group_v1`, `kpi_novelty_by_year_v1`,
`kpi_phenotype_density_v1`) and nothing else.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from psycopg import sql

from skinmap.db import connect

IMAGE_ID_COLUMNS = {"image_id", "image_id_a", "image_id_b", "representative_image_id", "neighbour_image_id"}
IMAGE_ID_ARRAY_COLUMNS = {"image_ids"}
CLUSTER_ID_COLUMNS = {"cluster_id"}  # the smallest image id of the cluster (int_*_clusters_labelled)
EXCLUDED_KPI_COLUMNS = {
    ("kpi_atlas_sample_v1", "sample_rank"): "ordered by md5(image_id), a hash of the surrogate key",
    ("kpi_imputation_probe_quality_v1", "trained_at"): "timestamp of the probe's training",
}

# One row per entity, by natural key: (table, SQL returning the key columns). Surrogate ids become keys.
_KEY = "(select d.slug || '/' || i.source_key from atlas.image i join atlas.dataset d using (dataset_id) " \
       "where i.image_id = {col})"
TABLE_KEYS: dict[str, str] = {
    "atlas.image": "select d.slug, i.source_key, i.status, coalesce(i.pixel_sha256, '') "
                   "from atlas.image i join atlas.dataset d using (dataset_id)",
    "atlas.image_metadata": f"select {_KEY.format(col='m.image_id')}, coalesce(m.diagnosis, ''), "
                            "coalesce(m.fitzpatrick_group, '') from atlas.image_metadata m",
    "atlas.pixel_signature": f"select {_KEY.format(col='s.image_id')} from atlas.pixel_signature s",
    "atlas.image_quality": f"select {_KEY.format(col='q.image_id')} from atlas.image_quality q",
    "atlas.ingest_issue": "select d.slug, coalesce(x.source_key, ''), coalesce(x.column_name, ''), x.reason "
                          "from atlas.ingest_issue x join atlas.dataset d using (dataset_id)",
    "atlas.embedding": f"select m.model_name, {_KEY.format(col='e.image_id')} "
                       "from atlas.embedding e join atlas.embedding_model m using (model_id)",
    "atlas.knn_edge": f"select k.model_id, k.scope, {_KEY.format(col='k.image_id')}, k.neighbour_rank, "
                      f"{_KEY.format(col='k.neighbour_image_id')} from atlas.knn_edge k",
    "atlas.knn_novelty": f"select k.model_id, k.scope, k.cutoff_year, {_KEY.format(col='k.image_id')}, "
                         "k.n_neighbours from atlas.knn_novelty k",
    "atlas.dataset_frechet": "select f.model_id, a.slug, b.slug from atlas.dataset_frechet f "
                             "join atlas.dataset a on a.dataset_id = f.dataset_id_a "
                             "join atlas.dataset b on b.dataset_id = f.dataset_id_b",
    "atlas.duplicate_verification": f"select {_KEY.format(col='v.image_id_a')}, {_KEY.format(col='v.image_id_b')}, "
                                    "v.method, coalesce(v.n_inliers, -1) from atlas.duplicate_verification v",
}


@dataclass(frozen=True)
class TableDiff:
    """Rows of one table against the reference: missing, duplicated (same key twice) and unexpected."""

    table: str
    n_rows: int
    n_reference: int
    n_missing: int
    n_duplicate: int
    n_unexpected: int

    @property
    def ok(self) -> bool:
        return self.n_missing == self.n_duplicate == self.n_unexpected == 0


def table_rows(url: str, tables: list[str] | None = None) -> dict[str, list[tuple]]:
    """Each table's rows by natural key (a list: a key present twice counts as a duplicate)."""
    with connect(url) as conn:
        return {t: [tuple(r) for r in conn.execute(TABLE_KEYS[t])] for t in (tables or TABLE_KEYS)}


def compare_tables(rows: dict[str, list[tuple]], reference: dict[str, list[tuple]]) -> list[TableDiff]:
    diffs = []
    for table, got in rows.items():
        want = set(reference[table])
        have = set(got)
        diffs.append(TableDiff(table, len(got), len(reference[table]), len(want - have), len(got) - len(have),
                               len(have - want)))
    return diffs


def _image_keys(conn) -> dict[int, str]:
    return dict(conn.execute(
        "select i.image_id, d.slug || '/' || i.source_key from atlas.image i join atlas.dataset d using (dataset_id)"))


def _canonical(view: str, columns: list[str], row: tuple, keys: dict[int, str]) -> tuple:
    out = []
    for name, value in zip(columns, row):
        if (view, name) in EXCLUDED_KPI_COLUMNS:
            continue
        if value is not None and (name in IMAGE_ID_COLUMNS or name in CLUSTER_ID_COLUMNS):
            value = keys[value]
        elif value is not None and name in IMAGE_ID_ARRAY_COLUMNS:
            value = sorted(keys[v] for v in value)
        out.append(value)
    return tuple(out)


def kpi_views(url: str) -> list[str]:
    with connect(url) as conn:
        return [v for (v,) in conn.execute(
            "select table_name from information_schema.views where table_schema = 'kpi' order by 1")]


FLOAT_REL_TOL = 1e-9  # summation order moves the last bits only (see the module docstring)


def kpi_contents(url: str) -> dict[str, list[tuple]]:
    """Per kpi view: its canonical rows (ids replaced by natural keys), sorted."""
    contents: dict[str, list[tuple]] = {}
    with connect(url) as conn:
        keys = _image_keys(conn)
        for view in kpi_views(url):
            cursor = conn.execute(sql.SQL("select * from kpi.{}").format(sql.Identifier(view)))  # names come from information_schema
            columns = [c.name for c in cursor.description]
            contents[view] = sorted((_canonical(view, columns, r, keys) for r in cursor), key=_sort_key)
    return contents


def _sort_key(row: tuple) -> tuple:
    """Rows pair up across runs by this key: floats rounded well above their last-bit noise."""
    return tuple(f"{v:.6g}" if isinstance(v, float) else repr(v) for v in row)


def _same_value(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=FLOAT_REL_TOL, abs_tol=1e-12)
    return a == b


def _same_rows(got: list[tuple], want: list[tuple]) -> bool:
    return len(got) == len(want) and all(
        len(g) == len(w) and all(_same_value(a, b) for a, b in zip(g, w)) for g, w in zip(got, want))


def differing_views(got: dict[str, list[tuple]], reference: dict[str, list[tuple]]) -> list[str]:
    """Views whose content differs from the reference's, or that exist on one side only."""
    return sorted(v for v in set(got) | set(reference)
                  if v not in got or v not in reference or not _same_rows(got[v], reference[v]))
