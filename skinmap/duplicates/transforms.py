"""The copy transforms of the near-duplicate benchmark (issue 14), deterministic for a seed.

Each transform is what a republished or re-downloaded skin image goes through:
a smaller copy, a harder JPEG, a tighter crop, a mirror or a quarter turn, a
colour or brightness shift, and combinations of two. `bench/near_duplicates_real.py`
hides such copies among the real images of `../shared/realdev`; the tests and
the demo reuse the same functions.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageEnhance

SINGLE = ("resize50", "resize25", "jpeg", "crop", "mirror", "rot90", "rot180", "jitter")
COMBOS = (
    ("crop", "jpeg"), ("resize50", "mirror"), ("rot90", "jitter"), ("crop", "mirror"),
    ("resize25", "jpeg"), ("rot180", "crop"), ("jitter", "resize50"), ("mirror", "jpeg"),
)


def family(name: str) -> str:
    """The family a transform is reported under: resize, jpeg, crop, mirror, rotate, jitter or combo."""
    if "+" in name:
        return "combo"
    if name.startswith("resize"):
        return "resize"
    if name.startswith("rot"):
        return "rotate"
    return name


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def _one(image: Image.Image, name: str, rng: np.random.Generator) -> Image.Image:
    w, h = image.size
    if name in ("resize50", "resize25"):
        f = 0.5 if name == "resize50" else 0.25
        filt = (Image.Resampling.BILINEAR, Image.Resampling.BICUBIC, Image.Resampling.LANCZOS)[int(rng.integers(3))]
        return image.resize((max(8, round(w * f)), max(8, round(h * f))), filt)
    if name == "jpeg":
        return _jpeg(image, int(rng.integers(30, 51)))
    if name == "crop":
        left, top, right, bottom = rng.uniform(0.05, 0.15, size=4)
        return image.crop((round(w * left), round(h * top), w - round(w * right), h - round(h * bottom)))
    if name == "mirror":
        return image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if name == "rot90":
        return image.transpose(Image.Transpose.ROTATE_90 if rng.random() < 0.5 else Image.Transpose.ROTATE_270)
    if name == "rot180":
        return image.transpose(Image.Transpose.ROTATE_180)
    if name == "jitter":
        gains = 1.0 + rng.uniform(-0.12, 0.12, size=3)
        pixels = np.asarray(image, dtype=np.float32) * gains
        shifted = Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8))
        shifted = ImageEnhance.Brightness(shifted).enhance(float(1.0 + rng.choice([-1, 1]) * rng.uniform(0.1, 0.25)))
        return ImageEnhance.Contrast(shifted).enhance(float(1.0 + rng.uniform(-0.15, 0.15)))
    raise ValueError(f"unknown transform {name!r}; known: {', '.join(SINGLE)}")


def apply(image: Image.Image, name: str, rng: np.random.Generator) -> Image.Image:
    """The copy of an RGB image under a transform (or 'a+b', both in that order)."""
    for part in name.split("+"):
        image = _one(image, part, rng)
    return image


def all_names() -> list[str]:
    return [*SINGLE, *("+".join(c) for c in COMBOS)]


def encode_copy(image: Image.Image) -> bytes:
    """A copy as it would be published: JPEG at a common quality (the jpeg transform sets its own)."""
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=90)
    return buf.getvalue()
