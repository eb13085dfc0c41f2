"""Neighbour label agreement on real images: how well does it find planted label errors?

Embeds the 567 images of `../shared/realdev` with EfficientNet-Lite0
(ImageNet weights, offline), maps each diagnosis to its ICD-10-CM code
(skinmap.harmonise.icd10, as ingest does), and computes for every image
the share of its k nearest images (cosine, the same set) that share its
code: the definition of kpi_neighbour_label_agreement_v1. Then flips the
code of a random 10% of the images to another code of the set and reports,
per threshold t, how many images with agreement <= t are flipped ones
(precision) and how many flipped ones have it (recall), and the share of
untouched images flagged. This chose the dbt var
label_error_max_agreement.

    .venv/bin/python bench/label_agreement_real.py      # about 4 minutes on 2 shared cores (embedding)
"""
from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

REALDEV = Path(__file__).resolve().parents[2] / "shared" / "realdev"
K = 10
FLIP_SHARE = 0.10
THRESHOLDS = (0.0, 0.1, 0.2, 0.3)


def _embed(paths: list[Path]) -> np.ndarray:
    import torch

    from embedder.models import load_encoder
    from skinmap.hashing import decode_rgb

    encoder = load_encoder("efficientnet-lite0", "imagenet")
    chunks = []
    for start in range(0, len(paths), 32):
        batch = [encoder.preprocess(decode_rgb(p.read_bytes())) for p in paths[start:start + 32]]
        chunks.append(encoder.encode(torch.stack(batch)).cpu().numpy())
    x = np.concatenate(chunks).astype(np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def agreement(vectors: np.ndarray, codes: np.ndarray, k: int = K) -> np.ndarray:
    """Per image: the share of its k nearest others (cosine) whose code equals its own."""
    dist = 1.0 - vectors @ vectors.T
    np.fill_diagonal(dist, np.inf)
    nearest = np.argsort(dist, axis=1)[:, :k]
    return (codes[nearest] == codes[:, None]).mean(axis=1)


def main() -> None:
    from skinmap.harmonise import icd10

    with (REALDEV / "images.csv").open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle)]
    coded = [(r, icd10(r["diagnosis"])) for r in rows]
    kept = [(r, c.code) for r, c in coded if c is not None and c.code]
    print(f"{len(kept)} of {len(rows)} realdev images have an ICD-10 code; "
          f"{len({c for _, c in kept})} codes")
    started = time.monotonic()
    vectors = _embed([REALDEV / r["file"] for r, _ in kept])
    print(f"embedded in {time.monotonic() - started:.1f} s")
    codes = np.array([c for _, c in kept])
    modality = np.array([r["modality"] for r, _ in kept])
    clean = agreement(vectors, codes)
    print(f"clean labels: mean agreement {clean.mean():.3f}; by modality "
          + ", ".join(f"{m} {clean[modality == m].mean():.3f}" for m in sorted(set(modality))))
    for t in THRESHOLDS:
        print(f"  clean: share of images with agreement <= {t:.1f}: {(clean <= t + 1e-9).mean():.3f}")
    rng = np.random.default_rng(17)
    precision, recall = {t: [] for t in THRESHOLDS}, {t: [] for t in THRESHOLDS}
    for _ in range(20):
        flipped = rng.random(len(codes)) < FLIP_SHARE
        noisy = codes.copy()
        choices = np.unique(codes)
        for i in np.flatnonzero(flipped):
            noisy[i] = rng.choice(choices[choices != codes[i]])
        score = agreement(vectors, noisy)
        for t in THRESHOLDS:
            flagged = score <= t + 1e-9
            precision[t].append((flagged & flipped).sum() / max(1, flagged.sum()))
            recall[t].append((flagged & flipped).sum() / max(1, flipped.sum()))
    print(f"{FLIP_SHARE:.0%} of codes flipped, 20 draws, k = {K}:")
    for t in THRESHOLDS:
        p, r = np.mean(precision[t]), np.mean(recall[t])
        print(f"  agreement <= {t:.1f}: precision {p:.3f}, recall {r:.3f}, F1 {2 * p * r / max(p + r, 1e-12):.3f}")


if __name__ == "__main__":
    main()
