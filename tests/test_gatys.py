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


def test_gatys_adam_on_a_toy_loss():
    """The taught loop: Adam moves the pixels towards a target and keeps them in [0, 1]."""
    from keras import ops
    target = np.full((6, 5, 3), 1.5, np.float32)              # outside [0, 1]: the clip must hold

    def loss_fn(image):
        c = ops.sum(ops.square(image[0] - target))
        return c, c, 0.0 * c, 0.0 * c

    seen = []
    start = np.full((6, 5, 3), 0.2, np.float32)
    out = gatys.gatys_adam(loss_fn, start, steps=40, learning_rate=0.05,
                           on_step=lambda i, terms, image: seen.append((i, float(terms[0]), image().shape)))
    assert out.shape == start.shape and out.dtype == np.float32
    assert [i for i, _, _ in seen] == list(range(40)) and seen[0][2] == start.shape
    assert seen[-1][1] < seen[0][1]
    assert out.max() <= 1.0 and out.min() > 0.9
    np.testing.assert_array_equal(start, np.float32(0.2))       # the input is not changed
    assert gatys.gatys_adam(loss_fn, start, steps=3).shape == start.shape   # on_step is optional


def test_stylize_runs_the_taught_pieces(photo, monkeypatch):
    calls = []
    real_adam, real_loss = gatys.gatys_adam, gatys.make_loss_fn
    monkeypatch.setattr(gatys, "gatys_adam", lambda *a, **k: calls.append("adam") or real_adam(*a, **k))
    monkeypatch.setattr(gatys, "make_loss_fn", lambda *a, **k: calls.append("loss") or real_loss(*a, **k))
    run(photo, steps=2)
    assert calls == ["loss", "adam"]
    run(photo, steps=2, optimizer="lbfgs")
    assert calls == ["loss", "adam", "loss"]                    # L-BFGS: the same loss, scipy's loop


def test_make_loss_fn_is_the_weighted_sum_of_the_losses():
    from albumlib.style import losses
    rng = np.random.default_rng(0)
    scale = {"c": 1.0, "s1": 2.0, "s2": -1.0}

    def extractor(x):                                           # a stand-in for VGG19's layers
        x = np.asarray(x)
        return {n: x * k for n, k in scale.items()}

    photo_ = rng.uniform(size=(5, 6, 3)).astype(np.float32)
    image = rng.uniform(size=(1, 5, 6, 3)).astype(np.float32)
    grams = {"s1": np.eye(3, dtype=np.float32), "s2": np.ones((3, 3), np.float32)}
    weights = {"content": 2.0, "style": 3.0, "tv": 5.0}
    total, c, s, tv = gatys.make_loss_fn(extractor, photo_, grams, ["c"], ["s1", "s2"], weights)(image)
    assert float(c) == pytest.approx(float(losses.content_loss(image, photo_[None], reduction="mean")), rel=1e-6)
    expected_s = sum(0.5 * float(losses.style_layer_loss(image * scale[n], grams[n])) for n in grams)
    assert float(s) == pytest.approx(expected_s, rel=1e-6)
    assert float(tv) == pytest.approx(float(losses.total_variation_loss(image)) / 30, rel=1e-6)
    assert float(total) == pytest.approx(2 * float(c) + 3 * float(s) + 5 * float(tv), rel=1e-6)
