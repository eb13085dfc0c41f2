"""The transformers encoder family: `--model hf:ORG/NAME` (hub) or `hf:/local/dir`.

One code path for every transformers image model:

* the files are resolved first: a local directory as is, a hub id to its
  snapshot in the hub cache (`huggingface_hub.snapshot_download`, which also
  works offline once cached); the snapshot's folder name is the commit hash,
  recorded as the revision ('local' for a directory);
* `AutoModel.from_pretrained(dir, trust_remote_code=True)` loads it: the
  authors' SkinMap brings its own code (`auto_map` in config.json) with
  `encode_image` and `predict_meta`; a CLIP model such as MONET
  (`suinleelab/monet`) loads as a `CLIPModel`, whose image tower is
  `get_image_features`;
* the pixels follow the model's image processor (`preprocessor_config.json`:
  shortest-side resize, centre crop, mean and std), rebuilt as a torchvision
  Compose so the GPU decode path can read the same recipe; without a processor,
  `config.image_size` with ImageNet mean and std;
* every weight file (*.safetensors, *.bin, *.pt, *.pth) and remote-code file
  (*.py) is hashed (sha256) into `Encoder.weight_files`.

`trust_remote_code=True` runs the model repository's Python code: pass only
models you trust (the authors' SkinMap needs it). A config carrying
`skinmap_random_weights: true` (the tiny test models) is recorded as random
weights. Files that remote code fetches by itself while loading (other hubs)
are outside the snapshot and not hashed.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import torch
from torchvision import transforms

from embedder.models import HF_PREFIX, Encoder, ModelLoadError, _sha256

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt")
CODE_SUFFIXES = (".py",)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
_SNAPSHOT_FILES = ["*.json", "*.py", "*.txt", "*.model", *(f"*{suffix}" for suffix in WEIGHT_SUFFIXES)]
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def resolve(spec: str, revision: str | None = None) -> tuple[Path, str, str]:
    """(local directory, revision, name) for an hf: spec: a local directory, or a hub id's cached snapshot."""
    path = Path(spec).expanduser()
    if path.is_dir():
        if revision:
            raise ModelLoadError(f"--revision {revision!r} needs a hub id; {spec!r} is a local directory")
        return path.resolve(), "local", str(path.resolve())
    if spec.count("/") != 1 or spec.startswith(("/", ".", "~")):
        raise ModelLoadError(f"hf:{spec}: neither a local directory nor a hub id ORG/NAME")
    from huggingface_hub import snapshot_download

    try:
        snapshot = Path(snapshot_download(spec, revision=revision, allow_patterns=_SNAPSHOT_FILES))
    except Exception as exc:  # offline, unknown repo or revision: many types
        raise ModelLoadError(
            f"cannot fetch hf:{spec} (revision {revision or 'main'}): {exc.__class__.__name__}: {exc}\n"
            f"Without network: `hf download {spec} --local-dir DIR` elsewhere, copy DIR here and pass "
            f"--model hf:DIR (or fill the hub cache, HF_HOME)."
        ) from exc
    commit = snapshot.name if _COMMIT.match(snapshot.name) else (revision or "unknown")
    return snapshot, commit, spec


def hash_files(directory: Path) -> dict[str, str]:
    """Relative path -> sha256 of every weight and remote-code file under the directory."""
    return {str(p.relative_to(directory)): _sha256(p) for p in sorted(directory.rglob("*"))
            if p.is_file() and p.suffix in WEIGHT_SUFFIXES + CODE_SUFFIXES}


def weights_digest(files: dict[str, str]) -> str | None:
    """One sha256 for the weights: the file's own when there is one, else over the sorted 'sha  name' lines."""
    weights = {k: v for k, v in files.items() if k.endswith(WEIGHT_SUFFIXES)}
    if not weights:
        return None
    if len(weights) == 1:
        return next(iter(weights.values()))
    manifest = "".join(f"{sha}  {name}\n" for name, sha in sorted(weights.items()))
    return hashlib.sha256(manifest.encode()).hexdigest()


def _side(size, *keys: str) -> int | None:
    if size is None:
        return None
    if isinstance(size, int):
        return size
    get = size.get if isinstance(size, dict) else lambda k: getattr(size, k, None)
    for key in keys:
        value = get(key)
        if value:
            return int(value)
    return None


def preprocess_of(directory: Path, config) -> tuple[transforms.Compose, int, str]:
    """(torchvision preprocess, square input size, where the recipe came from) for the model in the directory."""
    from transformers import AutoImageProcessor

    processor = None
    if (directory / "preprocessor_config.json").is_file():
        try:
            processor = AutoImageProcessor.from_pretrained(directory, trust_remote_code=True)
        except Exception:  # a processor transformers cannot build: fall back to the config below
            processor = None
    if processor is not None:
        shortest = _side(getattr(processor, "size", None), "shortest_edge")
        crop = _side(getattr(processor, "crop_size", None), "height", "shortest_edge")
        do_crop = bool(getattr(processor, "do_center_crop", False)) and crop is not None
        mean = tuple(float(v) for v in (getattr(processor, "image_mean", None) or IMAGENET_MEAN))
        std = tuple(float(v) for v in (getattr(processor, "image_std", None) or IMAGENET_STD))
        if shortest is not None:  # CLIP: shortest side, then centre crop
            size = crop if do_crop else shortest
            steps = [transforms.Resize(shortest, interpolation=transforms.InterpolationMode.BICUBIC)]
            steps += [transforms.CenterCrop(size)]
        else:  # ViT style: squash to height x width
            size = _side(getattr(processor, "size", None), "height")
            steps = [transforms.Resize((size, size), interpolation=transforms.InterpolationMode.BICUBIC)]
        source = type(processor).__name__
    else:
        vision = getattr(config, "vision_config", None)
        size = int(getattr(config, "image_size", None) or getattr(vision, "image_size", None) or 224)
        mean, std = IMAGENET_MEAN, IMAGENET_STD
        steps = [transforms.Resize(size, interpolation=transforms.InterpolationMode.BICUBIC),
                 transforms.CenterCrop(size)]
        source = "config.image_size, ImageNet mean/std (no preprocessor_config.json)"
    if size is None:
        raise ModelLoadError(f"the image processor of {directory} gives no input size")
    steps += [transforms.ToTensor(), transforms.Normalize(mean=list(mean), std=list(std))]
    return transforms.Compose(steps), int(size), source


def _image_forward(model):
    """The image-vector function: encode_image (SkinMap-style remote code) or get_image_features (CLIP)."""
    if callable(getattr(model, "encode_image", None)):
        return model.encode_image, "encode_image"
    if callable(getattr(model, "get_image_features", None)):
        def forward(pixels: torch.Tensor) -> torch.Tensor:
            out = model.get_image_features(pixel_values=pixels)
            return out if isinstance(out, torch.Tensor) else out.pooler_output  # transformers 5: a model output

        return forward, "get_image_features"
    raise ModelLoadError(f"{type(model).__name__} has neither encode_image nor get_image_features: "
                         "not an image encoder SkinMap can use")


def load_transformers(spec: str, revision: str | None = None) -> Encoder:
    """Load hf:SPEC (see module docstring) on the CPU."""
    from transformers import AutoConfig, AutoModel

    directory, commit, name = resolve(spec, revision)
    try:
        config = AutoConfig.from_pretrained(directory, trust_remote_code=True)
        model = AutoModel.from_pretrained(directory, trust_remote_code=True)
    except Exception as exc:
        raise ModelLoadError(f"cannot load hf:{spec} from {directory}: {exc.__class__.__name__}: {exc}") from exc
    forward, interface = _image_forward(model)
    preprocess, size, _ = preprocess_of(directory, config)
    files = hash_files(directory)
    sha = weights_digest(files)
    is_random = bool(getattr(config, "skinmap_random_weights", False))
    with torch.inference_mode():
        probe = forward(torch.zeros(1, 3, size, size))
    if probe.ndim != 2:
        raise ModelLoadError(f"hf:{spec} {interface} gives a {tuple(probe.shape)} tensor, not one vector per image")
    architecture = HF_PREFIX + name
    if commit == "local":
        tag = ("random-" if is_random else "local-") + (sha or "noweights")[:12]
        weights = f"local:{sha[:12]}" if sha else "local"
        label = HF_PREFIX + Path(name).name
    else:
        tag, weights, label = commit[:12], commit, architecture
    meta = getattr(model, "predict_meta", None)
    labels = getattr(config, "meta_labels", None) or {}
    return Encoder(
        model_name=f"{label}@{tag}", family="transformers", architecture=architecture,
        weights="random" if is_random else weights, weights_sha256=sha, is_random_weights=is_random,
        dimension=int(probe.shape[-1]), image_size=size, module=model, preprocess=preprocess, _forward=forward,
        revision=commit, weight_files=files, predict_meta=meta if callable(meta) else None,
        meta_labels={str(k): [str(c) for c in v] for k, v in dict(labels).items()},
    )
