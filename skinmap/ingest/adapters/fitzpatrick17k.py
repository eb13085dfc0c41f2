"""Fitzpatrick17k (`fitzpatrick17k.csv`): web-atlas images, Fitzpatrick labels, 114 conditions."""
from __future__ import annotations

from skinmap.ingest.adapters.base import Adapter, AdapterRows, Table, row, unknown_columns
from skinmap.ingest.adapters.catalog import FITZPATRICK17K
from skinmap.ingest.loader import SourceRow

MALIGNANT_PARTITION = {"malignant": "true", "benign": "false", "non-neoplastic": "false"}


def read(tables: list[Table]) -> AdapterRows:
    t = tables[0]
    key = t.require("md5hash", "md5")
    scale = t.require("fitzpatrick_scale", "fitzpatrick")
    centaur = t.find("fitzpatrick_centaur")
    label = t.require("label", "diagnosis")
    partition = t.find("three_partition_label")
    rows = []
    for r in t.rows:
        fitz = r[scale]
        if fitz.strip() in ("", "-1") and centaur:
            fitz = r[centaur]  # the second (Centaur Labs) annotation where the first is missing
        rows.append(SourceRow(row(
            source_key=r[key], file=f"{r[key]}.jpg" if r[key] else "", fitzpatrick=fitz, diagnosis=r[label],
            is_malignant=MALIGNANT_PARTITION.get(r[partition].lower()) if partition else None,
        )))
    ignored = {"nine_partition_label", "qc", "url", "url_alphanum"}
    return AdapterRows(rows, unknown_columns(t, {key, scale, centaur, label, partition}, ignored))


ADAPTER = Adapter("fitzpatrick17k", FITZPATRICK17K, "fitzpatrick17k.csv; images <md5hash>.jpg", (1, 1), read)
