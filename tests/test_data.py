"""Tests of cnncourse.data: generated shapes, offline errors, ImageFolder, augmentations."""

from __future__ import annotations

import urllib.error

import numpy as np
import pytest
import torch

from cnncourse import data
from cnncourse.data import (
    SHAPE_CLASSES,
    PCALighting,
    alexnet_transforms,
    image_folder,
    make_shapes,
    pca_colour_basis,
    write_image_folder,
)


# -- generated shapes -------------------------------------------------------------------


def test_shapes_same_seed_same_data_and_other_seed_other_data():
    a = make_shapes(12, image_size=40, seed=3)
    b = make_shapes(12, image_size=40, seed=3)
    c = make_shapes(12, image_size=40, seed=4)
    for name in ("images", "labels", "boxes", "masks", "centres"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert not torch.equal(a.images, c.images)


def test_shapes_boxes_are_the_tight_boxes_of_the_masks():
    ds = make_shapes(24, image_size=48, seed=0)
    for i in range(len(ds)):
        mask = ds.masks[i]
        rows = torch.nonzero(mask.any(dim=1)).flatten()
        cols = torch.nonzero(mask.any(dim=0)).flatten()
        x0, y0, x1, y1 = ds.boxes[i].tolist()
        assert (x0, y0, x1, y1) == (int(cols[0]), int(rows[0]), int(cols[-1]) + 1,
                                    int(rows[-1]) + 1)
        assert 0 <= x0 < x1 <= 48 and 0 <= y0 < y1 <= 48
        # The centre the shape was drawn around lies inside its box.
        cx, cy = ds.centres[i].tolist()
        assert x0 <= cx <= x1 and y0 <= cy <= y1


def test_shapes_object_pixels_differ_from_the_background():
    ds = make_shapes(16, image_size=64, seed=1)
    for i in range(len(ds)):
        image = ds.images[i].float()  # (3, H, W)
        inside = image[:, ds.masks[i]].mean(dim=1)
        outside = image[:, ~ds.masks[i]].mean(dim=1)
        # Objects are bright saturated colours on a dim background.
        assert (inside - outside).abs().max() > 60, i


def test_shapes_classes_balanced_labels_match_names_and_paper_size():
    ds = make_shapes(9, image_size=227, seed=0, classes=("cruz", "círculo"))
    assert tuple(ds.images.shape) == (9, 3, 227, 227)
    assert ds.images.dtype == torch.uint8
    assert ds.classes == ("cruz", "círculo")
    assert sorted(torch.bincount(ds.labels).tolist()) == [4, 5]
    x, y = ds[0]
    assert x.dtype == torch.float32 and 0 <= float(x.min()) and float(x.max()) <= 1


def test_shapes_each_class_has_its_shape():
    # A circle fills pi/4 of its bounding square, a square (rotated or not) fills
    # more than half of its box, a cross and a triangle much less than a circle.
    ds = make_shapes(40, image_size=96, seed=2, noise=0.0)
    fill = {name: [] for name in SHAPE_CLASSES}
    for i in range(len(ds)):
        x0, y0, x1, y1 = ds.boxes[i].tolist()
        fill[ds.classes[int(ds.labels[i])]].append(
            float(ds.masks[i].sum()) / ((x1 - x0) * (y1 - y0))
        )
    assert np.mean(fill["círculo"]) == pytest.approx(np.pi / 4, abs=0.04)
    assert min(fill["cuadrado"]) > 0.49
    assert max(fill["cruz"]) < 0.7 and max(fill["triángulo"]) < 0.7


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"n": 0}, ValueError),
        ({"n": 4, "image_size": 8}, ValueError),
        ({"n": 4, "classes": ("círculo", "estrella")}, ValueError),
        ({"n": 4, "classes": ("círculo", "círculo")}, ValueError),
        ({"n": 4, "size_range": (0.5, 0.2)}, ValueError),
        ({"n": 4, "image_size": 16, "size_range": (0.1, 0.5)}, ValueError),  # < 4 pixels
        ({"n": 4, "jitter": 1.5}, ValueError),
        ({"n": 4.0}, TypeError),
    ],
)
def test_shapes_rejects_bad_arguments(kwargs, error):
    n = kwargs.pop("n")
    with pytest.raises(error):
        make_shapes(n, **kwargs)


# -- ImageFolder -------------------------------------------------------------------------


def test_image_folder_reads_a_generated_tree(tmp_path):
    ds = make_shapes(10, image_size=24, seed=5)
    root = write_image_folder(ds, tmp_path / "tree")
    folder = image_folder(root)
    assert len(folder) == len(ds)
    assert sorted(folder.classes) == sorted(ds.classes)
    # Every image comes back pixel for pixel (PNG is lossless) under its class.
    originals = {ds.images[i].numpy().tobytes(): ds.classes[int(ds.labels[i])]
                 for i in range(len(ds))}
    for x, y in folder:
        assert x.shape == (3, 24, 24) and x.dtype == torch.float32
        key = (x * 255).round().to(torch.uint8).numpy().tobytes()
        assert originals[key] == folder.classes[y]


def test_image_folder_with_a_transform_and_clear_errors(tmp_path):
    write_image_folder(make_shapes(4, image_size=40, seed=0), tmp_path)
    folder = image_folder(tmp_path, transform=alexnet_transforms(train=False, image_size=32,
                                                                 resize=None))
    assert tuple(folder[0][0].shape) == (3, 32, 32)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        image_folder(tmp_path / "missing")
    (tmp_path / "empty" / "clase").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no images found"):
        image_folder(tmp_path / "empty")


# -- real loaders without a network -------------------------------------------------------


def _no_network(*args, **kwargs):
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def test_imagenette_offline_error_says_what_to_do(tmp_path, monkeypatch):
    import torchvision.datasets.imagenette as module

    monkeypatch.setattr(module, "download_and_extract_archive", _no_network)
    with pytest.raises(RuntimeError) as info:
        data.imagenette(tmp_path, split="train", size="320px")
    message = str(info.value)
    assert "offline" in message
    assert str(tmp_path / "imagenette2-320" / "train") in message  # where to put it
    assert "make_shapes" in message and "digits_dataset" in message  # what instead
    assert isinstance(info.value.__cause__, urllib.error.URLError)


def test_cifar10_offline_error_says_what_to_do(tmp_path, monkeypatch):
    import torchvision.datasets.cifar as module

    monkeypatch.setattr(module, "download_and_extract_archive", _no_network)
    with pytest.raises(RuntimeError, match="offline") as info:
        data.cifar10(tmp_path)
    assert "cifar-10-batches-py" in str(info.value)


def test_flowers102_offline_error_says_what_to_do(tmp_path, monkeypatch):
    import torchvision.datasets.flowers102 as module

    monkeypatch.setattr(module, "download_and_extract_archive", _no_network)
    with pytest.raises(RuntimeError, match="offline") as info:
        data.flowers102(tmp_path, split="val")
    assert "flowers-102" in str(info.value) and "make_shapes" in str(info.value)


def test_missing_data_without_download_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match="not found.*make_shapes"):
        data.imagenette(tmp_path, download=False)
    with pytest.raises(RuntimeError, match="not found.*make_shapes"):
        data.cifar10(tmp_path, download=False)
    with pytest.raises(RuntimeError, match="not found.*make_shapes"):
        data.flowers102(tmp_path, download=False)
    with pytest.raises(ValueError, match="split"):
        data.imagenette(tmp_path, split="test")


def test_data_root_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNCOURSE_DATA", str(tmp_path))
    assert data.data_root() == tmp_path


# -- augmentations ---------------------------------------------------------------------------


def test_pca_lighting_shifts_every_pixel_by_the_same_colour_along_the_components():
    torch.manual_seed(0)
    image = torch.rand(3, 16, 16) * 0.5 + 0.25  # away from 0 and 1: no clipping
    out = PCALighting(0.1)(image)
    shift = out - image
    assert torch.allclose(shift, shift[:, :1, :1].expand_as(shift), atol=1e-6)
    # The shift is eigvec @ (alpha * eigval): back in the basis it is alpha * eigval.
    layer = PCALighting(0.1)
    coords = layer.eigvec.T @ shift[:, 0, 0]
    assert coords.abs().max() > 0
    assert torch.equal(PCALighting(0.0)(image), image)


def test_pca_lighting_on_a_batch_draws_one_shift_per_image():
    torch.manual_seed(1)
    batch = torch.full((4, 3, 5, 5), 0.5)
    shifts = (PCALighting(0.1)(batch) - batch)[:, :, 0, 0]
    assert len({tuple(s.tolist()) for s in shifts}) == 4


def test_pca_colour_basis_is_orthonormal_and_explains_the_covariance():
    image = data.sample_images(["coffee"])["coffee"].astype(np.float32) / 255
    eigval, eigvec = pca_colour_basis(image)
    assert torch.allclose(eigvec.T @ eigvec, torch.eye(3), atol=1e-5)
    assert eigval[0] >= eigval[1] >= eigval[2] >= 0
    cov = np.cov(image.reshape(-1, 3).T)
    rebuilt = (eigvec @ torch.diag(eigval) @ eigvec.T).numpy()
    assert np.allclose(rebuilt, cov, atol=1e-5)


def test_alexnet_transforms_shapes_for_pil_and_tensors():
    from PIL import Image

    photo = Image.fromarray(data.sample_images(["chelsea"])["chelsea"])
    train = alexnet_transforms(train=True)
    evaluation = alexnet_transforms(train=False)
    for t in (train, evaluation):
        out = t(photo)
        assert out.shape == (3, 227, 227) and out.dtype == torch.float32
    # Evaluation is deterministic, training is not.
    assert torch.equal(evaluation(photo), evaluation(photo))
    assert not torch.equal(train(photo), train(photo))
    with pytest.raises(ValueError, match="colour"):
        alexnet_transforms(train=True, colour="sepia")


def _tiny_imagenette(root) -> None:
    """Four random JPEGs per split in two classes, laid out like the extracted archive."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for split in ("train", "val"):
        for wnid in ("n01440764", "n03888257"):
            folder = root / "imagenette2-320" / split / wnid
            folder.mkdir(parents=True)
            for k in range(2):
                pixels = rng.integers(0, 256, size=(60, 80, 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{wnid}_{k}.JPEG")


def test_imagenette_reads_files_already_on_disk(tmp_path):
    # The real torchvision loader, offline, on files already in place.
    _tiny_imagenette(tmp_path)
    train = data.imagenette(tmp_path, split="train",
                            transform=alexnet_transforms(train=True))
    val = data.imagenette(tmp_path, split="val")  # no transform: float tensors in [0, 1]
    assert len(train) == 4 and len(val) == 4
    assert [c[0] for c in train.classes] == ["tench", "parachute"]
    x, y = train[0]
    assert x.shape == (3, 227, 227) and y == 0
    x, y = val[3]
    assert x.shape == (3, 60, 80) and 0 <= float(x.min()) and float(x.max()) <= 1 and y == 1


def test_full_alexnet_recipe_runs_a_step_on_imagenette_files(tmp_path):
    # The GPU profile's data pipeline and model, one CPU step on the tiny tree.
    import dataclasses

    from cnncourse.train import alexnet_recipe, fit

    _tiny_imagenette(tmp_path)
    recipe = alexnet_recipe("full")
    train, val = recipe.datasets(root=tmp_path)
    torch.manual_seed(0)
    model = recipe.model()
    assert model.fc8.out_features == 10
    config = dataclasses.replace(recipe.config, epochs=1, batch_size=2, num_workers=0,
                                 device="cpu", progress=False)
    result = fit(model, train, val, config)
    assert result.history["epoch"] == [1] and result.history["val_acc"][0] >= 0


def test_denormalize_inverts_normalize_and_checks_channels():
    from torchvision.transforms import v2

    from cnncourse.data import IMAGENET_MEAN, IMAGENET_STD, denormalize

    images = torch.rand(2, 3, 5, 5)
    normalised = v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)(images)
    assert torch.allclose(denormalize(normalised), images, atol=1e-6)
    assert denormalize(normalised * 10).max() == 1.0  # clipped for display
    grey = torch.rand(1, 4, 4)
    assert torch.allclose(denormalize((grey - 0.5) / 0.2, (0.5,), (0.2,)), grey, atol=1e-6)
    with pytest.raises(ValueError, match="one value per channel"):
        denormalize(grey)
    with pytest.raises(TypeError, match="tensor"):
        denormalize(grey.numpy())
