"""Adapters: one per public dataset format; each turns the dataset's own files into atlas rows.

`ADAPTERS` maps a name (`skinmap ingest <name>`) to its Adapter; `mapped` is
the generic YAML column mapping, handled by `skinmap.ingest.mapping`.
"""
from __future__ import annotations

from pathlib import Path

from skinmap.ingest import packaged
from skinmap.ingest.adapters import (
    ddi,
    derm7pt,
    fitzpatrick17k,
    ham10000,
    isic2019,
    isic2020,
    isic_archive,
    isic_challenges,
    pad_ufes_20,
    ph2,
    scin,
)
from skinmap.ingest.adapters.base import Adapter, AdapterRows
from skinmap.ingest.loader import IngestSummary, ingest, ingest_rows
from skinmap.ingest.mapping import MappingError

ADAPTERS: dict[str, Adapter] = {
    a.name: a for a in (
        fitzpatrick17k.ADAPTER, ham10000.ADAPTER, ham10000.ISIC2018_ADAPTER, isic2019.ADAPTER, isic2020.ADAPTER,
        pad_ufes_20.ADAPTER, ddi.ADAPTER, derm7pt.ADAPTER, scin.ADAPTER, isic_challenges.ADAPTER_2016,
        isic_challenges.ADAPTER_2017, isic_archive.ISIC2024_ADAPTER, isic_archive.MSKCC_ADAPTER,
        isic_archive.ARCHIVE_ADAPTER, ph2.ADAPTER,
    )
}
MAPPED_EXPECTS = "a YAML column mapping (see docs/ingest.md); the generic adapter for any other dataset"


def sources() -> list[str]:
    """Every name `skinmap ingest` takes: the adapters, then the packaged mappings."""
    return [*ADAPTERS, *(n for n in packaged.names() if n not in ADAPTERS)]


def get(name: str) -> Adapter:
    if name not in ADAPTERS:
        raise MappingError(f"no adapter {name!r}; sources: {', '.join([*sources(), 'mapped'])}")
    return ADAPTERS[name]


def ingest_with(url: str, name: str, metadata: list[Path], images_dir: Path | None, *,
                workers: int = 2, progress: bool = True, max_pixels: int | None = None) -> IngestSummary:
    """Ingest a dataset's own files through its adapter or packaged mapping (images_dir None: metadata only)."""
    if name not in ADAPTERS and name in packaged.names():
        if len(metadata) > 1:
            raise MappingError(f"{name} reads one metadata file (or file listing); got {len(metadata)}")
        mapping = packaged.mapping(name, metadata[0] if metadata else None, images_dir)
        return ingest(url, mapping, workers=workers, progress=progress, max_pixels=max_pixels)
    adapter = get(name)
    read = adapter.load(metadata)
    return ingest_rows(url, adapter.mapping(metadata, images_dir), read.rows, read.unknown_columns,
                       workers=workers, progress=progress, max_pixels=max_pixels)


__all__ = ["ADAPTERS", "Adapter", "AdapterRows", "MAPPED_EXPECTS", "get", "ingest_with", "sources"]
