"""Adapters: one per public dataset format; each turns the dataset's own files into atlas rows.

`ADAPTERS` maps a name (`skinmap ingest <name>`) to its Adapter; `mapped` is
the generic YAML column mapping, handled by `skinmap.ingest.mapping`.
"""
from __future__ import annotations

from pathlib import Path

from skinmap.ingest.adapters import ddi, derm7pt, fitzpatrick17k, ham10000, isic2019, isic2020, pad_ufes_20, scin
from skinmap.ingest.adapters.base import Adapter, AdapterRows
from skinmap.ingest.loader import IngestSummary, ingest_rows
from skinmap.ingest.mapping import MappingError

ADAPTERS: dict[str, Adapter] = {
    a.name: a for a in (
        fitzpatrick17k.ADAPTER, ham10000.ADAPTER, ham10000.ISIC2018_ADAPTER, isic2019.ADAPTER, isic2020.ADAPTER,
        pad_ufes_20.ADAPTER, ddi.ADAPTER, derm7pt.ADAPTER, scin.ADAPTER,
    )
}
MAPPED_EXPECTS = "a YAML column mapping (see README); the generic adapter for any other dataset"


def get(name: str) -> Adapter:
    if name not in ADAPTERS:
        raise MappingError(f"no adapter {name!r}; adapters: {', '.join([*ADAPTERS, 'mapped'])}")
    return ADAPTERS[name]


def ingest_with(url: str, name: str, metadata: list[Path], images_dir: Path | None, *,
                workers: int = 2, progress: bool = True, max_pixels: int | None = None) -> IngestSummary:
    """Ingest a dataset's own files through its adapter (images_dir None: metadata only)."""
    adapter = get(name)
    read = adapter.load(metadata)
    return ingest_rows(url, adapter.mapping(metadata, images_dir), read.rows, read.unknown_columns,
                       workers=workers, progress=progress, max_pixels=max_pixels)


__all__ = ["ADAPTERS", "Adapter", "AdapterRows", "MAPPED_EXPECTS", "get", "ingest_with"]
