"""Fast style transfer: the transform net's shapes, padding, saving; the loss that trains it."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from albumlib.style import fast_style as fs
from albumlib import images, paths

SMALL = dict(filters=(8, 16, 32), residual_blocks=2)
SIZES = [(37, 53), (64, 64), (33, 33), (5, 9)]


def layers_of(model, cls):
    """The layers of `model` that are instances of cls."""
    return [layer for layer in model.layers if isinstance(layer, cls)]


def randomise_norms(model, seed=0):
    """Give every instance norm a random scale and offset, so its constant maps are not zero."""
    rng = np.random.default_rng(seed)
    for layer in layers_of(model, fs.InstanceNormalization):
        c = layer.scale.shape[0]
        layer.scale.assign(rng.uniform(0.5, 2.0, c).astype("float32"))
        layer.offset.assign(rng.normal(0.0, 1.0, c).astype("float32"))
    return model


@pytest.fixture(scope="module")
def nets():
    """A small transform net per upsampling mode, with random instance-norm parameters."""
    keras.utils.set_random_seed(0)
    return {mode: randomise_norms(fs.build_transform_net(mode, **SMALL), seed=i)
            for i, mode in enumerate(fs.UPSAMPLE_MODES)}


@pytest.fixture(scope="module")
def photo():
    """A real photo, 64 px on its long side (64 x 64 after a centre crop)."""
    image = images.load_image(paths.data_path("album", "01_astronaut.jpg"), max_side=64)
    return images.center_crop_square(image)


@pytest.fixture(scope="module")
def style():
    """The Starry Night, 64 px on its long side."""
    from albumlib.style import styles
    return styles.load_style("starry_night", max_side=64)


@pytest.fixture(scope="module")
def loss_fn(style):
    """The perceptual loss for that style, on the embedded VGG19 weights (no network)."""
    return fs.PerceptualLoss(style, weights="embedded")


# --------------------------------------------------------------------------- the transform net


@pytest.mark.parametrize("mode", fs.UPSAMPLE_MODES)
def test_any_size_in_same_size_out(nets, mode):
    model = nets[mode]
    rng = np.random.default_rng(1)
    for h, w in SIZES:
        out = np.asarray(model(rng.uniform(0, 1, (2, h, w, 3)).astype("float32")))
        assert out.shape == (2, h, w, 3), (h, w)
        assert out.dtype == np.float32
        assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("mode", fs.UPSAMPLE_MODES)
def test_dynamic_shapes_in_a_compiled_graph(nets, mode):
    """One traced graph with unknown H, W serves odd and even sizes alike."""
    model = nets[mode]
    run = tf.function(lambda x: model(x), input_signature=[tf.TensorSpec((None, None, None, 3))])
    for h, w in SIZES:
        x = np.random.default_rng(h).uniform(0, 1, (1, h, w, 3)).astype("float32")
        out = run(x).numpy()
        assert out.shape == (1, h, w, 3)
        np.testing.assert_allclose(out, np.asarray(model(x)), atol=1e-5)


def test_instance_norm_statistics():
    rng = np.random.default_rng(2)
    # per sample and channel: very different means and spreads
    x = (rng.normal(size=(3, 12, 17, 5)) * rng.uniform(0.1, 20, (3, 1, 1, 5))
         + rng.uniform(-50, 50, (3, 1, 1, 5))).astype("float32")
    layer = fs.InstanceNormalization()
    y = np.asarray(layer(x))
    np.testing.assert_allclose(np.asarray(layer.scale), 1.0)
    np.testing.assert_allclose(np.asarray(layer.offset), 0.0)
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 1.0, atol=1e-3)
    # it is GroupNormalization with one group per channel
    group = keras.layers.GroupNormalization(groups=-1, epsilon=1e-5)
    np.testing.assert_allclose(y, np.asarray(group(x)), atol=1e-4)
    # the learnt scale and offset set each channel's spread and mean
    layer.scale.assign(np.full(5, 2.0, "float32"))
    layer.offset.assign(np.arange(5, dtype="float32"))
    y = np.asarray(layer(x))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), np.broadcast_to(np.arange(5.0), (3, 5)),
                               atol=1e-3)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 2.0, atol=2e-3)


def test_reflection_pad_mirrors_without_repeating_the_edge():
    x = np.arange(12, dtype="float32").reshape(1, 3, 4, 1)
    y = np.asarray(fs.ReflectionPad2D((1, 2))(x))[0, ..., 0]
    assert y.shape == (5, 8)
    np.testing.assert_array_equal(y[1:-1, 2:-2], x[0, ..., 0])
    np.testing.assert_array_equal(y[0], y[2])             # the row above mirrors row 1, not row 0
    np.testing.assert_array_equal(y[1, :3], [2, 1, 0])    # columns 2, 1 mirrored to the left


@pytest.mark.parametrize("mode", ["resize"])
def test_no_zero_padding_a_flat_image_stays_flat(nets, mode):
    """Reflection padding everywhere: a constant photo gives a constant result, borders included."""
    model = nets[mode]
    assert all(layer.padding == "valid" for layer in layers_of(model, keras.layers.Conv2D))
    for h, w in [(37, 53), (32, 32)]:
        out = np.asarray(model(np.full((1, h, w, 3), 0.3, "float32")))[0]
        spread = out.max(axis=(0, 1)) - out.min(axis=(0, 1))
        assert spread.max() < 1e-3, spread
    # The test can fail: the same first layer with zero ("same") padding darkens the borders.
    conv = model.get_layer("conv_in_conv")
    zero_padded = keras.layers.Conv2D(conv.filters, 9, padding="same")
    zero_padded.build((None, None, None, 3))
    zero_padded.set_weights(conv.get_weights())
    maps = np.asarray(zero_padded(np.full((1, 32, 32, 3), 0.3, "float32")))[0]
    assert (maps.max(axis=(0, 1)) - maps.min(axis=(0, 1))).max() > 0.05


def test_transpose_option_uses_strided_transposed_convolutions(nets):
    default, transpose = fs.build_transform_net(**SMALL), nets["transpose"]
    assert len(layers_of(transpose, keras.layers.Conv2DTranspose)) == 2
    assert not layers_of(transpose, keras.layers.UpSampling2D)
    assert not layers_of(default, keras.layers.Conv2DTranspose)
    assert len(layers_of(default, keras.layers.UpSampling2D)) == 2
    assert fs.transform_net_config(transpose)["upsample"] == "transpose"
    assert fs.transform_net_config(default)["upsample"] == "resize"
    with pytest.raises(ValueError, match="upsample"):
        fs.build_transform_net("bilinear")


def test_transposed_convolutions_paint_a_checkerboard(nets):
    """On a flat image, uneven kernel overlap leaves a pattern of period 4 (two x2 stages)."""
    out = np.asarray(nets["transpose"](np.full((1, 64, 64, 3), 0.3, "float32")))[0]
    inner = out[8:-8, 8:-8]                                # away from the zero-padded borders
    phases = inner.reshape(12, 4, 12, 4, 3).mean(axis=(0, 2))   # mean per (row mod 4, col mod 4)
    between = phases.std(axis=(0, 1)).max()
    within = (inner.reshape(12, 4, 12, 4, 3) - phases[None, :, None]).std(axis=(0, 2)).max()
    assert between > 1e-3 and within < 0.1 * between, (between, within)
    flat = np.asarray(nets["resize"](np.full((1, 64, 64, 3), 0.3, "float32")))[0]
    assert np.ptp(flat, axis=(0, 1)).max() < 1e-3


def test_mixed_precision_gives_float32_images():
    keras.utils.set_random_seed(5)
    full = fs.build_transform_net(**SMALL)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        half = fs.build_transform_net(**SMALL)
    finally:
        keras.config.set_dtype_policy(previous)
    half.set_weights(full.get_weights())
    x = np.random.default_rng(5).uniform(0, 1, (1, 37, 53, 3)).astype("float32")
    out = half(x)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    np.testing.assert_allclose(np.asarray(out), np.asarray(full(x)), atol=2e-2)


def test_parameter_count():
    model = fs.build_transform_net()
    # conv 9x9 3->32, 3x3 32->64, 64->128, 10 x 3x3 128->128, 128->64, 64->32, 9x9 32->3, + IN
    assert model.count_params() == 1_679_235
    assert 1.6e6 < model.count_params() < 1.75e6
    assert fs.build_transform_net("transpose").count_params() == 1_679_235


def test_save_and_reload_safely(nets, tmp_path):
    x = np.random.default_rng(3).uniform(0, 1, (1, 37, 53, 3)).astype("float32")
    for mode, model in nets.items():
        path = tmp_path / f"{mode}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
        assert layers_of(loaded, fs.InstanceNormalization) and layers_of(loaded, fs.ReflectionPad2D)
        np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))


def test_count_flops_by_hand():
    k = lambda h, w, cin, cout, size: 2 * h * w * cin * cout * size * size  # noqa: E731
    # 30 x 30 is padded to 32 x 32; filters (4, 8, 16), one residual block
    config = dict(filters=(4, 8, 16), residual_blocks=1)
    common = (k(32, 32, 3, 4, 9) + k(16, 16, 4, 8, 3) + k(8, 8, 8, 16, 3)
              + 2 * k(8, 8, 16, 16, 3) + k(32, 32, 4, 3, 9))
    resize = common + k(16, 16, 16, 8, 3) + k(32, 32, 8, 4, 3)
    transpose = common + k(8, 8, 16, 8, 3) + k(16, 16, 8, 4, 3)   # swept at the input grid
    assert fs.count_flops(config, 30, 30) == resize == 6_045_696
    assert fs.count_flops({**config, "upsample": "transpose"}, 30, 30) == transpose
    assert fs.count_flops(fs.build_transform_net(**config), 32, 32) == resize
    assert fs.count_flops(fs.build_transform_net(), 256, 256) == fs.count_flops({}, 256, 256)
    assert 19e9 < fs.count_flops({}, 256, 256) < 21e9


def test_stylize_array(nets, photo):
    model = nets["resize"]
    out = fs.stylize_array(model, photo)
    assert out.shape == photo.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, np.asarray(model(photo[None]))[0], atol=1e-6)
    small = fs.stylize_array(model, images.to_uint8(photo[:, :50]), max_side=25)
    assert small.shape == (25, 20, 3) and 0.0 <= small.min() and small.max() <= 1.0
    with pytest.raises(ValueError, match="at least"):
        fs.stylize_array(model, photo[:4, :10])


# --------------------------------------------------------------------------- the perceptual loss


def test_content_loss_is_zero_for_the_photo_itself(loss_fn, photo):
    terms = loss_fn(photo[None], photo[None])
    assert set(terms) == {"total", "content", "style", "tv"}
    assert float(terms["content"]) == pytest.approx(0.0, abs=1e-6)
    assert all(np.ndim(v) == 0 and np.isfinite(float(v)) for v in terms.values())
    w = loss_fn.weights
    assert float(terms["total"]) == pytest.approx(
        w["style"] * float(terms["style"]) + w["tv"] * float(terms["tv"]), rel=1e-5)


def test_style_loss_prefers_the_style(loss_fn, style, photo):
    own = float(loss_fn(style[None], style[None])["style"])
    other = float(loss_fn(photo[None], photo[None])["style"])
    assert own < 1e-3 * other


def test_batches_average_per_image_losses(loss_fn, photo, style):
    other = images.resize_to(style, 64, 64)
    stylized = np.stack([other, photo[::-1]])
    batch = loss_fn(np.stack([photo, photo]), stylized)
    one = [loss_fn(photo, stylized[i]) for i in range(2)]
    for key in ("total", "content", "style", "tv"):
        assert float(batch[key]) == pytest.approx(np.mean([float(o[key]) for o in one]), rel=1e-4)


def test_the_loss_compiles_for_unknown_sizes(loss_fn, photo):
    run = tf.function(lambda c, s: loss_fn(c, s),
                      input_signature=[tf.TensorSpec((None, None, None, 3))] * 2)
    for h, w in [(64, 64), (37, 53)]:
        c, s = photo[None, :h, :w], photo[None, ::-1][:, :h, :w]
        compiled, eager = run(c, s), loss_fn(c, s)
        for key in eager:
            assert float(compiled[key]) == pytest.approx(float(eager[key]), rel=1e-4)


def test_gradients_reach_the_weights(nets, loss_fn, photo):
    model = nets["resize"]
    with tf.GradientTape() as tape:
        total = loss_fn(photo[None], model(photo[None], training=True))["total"]
    grads = tape.gradient(total, model.trainable_variables)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
    kernels = [g for v, g in zip(model.trainable_variables, grads) if "kernel" in v.path]
    assert len(kernels) == 3 + 2 * SMALL["residual_blocks"] + 2 + 1
    assert all(float(tf.norm(g)) > 0 for g in kernels)
    # A conv bias just before an instance norm gets no gradient: the norm subtracts the mean.
    scale = float(tf.linalg.global_norm(grads))
    for v, g in zip(model.trainable_variables, grads):
        if v.path.endswith("_conv/bias") and not v.path.startswith("conv_out"):
            assert float(tf.norm(g)) < 1e-5 * scale, v.path


def test_a_few_adam_steps_lower_the_loss(loss_fn, photo):
    """Overfit one photo: the perceptual loss must fall."""
    keras.utils.set_random_seed(4)
    model = fs.build_transform_net(**SMALL)
    opt = keras.optimizers.Adam(learning_rate=3e-3)
    x = tf.constant(photo[None])

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            terms = loss_fn(x, model(x, training=True))
        grads = tape.gradient(terms["total"], model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return terms

    history = [float(step()["total"]) for _ in range(20)]
    assert np.isfinite(history).all()
    assert history[-1] < 0.3 * history[0], history
