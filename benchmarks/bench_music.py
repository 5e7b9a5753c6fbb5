"""Benchmark: the music model's training throughput against the matmul peak, generation speed, memory.

Run: `python benchmarks/bench_music.py [--batch 8] [--steps 6] [--repeats 3]` (a few minutes on a
2-core CPU). Prints Markdown for benchmarks/RESULTS.md (issue 5).

- Training: the report's model exactly (input (10, 88200) -> TimeDistributed Dense(512) ->
  LSTM(512) -> TimeDistributed Dense(88200), MSE, RMSprop), `train_on_batch` on random
  normalised batches; sequences/s and GFLOP/s. FLOPs per step: each dense layer costs 2*in*out per
  time step forward and twice that backward (input and weight gradients), so 6*in*out*B*T; the
  LSTM 2*4*(in+h)*h per time step forward, times 3 with the backward pass.
- Generation: the bundled model (data/music_model) composing music, seconds of music per second.
- Peak memory: each part runs in a fresh child process; its VmHWM (peak resident set) is read at
  the end, TensorFlow's import included.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def train_flops(batch, seq_len=10, features=88200, dense_in=512, hidden=512):
    """FLOPs of one training step of the report's model (forward + backward)."""
    dense = 6.0 * (features * dense_in + hidden * features) * batch * seq_len
    lstm = 3 * 2.0 * 4 * (dense_in + hidden) * hidden * batch * seq_len
    return dense + lstm


def _peak_rss_mb():
    """This process's peak resident set (VmHWM) in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_train(batch, steps):
    """In a child: median seconds per training step of the report's model."""
    import numpy as np
    from albumlib.music import report as music
    model = music.build_report_model()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 10, 88200), dtype=np.float32) * 0.1
    y = rng.standard_normal((batch, 10, 88200), dtype=np.float32) * 0.1
    model.train_on_batch(x, y)  # traces and builds the optimizer
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(x, y)
        times.append(time.perf_counter() - start)
    return {"seconds": statistics.median(times), "runs": times, "peak_mb": _peak_rss_mb()}


def child_generate(seconds):
    """In a child: wall time of composing `seconds` of music with the bundled model."""
    from albumlib.music import report as music
    music.compose(seconds=1.0, seed=1)  # warm-up: loads the bundle, traces the model
    start = time.perf_counter()
    signal = music.compose(seconds=seconds, seed=0)
    wall = time.perf_counter() - start
    return {"seconds": wall, "music_seconds": len(signal) / 44100, "peak_mb": _peak_rss_mb()}


def run_child(kind, **kwargs):
    """Run one measurement in a fresh Python process; return its JSON result."""
    out = subprocess.run([sys.executable, __file__, "--child", kind, json.dumps(kwargs)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    """Run the benchmark and print Markdown tables."""
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, kwargs = sys.argv[2], json.loads(sys.argv[3])
        result = child_train(**kwargs) if kind == "train" else child_generate(**kwargs)
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=6, help="timed steps per child")
    parser.add_argument("--repeats", type=int, default=3, help="children per measurement")
    parser.add_argument("--music-seconds", type=float, default=20.0)
    args = parser.parse_args()

    import datetime
    import os
    from bench_gatys import matmul_peak
    from machine import cpu_name
    peak, medians = matmul_peak()
    print(f"machine: {cpu_name()}, {os.cpu_count()} cores, {datetime.date.today()}, "
          f"load average at the start {os.getloadavg()[0]:.2f}")
    print("fp32 matmul, TF, median GFLOP/s by size: "
          + ", ".join(f"{n}: {r:.1f}" for n, r in medians.items()) + f"; peak = {peak:.1f}")
    print()
    trains = [run_child("train", batch=args.batch, steps=args.steps) for _ in range(args.repeats)]
    step = statistics.median(t["seconds"] for t in trains)
    flops = train_flops(args.batch)
    print("| model | batch | s / step, median (children) | sequences / s | GFLOP / step | GFLOP/s "
          "| % of matmul peak | peak RSS, MB |")
    print("|---|---|---|---|---|---|---|---|")
    runs = ", ".join(f"{t['seconds']:.3f}" for t in trains)
    print(f"| the report's (92.5 M parameters) | {args.batch} | {step:.3f} "
          f"({runs}) | {args.batch / step:.2f} | "
          f"{flops / 1e9:.1f} | {flops / step / 1e9:.1f} | **{100 * flops / step / 1e9 / peak:.0f} %** | "
          f"{max(t['peak_mb'] for t in trains):.0f} |")
    print()
    gens = [run_child("generate", seconds=args.music_seconds) for _ in range(args.repeats)]
    wall = statistics.median(g["seconds"] for g in gens)
    print("| model | music, s | wall, s, median (children) | seconds of music / s | peak RSS, MB |")
    print("|---|---|---|---|---|")
    runs = ", ".join(f"{g['seconds']:.2f}" for g in gens)
    print(f"| bundled (data/music_model) | {gens[0]['music_seconds']:.1f} | {wall:.2f} "
          f"({runs}) | {gens[0]['music_seconds'] / wall:.1f} | "
          f"{max(g['peak_mb'] for g in gens):.0f} |")


if __name__ == "__main__":
    main()
