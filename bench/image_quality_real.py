"""Benchmark: image-quality thresholds on real images and planted junk, beside CleanVision.

Screens every image of ``../shared/realdev`` (567 real clinical and
dermoscopic images) with skinmap.quality, the same code the ingest runs
(``hashing.fingerprint`` on the file bytes), and a planted junk set made from
them (seeded): for each kind, ``--per-kind`` source images are turned into
junk and re-encoded as JPEG quality 90, as files in the wild are. It prints
per junk kind how many were caught (flagged with the expected issue, and
flagged at all), the flagged share of the real images per source and
modality, the margin of every threshold (the real images' extreme value
beside the junk's), and the screening speed. Thresholds are read from
dbt_project/dbt_project.yml (quality_*), the one place they are declared.

With ``--cleanvision PYTHON`` (a Python whose environment has
``cleanvision`` installed, e.g. ``/tmp/cv-venv/bin/python``; it pins
other numpy/pandas versions than ours, so it runs in its own venv) it also
runs CleanVision's Imagelab with its default issue types and thresholds on
the same files and prints its findings beside ours.

    .venv/bin/python bench/image_quality_real.py
    python3 -m venv /tmp/cv-venv && /tmp/cv-venv/bin/pip install cleanvision==0.3.7
    .venv/bin/python bench/image_quality_real.py --cleanvision /tmp/cv-venv/bin/python
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from skinmap.hashing import fingerprint  # noqa: E402
from skinmap.junk import JUNK_KINDS, make_junk  # noqa: E402
from skinmap.quality import ImageQuality, issues, thresholds  # noqa: E402

REALDEV = REPO.parent / "shared" / "realdev"
# the junk kinds of skinmap.junk, plus a gray copy stored as a one-band (mode L) JPEG, which
# CleanVision's grayscale check (the PIL mode) is made for; the RGB-stored gray copy it cannot see
BENCH_KINDS: dict[str, str] = {**JUNK_KINDS, "grayscale_mode_L": "grayscale"}

def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _rows() -> list[dict[str, str]]:
    with (REALDEV / "images.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def _cleanvision(python: str, folder: Path) -> dict[str, list[str]]:
    """{file name: [CleanVision issue types]} from CleanVision's defaults, run in its own interpreter."""
    script = (
        "import json, sys\n"
        "from cleanvision import Imagelab\n"
        "lab = Imagelab(data_path=sys.argv[1])\n"
        "lab.find_issues(issue_types={k: {} for k in ('dark', 'light', 'odd_aspect_ratio', 'low_information',"
        " 'blurry', 'grayscale', 'odd_size')}, verbose=False)\n"
        "flags = [c for c in lab.issues.columns if c.startswith('is_') and c.endswith('_issue')]\n"
        "out = {p.rsplit('/', 1)[-1]: [c[3:-6] for c in flags if row[c]] for p, row in lab.issues.iterrows()}\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([python, "-c", script, str(folder)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _table(header: list[str], rows: list[list[object]]) -> str:
    cells = [header] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-kind", type=int, default=20, help="junk images per kind (default 20)")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--cleanvision", metavar="PYTHON", help="a Python with cleanvision installed")
    args = parser.parse_args()
    limits = thresholds()
    rng = np.random.default_rng(args.seed)
    rows = _rows()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        real: list[tuple[dict[str, str], ImageQuality, int, int, str]] = []
        started = time.perf_counter()
        for i, row in enumerate(rows):
            data = (REALDEV / row["file"]).read_bytes()
            fp = fingerprint(data)
            name = f"real_{i:04d}.jpg"
            (folder / name).write_bytes(data)
            real.append((row, fp.quality, fp.width, fp.height, name))
        per_image_ms = (time.perf_counter() - started) / len(rows) * 1000

        junk: list[tuple[str, str, ImageQuality, int, int, str]] = []
        for kind in BENCH_KINDS:
            for j in sorted(rng.choice(len(rows), size=args.per_kind, replace=False)):
                row = rows[int(j)]
                with Image.open(REALDEV / row["file"]) as im:
                    source = im.convert("RGB")
                if kind == "grayscale_mode_L":  # the gray copy stored as a one-band JPEG
                    data = _jpeg(make_junk("grayscale", source, rng).convert("L"))
                else:
                    data = _jpeg(make_junk(kind, source, rng))
                fp = fingerprint(data)
                name = f"junk_{kind}_{int(j):04d}.jpg"
                (folder / name).write_bytes(data)
                junk.append((kind, row["source"], fp.quality, fp.width, fp.height, name))
        cv = _cleanvision(args.cleanvision, folder) if args.cleanvision else None

    ours_real = {r[4]: issues(r[1], r[2], r[3], limits=limits) for r in real}
    ours_junk = {j[5]: issues(j[2], j[3], j[4], limits=limits) for j in junk}

    print(f"thresholds (dbt_project.yml): {json.dumps(limits)}")
    print(f"screening speed: {per_image_ms:.1f} ms per real image (decode, hashes, signature and quality)\n")

    print("Planted junk: caught = flagged with the expected issue (any = flagged at all)")
    out = []
    for kind, expected in BENCH_KINDS.items():
        names = [j[5] for j in junk if j[0] == kind]
        caught = sum(expected in ours_junk[n] for n in names)
        anyf = sum(bool(ours_junk[n]) for n in names)
        line: list[object] = [kind, expected, f"{caught}/{len(names)}", f"{anyf}/{len(names)}"]
        if cv is not None:
            line.append(f"{sum(bool(cv.get(n)) for n in names)}/{len(names)}")
            line.append(", ".join(f"{k} {v}" for k, v in Counter(i for n in names for i in cv.get(n, [])).most_common()))
        out.append(line)
    header = ["junk kind", "expected issue", "ours caught", "ours any"]
    if cv is not None:
        header += ["CleanVision any", "CleanVision issues"]
    print(_table(header, out))

    print("\nReal images flagged (target: at most 1% overall)")
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row, _, _, _, name in real:
        groups[("source", row["source"])].append(name)
        groups[("modality", row["modality"])].append(name)
        groups[("all", "all")].append(name)
    out = []
    for (level, value), names in sorted(groups.items()):
        n_ours = sum(bool(ours_real[n]) for n in names)
        line = [level, value, len(names), f"{n_ours} ({n_ours / len(names):.1%})"]
        if cv is not None:
            n_cv = sum(bool(cv.get(n)) for n in names)
            line.append(f"{n_cv} ({n_cv / len(names):.1%})")
        out.append(line)
    print(_table(["by", "value", "images", "ours flagged"] + (["CleanVision flagged"] if cv is not None else []), out))
    issue_counts = Counter(i for n in ours_real for i in ours_real[n])
    print("ours, real images by issue: " + (", ".join(f"{k} {v}" for k, v in issue_counts.most_common()) or "none"))
    for row, _, w, h, name in real:
        if ours_real[name]:
            print(f"  flagged: {row['file']} {w}x{h}: {', '.join(ours_real[name])}")
    if cv is not None:
        cv_counts = Counter(i for n in ours_real for i in cv.get(n, []))
        by_mod = {m: Counter(i for r in real if r[0]["modality"] == m for i in cv.get(r[4], []))
                  for m in sorted({r[0]["modality"] for r in real})}
        print("CleanVision, real images by issue: " + ", ".join(f"{k} {v}" for k, v in cv_counts.most_common()))
        print("CleanVision, by modality: " + "; ".join(f"{m}: {dict(c)}" for m, c in by_mod.items()))

    print("\nMargins: the real images' extreme value beside the junk's (the threshold must lie between)")
    metric_of = {
        "near_constant": ("thumb_std", min, "quality_near_constant_max_thumb_std"),
        "stripes": ("min(column_std, row_std)", min, "quality_stripes_max_line_std"),
        "low_information": ("entropy", min, "quality_low_information_max_entropy"),
        "dark": ("brightness_p99", min, "quality_dark_max_brightness_p99"),
        "light": ("brightness_p05", max, "quality_light_min_brightness_p05"),
        "blurry": ("sharpness", min, "quality_blurry_max_sharpness"),
        "grayscale": ("chroma", min, "quality_grayscale_max_chroma"),
    }

    def value(q: ImageQuality, metric: str) -> float:
        return min(q.column_std, q.row_std) if metric.startswith("min(") else getattr(q, metric)

    out = []
    for issue, (metric, extreme, var) in metric_of.items():
        real_v = extreme(value(r[1], metric) for r in real)
        kinds = [k for k, e in BENCH_KINDS.items() if e == issue]
        junk_vals = [value(j[2], metric) for j in junk if j[0] in kinds]
        junk_v = (max if extreme is min else min)(junk_vals) if junk_vals else float("nan")
        out.append([issue, metric, f"{real_v:.4g}", f"{junk_v:.4g}", limits[var]])
    print(_table(["issue", "metric", "real extreme", "junk extreme", "threshold"], out))
    sides = [min(r[2], r[3]) for r in real]
    ratios = [min(r[2], r[3]) / max(r[2], r[3]) for r in real]
    print(f"real: smallest side {min(sides)} px, smallest short/long ratio {min(ratios):.3f}; "
          f"CleanVision blur score (cv_blurriness < 0.29) on real images: "
          f"{sum(r[1].cv_blurriness < 0.29 for r in real)} of {len(real)}")


if __name__ == "__main__":
    main()
