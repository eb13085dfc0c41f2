"""Per-image fingerprints computed at ingest: byte hash, decoded-pixel hash, pixel signature.

Exact duplicates are images whose decoded pixels hash the same (a PNG copy of
a JPEG's pixels is still a duplicate). The pixel signature is a mean-centred,
unit-norm 32x32 grayscale thumbnail: its dot product with another is their
normalised cross-correlation, the second check of near-duplicate candidates.
The quality metrics (skinmap.quality) are computed from the same decoded
image, so every image is screened once, at ingest.

Every decode goes through `open_within_budget`: the header's width x height
is checked against the pixel budget (skinmap.config.max_pixels) before any
pixel is decoded, so a 1 MB PNG that claims 20,000 x 20,000 is refused
unread instead of taking gigabytes. Decoding at full size is deliberate (no
JPEG draft mode): the pixel hash must not depend on the budget.
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from skinmap import config
from skinmap.quality import ImageQuality, measure

SIGNATURE_SIDE = 32
Image.MAX_IMAGE_PIXELS = 200_000_000  # PIL's own guard for every other Image.open; ours is the budget


class UnreadableImage(ValueError):
    """The file is not a decodable image."""


class ImageTooLarge(UnreadableImage):
    """The header claims more pixels than the budget: a decompression bomb or an image too big to screen."""

    def __init__(self, pixels: int, budget: int, size: tuple[int, int] | None = None):
        self.pixels, self.budget, self.size = pixels, budget, size
        claimed = f"{size[0]}x{size[1]} = " if size else ""
        super().__init__(
            f"over the pixel budget: header claims {claimed}{pixels / 1e6:.1f} megapixels, "
            f"budget {budget / 1e6:g} ({config.MAX_PIXELS_ENV}); not decoded"
        )


def open_within_budget(data: bytes, max_pixels: int | None = None) -> Image.Image:
    """Open `data` lazily (header only) and refuse it if width x height exceeds the budget."""
    budget = max_pixels or config.max_pixels()
    if budget > (Image.MAX_IMAGE_PIXELS or budget):
        Image.MAX_IMAGE_PIXELS = budget  # a budget raised past PIL's own guard is honoured
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below, with the size
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # over twice the budget: PIL names the pixel count only
        raise ImageTooLarge(_claimed_pixels(exc), budget) from exc
    except Exception as exc:  # PIL raises many types for broken files
        raise UnreadableImage(f"corrupt or unsupported image: {exc.__class__.__name__}: {exc}") from exc
    width, height = image.size
    if width * height > budget:
        image.close()
        raise ImageTooLarge(width * height, budget, (width, height))
    return image


def _claimed_pixels(exc: Exception) -> int:
    """The pixel count in PIL's 'Image size (N pixels) exceeds limit ...' message."""
    digits = [int(w) for w in str(exc).replace("(", " ").split() if w.isdigit()]
    return digits[0] if digits else 0


@dataclass(frozen=True)
class ImageFingerprint:
    byte_sha256: str
    pixel_sha256: str
    width: int
    height: int
    signature: np.ndarray
    signature_mirrored: np.ndarray
    quality: ImageQuality


def decode_rgb(data: bytes, max_pixels: int | None = None) -> Image.Image:
    """Decode bytes to an RGB image (EXIF orientation applied), or raise UnreadableImage / ImageTooLarge."""
    with open_within_budget(data, max_pixels) as probe:
        try:
            probe.verify()
        except Exception as exc:
            raise UnreadableImage(f"corrupt or unsupported image: {exc.__class__.__name__}: {exc}") from exc
    image = open_within_budget(data, max_pixels)
    try:
        image.load()
        image = ImageOps.exif_transpose(image)
        return image.convert("RGB")
    except MemoryError:
        raise
    except Exception as exc:  # PIL raises many types for broken files
        raise UnreadableImage(f"corrupt or unsupported image: {exc.__class__.__name__}: {exc}") from exc


def pixel_signature(image: Image.Image) -> tuple[np.ndarray, np.ndarray]:
    """Mean-centred unit-norm grayscale thumbnail, and the same of the mirrored image."""
    thumb = np.asarray(image.convert("L").resize((SIGNATURE_SIDE, SIGNATURE_SIDE), Image.BOX), dtype=np.float32)
    centred = thumb - thumb.mean()
    norm = float(np.linalg.norm(centred))
    if norm < 1e-6:  # a flat image: correlates with nothing but other flat images
        centred = np.ones_like(thumb)
        norm = float(np.linalg.norm(centred))
    signature = centred / norm
    return signature.ravel(), signature[:, ::-1].ravel().copy()


def fingerprint(data: bytes, max_pixels: int | None = None) -> ImageFingerprint:
    image = decode_rgb(data, max_pixels)
    pixel_hash = hashlib.sha256(f"{image.width}x{image.height}:".encode())
    pixel_hash.update(image.tobytes())  # one copy of the pixels, not two
    signature, mirrored = pixel_signature(image)
    return ImageFingerprint(
        byte_sha256=hashlib.sha256(data).hexdigest(),
        pixel_sha256=pixel_hash.hexdigest(),
        width=image.width,
        height=image.height,
        signature=signature,
        signature_mirrored=mirrored,
        quality=measure(image),
    )
