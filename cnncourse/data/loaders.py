"""The real datasets: torchvision's loaders for data that is downloaded (ImageNette,
CIFAR-10, Flowers-102) or sits in a folder (:func:`image_folder`).

Without a network they raise a ``RuntimeError`` that says where to put the files by
hand and which offline dataset to use instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

import torch

from cnncourse.data.memory import TensorImageDataset

__all__ = ["data_root", "imagenette", "cifar10", "flowers102", "image_folder",
           "write_image_folder"]

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
    >>> from cnncourse.data import make_shapes
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
    >>> from cnncourse.data import make_shapes
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
