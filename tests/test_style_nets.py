"""Saving and loading trained fast style networks: .keras and float16 .npz, info, bundled names."""

import json

import keras
import numpy as np
import pytest

from albumlib.style import fast_style, style_nets

TINY = dict(filters=(8, 16, 16), residual_blocks=1)


def tiny_net(seed=0, **kw):
    """A tiny transform net with random (not initial) weights, so that the round trip means
    something: biases and norm scales are not zeros and ones."""
    model = fast_style.build_transform_net(**{**TINY, **kw})
    model.set_weights(random_weights(model, seed))
    return model


def random_weights(model, seed, noise=0.05):
    """Seeded weights: Glorot-normal kernels, IN scales 1 + noise, biases/offsets noise."""
    rng = np.random.default_rng(seed)
    out = []
    for w in model.get_weights():
        if w.ndim == 4:
            k = w.shape[0] * w.shape[1]
            std = np.sqrt(2.0 / (k * (w.shape[2] + w.shape[3])))
            out.append(rng.normal(0, std, w.shape).astype(np.float32))
        else:      # ones and zeros at initialisation: deterministic already
            out.append((w + rng.normal(0, noise, w.shape)).astype(np.float32))
    return out


@pytest.fixture(scope="module")
def net():
    return tiny_net()


@pytest.fixture
def photo():
    return np.random.default_rng(1).random((1, 37, 53, 3), dtype=np.float32)


INFO = {"style": "starry_night", "steps": 2000, "images": 82783, "seconds": 1234.5,
        "final_losses": {"total": 1.5e6, "content": 2e5, "style": 3e9, "tv": 0.02}}


def test_round_trip_keras_and_npz(net, photo, tmp_path):
    written = style_nets.export(net, tmp_path / "new folder", "starry night é", info=INFO)
    assert set(written) == {"keras", "npz"}
    assert written["keras"].name == "starry night é.keras" and written["npz"].suffix == ".npz"
    assert sorted(p.name for p in (tmp_path / "new folder").iterdir()) == [
        "starry night é.keras", "starry night é.npz"]               # no temporary files left
    expected = np.asarray(net(photo))

    plain = keras.saving.load_model(written["keras"], safe_mode=True)   # no albumlib needed
    np.testing.assert_allclose(np.asarray(plain(photo)), expected, atol=1e-6)
    from_keras = style_nets.load(written["keras"])
    np.testing.assert_allclose(np.asarray(from_keras(photo)), expected, atol=1e-6)

    from_npz = style_nets.load(written["npz"])
    assert fast_style.transform_net_config(from_npz) == fast_style.transform_net_config(net)
    assert all(w.dtype == np.float32 for w in from_npz.get_weights())
    out = np.asarray(from_npz(photo))
    assert out.shape == (1, 37, 53, 3)
    np.testing.assert_allclose(out, expected, atol=5e-3)      # float16 weights
    assert np.abs(out - expected).mean() < 1e-3

    assert style_nets.info(written["npz"]) == INFO
    assert style_nets.info(written["keras"]) == INFO


def test_npz_holds_float16_weights_and_json_no_pickles(net, tmp_path):
    path = style_nets.export(net, tmp_path, "s", info={"steps": np.int64(3),
                                                       "loss": np.float32(0.5)})["npz"]
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    assert all(a.dtype != object for a in arrays.values())
    weights = [arrays[k] for k in sorted(arrays) if k.startswith("weight_")]
    assert len(weights) == len(net.get_weights())
    assert all(w.dtype == np.float16 for w in weights)
    meta = json.loads(arrays["config"].tobytes().decode())
    assert meta["architecture"] == {"upsample": "resize", "filters": [8, 16, 16],
                                    "residual_blocks": 1}
    assert meta["params"] == net.count_params()
    assert json.loads(arrays["info"].tobytes().decode()) == {"steps": 3, "loss": 0.5}


def test_default_network_npz_is_small(tmp_path, photo):
    model = fast_style.build_transform_net()
    assert model.count_params() == 1_679_235
    model.set_weights(random_weights(model, 0))   # trained-looking: no zeros to compress away
    written = style_nets.export(model, tmp_path, "default")
    assert written["npz"].stat().st_size < 4_000_000          # ~3.4 MB of float16
    assert style_nets.info(written["npz"]) == {}
    loaded = style_nets.load(written["npz"])
    np.testing.assert_allclose(np.asarray(loaded(photo)), np.asarray(model(photo)), atol=5e-3)


def test_transpose_and_mixed_precision_models_export_as_float32(tmp_path, photo):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = tiny_net(upsample="transpose")
    finally:
        keras.config.set_dtype_policy(previous)
    written = style_nets.export(model, tmp_path, "mixed")
    for path in written.values():
        loaded = style_nets.load(path)
        assert fast_style.transform_net_config(loaded)["upsample"] == "transpose"
        assert all(layer.dtype_policy.name == "float32" for layer in loaded.layers)
        assert loaded(photo).shape == (1, 37, 53, 3)


def test_export_replaces_whole_files_only(net, tmp_path, monkeypatch):
    first = style_nets.export(net, tmp_path, "s", info={"run": 1})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken_save(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        style_nets.export(net, tmp_path, "s", info={"run": 2})
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["s.keras", "s.npz"]                               # no half-written files
    assert first["keras"].read_bytes() == before["s.keras"]            # the old one intact
    assert style_nets.info(first["keras"]) == {"run": 1}
    assert style_nets.info(first["npz"]) == {"run": 2}                 # written before the failure


def test_export_rejects_bad_input(net, tmp_path):
    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="build_transform_net"):
        style_nets.export(other, tmp_path, "x")
    with pytest.raises(ValueError, match="JSON"):
        style_nets.export(net, tmp_path, "x", info={"when": object()})
    with pytest.raises(ValueError, match="plain file name"):
        style_nets.export(net, tmp_path, "../x")
    with pytest.raises(ValueError, match="formats"):
        style_nets.export(net, tmp_path, "x", formats=("onnx",))
    assert list(tmp_path.iterdir()) == []


def test_export_npz_only(net, tmp_path):
    written = style_nets.export(net, tmp_path, "only", info={"a": 1}, formats=("npz",))
    assert set(written) == {"npz"} and sorted(p.name for p in tmp_path.iterdir()) == ["only.npz"]
    assert style_nets.info(written["npz"]) == {"a": 1}


def test_load_errors_name_the_file(net, tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        style_nets.load(tmp_path / "missing.npz")
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    with pytest.raises(ValueError, match="garbage.npz"):
        style_nets.load(garbage)
    with pytest.raises(ValueError, match="garbage.npz"):
        style_nets.info(garbage)
    bad_keras = tmp_path / "bad.keras"
    bad_keras.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="bad.keras"):
        style_nets.load(bad_keras)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ValueError, match="other.npz.*not written by"):
        style_nets.load(other)
    text = tmp_path / "net.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match=r"net.txt.*\.keras or \.npz"):
        style_nets.load(text)

    # a damaged npz: one weight array missing
    good = style_nets.export(net, tmp_path / "good", "s")["npz"]
    with np.load(good, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if k != "weight_0003"}
    damaged = tmp_path / "damaged.npz"
    np.savez(damaged, **arrays)
    with pytest.raises(ValueError, match="damaged.npz.*do not fit"):
        style_nets.load(damaged)

    # a .keras model that is not a transform network
    dense = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    dense.save(tmp_path / "dense.keras")
    with pytest.raises(ValueError, match="dense.keras.*not a style transform network"):
        style_nets.load(tmp_path / "dense.keras")
    assert style_nets.info(tmp_path / "dense.keras") == {}


def test_bundled_networks_and_resolve(net, tmp_path, monkeypatch):
    monkeypatch.setenv("ALBUM_DATA_DIR", str(tmp_path / "data"))
    assert style_nets.bundled_dir() == tmp_path / "data" / "fast_styles"
    assert style_nets.list_bundled() == []
    with pytest.raises(ValueError, match="no trained networks are bundled yet.*train-style"):
        style_nets.resolve("starry_night")

    written = style_nets.export(net, style_nets.bundled_dir(), "starry_night", info={"a": 1})
    style_nets.export(net, style_nets.bundled_dir(), "wave")
    written["keras"].rename(written["keras"].with_name("udnie.keras"))   # a .keras-only one
    assert style_nets.list_bundled() == ["starry_night", "udnie", "wave"]
    assert style_nets.resolve("starry_night") == written["npz"]
    assert style_nets.resolve("Starry Night") == written["npz"]
    assert style_nets.resolve("udnie").suffix == ".keras"
    assert style_nets.info("starry_night") == {"a": 1}
    assert fast_style.transform_net_config(style_nets.load("starry_night"))["filters"] == (8, 16, 16)
    # an existing file is returned as it is, also one outside the bundled folder
    own = style_nets.export(net, tmp_path / "mine", "my net")["npz"]
    assert style_nets.resolve(own) == own and style_nets.resolve(str(own)) == own

    with pytest.raises(ValueError, match="'the_scream'.*bundled networks: starry_night, udnie, "
                                         "wave"):
        style_nets.resolve("the_scream")
    with pytest.raises(ValueError, match="is a folder"):
        style_nets.resolve(tmp_path / "mine")
    with pytest.raises(TypeError):
        style_nets.resolve(3)
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        style_nets.load(tmp_path / "nope.npz")
