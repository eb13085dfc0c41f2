"""A model's own metadata predictions (`predict_meta`) for its images: the torch half of `impute --from-model`.

The authors' SkinMap model predicts metadata itself. This module reloads a
registered transformers model from the files it was embedded with (same
revision; the weight hashes must match the recorded ones), runs
`predict_meta(pixel_values)` over the model's images and turns its output
into atlas values. skinmap.impute stores them (no torch there).

The output layout read here (the tiny test model follows it; the released
model's card does not document one we could read offline):

    predict_meta(pixel_values) -> {attribute: tensor}
      categorical attribute: (N, C) logits or probabilities, classes named by
          config.meta_labels[attribute] (a list of C names, in order)
      "age_years" (or "age"): (N,) or (N, 1) years

Attribute names are the atlas's (fitzpatrick_type, fitzpatrick_group, sex,
age_years, age_bin, body_region, laterality, country_code, continent,
diagnosis) or the aliases in ALIASES. Class names go through skinmap's
harmonisers (so 'V', '5' and 'type 5' are Fitzpatrick type 5, 'F' is
female); a class they cannot read is skipped and counted. Unknown keys are
reported, not guessed at.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from embedder.models import Encoder, ModelLoadError, load_encoder
from skinmap import harmonise
from skinmap.db import connect
from skinmap.hashing import UnreadableImage, decode_rgb

ALIASES = {"fitzpatrick": "fitzpatrick_type", "fst": "fitzpatrick_type", "skin_type": "fitzpatrick_type",
           "age": "age_years", "gender": "sex", "body_site": "body_region", "localization": "body_region",
           "country": "country_code"}
CATEGORICAL = ("fitzpatrick_type", "fitzpatrick_group", "age_bin", "sex", "body_region", "laterality",
               "country_code", "continent", "diagnosis")
REGRESSION = ("age_years",)


@dataclass
class ModelPredictions:
    """attribute -> {image_id: (value, confidence)} from a model's predict_meta, and what was left out."""

    model_id: int
    model_name: str
    n_images: int
    values: dict[str, dict[int, tuple[object, float | None]]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    n_unreadable: int = 0


def atlas_value(attribute: str, raw: str) -> object | None:
    """A predicted class name as the atlas stores it, or None when the harmonisers cannot read it."""
    if attribute == "fitzpatrick_type":
        return harmonise.fitzpatrick(raw).value
    if attribute == "fitzpatrick_group":
        text = raw.strip().upper().replace(" ", "")
        return text if text in harmonise.FITZPATRICK_GROUPS.values() else harmonise.FITZPATRICK_GROUP_CODES.get(text)
    if attribute == "sex":
        return harmonise.sex(raw).value
    if attribute == "body_region":
        parsed = harmonise.body_region(raw).value
        return parsed[0] if parsed else None
    if attribute == "country_code":
        parsed = harmonise.country(raw).value
        return parsed[0] if parsed else None
    return raw.strip() or None


def _probabilities(scores: torch.Tensor) -> torch.Tensor:
    """Rows that already are probabilities stay; logits go through softmax."""
    scores = scores.float()
    if bool((scores >= 0).all()) and torch.allclose(scores.sum(dim=1), torch.ones(len(scores)), atol=1e-3):
        return scores
    return scores.softmax(dim=1)


def _model_row(url: str, model_name: str):
    with connect(url) as conn:
        row = conn.execute("select model_id, family, architecture, revision, weight_files from atlas.embedding_model "
                           "where model_name = %s", (model_name,)).fetchone()
    if row is None:
        raise ModelLoadError(f"no model {model_name!r} in atlas.embedding_model: run `skinmap embed --model hf:...` "
                             "first (the predictions go to the images it embedded)")
    if row[1] != "transformers":
        raise ModelLoadError(f"{model_name!r} is an {row[1]} model: only transformers models with predict_meta "
                             "predict metadata themselves; use `skinmap impute --model NAME` (linear probes)")
    return row


def reload(url: str, model_name: str, *, device: str = "cpu") -> tuple[int, Encoder]:
    """The registered model, loaded from the same files (revision and sha256 checked)."""
    model_id, _, architecture, revision, weight_files = _model_row(url, model_name)
    encoder = load_encoder(architecture, revision=None if revision in (None, "local") else revision, device=device)
    if weight_files is not None and encoder.weight_files != weight_files:
        changed = sorted(set(weight_files.items()) ^ set((encoder.weight_files or {}).items()))
        raise ModelLoadError(f"the files of {architecture} differ from those {model_name!r} was embedded with "
                             f"({', '.join(sorted({name for name, _ in changed}))}): embed it again under its new name")
    if encoder.predict_meta is None:
        raise ModelLoadError(f"{model_name!r} has no predict_meta: use `skinmap impute --model {model_name}` "
                             "(linear probes on its vectors)")
    return model_id, encoder


def predict_metadata(url: str, model_name: str, *, device: str = "cpu", batch_size: int = 32) -> ModelPredictions:
    """Run the model's predict_meta over every image it has a vector for."""
    model_id, encoder = reload(url, model_name, device=device)
    with connect(url) as conn:
        images = conn.execute(
            "select i.image_id, i.file_path from atlas.embedding e join atlas.image i using (image_id) "
            "where e.model_id = %s and i.quarantine_reason is null order by i.image_id", (model_id,)).fetchall()
    result = ModelPredictions(model_id, model_name, len(images))
    raw: dict[str, dict[int, tuple[object, float | None]]] = {}
    unreadable_classes: dict[str, int] = {}
    for start in range(0, len(images), batch_size):
        ids, pixels = [], []
        for image_id, path in images[start:start + batch_size]:
            try:
                pixels.append(encoder.preprocess(decode_rgb(Path(path).read_bytes())))
                ids.append(image_id)
            except (OSError, UnreadableImage):
                result.n_unreadable += 1
        if not ids:
            continue
        with torch.inference_mode():
            out = encoder.predict_meta(torch.stack(pixels).to(device))
        for key, tensor in dict(out).items():
            attribute = ALIASES.get(str(key), str(key))
            tensor = torch.as_tensor(tensor).detach().cpu()
            if attribute in REGRESSION and (tensor.ndim == 1 or (tensor.ndim == 2 and tensor.shape[1] == 1)):
                years = tensor.float().reshape(-1)
                values = {i: (round(min(max(float(y), 0.0), harmonise.MAX_AGE_YEARS), 1), None)
                          for i, y in zip(ids, years)}
            elif attribute in CATEGORICAL and tensor.ndim == 2 and len(encoder.meta_labels.get(
                    str(key), encoder.meta_labels.get(attribute, []))) == tensor.shape[1]:
                labels = encoder.meta_labels.get(str(key), encoder.meta_labels.get(attribute))
                proba = _probabilities(tensor)
                confidence, best = proba.max(dim=1)
                values = {}
                for i, b, c in zip(ids, best.tolist(), confidence.tolist()):
                    value = atlas_value(attribute, labels[b])
                    if value is None:
                        unreadable_classes[attribute] = unreadable_classes.get(attribute, 0) + 1
                        continue
                    values[i] = (value, min(max(float(c), 0.0), 1.0))
            else:
                if str(key) not in result.ignored:
                    result.ignored.append(str(key))
                continue
            raw.setdefault(attribute, {}).update(values)
    result.values = raw
    result.ignored = [f"{k}: not an atlas attribute, or no class names in config.meta_labels for its "
                      f"{'columns' if k else 'output'}" for k in result.ignored]
    result.ignored += [f"{a}: {n} predictions with a class the atlas cannot read, skipped"
                       for a, n in unreadable_classes.items()]
    return result
