"""benchmarks/bench_fast_style.py: FLOP counts, the weight mapping to PyTorch, the command line.

No timings are asserted. The PyTorch twin is checked where torch is installed (it is not a project
dependency; see benchmarks/requirements.txt).
"""

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_fast_style as bench  # noqa: E402
import bench_gatys  # noqa: E402
from albumlib import fast_style  # noqa: E402

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
    with pytest.raises(SystemExit):
        bench.parse_args(["--sizes", "4"])


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
                         "--train-batch", "1", "--peak-sizes", "32"])
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
