"""Images held in memory: the dataset they are served from, and the real images that
install with packages (scikit-learn's digits, scikit-image's photos).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch

from cnncourse._validate import check_int

__all__ = ["TensorImageDataset", "digits_dataset", "split_dataset", "sample_images"]

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
