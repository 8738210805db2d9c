"""Cats and dogs: the real data for the notes' Keras example, and a stand-in made here.

- :func:`oxford_pets_binary`: torchvision's Oxford-IIIT Pet (Parkhi et al., 2012; 37
  breeds, 7,349 photos) with its binary cat/dog labels; downloads once, and offline
  raises an error that says what to do.
- :func:`cats_dogs_folder`: a Kaggle-style folder, ``<root>/training_set/cats``,
  ``<root>/training_set/dogs`` (and ``test_set``), the layout the notes read with
  ``flow_from_directory``.
- :func:`make_cartoon_pets`: **a stand-in, not photos**: drawn cartoon heads, cats with
  pointed upright ears, whiskers and a small nose, dogs with drooping ears and a muzzle,
  fur of any colour for both, on textured noisy backgrounds. It lets the example run
  offline and checks the pipeline end to end; what a network learns from it says
  nothing about real cats and dogs. :func:`write_cats_dogs_folder` stores it in the
  Kaggle layout.

Class order follows ``ImageFolder`` (alphabetical folders): 0 = cats, 1 = dogs, the same
as Oxford-IIIT Pet's binary labels.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from cnncourse._validate import check_int
from cnncourse.data.generated import _background, _hsv_to_rgb, _interpolation_matrix
from cnncourse.data.loaders import _to_float_tensor, data_root, image_folder, write_image_folder
from cnncourse.data.memory import TensorImageDataset

__all__ = ["PET_CLASSES", "make_cartoon_pets", "write_cats_dogs_folder", "cats_dogs_folder",
           "oxford_pets_binary"]

#: Class names in label order (the Kaggle folder names).
PET_CLASSES: tuple[str, str] = ("cats", "dogs")

_STANDIN = (
    "cnncourse.pets.make_cartoon_pets(...) (a drawn stand-in made offline, not photos), "
    "written in the Kaggle layout by cnncourse.pets.write_cats_dogs_folder(root)"
)


def _ellipse(x, y, cx, cy, rx, ry, angle=0.0):
    c, s = math.cos(angle), math.sin(angle)
    u, v = c * (x - cx) + s * (y - cy), -s * (x - cx) + c * (y - cy)
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


def _triangle(x, y, points):
    (x0, y0), (x1, y1), (x2, y2) = points

    def side(ax, ay, bx, by):
        return (bx - ax) * (y - ay) - (by - ay) * (x - ax)

    d0, d1, d2 = side(x0, y0, x1, y1), side(x1, y1, x2, y2), side(x2, y2, x0, y0)
    return ((d0 >= 0) & (d1 >= 0) & (d2 >= 0)) | ((d0 <= 0) & (d1 <= 0) & (d2 <= 0))


def _segment(x, y, a, b, width):
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = np.clip(((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy), 0, 1)
    return (x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2 <= width * width


def _draw_pet(rng: np.random.Generator, image: np.ndarray, dog: bool) -> None:
    """Draw one cartoon head into ``image`` ``(S, S, 3)`` (in place)."""
    s = image.shape[0]
    pixel = np.arange(s, dtype=np.float32) + 0.5
    rx = rng.uniform(0.17, 0.24) * s
    ry = rx * rng.uniform(0.85, 1.05)
    cx = s / 2 + rng.uniform(-0.12, 0.12) * s
    cy = s / 2 + rng.uniform(-0.06, 0.12) * s
    tilt = rng.uniform(-0.3, 0.3)
    c, sn = math.cos(tilt), math.sin(tilt)
    # Coordinates in the head's own (tilted) frame: x right, y down, origin at the centre.
    gx, gy = pixel[None, :] - cx, pixel[:, None] - cy
    x, y = c * gx + sn * gy, -sn * gx + c * gy
    fur = _hsv_to_rgb(rng.uniform(), rng.uniform(0.0, 0.6), rng.uniform(0.35, 0.95))
    darker = fur * rng.uniform(0.5, 0.8)
    lighter = np.clip(fur + rng.uniform(0.15, 0.35), 0, 1)

    if dog:  # drooping ears at the sides, drawn behind the head
        for side in (-1, 1):
            ear = _ellipse(x, y, side * rx * 0.95, ry * 0.25, rx * rng.uniform(0.25, 0.35),
                           ry * rng.uniform(0.6, 0.8), angle=side * rng.uniform(0.1, 0.4))
            image[ear] = darker
    else:  # pointed upright ears on top
        for side in (-1, 1):
            spread = rng.uniform(0.45, 0.75)
            base_a = (side * rx * 0.15, -ry * 0.75)
            base_b = (side * rx * math.sin(spread + 0.45), -ry * math.cos(spread + 0.45))
            tip = (side * rx * (0.55 + 0.25 * spread), -ry * rng.uniform(1.35, 1.6))
            image[_triangle(x, y, (base_a, base_b, tip))] = darker
    image[_ellipse(x, y, 0, 0, rx, ry)] = fur
    eye_r = rx * rng.uniform(0.08, 0.12)
    for side in (-1, 1):
        image[_ellipse(x, y, side * rx * 0.38, -ry * 0.12, eye_r, eye_r)] = (0.05, 0.05, 0.05)
    if dog:  # muzzle with a big black nose
        image[_ellipse(x, y, 0, ry * 0.45, rx * 0.45, ry * 0.32)] = lighter
        image[_ellipse(x, y, 0, ry * 0.28, rx * 0.16, ry * 0.11)] = (0.03, 0.03, 0.03)
    else:  # small pink nose and whiskers
        nose = ((-rx * 0.09, ry * 0.22), (rx * 0.09, ry * 0.22), (0, ry * 0.33))
        image[_triangle(x, y, nose)] = (0.9, 0.5, 0.6)
        whisker = max(0.5, s / 128)
        for side in (-1, 1) if rng.uniform() < 0.6 else ():  # not every cat shows them
            for k in (-1, 0, 1):
                a = (side * rx * 0.2, ry * 0.38)
                b = (side * rx * 1.15, ry * (0.3 + 0.12 * k))
                image[_segment(x, y, a, b, whisker)] = (0.92, 0.92, 0.92)


def make_cartoon_pets(
    n: int,
    *,
    image_size: int = 64,
    seed: int = 0,
    noise: float = 0.04,
    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> TensorImageDataset:
    """Draw ``n`` cartoon cat and dog heads (balanced, shuffled, seeded): **a labelled
    stand-in for offline runs, not photos**.

    Cats have pointed upright ears, a small pink nose and (60 % of them) whiskers; dogs
    drooping ears,
    a muzzle and a big black nose. Fur colour, size, position and tilt of the head and
    the background are random and the same for both classes.

    Examples
    --------
    >>> ds = make_cartoon_pets(6, image_size=32, seed=0)
    >>> len(ds), ds.classes, tuple(ds[0][0].shape)
    (6, ('cats', 'dogs'), (3, 32, 32))
    >>> sorted(ds.labels.tolist())
    [0, 0, 0, 1, 1, 1]
    """
    n = check_int("n", n, minimum=1)
    image_size = check_int("image_size", image_size, minimum=24)
    seed = check_int("seed", seed, minimum=0)
    if not noise >= 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    rng.shuffle(labels)
    smooth = _interpolation_matrix(image_size, 4)
    images = np.empty((n, image_size, image_size, 3), dtype=np.uint8)
    for i in range(n):
        image = _background(rng, image_size, smooth)
        _draw_pet(rng, image, dog=bool(labels[i]))
        image = image + np.float32(noise) * rng.standard_normal(image.shape, dtype=np.float32)
        images[i] = np.rint(np.clip(image, 0, 1) * 255)
    return TensorImageDataset(torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(),
                              torch.from_numpy(labels.astype(np.int64)),
                              classes=PET_CLASSES, transform=transform)


def write_cats_dogs_folder(
    root: str | os.PathLike, *, train: int = 400, test: int = 100, image_size: int = 64,
    seed: int = 0,
) -> Path:
    """Write the cartoon stand-in in the Kaggle layout the notes read:
    ``root/training_set/{cats,dogs}/*.png`` and ``root/test_set/{cats,dogs}/*.png``
    (independent seeds for the two sets).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = write_cats_dogs_folder(tmp, train=4, test=2, image_size=24)
    ...     sorted(str(p.relative_to(root)) for p in root.glob("*/*"))
    ['test_set/cats', 'test_set/dogs', 'training_set/cats', 'training_set/dogs']
    """
    root = Path(root)
    for split, count, offset in (("training_set", train, 0), ("test_set", test, 1)):
        count = check_int(split.replace("_set", ""), count, minimum=2)
        ds = make_cartoon_pets(count, image_size=image_size, seed=2 * seed + offset)
        write_image_folder(ds, root / split)
    return root


def cats_dogs_folder(
    root: str | os.PathLike, *, split: str = "training_set", transform: Callable | None = None
) -> torch.utils.data.Dataset:
    """A Kaggle-style cats-vs-dogs folder through ``torchvision.datasets.ImageFolder``:
    ``root/<split>/cats/*.jpg`` and ``root/<split>/dogs/*.jpg`` (0 = cats, 1 = dogs).

    Raises
    ------
    FileNotFoundError
        When ``root/<split>`` does not exist or lacks the two class folders; the
        message shows the expected layout and the offline stand-in.
    """
    if split not in ("training_set", "test_set"):
        raise ValueError(f"split must be 'training_set' or 'test_set', got {split!r}")
    path = Path(root).expanduser() / split
    found = sorted(p.name for p in path.iterdir() if p.is_dir()) if path.is_dir() else []
    if found != list(PET_CLASSES):
        raise FileNotFoundError(
            f"expected {path}/cats/ and {path}/dogs/ (one folder of images per class, as "
            f"Kaggle's 'Dogs vs. Cats' is usually arranged), found "
            f"{found if path.is_dir() else 'no such folder'}; offline, use {_STANDIN}"
        )
    return image_folder(path, transform=transform)


def oxford_pets_binary(
    root: str | os.PathLike | None = None,
    *,
    split: str = "trainval",
    transform: Callable | None = None,
    download: bool = True,
) -> torch.utils.data.Dataset:
    """Oxford-IIIT Pet with binary labels (0 = cat, 1 = dog) through
    ``torchvision.datasets.OxfordIIITPet(target_types='binary-category')``:
    3,680 ``'trainval'`` and 3,669 ``'test'`` photos of 37 breeds.

    Downloads once into ``root`` (default :func:`cnncourse.data.data_root`); without a
    ``transform`` the images become float ``(3, H, W)`` tensors in [0, 1] (sizes vary:
    resize them, e.g. ``v2.Resize((64, 64))``).

    Raises
    ------
    RuntimeError
        When the data are missing and cannot be downloaded (offline), saying where to
        put them and which stand-in to use.
    """
    from torchvision.datasets import OxfordIIITPet

    if split not in ("trainval", "test"):
        raise ValueError(f"split must be 'trainval' or 'test', got {split!r}")
    root = Path(root).expanduser() if root is not None else data_root()
    where = root / "oxford-iiit-pet" / "{images/*.jpg, annotations/}"
    url = OxfordIIITPet._RESOURCES[0][0]
    try:
        return OxfordIIITPet(str(root), split=split, target_types="binary-category",
                             transform=transform or _to_float_tensor, download=download)
    except OSError as exc:  # urllib's URLError, socket errors, timeouts
        raise RuntimeError(
            f"could not download Oxford-IIIT Pet from {url}: this machine seems to be "
            f"offline ({type(exc).__name__}: {exc}). On a machine with a network, download "
            f"images.tar.gz and annotations.tar.gz and extract them so that {where} exists; "
            f"or, to work offline, use {_STANDIN}."
        ) from exc
    except RuntimeError as exc:
        raise RuntimeError(
            f"Oxford-IIIT Pet was not found: expected {where} ({exc}). Call with "
            f"download=True on a machine with a network; to work offline, use {_STANDIN}."
        ) from exc

