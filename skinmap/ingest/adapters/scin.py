"""SCIN (`scin_cases.csv` + `scin_labels.csv`): up to three images per case, self-reported metadata.

Fitzpatrick: the first dermatologist label, else the self-reported type.
Diagnosis: the condition with the largest weight in weighted_skin_condition_label.
Body site: the one body_parts_* column answered YES (several: unknown, reported).
"""
from __future__ import annotations

import ast

from skinmap.ingest.adapters.base import Adapter, AdapterRows, Table, row, unknown_columns
from skinmap.ingest.adapters.catalog import SCIN
from skinmap.ingest.loader import SourceRow
from skinmap.ingest.mapping import MappingError

BODY_PARTS = {
    "head_or_neck": "head/neck", "arm": "upper limb", "palm": "palm", "back_of_hand": "hand",
    "torso_front": "chest", "torso_back": "back", "genitalia_or_groin": "groin", "buttocks": "buttock",
    "leg": "leg", "foot_top_or_side": "foot", "foot_sole": "sole",
}
IGNORED_PREFIXES = ("race_ethnicity_", "textures_", "condition_symptoms_", "other_symptoms_", "body_parts_",
                    "monk_skin_tone", "dermatologist_", "gradable_for_", "image_")
IGNORED = {"source", "release", "year", "related_category", "condition_duration", "combined_race",
           "fitzpatrick_skin_type", "age_group", "sex_at_birth", "case_id", "weighted_skin_condition_label"}


def _top_condition(text: str) -> tuple[str, str | None]:
    """The highest-weighted condition of a "{'Eczema': 0.5, ...}" cell; a problem if it does not parse."""
    if not text.strip():
        return "", None
    try:
        weights = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return "", "weighted condition label does not parse"
    if not isinstance(weights, dict) or not weights:
        return "", "weighted condition label is not a non-empty mapping"
    try:
        return str(max(weights, key=lambda k: float(weights[k]))), None
    except (TypeError, ValueError):
        return "", "weighted condition label has non-numeric weights"


def read(tables: list[Table]) -> AdapterRows:
    cases = next((t for t in tables if t.find("image_1_path")), None)
    labels = next((t for t in tables if t is not cases and t.find("case_id")), None)
    if cases is None:
        raise MappingError("scin expects scin_cases.csv (with image_1_path) and optionally scin_labels.csv")
    case_id = cases.require("case_id")
    label_of = {}
    unknown = unknown_columns(cases, {case_id}, IGNORED, IGNORED_PREFIXES)
    if labels is not None:
        unknown += unknown_columns(labels, {labels.require("case_id")}, IGNORED, IGNORED_PREFIXES)
        label_of = {r[labels.require("case_id")]: r for r in labels.rows}
    derm_fitz = [f"dermatologist_fitzpatrick_skin_type_label_{i}" for i in (1, 2, 3)]
    age, sex, self_fitz = cases.find("age_group"), cases.find("sex_at_birth", "sex"), cases.find("fitzpatrick_skin_type")
    rows = []
    for r in cases.rows:
        label = label_of.get(r[case_id], {})
        problems = []
        diagnosis, problem = _top_condition(label.get("weighted_skin_condition_label", ""))
        if problem:
            problems.append(("weighted_skin_condition_label", label.get("weighted_skin_condition_label"), problem))
        fitz = next((label[c] for c in derm_fitz if label.get(c, "").upper().startswith("FST")), "")
        parts = [region for column, region in BODY_PARTS.items() if r.get(f"body_parts_{column}", "").upper() == "YES"]
        if len(parts) > 1:
            problems.append(("body_parts_*", ",".join(parts), "several body parts; body site unknown"))
        shared = dict(age=age and r[age], sex=sex and r[sex], fitzpatrick=fitz or (self_fitz and r[self_fitz]),
                      diagnosis=diagnosis, body_site=parts[0] if len(parts) == 1 else "", country="US",
                      patient_id=r[case_id], lesion_id=r[case_id])
        paths = [r.get(f"image_{i}_path", "") for i in (1, 2, 3)]
        paths = [p for p in paths if p]
        if not paths:
            rows.append(SourceRow(row(source_key=f"case:{r[case_id]}" if r[case_id] else "", **shared),
                                  quarantine_reason="case has no image path", problems=problems))
        for path in paths:
            name = path.rsplit("/", 1)[-1]
            rows.append(SourceRow(row(source_key=name, file=name, **shared), problems=list(problems)))
    return AdapterRows(rows, unknown)


ADAPTER = Adapter("scin", SCIN, "scin_cases.csv and scin_labels.csv; --images is the folder of the image files",
                  (1, 2), read)
