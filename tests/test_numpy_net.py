"""The numpy twin of the transform network (numpy_net): same outputs as Keras, no TensorFlow."""

import numpy as np
import pytest
from pyrun import run_python

from albumlib import cli, images
from albumlib.style import commands as style_commands
from albumlib.style import fast_style, numpy_net, style_nets

TINY = dict(filters=(4, 8, 8), residual_blocks=1)
NAMES = ["starry_night", "wave", "udnie"]
ATOL = 2e-4


def random_net(seed=0, **kw):
    """A tiny transform net with random weights (kernels, biases, norm scales and offsets), so
    that every weight matters: initial norms would be ones and zeros."""
    model = fast_style.build_transform_net(**{**TINY, **kw})
    rng = np.random.default_rng(seed)
    weights = []
    for w in model.get_weights():
        if w.ndim == 4:
            std = np.sqrt(2.0 / (w.shape[0] * w.shape[1] * (w.shape[2] + w.shape[3])))
            weights.append(rng.normal(0, std, w.shape).astype(np.float32))
        else:
            weights.append((w + rng.normal(0, 0.3, w.shape)).astype(np.float32))
    model.set_weights(weights)
    return model


def photo(h=37, w=53, seed=1):
    return np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)


def same_outputs(text, photos):
    """The numpy network's and the Keras model's outputs of the style `text` (find's syntax)."""
    choice = style_nets.find(text)
    batch = np.stack(photos)
    ours = numpy_net.load_choice(choice)(batch)
    theirs = np.asarray(style_nets.load_choice(choice)(batch))
    assert ours.shape == theirs.shape == batch.shape and ours.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, atol=ATOL)
    return ours


def test_the_constants_are_fast_style_s():
    for name in ("SIZE_MULTIPLE", "MIN_SIDE", "IN_EPSILON", "UPSAMPLE_MODES", "DEFAULT_FILTERS"):
        assert getattr(numpy_net, name) == getattr(fast_style, name), name


@pytest.mark.skipif("wave" not in style_nets.list_bundled_styles(), reason="no bundled wave")
def test_the_bundled_network_one_style_and_a_mix():
    same_outputs("wave", [photo(), photo(seed=2)])
    mixed = same_outputs("wave=0.7,udnie=0.3", [photo(40, 31)])
    assert np.abs(mixed - same_outputs("udnie", [photo(40, 31)])).max() > 1e-3


@pytest.mark.parametrize("size", [(37, 53), (8, 8), (5, 9)])
def test_a_random_one_style_network_of_any_size(tmp_path, size):
    path = style_nets.export(random_net(), tmp_path, "mine", formats=("npz",))["npz"]
    out = same_outputs(str(path), [photo(*size)])              # 9x9 outer convolutions
    assert out.std() > 1e-3                                    # not a flat image
    small = style_nets.export(random_net(1, outer_kernel=3), tmp_path, "k3", formats=("npz",))
    same_outputs(str(small["npz"]), [photo(*size, seed=3)])


def test_a_random_multi_style_network_and_its_mixes(tmp_path):
    path = style_nets.export(random_net(2, n_styles=3), tmp_path, "p", info={"styles": NAMES},
                             formats=("npz",))["npz"]
    a = same_outputs(f"{path}:wave", [photo()])
    b = same_outputs(f"{path}:wave=0.25,udnie=0.75", [photo()])
    assert np.abs(a - b).max() > 1e-3
    net = numpy_net.load(path)                                  # the file's own name: no style
    assert net.n_styles == 3
    with pytest.raises(ValueError, match="bind a style vector"):
        net(photo()[None])
    with pytest.raises(ValueError, match="holds 3 styles.*choose one"):
        numpy_net.load_choice(style_nets.find(str(path)))


def test_a_learnt_style_is_its_base_plus_one_row(tmp_path):
    model = random_net(3, n_styles=3)
    base = style_nets.export(model, tmp_path, "paintings", info={"styles": NAMES},
                             formats=("npz",))["npz"]
    one = random_net(4, n_styles=1)            # its own (gamma, beta), the base's convolutions
    for layer in one.layers:
        if layer.weights and not isinstance(layer, fast_style.ConditionalInstanceNormalization):
            layer.set_weights(model.get_layer(layer.name).get_weights())
    pair = style_nets.export_style(one, tmp_path, "my painting", base=base)
    assert numpy_net.load(pair).n_styles == 4
    learnt = same_outputs(str(pair), [photo()])
    alone = np.asarray(one([photo()[None], np.ones((1, 1), np.float32)]))
    np.testing.assert_allclose(learnt, alone, atol=3e-3)       # (the base is stored in float16)
    same_outputs(f"{pair}:my_painting=0.5,wave=0.5", [photo(21, 30)])


def test_networks_only_keras_runs_are_refused_clearly(tmp_path):
    written = style_nets.export(random_net(5, upsample="transpose"), tmp_path, "t")
    with pytest.raises(numpy_net.Unsupported, match="only \"resize\" networks.*--engine keras"):
        numpy_net.load(written["npz"])
    with pytest.raises(numpy_net.Unsupported, match=".npz network files only"):
        numpy_net.load(written["keras"])
    assert issubclass(numpy_net.Unsupported, ValueError)


def test_a_damaged_file_is_named(tmp_path):
    path = style_nets.export(random_net(), tmp_path, "mine", formats=("npz",))["npz"]
    with np.load(path) as data:
        arrays = dict(data)
    arrays["weight_0003"] = arrays["weight_0003"][:2]
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match="bad.npz: holds .* do not fit"):
        numpy_net.load(tmp_path / "bad.npz")


def test_convolution_bands_and_flops(monkeypatch):
    x = photo(23, 19)
    kernel = np.random.default_rng(0).normal(size=(3, 3, 3, 5)).astype(np.float32)
    bias = np.arange(5, dtype=np.float32)
    whole = numpy_net.conv2d(x, kernel, bias, stride=2)
    monkeypatch.setattr(numpy_net, "IM2COL_BYTES", 1)          # one output row per band
    np.testing.assert_array_equal(numpy_net.conv2d(x, kernel, bias, stride=2), whole)
    assert whole.shape == (11, 9, 5)
    np.testing.assert_allclose(whole[1, 2], np.einsum("yxc,yxco->o", x[2:5, 4:7], kernel) + bias,
                               rtol=1e-5, atol=1e-5)
    net = numpy_net.NumpyNet("n", {"filters": [4, 8, 8], "residual_blocks": 1, "outer_kernel": 9},
                             {}, {})
    config = {"filters": (4, 8, 8), "residual_blocks": 1}
    assert net.flops(37, 53) == fast_style.count_flops(config, 37, 53)


def test_numpy_net_imports_no_keras_to_choose_and_run_a_style():
    result = run_python("""
        import sys
        import numpy as np
        from albumlib.style import numpy_net, style_nets
        a, b = style_nets.list_bundled_styles()[:2]     # a one-style choice and a mix
        for text in (a, f"{a}=0.5,{b}=0.5"):
            numpy_net.load_choice(style_nets.find(text))(np.zeros((1, 8, 8, 3), np.float32))
        print(sorted(m for m in ("keras", "tensorflow") if m in sys.modules))
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


# --------------------------------------------------------------------------- command line


@pytest.fixture
def album(tmp_path):
    """Two photos named alike (a.jpg, a.png: the same output name) and an odd-sized one."""
    folder = tmp_path / "album"
    folder.mkdir()
    images.save_image(photo(30, 41), folder / "a.jpg")
    images.save_image(photo(30, 41, seed=2), folder / "a.png")
    images.save_image(photo(17, 9, seed=3), folder / "b c.jpg")
    return folder


def test_cli_engines_write_the_same_files(album, tmp_path, capsys):
    net = style_nets.export(random_net(6, n_styles=3), tmp_path, "p", info={"styles": NAMES},
                            formats=("npz",))["npz"]
    outputs = {}
    for engine in ("numpy", "keras"):
        out = tmp_path / engine
        for _ in range(2):                  # the second run: -1 names beside the first ones
            assert cli.main(["stylize", str(album), "--style", f"{net}:wave=0.5,udnie=0.5",
                             "-o", str(out), "--engine", engine, "--precision", "float32",
                             "--no-progress"]) == 0
            assert f"({engine} engine)" in capsys.readouterr().out
        outputs[engine] = {p.name: images.load_image(p) for p in out.iterdir()}
    assert sorted(outputs["numpy"]) == sorted(outputs["keras"]) == [
        "a_wave50+udnie50-1.jpg", "a_wave50+udnie50-2.jpg", "a_wave50+udnie50-3.jpg",
        "a_wave50+udnie50.jpg", "b c_wave50+udnie50-1.jpg", "b c_wave50+udnie50.jpg"]
    for name, image in outputs["numpy"].items():
        assert np.abs(image - outputs["keras"][name]).max() < 4 / 255      # (JPEG rounding)
    assert cli.main(["stylize", str(album), "--style", f"{net}:wave", "-o", str(tmp_path / "o"),
                     "--suffix", "_x", "--engine", "numpy", "--overwrite", "--no-progress"]) == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "a_x-1.jpg", "a_x.jpg", "b c_x.jpg"]


def test_cli_auto_engine_picks_by_the_photos_and_the_network(album, tmp_path, capsys, monkeypatch):
    nets = {kind: style_nets.export(random_net(7, upsample=kind), tmp_path, kind)
            for kind in ("resize", "transpose")}
    run = ["stylize", str(album), "-o", str(tmp_path / "o"), "--no-progress", "--style"]
    assert cli.main(run + [str(nets["resize"]["npz"])]) == 0
    assert "(numpy engine)" in capsys.readouterr().out           # three tiny photos
    for network in (nets["transpose"]["npz"], nets["resize"]["keras"]):
        assert cli.main(run + [str(network)]) == 0
        assert "(keras engine)" in capsys.readouterr().out       # numpy cannot run these
        with pytest.raises(SystemExit, match="error: .*--engine keras"):
            cli.main(run + [str(network), "--engine", "numpy"])
    monkeypatch.setattr(style_commands, "NUMPY_SECONDS", 0.0)    # as if the photos were many
    assert cli.main(run + [str(nets["resize"]["npz"])]) == 0
    assert "(keras engine)" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="error: .*no such photo"):
        cli.main(run[:1] + [str(tmp_path / "missing.jpg")] + run[2:] + [str(nets["resize"]["npz"])])


def test_cli_numpy_engine_does_not_start_tensorflow(tmp_path):
    tiny = tmp_path / "tiny photo.jpg"
    images.save_image(photo(), tiny)
    network = style_nets.export(random_net(8), tmp_path, "mine", formats=("npz",))["npz"]
    result = run_python(f"""
        import sys
        from albumlib import cli
        code = cli.main(["stylize", {str(tiny)!r}, "--style", {str(network)!r}, "-o",
                         {str(tmp_path / "out")!r}, "--no-progress"])
        print(code, sorted(m for m in ("keras", "tensorflow") if m in sys.modules))
    """)
    assert result.returncode == 0, result.stderr
    assert "(numpy engine)" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "0 []"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["tiny photo_mine.jpg"]
