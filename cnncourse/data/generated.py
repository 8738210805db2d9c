"""Generated images: coloured geometric shapes on textured, noisy backgrounds.

Seeded, any image size (227x227 included), and every image comes with its class, the
object's bounding box and its pixel mask, so a later chapter can check where an
explanation method is looking. The textured background and the colours are shared with
the drawn pets of :mod:`cnncourse.pets`.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np
import torch

from cnncourse._validate import check_int
from cnncourse.data.memory import TensorImageDataset

__all__ = ["SHAPE_CLASSES", "ShapesDataset", "make_shapes"]

#: Classes of the generated dataset, in label order (Spanish: they appear in the book).
SHAPE_CLASSES: tuple[str, ...] = ("círculo", "cuadrado", "triángulo", "cruz")

class ShapesDataset(TensorImageDataset):
    """The generated shapes: images, labels, and where each object is.

    Attributes
    ----------
    boxes : torch.Tensor
        ``(N, 4)`` int64 tight bounding boxes ``(x0, y0, x1, y1)`` of each object's
        mask, in pixels, ``x1`` and ``y1`` exclusive (``image[y0:y1, x0:x1]`` holds it).
    masks : torch.Tensor
        ``(N, H, W)`` bool, True on the object's pixels.
    centres : torch.Tensor
        ``(N, 2)`` float ``(x, y)`` centre each shape was drawn around.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        *,
        classes: Sequence[str],
        boxes: torch.Tensor,
        masks: torch.Tensor,
        centres: torch.Tensor,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        super().__init__(images, labels, classes=classes, transform=transform)
        self.boxes = boxes
        self.masks = masks
        self.centres = centres

def _shape_mask(kind: str, xx: np.ndarray, yy: np.ndarray, radius: float,
                angle: float) -> np.ndarray:
    """Pixels of a shape of circumradius ``radius`` centred at 0, rotated by ``angle``.

    ``xx``, ``yy`` hold pixel-centre coordinates relative to the shape's centre.
    """
    c, s = math.cos(angle), math.sin(angle)
    u = c * xx + s * yy  # coordinates in the shape's own (rotated) frame
    v = -s * xx + c * yy
    if kind == "círculo":
        return u * u + v * v <= radius * radius
    if kind == "cuadrado":
        half = radius / math.sqrt(2)
        return (np.abs(u) <= half) & (np.abs(v) <= half)
    if kind == "triángulo":
        # Equilateral: inside the three half-planes whose edges are at distance r/2
        # from the centre, with outward normals at 90, 210 and 330 degrees.
        inside = np.ones_like(u, dtype=bool)
        for k in range(3):
            theta = math.pi / 2 + k * 2 * math.pi / 3
            inside &= u * math.cos(theta) + v * math.sin(theta) <= radius / 2
        return inside
    if kind == "cruz":
        arm, width = radius, radius / 3
        return ((np.abs(u) <= arm) & (np.abs(v) <= width)) | (
            (np.abs(v) <= arm) & (np.abs(u) <= width)
        )
    raise ValueError(f"unknown shape {kind!r}; valid shapes: {SHAPE_CLASSES}")


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i])


def _interpolation_matrix(size: int, knots: int) -> np.ndarray:
    """``(size, knots)`` weights that smoothly interpolate ``knots`` values over
    ``size`` pixels (a raised-cosine partition of unity)."""
    position = (np.arange(size, dtype=np.float32) + 0.5) / size * (knots - 1)
    distance = np.abs(position[:, None] - np.arange(knots, dtype=np.float32)[None, :])
    weights = np.where(distance < 1, 0.5 + 0.5 * np.cos(np.pi * distance), 0.0)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def _background(rng: np.random.Generator, size: int, smooth: np.ndarray) -> np.ndarray:
    """A textured ``(size, size, 3)`` background in [0, 1]: smooth colour blobs plus
    faint stripes, dim and desaturated so that objects of any hue stand out.

    ``smooth`` is :func:`_interpolation_matrix` ``(size, 4)``.
    """
    grid = rng.uniform(0.0, 1.0, size=(3, 4, 4)).astype(np.float32)
    blobs = (smooth @ grid @ smooth.T).transpose(1, 2, 0)  # (3, 4, 4) -> (size, size, 3)
    grey = blobs.mean(axis=2, keepdims=True)
    blobs = grey + 0.4 * (blobs - grey)  # desaturate
    # Stripes sin(a x + b y) = sin(a x) cos(b y) + cos(a x) sin(b y): two outer products.
    period = rng.uniform(6.0, 20.0)
    angle = rng.uniform(0.0, math.pi)
    t = np.arange(size, dtype=np.float32) * np.float32(2 * math.pi / period)
    ax, by = t * np.float32(math.cos(angle)), t * np.float32(math.sin(angle))
    stripes = np.outer(np.cos(by), np.sin(ax)) + np.outer(np.sin(by), np.cos(ax))
    return 0.15 + 0.35 * blobs + 0.05 * stripes[..., None]


def _check_options(classes: Sequence[str], size_range: tuple[float, float], jitter: float,
                   noise: float, image_size: int) -> tuple[str, ...]:
    """:func:`make_shapes`'s options checked; returns ``classes`` as a tuple."""
    classes = tuple(classes)
    if not classes:
        raise ValueError("classes must name at least one shape, got an empty sequence")
    unknown = [c for c in classes if c not in SHAPE_CLASSES]
    if unknown or len(set(classes)) != len(classes):
        raise ValueError(
            f"classes must be distinct names from {SHAPE_CLASSES}, got {classes!r}"
        )
    lo, hi = size_range
    if not 0.05 <= lo <= hi <= 0.95:
        raise ValueError(
            f"size_range must satisfy 0.05 <= low <= high <= 0.95 (fractions of the "
            f"image), got {size_range!r}"
        )
    if lo * image_size < 4:
        raise ValueError(
            f"size_range={size_range!r} at image_size={image_size} makes shapes smaller than "
            "4 pixels across; raise the lower bound or the image size"
        )
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"jitter must be in [0, 1], got {jitter!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    return classes


def _draw_shape(rng: np.random.Generator, kind: str, pixel: np.ndarray, smooth: np.ndarray,
                size_range: tuple[float, float], jitter: float, noise: float
                ) -> tuple[np.ndarray, np.ndarray, tuple[float, float]]:
    """One image of :func:`make_shapes`: a shape of a random hue, size, position and
    rotation on a textured background, with noise.

    ``pixel`` holds the pixel-centre coordinates (0.5, 1.5, ...) and ``smooth`` is
    :func:`_interpolation_matrix` ``(size, 4)``. Returns the ``(S, S, 3)`` uint8 image,
    the ``(S, S)`` mask of the shape and the ``(x, y)`` centre it was drawn around.
    """
    image_size = len(pixel)
    lo, hi = size_range
    image = _background(rng, image_size, smooth)
    radius = rng.uniform(lo, hi) * image_size / 2
    room = image_size / 2 - radius - 1  # how far the centre can move and stay inside
    cx, cy = image_size / 2 + jitter * room * rng.uniform(-1.0, 1.0, size=2)
    angle = rng.uniform(0, 2 * math.pi)
    mask = _shape_mask(kind, pixel[None, :] - cx, pixel[:, None] - cy, radius, angle)
    colour = _hsv_to_rgb(rng.uniform(), rng.uniform(0.6, 1.0), rng.uniform(0.75, 1.0))
    image[mask] = colour
    image += np.float32(noise) * rng.standard_normal(image.shape, dtype=np.float32)
    return np.rint(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8), mask, (cx, cy)


def make_shapes(
    n: int,
    *,
    image_size: int = 64,
    classes: Sequence[str] = SHAPE_CLASSES,
    seed: int = 0,
    size_range: tuple[float, float] = (0.25, 0.5),
    jitter: float = 1.0,
    noise: float = 0.05,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> ShapesDataset:
    """Generate ``n`` images of one coloured shape each on a textured, noisy background.

    Classes are balanced (``n // len(classes)`` each, the remainder to the first ones)
    and shuffled. Each shape gets a random hue (so colour says nothing about the
    class), size, position (always fully inside the image) and rotation; the
    background is a smooth dim colour texture with stripes, and Gaussian noise covers
    everything. The same arguments give the same images (NumPy's seeded generator).

    Parameters
    ----------
    n : int
        Number of images.
    image_size : int, optional
        Height and width in pixels (227 for the paper's AlexNet).
    classes : sequence of str, optional
        Which shapes, a subset of :data:`SHAPE_CLASSES`; the label is the position in
        this sequence.
    seed : int, optional
        Seed of the generator: different seeds give independent samples, so use one
        seed for training data and another for validation data.
    size_range : (float, float), optional
        Range of the shape's circumscribed diameter, as a fraction of ``image_size``.
    jitter : float, optional
        How far from the image centre a shape may be, as a fraction of the room it has
        to move: 0 always centres it, 1 puts it anywhere it fits.
    noise : float, optional
        Standard deviation of the pixel noise (images are in [0, 1]).
    transform : callable, optional
        Applied to each float image when it is served (augmentation, normalisation).

    Returns
    -------
    ShapesDataset
        ``images`` ``(n, 3, S, S)`` uint8, ``labels``, ``boxes``, ``masks``,
        ``centres`` and ``classes``.

    Examples
    --------
    >>> ds = make_shapes(8, image_size=32, seed=0)
    >>> len(ds), tuple(ds.images.shape), ds.classes[int(ds.labels[0])] in SHAPE_CLASSES
    (8, (8, 3, 32, 32), True)
    >>> x0, y0, x1, y1 = ds.boxes[0].tolist()
    >>> bool(ds.masks[0, y0:y1, x0:x1].any()), int(ds.masks[0].sum()) > 0
    (True, True)
    """
    n = check_int("n", n, minimum=1)
    image_size = check_int("image_size", image_size, minimum=16)
    seed = check_int("seed", seed, minimum=0)
    classes = _check_options(classes, size_range, jitter, noise, image_size)

    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(classes)
    rng.shuffle(labels)
    images = np.empty((n, image_size, image_size, 3), dtype=np.uint8)
    masks = np.empty((n, image_size, image_size), dtype=bool)
    boxes = np.empty((n, 4), dtype=np.int64)
    centres = np.empty((n, 2), dtype=np.float64)
    pixel = np.arange(image_size, dtype=np.float32) + 0.5  # pixel centres
    smooth = _interpolation_matrix(image_size, 4)

    for i in range(n):
        image, mask, centre = _draw_shape(rng, classes[labels[i]], pixel, smooth,
                                          size_range, jitter, noise)
        images[i] = image
        rows, cols = np.nonzero(mask)
        masks[i] = mask
        boxes[i] = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
        centres[i] = centre

    return ShapesDataset(
        torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(),
        torch.from_numpy(labels.astype(np.int64)),
        classes=classes,
        boxes=torch.from_numpy(boxes),
        masks=torch.from_numpy(masks),
        centres=torch.from_numpy(centres),
        transform=transform,
    )
