"""Property tests: no metadata file, row or YAML mapping makes ingest fail with anything but a MappingError.

Every adapter gets its real header followed by hostile cells (NUL, formula
prefixes, 1 kB fields, quotes and newlines), a header with a required column
missing, and raw bytes; the mapped CSV reader gets raw bytes; the YAML
loader gets arbitrary text, bytes and structures. A failure must be the
project's MappingError with a message naming the problem, never a raw
yaml/KeyError/TypeError traceback. No database: these run in seconds.
"""
from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skinmap.ingest.adapters import ADAPTERS
from skinmap.ingest.loader import _harmonise, _image_path, _read_rows, _Row, _without_nul
from skinmap.ingest.mapping import Mapping, MappingError, build_mapping, load_mapping
from tests.test_adapters import CSV_FILES as FILES
from tests.test_harmonise import _header

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

hostile_cell = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["=cmd|' /C calc'!A0", "+1", "-1", "@SUM(A1)", "'; drop table atlas.image; --", "a\x00b",
                     "../../etc/passwd", "/etc/passwd", "C:\\Windows\\win.ini", "{image_id}", "\"", "a,b", "a\nb",
                     "\ufeff", "x" * 1500, "NaN", "1e309", "-0", "٣", "Ⅳ", "999999999999999999999"]),
)


def _write(folder: Path, name: str, header: list[str], rows: list[list[str]]) -> Path:
    path = folder / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return path


def _consume(name: str, paths: list[Path]) -> None:
    """Read with the adapter, then harmonise and place every row as the loader does."""
    adapter = ADAPTERS[name]
    images = paths[0].parent / "images"
    images.mkdir(exist_ok=True)
    mapping = adapter.mapping(paths, images)
    for number, source_row in enumerate(adapter.load(paths).rows, start=1):
        _without_nul(source_row)
        assert all(isinstance(v, str) and "\x00" not in v for v in source_row.values.values())
        row = _Row(number, source_row.values.get("source_key", ""), source_row.values)
        _harmonise(row, mapping, mapping.dataset.release_year)
        path, reason = _image_path(row, mapping)
        assert reason is not None or (path is not None and path.resolve().is_relative_to(images.resolve()))


@FAST
@given(name=st.sampled_from(sorted(FILES)), data=st.data())
def test_every_adapter_survives_hostile_cells(name, data):
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, header in enumerate(_header(name)):
            row = st.lists(hostile_cell, min_size=0, max_size=len(header) + 2)  # short and long rows too
            rows = data.draw(st.lists(row, max_size=4))
            paths.append(_write(Path(folder), f"{i}_{Path(FILES[name][i]).name}", header, rows))
        _consume(name, paths)


@FAST
@given(name=st.sampled_from(sorted(FILES)), data=st.data())
def test_every_adapter_names_a_missing_column_or_reads_without_it(name, data):
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, header in enumerate(_header(name)):
            kept = data.draw(st.lists(st.sampled_from(header), unique=True, max_size=len(header)))
            paths.append(_write(Path(folder), f"{i}_{Path(FILES[name][i]).name}", kept, [["1"] * len(kept)]))
        try:
            _consume(name, paths)
        except MappingError as exc:
            assert "column" in str(exc) or name in str(exc)  # the missing column, or the files it expects


@FAST
@given(name=st.sampled_from(sorted(FILES)), blob=st.binary(max_size=300))
def test_every_adapter_survives_raw_bytes(name, blob):
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for i, header in enumerate(_header(name)):
            path = Path(folder) / f"{i}_{Path(FILES[name][i]).name}"
            path.write_bytes(",".join(header).encode() + b"\r\n" + blob)
            paths.append(path)
        try:
            _consume(name, paths)
        except MappingError as exc:
            assert str(exc)


def _mapped(folder: Path, metadata: Path) -> Mapping:
    return build_mapping({"dataset": {"slug": "fuzz"}, "metadata": str(metadata), "images": str(folder),
                          "columns": {"source_key": "id", "file": "file", "diagnosis": "dx"}}, folder)


@FAST
@given(blob=st.binary(max_size=400))
def test_mapped_reader_survives_raw_bytes(blob):
    with tempfile.TemporaryDirectory() as folder:
        metadata = Path(folder) / "m.csv"
        metadata.write_bytes(b"id,file,dx\n" + blob)
        try:
            _, rows = _read_rows(_mapped(Path(folder), metadata))
            for row in rows:
                _without_nul(row)
                for value in row.values.values():
                    value.encode("utf-8")  # what PostgreSQL receives: valid UTF-8 without NUL
                    assert "\x00" not in value
        except MappingError as exc:
            assert "m.csv" in str(exc)


yaml_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)
mapping_like = st.fixed_dictionaries({}, optional={
    "dataset": st.one_of(yaml_value, st.fixed_dictionaries({"slug": st.one_of(st.just("ok"), yaml_value)},
                                                           optional={"release_year": yaml_value,
                                                                     "modality": yaml_value, "name": yaml_value})),
    "metadata": st.one_of(st.just("m.csv"), yaml_value), "images": yaml_value,
    "columns": st.one_of(st.just({"source_key": "id"}), yaml_value), "file_template": yaml_value,
    "ignore_columns": yaml_value, "values": yaml_value, "encoding": yaml_value, "delimiter": yaml_value,
})


@FAST
@given(raw=mapping_like)
def test_build_mapping_accepts_or_names_the_problem(raw):
    try:
        mapping = build_mapping(raw, Path("/tmp"))
    except MappingError as exc:
        assert str(exc)
    else:
        assert mapping.columns["source_key"] and mapping.dataset.slug


@FAST
@given(text=st.one_of(st.text(max_size=200), st.binary(max_size=200)))
def test_load_mapping_survives_any_file(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            load_mapping(path)
        except MappingError as exc:
            assert "mapping" in str(exc) or "`" in str(exc)


MALFORMED = {
    "dataset: {slug: x\nmetadata: m.csv": "cannot read mapping",  # unclosed flow mapping
    "dataset:\n\tslug: x": "cannot read mapping",  # a tab indent
    "- a\n- b": "must be a YAML mapping",
    "dataset: [x]\nmetadata: m.csv": "dataset.slug",
    "dataset: {slug: x}\nmetadata: m.csv\ncolumns: [source_key]": "`columns` must be a mapping",
    "dataset: {slug: x}\nmetadata: m.csv\ncolumns: {source_key: [a, b]}": "must name one metadata column",
    "dataset: {slug: x}\nmetadata: [a]\ncolumns: {source_key: id}": "`metadata` must be a single value",
    "dataset: {slug: x, release_year: soon}\nmetadata: m.csv\ncolumns: {source_key: id}": "release_year",
    "dataset: {slug: x}\nmetadata: m.csv\ncolumns: {source_key: id}\nvalues: {sex: [f]}": "`values` entry",
    "dataset: {slug: x}\nmetadata: m.csv\ncolumns: {source_key: id}\nignore_columns: dx": "`ignore_columns`",
    "dataset: {slug: x}\nmetadata: m.csv\ncolumns: {source_key: id}\nencoding: klingon": "encoding 'klingon'",
    "dataset: {slug: x}\nmetadata: m.csv\ncolumns: {source_key: id}\ndelimiter: ';;'": "one character",
    "dataset: {slug: x}\nmetadata: m.csv\ncolumns: {source_key: id, shoe_size: s}": "unknown field",
    "dataset: {slug: X Y}\nmetadata: m.csv\ncolumns: {source_key: id}": "dataset slug",
    "a: &a [*a]": "dataset.slug",  # a recursive alias loads; the mapping still names what it lacks
    "dataset: {slug: x}\nmetadata: \"m\\0.csv\"\ncolumns: {source_key: id}": "not a usable path",
}


@pytest.mark.parametrize("text", list(MALFORMED))
def test_malformed_yaml_is_a_mapping_error_naming_the_problem(tmp_path, text):
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(MappingError, match=MALFORMED[text].replace("[", r"\[").replace("(", r"\(")):
        load_mapping(path)


def test_a_non_utf8_mapping_file_is_named():
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.yaml"
        path.write_bytes("dataset: {slug: café}".encode("latin-1"))
        with pytest.raises(MappingError, match="not UTF-8"):
            load_mapping(path)


def test_yaml_safe_load_is_used_so_python_tags_are_refused(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("dataset: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(MappingError, match="cannot read mapping"):
        load_mapping(path)
    assert yaml.safe_load("a: 1") == {"a": 1}
