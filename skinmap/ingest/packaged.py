"""Mappings shipped with the package: datasets whose layout needs no code.

Each `skinmap/ingest/mappings/<name>.yaml` is a `mapped` mapping without
`metadata` and `images` (those come from `--metadata` / `--images`), plus an
`expects` line for `skinmap adapters`. Folder-per-class datasets
(`layout: folders`, skinmap.ingest.folders) live here: MED-NODE, SD-128,
DermNet. `skinmap ingest <name>` finds them by file name.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from skinmap.ingest.mapping import DatasetInfo, Mapping, MappingError, build_mapping

MAPPINGS_DIR = Path(__file__).parent / "mappings"


@cache
def _raw(name: str) -> dict[str, Any]:
    return yaml.safe_load((MAPPINGS_DIR / f"{name}.yaml").read_text())


def names() -> list[str]:
    return sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml"))


def expects(name: str) -> str:
    return str(_raw(name).get("expects") or "")


def dataset(name: str) -> DatasetInfo:
    d = _raw(name)["dataset"]
    return DatasetInfo(d["slug"], d.get("name") or d["slug"], d.get("release_year"), d.get("modality") or "unknown",
                       d.get("licence"), d.get("source_url"), d.get("origin_country"))


def mapping(name: str, metadata: Path | None, images: Path | None) -> Mapping:
    """The packaged mapping `name` on the user's files (metadata file or listing, image folder)."""
    if name not in names():
        raise MappingError(f"no packaged mapping {name!r}; packaged: {', '.join(names())}")
    raw = dict(_raw(name))
    if metadata is not None:
        raw["metadata"] = str(metadata.resolve())
    if images is not None:
        raw["images"] = str(images.resolve())
    if not raw.get("metadata") and not raw.get("images"):
        raise MappingError(f"{name} expects {expects(name)}: give --metadata or --images")
    return build_mapping(raw, Path.cwd())
