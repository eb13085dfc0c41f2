"""HAM10000 (`HAM10000_metadata.csv`) and ISIC 2018 task 3, which uses its layout.

Both the plain layout and copies with a `dataset` column (vidir_modern,
rosendahl, ...: kept as the source collection) are read. ISIC 2018's one-hot
ground truth (`image,MEL,NV,BCC,AKIEC,BKL,DF,VASC`) is read too. The image id
is the ISIC archive id, kept as the shared `source_image_id`.
"""
from __future__ import annotations

from skinmap.ingest.adapters.base import Adapter, AdapterRows, Table, row, unknown_columns
from skinmap.ingest.adapters.catalog import HAM10000, ISIC2018
from skinmap.ingest.adapters.onehot import onehot_diagnosis
from skinmap.ingest.loader import SourceRow

DX_NAMES = {
    "akiec": "actinic keratosis or intraepithelial carcinoma", "bcc": "basal cell carcinoma",
    "bkl": "benign keratosis", "df": "dermatofibroma", "mel": "melanoma", "nv": "melanocytic nevus",
    "vasc": "vascular lesion",
}


def read(tables: list[Table]) -> AdapterRows:
    t = tables[0]
    if t.find("MEL") and t.find("image"):
        return _read_onehot(t)
    key = t.require("image_id", "image")
    dx = t.require("dx", "diagnosis")
    used = {key, dx, lesion := t.find("lesion_id"), age := t.find("age", "age_approx"),
            sex := t.find("sex", "gender"), site := t.find("localization", "anatom_site_general", "location"),
            collection := t.find("dataset")}
    rows = [
        SourceRow(row(
            source_key=r[key], file=f"{r[key]}.jpg" if r[key] else "", source_image_id=r[key],
            lesion_id=lesion and r[lesion],
            diagnosis=DX_NAMES.get(r[dx].lower(), r[dx]), age=age and r[age], sex=sex and r[sex],
            body_site=site and r[site], source_collection=collection and r[collection],
        ))
        for r in t.rows
    ]
    return AdapterRows(rows, unknown_columns(t, used, {"dx_type"}))


def _read_onehot(t: Table) -> AdapterRows:
    key = t.require("image")
    classes = [c for c in t.header if c != key and c.lower() in {*DX_NAMES, "unk"}]
    rows = []
    for r in t.rows:
        diagnosis, problem = onehot_diagnosis(r, classes, DX_NAMES)
        rows.append(SourceRow(row(source_key=r[key], file=f"{r[key]}.jpg" if r[key] else "", source_image_id=r[key],
                                  diagnosis=diagnosis),
                              problems=[problem] if problem else []))
    return AdapterRows(rows, unknown_columns(t, {key, *classes}))


ADAPTER = Adapter("ham10000", HAM10000, "HAM10000_metadata.csv (with or without a `dataset` column); "
                  "images <image_id>.jpg", (1, 1), read)
ISIC2018_ADAPTER = Adapter("isic2018", ISIC2018, "task 3 metadata in the HAM10000 layout (+ `dataset`) or "
                           "the one-hot ground truth CSV; images <image>.jpg", (1, 1), read)
