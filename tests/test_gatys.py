"""Gatys' optimisation on tiny images: it runs, lowers its losses and honours its knobs."""

import numpy as np
import pytest

from albumlib import images, paths
from albumlib.style import color, gatys


@pytest.fixture(scope="module")
def photo():
    return images.load_image(paths.data_path("album", "01_astronaut.jpg"), max_side=48)


def run(photo, **kw):
    kw.setdefault("steps", 6)
    kw.setdefault("image_size", 48)
    kw.setdefault("progress", False)
    return gatys.stylize(photo, kw.pop("style", "starry_night"), **kw)


def test_adam_lowers_the_style_loss(photo):
    result = run(photo, steps=25)
    h = result.history
    assert result.image.shape == photo.shape and result.image.dtype == np.float32
    assert 0.0 <= result.image.min() and result.image.max() <= 1.0
    assert len(h["total"]) == len(h["style"]) == len(h["seconds"]) == 25
    assert h["content"][0] == pytest.approx(0.0, abs=1e-3)   # starts from the photo itself
    assert h["style"][-1] < 0.5 * h["style"][0]
    assert h["total"][-1] < h["total"][0]
    assert np.abs(result.image - photo).mean() > 0.01        # it did repaint


def test_lbfgs_lowers_the_total_loss(photo):
    result = run(photo, optimizer="lbfgs", steps=8)
    assert 1 <= len(result.history["total"]) <= 8
    assert result.history["total"][-1] < result.history["total"][0]
    assert result.settings["optimizer"] == "lbfgs"


def test_without_style_the_photo_stays(photo):
    content_only = run(photo, style_weight=0.0, tv_weight=0.0, steps=10)
    assert np.abs(content_only.image - photo).mean() < 0.005    # the photo is the optimum
    smoothed = run(photo, style_weight=0.0, steps=30)   # only TV moves it: a little smoothing
    styled = run(photo, steps=30)
    assert np.abs(smoothed.image - photo).mean() < 0.7 * np.abs(styled.image - photo).mean()


def test_noise_init_and_seed(photo):
    a = run(photo, init="noise", steps=2, seed=3)
    b = run(photo, init="noise", steps=2, seed=3)
    c = run(photo, steps=2)
    np.testing.assert_allclose(a.image, b.image, atol=1e-5)
    assert a.history["content"][0] > 10 * max(c.history["content"][0], 1e-6)


def test_preserve_color_keeps_chroma(photo):
    def chroma_error(image):
        return np.abs(color.rgb_to_yiq(image)[..., 1:] - color.rgb_to_yiq(photo)[..., 1:]).mean()

    kept = run(photo, preserve_color=True, steps=15)
    painted = run(photo, steps=15)
    assert chroma_error(kept.image) < 0.01 and chroma_error(kept.image) < 0.3 * chroma_error(painted.image)
    # The luminance is the repainted one, not the photo's.
    assert np.abs(color.luminance(kept.image) - color.luminance(photo)).mean() > 0.02


def test_blend_of_two_styles_and_callback(photo):
    seen = []
    run(photo, style=["starry_night", "wave"], blend_weights=[0.7, 0.3], steps=4,
        callback=lambda step, history, image: seen.append((step, image.shape)), callback_every=2)
    assert [s for s, _ in seen] == [2, 4] and seen[0][1] == photo.shape


def test_style_from_array_and_path(photo, tmp_path):
    painting = images.load_image(paths.data_path("styles", "wave.jpg"), max_side=48)
    images.save_image(painting, tmp_path / "my painting.png")
    a = run(photo, style=painting, steps=2)
    b = run(photo, style=str(tmp_path / "my painting.png"), steps=2)
    assert a.history["style"][0] == pytest.approx(b.history["style"][0], rel=1e-3)


@pytest.mark.parametrize("kw, match", [({"optimizer": "sgd"}, "optimizer"),
                                       ({"init": "zeros"}, "init"),
                                       ({"style": ["wave", "udnie"], "blend_weights": [1.0]}, "blend weight"),
                                       ({"style": "no_such_painting"}, "starry_night")])
def test_bad_arguments_are_clear(photo, kw, match):
    with pytest.raises(ValueError, match=match):
        run(photo, steps=1, **kw)


def test_profile_sets_defaults(photo, monkeypatch):
    monkeypatch.setenv("ALBUM_PROFILE", "smoke")
    result = gatys.stylize(photo, "udnie", progress=False)
    assert len(result.history["total"]) == 4 and max(result.image.shape) == 48  # never upscaled
