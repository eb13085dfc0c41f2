"""ISIC challenges 2016 and 2017, part 3 (lesion classification) ground truth.

ISIC 2016 (`ISBI2016_ISIC_Part3_Training_GroundTruth.csv`,
`ISBI2016_ISIC_Part3_Test_GroundTruth.csv`) is published without a header
row: `ISIC_0000000,benign` in training, `ISIC_0000003,0.0` in test (1.0 =
malignant). Copies that added a header (`img_id,Label`) are read too. It
states benign or malignant only, so the diagnosis stays unknown.

ISIC 2017 (`ISIC-2017_{Training,Validation,Test_v2}_Part3_GroundTruth.csv`):
`image_id,melanoma,seborrheic_keratosis`, 0.0/1.0; neither marked means
nevus (the challenge's third class). The optional
`ISIC-2017_Training_Data_metadata.csv` (`image_id,age_approximate,sex`) adds
age and sex. The image ids are ISIC archive ids (shared `source_image_id`).
"""
from __future__ import annotations

from skinmap.ingest.adapters.base import Adapter, AdapterRows, Table, row, unknown_columns
from skinmap.ingest.adapters.catalog import ISIC2016, ISIC2017
from skinmap.ingest.identity import isic_image_id
from skinmap.ingest.loader import SourceRow
from skinmap.ingest.mapping import MappingError


def _rows_2016(t: Table) -> tuple[list[list[str]], list[str]]:
    """The (id, label) pairs, with the header line taken as data when it is an image id."""
    if len(t.header) < 2:
        raise MappingError(f"{t.path.name}: expected two columns (image id, benign/malignant)")
    first, second = t.header[0], t.header[1]
    pairs = [[r[first], r[second]] for r in t.rows]
    if isic_image_id(first):
        return [[first, second], *pairs], []
    return pairs, [f"{t.path.name}:{c}" for c in t.header[2:] if c]


def read_2016(tables: list[Table]) -> AdapterRows:
    rows, unknown = [], []
    for t in tables:
        pairs, extra = _rows_2016(t)
        unknown += extra
        for key, label in pairs:
            rows.append(SourceRow(row(source_key=key, file=f"{key}.jpg" if key else "", source_image_id=key,
                                      is_malignant=label)))
    return AdapterRows(rows, unknown)


def _diagnosis_2017(values: dict[str, str], melanoma: str, keratosis: str) -> tuple[str, tuple | None]:
    try:
        mel, sk = float(values[melanoma] or 0), float(values[keratosis] or 0)
    except ValueError:
        return "", (f"{melanoma},{keratosis}", f"{values[melanoma]},{values[keratosis]}", "not a 0/1 value")
    if mel == 1.0 and sk == 1.0:
        return "", (f"{melanoma},{keratosis}", "1,1", "several classes marked in ground truth")
    return ("melanoma" if mel == 1.0 else "seborrheic keratosis" if sk == 1.0 else "melanocytic nevus"), None


def read_2017(tables: list[Table]) -> AdapterRows:
    truths = [t for t in tables if t.find("melanoma")]
    metas = [t for t in tables if t not in truths]
    if not truths:
        raise MappingError("isic2017 expects a Part3 ground truth (image_id,melanoma,seborrheic_keratosis)")
    meta_of: dict[str, dict[str, str]] = {}
    unknown: list[str] = []
    for m in metas:
        key = m.require("image_id")
        age, sex = m.find("age_approximate", "age_approx", "age"), m.find("sex", "gender")
        unknown += unknown_columns(m, {key, age, sex})
        for r in m.rows:
            meta_of[r[key]] = {"age": age and r[age], "sex": sex and r[sex]}
    rows = []
    for t in truths:
        key, mel, sk = t.require("image_id"), t.require("melanoma"), t.require("seborrheic_keratosis")
        unknown += unknown_columns(t, {key, mel, sk, ""})
        for r in t.rows:
            diagnosis, problem = _diagnosis_2017(r, mel, sk)
            extra = meta_of.get(r[key], {})
            rows.append(SourceRow(row(source_key=r[key], file=f"{r[key]}.jpg" if r[key] else "",
                                      source_image_id=r[key], diagnosis=diagnosis, **extra),
                                  problems=[problem] if problem else []))
    return AdapterRows(rows, unknown)


ADAPTER_2016 = Adapter("isic2016", ISIC2016, "ISBI2016_ISIC_Part3_{Training,Test}_GroundTruth.csv (no header row); "
                       "images <id>.jpg", (1, 2), read_2016)
ADAPTER_2017 = Adapter("isic2017", ISIC2017, "ISIC-2017_*_Part3_GroundTruth.csv (1-3 of them) and optionally "
                       "ISIC-2017_Training_Data_metadata.csv; images <image_id>.jpg", (1, 4), read_2017)
