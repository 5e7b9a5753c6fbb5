"""Benchmark: one Gatys step at 256 and 512 px against this machine's fp32 matmul peak.

Run: `make bench` or `python benchmarks/bench_gatys.py [--sizes 256 512] [--repeats 5]`.
Prints a Markdown table to paste into benchmarks/RESULTS.md (with the machine and date).

FLOPs are counted from the VGG19 convolutions up to the deepest layer the losses use: each conv
costs 2*H*W*Cin*Cout*9 forward, and the step also needs the gradient with respect to its input
(the same count again); no weight gradients are needed (the network is frozen). Gram matrices add
2*HW*C^2 per style layer (and their gradients about twice that).
"""

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from albumlib import images, paths  # noqa: E402
from machine import cpu_name  # noqa: E402
from albumlib.style import gatys

VGG19_CHANNELS = {  # conv layer -> (in channels, out channels, pooling levels before it)
    "block1_conv1": (3, 64, 0), "block1_conv2": (64, 64, 0),
    "block2_conv1": (64, 128, 1), "block2_conv2": (128, 128, 1),
    "block3_conv1": (128, 256, 2), "block3_conv2": (256, 256, 2),
    "block3_conv3": (256, 256, 2), "block3_conv4": (256, 256, 2),
    "block4_conv1": (256, 512, 3), "block4_conv2": (512, 512, 3),
    "block4_conv3": (512, 512, 3), "block4_conv4": (512, 512, 3),
    "block5_conv1": (512, 512, 4), "block5_conv2": (512, 512, 4),
    "block5_conv3": (512, 512, 4), "block5_conv4": (512, 512, 4),
}


def gatys_step_flops(h, w, layers, backward=True):
    """FLOPs of one Gatys step (forward + input gradient, or forward alone) for an h x w image."""
    order = list(VGG19_CHANNELS)
    deepest = max(order.index(name) for name in layers)
    passes = 2 if backward else 1
    total = 0.0
    for name in order[:deepest + 1]:
        cin, cout, pools = VGG19_CHANNELS[name]
        hh, ww = h // 2 ** pools, w // 2 ** pools
        total += passes * 2.0 * hh * ww * cin * cout * 9
    for name in gatys.STYLE_LAYERS:
        cin, cout, pools = VGG19_CHANNELS[name]
        total += (3 if backward else 1) * 2.0 * (h // 2 ** pools) * (w // 2 ** pools) * cout * cout
    return total


def matmul_peak(sizes=(1024, 2048, 4096), repeats=7):
    """fp32 matmul peak: the best over sizes of the median GFLOP/s of an n x n TF matmul."""
    import tensorflow as tf

    @tf.function
    def mm(x, y):
        return tf.linalg.matmul(x, y)

    medians = {}
    for n in sizes:
        a, b = tf.random.normal((n, n)), tf.random.normal((n, n))
        mm(a, b).numpy()
        rates = []
        for _ in range(repeats):
            start = time.perf_counter()
            mm(a, b).numpy()
            rates.append(2.0 * n ** 3 / (time.perf_counter() - start) / 1e9)
        medians[n] = statistics.median(rates)
    return max(medians.values()), medians


def forward_time(photo, size, repeats=12):
    """Median seconds of the loss alone (forward pass, no gradient) at `size`, for the split."""
    import tensorflow as tf
    from albumlib.style import styles, vgg
    photo = images.resize_max_side(photo, size)
    extractor = vgg.feature_extractor(gatys.CONTENT_LAYERS + gatys.STYLE_LAYERS)
    targets = gatys._blend_grams(extractor, [styles.load_style("starry_night", max_side=size)], None,
                                 gatys.STYLE_LAYERS)
    loss_fn = gatys.make_loss_fn(extractor, photo, targets, gatys.CONTENT_LAYERS, gatys.STYLE_LAYERS,
                                 gatys.DEFAULT_WEIGHTS)
    x = tf.constant(photo[None])
    forward = tf.function(lambda: loss_fn(x)[0])
    for _ in range(2):
        forward().numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        forward().numpy()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gatys_step_time(photo, size, steps, repeats):
    """Median seconds per Gatys Adam step (after two warm-up steps) over several runs."""
    per_run = []
    shape = None
    for r in range(repeats):
        result = gatys.stylize(photo, "starry_night", steps=steps, image_size=size, progress=False)
        per_run.append(statistics.median(result.history["seconds"][2:]))
        shape = result.image.shape
    return statistics.median(per_run), shape, per_run


def main():
    """Run the benchmark and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--steps", type=int, default=8, help="steps per run (two are warm-up)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import keras
    import tensorflow as tf
    photo = images.load_image(sorted(paths.data_path("album").glob("*.jpg"))[0])
    peak, medians = matmul_peak()
    layers = gatys.CONTENT_LAYERS + gatys.STYLE_LAYERS
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, TF {tf.__version__}, "
          f"Keras {keras.__version__}, {datetime.date.today()}")
    print("fp32 matmul, TF, median GFLOP/s by size: "
          + ", ".join(f"{n}: {r:.1f}" for n, r in medians.items()) + f"; peak = {peak:.1f}")
    print()
    print("| size | image | s / step, median (runs) | GFLOP / step | GFLOP/s | % of matmul peak "
          "| forward alone: s, GFLOP/s |")
    print("|---|---|---|---|---|---|---|")
    for size in args.sizes:
        seconds, shape, runs = gatys_step_time(photo, size, args.steps, args.repeats)
        flops = gatys_step_flops(shape[0], shape[1], layers)
        rate = flops / seconds / 1e9
        fwd = forward_time(photo, size)
        fwd_rate = gatys_step_flops(shape[0], shape[1], layers, backward=False) / fwd / 1e9
        print(f"| {size} | {shape[1]}x{shape[0]} | {seconds:.3f} ({', '.join(f'{r:.3f}' for r in runs)}) "
              f"| {flops / 1e9:.1f} | {rate:.1f} | {100 * rate / peak:.0f} % | {fwd:.3f}, {fwd_rate:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
