"""Deterministic synthetic dermatology atlas for the demo and the tests.

:func:`generate_atlas` writes five small datasets (images, ``metadata.csv``,
``mapping.yaml`` each) and a ``truth.json`` that records everything planted:

- ``derm-alpha`` (2016, dermoscopic, base), ``derm-beta`` (2018, dermoscopic,
  repetitive: many copies of alpha), ``clinic-gamma`` (2020, clinical, some
  copies of beta, and the planted ingest problems), ``afri-delta`` (2022,
  clinical, novel: Fitzpatrick V-VI, children, new diagnoses and lesion
  looks) and ``repeat-epsilon`` (2024, mixed, mostly copies of alpha, beta and
  gamma: the most repetitive release);
- exact duplicates (the same file copied, or its decoded pixels re-saved as
  PNG) and near duplicates (resize, JPEG re-encode, crop, mirror, colour
  jitter), inside datasets and across them. A copy carries the metadata of
  its source (same patient, same lesion), some fields left blank;
- quarantine cases: 2 corrupt image files (a truncated JPEG, a text file
  named ``.jpg``) and 1 row whose file is missing; and 2 out-of-range values
  (Fitzpatrick 9, age 240) on rows whose images are fine;
- junk images for the quality screening (``synth_spec.JUNK_PLAN``, listed in
  ``junk``): vertical stripes, flat colour, dark and blurred images in
  ``afri-delta``, ok images with ordinary metadata (they count in the shares).

Only numpy and Pillow; a given ``seed`` gives byte-identical output.

Shares in the truth (``fitzpatrick_known_share``, ``fitzpatrick_v_vi_share_known``,
``pediatric_share_known``, ``sex_female_share_known``, overall and per
dataset) are what an ingest measures that

1. quarantines the rows listed in ``quarantine`` (corrupt or missing image)
   and counts every other metadata row as an image with status ok, copies
   and duplicates included (shares over all images, not unique images);
2. harmonises the raw text (see :func:`harmonise_row`): Fitzpatrick is known
   when it is an integer 1-6 (blank and ``-1`` are unknown, the planted ``9``
   is out of range and nulled, so unknown); age is known when it is a number
   in 0-120 (blank is unknown, the planted ``240`` is nulled); sex is
   ``female`` for ``female``/``f`` and ``male`` for ``male``/``m`` in any
   case, anything else (blank, ``unknown``) is unknown.

Then, over the rows with status ok:

- ``fitzpatrick_known_share`` = rows with a known Fitzpatrick / rows;
- ``fitzpatrick_v_vi_share_known`` = rows with Fitzpatrick 5 or 6 / rows with
  a known Fitzpatrick;
- ``pediatric_share_known`` = rows with age 0-17 (age < 18) / rows with a
  known age;
- ``sex_female_share_known`` = female rows / rows with a known sex
  (``sex_male_share_known`` is its complement, ``sex_known_share`` the share
  of rows with a known sex).

Every image's skin shows its true Fitzpatrick type (the skin colour) and its
true age (creases and sun spots, :func:`_age_marks`), labelled or not.
``fitzpatrick_v_vi_share_true`` and ``pediatric_share_true`` are the shares
of those true values over the ok rows with pixels: what imputation from the
images should recover (``afri-delta``, darkest and youngest, has the most
missing labels).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from skinmap import synth_spec as S

__all__ = ["generate_atlas", "harmonise_row"]

_NOT_AN_IMAGE = (
    b"<html><head><title>403 Forbidden</title></head>\n"
    b"<body><h1>Forbidden</h1><p>You don't have permission to access this image.</p></body></html>\n"
)


# ---------------------------------------------------------------------------
# rendering

_PIXEL_NOISE = (1.5, 3.5)  # sd range of the per-pixel sensor noise, 0-255 units


@dataclass
class _Canvas:
    rng: np.random.Generator
    w: int
    h: int
    dermoscopic: bool
    skin: np.ndarray  # (3,) mean skin colour
    xx: np.ndarray = field(init=False)
    yy: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.yy, self.xx = np.mgrid[0 : self.h, 0 : self.w].astype(np.float32)

    @property
    def m(self) -> float:  # the short side, for sizes
        return float(min(self.w, self.h))

    def smooth(self, gh: int, gw: int) -> np.ndarray:
        """Smooth random field, unit-ish variance, (h, w)."""
        a = self.rng.standard_normal((gh, gw)).astype(np.float32)
        return np.asarray(Image.fromarray(a).resize((self.w, self.h), Image.Resampling.BICUBIC))

    def blob(
        self,
        cx: float,
        cy: float,
        a: float,
        b: float,
        theta: float,
        irregular: float,
        soft: float,
        kmax: int = 7,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Soft mask of a star-shaped blob; also its normalised radius and frame."""
        rng = self.rng
        c, s = math.cos(theta), math.sin(theta)
        dx, dy = self.xx - cx, self.yy - cy
        u = (dx * c + dy * s) / a
        v = (-dx * s + dy * c) / b
        r = np.sqrt(u * u + v * v)
        phi = np.arctan2(v, u)
        edge = np.ones_like(r)
        for k in range(2, kmax + 1):
            amp = irregular * rng.uniform(0.2, 1.0) / (k - 1) ** 0.6
            edge += amp * np.cos(k * phi + rng.uniform(0, 2 * math.pi))
        edge = np.maximum(edge, 0.35)
        rn = r / edge
        alpha = _sigmoid((1.0 - rn) / soft)
        return alpha.astype(np.float32), rn.astype(np.float32), u, v

    def centre(self, spread: float = 0.22) -> tuple[float, float]:
        return (
            self.w / 2 + self.rng.uniform(-spread, spread) * self.w,
            self.h / 2 + self.rng.uniform(-spread, spread) * self.h,
        )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))


def _paint(img: np.ndarray, alpha: np.ndarray, colour: np.ndarray | tuple[float, ...]) -> None:
    a = alpha[..., None]
    col = np.asarray(colour, dtype=np.float32)
    img *= 1.0 - a
    img += a * col


def _lum(c: np.ndarray) -> float:
    return float(0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2])


def _brown(cv: _Canvas, lo: float, hi: float) -> np.ndarray:
    """A melanin brown, darker on darker skin."""
    k = cv.rng.uniform(lo, hi) * min(1.0, 0.45 + _lum(cv.skin) / 330.0)
    hue = np.array([0.62, 0.42, 0.30]) * np.array([1.0, cv.rng.uniform(0.9, 1.1), cv.rng.uniform(0.85, 1.15)])
    return (255.0 * k * hue / hue.max()).astype(np.float32)


def _lesion_size(cv: _Canvas, derm: tuple[float, float], clin: tuple[float, float]) -> float:
    lo, hi = derm if cv.dermoscopic else clin
    return cv.rng.uniform(lo, hi) * cv.m


def _nevus(cv: _Canvas, img: np.ndarray) -> None:
    rng = cv.rng
    a = _lesion_size(cv, (0.16, 0.36), (0.06, 0.16))
    cx, cy = cv.centre()
    al, rn, u, v = cv.blob(
        cx, cy, a, a * rng.uniform(0.7, 1.0), rng.uniform(0, math.pi), rng.uniform(0.02, 0.07), rng.uniform(0.025, 0.09)
    )
    base = _brown(cv, 0.3, 0.62)
    g = rng.uniform(-0.45, 0.35)
    shade = (1.0 + g * (rn - 0.5))[..., None] * (1.0 + 0.08 * cv.smooth(5, 6))[..., None]
    col = base * shade
    if cv.dermoscopic:
        f = rng.uniform(2.5, 5.0)
        t = rng.uniform(0, math.pi)
        uu = u * math.cos(t) + v * math.sin(t)
        vv = -u * math.sin(t) + v * math.cos(t)
        net = 0.5 + 0.5 * np.cos(2 * math.pi * f * uu) * np.cos(2 * math.pi * f * vv)
        col = col * (1.0 - rng.uniform(0.08, 0.25) * net)[..., None]
    _paint(img, al * rng.uniform(0.75, 0.97), col)
    if rng.random() < 0.35:  # globules
        for _ in range(rng.integers(3, 9)):
            r0 = rng.uniform(0, 0.8) * a
            t0 = rng.uniform(0, 2 * math.pi)
            d = rng.uniform(1.2, 2.5) * (1 if cv.dermoscopic else 0.6)
            ga, *_ = cv.blob(cx + r0 * math.cos(t0), cy + r0 * math.sin(t0), d, d, 0, 0.0, 0.25, kmax=2)
            _paint(img, ga * 0.8, base * 0.55)


def _melanoma(cv: _Canvas, img: np.ndarray) -> None:
    rng = cv.rng
    a = _lesion_size(cv, (0.24, 0.42), (0.09, 0.2))
    cx, cy = cv.centre(0.16)
    al, rn, u, v = cv.blob(
        cx,
        cy,
        a,
        a * rng.uniform(0.6, 0.95),
        rng.uniform(0, math.pi),
        rng.uniform(0.12, 0.24),
        rng.uniform(0.03, 0.1),
        kmax=9,
    )
    base = _brown(cv, 0.3, 0.55)
    col = np.broadcast_to(base, img.shape).copy() * (1.0 + 0.12 * cv.smooth(6, 8))[..., None]
    zones = [
        (np.array([25.0, 20.0, 22.0]), 0.35),  # black
        (np.array([95.0, 105.0, 130.0]), 0.5),  # blue-grey veil
        (np.array([175.0, 80.0, 75.0]), 0.6),  # red
        (np.array([215.0, 205.0, 200.0]), 0.9),  # white regression
    ]
    for zc, thr in zones:
        if rng.random() < 0.75:
            z = cv.smooth(4, 5) + 0.8 * cv.smooth(8, 10)
            zm = _sigmoid((z - thr) * 4.0)
            col = col * (1 - zm[..., None]) + zc * zm[..., None] * rng.uniform(0.8, 1.1)
    if cv.dermoscopic and rng.random() < 0.6:  # atypical network
        f = rng.uniform(3, 7)
        net = 0.5 + 0.5 * np.cos(2 * math.pi * f * u + 2 * cv.smooth(4, 4)) * np.cos(2 * math.pi * f * v)
        col = col * (1.0 - 0.25 * net)[..., None]
    _paint(img, al * rng.uniform(0.85, 0.99), col)
    if rng.random() < 0.5:  # satellite dots near the edge
        for _ in range(rng.integers(3, 10)):
            t0 = rng.uniform(0, 2 * math.pi)
            r0 = rng.uniform(0.85, 1.25) * a
            d = rng.uniform(1.0, 2.8)
            ga, *_ = cv.blob(cx + r0 * math.cos(t0), cy + r0 * math.sin(t0), d, d, 0, 0.1, 0.3, kmax=3)
            _paint(img, ga * 0.85, (40.0, 30.0, 30.0))


def _seb_k(cv: _Canvas, img: np.ndarray) -> None:
    rng = cv.rng
    a = _lesion_size(cv, (0.18, 0.36), (0.07, 0.17))
    cx, cy = cv.centre()
    al, rn, u, v = cv.blob(
        cx,
        cy,
        a,
        a * rng.uniform(0.55, 0.95),
        rng.uniform(0, math.pi),
        rng.uniform(0.05, 0.1),
        rng.uniform(0.015, 0.04),
    )
    base = _brown(cv, 0.4, 0.85) * np.array([1.0, 0.97, 0.9], dtype=np.float32)
    z = cv.smooth(10, 13) * rng.uniform(3, 6)
    fiss = np.abs(np.sin(z))  # cerebriform ridges and fissures
    col = base * (0.6 + 0.45 * fiss)[..., None]
    _paint(img, al * rng.uniform(0.85, 0.98), col)
    for _ in range(rng.integers(2, 10)):  # milia-like cysts and comedo-like openings
        t0 = rng.uniform(0, 2 * math.pi)
        r0 = rng.uniform(0, 0.75) * a
        d = rng.uniform(1.0, 2.4)
        ga, *_ = cv.blob(cx + r0 * math.cos(t0), cy + r0 * math.sin(t0), d, d, 0, 0.0, 0.25, kmax=2)
        _paint(img, ga * 0.8, (235.0, 228.0, 205.0) if rng.random() < 0.6 else (45.0, 35.0, 28.0))


def _dermatofibroma(cv: _Canvas, img: np.ndarray) -> None:
    rng = cv.rng
    a = _lesion_size(cv, (0.14, 0.28), (0.06, 0.12))
    cx, cy = cv.centre()
    theta = rng.uniform(0, math.pi)
    al, rn, *_ = cv.blob(cx, cy, a, a * rng.uniform(0.7, 1.0), theta, 0.05, 0.15)
    ring = _brown(cv, 0.5, 0.75)
    _paint(img, al * 0.85, ring)
    al2, *_ = cv.blob(cx, cy, a * 0.45, a * 0.35, theta, 0.15, 0.2)
    _paint(img, al2 * 0.8, (228.0, 214.0, 205.0))


def _bcc(cv: _Canvas, img: np.ndarray) -> None:
    rng = cv.rng
    a = _lesion_size(cv, (0.18, 0.32), (0.07, 0.16))
    cx, cy = cv.centre()
    al, rn, *_ = cv.blob(
        cx, cy, a, a * rng.uniform(0.65, 0.95), rng.uniform(0, math.pi), rng.uniform(0.05, 0.12), rng.uniform(0.05, 0.1)
    )
    pearl = np.array([228.0, 178.0, 172.0]) * rng.uniform(0.85, 1.05)
    rim = np.exp(-(((rn - 0.85) / 0.12) ** 2))  # rolled, shiny border
    col = pearl * (1.0 + 0.12 * rim - 0.06 * cv.smooth(5, 6))[..., None]
    _paint(img, al * rng.uniform(0.6, 0.85), np.clip(col, 0, 255))
    # telangiectasia: thin red branching vessels
    mask = Image.new("L", (cv.w, cv.h), 0)
    d = ImageDraw.Draw(mask)
    for _ in range(rng.integers(3, 8)):
        x, y = cx + rng.uniform(-0.6, 0.6) * a, cy + rng.uniform(-0.6, 0.6) * a
        pts = [(x, y)]
        for _ in range(rng.integers(3, 6)):
            x += rng.uniform(-0.35, 0.35) * a
            y += rng.uniform(-0.35, 0.35) * a
            pts.append((x, y))
        d.line(pts, fill=int(rng.integers(150, 230)), width=1)
    vm = np.asarray(mask, dtype=np.float32) / 255.0 * al
    _paint(img, vm, (170.0, 40.0, 45.0))
    if rng.random() < 0.5:  # central ulcer / crust
        ua, *_ = cv.blob(
            cx, cy, a * rng.uniform(0.2, 0.4), a * rng.uniform(0.15, 0.3), rng.uniform(0, math.pi), 0.2, 0.15
        )
        _paint(img, ua * 0.9, (110.0, 35.0, 30.0))


def _ak(cv: _Canvas, img: np.ndarray) -> None:
    rng = cv.rng
    a = _lesion_size(cv, (0.2, 0.4), (0.1, 0.24))
    cx, cy = cv.centre()
    al, *_ = cv.blob(
        cx,
        cy,
        a,
        a * rng.uniform(0.5, 0.9),
        rng.uniform(0, math.pi),
        rng.uniform(0.12, 0.22),
        rng.uniform(0.15, 0.3),
        kmax=8,
    )
    red = cv.skin * np.array([1.0, 0.72, 0.72]) * rng.uniform(0.85, 1.0)
    _paint(img, al * rng.uniform(0.6, 0.85), red)
    scale = (cv.smooth(30, 40) > 1.1).astype(np.float32) * al
    _paint(img, scale * 0.7, (232.0, 225.0, 215.0))


def _keloid(cv: _Canvas, img: np.ndarray) -> None:
    rng = cv.rng
    a = rng.uniform(0.25, 0.45) * cv.m
    cx, cy = cv.centre(0.12)
    al, rn, u, v = cv.blob(
        cx,
        cy,
        a,
        a * rng.uniform(0.16, 0.35),
        rng.uniform(0, math.pi),
        rng.uniform(0.08, 0.16),
        rng.uniform(0.03, 0.07),
        kmax=9,
    )
    tone = cv.skin * rng.uniform(0.55, 0.8) * np.array([1.05, 0.85, 0.9])
    if _lum(cv.skin) > 140:
        tone = np.array([200.0, 120.0, 120.0]) * rng.uniform(0.8, 1.0)
    shine = np.exp(-(((v + rng.uniform(-0.3, 0.3)) / 0.3) ** 2)) * (rn < 0.9)  # glossy ridge
    col = tone * (1.0 + 0.08 * cv.smooth(4, 6))[..., None] + 55.0 * shine[..., None]
    _paint(img, al * 0.95, np.clip(col, 0, 255))


def _vitiligo(cv: _Canvas, img: np.ndarray) -> None:
    rng = cv.rng
    white = np.array([240.0, 218.0, 204.0]) * rng.uniform(0.93, 1.02)
    for _ in range(rng.integers(1, 5)):
        a = rng.uniform(0.12, 0.36) * cv.m
        cx, cy = cv.centre(0.35)
        al, *_ = cv.blob(
            cx,
            cy,
            a,
            a * rng.uniform(0.5, 1.0),
            rng.uniform(0, math.pi),
            rng.uniform(0.18, 0.3),
            rng.uniform(0.04, 0.1),
            kmax=11,
        )
        col = white * (1.0 + 0.04 * cv.smooth(6, 6))[..., None]
        _paint(img, al * rng.uniform(0.85, 0.98), col)
        # perifollicular repigmentation dots
        dots = (cv.smooth(24, 24) > 1.5).astype(np.float32) * al
        _paint(img, dots * 0.7, cv.skin)


def _kaposi(cv: _Canvas, img: np.ndarray) -> None:
    rng = cv.rng
    purple = np.array([110.0, 48.0, 92.0]) * rng.uniform(0.55, 1.15) * min(1.0, 0.5 + _lum(cv.skin) / 200)
    for _ in range(rng.integers(2, 8)):
        a = rng.uniform(0.05, 0.17) * cv.m
        cx, cy = cv.centre(0.38)
        al, rn, *_ = cv.blob(
            cx,
            cy,
            a,
            a * rng.uniform(0.45, 0.95),
            rng.uniform(0, math.pi),
            rng.uniform(0.05, 0.15),
            rng.uniform(0.06, 0.14),
        )
        halo, *_ = cv.blob(cx, cy, a * 1.35, a * 1.2, rng.uniform(0, math.pi), 0.1, 0.25)
        _paint(img, halo * 0.35, cv.skin * np.array([0.8, 0.62, 0.6]))
        col = purple * (1.0 - 0.25 * (1 - rn.clip(0, 1)))[..., None] * (1 + 0.1 * cv.smooth(4, 4))[..., None]
        _paint(img, al * rng.uniform(0.8, 0.97), col)


def _tinea(cv: _Canvas, img: np.ndarray) -> None:
    rng = cv.rng
    light = _lum(cv.skin) > 140
    ring_col = np.array([205.0, 105.0, 95.0]) if light else cv.skin * np.array([0.62, 0.55, 0.55])
    for _ in range(rng.integers(1, 3)):
        a = rng.uniform(0.16, 0.36) * cv.m
        cx, cy = cv.centre(0.25)
        theta = rng.uniform(0, math.pi)
        ratio = rng.uniform(0.7, 1.0)
        irr = rng.uniform(0.04, 0.1)
        state = rng.bit_generator.state
        outer, *_ = cv.blob(cx, cy, a, a * ratio, theta, irr, 0.05)
        rng.bit_generator.state = state  # same outline, smaller: a ring
        inner, *_ = cv.blob(cx, cy, a * rng.uniform(0.62, 0.8), a * ratio * 0.7, theta, irr, 0.08)
        ring = np.clip(outer - inner, 0, 1)
        _paint(img, inner * 0.3, cv.skin * 1.08)
        _paint(img, ring * rng.uniform(0.75, 0.95), ring_col * rng.uniform(0.85, 1.1))
        flakes = (cv.smooth(36, 36) > 1.3).astype(np.float32) * ring
        _paint(img, flakes * 0.6, (225.0, 215.0, 205.0))


def _eczema(cv: _Canvas, img: np.ndarray) -> None:
    rng = cv.rng
    for _ in range(rng.integers(1, 4)):
        a = rng.uniform(0.2, 0.42) * cv.m
        cx, cy = cv.centre(0.3)
        al, rn, u, v = cv.blob(
            cx,
            cy,
            a,
            a * rng.uniform(0.5, 0.9),
            rng.uniform(0, math.pi),
            rng.uniform(0.15, 0.25),
            rng.uniform(0.2, 0.35),
            kmax=8,
        )
        f = rng.uniform(8, 14)
        hatch = np.abs(np.cos(2 * math.pi * f * (u + v) / 2)) * np.abs(np.cos(2 * math.pi * f * (u - v) / 2))
        col = cv.skin * rng.uniform(0.5, 0.7) * (1.0 + 0.25 * hatch)[..., None] * np.array([1.0, 0.95, 0.98])
        _paint(img, al * rng.uniform(0.6, 0.85), col)
        papules = (cv.smooth(30, 30) > 1.4).astype(np.float32) * al
        _paint(img, papules * 0.6, cv.skin * 0.45)


_LESIONS: dict[str, Callable[[_Canvas, np.ndarray], None]] = {
    S.NEVUS: _nevus,
    S.MELANOMA: _melanoma,
    S.SEB_K: _seb_k,
    S.DERMATOFIBROMA: _dermatofibroma,
    S.BCC: _bcc,
    S.AK: _ak,
    S.KELOID: _keloid,
    S.VITILIGO: _vitiligo,
    S.KAPOSI: _kaposi,
    S.TINEA: _tinea,
    S.ECZEMA: _eczema,
}


def _age_marks(cv: _Canvas, img: np.ndarray, age: int) -> None:
    """Age drawn into the skin, so that a probe can read it where the label is missing.

    A child's skin is smooth; from 18, creases grow in number and depth with
    age (5 at 18, 17 at 90) and sun spots appear after 40. Random walks, so
    no two images share their creases (no false near-duplicate matches).
    """
    if age < 18:
        return
    rng = cv.rng
    years = min(age - 18, 72) / 72.0
    mask = Image.new("L", (cv.w, cv.h), 0)
    d = ImageDraw.Draw(mask)
    for _ in range(int(round(5 + 12 * years))):
        x, y, ang = rng.uniform(0, cv.w), rng.uniform(0, cv.h), rng.uniform(0, math.pi)
        pts = [(x, y)]
        for _ in range(int(rng.integers(4, 9))):
            ang += rng.uniform(-0.3, 0.3)
            step = rng.uniform(0.04, 0.08) * cv.m
            x, y = x + step * math.cos(ang), y + step * math.sin(ang)
            pts.append((x, y))
        d.line(pts, fill=int(rng.integers(170, 256)), width=1 + int(rng.random() < years))
    crease = np.asarray(mask, dtype=np.float32) / 255.0 * (0.45 + 0.45 * years)
    _paint(img, crease, cv.skin * 0.55)
    for _ in range(max(0, (age - 40) // 5)):  # solar lentigines
        a = rng.uniform(0.015, 0.04) * cv.m
        cx, cy = rng.uniform(0, cv.w), rng.uniform(0, cv.h)
        spot, *_ = cv.blob(cx, cy, a, a * rng.uniform(0.6, 1.0), rng.uniform(0, math.pi), 0.1, 0.1)
        _paint(img, spot * rng.uniform(0.35, 0.6), cv.skin * np.array([0.72, 0.6, 0.5]))


def _render(
    rng: np.random.Generator, size: tuple[int, int], fitz: int, age: int, diagnosis: str, dermoscopic: bool
) -> np.ndarray:
    """One image, uint8 (h, w, 3): skin of the Fitzpatrick type, marks of the age, the diagnosis' lesion."""
    w, h = size
    skin = np.asarray(S.FITZ_RGB[fitz], dtype=np.float32) * rng.uniform(0.93, 1.05)
    skin *= np.array([1.0, rng.uniform(0.96, 1.04), rng.uniform(0.94, 1.06)], dtype=np.float32)
    cv = _Canvas(rng, w, h, dermoscopic, skin)

    # background: smooth shading, a lighting gradient, pores, noise
    t = rng.uniform(0, 2 * math.pi)
    grad = ((cv.xx - w / 2) * math.cos(t) + (cv.yy - h / 2) * math.sin(t)) / cv.m
    shade = 1.0 + rng.uniform(0.05, 0.12) * cv.smooth(3, 4) + rng.uniform(0.0, 0.25) * grad
    shade += rng.uniform(0.01, 0.04) * cv.smooth(int(h / 4), int(w / 4))
    img = skin[None, None, :] * shade[..., None]
    img = (img * (1.0 + 0.03 * cv.smooth(6, 6))[..., None]).astype(np.float32)

    if not dermoscopic:
        if rng.random() < 0.35:  # skin fold / crease
            t2 = rng.uniform(0, math.pi)
            off = rng.uniform(-0.4, 0.4) * cv.m
            dist = (cv.xx - w / 2) * math.sin(t2) - (cv.yy - h / 2) * math.cos(t2) - off
            img *= (1.0 - rng.uniform(0.1, 0.25) * np.exp(-((dist / rng.uniform(1.5, 4.0)) ** 2)))[..., None]
        if rng.random() < 0.2:  # a bit of background (cloth, wall) at one side
            t3 = rng.uniform(0, 2 * math.pi)
            dist = (cv.xx - w / 2) * math.cos(t3) + (cv.yy - h / 2) * math.sin(t3)
            dist += 4 * np.sin(cv.xx / rng.uniform(6, 14)) - rng.uniform(0.3, 0.5) * cv.m
            grey = rng.uniform(50, 200)
            bg = (grey * rng.uniform(0.85, 1.15, size=3)).astype(np.float32)  # dull cloth or wall
            _paint(img, _sigmoid(dist / 1.5), bg * (1.0 + 0.05 * cv.smooth(3, 3))[..., None])

    _age_marks(cv, img, age)
    _LESIONS[diagnosis](cv, img)

    img += rng.normal(0.0, rng.uniform(*_PIXEL_NOISE), size=img.shape).astype(np.float32)
    img *= np.array([rng.uniform(0.95, 1.05) for _ in range(3)], dtype=np.float32)  # white balance

    if dermoscopic:
        if rng.random() < 0.45:  # dark circular vignette of the dermatoscope
            cx = w / 2 + rng.uniform(-0.06, 0.06) * w
            cy = h / 2 + rng.uniform(-0.06, 0.06) * h
            rad = rng.uniform(0.4, 0.56) * math.hypot(w, h)
            r = np.sqrt((cv.xx - cx) ** 2 + (cv.yy - cy) ** 2)
            va = _sigmoid((r - rad) / rng.uniform(2.5, 6.0))
            _paint(img, va, np.full(3, rng.uniform(5, 30), dtype=np.float32))
    out = Image.fromarray(np.clip(img + 0.5, 0, 255).astype(np.uint8))
    if dermoscopic and rng.random() < 0.45:  # hairs
        d = ImageDraw.Draw(out)
        for _ in range(rng.integers(1, 9)):
            x, y = rng.uniform(0, w), rng.uniform(0, h)
            ang = rng.uniform(0, 2 * math.pi)
            pts = [(x, y)]
            for _ in range(rng.integers(3, 7)):
                ang += rng.uniform(-0.35, 0.35)
                step = rng.uniform(6, 18)
                x, y = x + step * math.cos(ang), y + step * math.sin(ang)
                pts.append((x, y))
            shade_h = int(rng.integers(15, 60))
            d.line(pts, fill=(shade_h, int(shade_h * 0.8), int(shade_h * 0.7)), width=1)
    return np.asarray(out)


# ---------------------------------------------------------------------------
# encoding and copy transforms


def _jpeg(pixels: np.ndarray, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()


def _png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def _decode(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def _near_copy(rng: np.random.Generator, pixels: np.ndarray, transform: str) -> tuple[np.ndarray, int, dict[str, Any]]:
    """Transformed pixels, the JPEG quality to save them at, and the parameters."""
    im = Image.fromarray(pixels)
    w, h = im.size
    q = int(rng.integers(88, 96))
    params: dict[str, Any] = {}
    if transform == "resize":
        f = float(rng.uniform(0.5, 0.8))
        filt = [Image.Resampling.BILINEAR, Image.Resampling.BICUBIC, Image.Resampling.LANCZOS][int(rng.integers(3))]
        im = im.resize((max(8, round(w * f)), max(8, round(h * f))), filt)
        params = {"factor": round(f, 3)}
    elif transform == "jpeg":
        q = int(rng.integers(40, 61))
    elif transform == "crop":
        fr = rng.uniform(0.05, 0.07, size=4)
        box = (round(w * fr[0]), round(h * fr[1]), w - round(w * fr[2]), h - round(h * fr[3]))
        im = im.crop(box)
        params = {"box": list(box)}
    elif transform == "mirror":
        im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    elif transform == "jitter":
        b = float(rng.uniform(0.04, 0.1) * rng.choice([-1, 1]))
        c = float(rng.uniform(0.04, 0.1) * rng.choice([-1, 1]))
        a = pixels.astype(np.float32)
        m = float(a.mean())
        a = (a - m) * (1.0 + c) + m * (1.0 + b)
        im = Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8))
        params = {"brightness": round(b, 3), "contrast": round(c, 3)}
    else:  # pragma: no cover
        raise ValueError(transform)
    params["quality"] = q
    return np.asarray(im), q, params


# ---------------------------------------------------------------------------
# metadata


@dataclass
class _Rec:
    slug: str
    bytes: bytes
    ext: str
    pixels: np.ndarray | None
    # canonical values: fitz/age int | None, sex "female" | "male" | None, site, diagnosis,
    # country, patient_id, lesion_id, extra (the ignored column); unknowns are None
    meta: dict[str, Any]
    pristine: bool  # original, or pixel-identical to one: may be copied again
    copy_of: _Rec | None = None
    kind: str | None = None  # exact | exact_png | a near transform
    params: dict[str, Any] | None = None
    key: str = ""
    problem: str | None = None  # corrupt image | missing file | fitzpatrick | age
    raw: dict[str, str] = field(default_factory=dict)  # raw overrides (out-of-range values)
    used_as_source: bool = False
    junk: str | None = None  # a junk kind of skinmap.junk (image-quality screening)


def _pick(rng: np.random.Generator, probs: dict[str, float]) -> str:
    keys = list(probs)
    p = np.asarray([probs[k] for k in keys], dtype=float)
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _sample_meta(
    rng: np.random.Generator, ds: S.DatasetSpec, patients: list[dict[str, Any]], ordinal: int
) -> dict[str, Any]:
    dx = _pick(rng, ds.diagnoses)
    if patients and rng.random() < 0.25:  # another lesion of a known patient
        p = patients[int(rng.integers(len(patients)))]
    else:
        fitz = int(rng.choice(6, p=np.asarray(ds.fitz_probs) / sum(ds.fitz_probs))) + 1
        age_is_known = rng.random() < ds.age_known
        if rng.random() < ds.pediatric:  # every patient has an age, drawn into the pixels; the label may be missing
            age_true = int(rng.integers(0, 18))
            age_true -= age_true % ds.age_step
        else:
            age_true = int(np.clip(rng.normal(*ds.adult_age), 18, 90))
            age_true = max(18 + (-18) % ds.age_step, age_true - age_true % ds.age_step)
        age = age_true if age_is_known else None
        sex = None
        if rng.random() < ds.sex_known:
            sex = "female" if rng.random() < ds.female else "male"
        p = {
            "patient_id": f"{ds.key_prefix}P{len(patients) + 1:05d}",
            "fitz_true": fitz,
            "fitz": fitz if rng.random() < ds.fitz_known else None,
            "age_true": age_true,
            "age": age,
            "sex": sex,
            "country": _pick(rng, ds.countries),
        }
        patients.append(p)
    site = None if rng.random() < ds.site_unknown else _pick(rng, ds.sites)
    return {
        "fitz": p["fitz"],
        "fitz_true": p["fitz_true"],
        "age_true": p["age_true"],
        "age": p["age"],
        "sex": p["sex"],
        "site": site,
        "diagnosis": dx,
        "country": p["country"],
        "patient_id": p["patient_id"],
        "lesion_id": f"{ds.key_prefix}L{ordinal + 1:05d}",
        "extra": (ds.extra_column[1][int(rng.integers(len(ds.extra_column[1])))] if ds.extra_column else None),
    }


def _raw_row(rng: np.random.Generator, ds: S.DatasetSpec, rec: _Rec) -> dict[str, str]:
    m = rec.meta
    fitz = str(m["fitz"]) if m["fitz"] is not None else str(rng.choice(ds.fitz_unknown_tokens))
    age = str(m["age"]) if m["age"] is not None else ""
    if m["sex"] == "female":
        sex = ds.sex_tokens[0]
    elif m["sex"] == "male":
        sex = ds.sex_tokens[1]
    else:
        sex = str(rng.choice(ds.sex_unknown_tokens))
    row = {
        "image_id": rec.key,
        "file_name": rec.key + rec.ext,
        "patient_id": m["patient_id"] or "",
        "lesion_id": m["lesion_id"] or "",
        "diagnosis": m["diagnosis"] or "",
        "fitzpatrick": fitz,
        "age": age,
        "sex": sex,
        "site": m["site"] if m["site"] is not None else ("unknown" if rng.random() < 0.5 else ""),
        "country": m["country"] or "",
    }
    if ds.extra_column:
        row[ds.extra_column[0]] = m.get("extra") or ""
    row.update(rec.raw)
    return row


def harmonise_row(row: dict[str, str]) -> dict[str, Any]:
    """The harmonised Fitzpatrick, age and sex of a raw metadata row, as the
    truth's shares count them (see the module docstring)."""

    def num(s: str) -> float | None:
        try:
            return float(s)
        except (TypeError, ValueError):
            return None

    f = num(row.get("fitzpatrick", ""))
    fitz = int(f) if f is not None and f == int(f) and S.FITZ_VALID[0] <= f <= S.FITZ_VALID[1] else None
    a = num(row.get("age", ""))
    age = a if a is not None and S.AGE_VALID[0] <= a <= S.AGE_VALID[1] else None
    s = (row.get("sex") or "").strip().lower()
    sex = "female" if s in ("female", "f") else "male" if s in ("male", "m") else None
    return {"fitzpatrick": fitz, "age": age, "sex": sex}


def _shares(rows: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(rows)
    fk = [r["fitzpatrick"] for r in rows if r["fitzpatrick"] is not None]
    ak = [r["age"] for r in rows if r["age"] is not None]
    sk = [r["sex"] for r in rows if r["sex"] is not None]

    def div(a: int, b: int) -> float | None:
        return a / b if b else None

    return {
        "n_ok": n,
        "n_fitzpatrick_known": len(fk),
        "n_fitzpatrick_v_vi": sum(1 for f in fk if f >= 5),
        "n_age_known": len(ak),
        "n_pediatric": sum(1 for a in ak if a < 18),
        "n_sex_known": len(sk),
        "n_female": sum(1 for s in sk if s == "female"),
        "fitzpatrick_known_share": div(len(fk), n),
        "fitzpatrick_v_vi_share_known": div(sum(1 for f in fk if f >= 5), len(fk)),
        "age_known_share": div(len(ak), n),
        "pediatric_share_known": div(sum(1 for a in ak if a < 18), len(ak)),
        "sex_known_share": div(len(sk), n),
        "sex_female_share_known": div(sum(1 for s in sk if s == "female"), len(sk)),
        "sex_male_share_known": div(sum(1 for s in sk if s == "male"), len(sk)),
    }


def _mapping_yaml(ds: S.DatasetSpec) -> str:
    origin = ds.origin_country if ds.origin_country else "null"
    ignore = f"[{ds.extra_column[0]}]" if ds.extra_column else "[]"
    return f"""\
# Synthetic dataset written by skinmap.synth (role: {ds.role}).
dataset:
  slug: {ds.slug}
  name: {ds.name}
  release_year: {ds.release_year}
  modality: {ds.modality}
  licence: CC0-1.0 (synthetic)
  source_url: null
  origin_country: {origin}
metadata: metadata.csv
images: images
columns:
  source_key: image_id
  file: file_name
  fitzpatrick: fitzpatrick
  age: age
  sex: sex
  body_site: site
  diagnosis: diagnosis
  country: country
  patient_id: patient_id
  lesion_id: lesion_id
ignore_columns: {ignore}
"""


# ---------------------------------------------------------------------------
# the atlas


def _plant_junk(recs: list[_Rec], ds: S.DatasetSpec, di: int, seed: int, scale: float) -> None:
    """Append the junk images S.JUNK_PLAN plants in this dataset (image-quality screening).

    Each is a fresh render, turned into junk; its metadata is sampled as an
    original's, with its own patient and lesion ids.
    """
    from skinmap.junk import make_junk

    plan = [(kind, _count(n, scale, minimum)) for slug, kind, n, minimum in S.JUNK_PLAN if slug == ds.slug]
    meta_rng = np.random.default_rng([seed, 8, di])
    j = 0
    for kind, n in plan:
        for _ in range(n):
            rng = np.random.default_rng([seed, 9, di, j])
            meta = _sample_meta(meta_rng, ds, [], j)
            meta.update(patient_id=f"{ds.key_prefix}PJ{j + 1:04d}", lesion_id=f"{ds.key_prefix}LJ{j + 1:04d}")
            derm = ds.modality == "dermoscopic" or (ds.modality == "mixed" and rng.random() < 0.5)
            pixels = _render(rng, ds.size, meta["fitz_true"], meta["age_true"], meta["diagnosis"], derm)
            junk = np.asarray(make_junk(kind, Image.fromarray(pixels), rng, blur_sigma=S.JUNK_BLUR_SIGMA))
            data = _jpeg(junk, 92)
            recs.append(_Rec(ds.slug, data, ".jpg", _decode(data), meta, pristine=False, junk=kind))
            j += 1


VOID_PATTERNS = ("reticular", "globular", "pink homogeneous", "blue homogeneous")
"""The global patterns on the planted void's path, in order; the path closes from the last to the first."""


def _pattern_weights(t: float) -> np.ndarray:
    """Weights of the VOID_PATTERNS at position t in [0, 4) of the closed path through them."""
    n = len(VOID_PATTERNS)
    edge, frac = int(t) % n, t - int(t)
    w = np.zeros(n)
    w[edge], w[(edge + 1) % n] = 1.0 - frac, frac
    return w


def _pattern_nevus(cv: _Canvas, img: np.ndarray, weights: np.ndarray) -> None:
    """A large nevus whose pattern mixes the VOID_PATTERNS by `weights`.

    The network is the contour lines of a random field, not a periodic
    grid: a periodic net gives local-feature matches between unrelated
    images (74 false near-duplicate verdicts among 3,000 neighbour pairs),
    this one none.
    """
    rng = cv.rng
    a = rng.uniform(0.36, 0.44) * cv.m
    cx, cy = cv.centre(0.08)
    al, *_ = cv.blob(cx, cy, a, a * rng.uniform(0.8, 1.0), rng.uniform(0, math.pi), 0.05, 0.05)
    brown = _brown(cv, 0.4, 0.55)
    net = (0.5 + 0.5 * np.cos(2 * math.pi * 2.0 * cv.smooth(12, 16))) ** 2
    reticular = brown * (1.0 - 0.6 * net)[..., None]
    dots = (cv.smooth(14, 18) > 0.7).astype(np.uint8) * 255
    dots = np.asarray(Image.fromarray(dots).filter(ImageFilter.GaussianBlur(1.2)), dtype=np.float32)[..., None] / 255
    globular = brown * 1.25 * (1.0 - dots) + np.array([55.0, 60.0, 80.0], dtype=np.float32) * dots
    pink = np.array([196.0, 92.0, 96.0], dtype=np.float32) * (1.0 + 0.05 * cv.smooth(4, 4))[..., None]
    blue = np.array([92.0, 110.0, 150.0], dtype=np.float32) * (1.0 + 0.06 * cv.smooth(4, 4))[..., None]
    colour = sum(wi * pattern for wi, pattern in zip(weights, (reticular, globular, pink, blue)))
    _paint(img, al * 0.95, colour.astype(np.float32))


def _render_void_path(rng: np.random.Generator, size: tuple[int, int], fitz: int, t: float) -> np.ndarray:
    """One image of the void's path: immersion dermoscopy of a child's skin (no hairs, no vignette, no creases)."""
    w, h = size
    skin = np.asarray(S.FITZ_RGB[fitz], dtype=np.float32) * rng.uniform(0.95, 1.03)
    cv = _Canvas(rng, w, h, True, skin)
    img = skin[None, None, :] * (1.0 + 0.06 * cv.smooth(3, 4) + 0.03 * cv.smooth(int(h / 4), int(w / 4)))[..., None]
    img = img.astype(np.float32)
    _pattern_nevus(cv, img, _pattern_weights(t))
    img += rng.normal(0.0, 2.0, size=img.shape).astype(np.float32)
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def _void_positions(seed: int, di: int, n: int) -> np.ndarray:
    """Positions of the void dataset's images on the path, uniform and sorted."""
    return np.sort(len(VOID_PATTERNS) * np.random.default_rng([seed, 11, di]).random(n))


def _void_truth(recs: list[_Rec]) -> dict[str, Any]:
    path = [r for r in recs if r.slug == S.VOID_DATASET and r.copy_of is None and r.junk is None]
    return {"slug": S.VOID_DATASET, "n": len(path), "keys": sorted(r.key for r in path),
            "path": " -> ".join(VOID_PATTERNS + VOID_PATTERNS[:1]),
            "middle": "all four patterns at once (multicomponent): in no dataset"}


def _junk_truth(recs: list[_Rec]) -> list[dict[str, str]]:
    """The planted junk: dataset, key, kind and the issue the screening must flag."""
    from skinmap.junk import JUNK_KINDS

    return [{"slug": r.slug, "key": r.key, "kind": r.junk, "issue": JUNK_KINDS[r.junk]} for r in recs if r.junk]


def _true_shares(truth_images: list[dict[str, Any]]) -> dict[str, Any]:
    """V-VI and pediatric shares over every ok image with pixels, from the values drawn into the pixels.

    Labels are missing for a planted share of these images; an imputation
    from the images should recover these shares, which the labelled shares
    (``*_share_known``) miss because labels are missing more often where dark
    skin and children are (afri-delta).
    """
    ok = [t for t in truth_images if t["status"] == "ok"]
    return {
        "n_images_with_pixels": len(ok),
        "n_fitzpatrick_v_vi_true": sum(1 for t in ok if t["fitzpatrick_true"] >= 5),
        "n_pediatric_true": sum(1 for t in ok if t["age_true"] < 18),
        "fitzpatrick_v_vi_share_true": sum(1 for t in ok if t["fitzpatrick_true"] >= 5) / len(ok),
        "pediatric_share_true": sum(1 for t in ok if t["age_true"] < 18) / len(ok),
    }


def generator_version() -> str:
    """A digest of this generator's code: a cached atlas made by other code is regenerated."""
    import hashlib

    here = Path(__file__).parent
    return hashlib.sha256(b"".join((here / f).read_bytes() for f in ("synth.py", "synth_spec.py"))).hexdigest()[:16]


def _count(n: int, scale: float, minimum: int) -> int:
    return max(minimum, int(round(n * scale)))


def generate_atlas(out_dir: Path, *, scale: float = 1.0, seed: int = 7, progress: bool = False,
                   plant_void: bool = False) -> dict:
    """Write the synthetic atlas under ``out_dir`` and return its truth.

    ``out_dir/<slug>/{images/,metadata.csv,mapping.yaml}`` per dataset and
    ``out_dir/truth.json`` (the returned dict). Existing dataset folders of the
    same slugs are replaced. ``scale=1`` is the demo (1,842 images, 2,142 with the void); about
    ``0.15`` gives ~260 images with every planted feature still present.
    ``plant_void`` adds the planted void's dataset (``S.VOID_DATASET``, at
    least 240 images at any scale, released last).
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    out_dir = Path(out_dir)
    specs = {d.slug: d for d in S.DATASETS if plant_void or d.slug != S.VOID_DATASET}
    order = list(specs)

    # how many rows of each kind each dataset gets
    copies: dict[str, list[tuple[S.CopySpec, int]]] = {s: [] for s in order}
    for cs in S.COPY_PLAN:
        copies[cs.target].append((cs, _count(cs.n, scale, cs.min_n)))
    n_orig: dict[str, int] = {}
    for slug in order:
        ds = specs[slug]
        n_copies = sum(n for _, n in copies[slug])
        extra = 5 if slug == S.PROBLEM_DATASET else 0
        n_orig[slug] = max(ds.min_originals + extra, _count(ds.n_rows, scale, 1) - n_copies)
    total = sum(n_orig.values()) + sum(n for s in order for _, n in copies[s])

    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="synthetic atlas", unit="img")

    recs: dict[str, list[_Rec]] = {s: [] for s in order}
    n_copy = 0
    for di, slug in enumerate(order):
        ds = specs[slug]
        meta_rng = np.random.default_rng([seed, 1, di])
        patients: list[dict[str, Any]] = []
        positions = _void_positions(seed, di, n_orig[slug]) if slug == S.VOID_DATASET else None
        for i in range(n_orig[slug]):
            meta = _sample_meta(meta_rng, ds, patients, i)
            rng = np.random.default_rng([seed, 2, di, i])
            if ds.modality == "mixed":
                derm = bool(rng.random() < (ds.dermoscopic_share or 0.5))
            else:
                derm = ds.modality == "dermoscopic"
            if positions is None:
                pixels = _render(rng, ds.size, meta["fitz_true"], meta["age_true"], meta["diagnosis"], derm)
            else:
                pixels = _render_void_path(rng, ds.size, meta["fitz_true"], float(positions[i]))
            data = _jpeg(pixels, int(rng.integers(88, 96)))
            recs[slug].append(_Rec(slug, data, ".jpg", _decode(data), meta, pristine=True))
            if bar:
                bar.update()

        if slug == S.PROBLEM_DATASET:
            prng = np.random.default_rng([seed, 3, di])
            picks = prng.choice(len(recs[slug]), size=5, replace=False)
            for j, problem in zip(picks, ("corrupt image", "corrupt image", "missing file", "fitzpatrick", "age")):
                r = recs[slug][int(j)]
                r.problem = problem
                r.pristine = False
            corrupt = [r for r in recs[slug] if r.problem == "corrupt image"]
            corrupt[0].bytes = corrupt[0].bytes[: len(corrupt[0].bytes) * 2 // 5]  # truncated JPEG
            corrupt[1].bytes = _NOT_AN_IMAGE
            for r in recs[slug]:
                if r.problem in ("corrupt image", "missing file"):
                    r.pixels = None
                elif r.problem == "fitzpatrick":
                    r.raw["fitzpatrick"] = "9"
                elif r.problem == "age":
                    r.raw["age"] = "240"

        # copies into this dataset: cross-dataset first, then inside
        crng = np.random.default_rng([seed, 4, di])
        plan = sorted(copies[slug], key=lambda t: t[0].sources == (slug,))
        for cs, n in plan:
            pool = [r for s in cs.sources for r in recs[s] if r.pristine and r.copy_of is None and not r.used_as_source]
            if len(pool) < n:  # small scale: allow re-use, then exact copies as sources
                pool = [r for s in cs.sources for r in recs[s] if r.pristine]
            idx = crng.choice(len(pool), size=min(n, len(pool)), replace=False)
            for j in sorted(int(k) for k in idx):
                src = pool[j]
                src.used_as_source = True
                meta = dict(src.meta)
                for f in ("fitz", "age", "sex", "site", "country"):
                    if crng.random() < cs.blank_share:
                        meta[f] = None
                if cs.target != src.slug:
                    meta["extra"] = specs[cs.target].extra_column[1][0] if specs[cs.target].extra_column else None
                assert src.pixels is not None
                if cs.kind == "exact":
                    rec = _Rec(slug, src.bytes, src.ext, src.pixels, meta, pristine=True, copy_of=src, kind="exact")
                elif cs.kind == "exact_png":
                    rec = _Rec(
                        slug, _png(src.pixels), ".png", src.pixels, meta, pristine=True, copy_of=src, kind="exact_png"
                    )
                else:
                    trng = np.random.default_rng([seed, 5, n_copy])
                    px, q, params = _near_copy(trng, src.pixels, cs.kind)
                    data = _jpeg(px, q)
                    rec = _Rec(
                        slug,
                        data,
                        ".jpg",
                        _decode(data),
                        meta,
                        pristine=False,
                        copy_of=src,
                        kind=cs.kind,
                        params=params,
                    )
                n_copy += 1
                recs[slug].append(rec)
                if bar:
                    bar.update()

        _plant_junk(recs[slug], ds, di, seed, scale)

        # keys: sparse increasing numbers, assigned in a shuffled order
        krng = np.random.default_rng([seed, 6, di])
        nums = np.sort(krng.choice(len(recs[slug]) * 3, size=len(recs[slug]), replace=False)) + 1
        perm = krng.permutation(len(recs[slug]))
        for r, k in zip((recs[slug][int(p)] for p in perm), nums):
            r.key = f"{ds.key_prefix}{int(k):0{ds.key_digits}d}"
    if bar:
        bar.close()

    # write
    out_dir.mkdir(parents=True, exist_ok=True)
    truth_images: list[dict[str, Any]] = []
    harmonised: dict[str, list[dict[str, Any]]] = {s: [] for s in order}
    for di, slug in enumerate(order):
        ds = specs[slug]
        root = out_dir / slug
        if root.exists():
            shutil.rmtree(root)
        (root / "images").mkdir(parents=True)
        wrng = np.random.default_rng([seed, 7, di])
        rows = []
        for r in sorted(recs[slug], key=lambda r: r.key):
            if r.problem != "missing file":
                (root / "images" / (r.key + r.ext)).write_bytes(r.bytes)
            row = _raw_row(wrng, ds, r)
            rows.append(row)
            if r.problem not in ("corrupt image", "missing file"):
                harmonised[slug].append(harmonise_row(row))
            truth_images.append(
                {
                    "slug": slug,
                    "key": r.key,
                    "file": row["file_name"],
                    "status": "quarantined" if r.problem in ("corrupt image", "missing file") else "ok",
                    "sha256": hashlib.sha256(r.bytes).hexdigest() if r.problem != "missing file" else None,
                    "diagnosis": row["diagnosis"],
                    "fitzpatrick_true": r.meta["fitz_true"],
                    "age_true": r.meta["age_true"],
                    **harmonise_row(row),
                    "copy_of": [r.copy_of.slug, r.copy_of.key] if r.copy_of else None,
                    "copy_kind": r.kind,
                    "junk": r.junk,
                }
            )
        cols = ["image_id", "file_name", "patient_id", "lesion_id", "diagnosis"]
        cols += [ds.extra_column[0]] if ds.extra_column else []
        cols += ["fitzpatrick", "age", "sex", "site", "country"]
        with open(root / "metadata.csv", "w", newline="", encoding="utf-8") as fh:
            wr = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
            wr.writeheader()
            wr.writerows(rows)
        (root / "mapping.yaml").write_text(_mapping_yaml(ds), encoding="utf-8")

    # duplicate truth: exact groups and near pairs; clusters over both
    all_recs = [r for s in order for r in recs[s]]
    ident = {id(r): i for i, r in enumerate(all_recs)}
    parent = list(range(len(all_recs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    near_pairs = []
    for r in all_recs:
        if r.copy_of is None:
            continue
        union(ident[id(r)], ident[id(r.copy_of)])
        if r.kind not in S.EXACT_KINDS:
            near_pairs.append(
                {
                    "a": [r.copy_of.slug, r.copy_of.key],
                    "b": [r.slug, r.key],
                    "transform": r.kind,
                    "cross_dataset": r.copy_of.slug != r.slug,
                    "params": r.params,
                }
            )
    clusters: dict[int, list[_Rec]] = {}
    for r in all_recs:
        clusters.setdefault(find(ident[id(r)]), []).append(r)
    # exact groups: pixel-identical members of a cluster (originals and their exact copies)
    exact_groups = []
    for members in clusters.values():
        by_px: dict[bytes, list[_Rec]] = {}
        for r in members:
            if r.pixels is not None and (r.pristine or r.kind in S.EXACT_KINDS):
                by_px.setdefault(hashlib.sha256(r.pixels.tobytes() + str(r.pixels.shape).encode()).digest(), []).append(
                    r
                )
        for g in by_px.values():
            if len(g) > 1:
                exact_groups.append(sorted([r.slug, r.key] for r in g))
    exact_groups.sort()
    dup_clusters = sorted(sorted([r.slug, r.key] for r in m) for m in clusters.values() if len(m) > 1)
    cluster_of: dict[tuple[str, str], int] = {}
    for i, c in enumerate(dup_clusters):
        for slug_key in c:
            cluster_of[tuple(slug_key)] = i
    for t in truth_images:
        t["cluster"] = cluster_of.get((t["slug"], t["key"]))

    # dataset overlap by cluster: share of A's images with a duplicate in B
    overlap = []
    members_by_cluster: dict[int, set[str]] = {}
    for t in truth_images:
        if t["cluster"] is not None:
            members_by_cluster.setdefault(t["cluster"], set()).add(t["slug"])
    for a in order:
        for b in order:
            if a == b:
                continue
            n_a = sum(1 for t in truth_images if t["slug"] == a)
            hit = sum(
                1
                for t in truth_images
                if t["slug"] == a and t["cluster"] is not None and b in members_by_cluster[t["cluster"]]
            )
            if hit:
                overlap.append({"a": a, "b": b, "n": hit, "share": hit / n_a})

    quarantine = [
        {"slug": r.slug, "key": r.key, "reason": r.problem}
        for r in all_recs
        if r.problem in ("corrupt image", "missing file")
    ]
    out_of_range = [
        {
            "slug": r.slug,
            "key": r.key,
            "field": r.problem,
            "value": int(r.raw["fitzpatrick" if r.problem == "fitzpatrick" else "age"]),
        }
        for r in all_recs
        if r.problem in ("fitzpatrick", "age")
    ]
    all_ok = [h for s in order for h in harmonised[s]]
    overall = _shares(all_ok)
    datasets = []
    for s in order:
        ds = specs[s]
        rs = recs[s]
        datasets.append(
            {
                "slug": s,
                "name": ds.name,
                "release_year": ds.release_year,
                "modality": ds.modality,
                "role": ds.role,
                "n_rows": len(rs),
                "n_originals": sum(1 for r in rs if r.copy_of is None and r.junk is None),
                "n_junk": sum(1 for r in rs if r.junk is not None),
                "n_exact_copies": sum(1 for r in rs if r.kind in S.EXACT_KINDS),
                "n_near_copies": sum(1 for r in rs if r.copy_of is not None and r.kind not in S.EXACT_KINDS),
                "n_copies_from_other_datasets": sum(1 for r in rs if r.copy_of is not None and r.copy_of.slug != s),
                **_shares(harmonised[s]),
            }
        )
    truth: dict[str, Any] = {
        "generator": "skinmap.synth",
        "seed": seed,
        "scale": scale,
        "generator_version": generator_version(),
        "n_images_total": len(all_recs),
        "n_images_ok": len(all_ok),
        "datasets": datasets,
        "novel_year": 2022,
        "novel_dataset": "afri-delta",
        "repetitive_year": 2024,
        "repetitive_dataset": "repeat-epsilon",
        "repetitive_years": [2018, 2024],
        "fitzpatrick_known_share": overall["fitzpatrick_known_share"],
        "fitzpatrick_v_vi_share_known": overall["fitzpatrick_v_vi_share_known"],
        "age_known_share": overall["age_known_share"],
        "pediatric_share_known": overall["pediatric_share_known"],
        "sex_known_share": overall["sex_known_share"],
        "sex_female_share_known": overall["sex_female_share_known"],
        "sex_male_share_known": overall["sex_male_share_known"],
        "counts_ok": {k: v for k, v in overall.items() if k.startswith("n_")},
        **_true_shares(truth_images),
        "exact_duplicate_groups": exact_groups,
        "near_duplicate_pairs": near_pairs,
        "duplicate_clusters": dup_clusters,
        "dataset_overlap_by_cluster": overlap,
        "quarantine": quarantine,
        "junk": _junk_truth(all_recs),
        "planted_void": _void_truth(all_recs) if plant_void else None,
        "out_of_range": out_of_range,
        "images": truth_images,
    }
    plant_lesion_series(out_dir, truth)  # identity without pixels (issue 14)
    plant_republished_dataset(out_dir, truth, seed=seed)
    (out_dir / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return truth


# ---------------------------------------------------------------------------
# identity without pixels: shots of one lesion, a dataset republishing ids

LESION_SERIES_DATASET = "derm-alpha"
LESION_SERIES_SHOTS = 5  # distinct images (no copies of each other) of one lesion
# A metadata-only challenge set (no image files) that republishes derm-beta's images under their ids.
REPUBLISHER = {"slug": "challenge-zeta", "name": "Challenge Zeta (synthetic, metadata only)", "release_year": 2019,
               "modality": "dermoscopic", "role": "republisher", "n_rows": 80}
REPUBLISHED_FROM = "derm-beta"  # its keys are the shared source ids that the republisher reuses


def _read_metadata(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write_metadata(path: Path, cols: list[str], rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        wr = csv.DictWriter(fh, fieldnames=cols, lineterminator="\n")
        wr.writeheader()
        wr.writerows(rows)


def plant_lesion_series(out_dir: Path, truth: dict[str, Any]) -> None:
    """Give several distinct originals of one dataset one lesion (and patient) id: shots of one lesion.

    The shots are originals in no duplicate cluster (so no copy elsewhere
    keeps their old ids); only their lesion_id and patient_id change, so no
    pixel, share or duplicate truth moves. Records ``lesion_series`` and the
    per-dataset ``images_per_lesion`` truth (over ok rows, from the files).
    """
    slug = LESION_SERIES_DATASET
    path = Path(out_dir) / slug / "metadata.csv"
    cols, rows = _read_metadata(path)
    eligible = {t["key"] for t in truth["images"]
                if t["slug"] == slug and t["status"] == "ok" and t["cluster"] is None and t["copy_of"] is None}
    shots = [r for r in rows if r["image_id"] in eligible][:LESION_SERIES_SHOTS]
    anchor = shots[0]
    for r in shots[1:]:
        r["lesion_id"], r["patient_id"] = anchor["lesion_id"], anchor["patient_id"]
    _write_metadata(path, cols, rows)
    truth["lesion_series"] = {"slug": slug, "lesion_id": anchor["lesion_id"], "patient_id": anchor["patient_id"],
                              "keys": [r["image_id"] for r in shots]}
    truth["images_per_lesion"] = _images_per_lesion(Path(out_dir), truth)


def _images_per_lesion(out_dir: Path, truth: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ok = {(t["slug"], t["key"]) for t in truth["images"] if t["status"] == "ok"}
    out = {}
    for d in truth["datasets"]:
        _, rows = _read_metadata(out_dir / d["slug"] / "metadata.csv")
        rows = [r for r in rows if (d["slug"], r["image_id"]) in ok]
        per: dict[str, dict[str, int]] = {"lesion": {}, "patient": {}}
        for r in rows:
            for kind in per:
                if r.get(f"{kind}_id"):
                    per[kind][r[f"{kind}_id"]] = per[kind].get(r[f"{kind}_id"], 0) + 1
        out[d["slug"]] = {"n_images": len(rows)}
        for kind, sizes in per.items():
            out[d["slug"]].update({
                f"n_with_{kind}_id": sum(sizes.values()), f"n_{kind}s": len(sizes),
                f"max_images_per_{kind}": max(sizes.values(), default=None),
                f"mean_images_per_{kind}": sum(sizes.values()) / len(sizes) if sizes else None,
            })
    return out


def plant_republished_dataset(out_dir: Path, truth: dict[str, Any], *, seed: int) -> None:
    """A metadata-only challenge set that republishes some of derm-beta's images under the same ids.

    derm-beta's mapping states its keys as shared source ids
    (``source_image_id: image_id``); ``challenge-zeta`` lists a sample of
    those keys with their diagnosis and no image files, as a challenge's
    ground truth does. Only identity by source id can see the overlap (no
    pixels, no vectors). Its rows carry no Fitzpatrick, age or sex, so the
    shares over known values stay as planted; the row counts (n_ok) and the
    known-shares' denominators include them. Recorded under
    ``metadata_only_datasets`` (ingested after ``datasets``) and
    ``republished``.
    """
    out_dir = Path(out_dir)
    src = out_dir / REPUBLISHED_FROM
    mapping = (src / "mapping.yaml").read_text(encoding="utf-8")
    if "source_image_id:" not in mapping:
        mapping = mapping.replace("  lesion_id: lesion_id\n", "  lesion_id: lesion_id\n  source_image_id: image_id\n")
        (src / "mapping.yaml").write_text(mapping, encoding="utf-8")
    ok = {t["key"] for t in truth["images"] if t["slug"] == REPUBLISHED_FROM and t["status"] == "ok"}
    _, rows = _read_metadata(src / "metadata.csv")
    rows = [r for r in rows if r["image_id"] in ok]
    ds = REPUBLISHER
    n = max(5, min(len(rows), int(round(ds["n_rows"] * truth["scale"]))))
    rng = np.random.default_rng([seed, 8])
    picked = sorted(int(i) for i in rng.choice(len(rows), size=n, replace=False))
    root = out_dir / ds["slug"]
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    _write_metadata(root / "metadata.csv", ["image_id", "diagnosis"],
                    [{"image_id": rows[i]["image_id"], "diagnosis": rows[i]["diagnosis"]} for i in picked])
    (root / "mapping.yaml").write_text(f"""\
# Synthetic dataset written by skinmap.synth (role: {ds["role"]}): metadata only, no image folder.
dataset:
  slug: {ds["slug"]}
  name: {ds["name"]}
  release_year: {ds["release_year"]}
  modality: {ds["modality"]}
  licence: CC0-1.0 (synthetic)
metadata: metadata.csv
columns:
  source_key: image_id
  source_image_id: image_id
  diagnosis: diagnosis
""", encoding="utf-8")
    keys = [rows[i]["image_id"] for i in picked]
    truth["metadata_only_datasets"] = [{**ds, "n_rows": n, "republishes": REPUBLISHED_FROM}]
    n_ok_before = truth["n_images_ok"]
    truth["republished"] = {"slug": ds["slug"], "from": REPUBLISHED_FROM, "keys": keys, "n": n,
                            "n_from": len(ok), "n_images_ok_before": n_ok_before}
    truth["n_images_total"] += n
    truth["n_images_ok"] = n_ok_before + n
    counts = truth["counts_ok"]
    counts["n_ok"] += n
    truth["fitzpatrick_known_share"] = counts["n_fitzpatrick_known"] / counts["n_ok"]
    truth["age_known_share"] = counts["n_age_known"] / counts["n_ok"]
    truth["sex_known_share"] = counts["n_sex_known"] / counts["n_ok"]
    # unique images by source id: every republished row is one of derm-beta's images
    truth["unique_by_source_id"] = {"n_images": counts["n_ok"], "n_unique": counts["n_ok"] - n, "n_removed": n}
