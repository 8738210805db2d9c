"""Datasets and augmentations for the training chapters.

Three kinds of data, from most to least available:

1. **Generated** (:func:`make_shapes`): coloured geometric shapes on textured, noisy
   backgrounds. Seeded, any image size (227x227 included), and every image comes with
   its class, the object's bounding box and its pixel mask, so a later chapter can check
   where an explanation method is looking.
2. **Installed with packages**: real photos from :mod:`skimage.data`
   (:func:`sample_images`) and the 1,797 real 8x8 handwritten digits of scikit-learn
   (:func:`digits_dataset`).
3. **Downloaded** (:func:`imagenette`, :func:`cifar10`, :func:`flowers102`) or on disk
   (:func:`image_folder`): the real torchvision loaders. Without a network they raise a
   ``RuntimeError`` that says where to put the files by hand and which offline dataset
   to use instead.

The case studies add synthetic hand radiographs for bone-age regression
(:func:`make_radiographs`, written in :mod:`cnncourse.radiographs` and available here), and
the cats-vs-dogs data of the Keras example in :mod:`cnncourse.pets`
(``oxford_pets_binary``, ``cats_dogs_folder`` and a drawn offline stand-in,
``make_cartoon_pets``), which builds on the loaders of this module.

The augmentations of the AlexNet paper (random crops, horizontal mirroring and the
PCA colour shift, :class:`PCALighting`) are torchvision ``v2`` transforms; see
:func:`alexnet_transforms`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from cnncourse._validate import check_int
from cnncourse.radiographs import RadiographDataset, make_radiographs

__all__ = [
    "SHAPE_CLASSES",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "TensorImageDataset",
    "make_shapes",
    "digits_dataset",
    "split_dataset",
    "sample_images",
    "channel_stats",
    "denormalize",
    "PCALighting",
    "pca_colour_basis",
    "alexnet_transforms",
    "data_root",
    "imagenette",
    "cifar10",
    "flowers102",
    "image_folder",
    "write_image_folder",
    # from cnncourse.radiographs:
    "make_radiographs",
    "RadiographDataset",
]


#: Classes of the generated dataset, in label order (Spanish: they appear in the book).
SHAPE_CLASSES: tuple[str, ...] = ("círculo", "cuadrado", "triángulo", "cruz")

#: Per-channel mean and standard deviation of ImageNet's training images (RGB, in [0, 1]).
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)

# Eigenvalues and eigenvectors (columns) of the RGB covariance of ImageNet pixels in
# [0, 1], as used by the fb.resnet.torch and timm implementations of AlexNet's colour
# augmentation.
_IMAGENET_EIGVAL = (0.2175, 0.0188, 0.0045)
_IMAGENET_EIGVEC = (
    (-0.5675, 0.7192, 0.4009),
    (-0.5808, -0.0045, -0.8140),
    (-0.5836, -0.6948, 0.4203),
)


# --------------------------------------------------------------------------------------
# An in-memory image dataset
# --------------------------------------------------------------------------------------


class TensorImageDataset(torch.utils.data.Dataset):
    """Images and labels held in memory, served as ``(float image, label)`` pairs.

    ``images`` is an ``(N, C, H, W)`` tensor, ``uint8`` in [0, 255] or floating point in
    [0, 1]; each item is converted to ``float32`` in [0, 1] and then passed through
    ``transform`` (any callable on a ``(C, H, W)`` tensor, e.g. torchvision ``v2``
    transforms).

    Examples
    --------
    >>> ds = TensorImageDataset(torch.zeros(2, 3, 4, 4, dtype=torch.uint8),
    ...                         torch.tensor([0, 1]), classes=("a", "b"))
    >>> x, y = ds[1]
    >>> x.dtype, tuple(x.shape), y
    (torch.float32, (3, 4, 4), 1)
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        *,
        classes: Sequence[str],
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        if not isinstance(images, torch.Tensor) or images.ndim != 4:
            raise ValueError(
                "images must be a tensor of shape (N, C, H, W), got "
                f"{getattr(images, 'shape', type(images).__name__)}"
            )
        labels = torch.as_tensor(labels, dtype=torch.int64)
        if labels.shape != (images.shape[0],):
            raise ValueError(
                f"labels must have shape ({images.shape[0]},), one per image, got "
                f"{tuple(labels.shape)}"
            )
        if len(labels) and (labels.min() < 0 or labels.max() >= len(classes)):
            raise ValueError(
                f"labels must lie in [0, {len(classes) - 1}] for {len(classes)} classes, "
                f"got values from {int(labels.min())} to {int(labels.max())}"
            )
        self.images = images
        self.labels = labels
        self.classes = tuple(classes)
        self.transform = transform

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        x = self.images[index]
        x = x.float().div(255) if x.dtype == torch.uint8 else x.float()
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.labels[index])

    def image(self, index: int) -> np.ndarray:
        """Image ``index`` as an ``(H, W, C)`` array for plotting (no transform)."""
        x = self.images[index]
        x = x.float().div(255) if x.dtype == torch.uint8 else x.float()
        array = x.permute(1, 2, 0).numpy()
        return array[..., 0] if array.shape[2] == 1 else array


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


# --------------------------------------------------------------------------------------
# Generated shapes
# --------------------------------------------------------------------------------------


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
        image = _background(rng, image_size, smooth)
        radius = rng.uniform(lo, hi) * image_size / 2
        room = image_size / 2 - radius - 1  # how far the centre can move and stay inside
        cx, cy = image_size / 2 + jitter * room * rng.uniform(-1.0, 1.0, size=2)
        angle = rng.uniform(0, 2 * math.pi)
        mask = _shape_mask(classes[labels[i]], pixel[None, :] - cx, pixel[:, None] - cy,
                           radius, angle)
        colour = _hsv_to_rgb(rng.uniform(), rng.uniform(0.6, 1.0), rng.uniform(0.75, 1.0))
        image[mask] = colour
        image += np.float32(noise) * rng.standard_normal(image.shape, dtype=np.float32)
        images[i] = np.rint(np.clip(image, 0.0, 1.0) * 255)
        rows, cols = np.nonzero(mask)
        masks[i] = mask
        boxes[i] = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
        centres[i] = (cx, cy)

    return ShapesDataset(
        torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(),
        torch.from_numpy(labels.astype(np.int64)),
        classes=classes,
        boxes=torch.from_numpy(boxes),
        masks=torch.from_numpy(masks),
        centres=torch.from_numpy(centres),
        transform=transform,
    )


# --------------------------------------------------------------------------------------
# Data that installs with packages
# --------------------------------------------------------------------------------------


def digits_dataset(
    *, transform: Callable[[torch.Tensor], torch.Tensor] | None = None
) -> TensorImageDataset:
    """The 1,797 real 8x8 handwritten digits of scikit-learn, as ``(1, 8, 8)`` images.

    The original grey levels 0-16 are scaled to [0, 1]; classes are ``'0'`` ... ``'9'``.

    Examples
    --------
    >>> ds = digits_dataset()
    >>> len(ds), tuple(ds[0][0].shape), ds[0][1]
    (1797, (1, 8, 8), 0)
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.from_numpy(digits.images.astype(np.float32) / 16.0).unsqueeze(1)
    labels = torch.from_numpy(digits.target.astype(np.int64))
    return TensorImageDataset(images, labels, classes=[str(d) for d in range(10)],
                              transform=transform)


def split_dataset(
    dataset: torch.utils.data.Dataset, fractions: Sequence[float], *, seed: int = 0
) -> list[torch.utils.data.Subset]:
    """Split a dataset at random into parts of the given fractions (which sum to 1).

    Examples
    --------
    >>> train, val = split_dataset(digits_dataset(), (0.8, 0.2), seed=0)
    >>> len(train), len(val)
    (1438, 359)
    """
    fractions = [float(f) for f in fractions]
    if len(fractions) < 2 or min(fractions) <= 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(
            f"fractions must be two or more positive numbers that sum to 1, got {fractions}"
        )
    generator = torch.Generator().manual_seed(check_int("seed", seed))
    return torch.utils.data.random_split(dataset, fractions, generator=generator)


_SAMPLE_IMAGES = ("astronaut", "coffee", "chelsea", "rocket")


def sample_images(names: Sequence[str] = _SAMPLE_IMAGES) -> dict[str, np.ndarray]:
    """Real colour photos that ship with scikit-image, as ``(H, W, 3)`` uint8 arrays.

    Examples
    --------
    >>> images = sample_images(["chelsea"])
    >>> images["chelsea"].shape, images["chelsea"].dtype
    ((300, 451, 3), dtype('uint8'))
    """
    import skimage.data

    out = {}
    for name in names:
        loader = getattr(skimage.data, str(name), None)
        if loader is None or not callable(loader):
            raise ValueError(
                f"names contains {name!r}, which is not an image of skimage.data; "
                f"offline colour photos include {_SAMPLE_IMAGES}"
            )
        image = np.asarray(loader())
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"skimage.data.{name}() is not an RGB photo (shape {image.shape})")
        out[str(name)] = image
    return out


def channel_stats(dataset: torch.utils.data.Dataset, *, max_items: int = 1000
                  ) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and standard deviation of a dataset's images (first
    ``max_items``), e.g. for ``v2.Normalize`` or AlexNet's "zero-centre" input.

    Examples
    --------
    >>> mean, std = channel_stats(digits_dataset())
    >>> round(mean[0], 3), round(std[0], 3)
    (0.307, 0.376)
    """
    count = min(len(dataset), check_int("max_items", max_items, minimum=1))
    batch = torch.stack([dataset[i][0] for i in range(count)])  # (N, C, H, W)
    dims = (0, 2, 3)
    mean = batch.mean(dim=dims)
    std = batch.std(dim=dims)
    return tuple(float(m) for m in mean), tuple(float(s) for s in std)


def denormalize(
    x: torch.Tensor,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> torch.Tensor:
    """Undo ``v2.Normalize(mean, std)``: ``x * std + mean`` per channel, clipped to
    [0, 1], for showing a normalised image.

    ``x`` is ``(C, H, W)`` or ``(N, C, H, W)``; the result has the same shape (use
    ``.permute(1, 2, 0)`` for a ``(H, W, C)`` image to plot).

    Examples
    --------
    >>> from torchvision.transforms import v2
    >>> image = torch.rand(3, 4, 4)
    >>> x = v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)(image)
    >>> torch.allclose(denormalize(x), image, atol=1e-6)
    True
    """
    if not isinstance(x, torch.Tensor) or x.ndim not in (3, 4):
        raise TypeError(f"x must be a (C, H, W) or (N, C, H, W) tensor, got "
                        f"{getattr(x, 'shape', type(x).__name__)}")
    channels = x.shape[-3]
    if len(mean) != channels or len(std) != channels:
        raise ValueError(f"mean and std need one value per channel ({channels}), got "
                         f"{len(mean)} and {len(std)}")
    shape = (channels, 1, 1)
    mean_t = torch.as_tensor(mean, dtype=x.dtype, device=x.device).reshape(shape)
    std_t = torch.as_tensor(std, dtype=x.dtype, device=x.device).reshape(shape)
    return (x * std_t + mean_t).clamp(0, 1)


# --------------------------------------------------------------------------------------
# Augmentations
# --------------------------------------------------------------------------------------


def pca_colour_basis(images: np.ndarray | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenvalues (descending) and eigenvectors (columns) of the 3x3 covariance of the
    RGB values of all pixels of ``images`` (``(..., 3)`` channels-last, values in [0, 1]).

    This is the principal component analysis behind AlexNet's colour augmentation.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pixels = rng.normal(size=(10000, 3)) * [0.3, 0.1, 0.01]
    >>> eigval, eigvec = pca_colour_basis(pixels)
    >>> [round(v, 2) for v in eigval.tolist()]  # the variances 0.3**2, 0.1**2, 0.01**2
    [0.09, 0.01, 0.0]
    """
    pixels = torch.as_tensor(np.asarray(images), dtype=torch.float64).reshape(-1, 3)
    if pixels.shape[0] < 2:
        raise ValueError("images must contain at least two pixels with 3 channels each")
    cov = torch.cov(pixels.T)
    eigval, eigvec = torch.linalg.eigh(cov)  # ascending
    order = torch.argsort(eigval, descending=True)
    return eigval[order].float(), eigvec[:, order].float()


class PCALighting(torch.nn.Module):
    """AlexNet's colour augmentation ("fancy PCA"): add a random multiple of the
    principal components of the RGB pixel values to every pixel of an image.

    For each image draw ``alpha_i ~ N(0, alpha_std)`` and add
    ``sum_i alpha_i * eigval_i * eigvec_i`` to each pixel: the intensity and colour of
    the illumination change, the object does not. Works on float ``(3, H, W)`` (or
    ``(N, 3, H, W)``) tensors in [0, 1]; the defaults are ImageNet's components.

    Parameters
    ----------
    alpha_std : float, optional
        Standard deviation of the random coefficients (0.1 in the paper).
    eigval, eigvec : tensor, optional
        Components to use, e.g. from :func:`pca_colour_basis` on your own data.
    clamp : bool, optional
        Clip the result to [0, 1].

    Examples
    --------
    >>> _ = torch.manual_seed(0)
    >>> x = torch.full((3, 4, 4), 0.5)
    >>> y = PCALighting(0.1)(x)
    >>> y.shape == x.shape, bool((y - x).abs().max() > 0)
    (True, True)
    >>> bool(torch.allclose(y[:, 0, 0], y[:, 3, 3]))  # the same shift for every pixel
    True
    """

    def __init__(
        self,
        alpha_std: float = 0.1,
        *,
        eigval: torch.Tensor | Sequence[float] = _IMAGENET_EIGVAL,
        eigvec: torch.Tensor | Sequence[Sequence[float]] = _IMAGENET_EIGVEC,
        clamp: bool = True,
    ) -> None:
        super().__init__()
        if not alpha_std >= 0:
            raise ValueError(f"alpha_std must be >= 0, got {alpha_std!r}")
        self.alpha_std = float(alpha_std)
        self.clamp = clamp
        self.register_buffer("eigval", torch.as_tensor(eigval, dtype=torch.float32))
        self.register_buffer("eigvec", torch.as_tensor(eigvec, dtype=torch.float32))
        if self.eigval.shape != (3,) or self.eigvec.shape != (3, 3):
            raise ValueError(
                f"eigval must have shape (3,) and eigvec (3, 3), got "
                f"{tuple(self.eigval.shape)} and {tuple(self.eigvec.shape)}"
            )

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        if image.shape[-3] != 3:
            raise ValueError(f"image must have 3 channels in dim -3, got shape {tuple(image.shape)}")
        if self.alpha_std == 0:
            return image
        batch = image.shape[:-3]
        alpha = torch.randn(*batch, 3, device=image.device) * self.alpha_std
        shift = (alpha * self.eigval) @ self.eigvec.T  # (..., 3): sum_i a_i l_i p_i
        out = image + shift[..., :, None, None].to(image.dtype)
        return out.clamp(0, 1) if self.clamp else out

    def extra_repr(self) -> str:
        return f"alpha_std={self.alpha_std}"


def alexnet_transforms(
    *,
    train: bool,
    image_size: int = 227,
    resize: int | None = 256,
    colour: str | None = "pca",
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> Any:
    """The AlexNet input pipeline as a torchvision ``v2.Compose``.

    Training: rescale the shorter side to ``resize``, take a random
    ``image_size`` crop, mirror with probability 1/2, shift the colours (``'pca'``:
    :class:`PCALighting`; ``'jitter'``: ``v2.ColorJitter``; ``None``: no shift), then
    normalise with ``mean``/``std`` (the paper subtracted the mean image: the
    "zero-centre" of the layer table). Evaluation: rescale, centre crop, normalise.
    Accepts PIL images and ``uint8`` or float tensors; ``resize=None`` skips the
    rescaling (images already at the right size).

    Examples
    --------
    >>> t = alexnet_transforms(train=True, image_size=32, resize=40)
    >>> tuple(t(torch.rand(3, 50, 60)).shape)
    (3, 32, 32)
    """
    from torchvision.transforms import v2

    image_size = check_int("image_size", image_size, minimum=1)
    steps: list[Any] = [v2.ToImage()]
    if resize is not None:
        resize = check_int("resize", resize, minimum=image_size)
        steps.append(v2.Resize(resize, antialias=True))
    if train:
        steps += [v2.RandomCrop(image_size), v2.RandomHorizontalFlip()]
    else:
        steps.append(v2.CenterCrop(image_size))
    steps.append(v2.ToDtype(torch.float32, scale=True))
    if train and colour == "pca":
        steps.append(PCALighting(0.1))
    elif train and colour == "jitter":
        steps.append(v2.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4))
    elif colour not in (None, "pca", "jitter"):
        raise ValueError(f"colour must be 'pca', 'jitter' or None, got {colour!r}")
    steps.append(v2.Normalize(list(mean), list(std)))
    return v2.Compose(steps)


# --------------------------------------------------------------------------------------
# Real datasets (network or disk)
# --------------------------------------------------------------------------------------

_OFFLINE_ALTERNATIVES = (
    "cnncourse.data.make_shapes(...) (generated, any size) or "
    "cnncourse.data.digits_dataset() (real 8x8 digits from scikit-learn)"
)


def data_root() -> Path:
    """Folder for downloaded datasets: ``$CNNCOURSE_DATA`` or ``~/cnncourse-data``.

    Examples
    --------
    >>> isinstance(data_root(), Path)
    True
    """
    return Path(os.environ.get("CNNCOURSE_DATA", "~/cnncourse-data")).expanduser()


def _offline_error(name: str, url: str, where: str, exc: BaseException) -> RuntimeError:
    return RuntimeError(
        f"could not download {name} from {url}: this machine seems to be offline "
        f"({type(exc).__name__}: {exc}). On a machine with a network, download the "
        f"archive and extract it so that {where} exists, then call again with that "
        f"root; or, to work offline, use {_OFFLINE_ALTERNATIVES}."
    )


def _missing_error(name: str, where: str, exc: BaseException) -> RuntimeError:
    return RuntimeError(
        f"{name} was not found: expected {where} ({exc}). Call with download=True on a "
        f"machine with a network, or extract the archive there by hand; to work "
        f"offline, use {_OFFLINE_ALTERNATIVES}."
    )


def _to_float_tensor(image: Any) -> torch.Tensor:
    """A PIL image (or uint8 tensor) as a float ``(C, H, W)`` tensor in [0, 1]."""
    from torchvision.transforms.v2 import functional as F

    return F.to_dtype(F.to_image(image), torch.float32, scale=True)


def imagenette(
    root: str | os.PathLike | None = None,
    *,
    split: str = "train",
    size: str = "320px",
    transform: Callable | None = None,
    download: bool = True,
) -> torch.utils.data.Dataset:
    """Imagenette (10 easy ImageNet classes; 9,469 training and 3,925 validation
    images) through ``torchvision.datasets.Imagenette``.

    Downloads once into ``root`` (default :func:`data_root`). Images are RGB PIL images,
    so ``transform`` should convert them, e.g. :func:`alexnet_transforms`; without a
    ``transform`` they become float ``(3, H, W)`` tensors in [0, 1].

    Raises
    ------
    RuntimeError
        When the data are missing and cannot be downloaded (offline), saying where to
        put them and which offline dataset to use instead.
    """
    from torchvision.datasets import Imagenette

    if split not in ("train", "val"):
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    if size not in ("full", "320px", "160px"):
        raise ValueError(f"size must be 'full', '320px' or '160px', got {size!r}")
    root = Path(root).expanduser() if root is not None else data_root()
    url = Imagenette._ARCHIVES[size][0]
    where = root / Path(url).name.removesuffix(".tgz") / split / "<wnid>" / "*.JPEG"
    try:
        return Imagenette(str(root), split=split, size=size, download=download,
                          transform=transform or _to_float_tensor)
    except OSError as exc:  # urllib's URLError, socket errors, timeouts
        raise _offline_error("Imagenette", url, str(where), exc) from exc
    except RuntimeError as exc:
        raise _missing_error("Imagenette", str(where), exc) from exc


def cifar10(
    root: str | os.PathLike | None = None,
    *,
    train: bool = True,
    transform: Callable | None = None,
    download: bool = True,
) -> torch.utils.data.Dataset:
    """CIFAR-10 (60,000 32x32 colour images, 10 classes) through torchvision.

    Raises
    ------
    RuntimeError
        When the data are missing and cannot be downloaded (offline).
    """
    from torchvision.datasets import CIFAR10

    root = Path(root).expanduser() if root is not None else data_root()
    where = root / CIFAR10.base_folder / "data_batch_1 ... test_batch"
    try:
        return CIFAR10(str(root), train=train, transform=transform or _to_float_tensor,
                       download=download)
    except OSError as exc:
        raise _offline_error("CIFAR-10", CIFAR10.url, str(where), exc) from exc
    except RuntimeError as exc:
        raise _missing_error("CIFAR-10", str(where), exc) from exc


def flowers102(
    root: str | os.PathLike | None = None,
    *,
    split: str = "train",
    transform: Callable | None = None,
    download: bool = True,
) -> torch.utils.data.Dataset:
    """Oxford Flowers-102 (102 flower species; 1,020 training, 1,020 validation and
    6,149 test images) through torchvision, e.g. for transfer learning.

    Raises
    ------
    RuntimeError
        When the data are missing and cannot be downloaded (offline).
    """
    from torchvision.datasets import Flowers102

    if split not in ("train", "val", "test"):
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    root = Path(root).expanduser() if root is not None else data_root()
    where = root / "flowers-102" / "{jpg/, imagelabels.mat, setid.mat}"
    url = Flowers102._download_url_prefix
    try:
        return Flowers102(str(root), split=split, transform=transform or _to_float_tensor,
                          download=download)
    except OSError as exc:
        raise _offline_error("Flowers-102", url, str(where), exc) from exc
    except RuntimeError as exc:
        raise _missing_error("Flowers-102", str(where), exc) from exc


def image_folder(
    root: str | os.PathLike, *, transform: Callable | None = None
) -> torch.utils.data.Dataset:
    """Images stored one folder per class (``root/<class>/<image>``), as in the Keras
    cats-vs-dogs example, through ``torchvision.datasets.ImageFolder``.

    Images are read as RGB PIL images; without a ``transform`` they become float
    ``(3, H, W)`` tensors in [0, 1].

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_image_folder(make_shapes(4, image_size=16), tmp)
    ...     ds = image_folder(tmp)
    ...     x, y = ds[0]
    >>> len(ds), tuple(x.shape), x.dtype
    (4, (3, 16, 16), torch.float32)
    """
    from torchvision.datasets import ImageFolder

    path = Path(root).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"root={str(root)!r} is not a folder: image_folder expects root/<class>/<image> "
            f"(one sub-folder per class)"
        )
    try:
        return ImageFolder(str(path), transform=transform or _to_float_tensor)
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"no images found under {str(path)!r}: image_folder expects "
            f"root/<class>/<image> with .png, .jpg, ... files ({exc})"
        ) from exc


def write_image_folder(
    dataset: TensorImageDataset, root: str | os.PathLike, *, suffix: str = ".png"
) -> Path:
    """Write an in-memory dataset as one folder per class (lossless PNG by default),
    the layout :func:`image_folder` and Keras' ``flow_from_directory`` read.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = write_image_folder(make_shapes(4, image_size=16), tmp)
    ...     sorted(p.name for p in root.iterdir())
    ['cruz', 'cuadrado', 'círculo', 'triángulo']
    """
    from PIL import Image

    if suffix not in (".png", ".jpg"):
        raise ValueError(f"suffix must be '.png' or '.jpg', got {suffix!r}")
    root = Path(root)
    for name in dataset.classes:
        (root / name).mkdir(parents=True, exist_ok=True)
    width = len(str(len(dataset)))
    for i in range(len(dataset)):
        image = dataset.images[i]
        if image.dtype != torch.uint8:
            image = (image.clamp(0, 1) * 255).round().to(torch.uint8)
        path = root / dataset.classes[int(dataset.labels[i])] / f"{i:0{width}d}{suffix}"
        array = image.permute(1, 2, 0).numpy()
        Image.fromarray(array[..., 0] if array.shape[2] == 1 else array).save(path)
    return root
