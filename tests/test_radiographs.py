"""The synthetic hand radiographs: seeded, any size, and age changes only the regions
the masks mark, in the direction the features say."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cnncourse import data
from cnncourse.radiographs import CARPAL_BONES, make_radiographs, maturity_features


def test_same_seed_same_data_and_other_seed_other_data():
    a = make_radiographs(6, image_size=40, seed=3)
    b = make_radiographs(6, image_size=40, seed=3)
    c = make_radiographs(6, image_size=40, seed=4)
    for name in ("images", "ages", "maturities", "masks"):
        assert torch.equal(getattr(a, name), getattr(b, name)), name
    assert not torch.equal(a.images, c.images)
    assert not torch.equal(a.ages, c.ages)


@pytest.mark.parametrize("size", [32, 64, 97, 220])
def test_any_size_and_types(size):
    ds = make_radiographs(2, image_size=size, seed=0)
    assert ds.images.shape == (2, 1, size, size) and ds.images.dtype == torch.uint8
    assert ds.masks.shape == (2, size, size) and ds.masks.dtype == torch.bool
    x, age = ds[1]
    assert x.shape == (1, size, size) and x.dtype == torch.float32
    assert 0 <= float(x.min()) and float(x.max()) <= 1
    assert age.dtype == torch.float32 and age.ndim == 0
    assert ds.masks.equal(ds.physis_masks | ds.carpal_masks)
    assert 0.02 < ds.masks.float().mean() < 0.3  # small regions, not the whole hand


def test_ages_uniform_in_range_and_noise_floor():
    ds = make_radiographs(400, image_size=32, seed=1, age_range=(2.0, 12.0), maturity_sd=0.5)
    assert 2.0 <= float(ds.ages.min()) and float(ds.ages.max()) <= 12.0
    assert abs(float(ds.ages.mean()) - 7.0) < 0.5
    assert ds.noise_floor == pytest.approx(0.5 * math.sqrt(2 / math.pi), rel=0.15)
    exact = make_radiographs(3, image_size=32, seed=1, maturity_sd=0.0)
    assert exact.noise_floor == 0.0 and torch.equal(exact.ages, exact.maturities)


def test_features_move_monotonically_with_maturity():
    ms = np.linspace(0, 20, 81)
    f = [maturity_features(m) for m in ms]
    for key, sign in (("carpal_centres", 1), ("carpal_area", 1), ("epiphysis_width", 1),
                      ("physis_gap", -1), ("open_physes", -1)):
        values = np.array([x[key] for x in f])
        assert np.all(sign * np.diff(values) >= 0), key
        assert values[0] != values[-1], key
    assert maturity_features(0.0)["carpal_centres"] == 0  # the capitate appears at 0.3 years
    assert maturity_features(1.0)["carpal_centres"] == 2
    assert maturity_features(11.0)["carpal_centres"] == len(CARPAL_BONES)
    assert maturity_features(18.0)["open_physes"] == 0.0


def test_only_the_masked_regions_change_with_age():
    # Same seed and number of images: the same draws for everything but the age.
    young = make_radiographs(4, image_size=96, seed=5, age_range=(3.0, 3.001), maturity_sd=0)
    old = make_radiographs(4, image_size=96, seed=5, age_range=(15.0, 15.001), maturity_sd=0)
    assert torch.equal(young.masks, old.masks)
    changed = young.images[:, 0] != old.images[:, 0]
    assert changed.any()
    assert not (changed & ~young.masks).any(), "pixels outside the masks changed with age"
    assert (changed & young.carpal_masks).any() and (changed & young.physis_masks).any()


def test_bone_in_the_masks_grows_with_age():
    # The same hands (same seed, same nuisance draws) at increasing ages: more bone in
    # the age-dependent regions (carpal centres appear and grow, epiphyses widen, growth
    # plates close), the same image everywhere else.
    means = []
    for age in (1.5, 4.0, 7.0, 10.0, 13.0, 16.5):
        ds = make_radiographs(8, image_size=64, seed=2, age_range=(age, age + 1e-6),
                              maturity_sd=0.0)
        x = ds.images[:, 0].float()
        means.append(((x * ds.masks).sum((1, 2)) / ds.masks.sum((1, 2))).numpy())
    means = np.stack(means)  # (ages, images)
    assert np.all(np.diff(means, axis=0) > 0), means.round(1)


def test_validation_and_reexport():
    with pytest.raises(ValueError, match="age_range"):
        make_radiographs(2, age_range=(10.0, 5.0))
    with pytest.raises(ValueError, match="maturity_sd"):
        make_radiographs(2, maturity_sd=-1.0)
    with pytest.raises(ValueError, match="image_size"):
        make_radiographs(2, image_size=16)
    with pytest.raises(TypeError, match="n must be"):
        make_radiographs(2.0)
    assert data.make_radiographs is make_radiographs
