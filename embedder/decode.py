"""Image bytes -> normalised pixel batches, on the CPU (workers) or on the GPU (nvjpeg).

Two places decode:
- in DataLoader worker processes with PIL (any format, EXIF orientation),
  giving uint8 crops at the model's size; the main process only normalises;
- on the device: workers only read the bytes, and the main process decodes a
  whole batch of JPEGs with `torchvision.io.decode_jpeg(device=...)` (nvjpeg
  on CUDA), resizes and crops on the device. Files nvjpeg cannot take (not
  JPEG, EXIF-rotated, CMYK) are decoded by the workers as above; a batch the
  device decoder rejects is decoded one by one on the CPU.

The recipe (size, resize mode, mean, std) is read from the encoder's own
preprocess, so both places give the pixels the model was trained on (PIL and
torch bicubic resampling differ by a few grey levels).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

from skinmap.hashing import UnreadableImage, decode_rgb, open_within_budget

_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class PixelRecipe:
    """How an encoder wants its pixels: square `size`, shortest-side resize + centre crop or squash, mean/std."""

    size: int
    is_squash: bool
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


def recipe_of(preprocess) -> PixelRecipe | None:
    """Read the recipe from a torchvision Compose (open_clip, EfficientNet); None if it does more than that."""
    steps = getattr(preprocess, "transforms", None)
    if not steps:
        return None
    size = is_squash = mean = std = None
    for step in steps:
        if isinstance(step, transforms.Resize):
            if isinstance(step.size, int) or len(step.size) == 1:
                size, is_squash = int(step.size if isinstance(step.size, int) else step.size[0]), False
            elif step.size[0] == step.size[1]:
                size, is_squash = int(step.size[0]), True
            else:
                return None
        elif isinstance(step, transforms.CenterCrop):
            if size is None or tuple(step.size) != (size, size):
                return None
        elif isinstance(step, transforms.Normalize):
            mean, std = tuple(float(v) for v in step.mean), tuple(float(v) for v in step.std)
        elif type(step).__name__ not in ("ToTensor", "MaybeToTensor", "MaybeConvertMode", "function"):
            return None
    if size is None or mean is None:
        return None
    return PixelRecipe(size, bool(is_squash), mean, std)  # type: ignore[arg-type]


def cpu_pixels(data: bytes, recipe: PixelRecipe) -> torch.Tensor:
    """Decode with PIL and resize/crop like the encoder's preprocess: uint8 3 x size x size."""
    image = decode_rgb(data)
    size = recipe.size
    if recipe.is_squash:
        image = image.resize((size, size), Image.Resampling.BICUBIC)
    else:
        width, height = image.size
        scale = size / min(width, height)
        new = (max(size, int(width * scale)), max(size, int(height * scale)))
        if (width, height) != new:
            image = image.resize(new, Image.Resampling.BICUBIC)
        left, top = int(round((new[0] - size) / 2.0)), int(round((new[1] - size) / 2.0))
        image = image.crop((left, top, left + size, top + size))
    return torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).permute(2, 0, 1).contiguous()


def device_can_decode(data: bytes) -> bool:
    """A plain RGB/grey JPEG without an EXIF rotation, within the pixel budget: nvjpeg gives PIL's pixels.

    A file over the budget (swapped in after ingest) goes to the CPU path,
    whose guarded decode_rgb refuses it from the header with the reason.
    """
    if not data.startswith(b"\xff\xd8"):
        return False
    try:
        with open_within_budget(data) as probe:  # reads the header only
            if probe.mode not in ("RGB", "L"):
                return False
            return probe.getexif().get(_EXIF_ORIENTATION, 1) == 1
    except Exception:  # a broken header: let the CPU path report it
        return False


def decode_on_device(
    encoded: list[torch.Tensor], recipe: PixelRecipe, device: str
) -> tuple[list[int], torch.Tensor | None, list[tuple[int, str]]]:
    """Decode JPEG byte tensors on `device`, resize and crop there.

    Returns (indices that decoded, uint8 N x 3 x size x size on device, [(index, reason)] that failed).
    """
    from torchvision.io import ImageReadMode, decode_jpeg

    if not encoded:
        return [], None, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision 0.29 deprecates its decoders in favour of torchcodec
        try:
            images: list[torch.Tensor | None] = list(decode_jpeg(encoded, mode=ImageReadMode.RGB, device=device))
        except RuntimeError:  # one bad file fails the whole batch: find it one by one
            images = []
            for data in encoded:
                try:
                    images.append(decode_jpeg(data, mode=ImageReadMode.RGB, device=device))
                except RuntimeError:
                    images.append(None)
    failed = [(i, "unreadable at embed time: device JPEG decoder rejected the file") for i, im in enumerate(images)
              if im is None]
    by_shape: dict[tuple[int, int], list[int]] = {}
    for index, image in enumerate(images):
        if image is not None:
            by_shape.setdefault(tuple(image.shape[-2:]), []).append(index)
    order: list[int] = []
    pieces: list[torch.Tensor] = []
    for (height, width), indices in by_shape.items():  # one resize call per image shape
        stack = torch.stack([images[i] for i in indices])
        pieces.append(resize_crop(stack, recipe, height, width))
        order.extend(indices)
    return order, torch.cat(pieces), failed


def resize_crop(stack: torch.Tensor, recipe: PixelRecipe, height: int, width: int) -> torch.Tensor:
    """uint8 N x 3 x H x W -> uint8 N x 3 x size x size, bicubic with antialias, as torchvision's Resize."""
    size = recipe.size
    if recipe.is_squash:
        new_h = new_w = size
    else:
        scale = size / min(height, width)
        new_h, new_w = max(size, int(height * scale)), max(size, int(width * scale))
    if (new_h, new_w) != (height, width):
        resized = torch.nn.functional.interpolate(
            stack.float(), size=(new_h, new_w), mode="bicubic", antialias=True, align_corners=False
        )
        stack = resized.round_().clamp_(0, 255).to(torch.uint8)
    top, left = int(round((new_h - size) / 2.0)), int(round((new_w - size) / 2.0))
    return stack[:, :, top:top + size, left:left + size]


def normalise(pixels: torch.Tensor, recipe: PixelRecipe, *, channels_last: bool = False) -> torch.Tensor:
    """uint8 N x 3 x S x S (on the device) -> float32 normalised, optionally channels-last."""
    mean = torch.tensor(recipe.mean, device=pixels.device).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(recipe.std, device=pixels.device).view(1, 3, 1, 1) * 255.0
    out = (pixels.float() - mean) / std
    return out.contiguous(memory_format=torch.channels_last) if channels_last else out


__all__ = [
    "PixelRecipe", "UnreadableImage", "cpu_pixels", "decode_on_device", "device_can_decode", "normalise",
    "recipe_of", "resize_crop",
]
