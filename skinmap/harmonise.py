"""Harmonisation of raw metadata values into SkinMap's one vocabulary.

Each parser returns a `Parsed` value: the harmonised value (None = unknown)
and, when the raw value was present but unusable, the reason. Unknown is a
value, never a guess: nothing here fills a gap.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

UNKNOWN_TOKENS = frozenset(
    {"", "-1", "unknown", "unk", "na", "n/a", "nan", "none", "null", "none_identified",
     "not available", "missing", "?", "-"}
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
}


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


def age_years(raw: str | None) -> Parsed[float]:
    """Age in years; negative or above 120 is out of range."""
    if is_unknown(raw):
        return Parsed(None)
    number = _number(raw)
    if number is None:
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
