"""ISIC 2020 (`ISIC_2020_Training_GroundTruth.csv`): diagnosis mostly `unknown`, benign/malignant always."""
from __future__ import annotations

from skinmap.ingest.adapters.base import Adapter, AdapterRows, Table, row, unknown_columns
from skinmap.ingest.adapters.catalog import ISIC2020
from skinmap.ingest.loader import SourceRow


def read(tables: list[Table]) -> AdapterRows:
    t = tables[0]
    key = t.require("image_name", "image")
    used = {key, patient := t.find("patient_id"), lesion := t.find("lesion_id"), sex := t.find("sex", "gender"),
            age := t.find("age_approx", "age"), site := t.find("anatom_site_general_challenge", "anatom_site_general"),
            dx := t.find("diagnosis"), malignant := t.find("benign_malignant")}
    rows = [
        SourceRow(row(
            source_key=r[key], file=f"{r[key]}.jpg" if r[key] else "", source_image_id=r[key],
            patient_id=patient and r[patient],
            lesion_id=lesion and r[lesion], sex=sex and r[sex], age=age and r[age], body_site=site and r[site],
            diagnosis=dx and r[dx], is_malignant=malignant and r[malignant],
        ))
        for r in t.rows
    ]
    return AdapterRows(rows, unknown_columns(t, used, {"target"}))


ADAPTER = Adapter("isic2020", ISIC2020, "ISIC_2020_Training_GroundTruth.csv; images <image_name>.jpg", (1, 1), read)
