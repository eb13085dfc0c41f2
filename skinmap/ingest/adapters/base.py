"""What every dataset adapter shares: tolerant CSV reading, column look-up, the row shape.

An adapter reads a public dataset's own files and yields `SourceRow`s whose
keys are the atlas fields (FIELDS); the generic loader does the rest. Columns
are found by name or by a known alias (renamed copies in circulation, e.g.
`gender` for `sex`); columns an adapter neither uses nor knowingly ignores are
reported as unknown, never silently dropped.
"""
from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from skinmap.ingest.loader import SourceRow
from skinmap.ingest.mapping import FIELDS, DatasetInfo, Mapping, MappingError


@dataclass
class Table:
    """One metadata file: its cleaned header and rows (values stripped, BOM and CRLF handled)."""

    path: Path
    header: list[str]
    rows: list[dict[str, str]]

    def find(self, name: str, *aliases: str) -> str | None:
        """The header's spelling of `name` or of one of its aliases (case-insensitive)."""
        lower = {h.lower(): h for h in self.header}
        for candidate in (name, *aliases):
            if candidate.lower() in lower:
                return lower[candidate.lower()]
        return None

    def require(self, name: str, *aliases: str) -> str:
        found = self.find(name, *aliases)
        if found is None:
            raise MappingError(
                f"{self.path.name} has no column {name!r}"
                + (f" (or {', '.join(map(repr, aliases))})" if aliases else "")
                + f"; its columns are: {', '.join(self.header)}"
            )
        return found


def read_table(path: Path) -> Table:
    """Read a CSV the way real copies come: BOM, CRLF, quoted commas, blank index column."""
    if not path.is_file():
        raise MappingError(f"metadata file {path} does not exist")
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        rows = []
        for raw in reader:
            if not any(cell.strip() for cell in raw):
                continue  # blank line
            rows.append({h: (raw[i].strip() if i < len(raw) else "") for i, h in enumerate(header)})
    return Table(path, header, rows)


@dataclass
class AdapterRows:
    """What an adapter read: atlas-field rows plus the columns it did not understand."""

    rows: Iterator[SourceRow] | list[SourceRow]
    unknown_columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Adapter:
    """A public dataset's format: its catalog facts, the files it expects, and its reader."""

    name: str
    dataset: DatasetInfo
    expects: str
    n_files: tuple[int, int]  # least and most metadata files
    read: Callable[[list[Table]], AdapterRows]

    def mapping(self, metadata: list[Path], images_dir: Path | None) -> Mapping:
        return Mapping(
            dataset=self.dataset,
            metadata_path=metadata[0].resolve(),
            images_dir=images_dir.resolve() if images_dir else None,
            columns={f: f for f in FIELDS},
        )

    def load(self, metadata: list[Path]) -> AdapterRows:
        low, high = self.n_files
        if not low <= len(metadata) <= high:
            raise MappingError(f"adapter {self.name} expects {self.expects}; got {len(metadata)} metadata file(s)")
        return self.read([read_table(p) for p in metadata])


def unknown_columns(table: Table, used: set[str | None], ignored: set[str] = frozenset(),
                    ignored_prefixes: tuple[str, ...] = ()) -> list[str]:
    """Columns neither used nor knowingly ignored, prefixed with the file name."""
    ignored_lower = {c.lower() for c in ignored}
    return [
        f"{table.path.name}:{c}" for c in table.header
        if c not in used and c.lower() not in ignored_lower and not c.lower().startswith(ignored_prefixes)
    ]


def row(**values: str | None) -> dict[str, str]:
    """An atlas-field row; None becomes blank (unknown)."""
    return {k: (v or "") for k, v in values.items()}
