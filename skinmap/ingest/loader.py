"""Load one dataset (metadata file + image folder) into the atlas, idempotently.

Rows already in the atlas (same dataset and key) are skipped, so a second run
adds nothing and an interrupted run resumes. Nothing is lost silently: an
unreadable image or a missing file becomes a quarantined image row with its
reason; an unusable field value becomes unknown with an `atlas.ingest_issue`
row; an unmapped column is reported once per dataset. Each decoded image's
quality metrics (skinmap.quality) are stored with it in atlas.image_quality;
the summary counts the issues they show, as a preview of kpi_image_quality.

Metadata is untrusted (skinmap.ingest.paths, skinmap.hashing): a file name
outside the images folder is never read, an image over the pixel budget is
never decoded, undecodable bytes and NUL characters (which PostgreSQL text
cannot hold) are repaired with a per-row issue, and an over-long key is
refused with a reason instead of failing the batch on an index limit.
"""
from __future__ import annotations

import csv
import functools
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from skinmap import config, harmonise
from skinmap.db import connect
from skinmap.hashing import ImageFingerprint, ImageTooLarge, UnreadableImage, fingerprint
from skinmap.ingest import paths
from skinmap.ingest.identity import canonical_source_image_id, isic_image_id
from skinmap.ingest.mapping import MODALITIES, Mapping, MappingError
from skinmap.quality import ImageQuality
from skinmap.quality import issues as quality_issues
from skinmap.quality import thresholds as quality_thresholds

BATCH_ROWS = 1000
PARALLEL_MIN_IMAGES = 400
MAX_KEY_CHARS = 1000  # keys and shared ids are indexed; a btree entry holds about 2.7 kB
csv.field_size_limit(64 * 1024 * 1024)  # a 1 MB free-text field is data, not an error


@dataclass
class IngestSummary:
    """What one ingest run did; printed by `skinmap ingest` and kept in atlas.ingest_run."""

    dataset: str
    rows_read: int = 0
    loaded: int = 0
    ok: int = 0
    already_present: int = 0
    quarantined: Counter = field(default_factory=Counter)
    issues: Counter = field(default_factory=Counter)
    unknown_fields: Counter = field(default_factory=Counter)
    unknown_columns: list[str] = field(default_factory=list)
    icd10_matches: Counter = field(default_factory=Counter)
    quality_issues: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def n_quarantined(self) -> int:
        return sum(self.quarantined.values())

    def lines(self) -> list[str]:
        out = [
            f"{self.dataset}: {self.rows_read} rows read, {self.loaded} loaded "
            f"({self.ok} ok, {self.loaded - self.ok} quarantined), "
            f"{self.already_present} already in the atlas, {self.seconds:.1f} s"
        ]
        out += [f"  quarantined: {n} x {reason}" for reason, n in self.quarantined.most_common()]
        out += [f"  issue: {n} x {reason}" for reason, n in self.issues.most_common()]
        if self.unknown_columns:
            out.append(f"  unknown columns (not mapped, not ignored): {', '.join(self.unknown_columns)}")
        if self.unknown_fields:
            known = ", ".join(f"{f} {n}" for f, n in sorted(self.unknown_fields.items()))
            out.append(f"  unknown values among new ok images: {known}")
        if self.quality_issues:
            found = ", ".join(f"{i} {n}" for i, n in sorted(self.quality_issues.items()))
            out.append(f"  image quality among new ok images: {found} (kpi_image_quality_v1 after skinmap build)")
        if self.icd10_matches:
            matches = ", ".join(f"{m} {n}" for m, n in sorted(self.icd10_matches.items()))
            out.append(f"  diagnosis -> ICD-10-CM among new ok images: {matches}")
        return out


@dataclass
class SourceRow:
    """One metadata row as the loader receives it: from a mapped CSV or from an adapter.

    An adapter may already know that a row cannot be used (quarantine_reason)
    or that a field of it could not be read (problems: column, raw, reason).
    """

    values: dict[str, str]
    quarantine_reason: str | None = None
    problems: list[tuple[str, str | None, str]] = field(default_factory=list)


@dataclass
class _Row:
    row_number: int
    key: str
    values: dict[str, str]
    path: Path | None = None
    fingerprint: ImageFingerprint | None = None
    quarantine_reason: str | None = None
    harmonised: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, str | None, str]] = field(default_factory=list)  # (column, raw, reason)


def _check_columns(mapping: Mapping, header: list[str], close=lambda: None) -> None:
    missing = sorted({c for c in mapping.columns.values() if c not in header})
    if missing:
        close()
        raise MappingError(
            f"column(s) {missing} named in the mapping are not in {mapping.metadata_path.name}; "
            f"its columns are: {', '.join(header)}"
        )


def _read_rows(mapping: Mapping) -> tuple[list[str], Iterator[SourceRow]]:
    if mapping.layout == "folders":
        from skinmap.ingest import folders

        header, folder_rows = folders.read(mapping.metadata_path)
        _check_columns(mapping, header)
        return header, (SourceRow(r) for r in folder_rows)
    if not mapping.metadata_path.is_file():
        raise MappingError(f"metadata file {mapping.metadata_path} does not exist")
    encoding = "utf-8-sig" if mapping.encoding.replace("_", "-").lower() in ("utf-8", "utf8") else mapping.encoding
    # surrogateescape keeps undecodable bytes to the row, where they become U+FFFD with an issue
    handle = mapping.metadata_path.open(newline="", encoding=encoding, errors="surrogateescape")
    # A file published without a header row: the mapping names its columns.
    reader = csv.DictReader(handle, fieldnames=list(mapping.header) or None, delimiter=mapping.delimiter)
    try:
        header = [_repaired(h.strip())[0] for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        handle.close()
        raise MappingError(f"{mapping.metadata_path.name}: header is not CSV: {exc}") from exc
    too_long = [h[:40] for h in header if len(h) > MAX_KEY_CHARS]
    if too_long:
        handle.close()
        raise MappingError(f"{mapping.metadata_path.name}: column name(s) longer than {MAX_KEY_CHARS} characters: "
                           f"{too_long} (is this a metadata file?)")
    reader.fieldnames = header
    _check_columns(mapping, header, handle.close)

    def rows() -> Iterator[SourceRow]:
        with handle:
            try:
                for raw in reader:
                    row = SourceRow({})
                    for column, value in raw.items():
                        if column is None:
                            continue
                        text, undecodable = _repaired((value or "").strip())
                        if undecodable:
                            row.problems.append((column, text, f"not valid {mapping.encoding}: undecodable bytes "
                                                               "replaced with U+FFFD (set `encoding:` in the mapping)"))
                        row.values[column] = text
                    yield row
            except csv.Error as exc:
                raise MappingError(f"{mapping.metadata_path.name} line {reader.line_num}: not CSV: {exc}") from exc

    return header, rows()


def _repaired(text: str) -> tuple[str, bool]:
    """Undecodable bytes (kept as surrogates by surrogateescape) -> U+FFFD; True if there were any."""
    try:
        text.encode("utf-8")
        return text, False
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), True


def _without_nul(row: SourceRow) -> None:
    """PostgreSQL text cannot store NUL: remove it, with a per-row issue naming the column."""
    for column, value in row.values.items():
        if "\x00" in value:
            row.values[column] = value.replace("\x00", "")
            row.problems.append((column, row.values[column], "NUL character removed (PostgreSQL text cannot store it)"))


def over_budget_reason(max_pixels: int) -> str:
    """The quarantine reason of an image whose header claims more than `max_pixels`."""
    return f"over the pixel budget: more than {max_pixels / 1e6:g} megapixels (decompression bomb?), not decoded"


def max_file_bytes(max_pixels: int) -> int:
    """No image within the budget is larger than 8 bytes a pixel (16-bit RGBA, uncompressed)."""
    return 8 * max_pixels + 64 * 1024 * 1024


def _fingerprint_path(path: Path, max_pixels: int) -> tuple[ImageFingerprint | None, str | None]:
    try:
        if path.stat().st_size > max_file_bytes(max_pixels):
            return None, f"file larger than {max_file_bytes(max_pixels) // 2**20} MiB (8 bytes a pixel of the budget)"
        return fingerprint(path.read_bytes(), max_pixels), None
    except FileNotFoundError:
        return None, paths.MISSING
    except IsADirectoryError:
        return None, paths.NOT_A_FILE
    except ImageTooLarge:
        return None, over_budget_reason(max_pixels)
    except UnreadableImage:
        return None, "corrupt image"
    except MemoryError:
        return None, "out of memory while decoding (worker memory limit)"
    except OSError as exc:
        return None, f"unreadable file: {exc.strerror}"


def worker_memory_limit(max_pixels: int, baseline_bytes: int) -> int:
    """Address space a decode worker may use: its start-up size + 16 bytes a pixel of the budget + 512 MiB.

    Decoding an image within the budget holds at most ~14 bytes a pixel (the
    decoded mode, its RGB copy, the EXIF-rotated copy, the bytes hashed, grey).
    """
    return baseline_bytes + 16 * max_pixels + 512 * 1024 * 1024


def _limit_worker_memory(max_pixels: int) -> None:
    """Pool initializer: cap this worker's address space (RLIMIT_AS), so no file can take the machine's memory."""
    import resource

    with open("/proc/self/statm") as handle:
        baseline = int(handle.read().split()[0]) * resource.getpagesize()
    limit = worker_memory_limit(max_pixels, baseline)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _fingerprints(paths: list[Path], workers: int, progress: bool,
                  max_pixels: int) -> Iterable[tuple[ImageFingerprint | None, str | None]]:
    bar = dict(total=len(paths), desc="fingerprint", unit="img", disable=not progress, leave=False)
    work = functools.partial(_fingerprint_path, max_pixels=max_pixels)
    if workers > 1 and len(paths) >= PARALLEL_MIN_IMAGES:
        limit = _limit_worker_memory if Path("/proc/self/statm").exists() else None  # Linux
        with ProcessPoolExecutor(max_workers=workers, initializer=limit,
                                 initargs=(max_pixels,) if limit else ()) as pool:
            yield from tqdm(pool.map(work, paths, chunksize=32), **bar)
    else:
        yield from tqdm(map(work, paths), **bar)


def _mapped(row: _Row, mapping: Mapping, name: str) -> str | None:
    column = mapping.columns.get(name)
    if column is None:
        return mapping.constants.get(name)  # a value every row shares (a packaged mapping's country)
    raw = row.values.get(column, "")
    return mapping.values.get(name, {}).get(raw.lower(), raw)


def _harmonise(row: _Row, mapping: Mapping, dataset_year: int | None) -> None:
    h = row.harmonised

    def take(name: str, parsed: harmonise.Parsed) -> Any:
        if parsed.problem:
            column = mapping.columns.get(name)
            raw = row.values.get(column) if column else mapping.constants.get(name)
            row.problems.append((column or f"constant {name}", raw, parsed.problem))
        return parsed.value

    fitz_raw = _mapped(row, mapping, "fitzpatrick")
    fitz = take("fitzpatrick", harmonise.fitzpatrick(fitz_raw)) if fitz_raw is not None else None
    h.update(fitzpatrick_raw=fitz_raw or None, fitzpatrick_type=fitz, fitzpatrick_group=harmonise.fitzpatrick_group(fitz))
    age_raw = _mapped(row, mapping, "age")
    age = take("age", harmonise.age_years(age_raw)) if age_raw is not None else None
    h.update(age_raw=age_raw or None, age_years=age, age_bin=harmonise.age_bin(age))
    sex_raw = _mapped(row, mapping, "sex")
    h.update(sex_raw=sex_raw or None, sex=take("sex", harmonise.sex(sex_raw)) if sex_raw is not None else None)
    country_raw = _mapped(row, mapping, "country")
    code, continent = (take("country", harmonise.country(country_raw)) if country_raw is not None else None) or (None, None)
    h.update(country_raw=country_raw or None, country_code=code, continent=continent)
    site_raw = _mapped(row, mapping, "body_site")
    region, side = (take("body_site", harmonise.body_region(site_raw)) if site_raw is not None else None) or (None, None)
    h.update(body_site_raw=site_raw or None, body_region=region, laterality=side)
    group_raw = _mapped(row, mapping, "fitzpatrick_group")
    if fitz is None and group_raw is not None:
        h.update(fitzpatrick_raw=group_raw or None,
                 fitzpatrick_group=take("fitzpatrick_group", harmonise.fitzpatrick_group_code(group_raw)))
    dx_raw = _mapped(row, mapping, "diagnosis")
    h.update(diagnosis_raw=dx_raw or None, diagnosis=take("diagnosis", harmonise.diagnosis(dx_raw)) if dx_raw is not None else None)
    icd = harmonise.icd10(h["diagnosis"])
    if icd is not None and icd.match == "unmapped":
        row.problems.append((mapping.columns.get("diagnosis", "constant diagnosis"), dx_raw, "diagnosis not in the ICD-10-CM mapping (unmapped)"))
    h.update(icd10_code=icd and icd.code, icd10_category=icd and icd.category, icd10_block=icd and icd.block,
             icd10_chapter=icd and icd.chapter, icd10_match=icd and icd.match)
    malignant_raw = _mapped(row, mapping, "is_malignant")
    stated = take("is_malignant", harmonise.malignant(malignant_raw)) if malignant_raw is not None else None
    h.update(is_malignant=stated if stated is not None else (icd and icd.is_malignant))

    year_raw = _mapped(row, mapping, "release_year")
    year = dataset_year
    if year_raw:
        if year_raw.isdigit() and 1900 <= int(year_raw) <= 2100:
            year = int(year_raw)
        else:
            row.problems.append((mapping.columns.get("release_year", "constant release_year"), year_raw, "not a release year; dataset year used"))
    modality = _mapped(row, mapping, "modality") or mapping.dataset.modality
    if modality not in MODALITIES:
        row.problems.append((mapping.columns.get("modality", "constant modality"), modality, "unknown modality; dataset modality used"))
        modality = mapping.dataset.modality
    h.update(release_year=year, modality=modality,
             patient_id=_mapped(row, mapping, "patient_id") or None,
             lesion_id=_mapped(row, mapping, "lesion_id") or None,
             source_collection=_mapped(row, mapping, "source_collection") or None,
             source_image_id=_source_image_id(row, mapping))


def _source_image_id(row: _Row, mapping: Mapping) -> str | None:
    """The shared source id: the mapped/adapter value (canonical form), else an ISIC id read from the key."""
    shared = canonical_source_image_id(_mapped(row, mapping, "source_image_id"))
    if shared is not None and len(shared) > MAX_KEY_CHARS:
        row.problems.append((mapping.columns["source_image_id"], shared[:MAX_KEY_CHARS] + "...",
                             f"shared source id longer than {MAX_KEY_CHARS} characters; not used"))
        shared = None
    return shared or isic_image_id(row.key)


def _image_path(row: _Row, mapping: Mapping) -> tuple[Path | None, str | None]:
    """The row's file inside the images folder, or (the name as written, why it may not be read)."""
    if mapping.images_dir is None:
        return None, None
    if mapping.file_template:
        try:
            name = mapping.file_template.format(**row.values)
        except (KeyError, IndexError, ValueError, AttributeError):
            return None, "no file name in metadata row"
    else:
        name = row.values.get(mapping.columns["file"], "")
    if not name:
        return None, "no file name in metadata row"
    try:
        return paths.resolve_inside(mapping.images_dir, name), None
    except paths.UnsafePath as refused:
        return mapping.images_dir / name.replace("\x00", ""), str(refused)


def _upsert_dataset(conn, mapping: Mapping) -> int:
    d = mapping.dataset
    return conn.execute(
        """
        insert into atlas.dataset (slug, name, release_year, modality, licence, source_url, origin_country)
        values (%s, %s, %s, %s, %s, %s, %s)
        on conflict (slug) do update set
            name = excluded.name,
            release_year = coalesce(excluded.release_year, atlas.dataset.release_year),
            modality = excluded.modality,
            licence = coalesce(excluded.licence, atlas.dataset.licence),
            source_url = coalesce(excluded.source_url, atlas.dataset.source_url),
            origin_country = coalesce(excluded.origin_country, atlas.dataset.origin_country)
        returning dataset_id
        """,
        (d.slug, d.name, d.release_year, d.modality, d.licence, d.source_url, d.origin_country),
    ).fetchone()[0]


IMAGE_COLUMNS = (
    "dataset_id", "source_key", "file_path", "byte_sha256", "pixel_sha256", "width", "height",
    "modality", "release_year", "patient_id", "lesion_id", "status", "quarantine_reason", "ingest_run_id",
    "source_collection", "source_image_id",
)
METADATA_COLUMNS = (
    "fitzpatrick_raw", "fitzpatrick_type", "fitzpatrick_group", "age_raw", "age_years", "age_bin",
    "sex_raw", "sex", "country_raw", "country_code", "continent", "body_site_raw", "body_region",
    "laterality", "diagnosis_raw", "diagnosis", "icd10_code", "icd10_category", "icd10_block", "icd10_chapter",
    "is_malignant", "icd10_match",
)
QUALITY_COLUMNS = ImageQuality.columns()
PROVENANCE_OF = {
    "fitzpatrick_provenance": "fitzpatrick_group", "age_provenance": "age_years", "sex_provenance": "sex",
    "country_provenance": "country_code", "body_site_provenance": "body_region",
    "diagnosis_provenance": "diagnosis",
}


def _write_batch(conn, rows: list[_Row], dataset_id: int, run_id: int) -> None:
    with conn.transaction():
        with conn.cursor().copy(f"copy atlas.image ({', '.join(IMAGE_COLUMNS)}) from stdin") as copy:
            for r in rows:
                fp, h = r.fingerprint, r.harmonised
                copy.write_row((
                    dataset_id, r.key, str(r.path) if r.path else None,
                    fp.byte_sha256 if fp else None, fp.pixel_sha256 if fp else None,
                    fp.width if fp else None, fp.height if fp else None,
                    h["modality"], h["release_year"], h["patient_id"], h["lesion_id"],
                    "quarantined" if r.quarantine_reason else "ok", r.quarantine_reason, run_id,
                    h["source_collection"], h["source_image_id"],
                ))
        ids = dict(conn.execute(
            "select source_key, image_id from atlas.image where dataset_id = %s and source_key = any(%s)",
            (dataset_id, [r.key for r in rows]),
        ).fetchall())
        columns = ("image_id", *METADATA_COLUMNS, *PROVENANCE_OF)
        with conn.cursor().copy(f"copy atlas.image_metadata ({', '.join(columns)}) from stdin") as copy:
            for r in rows:
                h = r.harmonised
                provenance = ["label" if h[src] is not None else None for src in PROVENANCE_OF.values()]
                copy.write_row((ids[r.key], *(h[c] for c in METADATA_COLUMNS), *provenance))
        with conn.cursor().copy(
            "copy atlas.pixel_signature (image_id, signature, signature_mirrored) from stdin with (format binary)"
        ) as copy:
            copy.set_types(["int8", "vector", "vector"])
            for r in rows:
                if r.fingerprint is not None:
                    copy.write_row((ids[r.key], r.fingerprint.signature, r.fingerprint.signature_mirrored))
        with conn.cursor().copy(
            f"copy atlas.image_quality (image_id, {', '.join(QUALITY_COLUMNS)}) from stdin with (format binary)"
        ) as copy:
            copy.set_types(["int8", *("float4" for _ in QUALITY_COLUMNS)])
            for r in rows:
                if r.fingerprint is not None:
                    copy.write_row((ids[r.key], *r.fingerprint.quality.values()))
        issues = [
            (run_id, dataset_id, r.row_number, r.key, col, raw, reason, False)
            for r in rows for col, raw, reason in r.problems
        ] + [
            (run_id, dataset_id, r.row_number, r.key, None, str(r.path) if r.path else None, r.quarantine_reason, True)
            for r in rows if r.quarantine_reason
        ]
        _insert_issues(conn, issues)


def _insert_issues(conn, issues: list[tuple]) -> None:
    if issues:
        conn.cursor().executemany(
            """
            insert into atlas.ingest_issue
                (ingest_run_id, dataset_id, row_number, source_key, column_name, raw_value, reason, is_row_quarantined)
            values (%s, %s, %s, %s, %s, %s, %s, %s)
            on conflict do nothing
            """,
            issues,
        )


def ingest(url: str, mapping: Mapping, *, workers: int = 2, progress: bool = True,
           max_pixels: int | None = None) -> IngestSummary:
    """Ingest one dataset described by `mapping` (a mapped metadata CSV) into the atlas at `url`."""
    header, rows = _read_rows(mapping)
    mapped = set(mapping.columns.values())
    unknown_columns = [c for c in header if c not in mapped and c not in mapping.ignore_columns]
    return ingest_rows(url, mapping, rows, unknown_columns, workers=workers, progress=progress,
                       max_pixels=max_pixels)


def ingest_rows(url: str, mapping: Mapping, rows: Iterable[SourceRow], unknown_columns: list[str], *,
                workers: int = 2, progress: bool = True, max_pixels: int | None = None) -> IngestSummary:
    """Ingest rows whose fields `mapping.columns` names (from a CSV or an adapter).

    max_pixels: the decoding budget (default skinmap.config.max_pixels()).
    """
    started = time.monotonic()
    max_pixels = max_pixels or config.max_pixels()
    summary = IngestSummary(dataset=mapping.dataset.slug)
    summary.unknown_columns = list(unknown_columns)
    with connect(url) as conn:
        dataset_id = _upsert_dataset(conn, mapping)
        run_id = conn.execute(
            "insert into atlas.ingest_run (dataset_id, metadata_path, images_dir, mapping) values (%s, %s, %s, %s) "
            "returning ingest_run_id",
            (dataset_id, str(mapping.metadata_path), str(mapping.images_dir) if mapping.images_dir else None,
             json.dumps(mapping.to_json())),
        ).fetchone()[0]
        conn.commit()
        existing = {k for (k,) in conn.execute("select source_key from atlas.image where dataset_id = %s", (dataset_id,))}
        front_issues = [(run_id, dataset_id, None, None, c, None, "unknown column (not mapped)", False)
                        for c in summary.unknown_columns]

        pending: list[_Row] = []
        seen: set[str] = set()
        for number, source_row in enumerate(rows, start=1):
            summary.rows_read += 1
            _without_nul(source_row)
            values = source_row.values
            key = values.get(mapping.columns["source_key"], "")
            if not key:
                front_issues.append((run_id, dataset_id, number, None, mapping.columns["source_key"], None,
                                     f"row {number}: missing source key; row not loaded", True))
                summary.quarantined["missing source key"] += 1
                continue
            if len(key) > MAX_KEY_CHARS:
                front_issues.append((run_id, dataset_id, number, None, mapping.columns["source_key"],
                                     key[:MAX_KEY_CHARS] + "...",
                                     f"row {number}: source key longer than {MAX_KEY_CHARS} characters; row not loaded",
                                     True))
                summary.quarantined[f"source key longer than {MAX_KEY_CHARS} characters"] += 1
                continue
            if key in seen:
                front_issues.append((run_id, dataset_id, number, key, mapping.columns["source_key"], key,
                                     f"duplicate key in metadata file (row {number}); first row kept", True))
                summary.issues["duplicate key in metadata file"] += 1
                continue
            seen.add(key)
            if key in existing:
                summary.already_present += 1
                continue
            pending.append(_Row(number, key, values, quarantine_reason=source_row.quarantine_reason,
                                problems=list(source_row.problems)))
        _insert_issues(conn, front_issues)
        conn.commit()

        for r in pending:
            _harmonise(r, mapping, mapping.dataset.release_year)
            if r.quarantine_reason:
                continue
            r.path, r.quarantine_reason = _image_path(r, mapping)
        to_read = [r for r in pending if r.path is not None and r.quarantine_reason is None]
        for r, (fp, reason) in zip(to_read, _fingerprints([r.path for r in to_read], workers, progress, max_pixels)):
            r.fingerprint, r.quarantine_reason = fp, reason

        for start in tqdm(range(0, len(pending), BATCH_ROWS), desc=f"write {mapping.dataset.slug}",
                          unit="batch", disable=not progress or len(pending) <= BATCH_ROWS, leave=False):
            _write_batch(conn, pending[start:start + BATCH_ROWS], dataset_id, run_id)

        for r in pending:
            summary.loaded += 1
            if r.quarantine_reason:
                summary.quarantined[r.quarantine_reason] += 1
                continue
            summary.ok += 1
            for _, _, reason in r.problems:
                summary.issues[reason] += 1
            if r.harmonised["icd10_match"]:
                summary.icd10_matches[r.harmonised["icd10_match"]] += 1
            for name, column in (("fitzpatrick", "fitzpatrick_group"), ("age", "age_years"), ("sex", "sex"),
                                 ("country", "country_code"), ("body_site", "body_region"), ("diagnosis", "diagnosis")):
                if r.harmonised[column] is None:
                    summary.unknown_fields[name] += 1
        _count_quality_issues(summary, [r.fingerprint for r in pending if r.fingerprint and not r.quarantine_reason])
        _resolve_isic_release_years(conn)
        summary.seconds = time.monotonic() - started
        conn.execute(
            """
            update atlas.ingest_run set n_rows_read = %s, n_loaded = %s, n_already_present = %s,
                n_quarantined = %s, n_issues = %s, finished_at = now()
            where ingest_run_id = %s
            """,
            (summary.rows_read, summary.loaded, summary.already_present, summary.n_quarantined,
             sum(summary.issues.values()) + len(summary.unknown_columns), run_id),
        )
        conn.commit()
    return summary


def _count_quality_issues(summary: IngestSummary, fingerprints: list[ImageFingerprint]) -> None:
    """The issues skinmap.quality.issues() finds, with this run's images standing for the dataset's colour."""
    if not fingerprints:
        return
    limits = quality_thresholds()
    colour = sum(fp.quality.chroma >= limits["quality_grayscale_max_chroma"] for fp in fingerprints)
    for fp in fingerprints:
        summary.quality_issues.update(quality_issues(fp.quality, fp.width, fp.height,
                                                     dataset_is_colour=colour * 2 > len(fingerprints), limits=limits))


def _resolve_isic_release_years(conn) -> None:
    """An ISIC image's release year is that of the earliest collection that contains it.

    The same ISIC id (ISIC_0024306, also as ISIC_0024306_downsampled) can be
    ingested from HAM10000, ISIC 2018, 2019 and 2020; each copy takes the
    earliest year any of them has, so a republished image is never new; a copy
    without a year (the ISIC archive export, a collection of all years) takes
    it too. The
    rows carry that id as `source_image_id` (any other shared source id a
    mapping states counts the same way).
    """
    conn.execute(
        """
        with earliest as (
            select source_image_id, min(release_year) as release_year
            from atlas.image
            where source_image_id is not null
            group by source_image_id
            having count(*) > 1 and min(release_year) is not null
        )
        update atlas.image as image set release_year = earliest.release_year
        from earliest
        where image.source_image_id = earliest.source_image_id
            and (image.release_year > earliest.release_year or image.release_year is null)
        """
    )
