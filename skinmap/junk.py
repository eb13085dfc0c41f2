"""Planted junk images for the quality screening: the bench, the tests and the demo make them here.

Each kind turns a real (or synthetic) RGB image into one that the screening
(skinmap.quality) must flag with the issue JUNK_KINDS names. The stripes
follow the degenerate ISIC thumbnails once found in a real pool (every row
of pixels the same: vertical stripes).
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

JUNK_KINDS: dict[str, str] = {
    "stripes_vertical": "stripes",  # one row repeated: every row the same
    "stripes_horizontal": "stripes",  # one column repeated: every column the same
    "flat": "near_constant",  # the image's mean colour
    "near_constant_noise": "near_constant",  # the mean colour + pixel noise (sd 6 levels)
    "dark": "dark",  # under-exposed: 15% of the light
    "bright": "light",  # over-exposed: 10% of the distance to white left
    "blurred": "blurry",  # out of focus: Gaussian blur, sigma 2% of the longest side (make_junk)
    "tiny": "tiny",  # longest side 48 px
    "extreme_aspect": "odd_aspect_ratio",  # a strip, height a quarter of the width
    "grayscale": "grayscale",  # a gray copy of a colour image
}
"""Junk kind -> the issue that must be flagged for it to count as caught."""


def make_junk(kind: str, image: Image.Image, rng: np.random.Generator, *, blur_sigma: float = 0.02) -> Image.Image:
    """One junk image of `kind` made from an RGB image (seeded where random).

    `blur_sigma` is the Gaussian sigma of "blurred" as a share of the longest
    side: 2% on real photos (the bench); the demo's 160 px synthetic renders
    are smooth to begin with, so the demo blurs them by 5%.
    """
    a = np.asarray(image.convert("RGB"))
    h, w = a.shape[:2]
    if kind == "stripes_vertical":
        row = int(rng.integers(h // 4, max(h // 4 + 1, 3 * h // 4)))
        return Image.fromarray(np.repeat(a[row:row + 1], h, axis=0))
    if kind == "stripes_horizontal":
        col = int(rng.integers(w // 4, max(w // 4 + 1, 3 * w // 4)))
        return Image.fromarray(np.repeat(a[:, col:col + 1], w, axis=1))
    mean = a.reshape(-1, 3).mean(axis=0)
    if kind == "flat":
        return Image.fromarray(np.broadcast_to(mean.astype(np.uint8), a.shape).copy())
    if kind == "near_constant_noise":
        return Image.fromarray(np.clip(mean + rng.normal(0.0, 6.0, size=a.shape), 0, 255).astype(np.uint8))
    if kind == "dark":
        return Image.fromarray((a.astype(np.float32) * 0.15).astype(np.uint8))
    if kind == "bright":
        return Image.fromarray((255 - (255 - a.astype(np.float32)) * 0.1).astype(np.uint8))
    if kind == "blurred":
        return image.convert("RGB").filter(ImageFilter.GaussianBlur(blur_sigma * max(w, h)))
    if kind == "tiny":
        scale = 48 / max(w, h)
        return image.convert("RGB").resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
    if kind == "extreme_aspect":
        top = int(rng.integers(0, max(1, h - w // 4)))
        return image.convert("RGB").crop((0, top, w, top + max(1, w // 4)))
    if kind == "grayscale":
        return image.convert("L").convert("RGB")
    raise ValueError(f"unknown junk kind {kind!r}; known: {', '.join(JUNK_KINDS)}")
