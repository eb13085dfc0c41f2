"""The generic column mapping: which metadata column holds which atlas field.

A mapping is a small YAML file (see docs/ingest.md) or the
same keys given as CLI options. Every column of the metadata file must be
either mapped or listed in `ignore_columns`; anything else is reported as an
unknown column, so that no information is dropped without anyone noticing.
"""
from __future__ import annotations

import codecs
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
    encoding: str = "utf-8"

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
            "encoding": self.encoding,
        }

    def with_overrides(self, **changes: Any) -> Mapping:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _section(raw: dict[str, Any], key: str, kind: type, example: str) -> Any:
    """raw[key] if it has the expected YAML shape (absent: empty), else a MappingError naming the key."""
    value = raw.get(key)
    if value in (None, ""):
        return kind()
    if not isinstance(value, kind):
        raise MappingError(f"`{key}` must be a {'mapping (key: value)' if kind is dict else 'list'}, e.g. {example}; "
                           f"got {type(value).__name__}")
    return value


def _text(raw: dict[str, Any], key: str, where: str) -> str | None:
    """A scalar YAML value as text (None if absent); a list or mapping is a MappingError."""
    value = raw.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, (dict, list)):
        raise MappingError(f"`{where}{key}` must be a single value, got a {type(value).__name__}")
    return str(value)


def build_mapping(raw: dict[str, Any], base_dir: Path) -> Mapping:
    """Validate a mapping dict (from YAML or CLI options) into a Mapping."""
    if not isinstance(raw, dict):
        raise MappingError(f"a mapping must be a YAML mapping (key: value), got {type(raw).__name__}")
    dataset_raw = raw.get("dataset") or {}
    if not isinstance(dataset_raw, dict) or not dataset_raw.get("slug"):
        raise MappingError("mapping needs dataset.slug (e.g. --dataset ham10000)")
    slug = _text(dataset_raw, "slug", "dataset.") or ""
    if not SLUG_PATTERN.match(slug):
        raise MappingError(f"dataset slug {slug!r} must be lower-case letters, digits, '-' or '_'")
    modality = _text(dataset_raw, "modality", "dataset.") or "unknown"
    if modality not in MODALITIES:
        raise MappingError(f"dataset.modality {modality!r} is not one of {', '.join(MODALITIES)}")
    year_raw = dataset_raw.get("release_year")
    try:
        year = int(year_raw) if year_raw not in (None, "") else None
    except (TypeError, ValueError, OverflowError) as exc:
        raise MappingError(f"dataset.release_year {year_raw!r} is not a year") from exc
    if year is not None and not 1900 <= year <= 2100:
        raise MappingError(f"dataset.release_year {year} is not a year between 1900 and 2100")
    dataset = DatasetInfo(
        slug=slug,
        name=_text(dataset_raw, "name", "dataset.") or slug,
        release_year=year,
        modality=modality,
        licence=_text(dataset_raw, "licence", "dataset."),
        source_url=_text(dataset_raw, "source_url", "dataset."),
        origin_country=_text(dataset_raw, "origin_country", "dataset."),
    )
    columns_raw = _section(raw, "columns", dict, "{source_key: image_id}")
    if any(isinstance(v, (dict, list)) for v in columns_raw.values()):
        raise MappingError("each `columns` entry must name one metadata column (field: column)")
    columns = {str(k): str(v) for k, v in columns_raw.items() if v not in (None, "")}
    unknown_fields = sorted(set(columns) - set(FIELDS))
    if unknown_fields:
        raise MappingError(f"unknown field(s) {unknown_fields} in columns; known fields: {', '.join(FIELDS)}")
    if "source_key" not in columns:
        raise MappingError("columns.source_key is required: the column with the dataset's own image key")
    layout = _text(raw, "layout", "") or "table"
    if layout not in LAYOUTS:
        raise MappingError(f"layout {layout!r} is not one of {', '.join(LAYOUTS)}")
    metadata = _text(raw, "metadata", "")
    images = _text(raw, "images", "")
    if not metadata and not (layout == "folders" and images):
        raise MappingError("mapping needs `metadata` (the metadata file) or --metadata"
                           + ("; a folders layout reads --images, or a file listing as --metadata"
                              if layout == "folders" else ""))
    template = _text(raw, "file_template", "")
    if images and "file" not in columns and not template:
        raise MappingError("with an image folder, map columns.file or give file_template (e.g. '{image_id}.jpg')")
    values_raw = _section(raw, "values", dict, "{diagnosis: {mel: melanoma}}")
    if not all(isinstance(m, dict) for m in values_raw.values()):
        raise MappingError("each `values` entry must be a mapping of raw -> harmonised text, e.g. {mel: melanoma}")
    values = {str(f): {str(k).strip().lower(): str(v) for k, v in m.items()} for f, m in values_raw.items()}
    constants_raw = _section(raw, "constants", dict, "{country: NL}")
    constants = {str(k): str(v) for k, v in constants_raw.items() if v not in (None, "")}
    clash = sorted((set(constants) - set(FIELDS)) | (set(constants) & set(columns))
                   | ({"source_key", "file"} & set(constants)))
    if clash:
        raise MappingError(f"constants {clash}: a constant must be an atlas field other than source_key/file, "
                           "and not also mapped in columns")
    header = _section(raw, "header", list, "[image, melanoma, seborrheic_keratosis]")
    ignore = _section(raw, "ignore_columns", list, "[dx_type]")
    encoding = _text(raw, "encoding", "") or "utf-8"
    try:
        codecs.lookup(encoding)
    except (LookupError, ValueError):
        raise MappingError(f"encoding {encoding!r} is not a text encoding Python knows (e.g. utf-8, latin-1, cp1252)") from None
    delimiter = _text(raw, "delimiter", "") or ","
    if len(delimiter) != 1:
        raise MappingError(f"delimiter {delimiter!r} must be one character")
    images_dir = _resolved(base_dir, images, "images") if images else None
    return Mapping(
        dataset=dataset,
        metadata_path=_resolved(base_dir, metadata, "metadata") if metadata else images_dir,
        images_dir=images_dir,
        columns=columns,
        file_template=template,
        ignore_columns=tuple(str(c) for c in ignore),
        values=values,
        delimiter=delimiter,
        layout=layout,
        header=tuple(str(h) for h in header),
        constants=constants,
        encoding=encoding,
    )


def _resolved(base_dir: Path, name: str, key: str) -> Path:
    try:
        return (base_dir / name).resolve()
    except (OSError, ValueError, RuntimeError) as exc:  # a NUL byte, a symlink loop
        raise MappingError(f"`{key}` {name[:80]!r} is not a usable path: {exc}") from exc


def load_mapping(path: Path) -> Mapping:
    """Read a mapping YAML file; relative paths in it are relative to the file."""
    return build_mapping(read_mapping_file(path), path.resolve().parent)


def read_mapping_file(path: Path) -> dict[str, Any]:
    """The YAML mapping file as a dict, or a MappingError saying why it is not one."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise MappingError(f"cannot read mapping {path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"cannot read mapping {path}: {exc}") from exc
    except RecursionError as exc:
        raise MappingError(f"cannot read mapping {path}: nested too deeply") from exc
    if not isinstance(raw, dict):
        raise MappingError(f"mapping {path} must be a YAML mapping (key: value)")
    return raw
