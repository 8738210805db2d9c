"""Generated images of printed characters: many classes of one visual domain.

Letters and digits drawn with the fonts that install with Matplotlib (DejaVu, STIX and
Computer Modern), each at a random font, angle, slant, size, position, contrast and
noise. It is the offline stand-in for a large original task in the transfer-learning
chapter: pretrain on 26 letters, then move to the 10 digits (a new task of the same
domain) or to :func:`~cnncourse.data.make_shapes` (a different one).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from cnncourse._validate import check_int
from cnncourse.data.memory import TensorImageDataset

__all__ = ["GLYPH_FONTS", "make_glyphs"]

#: The Matplotlib fonts used, by file name (``mpl-data/fonts/ttf``): sans, mono and serif
#: DejaVu, STIX and Computer Modern, in upright, bold and slanted styles.
GLYPH_FONTS: tuple[str, ...] = (
    "DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
    "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf",
    "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-Italic.ttf",
    "STIXGeneral.ttf", "STIXGeneralBol.ttf", "STIXGeneralItalic.ttf",
    "cmr10.ttf", "cmss10.ttf", "cmtt10.ttf", "cmb10.ttf", "cmti10.ttf",
)

_CANVAS = 48      # pixels of the square a glyph is rendered on, before the transform
_POINTS = 36      # rendering size (points at 72 dpi = pixels): a capital is about 30 px


def _font_path(name: str) -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name


@functools.lru_cache(maxsize=4096)
def _bitmap(font: str, character: str) -> np.ndarray:
    """``character`` rendered in ``font``, centred on a ``_CANVAS`` square, in [0, 1]."""
    from matplotlib.ft2font import FT2Font

    face = FT2Font(str(_font_path(font)))
    if face.get_char_index(ord(character)) == 0:
        raise ValueError(f"the font {font} has no glyph for {character!r}")
    face.set_size(_POINTS, 72)
    face.set_text(character, 0.0)
    face.draw_glyphs_to_bitmap(antialiased=True)
    glyph = np.asarray(face.get_image(), dtype=np.float32) / 255
    height, width = glyph.shape
    if height > _CANVAS or width > _CANVAS:
        raise ValueError(f"{character!r} in {font} is {width}x{height} px, larger than the "
                         f"{_CANVAS}x{_CANVAS} canvas")
    canvas = np.zeros((_CANVAS, _CANVAS), dtype=np.float32)
    top, left = (_CANVAS - height) // 2, (_CANVAS - width) // 2
    canvas[top:top + height, left:left + width] = glyph
    return canvas


def _check_characters(characters: Sequence[str]) -> tuple[str, ...]:
    characters = tuple(characters)
    if len(characters) < 2:
        raise ValueError(f"characters must name at least two classes, got {characters!r}")
    if any(not isinstance(c, str) or len(c) != 1 or c.isspace() for c in characters):
        raise ValueError(f"characters must be single visible characters, got {characters!r}")
    if len(set(characters)) != len(characters):
        raise ValueError(f"characters must be distinct, got {characters!r}")
    return characters


def _affine(rng: np.random.Generator, n: int, rotation: float, shear: float, shift: float,
            scale_range: tuple[float, float]) -> torch.Tensor:
    """``(n, 2, 3)`` sampling matrices of random rotations, slants, sizes and shifts."""
    angle = np.deg2rad(rng.uniform(-rotation, rotation, n))
    scale = 1 / rng.uniform(*scale_range, n)          # the grid shrinks what it samples
    slant = rng.uniform(-shear, shear, n)
    cos, sin = np.cos(angle), np.sin(angle)
    theta = np.zeros((n, 2, 3), dtype=np.float32)
    theta[:, 0, 0] = scale * cos
    theta[:, 0, 1] = scale * (slant - sin)
    theta[:, 1, 0] = scale * sin
    theta[:, 1, 1] = scale * cos
    theta[:, :, 2] = rng.uniform(-shift, shift, (n, 2))
    return torch.from_numpy(theta)


def make_glyphs(
    n: int,
    characters: Sequence[str],
    *,
    image_size: int = 16,
    seed: int = 0,
    fonts: Sequence[str] = GLYPH_FONTS,
    rotation: float = 8.0,
    shear: float = 0.15,
    shift: float = 0.12,
    scale_range: tuple[float, float] = (0.8, 1.1),
    noise: float = 0.05,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> TensorImageDataset:
    """Generate ``n`` grey images of printed characters, one class per character.

    Classes are balanced (``n // len(characters)`` each, the remainder to the first ones)
    and shuffled. Each image draws its font from ``fonts``, a rotation in
    ``[-rotation, rotation]`` degrees, a horizontal slant in ``[-shear, shear]``, a size
    factor in ``scale_range``, a shift of up to ``shift`` (fraction of half the image) in
    each direction, a dark background and a light stroke of random grey levels, and
    Gaussian noise. The same arguments give the same images.

    Parameters
    ----------
    n : int
        Number of images.
    characters : sequence of str
        One single character per class (``"ABC"`` or ``["A", "B", "C"]``); the label is
        the position in this sequence. Every font must have a glyph for each.
    image_size : int, optional
        Height and width in pixels (8 to 48).
    seed : int, optional
        Seed of the generator: different seeds give independent samples.
    fonts : sequence of str, optional
        Font file names from :data:`GLYPH_FONTS` (Matplotlib's bundled fonts).
    rotation, shear, shift, noise : float, optional
        Ranges of the random transformation and the noise's standard deviation (images
        are in [0, 1] before the noise; the result is clipped to [0, 1]).
    scale_range : (float, float), optional
        Size of the character relative to its rendering (a capital at 1.0 fills about
        two thirds of the image).
    transform : callable, optional
        Applied to each float image when it is served.

    Returns
    -------
    TensorImageDataset
        ``images`` ``(n, 1, S, S)`` uint8, ``labels`` and ``classes`` (the characters).

    Examples
    --------
    >>> ds = make_glyphs(6, "AB", seed=0)
    >>> tuple(ds.images.shape), ds.classes, ds.labels.bincount().tolist()
    ((6, 1, 16, 16), ('A', 'B'), [3, 3])
    """
    n = check_int("n", n, minimum=1)
    image_size = check_int("image_size", image_size, minimum=8)
    if image_size > _CANVAS:
        raise ValueError(f"image_size must be at most {_CANVAS} (the glyphs are rendered on a "
                         f"{_CANVAS}x{_CANVAS} canvas), got {image_size}")
    seed = check_int("seed", seed, minimum=0)
    characters = _check_characters(characters)
    fonts = tuple(fonts)
    unknown = sorted(set(fonts) - set(GLYPH_FONTS))
    if not fonts or unknown:
        raise ValueError(f"fonts must be a non-empty selection of GLYPH_FONTS; unknown: {unknown}")
    low, high = scale_range
    if not 0 < low <= high:
        raise ValueError(f"scale_range must be (low, high) with 0 < low <= high, got {scale_range!r}")
    if min(rotation, shear, shift, noise) < 0:
        raise ValueError("rotation, shear, shift and noise must not be negative")

    rng = np.random.default_rng(seed)
    labels = np.arange(n) % len(characters)
    rng.shuffle(labels)
    chosen = rng.integers(0, len(fonts), n)
    flat = np.stack([_bitmap(fonts[f], characters[c]) for f, c in zip(chosen, labels)])
    theta = _affine(rng, n, rotation, shear, shift, (low, high))
    # sample at twice the size, then average 2x2 blocks: a cheap anti-aliasing
    grid = F.affine_grid(theta, [n, 1, 2 * image_size, 2 * image_size], align_corners=False)
    ink = F.avg_pool2d(F.grid_sample(torch.from_numpy(flat)[:, None], grid, align_corners=False), 2)
    background = torch.from_numpy(rng.uniform(0.0, 0.3, (n, 1, 1, 1)).astype(np.float32))
    stroke = torch.from_numpy(rng.uniform(0.6, 1.0, (n, 1, 1, 1)).astype(np.float32))
    images = background + (stroke - background) * ink
    images += noise * torch.from_numpy(rng.standard_normal(images.shape).astype(np.float32))
    images = images.clamp(0, 1).mul(255).round().to(torch.uint8)
    return TensorImageDataset(images, torch.from_numpy(labels.astype(np.int64)),
                              classes=characters, transform=transform)
