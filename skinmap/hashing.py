"""Per-image fingerprints computed at ingest: byte hash, decoded-pixel hash, pixel signature.

Exact duplicates are images whose decoded pixels hash the same (a PNG copy of
a JPEG's pixels is still a duplicate). The pixel signature is a mean-centred,
unit-norm 32x32 grayscale thumbnail: its dot product with another is their
normalised cross-correlation, the second check of near-duplicate candidates.
The quality metrics (skinmap.quality) are computed from the same decoded
image, so every image is screened once, at ingest.
"""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from skinmap.quality import ImageQuality, measure

SIGNATURE_SIDE = 32
Image.MAX_IMAGE_PIXELS = 200_000_000  # large total-body photos are legitimate


class UnreadableImage(ValueError):
    """The file is not a decodable image."""


@dataclass(frozen=True)
class ImageFingerprint:
    byte_sha256: str
    pixel_sha256: str
    width: int
    height: int
    signature: np.ndarray
    signature_mirrored: np.ndarray
    quality: ImageQuality


def decode_rgb(data: bytes) -> Image.Image:
    """Decode bytes to an RGB image (EXIF orientation applied), or raise UnreadableImage."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
        image = ImageOps.exif_transpose(image)
    except Exception as exc:  # PIL raises many types for broken files
        raise UnreadableImage(f"corrupt or unsupported image: {exc.__class__.__name__}: {exc}") from exc
    return image.convert("RGB")


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


def fingerprint(data: bytes) -> ImageFingerprint:
    image = decode_rgb(data)
    pixels = np.asarray(image)
    pixel_hash = hashlib.sha256(f"{image.width}x{image.height}:".encode() + pixels.tobytes()).hexdigest()
    signature, mirrored = pixel_signature(image)
    return ImageFingerprint(
        byte_sha256=hashlib.sha256(data).hexdigest(),
        pixel_sha256=pixel_hash,
        width=image.width,
        height=image.height,
        signature=signature,
        signature_mirrored=mirrored,
        quality=measure(image),
    )
