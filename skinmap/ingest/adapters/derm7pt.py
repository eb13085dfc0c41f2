"""Derm7pt (`meta/meta.csv`): one case, two images (clinical `clinic`, dermoscopic `derm`)."""
from __future__ import annotations

from skinmap.ingest.adapters.base import Adapter, AdapterRows, Table, row, unknown_columns
from skinmap.ingest.adapters.catalog import DERM7PT
from skinmap.ingest.loader import SourceRow

IGNORED = {
    "seven_point_score", "pigment_network", "streaks", "pigmentation", "regression_structures",
    "dots_and_globules", "blue_whitish_veil", "vascular_structures", "level_of_diagnostic_difficulty",
    "elevation", "management", "notes", "case_id",
}
IMAGE_COLUMNS = (("clinic", "clinical"), ("derm", "dermoscopic"))


def read(tables: list[Table]) -> AdapterRows:
    t = tables[0]
    case = t.require("case_num", "case_id")
    images = {modality: t.require(column) for column, modality in IMAGE_COLUMNS}
    used = {case, *images.values(), dx := t.find("diagnosis"), site := t.find("location"),
            sex := t.find("sex", "gender")}
    rows = []
    for r in t.rows:
        shared = dict(lesion_id=r[case], diagnosis=dx and r[dx], body_site=site and r[site],
                      sex=sex and r[sex], country="IT")
        paths = [(modality, r[column]) for modality, column in images.items() if r[column]]
        if not paths:
            rows.append(SourceRow(row(source_key=f"case:{r[case]}" if r[case] else "", **shared),
                                  quarantine_reason="case has neither a clinical nor a dermoscopic image path"))
        for modality, path in paths:
            rows.append(SourceRow(row(source_key=path, file=path, modality=modality, **shared)))
    return AdapterRows(rows, unknown_columns(t, used, IGNORED))


ADAPTER = Adapter("derm7pt", DERM7PT, "meta/meta.csv; --images is the folder holding the `clinic`/`derm` paths",
                  (1, 1), read)
