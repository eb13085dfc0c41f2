"""Geometric verification of near-duplicate candidates with local features (OpenCV).

A copy of an image keeps its local structure under resizing, JPEG, crops,
quarter turns and colour shifts, so keypoints of the two images match and
the matches agree on one similarity transform (rotation, scale, shift).
Unrelated lesions, however alike to a global encoder, do not: their few
chance matches scatter. This is the classic check of copy detection
(Lowe 2004's ratio test, then RANSAC; OpenCV's estimateAffinePartial2D).
A mirror turns descriptors into other descriptors, so each image is also
described mirrored and the better of the two matchings counts.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

cv2.setNumThreads(1)  # callers parallelise over pairs


@dataclass(frozen=True)
class FeatureConfig:
    """How an image is described; the defaults are the ones measured in bench/near_duplicates_real.py."""

    method: str = "sift"  # "sift" or "orb"
    side: int = 384  # long side the image is scaled to (up or down) before detection
    n_features: int = 500
    ratio: float = 0.8  # Lowe's ratio test
    reprojection_px: float = 6.0  # RANSAC inlier threshold at `side`
    contrast: float = 0.01  # SIFT contrastThreshold (ORB: FAST threshold = 250 x this)
    clahe: bool = True  # local contrast equalisation before detection (also evens out colour jitter)
    min_scale: float = 0.5  # a copy's scale against its original, both at `side`: within [min_scale, 1/min_scale]


@dataclass
class Features:
    """Keypoints of an image and of its mirror: coordinates (n x 2, float32) and descriptors."""

    points: np.ndarray
    descriptors: np.ndarray | None
    points_mirrored: np.ndarray
    descriptors_mirrored: np.ndarray | None


def _detector(config: FeatureConfig):
    # Dermoscopy is smooth: at OpenCV's default contrast thresholds a HAM10000 image gives about 20 SIFT
    # keypoints, too few to survive a JPEG at quality 30. Low thresholds, then the strongest n_features.
    if config.method == "sift":
        return cv2.SIFT_create(nfeatures=config.n_features, contrastThreshold=config.contrast)
    if config.method == "orb":
        return cv2.ORB_create(nfeatures=config.n_features, fastThreshold=max(1, round(config.contrast * 250)))
    raise ValueError(f"unknown local-feature method {config.method!r}: sift or orb")


def _gray(image: Image.Image, side: int) -> np.ndarray:
    gray = image.convert("L")
    scale = side / max(gray.size)
    size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
    return np.asarray(gray.resize(size, Image.Resampling.BILINEAR if scale < 1 else Image.Resampling.BICUBIC))


def _equalised(gray: np.ndarray) -> np.ndarray:
    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(gray)


def _detect(detector, gray: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    keypoints, descriptors = detector.detectAndCompute(gray, None)
    points = np.array([k.pt for k in keypoints], dtype=np.float32).reshape(-1, 2)
    return points, descriptors


def describe(image: Image.Image, config: FeatureConfig = FeatureConfig()) -> Features:
    detector = _detector(config)
    gray = _gray(image, config.side)
    if config.clahe:
        gray = _equalised(gray)
    points, descriptors = _detect(detector, gray)
    points_m, descriptors_m = _detect(detector, np.ascontiguousarray(gray[:, ::-1]))
    return Features(points, descriptors, points_m, descriptors_m)


def _inliers(points_a, desc_a, points_b, desc_b, config: FeatureConfig) -> int:
    if desc_a is None or desc_b is None or len(desc_a) < 3 or len(desc_b) < 3:
        return 0
    norm = cv2.NORM_L2 if config.method == "sift" else cv2.NORM_HAMMING
    pairs = cv2.BFMatcher(norm).knnMatch(desc_a, desc_b, k=2)
    good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < config.ratio * n.distance]
    if len(good) < 3:
        return 0
    best: dict[int, cv2.DMatch] = {}
    for m in good:  # one match per keypoint of b: many-to-one matches fit a transform that shrinks to a point
        if m.trainIdx not in best or m.distance < best[m.trainIdx].distance:
            best[m.trainIdx] = m
    if len(best) < 3:
        return 0
    src = points_a[[m.queryIdx for m in best.values()]]
    dst = points_b[[m.trainIdx for m in best.values()]]
    transform, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                                  ransacReprojThreshold=config.reprojection_px, maxIters=2000,
                                                  confidence=0.995, refineIters=0)
    if transform is None or mask is None:
        return 0
    scale = float(np.hypot(transform[0, 0], transform[1, 0]))
    if not config.min_scale <= scale <= 1 / config.min_scale:  # both sides were scaled to `side`
        return 0
    return int(mask.sum())


def inliers(a: Features, b: Features, config: FeatureConfig = FeatureConfig()) -> int:
    """Matches of a and b consistent with one similarity transform, b taken as is or mirrored."""
    return max(_inliers(a.points, a.descriptors, b.points, b.descriptors, config),
               _inliers(a.points, a.descriptors, b.points_mirrored, b.descriptors_mirrored, config))
