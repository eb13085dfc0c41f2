"""The near-duplicate benchmark on real images: copies hidden among `../shared/realdev`.

`build()` writes two mapped datasets: the real images as they are, and a
second one that republishes some of them under the transforms of
skinmap.duplicates.transforms (each copy under a new key, shuffled). Every
real image is a negative for every other, except other shots of one lesion
(same lesion id in the source metadata): those are counted apart, since a
copy check that finds them is right about the lesion and wrong about the
copy. `score()` turns the pairs a run found into precision, recall and F1
per transform family and modality. bench/near_duplicates_real.py and the
tests run the whole atlas pipeline on it.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from skinmap.duplicates import transforms

ORIGINALS = "realdev"
COPIES = "realdev_copies"


@dataclass(frozen=True)
class Truth:
    """What was planted: copy key -> (original key, transform); key -> modality and lesion."""

    copy_of: dict[str, tuple[str, str]]
    modality: dict[str, str]
    lesion: dict[str, str]

    def group(self, key: str) -> str:
        return self.copy_of[key][0] if key in self.copy_of else key

    def transform(self, a: str, b: str) -> str | None:
        return (self.copy_of.get(b) or self.copy_of.get(a) or (None, None))[1]

    def is_copy(self, a: str, b: str) -> bool:
        return self.group(a) == self.group(b)

    def is_same_lesion(self, a: str, b: str) -> bool:
        la, lb = self.lesion.get(self.group(a)), self.lesion.get(self.group(b))
        return la is not None and la == lb and not self.is_copy(a, b)

    def positives(self) -> set[frozenset[str]]:
        members: dict[str, list[str]] = defaultdict(list)
        for key in self.modality:
            members[self.group(key)].append(key)
        return {frozenset((x, y)) for keys in members.values() for i, x in enumerate(keys) for y in keys[i + 1:]}


def _lesion_ids(realdev: Path) -> dict[str, str]:
    """file -> lesion id, namespaced by source family (PAD-UFES-20 lesion ids are bare numbers)."""
    out = {}
    for path in sorted(realdev.glob("*/metadata.csv")):
        prefix = "PAD_" if path.parent.name.startswith("padufes") else ""
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if row.get("meta_lesion_id"):
                    out[row["file"]] = prefix + row["meta_lesion_id"]
    return out


def _mapping(slug: str, year: int) -> str:
    return (f"dataset: {{slug: {slug}, name: {slug}, release_year: {year}, modality: mixed}}\n"
            "metadata: metadata.csv\nimages: images\n"
            "columns: {source_key: key, file: file, modality: modality, lesion_id: lesion_id}\n")


def build(realdev: Path, out_dir: Path, *, copies_per_transform: int = 20, seed: int = 14,
          limit: int | None = None) -> Truth:
    """Write the two datasets under out_dir/<slug>/ (mapping.yaml, metadata.csv, images/) and return the truth."""
    with (realdev / "images.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rng = np.random.default_rng(seed)
    if limit is not None:
        rows = [rows[i] for i in sorted(rng.permutation(len(rows))[:limit])]
    lesions = _lesion_ids(realdev)
    names = transforms.all_names()
    order = rng.permutation(len(rows))[: copies_per_transform * len(names)]
    modality, lesion, copy_of = {}, {}, {}
    originals, copies = [], []
    for row in rows:
        key = Path(row["file"]).stem
        modality[key] = row["modality"]
        if row["file"] in lesions:
            lesion[key] = lesions[row["file"]]
        originals.append((key, row["file"], row["modality"], lesion.get(key, "")))
    for j, idx in enumerate(order):
        row, name = rows[int(idx)], names[j % len(names)]
        image = Image.open(realdev / row["file"]).convert("RGB")
        copy = transforms.apply(image, name, np.random.default_rng(seed * 1000 + j))
        key = f"copy_{j:04d}"
        copy_of[key] = (Path(row["file"]).stem, name)
        modality[key] = row["modality"]
        copies.append((key, transforms.encode_copy(copy), row["modality"]))
    for slug, year in ((ORIGINALS, 2019), (COPIES, 2021)):
        (out_dir / slug / "images").mkdir(parents=True, exist_ok=True)
        (out_dir / slug / "mapping.yaml").write_text(_mapping(slug, year))
    with (out_dir / ORIGINALS / "metadata.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "file", "modality", "lesion_id"])
        for key, file, mod, les in originals:
            target = out_dir / ORIGINALS / "images" / Path(file).name
            if not target.exists():
                target.write_bytes((realdev / file).read_bytes())
            writer.writerow([key, Path(file).name, mod, les])
    shuffled = [copies[i] for i in rng.permutation(len(copies))]  # hidden: key order says nothing
    with (out_dir / COPIES / "metadata.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "file", "modality", "lesion_id"])
        for key, data, mod in shuffled:
            (out_dir / COPIES / "images" / f"{key}.jpg").write_bytes(data)
            writer.writerow([key, f"{key}.jpg", mod, ""])
    return Truth(copy_of, modality, lesion)


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(found: set[frozenset[str]], truth: Truth) -> dict[tuple[str, str], Score]:
    """Scores keyed by (row, modality): 'all', each transform family and each transform; modality 'all' too.

    A found pair of two real images is a false positive of the row
    ('negatives', modality); pairs of other shots of one lesion are scored
    as the row ('same lesion', modality) and left out of 'all'.
    """
    out: dict[tuple[str, str], Score] = defaultdict(Score)
    positives = truth.positives()

    def add(rows: list[str], mod: str, field: str) -> None:
        for row in rows:
            for m in (mod, "all"):
                setattr(out[(row, m)], field, getattr(out[(row, m)], field) + 1)

    for pair in positives:
        a, b = sorted(pair)
        name = truth.transform(a, b)
        rows = ["all", transforms.family(name), name]
        add(rows, truth.modality[a], "tp" if pair in found else "fn")
    for pair in found - positives:
        a, b = sorted(pair)
        if truth.is_same_lesion(a, b):
            add(["same lesion"], truth.modality[a], "tp")
            continue
        mod = truth.modality[a] if truth.modality[a] == truth.modality[b] else "mixed"
        add(["all", "negatives"], mod, "fp")
    return out
