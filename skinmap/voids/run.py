"""`skinmap voids` for one model: landmarks, their graph, resistance, H1, null, and the stored run."""
from __future__ import annotations

import time
from dataclasses import dataclass

from skinmap.voids import defaults
from skinmap.voids.detect import (
    DEFAULT_ALPHA,
    DEFAULT_K,
    DEFAULT_MAX_VOIDS,
    DEFAULT_NULL_DRAWS,
    VoidResult,
    detect_voids,
)
from skinmap.voids.graph import neighbours_from_edges
from skinmap.voids.landmarks import draw_landmarks

DEFAULT_LANDMARKS, DEFAULT_SEED = defaults.LANDMARKS, defaults.SEED


class VoidsError(RuntimeError):
    """The void search cannot run; the message says what to do."""


@dataclass
class VoidRun:
    run_id: int
    model_name: str
    n_images: int
    n_landmarks: int
    result: VoidResult
    seconds: float

    def line(self) -> str:
        significant = self.result.significant()
        top = f", most persistent {self.result.voids[0].persistence:.4g}" if self.result.voids else ""
        return (f"voids ({self.model_name}): {len(self.result.voids)} H1 features kept on {self.n_landmarks} "
                f"landmarks of {self.n_images} images ({self.result.n_from_stored_edges} from stored kNN edges), "
                f"{len(significant)} significant at p <= {self.result.alpha:g} against "
                f"{len(self.result.null_max)} Gaussian draws (null max {self.result.null_max.max():.4g}){top}; "
                f"{self.seconds:.1f} s. View: kpi.kpi_structural_voids_v1 after `skinmap build`.")


def run_voids(url: str, model_name: str, *, n_landmarks: int = DEFAULT_LANDMARKS, k: int = DEFAULT_K,
              corrected: bool = True, n_null: int = DEFAULT_NULL_DRAWS, seed: int = DEFAULT_SEED,
              max_voids: int | None = DEFAULT_MAX_VOIDS, alpha: float = DEFAULT_ALPHA) -> VoidRun:
    from skinmap.knn.vectors import model_ids, model_images
    from skinmap.voids.store import landmark_vectors, stored_edges, write_run

    started = time.perf_counter()
    ids = model_ids(url, model_name)
    if not ids:
        raise VoidsError(f"no vectors for model {model_name!r}: run `skinmap embed` or `skinmap import-embeddings`")
    images = model_images(url, ids[0])
    n_images = len(images.image_ids)
    if n_images <= k:
        raise VoidsError(f"model {model_name!r} has {n_images} usable images: more than k = {k} are needed "
                         f"(lower --k)")
    if not k < n_landmarks:
        raise VoidsError(f"--landmarks {n_landmarks} must be above --k {k}")
    landmark_ids = images.image_ids[draw_landmarks(n_images, n_landmarks, seed)]
    x = landmark_vectors(url, ids[0], landmark_ids)
    stored = neighbours_from_edges(landmark_ids, *stored_edges(url, ids[0], landmark_ids), k=k)
    read = time.perf_counter() - started
    result = detect_voids(x, k=k, metric="cosine", corrected=corrected, n_null=n_null, seed=seed,
                          max_voids=max_voids, alpha=alpha, stored=stored)
    result.seconds["read"] = read
    written = time.perf_counter()
    run_id = write_run(url, model_id=ids[0], n_images=n_images, landmark_ids=landmark_ids, k=k, metric="cosine",
                       corrected=corrected, seed=seed, max_voids=max_voids, result=result,
                       seconds=written - started)
    result.seconds["write"] = time.perf_counter() - written
    return VoidRun(run_id, model_name, n_images, len(landmark_ids), result, time.perf_counter() - started)
