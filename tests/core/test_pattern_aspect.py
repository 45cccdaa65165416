"""Non-square images become the square α domain by crop (default), fit or stretch."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from losspattern_core.data.images import PAD_VALUE, square_image
from losspattern_core.data.pattern_files import bilinear
from losspattern_core.data.patterns import load_pattern
from losspattern_core.errors import PatternError

W, H = 640, 427                # a typical photo; its working copy is 256 x 171


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """Dark left half, bright right half, a mid-grey band across the middle rows: crop
    keeps the band's centre, fit adds white rows above and below."""
    img = np.zeros((H, W), np.uint8)
    img[:, W // 2:] = 200
    img[H // 2 - 20:H // 2 + 20, :] = 100
    path = tmp_path_factory.mktemp("aspect") / "photo.png"
    Image.fromarray(img).save(path)
    return path


def _working(path):
    """The image as the core reads it before squaring: longest side 256, values in [0, 1]."""
    im = Image.open(path).convert("L")
    return np.asarray(im.resize((256, 171), Image.Resampling.LANCZOS), np.float64) / 255.0


def test_crop_is_the_default_and_keeps_the_centre(photo):
    default = load_pattern(str(photo), z=2, smooth=0)
    crop = load_pattern(str(photo), z=2, smooth=0, aspect="crop")
    g = 171
    assert np.array_equal(default.grid(g), crop.grid(g))
    work = _working(photo)
    centre = work[:, (256 - 171) // 2:(256 - 171) // 2 + 171]   # the centre 171 x 171
    grid = crop.grid(g)                       # axis 0 = α1 (right), axis 1 = α2 (up)
    assert np.allclose(grid, np.flipud(centre).T, atol=1e-9)
    assert "cropped to its centre 171x171 (aspect=crop)" in crop.description
    assert crop.source == f"{photo}:aspect=crop"


def test_fit_pads_the_borders_with_the_pad_value(photo):
    fit = load_pattern(str(photo), z=2, smooth=0, aspect="fit")
    grid = fit.grid(256)                      # the padded working image is 256 x 256
    above, below = 42, 43                     # (256 - 171) rows of padding, the odd one below
    assert np.all(grid[:, -above:] == PAD_VALUE)           # top rows (α2 near 1)
    assert np.all(grid[:, :below] == PAD_VALUE)            # bottom rows
    assert not np.any(grid[:, below:-above] == PAD_VALUE)  # the photo has no white
    inside = np.flipud(_working(photo)).T
    assert np.allclose(grid[:, below:-above], inside, atol=1e-9)
    assert "fitted into 256x256, padded with 1 (aspect=fit)" in fit.description
    assert fit.source.endswith(":aspect=fit")


def test_stretch_is_a_plain_resize(photo):
    stretch = load_pattern(str(photo) + ":aspect=stretch", z=2, smooth=0)
    g = 64
    work = _working(photo)
    xs = np.linspace(0, 1, g)
    a = np.stack(np.meshgrid(xs, xs, indexing="ij"), -1).reshape(-1, 2)
    plain = bilinear(work, a).reshape(g, g)   # the whole image squashed onto the square
    assert np.allclose(stretch.grid(g), plain, atol=1e-12)
    assert "stretched" in stretch.description and stretch.source.endswith(":aspect=stretch")
    # a square image is the same in every mode and says nothing about aspect
    sq = np.zeros((40, 40)) + 0.5
    for mode in ("crop", "fit", "stretch"):
        out, text = square_image(sq, mode)
        assert out is sq and text == ""


def test_the_modes_differ_and_bad_modes_are_refused(photo):
    grids = {m: load_pattern(str(photo), z=2, smooth=0, aspect=m).grid(32)
             for m in ("crop", "fit", "stretch")}
    assert not np.allclose(grids["crop"], grids["fit"])
    assert not np.allclose(grids["crop"], grids["stretch"])
    with pytest.raises(PatternError, match="aspect='square'"):
        load_pattern(str(photo) + ":aspect=square", z=2)
    with pytest.raises(PatternError, match="aspect"):
        load_pattern(str(photo), z=2, aspect="zoom")


def test_rgb_fit_pads_every_channel(photo):
    img = np.random.default_rng(0).random((30, 50, 3))
    out, text = square_image(img, "fit")
    assert out.shape == (50, 50, 3) and "aspect=fit" in text
    assert np.all(out[:10] == PAD_VALUE) and np.all(out[40:] == PAD_VALUE)
    assert np.array_equal(out[10:40], img)
    crop, _ = square_image(img, "crop")
    assert np.array_equal(crop, img[:, 10:40])
