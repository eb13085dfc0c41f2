"""What the synthetic atlas plants: datasets, demographics and the copy plan.

Pure data, read by :mod:`skinmap.synth`. Counts are given at ``scale=1.0``
(the demo: 1,842 images, 2,142 with the planted void); each count is
multiplied by the scale and kept at or above its minimum, so every planted
feature still exists at small scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NEAR_TRANSFORMS: tuple[str, ...] = ("resize", "jpeg", "crop", "mirror", "jitter")
"""Near-duplicate transforms, as recorded in ``near_duplicate_pairs[].transform``."""

EXACT_KINDS: tuple[str, ...] = ("exact", "exact_png")
"""``exact``: the same file copied byte for byte; ``exact_png``: the decoded
pixels of the source re-saved losslessly as PNG (other bytes, same pixels)."""

# Skin tone (sRGB) of the background per Fitzpatrick type.
FITZ_RGB: dict[int, tuple[float, float, float]] = {
    1: (244.0, 216.0, 199.0),
    2: (232.0, 192.0, 166.0),
    3: (207.0, 158.0, 122.0),
    4: (168.0, 118.0, 82.0),
    5: (118.0, 79.0, 54.0),
    6: (74.0, 50.0, 36.0),
}

# Human-readable diagnosis texts (the harmonise step maps them to ICD-10-CM).
NEVUS = "melanocytic nevus"
MELANOMA = "melanoma"
SEB_K = "seborrheic keratosis"
BCC = "basal cell carcinoma"
AK = "actinic keratosis"
DERMATOFIBROMA = "dermatofibroma"
KELOID = "keloid"
VITILIGO = "vitiligo"
KAPOSI = "kaposi sarcoma"
TINEA = "tinea corporis"
ECZEMA = "atopic dermatitis"

SITES_ADULT: dict[str, float] = {
    "back": 0.26,
    "trunk": 0.12,
    "abdomen": 0.08,
    "chest": 0.08,
    "lower extremity": 0.16,
    "upper extremity": 0.12,
    "face": 0.08,
    "neck": 0.04,
    "scalp": 0.03,
    "acral": 0.03,
}


@dataclass(frozen=True)
class DatasetSpec:
    slug: str
    name: str
    release_year: int
    modality: str  # clinical | dermoscopic | mixed
    role: str  # base | repetitive | novel
    origin_country: str | None
    n_rows: int  # at scale 1
    size: tuple[int, int]  # (width, height) of original images
    diagnoses: dict[str, float]
    fitz_probs: tuple[float, float, float, float, float, float]  # types 1..6
    fitz_known: float  # share of originals with a Fitzpatrick label
    fitz_unknown_tokens: tuple[str, ...]
    age_known: float
    pediatric: float  # share of children among originals with a known age
    adult_age: tuple[float, float]  # mean, sd of adult ages
    age_step: int  # ages rounded to a multiple of this (HAM10000 uses 5)
    sex_known: float
    female: float  # share female among known
    sex_tokens: tuple[str, str]  # female, male
    sex_unknown_tokens: tuple[str, ...]
    countries: dict[str, float]
    key_prefix: str
    key_digits: int
    sites: dict[str, float] = field(default_factory=lambda: dict(SITES_ADULT))
    site_unknown: float = 0.04
    extra_column: tuple[str, tuple[str, ...]] | None = None  # (name, values), ignored by mapping
    dermoscopic_share: float | None = None  # for modality "mixed"
    min_originals: int = 2


@dataclass(frozen=True)
class CopySpec:
    """``n`` copies made into ``target`` from images of ``sources``."""

    target: str
    sources: tuple[str, ...]
    kind: str  # one of EXACT_KINDS or NEAR_TRANSFORMS
    n: int  # at scale 1
    min_n: int
    blank_share: float  # chance that each copied metadata field is left blank


DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        slug="derm-alpha",
        name="Derm Alpha (synthetic)",
        release_year=2016,
        modality="dermoscopic",
        role="base",
        origin_country="PT",
        n_rows=500,
        size=(160, 120),
        diagnoses={NEVUS: 0.62, MELANOMA: 0.2, SEB_K: 0.18},
        fitz_probs=(0.24, 0.42, 0.27, 0.055, 0.015, 0.0),
        fitz_known=0.72,
        fitz_unknown_tokens=("",),
        age_known=0.95,
        pediatric=0.02,
        adult_age=(52.0, 16.0),
        age_step=5,
        sex_known=0.97,
        female=0.46,
        sex_tokens=("female", "male"),
        sex_unknown_tokens=("unknown", ""),
        countries={"PT": 0.7, "ES": 0.3},
        key_prefix="DA_",
        key_digits=7,
        extra_column=("dx_type", ("histo", "follow_up", "consensus", "confocal")),
    ),
    DatasetSpec(
        slug="derm-beta",
        name="Derm Beta (synthetic)",
        release_year=2018,
        modality="dermoscopic",
        role="repetitive",
        origin_country="AT",
        n_rows=400,
        size=(160, 120),
        diagnoses={NEVUS: 0.6, MELANOMA: 0.2, SEB_K: 0.16, DERMATOFIBROMA: 0.04},
        fitz_probs=(0.22, 0.42, 0.28, 0.06, 0.02, 0.0),
        fitz_known=0.55,
        fitz_unknown_tokens=("-1", ""),
        age_known=0.92,
        pediatric=0.03,
        adult_age=(50.0, 17.0),
        age_step=5,
        sex_known=0.95,
        female=0.48,
        sex_tokens=("F", "M"),
        sex_unknown_tokens=("",),
        countries={"AT": 0.6, "DE": 0.2, "AU": 0.2},
        key_prefix="DB",
        key_digits=6,
        extra_column=("dx_type", ("histo", "follow_up", "consensus")),
    ),
    DatasetSpec(
        slug="clinic-gamma",
        name="Clinic Gamma (synthetic)",
        release_year=2020,
        modality="clinical",
        role="base",
        origin_country="US",
        n_rows=350,
        size=(160, 128),
        diagnoses={NEVUS: 0.3, MELANOMA: 0.14, SEB_K: 0.14, BCC: 0.26, AK: 0.16},
        fitz_probs=(0.14, 0.3, 0.3, 0.2, 0.045, 0.015),
        fitz_known=0.8,
        fitz_unknown_tokens=("", "-1"),
        age_known=0.9,
        pediatric=0.05,
        adult_age=(58.0, 15.0),
        age_step=1,
        sex_known=0.93,
        female=0.5,
        sex_tokens=("Female", "Male"),
        sex_unknown_tokens=("", "Unknown"),
        countries={"US": 0.85, "CA": 0.15},
        key_prefix="CG-",
        key_digits=5,
        extra_column=("camera", ("phone", "dslr", "unknown")),
    ),
    DatasetSpec(
        slug="afri-delta",
        name="Afri Delta (synthetic)",
        release_year=2022,
        modality="clinical",
        role="novel",
        origin_country="NG",
        n_rows=300,
        size=(144, 144),
        diagnoses={KELOID: 0.22, VITILIGO: 0.2, KAPOSI: 0.18, TINEA: 0.16, ECZEMA: 0.16, NEVUS: 0.08},
        fitz_probs=(0.0, 0.0, 0.03, 0.1, 0.4, 0.47),
        fitz_known=0.4,  # dark skin goes unlabelled most often (the paper's labelled 5.8% vs imputed 11.0%)
        fitz_unknown_tokens=("",),
        age_known=0.6,
        pediatric=0.32,
        adult_age=(38.0, 14.0),
        age_step=1,
        sex_known=0.9,
        female=0.56,
        sex_tokens=("female", "male"),
        sex_unknown_tokens=("unknown", ""),
        countries={"NG": 0.45, "KE": 0.2, "GH": 0.15, "UG": 0.1, "ZA": 0.1},
        key_prefix="AD",
        key_digits=4,
        sites={
            "face": 0.16,
            "upper extremity": 0.2,
            "lower extremity": 0.2,
            "trunk": 0.18,
            "back": 0.1,
            "neck": 0.08,
            "ear": 0.08,
        },
    ),
    DatasetSpec(
        slug="repeat-epsilon",
        name="Repeat Epsilon (synthetic)",
        release_year=2024,
        modality="mixed",
        role="repetitive",
        origin_country=None,
        n_rows=200,
        size=(160, 120),
        diagnoses={NEVUS: 0.45, MELANOMA: 0.2, SEB_K: 0.15, BCC: 0.2},
        fitz_probs=(0.2, 0.35, 0.3, 0.1, 0.04, 0.01),
        fitz_known=0.6,
        fitz_unknown_tokens=("", "-1"),
        age_known=0.85,
        pediatric=0.04,
        adult_age=(55.0, 16.0),
        age_step=1,
        sex_known=0.9,
        female=0.5,
        sex_tokens=("F", "M"),
        sex_unknown_tokens=("", "unknown"),
        countries={"BR": 0.4, "IN": 0.3, "US": 0.3},
        key_prefix="RE_",
        key_digits=5,
        dermoscopic_share=0.6,
    ),
    # The planted structural void (issue 17), released last so that it is in no earlier year's novelty
    # reference: see VOID_DATASET.
    DatasetSpec(
        slug="nevus-eta",
        name="Nevus Series Eta (synthetic)",
        release_year=2025,
        modality="dermoscopic",
        role="void",
        origin_country="AT",
        n_rows=300,
        size=(160, 120),
        diagnoses={NEVUS: 1.0},
        fitz_probs=(0.5, 0.5, 0.0, 0.0, 0.0, 0.0),
        fitz_known=0.0,
        fitz_unknown_tokens=("",),
        age_known=0.0,
        pediatric=1.0,  # children's nevi: smooth skin, as their pixels show
        adult_age=(45.0, 12.0),
        age_step=1,
        sex_known=0.9,
        female=0.5,
        sex_tokens=("f", "m"),
        sex_unknown_tokens=("",),
        countries={"AT": 0.6, "DE": 0.4},
        key_prefix="NE_",
        key_digits=5,
        site_unknown=0.0,
        min_originals=240,
    ),
)

VOID_DATASET = "nevus-eta"
"""The planted structural void (issue 17): a series of children's dermoscopic nevi whose
global pattern moves around a closed path, reticular -> globular -> pink
homogeneous -> blue homogeneous -> reticular, each image mixing two
neighbouring patterns (skinmap.synth.VOID_PATTERNS). The path is filled; its
middle, lesions that mix all four (the multicomponent pattern), is in no
dataset. Measured in EfficientNet-Lite0 space beside the demo atlas (880
images), at k = 30 with every image a landmark:
- 240 images on Fitzpatrick I-II skin: the loop is the most persistent void,
  0.0046 against 0.00089 for the next and a Gaussian null max of 0.00027;
  150 images are too few (the loop is lost);
- the same on skin I-IV: 0.0015 against 0.0011 (too close to call), and with
  the creases and sun spots of adult skin (skinmap.synth._age_marks) the loop
  is lost. So the series is children's nevi (smooth skin, true ages 0-17) on
  light skin, and carries neither ages nor Fitzpatrick types, like most
  dermoscopy series: with adult ages the age probe read the smooth skin as a
  child's (imputed pediatric share 0.131 against a true 0.059), and its 170
  labels of one skin group made the Fitzpatrick probe fail its bar (balanced
  accuracy 0.48 against 0.65 without them).
Its own dataset, released after every other year: the path is dense (novelty
0.20 at k = 100 against the atlas's 0.31) and in a year's reference set it
pulled that year's null baseline down (the repetitive year's
novelty_vs_baseline rose from 0.98 to 1.17). Left out with
generate_atlas(plant_void=False)."""


_NEAR = NEAR_TRANSFORMS


def _plan() -> tuple[CopySpec, ...]:
    p: list[CopySpec] = []

    def add(target: str, sources: tuple[str, ...], exact: tuple[int, int], near: tuple[int, int], blank: float) -> None:
        n_exact, min_exact = exact
        # alternate byte copies and PNG re-saves, byte copies first
        p.append(CopySpec(target, sources, "exact", (n_exact + 1) // 2, (min_exact + 1) // 2, blank))
        p.append(CopySpec(target, sources, "exact_png", n_exact // 2, min_exact // 2, blank))
        for t in _NEAR:
            p.append(CopySpec(target, sources, t, near[0], near[1], blank))

    add("derm-alpha", ("derm-alpha",), (8, 2), (4, 1), 0.03)
    add("derm-beta", ("derm-alpha",), (40, 4), (16, 2), 0.12)
    add("derm-beta", ("derm-beta",), (6, 2), (3, 1), 0.03)
    add("clinic-gamma", ("derm-beta",), (10, 2), (4, 1), 0.15)
    add("clinic-gamma", ("clinic-gamma",), (4, 2), (2, 1), 0.03)
    # the novel dataset has a few internal copies only
    p.append(CopySpec("afri-delta", ("afri-delta",), "exact", 2, 1, 0.0))
    p.append(CopySpec("afri-delta", ("afri-delta",), "mirror", 2, 1, 0.03))
    add("repeat-epsilon", ("derm-alpha", "derm-beta", "clinic-gamma"), (44, 4), (20, 3), 0.2)
    add("repeat-epsilon", ("repeat-epsilon",), (4, 2), (2, 1), 0.03)
    return tuple(p)


COPY_PLAN: tuple[CopySpec, ...] = _plan()

PROBLEM_DATASET = "clinic-gamma"
"""The dataset that carries the planted ingest problems (2 corrupt images,
1 missing file, 1 Fitzpatrick of 9, 1 age of 240)."""

AGE_VALID = (0, 120)
FITZ_VALID = (1, 6)

JUNK_PLAN: tuple[tuple[str, str, int, int], ...] = (
    # (dataset, junk kind of skinmap.junk, n at scale 1, minimum)
    ("afri-delta", "stripes_vertical", 3, 2),
    ("afri-delta", "flat", 3, 2),
    ("afri-delta", "dark", 3, 2),
    ("afri-delta", "blurred", 3, 2),
)
"""Planted junk for the image-quality screening: each is a fresh render (never
itself in the atlas, so no junk is a duplicate of a kept image) turned into
junk by skinmap.junk.make_junk, with ordinary metadata. Planted in the novel
dataset only, where it can only raise that year's novelty, which the demo
expects to be high anyway."""

JUNK_BLUR_SIGMA = 0.05
"""Gaussian sigma of the demo's blurred junk, as a share of the longest side:
the 160 px renders are smooth, so 2% (the real-image bench) is not blur
enough to tell apart (docs/kpis.md "Image quality")."""
