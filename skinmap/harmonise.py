"""Harmonisation of raw metadata values into SkinMap's one vocabulary.

Each parser returns a `Parsed` value: the harmonised value (None = unknown)
and, when the raw value was present but unusable, the reason. Unknown is a
value, never a guess: nothing here fills a gap.
"""
from __future__ import annotations

import csv
import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from rapidfuzz import fuzz, process, utils

T = TypeVar("T")

UNKNOWN_TOKENS = frozenset(
    {"", "-1", "unknown", "unk", "na", "n/a", "nan", "none", "null", "none_identified",
     "not available", "missing", "?", "-", "none_selected", "age_unknown", "unknown_sex"}
)
AGE_BINS = ((0, 17, "0-17"), (18, 29, "18-29"), (30, 49, "30-49"), (50, 69, "50-69"), (70, 200, "70+"))
FITZPATRICK_GROUPS = {1: "I-II", 2: "I-II", 3: "III-IV", 4: "III-IV", 5: "V-VI", 6: "V-VI"}
SEX_VALUES = {"female": "female", "f": "female", "woman": "female", "male": "male", "m": "male", "man": "male"}
MAX_AGE_YEARS = 120

# ISO 3166-1 alpha-2 -> continent, for the countries that public skin datasets come from
# (and their neighbours). Extend here, not in the adapters.
CONTINENTS = {
    **dict.fromkeys("AT BE BG CH CY CZ DE DK EE ES FI FR GB GR HR HU IE IS IT LT LU LV MT NL NO PL PT RO RS SE SI SK UA".split(), "Europe"),
    **dict.fromkeys("US CA MX GT CU DO HN PA CR JM".split(), "North America"),
    **dict.fromkeys("AR BR CL CO EC PE UY VE BO PY".split(), "South America"),
    **dict.fromkeys("CN JP KR IN PK BD ID MY PH SG TH VN TW HK IL SA AE TR IR IQ LK NP".split(), "Asia"),
    **dict.fromkeys("DZ EG ET GH CI KE MA NG RW SN TN TZ UG ZA ZM ZW CM CD ML BF MW MZ BW NA SL LR GN".split(), "Africa"),
    **dict.fromkeys("AU NZ FJ PG".split(), "Oceania"),
}
COUNTRY_ALIASES = {"UK": "GB", "USA": "US", "UNITED STATES": "US", "UNITED KINGDOM": "GB"}

# Free-text body sites -> fixed regions (DESIGN.md). Longest key wins.
BODY_REGIONS = {
    "head": "head/neck", "neck": "head/neck", "face": "head/neck", "scalp": "head/neck", "ear": "head/neck",
    "nose": "head/neck", "lip": "mucosa", "oral": "mucosa", "mucosa": "mucosa",
    "chest": "trunk front", "abdomen": "trunk front", "anterior torso": "trunk front",
    "back": "trunk back", "posterior torso": "trunk back", "trunk": "trunk unspecified", "torso": "trunk unspecified",
    "upper extremity": "upper limb", "arm": "upper limb", "forearm": "upper limb", "shoulder": "upper limb",
    "lower extremity": "lower limb", "leg": "lower limb", "thigh": "lower limb",
    "hand": "hand/foot", "foot": "hand/foot", "palm": "hand/foot", "sole": "hand/foot", "acral": "hand/foot",
    "palms/soles": "hand/foot", "genital": "genital/groin", "groin": "genital/groin", "genitalia": "genital/groin",
    "buttock": "gluteal", "gluteal": "gluteal", "nail": "nail",
    "upper limb": "upper limb", "lower limb": "lower limb", "lateral torso": "trunk unspecified",
    "oral/genital": "genital/groin", "head/neck": "head/neck",
}
SEEDS_DIR = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds"
# rapidfuzz token_sort_ratio (0-100) a diagnosis text must reach to take a fuzzy
# ICD-10-CM match: strict, so that only spelling and word-order variants match.
FUZZY_MIN_SCORE = 92.0
FITZPATRICK_GROUP_CODES = {"12": "I-II", "34": "III-IV", "56": "V-VI"}
_BUCKET = re.compile(r"^(?:age[ _]*)?(\d{1,3})\s*(?:-|_to_|to|–)\s*(\d{1,3})$")
_OPEN_BUCKET = re.compile(r"^(?:age[ _]*)?(\d{1,3})\s*(?:\+|_?or_?above|_?plus|_and_over)$")
OPEN_BUCKET_SPAN_YEARS = 10  # an open bucket 'N+' stands for N..N+10, midpoint N+5


@dataclass(frozen=True)
class Parsed(Generic[T]):
    value: T | None
    problem: str | None = None


def is_unknown(raw: str | None) -> bool:
    return raw is None or raw.strip().lower() in UNKNOWN_TOKENS


def _number(raw: str) -> float | None:
    try:
        value = float(raw.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def fitzpatrick(raw: str | None) -> Parsed[int]:
    """Fitzpatrick type 1-6 from '1'..'6', '3.0' or roman numerals; -1/blank = unknown."""
    if is_unknown(raw):
        return Parsed(None)
    text = raw.strip().upper().removeprefix("FST").removeprefix("TYPE").strip()
    roman = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6}
    value = roman.get(text)
    if value is None:
        number = _number(text)
        if number is None or number != int(number):
            return Parsed(None, "not a Fitzpatrick type (expected 1-6)")
        value = int(number)
    if not 1 <= value <= 6:
        return Parsed(None, "out of range: Fitzpatrick type must be 1-6")
    return Parsed(value)


def fitzpatrick_group(fitzpatrick_type: int | None) -> str | None:
    return FITZPATRICK_GROUPS.get(fitzpatrick_type) if fitzpatrick_type else None


def fitzpatrick_group_code(raw: str | None) -> Parsed[str]:
    """A Fitzpatrick group where only the group is known (DDI's 12/34/56, 'V-VI')."""
    if is_unknown(raw):
        return Parsed(None)
    text = re.sub(r"[\s/,-]", "", raw.strip().upper())
    text = text.removesuffix(".0")
    roman = {"III": "I-II", "IIIIV": "III-IV", "VVI": "V-VI"}
    group = FITZPATRICK_GROUP_CODES.get(text) or roman.get(text)
    if group is None:
        return Parsed(None, "not a Fitzpatrick group (expected 12, 34 or 56)")
    return Parsed(group)


def malignant(raw: str | None) -> Parsed[bool]:
    """Malignant/benign as the source states it (True/False, 1/0, malignant/benign)."""
    if is_unknown(raw):
        return Parsed(None)
    text = raw.strip().lower()
    if text in {"true", "1", "1.0", "malignant", "yes"}:
        return Parsed(True)
    if text in {"false", "0", "0.0", "benign", "no", "non-neoplastic"}:
        return Parsed(False)
    return Parsed(None, "not a malignant/benign value")


def age_years(raw: str | None) -> Parsed[float]:
    """Age in years; a bucket ('AGE_18_TO_29', '18-29', '80+') gives its midpoint.

    Negative or above 120 is out of range. The raw text stays in age_raw, so a
    midpoint is always traceable to the bucket it came from.
    """
    if is_unknown(raw):
        return Parsed(None)
    number = _number(raw)
    if number is None:
        text = raw.strip().lower()
        bucket, open_bucket = _BUCKET.match(text), _OPEN_BUCKET.match(text)
        if bucket and int(bucket.group(1)) <= int(bucket.group(2)):
            number = (int(bucket.group(1)) + int(bucket.group(2))) / 2
        elif open_bucket:
            number = int(open_bucket.group(1)) + OPEN_BUCKET_SPAN_YEARS / 2
        else:
            return Parsed(None, "not a number of years")
    if not 0 <= number <= MAX_AGE_YEARS:
        return Parsed(None, f"out of range: age must be 0-{MAX_AGE_YEARS} years")
    return Parsed(round(number, 1))


def age_bin(years: float | None) -> str | None:
    if years is None:
        return None
    whole = math.floor(years)
    return next(label for low, high, label in AGE_BINS if low <= whole <= high)


def sex(raw: str | None) -> Parsed[str]:
    """female / male; any other stated value (e.g. 'other', 'intersex') stays unknown, unflagged."""
    if is_unknown(raw):
        return Parsed(None)
    return Parsed(SEX_VALUES.get(raw.strip().lower()))


def country(raw: str | None) -> Parsed[tuple[str, str | None]]:
    """ISO 3166-1 alpha-2 code and its continent."""
    if is_unknown(raw):
        return Parsed(None)
    code = COUNTRY_ALIASES.get(raw.strip().upper(), raw.strip().upper())
    if not re.fullmatch(r"[A-Z]{2}", code):
        return Parsed(None, "not an ISO 3166-1 alpha-2 country code")
    return Parsed((code, CONTINENTS.get(code)))


def body_region(raw: str | None) -> Parsed[tuple[str, str | None]]:
    """A fixed body region and laterality from free text; unmatched text stays unknown."""
    if is_unknown(raw):
        return Parsed(None)
    text = raw.strip().lower().replace("_", " ")
    laterality = None
    for side in ("left", "right", "bilateral"):
        if re.search(rf"\b{side}\b", text):
            laterality = side
            text = re.sub(rf"\b{side}\b", " ", text).strip()
    matches = [key for key in BODY_REGIONS if re.search(rf"\b{re.escape(key)}s?\b", text)]
    if not matches:
        return Parsed((None, laterality), "body site not in the region vocabulary")  # type: ignore[arg-type]
    return Parsed((BODY_REGIONS[max(matches, key=len)], laterality))


def diagnosis(raw: str | None) -> Parsed[str]:
    """Diagnosis text, trimmed and lower-cased (ICD-10 mapping is a later step)."""
    if is_unknown(raw):
        return Parsed(None)
    return Parsed(re.sub(r"\s+", " ", raw.strip().lower()))


@dataclass(frozen=True)
class Icd10:
    code: str | None
    category: str | None
    block: str | None
    chapter: str | None
    is_malignant: bool | None
    match: str  # exact, synonym, fuzzy or unmapped


def diagnosis_key(text: str) -> str:
    """The form diagnosis texts are compared in: lower case, '-'/'_' as spaces, no apostrophes."""
    text = text.strip().lower().replace("'", "").replace("’", "")
    return re.sub(r"\s+", " ", re.sub(r"[-_]+", " ", text)).strip()


@functools.cache
def _icd10_tables() -> tuple[dict[str, Icd10], dict[str, str]]:
    with (SEEDS_DIR / "icd10_diagnosis_map.csv").open(newline="") as handle:
        codes = {
            row["diagnosis"]: Icd10(
                row["icd10_code"], row["icd10_category"], row["icd10_block"], row["icd10_chapter"],
                {"true": True, "false": False}.get(row["is_malignant"]), "exact",
            )
            for row in csv.DictReader(handle)
        }
    with (SEEDS_DIR / "diagnosis_synonyms.csv").open(newline="") as handle:
        synonyms = {diagnosis_key(row["synonym"]): row["diagnosis"] for row in csv.DictReader(handle)}
    return codes, synonyms


UNMAPPED = Icd10(None, None, None, None, None, "unmapped")


def icd10(diagnosis_text: str | None) -> Icd10 | None:
    """ICD-10-CM code, category, block and chapter for a diagnosis text.

    Exact name first, then a curated synonym, then a fuzzy match above
    FUZZY_MIN_SCORE; otherwise 'unmapped' (never a guess). None when the
    diagnosis is unknown.
    """
    if is_unknown(diagnosis_text):
        return None
    codes, synonyms = _icd10_tables()
    key = diagnosis_key(diagnosis_text)
    if key in codes:
        return codes[key]
    if key in synonyms:
        return _with_match(codes[synonyms[key]], "synonym")
    choices = list(codes) + list(synonyms)
    best = process.extractOne(key, choices, scorer=fuzz.token_sort_ratio, processor=utils.default_process,
                              score_cutoff=FUZZY_MIN_SCORE)
    if best is None:
        return UNMAPPED
    name = best[0] if best[0] in codes else synonyms[best[0]]
    return _with_match(codes[name], "fuzzy")


def _with_match(entry: Icd10, match: str) -> Icd10:
    return Icd10(entry.code, entry.category, entry.block, entry.chapter, entry.is_malignant, match)
