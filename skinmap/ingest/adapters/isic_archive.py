"""ISIC archive metadata exports: the archive itself, MSKCC and ISIC 2024 (SLICE-3D).

The archive's "download metadata" CSV (and `isic metadata download`) starts
`isic_id,attribution,copyright_license` and then the fields the collection
has, in alphabetical order (`age_approx`, `anatom_site_general`,
`benign_malignant`, `diagnosis` or the hierarchical `diagnosis_1` ..
`diagnosis_5`, `fitzpatrick_skin_type`, `image_type`, `lesion_id`,
`patient_id`, `sex`, ...); older exports name the id `image_name` and the
site `anatom_site_general_challenge`. ISIC 2024's `train-metadata.csv` /
`test-metadata.csv` are the same kind of export with TBP columns
(`tbp_lv_*`), `target` (1 = malignant) and the hierarchical diagnosis as
`iddx_1` .. `iddx_5` / `iddx_full` (`Benign::Benign melanocytic ...`).

The image's country comes from `attribution` (the authors' keyword list,
skinmap-code `parse_isic_attribution`, plus "FNQH Cairns", a Queensland
hospital in SLICE-3D's attributions), else the dataset's origin. The
diagnosis is the most specific level given. MSKCC's own
`lesion-size-2020_metadata.csv` (ISIC-Research/lesion-size-2020:
`image_name,CI_name,sex,anatom_site_general,age,diagnosis,mpath,...`) is read
by the same code. Ids are ISIC archive ids (shared `source_image_id`).
"""
from __future__ import annotations

from skinmap.ingest.adapters.base import Adapter, AdapterRows, Table, row, unknown_columns
from skinmap.ingest.adapters.catalog import ISIC2024, ISIC_ARCHIVE, MSKCC
from skinmap.ingest.loader import SourceRow
from skinmap.ingest.mapping import DatasetInfo, MappingError

# skinmap-code src/prep_data.py parse_isic_attribution: keyword -> country (ISO alpha-2), first match wins.
ATTRIBUTION_COUNTRIES = (
    (("memorial sloan kettering", "sloan kettering", "msk", "university of pittsburgh", "pittsburgh"), "US"),
    (("hospital clínic de barcelona", "hospital clinic de barcelona", "barcelona"), "ES"),
    (("university of queensland", "queensland", "frazer institute", "diamantina institute", "sydney melanoma",
      "royal prince alfred", "fnqh cairns"), "AU"),
    (("medical university of vienna", "university of vienna", "vidir group", "vienna"), "AT"),
    (("university of athens", "athens", "andreas syggros", "konstantinos liopyris"), "GR"),
    (("university hospital of basel", "university hospital basel", "hospital basel", "basel"), "CH"),
    (("imperial college london", "imperial college"), "GB"),
    (("federal university of espírito santo", "ufes"), "BR"),
    (("hospital italiano de buenos aires", "buenos aires"), "AR"),
)
MODALITY_OF_IMAGE_TYPE = {"dermoscopic": "dermoscopic", "clinical: close-up": "clinical",
                          "clinical: overview": "clinical", "tbp tile: close-up": "total-body tile",
                          "tbp tile: overview": "total-body tile"}
DIAGNOSIS_LEVELS = ("diagnosis_5", "diagnosis_4", "diagnosis_3", "diagnosis_2", "diagnosis_1")
IDDX_LEVELS = ("iddx_5", "iddx_4", "iddx_3", "iddx_2", "iddx_1")
IGNORED = {
    "copyright_license", "acquisition_day", "clin_size_long_diam_mm", "concomitant_biopsy", "dermoscopic_type",
    "diagnosis_confirm_type", "family_hx_mm", "personal_hx_mm", "image_manipulation", "melanocytic", "nevus_type",
    "pixels_x", "pixels_y", "anatom_site_special", "tbp_tile_type", "iddx_full", "ci_name", "mpath", "diameter",
    "tiny", "adae_score", "crowd_score", "mel_class", "mel_mitotic_index", "mel_thick_mm", "mel_type", "mel_ulcer",
    "attribution", "diagnosis", "image_type", "target", "benign_malignant", "skin_tone_class",
    "anatom_site_general_challenge", *DIAGNOSIS_LEVELS, *IDDX_LEVELS,
}
IGNORED_PREFIXES = ("tbp_lv_", "mel_")


def country_of_attribution(attribution: str) -> str | None:
    text = attribution.lower()
    return next((code for keywords, code in ATTRIBUTION_COUNTRIES if any(k in text for k in keywords)), None)


def _most_specific(r: dict[str, str], t: Table, levels: tuple[str, ...]) -> str:
    for level in levels:
        column = t.find(level)
        if column and r[column] and r[column].lower() != "nan":
            return r[column]
    return ""


def _reader(dataset: DatasetInfo):
    def read(tables: list[Table]) -> AdapterRows:
        rows, unknown = [], []
        for t in tables:
            key = t.find("isic_id", "image_name", "image")
            if key is None:
                raise MappingError(f"{t.path.name}: an ISIC archive export has an isic_id (or image_name) column; "
                                   f"its columns are: {', '.join(t.header)}")
            used = {key, age := t.find("age_approx", "age"), sex := t.find("sex", "gender"),
                    site := t.find("anatom_site_general", "anatom_site_general_challenge"),
                    patient := t.find("patient_id"), lesion := t.find("lesion_id"),
                    fitz := t.find("fitzpatrick_skin_type")}
            attribution, image_type = t.find("attribution"), t.find("image_type")
            malignant, target, flat = t.find("benign_malignant"), t.find("target"), t.find("diagnosis")
            unknown += unknown_columns(t, used, IGNORED, IGNORED_PREFIXES)
            for r in t.rows:
                diagnosis = _most_specific(r, t, DIAGNOSIS_LEVELS + IDDX_LEVELS) or (flat and r[flat]) or ""
                level_1 = _most_specific(r, t, ("diagnosis_1", "iddx_1")).lower()
                if "::" in diagnosis:
                    diagnosis = diagnosis.rsplit("::", 1)[-1]
                country = (attribution and country_of_attribution(r[attribution])) or dataset.origin_country
                modality = MODALITY_OF_IMAGE_TYPE.get((image_type and r[image_type] or "").strip().lower())
                rows.append(SourceRow(row(
                    source_key=r[key], file=f"{r[key]}.jpg" if r[key] else "", source_image_id=r[key],
                    age=age and r[age], sex=sex and r[sex], body_site=site and r[site],
                    patient_id=patient and r[patient], lesion_id=lesion and r[lesion], fitzpatrick=fitz and r[fitz],
                    diagnosis=None if diagnosis.lower() in ("benign", "malignant", "indeterminate") else diagnosis,
                    is_malignant=(malignant and r[malignant]) or (target and r[target])
                    or (level_1 if level_1 in ("benign", "malignant") else None),
                    country=country, modality=modality,
                )))
        return AdapterRows(rows, unknown)

    return read


MSKCC_ADAPTER = Adapter("mskcc", MSKCC, "lesion-size-2020_metadata.csv or the ISIC archive export of the collection "
                        "(doi 10.34970/151324); images <image_name>.jpg", (1, 3), _reader(MSKCC))
ISIC2024_ADAPTER = Adapter("isic2024", ISIC2024, "train-metadata.csv and/or test-metadata.csv (SLICE-3D); "
                           "images <isic_id>.jpg", (1, 2), _reader(ISIC2024))
ARCHIVE_ADAPTER = Adapter("isic-archive", ISIC_ARCHIVE, "metadata.csv of the ISIC archive or of a collection "
                          "(isic metadata download; isic_id,attribution,copyright_license,...); images <isic_id>.jpg",
                          (1, 3), _reader(ISIC_ARCHIVE))
