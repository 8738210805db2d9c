"""Normalisation and augmentation: ImageNet's statistics, per-channel statistics of a
dataset, undoing a normalisation for display, and AlexNet's augmentations (random crops,
mirroring and the PCA colour shift, :class:`PCALighting`) as torchvision ``v2``
transforms (:func:`alexnet_transforms`).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from cnncourse._validate import check_int

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "channel_stats", "denormalize",
           "pca_colour_basis", "PCALighting", "alexnet_transforms"]

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

def channel_stats(dataset: torch.utils.data.Dataset, *, max_items: int = 1000
                  ) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and standard deviation of a dataset's images (first
    ``max_items``), e.g. for ``v2.Normalize`` or AlexNet's "zero-centre" input.

    Examples
    --------
    >>> from cnncourse.data import digits_dataset
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
