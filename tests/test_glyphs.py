"""cnncourse.data.make_glyphs: printed characters in Matplotlib's fonts."""

from __future__ import annotations

import string

import pytest
import torch

from cnncourse.data import GLYPH_FONTS, make_glyphs


def test_same_seed_same_images_other_seed_other_images():
    a = make_glyphs(40, "ABCD", seed=3)
    b = make_glyphs(40, "ABCD", seed=3)
    c = make_glyphs(40, "ABCD", seed=4)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.images, c.images)


def test_shapes_types_and_balanced_classes():
    ds = make_glyphs(23, "XYZ", image_size=20, seed=0)
    assert ds.images.shape == (23, 1, 20, 20) and ds.images.dtype == torch.uint8
    assert ds.classes == ("X", "Y", "Z")
    assert ds.labels.bincount().tolist() == [8, 8, 7]
    x, y = ds[0]
    assert x.dtype == torch.float32 and 0 <= float(x.min()) <= float(x.max()) <= 1
    assert ds.classes[y] in "XYZ"


def test_labels_match_the_drawn_characters():
    """A nearest-centroid classifier fitted on one sample reads another: each label is the
    character that was drawn, whatever the font and the transformation."""
    train = make_glyphs(600, string.digits, seed=0, noise=0.0)
    test = make_glyphs(300, string.digits, seed=1, noise=0.0)
    x_train, x_test = train.images.flatten(1).float(), test.images.flatten(1).float()
    centroids = torch.stack([x_train[train.labels == k].mean(0) for k in range(10)])
    predicted = torch.cdist(x_test, centroids).argmin(1)
    accuracy = float((predicted == test.labels).float().mean())
    assert accuracy > 0.3, accuracy       # chance is 0.1; shuffled labels give about that


def test_without_transformation_the_character_is_centred_and_fonts_differ():
    fixed = dict(rotation=0.0, shear=0.0, shift=0.0, scale_range=(1.0, 1.0), noise=0.0,
                 image_size=32)
    sans = make_glyphs(2, "OH", fonts=["DejaVuSans.ttf"], seed=0, **fixed)
    serif = make_glyphs(2, "OH", fonts=["cmr10.ttf"], seed=0, **fixed)
    for ds in (sans, serif):
        image = ds.images[0, 0].float()
        ink = image - image.min()
        rows, cols = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
        centre = ((ink * rows).sum() / ink.sum(), (ink * cols).sum() / ink.sum())
        assert abs(float(centre[0]) - 15.5) < 2.5 and abs(float(centre[1]) - 15.5) < 2.5
    same_order = torch.equal(sans.labels, serif.labels)
    assert same_order and not torch.equal(sans.images, serif.images)


@pytest.mark.parametrize("kwargs, message", [
    (dict(characters="A"), "at least two"),
    (dict(characters=["A", "BC"]), "single visible"),
    (dict(characters="A "), "single visible"),
    (dict(characters="ABA"), "distinct"),
    (dict(fonts=["Comic.ttf"]), "unknown"),
    (dict(fonts=[]), "non-empty"),
    (dict(image_size=64), "at most 48"),
    (dict(scale_range=(1.2, 0.8)), "scale_range"),
    (dict(noise=-0.1), "negative"),
    (dict(characters="A漢"), "has no glyph"),
])
def test_bad_arguments_are_clear_errors(kwargs, message):
    arguments = dict(n=4, characters="AB") | kwargs
    with pytest.raises(ValueError, match=message):
        make_glyphs(**arguments)


@pytest.mark.parametrize("font", GLYPH_FONTS)
def test_every_font_draws_every_letter_and_digit(font):
    characters = string.ascii_uppercase + string.digits
    ds = make_glyphs(len(characters), characters, fonts=[font], seed=0, noise=0.0)
    assert sorted(ds.labels.tolist()) == list(range(len(characters)))
    ink = ds.images.flatten(1).float()
    # stroke and background grey levels are at least 0.3 apart: a visible stroke each
    assert bool((ink.max(1).values - ink.min(1).values > 0.25 * 255).all())
