"""How far an approximate run is from exact, measured on a sample after every run that asks for it.

The sql and ivf engines are approximate above a few thousand images. Rather
than trust a benchmark on synthetic vectors, a run scores a seeded sample of
its own images exactly (torch matmul against the whole model) and compares:
recall@k of the stored edges, and the mean relative error of the stored
novelty at the newest cutoff (approximate lists miss nearer images, so it is
never negative). Cheap: sample x atlas distances only.
"""
from __future__ import annotations

import numpy as np

from skinmap import db
from skinmap.knn.edges import stored_lists
from skinmap.knn.reference import without_self
from skinmap.knn.vectors import ModelImages


def sampled_quality(url: str, images: ModelImages, k: int, novelty_k: int, n_sample: int = 500,
                    seed: int = 0) -> str:
    """One line: 'sample of N vs exact: recall@k R, novelty error +E%'."""
    from skinmap.knn.exact_engine import ExactEngine

    if len(images.image_ids) < 2 or n_sample <= 0:
        return "sample check: too few images"
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(images.image_ids, min(n_sample, len(images.image_ids)), replace=False))
    exact = ExactEngine(url)
    width = min(k, len(images.image_ids) - 1)
    ids, dists = exact.whole_model(images.model_id, images.image_ids).search(sample, width + 1)
    want = without_self(sample, ids, dists, width)[0]
    got = stored_lists(url, images.model_id, sample, width)[0]
    recall = np.mean([len(set(g[g >= 0]) & set(w[w >= 0])) / max(1, (w >= 0).sum()) for g, w in zip(got, want)])
    line = f"sample of {len(sample)} vs exact: recall@{width} {recall:.4f}"
    has_year = ~np.isnan(images.release_years)
    with db.connect(url) as conn:
        stored = dict(conn.execute(
            "select image_id, novelty from atlas.knn_novelty where model_id = %s and scope = 'earlier_years' "
            "and cutoff_year = (select max(cutoff_year) from atlas.knn_novelty where model_id = %s) "
            "and image_id = any(%s) and novelty is not null",
            (images.model_id, images.model_id, sample.tolist())).fetchall())
    scored = np.array([i for i in sample if int(i) in stored], dtype=np.int64)
    if len(scored) and has_year.sum() > 1:
        reference = exact.reference(images.model_id)
        reference.add(images.image_ids[has_year])
        ids, dists = reference.search(scored, novelty_k + 1)
        truth = np.nanmean(without_self(scored, ids, dists, novelty_k)[1], axis=1)
        error = np.mean([stored[int(i)] / t - 1 for i, t in zip(scored, truth)])
        line += f", novelty@{novelty_k} error {error:+.2%}"
    return line
