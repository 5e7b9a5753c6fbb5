"""Colour preservation and the style-strength blend."""

import numpy as np
import pytest

from albumlib.style import color


def test_yiq_round_trip():
    rgb = np.random.default_rng(1).uniform(size=(5, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(color.yiq_to_rgb(color.rgb_to_yiq(rgb)), rgb, atol=1e-5)


def test_grey_has_no_chroma():
    grey = np.full((2, 2, 3), 0.4, np.float32)
    yiq = color.rgb_to_yiq(grey)
    np.testing.assert_allclose(yiq[..., 0], 0.4, atol=1e-6)
    np.testing.assert_allclose(yiq[..., 1:], 0.0, atol=1e-6)


def test_transfer_luminance_keeps_photo_colours():
    rng = np.random.default_rng(2)
    photo = rng.uniform(0.2, 0.8, size=(6, 6, 3)).astype(np.float32)
    painted = rng.uniform(0.2, 0.8, size=(6, 6, 3)).astype(np.float32)
    out = color.transfer_luminance(painted, photo)
    yo, yp, yc = color.rgb_to_yiq(out), color.rgb_to_yiq(painted), color.rgb_to_yiq(photo)
    np.testing.assert_allclose(yo[..., 0], yp[..., 0], atol=1e-4)    # luminance from the painting
    np.testing.assert_allclose(yo[..., 1:], yc[..., 1:], atol=1e-4)  # chroma from the photo
    with pytest.raises(ValueError, match="shapes differ"):
        color.transfer_luminance(painted[:3], photo)


def test_match_luminance_is_grey_with_photo_statistics():
    rng = np.random.default_rng(3)
    style = rng.uniform(size=(8, 8, 3)).astype(np.float32)
    photo = rng.uniform(0.3, 0.5, size=(8, 8, 3)).astype(np.float32)
    grey = color.match_luminance(style, photo)
    assert np.allclose(grey[..., 0], grey[..., 1]) and np.allclose(grey[..., 1], grey[..., 2])
    assert grey[..., 0].mean() == pytest.approx(color.luminance(photo).mean(), abs=0.02)


def test_blend_strength():
    a, b = np.ones((2, 2, 3), np.float32), np.zeros((2, 2, 3), np.float32)
    np.testing.assert_allclose(color.blend(a, b, 0.25), 0.25)
    with pytest.raises(ValueError):
        color.blend(a, b, 1.5)
