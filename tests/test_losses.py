"""The vectorised losses against plain loops written from the definitions (the report's style)."""

import numpy as np
import pytest
from keras import ops

from albumlib.style import losses


def gram_loop(f, normalize=True):
    """Gram matrix by explicit loops over channels and positions."""
    h, w, c = f.shape
    g = np.zeros((c, c), dtype=np.float64)
    for a in range(c):
        for b in range(c):
            s = 0.0
            for i in range(h):
                for j in range(w):
                    s += float(f[i, j, a]) * float(f[i, j, b])
            g[a, b] = s
    return g / (h * w * c) if normalize else g


def tv_loop(x, beta=2.5):
    """Total variation of one (H, W, C) image by explicit loops, from the definition."""
    h, w, c = x.shape
    total = 0.0
    for i in range(h - 1):
        for j in range(w - 1):
            for k in range(c):
                d1 = float(x[i + 1, j, k]) - float(x[i, j, k])
                d2 = float(x[i, j + 1, k]) - float(x[i, j, k])
                total += (d1 * d1 + d2 * d2) ** (beta / 2)
    return total


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("shape", [(5, 7, 3), (4, 4, 6), (1, 9, 2)])
@pytest.mark.parametrize("normalize", [True, False])
def test_gram_single_image_matches_loop(rng, shape, normalize):
    f = rng.normal(size=shape).astype(np.float32)
    got = ops.convert_to_numpy(losses.gram_matrix(f, normalize=normalize))
    assert got.shape == (shape[-1], shape[-1])
    np.testing.assert_allclose(got, gram_loop(f, normalize), rtol=1e-5, atol=1e-5)


def test_gram_batch_non_square(rng):
    f = rng.normal(size=(3, 6, 11, 4)).astype(np.float32)
    got = ops.convert_to_numpy(losses.gram_matrix(f))
    assert got.shape == (3, 4, 4)
    for b in range(3):
        np.testing.assert_allclose(got[b], gram_loop(f[b]), rtol=1e-5, atol=1e-6)
    # Symmetric and positive semi-definite, as every Gram matrix must be.
    np.testing.assert_allclose(got, np.transpose(got, (0, 2, 1)), atol=1e-6)
    assert np.linalg.eigvalsh(got.astype(np.float64)).min() > -1e-5


def test_gram_rejects_bad_rank():
    with pytest.raises(ValueError, match="expected features"):
        losses.gram_matrix(np.zeros((3, 3), np.float32))


def test_content_loss_sum_and_mean(rng):
    a = rng.normal(size=(2, 5, 3, 4)).astype(np.float32)
    b = rng.normal(size=(2, 5, 3, 4)).astype(np.float32)
    expected = sum((float(x) - float(y)) ** 2 for x, y in zip(a.ravel(), b.ravel()))
    got = float(losses.content_loss(a, b))
    assert got == pytest.approx(expected, rel=1e-5)
    assert float(losses.content_loss(a, b, reduction="mean")) == pytest.approx(expected / a.size, rel=1e-5)
    assert float(losses.content_loss(a, a)) == 0.0
    with pytest.raises(ValueError):
        losses.content_loss(a, b, reduction="max")


def test_style_loss_weighted_layers(rng):
    feats = [rng.normal(size=(1, 6, 5, 3)).astype(np.float32),
             rng.normal(size=(1, 3, 4, 5)).astype(np.float32)]
    styles = [rng.normal(size=(7, 9, 3)).astype(np.float32),
              rng.normal(size=(2, 3, 5)).astype(np.float32)]
    targets = [gram_loop(s) for s in styles]
    weights = [0.3, 2.0]
    expected = 0.0
    for f, t, w in zip(feats, targets, weights):
        g = gram_loop(f[0])
        expected += w * float(((g - t) ** 2).sum())
    got = float(losses.style_loss(feats, [t.astype(np.float32) for t in targets], weights))
    assert got == pytest.approx(expected, rel=1e-4)
    # Dict form, default equal weights.
    got_dict = float(losses.style_loss({"a": feats[0], "b": feats[1]},
                                       {"a": targets[0].astype(np.float32), "b": targets[1].astype(np.float32)}))
    expected_equal = sum(0.5 * float(((gram_loop(f[0]) - t) ** 2).sum()) for f, t in zip(feats, targets))
    assert got_dict == pytest.approx(expected_equal, rel=1e-4)
    # A feature map against its own Gram has zero style loss.
    assert float(losses.style_loss([styles[0]], [gram_loop(styles[0]).astype(np.float32)])) < 1e-10


def test_style_loss_length_mismatch(rng):
    f = rng.normal(size=(4, 4, 2)).astype(np.float32)
    with pytest.raises(ValueError):
        losses.style_loss([f, f], [np.zeros((2, 2), np.float32)])


@pytest.mark.parametrize("shape", [(6, 9, 3), (8, 5, 1)])
@pytest.mark.parametrize("beta", [2.5, 2.0, 1.0])
def test_total_variation_matches_loop(rng, shape, beta):
    x = rng.uniform(size=shape).astype(np.float32)
    got = float(losses.total_variation_loss(x, beta=beta))
    assert got == pytest.approx(tv_loop(x, beta), rel=1e-4)


def test_total_variation_batch_sums_images(rng):
    x = rng.uniform(size=(3, 7, 4, 3)).astype(np.float32)
    got = float(losses.total_variation_loss(x))
    assert got == pytest.approx(sum(tv_loop(x[b]) for b in range(3)), rel=1e-4)


def test_total_variation_of_flat_image_is_zero_with_finite_gradient():
    import tensorflow as tf
    x = tf.Variable(tf.fill((1, 5, 5, 3), 0.5))
    with tf.GradientTape() as tape:
        loss = losses.total_variation_loss(x)
    grad = tape.gradient(loss, x)
    assert float(loss) == 0.0
    assert np.isfinite(grad.numpy()).all()


def test_total_variation_penalises_noise_more_than_smooth(rng):
    smooth = np.tile(np.linspace(0, 1, 16, dtype=np.float32)[None, :, None], (16, 1, 3))
    noisy = rng.uniform(size=(16, 16, 3)).astype(np.float32)
    assert float(losses.total_variation_loss(noisy)) > 10 * float(losses.total_variation_loss(smooth))


def test_check_features_and_the_losses_refuse_bad_ranks():
    assert tuple(losses.check_features(np.zeros((2, 3, 4), np.float32)).shape) == (2, 3, 4)
    for bad in (np.zeros((3, 3), np.float32), np.zeros((1, 2, 3, 4, 5), np.float32)):
        with pytest.raises(ValueError, match="expected features"):
            losses.check_features(bad)
        with pytest.raises(ValueError, match="expected features"):
            losses.total_variation_loss(bad)


def test_layer_lists_orders_dicts_and_defaults_the_weights():
    f, g, w = losses.layer_lists({"b": 1, "a": 2}, {"a": 20, "b": 10}, {"a": 0.2, "b": 0.1})
    assert (f, g, w) == ([1, 2], [10, 20], [0.1, 0.2])          # the features' layer order
    assert losses.layer_lists([1, 2, 3, 4], [5, 6, 7, 8])[2] == [0.25] * 4
    with pytest.raises(ValueError, match="layer weights"):
        losses.layer_lists([1, 2], [3, 4], [1.0])
    with pytest.raises(ValueError, match="target Grams"):
        losses.layer_lists([1, 2], [3])


def test_gram_dtypes(rng):
    f = rng.normal(size=(4, 5, 3))
    assert ops.convert_to_numpy(losses.gram_matrix(f.astype(np.float16))).dtype == np.float32
    assert ops.convert_to_numpy(losses.gram_matrix(f)).dtype == np.float64
    np.testing.assert_allclose(ops.convert_to_numpy(losses.gram_matrix(f)), gram_loop(f), rtol=1e-12)


def test_losses_in_a_graph_of_unknown_sizes(rng):
    """The fast network's training calls them inside tf.function, batch and size unknown."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec((None, None, None, 3), tf.float32)])
    def both(x):
        return losses.gram_matrix(x), losses.total_variation_loss(x)

    x = rng.uniform(size=(2, 7, 5, 3)).astype(np.float32)
    gram, tv = both(tf.constant(x))
    np.testing.assert_allclose(gram.numpy()[1], gram_loop(x[1]), rtol=1e-5, atol=1e-6)
    assert float(tv) == pytest.approx(tv_loop(x[0]) + tv_loop(x[1]), rel=1e-4)
