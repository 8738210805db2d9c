"""Cats and dogs: the drawn stand-in, the Kaggle folder loader, Oxford-IIIT Pet offline."""

from __future__ import annotations

import urllib.error

import pytest
import torch

from cnncourse import data
from cnncourse.pets import (
    PET_CLASSES,
    cats_dogs_folder,
    make_cartoon_pets,
    oxford_pets_binary,
    write_cats_dogs_folder,
)


def test_standin_is_seeded_balanced_and_labelled():
    a = make_cartoon_pets(20, image_size=48, seed=1)
    b = make_cartoon_pets(20, image_size=48, seed=1)
    c = make_cartoon_pets(20, image_size=48, seed=2)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, c.images)
    assert a.classes == PET_CLASSES == ("cats", "dogs")
    assert int(a.labels.sum()) == 10
    assert a.images.shape == (20, 3, 48, 48) and a.images.dtype == torch.uint8


def test_folder_round_trip_through_the_kaggle_layout(tmp_path):
    root = write_cats_dogs_folder(tmp_path, train=6, test=4, image_size=32, seed=0)
    train = cats_dogs_folder(root)
    test = cats_dogs_folder(root, split="test_set")
    assert len(train) == 6 and len(test) == 4
    assert train.classes == ["cats", "dogs"]
    assert train.class_to_idx == {"cats": 0, "dogs": 1}
    x, y = train[0]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32 and y in (0, 1)
    # The images on disk are the stand-in's pixels (PNG is lossless).
    ds = make_cartoon_pets(6, image_size=32, seed=0)
    for k, (path, label) in enumerate(train.samples):
        i = int(path.rsplit("/", 1)[1].split(".")[0])  # files are named by index
        assert label == int(ds.labels[i])
        assert torch.allclose(train[k][0], ds[i][0], atol=1e-6)


def test_folder_errors_say_what_layout_is_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="training_set/cats.*make_cartoon_pets"):
        cats_dogs_folder(tmp_path)
    (tmp_path / "training_set" / "cat").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"found \['cat'\]"):
        cats_dogs_folder(tmp_path)
    with pytest.raises(ValueError, match="split"):
        cats_dogs_folder(tmp_path, split="train")


def _no_network(*args, **kwargs):
    raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")


def test_oxford_pets_offline_error_says_what_to_do(tmp_path, monkeypatch):
    import torchvision.datasets.oxford_iiit_pet as module

    monkeypatch.setattr(module, "download_and_extract_archive", _no_network)
    with pytest.raises(RuntimeError, match="offline") as info:
        oxford_pets_binary(tmp_path)
    message = str(info.value)
    assert str(tmp_path / "oxford-iiit-pet") in message and "make_cartoon_pets" in message
    assert isinstance(info.value.__cause__, urllib.error.URLError)
    with pytest.raises(RuntimeError, match="not found.*make_cartoon_pets"):
        oxford_pets_binary(tmp_path, download=False)
    with pytest.raises(ValueError, match="split"):
        oxford_pets_binary(tmp_path, split="train")


def test_oxford_pets_binary_labels_on_files_in_place(tmp_path):
    # The real torchvision loader, offline, on a tiny copy of the archive's layout.
    from PIL import Image

    base = tmp_path / "oxford-iiit-pet"
    (base / "images").mkdir(parents=True)
    (base / "annotations" / "trimaps").mkdir(parents=True)
    lines = []
    for name, species in (("Abyssinian_1", 1), ("beagle_1", 2)):
        Image.new("RGB", (40, 30), (120, 80, 40)).save(base / "images" / f"{name}.jpg")
        Image.new("L", (40, 30), 1).save(base / "annotations" / "trimaps" / f"{name}.png")
        lines.append(f"{name} {species} {species} 1")
    (base / "annotations" / "trainval.txt").write_text("\n".join(lines) + "\n")
    ds = oxford_pets_binary(tmp_path, download=False)
    assert [ds[i][1] for i in range(2)] == [0, 1]  # 0 = cat, 1 = dog
    assert ds[0][0].shape == (3, 30, 40)


def test_pets_builds_on_data_without_a_cycle():
    # pets imports data's loaders; data does not import pets (no lazy import to dodge a cycle)
    assert not hasattr(data, "make_cartoon_pets")
    assert cats_dogs_folder.__module__ == "cnncourse.pets"
