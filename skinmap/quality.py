"""Per-image quality metrics, computed once at ingest from the decoded image (no torch).

The metrics are stored raw in ``atlas.image_quality``; the thresholds that
turn them into issues are dbt variables (``dbt_project/dbt_project.yml``,
``quality_*``), read by ``int_images_quality_flagged``. What each metric is:

Following CleanVision 0.3.7 (``cleanvision/issue_managers/image_property.py``)
where its definitions fit:

- ``brightness_p99`` / ``brightness_p05``: the 99th and 5th percentile of the
  per-pixel perceived brightness sqrt(0.241 R^2 + 0.691 G^2 + 0.068 B^2) / 255.
  CleanVision's dark score is p99 (dark below 0.32) and its light score
  1 - p05 (light below 0.05); we keep both definitions, not the thresholds
  (see "Dark and light" below).
- ``entropy``: PIL's ``Image.entropy()`` of the RGB image (bits over the
  768-bin histogram of the three bands); CleanVision's low-information score
  is entropy / 10, flagged below 0.3 (entropy below 3 bits). Kept.
- ``cv_blurriness``: CleanVision's blurry score: on a copy whose longest
  side is 64 px, 1 - exp(-0.01 * std(FIND_EDGES(gray))), plus
  1 - exp(-0.01 * std(gray histogram)) where that exceeds 0.18; blurry
  below 0.29. Stored for comparison only. On the same images (bench/
  image_quality_real.py) CleanVision itself calls 6 of the 567 real images
  blurry (4 dermoscopic, 2 clinical: smooth but sharp) and none of 20 copies
  blurred by a Gaussian of sigma 2% of the side, because at 64 px that blur
  is under one pixel. Our blur flag uses ``sharpness`` below instead.
- Aspect ratio and size come from ``atlas.image.width`` / ``height`` (not
  stored twice). CleanVision's odd-aspect score min(w/h, h/w) < 0.35 is kept;
  its odd-size rule (3 IQRs from the dataset's median area) is replaced by
  the issue's absolute rule (a side under 64 px): a dataset of thumbnails is
  not odd for being small, and CleanVision's rule caught none of 20 planted
  48 px images among the 567 real ones.
- Dark and light: the thresholds differ (dbt vars dark 0.18, light 0.85):
  CleanVision's dark 0.32 calls 32 of 522 of the demo's renders of
  Fitzpatrick V-VI skin (no highlights) dark, a bias against darker skin
  that realdev (no known V-VI image) cannot show; its light 0.95 caught 1 of
  20 over-exposed copies.
- Grayscale: CleanVision checks the PIL mode ('L'). SkinMap decodes every
  image to RGB, and a JPEG of a gray image saved as RGB is no longer exactly
  gray, so we store ``chroma``, the mean of max(R, G, B) - min(R, G, B) in
  gray levels (0-255), and the SQL flags an image whose chroma is below the
  threshold in a dataset where most images are colour.

Added, because CleanVision's scores do not catch them (a striped or
near-constant image can have normal brightness, entropy and edges):

- ``column_std`` / ``row_std``: mean over columns (rows) of the gray-level
  standard deviation along them. Every row of pixels the same (vertical
  stripes, as in 110 of 550 ISIC thumbnails once) gives ``column_std`` = 0;
  every column the same gives ``row_std`` = 0.
- ``thumb_std``: standard deviation of the 32 x 32 box-filtered gray
  thumbnail: low for a flat image and for a flat image with pixel noise,
  whose noise the box filter averages away (entropy does not: noise has
  high entropy).
- ``sharpness``: the root-mean-square of gray minus its Gaussian blur
  (radius 1 px), divided by the gray standard deviation, on the 256 px copy:
  high-frequency energy relative to contrast, so a smooth, low-contrast
  dermoscopy image is not called blurry for being smooth.

Every metric is computed from one box-downscaled copy whose longest side is
at most 256 px (a stripe or a flat image stays so under a box filter; the
percentiles, entropy and CleanVision's 64 px blur score barely move), which
keeps the screening at a few milliseconds per image.
"""
from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

WORK_SIDE = 256  # longest side of the copy most metrics are computed on
CV_BLUR_SIDE = 64  # CleanVision's MAX_RESOLUTION_FOR_BLURRY_DETECTION
THUMB_SIDE = 32


@dataclass(frozen=True)
class ImageQuality:
    """Raw quality metrics of one image; the columns of atlas.image_quality, in order."""

    brightness_p99: float
    brightness_p05: float
    entropy: float
    cv_blurriness: float
    sharpness: float
    thumb_std: float
    column_std: float
    row_std: float
    chroma: float

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def values(self) -> tuple[float, ...]:
        return astuple(self)


def _downscaled(image: Image.Image, side: int) -> Image.Image:
    """Box-filter by the smallest integer factor that brings the longest side to `side` or under."""
    factor = -(-max(image.size) // side)
    return image.reduce(factor) if factor > 1 else image


def _cv_blurriness(work: Image.Image) -> float:
    """CleanVision's blurry score (threshold 0.29, normalising factor 0.01, colour threshold 0.18).

    CleanVision resizes the full image to 64 px (bicubic); we box-reduce the
    256 px gray copy, 2 ms faster per image. The bench runs CleanVision itself.
    """
    gray = _downscaled(work.convert("L"), CV_BLUR_SIDE)
    edges = np.asarray(gray.filter(ImageFilter.FIND_EDGES), dtype=np.float64)
    blur = 1.0 - np.exp(-0.01 * float(edges.std()))
    std = 1.0 - np.exp(-0.01 * float(np.std(gray.histogram())))
    return float(min(blur + (std if std > 0.18 else 0.0), 1.0))


def measure(image: Image.Image) -> ImageQuality:
    """The quality metrics of a decoded RGB image (about 3 ms for a 512 px image)."""
    work = _downscaled(image, WORK_SIDE)
    rgb8 = np.asarray(work)
    r, g, b = (rgb8[::2, ::2, i].astype(np.float32) for i in range(3))  # percentiles: every 4th pixel
    brightness = np.sqrt(0.241 * r * r + 0.691 * g * g + 0.068 * b * b) / 255.0
    p05, p99 = np.percentile(brightness, [5, 99])
    r8, g8, b8 = rgb8[..., 0], rgb8[..., 1], rgb8[..., 2]
    chroma = np.maximum(np.maximum(r8, g8), b8) - np.minimum(np.minimum(r8, g8), b8)
    gray_image = work.convert("L")
    gray = np.asarray(gray_image, dtype=np.float32)
    contrast = float(gray.std())
    smooth = np.asarray(gray_image.filter(ImageFilter.GaussianBlur(1)), dtype=np.float32)
    inner = (slice(2, -2), slice(2, -2)) if min(gray.shape) > 8 else (slice(None), slice(None))
    residual = float(np.sqrt(np.mean((gray - smooth)[inner] ** 2)))
    thumb = np.asarray(gray_image.resize((THUMB_SIDE, THUMB_SIDE), Image.BOX), dtype=np.float32)
    return ImageQuality(
        brightness_p99=float(p99),
        brightness_p05=float(p05),
        entropy=float(work.entropy()),
        cv_blurriness=_cv_blurriness(work),
        sharpness=residual / contrast if contrast > 1e-6 else 0.0,
        thumb_std=float(thumb.std()),
        column_std=float(gray.std(axis=0).mean()),
        row_std=float(gray.std(axis=1).mean()),
        chroma=float(chroma.mean()),
    )

ISSUES: tuple[str, ...] = (
    "near_constant", "stripes", "low_information",  # degenerate
    "dark", "light", "blurry", "tiny", "odd_aspect_ratio", "grayscale",
)
"""Issue names, in the order the flag list gives them; the first three are degenerate."""
DEGENERATE: frozenset[str] = frozenset(ISSUES[:3])

_DBT_PROJECT = Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml"


def thresholds() -> dict[str, float]:
    """The quality_* dbt variables, declared once in dbt_project/dbt_project.yml."""
    import yaml

    variables = yaml.safe_load(_DBT_PROJECT.read_text())["vars"]
    return {k: float(v) for k, v in variables.items() if k.startswith("quality_")}


def issues(q: ImageQuality, width: int, height: int, *, dataset_is_colour: bool = True,
           limits: dict[str, float] | None = None) -> list[str]:
    """The issues of one image, as int_images_quality_flagged computes them in SQL (tests compare the two).

    Stripes and blur are not reported for a near-constant image (it is
    already degenerate, and has neither), nor blur for a striped one.
    """
    t = limits or thresholds()
    near_constant = q.thumb_std < t["quality_near_constant_max_thumb_std"]
    stripes = not near_constant and min(q.column_std, q.row_std) < t["quality_stripes_max_line_std"]
    found = {
        "near_constant": near_constant,
        "stripes": stripes,
        "low_information": q.entropy < t["quality_low_information_max_entropy"],
        "dark": q.brightness_p99 < t["quality_dark_max_brightness_p99"],
        "light": q.brightness_p05 > t["quality_light_min_brightness_p05"],
        "blurry": not (near_constant or stripes) and q.sharpness < t["quality_blurry_max_sharpness"],
        "tiny": min(width, height) < t["quality_tiny_min_side"],
        "odd_aspect_ratio": min(width, height) / max(width, height) < t["quality_odd_aspect_max_ratio"],
        "grayscale": dataset_is_colour and q.chroma < t["quality_grayscale_max_chroma"],
    }
    return [name for name in ISSUES if found[name]]
