"""What every dataset adapter shares: tolerant CSV reading, column look-up, the row shape.

An adapter reads a public dataset's own files and yields `SourceRow`s whose
keys are the atlas fields (FIELDS); the generic loader does the rest. Columns
are found by name or by a known alias (renamed copies in circulation, e.g.
`gender` for `sex`); columns an adapter neither uses nor knowingly ignores are
reported as unknown, never silently dropped.
"""
from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

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


_XLSX = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _column_index(cell_ref: str) -> int:
    letters = re.match(r"[A-Z]+", cell_ref).group(0)
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def read_xlsx_rows(path: Path) -> list[list[str]]:
    """The cells of an .xlsx workbook's first sheet as text rows (the standard library's zip + XML only)."""
    try:
        with zipfile.ZipFile(path) as book:
            names = set(book.namelist())
            shared = []
            if "xl/sharedStrings.xml" in names:
                shared = ["".join(t.text or "" for t in si.iter(f"{_XLSX}t"))
                          for si in ElementTree.fromstring(book.read("xl/sharedStrings.xml")).findall(f"{_XLSX}si")]
            sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise MappingError(f"{path.name} is not a readable .xlsx workbook: {exc}") from exc
    rows = []
    for xml_row in sheet.iter(f"{_XLSX}row"):
        cells: dict[int, str] = {}
        for cell in xml_row.findall(f"{_XLSX}c"):
            value = cell.find(f"{_XLSX}v")
            inline = cell.find(f"{_XLSX}is")
            if cell.get("t") == "s" and value is not None:
                text = shared[int(value.text)]
            elif inline is not None:
                text = "".join(t.text or "" for t in inline.iter(f"{_XLSX}t"))
            else:
                text = value.text if value is not None and value.text else ""
            cells[_column_index(cell.get("r", "A"))] = text
        rows.append([cells.get(i, "") for i in range(max(cells, default=-1) + 1)])
    return rows


def _table(path: Path, raw_rows: Iterator[list[str]] | list[list[str]]) -> Table:
    raw_rows = iter(raw_rows)
    header = [" ".join(h.split()) for h in next(raw_rows, [])]
    rows = []
    for raw in raw_rows:
        if not any(cell.strip() for cell in raw):
            continue  # blank line
        rows.append({h: (raw[i].strip() if i < len(raw) else "") for i, h in enumerate(header)})
    return Table(path, header, rows)


def read_table(path: Path) -> Table:
    """Read a CSV the way real copies come: BOM, CRLF, quoted commas, blank index column.

    An .xlsx workbook (PH2) is read from its first sheet; its header is the
    first row with a value in the first column (legend rows above it are skipped).
    """
    if not path.is_file():
        raise MappingError(f"metadata file {path} does not exist")
    if path.suffix.lower() == ".xlsx":
        rows = read_xlsx_rows(path)
        start = next((i for i, r in enumerate(rows) if r and r[0].strip()), len(rows))
        return _table(path, rows[start:])
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        return _table(path, csv.reader(handle))


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
