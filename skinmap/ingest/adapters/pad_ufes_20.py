"""PAD-UFES-20 (`metadata.csv`): smartphone images from Brazil; note the spelling `fitspatrick`."""
from __future__ import annotations

from skinmap.ingest.adapters.base import Adapter, AdapterRows, Table, row, unknown_columns
from skinmap.ingest.adapters.catalog import PAD_UFES_20
from skinmap.ingest.loader import SourceRow

DIAGNOSTIC_NAMES = {
    "ack": "actinic keratosis", "bcc": "basal cell carcinoma", "mel": "melanoma", "nev": "melanocytic nevus",
    "scc": "squamous cell carcinoma", "sek": "seborrheic keratosis",
}
IGNORED = {
    "smoke", "drink", "background_father", "background_mother", "pesticide", "skin_cancer_history",
    "cancer_history", "has_piped_water", "has_sewage_system", "diameter_1", "diameter_2", "itch", "grew",
    "hurt", "changed", "bleed", "elevation", "biopsed",
}


def read(tables: list[Table]) -> AdapterRows:
    t = tables[0]
    key = t.require("img_id", "image_id")
    dx = t.require("diagnostic", "diagnosis")
    used = {key, dx, patient := t.find("patient_id"), lesion := t.find("lesion_id"), age := t.find("age"),
            sex := t.find("gender", "sex"), fitz := t.find("fitspatrick", "fitzpatrick"), site := t.find("region")}
    rows = [
        SourceRow(row(
            source_key=r[key], file=r[key], patient_id=patient and r[patient], lesion_id=lesion and r[lesion],
            age=age and r[age], sex=sex and r[sex], fitzpatrick=fitz and r[fitz], body_site=site and r[site],
            diagnosis=DIAGNOSTIC_NAMES.get(r[dx].lower(), r[dx]), country="BR",
        ))
        for r in t.rows
    ]
    return AdapterRows(rows, unknown_columns(t, used, IGNORED))


ADAPTER = Adapter("pad-ufes-20", PAD_UFES_20, "metadata.csv; images named by img_id (PAT_..._....png)", (1, 1), read)
