"""Tiny transformers models with RANDOM weights, saved as local directories (no network, no real weights).

`save_tiny_clip` is a CLIPModel (the MONET path: `get_image_features`) with
its CLIPImageProcessor; `save_tiny_skinmap` is a remote-code model
(tests/fixtures/hf_tiny_skinmap: `auto_map` in config.json, loaded with
trust_remote_code=True) with the SkinMap interface, `encode_image` and
`predict_meta`. Both mark their config with `skinmap_random_weights: true`,
so the atlas records that the weights are random.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

REMOTE_CODE = Path(__file__).resolve().parent / "fixtures" / "hf_tiny_skinmap"
IMAGE_SIZE = 32


def _mark_random(directory: Path) -> None:
    path = directory / "config.json"
    config = json.loads(path.read_text())
    config["skinmap_random_weights"] = True
    path.write_text(json.dumps(config, indent=2))


def save_tiny_clip(directory: Path, *, seed: int = 0) -> Path:
    import torch
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    torch.manual_seed(seed)
    text = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2, vocab_size=99,
                max_position_embeddings=16, bos_token_id=0, eos_token_id=1, pad_token_id=1)
    vision = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=2,
                  image_size=IMAGE_SIZE, patch_size=8)
    CLIPModel(CLIPConfig(text_config=text, vision_config=vision, projection_dim=24)).save_pretrained(directory)
    CLIPImageProcessor(size={"shortest_edge": IMAGE_SIZE},
                       crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}).save_pretrained(directory)
    _mark_random(directory)
    return directory


def save_tiny_skinmap(directory: Path, *, seed: int = 0) -> Path:
    import torch
    from transformers import AutoConfig, AutoModel, CLIPImageProcessor

    directory.mkdir(parents=True, exist_ok=True)
    for source in REMOTE_CODE.glob("*.py"):
        shutil.copy(source, directory / source.name)
    (directory / "config.json").write_text(json.dumps({
        "model_type": "tiny_skinmap",
        "architectures": ["TinySkinMapModel"],
        "auto_map": {"AutoConfig": "configuration_tiny_skinmap.TinySkinMapConfig",
                     "AutoModel": "modeling_tiny_skinmap.TinySkinMapModel"},
        "image_size": IMAGE_SIZE, "hidden_size": 8, "embed_dim": 16,
    }, indent=2))
    torch.manual_seed(seed)
    config = AutoConfig.from_pretrained(directory, trust_remote_code=True)
    AutoModel.from_config(config, trust_remote_code=True).save_pretrained(directory)
    CLIPImageProcessor(size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
                       image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]).save_pretrained(directory)
    _mark_random(directory)
    return directory
