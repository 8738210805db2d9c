"""Synthetic hand radiographs whose anatomy is a known function of age (bone-age
regression without patient data).

A schematic left hand, palm down, fingers up: radius and ulna, eight carpal bones, five
metacarpals and fourteen phalanges, bright bone on darker soft tissue. Three features
of skeletal maturity, the ones radiologists read (Greulich and Pyle, 1959), change with
the *skeletal maturity* ``m`` (in years) and nothing else does:

1. **ossification centres of the carpus**: each carpal bone appears at its own age
   (capitate and hamate in the first year ... pisiform near 10) and then grows;
2. **epiphyses**: the caps at the ends of the phalanges, metacarpals, radius and ulna
   appear at 1.5-2.5 years and widen until they are as wide as the shaft;
3. **growth plates (physes)**: the dark gap between an epiphysis and its shaft narrows
   during the last three years before it fuses (distal phalanges first, near 14; the
   radius last, near 17) and is gone afterwards.

Each image's maturity is its age plus a Gaussian deviation of ``maturity_sd`` years, as
real bone age scatters around chronological age; so no method can predict the age from
the image better, on average, than ``E|age - m|`` (:attr:`RadiographDataset.noise_floor`,
``maturity_sd * sqrt(2 / pi)`` in expectation). Everything else varies at random and
independently of age: position, rotation and scale of the hand, the spread of the
fingers, exposure, the soft-tissue and bone brightness, and pixel noise. Bone lengths
are fixed: a radiograph is framed to the hand, so size says nothing about age.

:func:`maturity_features` gives the features' values for a maturity;
:func:`make_radiographs` draws a dataset with the ages, the maturities and the masks of
the regions that change with maturity (growth plates and epiphyses, carpal centres).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from cnncourse._validate import check_int

__all__ = ["CARPAL_BONES", "RadiographDataset", "make_radiographs", "maturity_features"]

#: Carpal bones: (name, centre (u, v) in hand units, full radius, age it appears).
CARPAL_BONES: tuple[tuple[str, tuple[float, float], float, float], ...] = (
    ("grande", (0.00, 0.115), 0.042, 0.3),  # capitate
    ("ganchoso", (0.085, 0.105), 0.036, 0.5),  # hamate
    ("piramidal", (0.115, 0.045), 0.030, 2.5),  # triquetrum
    ("semilunar", (0.025, 0.040), 0.032, 4.0),  # lunate
    ("trapecio", (-0.120, 0.125), 0.032, 5.0),  # trapezium
    ("trapezoide", (-0.060, 0.140), 0.027, 5.5),  # trapezoid
    ("escafoides", (-0.075, 0.060), 0.035, 6.0),  # scaphoid
    ("pisiforme", (0.150, 0.090), 0.020, 10.0),  # pisiform
)
_CARPAL_GROWTH_YEARS = 6.0  # from appearance (30 % of the full radius) to full size

# Rays: (base (u, v), angle from vertical in degrees (negative: towards the thumb),
# metacarpal length, phalanx lengths, half-width). Hand units: wrist to the tip of the
# middle finger is about 1.
_RAYS = (
    ((-0.115, 0.150), -38.0, 0.17, (0.12, 0.10), 0.024),  # thumb
    ((-0.060, 0.190), -9.0, 0.25, (0.16, 0.10, 0.075), 0.021),  # index
    ((0.000, 0.195), 0.0, 0.26, (0.17, 0.11, 0.080), 0.022),  # middle
    ((0.055, 0.185), 8.0, 0.245, (0.16, 0.105, 0.078), 0.020),  # ring
    ((0.105, 0.165), 17.0, 0.215, (0.125, 0.08, 0.070), 0.018),  # little
)
_JOINT = 0.018  # space between consecutive bones of a ray
_SOFT = 0.022  # soft tissue around the bones (hand units)
# Fusion age of each growth plate family (years of maturity).
_FUSE = {"distal": 14.0, "middle": 14.5, "proximal": 15.0, "metacarpal": 15.5,
         "ulna": 16.5, "radius": 17.0}
_GAP_MAX = 0.014  # width of an open growth plate (hand units)
_GAP_CLOSING_YEARS = 3.0  # the plate narrows during these years before fusing
_EPI_APPEAR = {"distal": 2.0, "middle": 2.5, "proximal": 1.5, "metacarpal": 1.8,
               "ulna": 6.0, "radius": 1.2}
_EPI_FULL = 9.0  # years after which every epiphysis is as wide as its shaft
_EPI_LENGTH = 0.02  # length of an epiphysis along its bone


def maturity_features(maturity: float) -> dict[str, float]:
    """The anatomical features the generator draws for a skeletal maturity (years).

    Returns
    -------
    dict
        ``carpal_centres`` (how many of the 8 have appeared), ``carpal_area`` (their
        total area as a fraction of the 8 at full size), ``epiphysis_width`` (mean width
        of the epiphyses as a fraction of their shaft's, 0 where not yet present),
        ``open_physes`` (fraction of the 21 growth plates not yet fused) and
        ``physis_gap`` (mean gap of the growth plates as a fraction of an open plate's).

    Examples
    --------
    >>> f = maturity_features(3.0)
    >>> f["carpal_centres"], f["open_physes"]
    (3.0, 1.0)
    >>> maturity_features(18.0)["physis_gap"]
    0.0
    """
    m = float(maturity)
    radii = [_carpal_radius(m, r, a) for _, _, r, a in CARPAL_BONES]
    families = _physis_families()
    widths = [_epiphysis_width(m, f) for f in families]
    gaps = [_physis_gap(m, f) / _GAP_MAX for f in families]
    return {
        "carpal_centres": float(sum(r > 0 for r in radii)),
        "carpal_area": sum(r * r for r in radii) / sum(r * r for _, _, r, _ in CARPAL_BONES),
        "epiphysis_width": float(np.mean(widths)),
        "open_physes": float(np.mean([g > 0 or m < _FUSE[f] for g, f in zip(gaps, families)])),
        "physis_gap": float(np.mean(gaps)),
    }


def _carpal_radius(m: float, full: float, appears: float) -> float:
    if m < appears:
        return 0.0
    return full * min(1.0, 0.3 + 0.7 * (m - appears) / _CARPAL_GROWTH_YEARS)


def _epiphysis_width(m: float, family: str) -> float:
    """Width of an epiphysis as a fraction of its shaft's (0 before it appears)."""
    appears = _EPI_APPEAR[family]
    if m < appears:
        return 0.0
    return min(1.0, 0.35 + 0.65 * (m - appears) / (_EPI_FULL - appears))


def _physis_gap(m: float, family: str) -> float:
    """Gap between epiphysis and shaft (hand units): open, then closing, then 0."""
    fuse = _FUSE[family]
    return _GAP_MAX * min(1.0, max(0.0, (fuse - m) / _GAP_CLOSING_YEARS))


def _physis_families() -> list[str]:
    """The family of each of the 21 growth plates drawn, in drawing order."""
    out = []
    for ray in range(5):
        out.append("metacarpal")
        names = ("proximal", "distal") if ray == 0 else ("proximal", "middle", "distal")
        out += list(names)
    return out + ["radius", "ulna"]


class RadiographDataset(torch.utils.data.Dataset):
    """Generated radiographs with their ages: ``(float image (1, H, W), age)`` pairs.

    Attributes
    ----------
    images : torch.Tensor
        ``(N, 1, S, S)`` uint8.
    ages : torch.Tensor
        ``(N,)`` float32 chronological age in years: the regression target.
    maturities : torch.Tensor
        ``(N,)`` float32 skeletal maturity (bone age) that drew the anatomy.
    masks : torch.Tensor
        ``(N, S, S)`` bool: the pixels that can change with maturity (growth plates and
        epiphyses, carpal ossification centres), the union of ``physis_masks`` and
        ``carpal_masks``.
    physis_masks, carpal_masks : torch.Tensor
        ``(N, S, S)`` bool, each kind of region on its own.
    """

    def __init__(self, images: torch.Tensor, ages: torch.Tensor, maturities: torch.Tensor,
                 physis_masks: torch.Tensor, carpal_masks: torch.Tensor, *,
                 transform: Callable[[torch.Tensor], torch.Tensor] | None = None) -> None:
        self.images = images
        self.ages = ages
        self.maturities = maturities
        self.physis_masks = physis_masks
        self.carpal_masks = carpal_masks
        self.masks = physis_masks | carpal_masks
        self.transform = transform

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.images[index].float().div(255)
        if self.transform is not None:
            x = self.transform(x)
        return x, self.ages[index]

    @property
    def noise_floor(self) -> float:
        """Mean absolute difference between age and skeletal maturity: the error of
        an oracle that reads the maturity exactly and answers it as the age."""
        return float((self.ages - self.maturities).abs().mean())

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All images as float ``(N, 1, S, S)`` in [0, 1] and the ages ``(N,)``."""
        return self.images.float().div(255), self.ages


def _segments(rng: np.random.Generator, m: float) -> tuple[list, list, list]:
    """Bones, epiphyses and age-dependent regions of one hand, in hand units.

    Returns lists of boxes ``(ax, ay, bx, by, half_width)`` (see :func:`_one_box`)
    for bone, soft tissue and the growth-plate regions, before placement.
    """
    bones, soft, physes = [], [], []
    spread = rng.normal(0.0, 3.0)  # degrees: fingers more or less open
    for ray, (base, angle, mc_len, ph_lens, half) in enumerate(_RAYS):
        theta = math.radians(angle + spread * (ray - 2) / 2)
        d = (math.sin(theta), math.cos(theta))
        # Thumb's metacarpal grows from its proximal end, the others from the distal.
        pieces = [("metacarpal", mc_len)] + list(zip(
            ("proximal", "distal") if ray == 0 else ("proximal", "middle", "distal"),
            ph_lens))
        pos = 0.0
        for k, (family, length) in enumerate(pieces):
            width = half * (0.85 if family == "distal" else 1.0)
            epi_at_start = not (family == "metacarpal" and ray > 0)
            gap = _physis_gap(m, family)
            epi_w = _epiphysis_width(m, family) * width
            start, end = pos, pos + length
            # Region the generator changes with maturity: the epiphysis at full size and
            # its open growth plate, plus a margin.
            if epi_at_start:
                shaft = (start + _EPI_LENGTH + gap, end)
                epi = (start, start + _EPI_LENGTH)
                region = (start - 0.003, start + _EPI_LENGTH + _GAP_MAX + 0.003)
            else:
                shaft = (start, end - _EPI_LENGTH - gap)
                epi = (end - _EPI_LENGTH, end)
                region = (end - _EPI_LENGTH - _GAP_MAX - 0.003, end + 0.003)
            bones.append((*_along(base, d, shaft[0]), *_along(base, d, shaft[1]), width))
            if epi_w > 0:
                bones.append((*_along(base, d, epi[0]), *_along(base, d, epi[1]), epi_w))
            physes.append((*_along(base, d, region[0]), *_along(base, d, region[1]),
                           width + 0.004))
            pos = end + _JOINT
        soft.append((*_along(base, d, -0.02), *_along(base, d, pos), half + _SOFT))
    # Radius and ulna: shafts from below the image up to the wrist, epiphyses on top.
    for family, x1, half in (("radius", -0.078, 0.05), ("ulna", 0.082, 0.036)):
        top = -0.02
        gap = _physis_gap(m, family)
        epi_w = _epiphysis_width(m, family) * half
        bones.append((x1, -0.6, x1, top - _EPI_LENGTH - gap, half))  # vertical shaft
        if epi_w > 0:
            bones.append((x1, top - _EPI_LENGTH, x1, top, epi_w))
        physes.append((x1, top - _EPI_LENGTH - _GAP_MAX - 0.003, x1, top + 0.003, half + 0.004))
    soft.append((0.0, -0.6, 0.0, 0.10, 0.15))  # forearm and wrist
    soft.append((-0.01, 0.04, 0.02, 0.36, 0.165))  # palm
    return bones, soft, physes


def _along(base: tuple[float, float], d: tuple[float, float], t: float) -> tuple[float, float]:
    return base[0] + t * d[0], base[1] + t * d[1]


def _one_box(pu: np.ndarray, pv: np.ndarray, ax: float, ay: float, bx: float, by: float,
             h: float) -> np.ndarray:
    """Signed distance from each pixel ``(pu, pv)`` to the rectangle that runs from
    ``a`` to ``b`` along its axis with half-width ``h`` (negative inside); a box of
    zero length is a disc of radius ``h``."""
    length = math.hypot(bx - ax, by - ay)
    ru, rv = pu - ax, pv - ay
    if length < 1e-9:
        return np.sqrt(ru * ru + rv * rv) - h
    ux, uy = (bx - ax) / length, (by - ay) / length
    qx = np.abs(ru * ux + rv * uy - length / 2) - length / 2
    qy = np.abs(rv * ux - ru * uy) - h
    return (np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
            + np.minimum(np.maximum(qx, qy), 0))


class _Placement:
    """A hand laid on the image: scaled by ``scale``, rotated by ``angle`` (radians) and
    centred at ``(cx, cy)`` (image units, [0, 1]); ``grid`` holds the pixel centres.

    ``u``, ``v`` are every pixel's coordinates in hand units (image rows grow downwards,
    hand ``v`` upwards) and ``pixel`` is one pixel's size in hand units.
    """

    def __init__(self, scale: float, angle: float, cx: float, cy: float,
                 grid: np.ndarray) -> None:
        self.scale, self.cx, self.cy, self.size = scale, cx, cy, len(grid)
        self.cos, self.sin = math.cos(angle), math.sin(angle)
        # Pixel (x, y) in image units back to hand units (u, v).
        x, y = grid[None, :] - cx, grid[:, None] - cy
        self.u = (self.cos * x + self.sin * y) / scale
        self.v = (self.sin * x - self.cos * y) / scale
        self.pixel = 1.0 / (self.size * scale)

    def _window(self, cap: tuple) -> tuple[int, int, int, int]:
        """Rows and columns ``(r0, r1, c0, c1)`` of the pixels around a box: its extent
        in hand units mapped forward (hand -> image: x = scale (cos u + sin v),
        y = scale (sin u - cos v)), with a margin of two pixels."""
        ax, ay, bx, by, h = cap
        s, scale, cos, sin = self.size, self.scale, self.cos, self.sin
        corners = [(pu, pv) for pu in (min(ax, bx) - h, max(ax, bx) + h)
                   for pv in (min(ay, by) - h, max(ay, by) + h)]
        cols = [(scale * (cos * pu + sin * pv) + self.cx) * s for pu, pv in corners]
        rows = [(scale * (sin * pu - cos * pv) + self.cy) * s for pu, pv in corners]
        c0, c1 = max(int(min(cols)) - 2, 0), min(int(max(cols)) + 3, s)
        r0, r1 = max(int(min(rows)) - 2, 0), min(int(max(rows)) + 3, s)
        return r0, r1, c0, c1

    def coverage(self, caps: list) -> np.ndarray:
        """Fraction of each pixel inside the union of ``caps`` (a one-pixel ramp at the
        edges), each box evaluated only on the pixels around it."""
        out = np.zeros((self.size, self.size), dtype=np.float32)
        for cap in caps:
            if cap[4] <= 0:
                continue
            r0, r1, c0, c1 = self._window(cap)
            if c0 >= c1 or r0 >= r1:
                continue
            d = _one_box(self.u[r0:r1, c0:c1], self.v[r0:r1, c0:c1], *cap)
            window = out[r0:r1, c0:c1]
            np.maximum(window, np.clip(0.5 - d / self.pixel, 0.0, 1.0), out=window)
        return out


def _draw_hand(rng: np.random.Generator, m: float, grid: np.ndarray, noise: float
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One radiograph of a hand of skeletal maturity ``m`` (years) in a random pose:
    the ``(S, S)`` uint8 image, its physis mask and its carpal-region mask."""
    bones, soft, physes = _segments(rng, m)
    carpals = [(c[0], c[1], c[0], c[1], _carpal_radius(m, r, a))
               for _, c, r, a in CARPAL_BONES]
    carpal_regions = [(c[0], c[1], c[0], c[1], r + 0.004) for _, c, r, _ in CARPAL_BONES]
    # Placement: hand units -> image units (v up -> rows down), random pose.
    scale = rng.uniform(0.78, 0.88)
    angle = math.radians(rng.uniform(-8.0, 8.0))
    cx, cy = 0.5 + rng.uniform(-0.03, 0.03), 0.78 + rng.uniform(-0.03, 0.03)
    place = _Placement(scale, angle, cx, cy, grid)
    bone = np.maximum(place.coverage(bones), place.coverage(carpals))
    tissue = place.coverage(soft)
    background = rng.uniform(0.02, 0.10) + rng.uniform(-0.04, 0.04) * (grid[:, None] - 0.5)
    image = (background + rng.uniform(0.18, 0.28) * tissue
             + rng.uniform(0.45, 0.65) * bone * (0.9 + 0.1 * tissue))
    image = image + noise * rng.standard_normal((len(grid), len(grid)))
    image = np.rint(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    return image, place.coverage(physes) > 0, place.coverage(carpal_regions) > 0


def _check_options(age_range: tuple[float, float], maturity_sd: float,
                   noise: float) -> tuple[float, float]:
    """:func:`make_radiographs`'s ranges checked; returns ``age_range``'s bounds."""
    lo, hi = age_range
    if not 0 <= lo < hi <= 25:
        raise ValueError(f"age_range must satisfy 0 <= low < high <= 25 (years), got {age_range!r}")
    if not maturity_sd >= 0:
        raise ValueError(f"maturity_sd must be >= 0 (years), got {maturity_sd!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    return lo, hi


def make_radiographs(
    n: int,
    *,
    image_size: int = 64,
    seed: int = 0,
    age_range: tuple[float, float] = (1.0, 17.0),
    maturity_sd: float = 0.5,
    noise: float = 0.03,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> RadiographDataset:
    """Draw ``n`` synthetic hand radiographs with ages uniform in ``age_range``.

    Parameters
    ----------
    n : int
        Number of images.
    image_size : int, optional
        Height and width in pixels (220 for BoNET's input; from 32 up).
    seed : int, optional
        Seed of NumPy's generator: the same arguments give the same images. Use one
        seed for training data and another for validation data.
    age_range : (float, float), optional
        Range of chronological ages in years.
    maturity_sd : float, optional
        Standard deviation (years) of skeletal maturity around the age; 0 makes the
        anatomy an exact function of the age.
    noise : float, optional
        Standard deviation of the pixel noise (images in [0, 1]).
    transform : callable, optional
        Applied to each float image when it is served.

    Returns
    -------
    RadiographDataset
        Images, ages, maturities and the masks of the regions that change with age.

    Examples
    --------
    >>> ds = make_radiographs(4, image_size=32, seed=0)
    >>> x, age = ds[0]
    >>> tuple(x.shape), x.dtype, 1.0 <= float(age) <= 17.0
    ((1, 32, 32), torch.float32, True)
    >>> tuple(ds.masks.shape), bool(ds.masks.any())
    ((4, 32, 32), True)
    """
    n = check_int("n", n, minimum=1)
    image_size = check_int("image_size", image_size, minimum=32)
    seed = check_int("seed", seed, minimum=0)
    lo, hi = _check_options(age_range, maturity_sd, noise)

    rng = np.random.default_rng(seed)
    ages = rng.uniform(lo, hi, size=n)
    maturities = ages + maturity_sd * rng.standard_normal(n)
    s = image_size
    images = np.empty((n, s, s), dtype=np.uint8)
    physis_masks = np.empty((n, s, s), dtype=bool)
    carpal_masks = np.empty((n, s, s), dtype=bool)
    grid = (np.arange(s, dtype=np.float32) + 0.5) / s  # pixel centres in [0, 1]

    for i in range(n):
        images[i], physis_masks[i], carpal_masks[i] = _draw_hand(
            rng, float(maturities[i]), grid, noise)

    return RadiographDataset(
        torch.from_numpy(images)[:, None],
        torch.from_numpy(ages.astype(np.float32)),
        torch.from_numpy(maturities.astype(np.float32)),
        torch.from_numpy(physis_masks),
        torch.from_numpy(carpal_masks),
        transform=transform,
    )
