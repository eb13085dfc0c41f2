"""Text vectors: an open_clip model's text tower for diagnosis names, captions and queries.

Stored in atlas.text_vector under the same model as the image vectors, so SQL
ranks images by cosine distance to a text (atlas.images_nearest_text_v1).
Only meaningful with real weights; random weights are recorded as such on the
model row.
"""
from __future__ import annotations

import numpy as np
import psycopg
import torch

from embedder.models import Encoder
from embedder.writer import register_model

DEFAULT_TEMPLATE = "a clinical photo of {}"


def diagnosis_names(conn: psycopg.Connection) -> list[str]:
    """Every harmonised diagnosis name in the atlas."""
    return [name for (name,) in conn.execute(
        "select distinct diagnosis from atlas.image_metadata where diagnosis is not null order by 1")]


@torch.inference_mode()
def encode_texts(encoder: Encoder, prompts: list[str], *, device: str = "cpu") -> np.ndarray:
    """L2-normalised text vectors (float32), one per prompt."""
    import open_clip

    if encoder.family != "open_clip" or not hasattr(encoder.module, "encode_text"):
        raise ValueError(f"{encoder.model_name} has no text tower; use an open_clip model")
    tokenizer = open_clip.get_tokenizer(encoder.architecture)
    tokens = tokenizer(prompts).to(device)
    features = encoder.module.encode_text(tokens).float()
    return torch.nn.functional.normalize(features, dim=-1).cpu().numpy()


def store_texts(conn: psycopg.Connection, encoder: Encoder, labels: list[str], *, template: str = DEFAULT_TEMPLATE,
                device: str = "cpu") -> int:
    """Embed `template.format(label)` for each label and upsert it as (model, label) in atlas.text_vector."""
    if not labels:
        return 0
    model_id = register_model(conn, encoder)
    prompts = [template.format(label) for label in labels]
    vectors = encode_texts(encoder, prompts, device=device)
    with conn.transaction():
        conn.cursor().executemany(
            """
            insert into atlas.text_vector (model_id, label, prompt, vec) values (%s, %s, %s, %s)
            on conflict on constraint uq_text_vector_model_label
            do update set prompt = excluded.prompt, vec = excluded.vec, created_at = now()
            """,
            [(model_id, label, prompt, vector) for label, prompt, vector in zip(labels, prompts, vectors)],
        )
    return len(labels)
