"""Hostile inputs at size: a 10,000-file corpus (skinmap.hostile) through `skinmap ingest`, and the bomb's memory.

Prints the files tried, the outcome per kind against what the generator
expects, every mismatch, the peak resident memory of the ingest process and
its decode workers, and seconds. Then ingests one 20,000 x 20,000 PNG bomb
alone (the single-process path a small dataset takes) and one legitimate
100-megapixel JPEG, the largest the default budget admits; with --before
PATH the bomb is also ingested by another checkout's code (the commit
before the pixel budget) to show what it cost there.

    .venv/bin/python bench/hostile_inputs.py                      # about 2 minutes on 2 cores
    .venv/bin/python bench/hostile_inputs.py --before ../main     # + the bomb on the old code

Uses SKINMAP_DATABASE_URL's server if set, else the embedded one.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image

from skinmap import db, hostile, migrate


def _server_url() -> str:
    if os.environ.get("SKINMAP_DATABASE_URL"):
        return os.environ["SKINMAP_DATABASE_URL"]
    from skinmap import embedded

    return embedded.admin_url()


def _one_image_dataset(folder: Path, slug: str, name: str, data: bytes | None = None) -> Path:
    """A one-row dataset of `folder/images/name` (written from `data` unless it exists)."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    if data is not None:
        (folder / "images" / name).write_bytes(data)
    (folder / f"{slug}.csv").write_text(f"id,file\n{slug},{name}\n")
    mapping = folder / f"{slug}.yaml"
    mapping.write_text(f"dataset: {{slug: {slug}}}\nmetadata: {slug}.csv\nimages: images\n"
                       "columns: {source_key: id, file: file}\n")
    return mapping


def _single(server: str, mapping: Path, label: str, pythonpath: str | None = None) -> None:
    url = db.create_database(server, "bench_hostile_single", drop_first=True)
    migrate.upgrade(url)
    started = time.monotonic()
    code, output, peak = hostile.ingest_in_child(url, mapping, pythonpath=pythonpath)
    seconds = time.monotonic() - started
    status = [line.strip() for line in output.splitlines() if "quarantined:" in line or "loaded" in line]
    print(f"{label}: exit {code}, peak RSS {peak / 2**20:,.0f} MiB, {seconds:.1f} s; {' | '.join(status)}")
    db.drop_database(server, "bench_hostile_single")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--before", type=Path, help="another checkout whose code ingests the bomb too")
    args = parser.parse_args()
    server = _server_url()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.monotonic()
        corpus = hostile.write_corpus(Path(tmp) / "corpus", n_files=args.files)
        written = time.monotonic() - started
        print(f"corpus: {corpus.n_files:,} files, {len(corpus.expected):,} metadata rows, "
              f"{len({e.kind for e in corpus.expected})} kinds, written in {written:.1f} s")
        url = db.create_database(server, "bench_hostile_inputs", drop_first=True)
        migrate.upgrade(url)
        started = time.monotonic()
        peaks, crashes = [], 0
        for mapping in (corpus.mapping, corpus.latin1_mapping):
            code, output, peak = hostile.ingest_in_child(url, mapping, "--workers", str(args.workers))
            crashes += code != 0
            peaks.append(peak)
            print(output.strip())
        seconds = time.monotonic() - started
        outcome = hostile.check(url, corpus)
        expected = Counter((e.kind, e.outcome) for e in corpus.expected)
        print(f"\ningest: {seconds:.1f} s, {crashes} crashes, peak RSS {max(peaks) / 2**20:,.0f} MiB "
              f"(largest of the ingest process and its {args.workers} decode workers)")
        print(f"{'kind':16} {'outcome':12} {'rows':>6} {'expected':>9}")
        for (kind, got), n in sorted(outcome.counts.items()):
            print(f"{kind:16} {got:12} {n:6,} {expected.get((kind, got), 0):9,}")
        totals = Counter()
        for (_, got), n in outcome.counts.items():
            totals[got] += n
        print(f"rows: {sum(totals.values()):,} = " + ", ".join(f"{n:,} {k}" for k, n in sorted(totals.items())))
        print(f"mismatches: {len(outcome.mismatches)}")
        for line in outcome.mismatches[:20]:
            print(f"  {line}")
        db.drop_database(server, "bench_hostile_inputs")

        print("\none 20,000 x 20,000 PNG bomb (1.2 MB file), alone:")
        bomb = _one_image_dataset(Path(tmp) / "bomb", "bomb", "bomb.png", hostile._png_bomb())
        _single(server, bomb, "  this checkout")
        if args.before:
            _single(server, bomb, f"  {args.before}", pythonpath=str(args.before.resolve()))
        big = Path(tmp) / "big"
        (big / "images").mkdir(parents=True)
        pixels = np.random.default_rng(0).integers(0, 256, (10_000, 10_000, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(big / "images" / "big.jpg", quality=85)
        del pixels
        print("one legitimate 10,000 x 10,000 JPEG (100 megapixels, the default budget), alone:")
        _single(server, _one_image_dataset(big, "big", "big.jpg"), "  this checkout")


if __name__ == "__main__":
    main()
