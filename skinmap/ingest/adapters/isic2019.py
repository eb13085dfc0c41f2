"""ISIC 2019: training metadata + one-hot ground truth, joined on `image`.

The lesion_id prefix names the source collection (HAM_ -> HAM10000, BCN_ ->
BCN20000, MSK4_ -> MSK); an image's release year is the earliest of ISIC
2019's and its collection's years. `image` is the ISIC archive id (some end in
`_downsampled`): its canonical form is the shared `source_image_id`.
"""
from __future__ import annotations

from skinmap.ingest.adapters.base import Adapter, AdapterRows, Table, row, unknown_columns
from skinmap.ingest.adapters.catalog import ISIC2019, ISIC2019_COLLECTIONS
from skinmap.ingest.adapters.onehot import onehot_diagnosis
from skinmap.ingest.loader import SourceRow
from skinmap.ingest.mapping import MappingError

CLASS_NAMES = {
    "mel": "melanoma", "nv": "melanocytic nevus", "bcc": "basal cell carcinoma", "ak": "actinic keratosis",
    "bkl": "benign keratosis", "df": "dermatofibroma", "vasc": "vascular lesion", "scc": "squamous cell carcinoma",
}


def _split(tables: list[Table]) -> tuple[Table | None, Table | None]:
    metadata = next((t for t in tables if t.find("age_approx") or t.find("anatom_site_general")), None)
    truth = next((t for t in tables if t.find("MEL")), None)
    if metadata is None and truth is None:
        raise MappingError("isic2019 expects ISIC_2019_Training_Metadata.csv and/or ISIC_2019_Training_GroundTruth.csv")
    return metadata, truth


def collection_of(lesion_id: str) -> tuple[str | None, int | None]:
    for prefix, (collection, year) in ISIC2019_COLLECTIONS.items():
        if lesion_id.upper().startswith(prefix):
            return collection, year
    return None, None


def read(tables: list[Table]) -> AdapterRows:
    metadata, truth = _split(tables)
    unknown: list[str] = []
    by_image: dict[str, dict[str, str]] = {}
    order: list[str] = []
    if metadata is not None:
        key = metadata.require("image", "image_name")
        used = {key, age := metadata.find("age_approx", "age"), site := metadata.find("anatom_site_general"),
                lesion := metadata.find("lesion_id"), sex := metadata.find("sex", "gender")}
        unknown += unknown_columns(metadata, used)
        for r in metadata.rows:
            collection, year = collection_of(r[lesion]) if lesion else (None, None)
            if r[key] not in by_image:
                order.append(r[key])
            by_image[r[key]] = row(
                source_key=r[key], file=f"{r[key]}.jpg" if r[key] else "", source_image_id=r[key], age=age and r[age],
                body_site=site and r[site], lesion_id=lesion and r[lesion], sex=sex and r[sex],
                source_collection=collection, release_year=str(min(year, ISIC2019.release_year)) if year else None,
            )
    problems: dict[str, list] = {}
    if truth is not None:
        key = truth.require("image", "image_name")
        classes = [c for c in truth.header if c != key and (c.lower() in CLASS_NAMES or c.lower() == "unk")]
        unknown += unknown_columns(truth, {key, *classes})
        for r in truth.rows:
            diagnosis, problem = onehot_diagnosis(r, classes, CLASS_NAMES)
            if r[key] not in by_image:
                order.append(r[key])
                by_image[r[key]] = row(source_key=r[key], file=f"{r[key]}.jpg" if r[key] else "", source_image_id=r[key])
            by_image[r[key]]["diagnosis"] = diagnosis
            if problem:
                problems.setdefault(r[key], []).append(problem)
    rows = [SourceRow(by_image[k], problems=problems.get(k, [])) for k in order]
    return AdapterRows(rows, unknown)


ADAPTER = Adapter("isic2019", ISIC2019, "ISIC_2019_Training_Metadata.csv and/or ISIC_2019_Training_GroundTruth.csv; "
                  "images <image>.jpg", (1, 2), read)
