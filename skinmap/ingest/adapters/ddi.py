"""DDI (`ddi_metadata.csv`): Fitzpatrick known only as a group (12, 34, 56), malignant True/False."""
from __future__ import annotations

from skinmap.ingest.adapters.base import Adapter, AdapterRows, Table, row, unknown_columns
from skinmap.ingest.adapters.catalog import DDI
from skinmap.ingest.loader import SourceRow


def read(tables: list[Table]) -> AdapterRows:
    t = tables[0]
    key = t.require("DDI_file", "file")
    used = {key, "", t.find("DDI_ID"), tone := t.require("skin_tone"),
            malignant := t.find("malignant"), disease := t.require("disease", "diagnosis")}
    rows = [
        SourceRow(row(
            source_key=r[key], file=r[key], fitzpatrick_group=r[tone], is_malignant=malignant and r[malignant],
            diagnosis=r[disease], country="US",
        ))
        for r in t.rows
    ]
    return AdapterRows(rows, unknown_columns(t, used, {"unnamed: 0"}))


ADAPTER = Adapter("ddi", DDI, "ddi_metadata.csv (first column: unnamed index); images named by DDI_file", (1, 1), read)
