"""Benchmark: the fast style transform net against the same net in PyTorch; its training step.

Run: `pip install -r benchmarks/requirements.txt` (PyTorch, CPU build; not a project dependency),
then `python benchmarks/bench_fast_style.py [--sizes 256 512 1024] [--repeats 5] [--train-steps 10]`.
`--no-torch` runs the TensorFlow part alone, `--no-train` skips the training step, `--no-xla` the
XLA column. Prints Markdown to paste into benchmarks/RESULTS.md (with the machine and date).

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
"""

import argparse
import datetime
import functools
import os
import statistics
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from albumlib import fast_style, gatys  # noqa: E402
from bench_gatys import VGG19_CHANNELS, _cpu_name, gatys_step_flops, matmul_peak  # noqa: E402

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
    from albumlib import fast_train
    config = fast_train.TrainConfig(style="starry_night", data_dir="", out_dir="", crop=size,
                                    batch_size=batch, seed=seed, weights="embedded")
    strategy = tf.distribute.get_strategy()
    model, optimizer, loss_fn = fast_train._build(config, strategy)
    step = fast_train._train_step(model, optimizer, loss_fn, strategy, config.mixed_precision)
    photos = tf.constant(np.random.default_rng(seed).random((batch, size, size, 3), np.float32))
    return time_calls(lambda: step(photos)["total"].numpy(), steps)


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


# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024],
                        help="square image sides for inference, batch 1 (multiples of 4)")
    parser.add_argument("--batch", type=int, default=4,
                        help="extra inference row at the first size with this batch (0: none)")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per case (median)")
    parser.add_argument("--train-steps", type=int, default=10, help="timed training steps (median)")
    parser.add_argument("--train-size", type=int, default=256)
    parser.add_argument("--train-batch", type=int, default=4)
    parser.add_argument("--peak-sizes", type=int, nargs="+", default=[1024, 2048, 4096],
                        help="matrix sides of the matmul peak")
    parser.add_argument("--no-torch", action="store_true", help="TensorFlow only")
    parser.add_argument("--no-train", action="store_true", help="skip the training step")
    parser.add_argument("--no-xla", action="store_true", help="skip the jit_compile column")
    args = parser.parse_args(argv)
    if min(args.sizes) < fast_style.MIN_SIDE or args.repeats < 1 or args.train_steps < 1:
        parser.error("sizes must be at least 5 pixels, repeats and train steps at least 1")
    return args


def main(argv=None):
    """Run the benchmark and print Markdown tables; returns the exit status."""
    args = parse_args(argv)
    torch = None
    if not args.no_torch:
        try:
            torch = require_torch()
        except TorchMissingError as err:
            print(err, file=sys.stderr)
            return 2
    import keras
    import numpy as np
    import tensorflow as tf

    versions = f"TF {tf.__version__}, Keras {keras.__version__}"
    if torch is not None:
        versions += f", PyTorch {torch.__version__}"
    print(f"machine: {_cpu_name()}, {os.cpu_count()} cores, {versions}, {datetime.date.today()}")
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

    xla = not args.no_xla
    print(inference_header(xla, net is not None))
    cases = [(size, 1) for size in args.sizes]
    if args.batch:
        cases.append((args.sizes[0], args.batch))
    rng = np.random.default_rng(0)
    for size, batch in cases:
        print(inference_row(model, net, size, batch, args.repeats, peak, xla, rng), flush=True)

    if not args.no_train:
        print()
        print(train_table(args.train_size, args.train_batch, args.train_steps, peak), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
