"""The generic column mapping: which metadata column holds which atlas field.

A mapping is a small YAML file (see README, "Ingest your own dataset") or the
same keys given as CLI options. Every column of the metadata file must be
either mapped or listed in `ignore_columns`; anything else is reported as an
unknown column, so that no information is dropped without anyone noticing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

FIELDS = (
    "source_key", "file", "fitzpatrick", "age", "sex", "body_site", "diagnosis",
    "country", "release_year", "modality", "patient_id", "lesion_id",
    "fitzpatrick_group", "is_malignant", "source_collection", "source_image_id",
)
MODALITIES = ("clinical", "dermoscopic", "total-body tile", "mixed", "unknown")
LAYOUTS = ("table", "folders")
SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


class MappingError(ValueError):
    """The mapping cannot be used; the message says which key to fix."""


@dataclass(frozen=True)
class DatasetInfo:
    slug: str
    name: str
    release_year: int | None = None
    modality: str = "unknown"
    licence: str | None = None
    source_url: str | None = None
    origin_country: str | None = None


@dataclass(frozen=True)
class Mapping:
    dataset: DatasetInfo
    metadata_path: Path
    images_dir: Path | None
    columns: dict[str, str]
    file_template: str | None = None
    ignore_columns: tuple[str, ...] = ()
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    delimiter: str = ","
    layout: str = "table"  # table: a metadata CSV; folders: folder-per-class (skinmap.ingest.folders)
    header: tuple[str, ...] = ()  # column names of a CSV published without a header row
    constants: dict[str, str] = field(default_factory=dict)  # field -> value for every row (country: NL)

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset.__dict__,
            "metadata": str(self.metadata_path),
            "images": str(self.images_dir) if self.images_dir else None,
            "columns": self.columns,
            "file_template": self.file_template,
            "ignore_columns": list(self.ignore_columns),
            "values": self.values,
            "layout": self.layout,
            "header": list(self.header),
            "constants": self.constants,
        }

    def with_overrides(self, **changes: Any) -> Mapping:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def build_mapping(raw: dict[str, Any], base_dir: Path) -> Mapping:
    """Validate a mapping dict (from YAML or CLI options) into a Mapping."""
    dataset_raw = raw.get("dataset") or {}
    if not isinstance(dataset_raw, dict) or not dataset_raw.get("slug"):
        raise MappingError("mapping needs dataset.slug (e.g. --dataset ham10000)")
    slug = str(dataset_raw["slug"])
    if not SLUG_PATTERN.match(slug):
        raise MappingError(f"dataset slug {slug!r} must be lower-case letters, digits, '-' or '_'")
    modality = dataset_raw.get("modality") or "unknown"
    if modality not in MODALITIES:
        raise MappingError(f"dataset.modality {modality!r} is not one of {', '.join(MODALITIES)}")
    year = dataset_raw.get("release_year")
    try:
        year = int(year) if year not in (None, "") else None
    except (TypeError, ValueError) as exc:
        raise MappingError(f"dataset.release_year {year!r} is not a year") from exc
    dataset = DatasetInfo(
        slug=slug,
        name=str(dataset_raw.get("name") or slug),
        release_year=year,
        modality=modality,
        licence=dataset_raw.get("licence"),
        source_url=dataset_raw.get("source_url"),
        origin_country=dataset_raw.get("origin_country"),
    )
    columns = {str(k): str(v) for k, v in (raw.get("columns") or {}).items() if v not in (None, "")}
    unknown_fields = sorted(set(columns) - set(FIELDS))
    if unknown_fields:
        raise MappingError(f"unknown field(s) {unknown_fields} in columns; known fields: {', '.join(FIELDS)}")
    if "source_key" not in columns:
        raise MappingError("columns.source_key is required: the column with the dataset's own image key")
    layout = str(raw.get("layout") or "table")
    if layout not in LAYOUTS:
        raise MappingError(f"layout {layout!r} is not one of {', '.join(LAYOUTS)}")
    images = raw.get("images")
    if not raw.get("metadata") and not (layout == "folders" and images):
        raise MappingError("mapping needs `metadata` (the metadata file) or --metadata"
                           + ("; a folders layout reads --images, or a file listing as --metadata" if layout == "folders" else ""))
    template = raw.get("file_template")
    if images and "file" not in columns and not template:
        raise MappingError("with an image folder, map columns.file or give file_template (e.g. '{image_id}.jpg')")
    values = {str(f): {str(k).strip().lower(): str(v) for k, v in m.items()} for f, m in (raw.get("values") or {}).items()}
    constants = {str(k): str(v) for k, v in (raw.get("constants") or {}).items() if v not in (None, "")}
    clash = sorted((set(constants) - set(FIELDS)) | (set(constants) & set(columns)) | ({"source_key", "file"} & set(constants)))
    if clash:
        raise MappingError(f"constants {clash}: a constant must be an atlas field other than source_key/file, "
                           "and not also mapped in columns")
    images_dir = (base_dir / str(images)).resolve() if images else None
    return Mapping(
        dataset=dataset,
        metadata_path=(base_dir / str(raw["metadata"])).resolve() if raw.get("metadata") else images_dir,
        images_dir=images_dir,
        columns=columns,
        file_template=template,
        ignore_columns=tuple(raw.get("ignore_columns") or ()),
        values=values,
        delimiter=str(raw.get("delimiter") or ","),
        layout=layout,
        header=tuple(str(h) for h in raw.get("header") or ()),
        constants=constants,
    )


def load_mapping(path: Path) -> Mapping:
    """Read a mapping YAML file; relative paths in it are relative to the file."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"cannot read mapping {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise MappingError(f"mapping {path} must be a YAML mapping (key: value)")
    return build_mapping(raw, path.resolve().parent)
