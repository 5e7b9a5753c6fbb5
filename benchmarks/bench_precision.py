"""Does bfloat16 training keep the quality of float32? The same run in both, scored in float32.

Trains the same network (same seed, photos, styles and steps) once in float32 and once in
mixed bfloat16 (fast_train's precision), then scores both on held-out photos (the sample album
and data/holdout, never trained on) with the float32 perceptual loss of each style. Prints
seconds per step and the held-out losses side by side. Issue 12, item 6.

    python benchmarks/bench_precision.py --steps 200 --crop 128 --data-dir ~/.cache/albumlib/photo_corpus
"""

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STYLES = ["starry_night", "wave", "the_scream", "udnie", "composition_vii",
          "shipwreck_of_the_minotaur"]


def held_out_photos(side):
    """The sample album and data/holdout photos, long side `side`."""
    from albumlib import images, paths
    files = sorted(paths.data_path("album").glob("*.jpg")) + \
        sorted(paths.data_path("holdout").glob("*.jpg"))
    return [images.load_image(f, max_side=side) for f in files]


def score(model, styles, photos, weights="auto"):
    """Mean float32 perceptual loss of each style over the photos: {style: total}."""
    from albumlib.style import fast_style
    loss = fast_style.MultiStylePerceptualLoss(styles, weights=weights, style_size=256)
    out = {}
    for i, name in enumerate(styles):
        onehot = np.eye(len(styles), dtype=np.float32)[i:i + 1]
        totals = [float(loss(p[None], model([p[None], onehot]), i)["total"]) for p in photos]
        out[name] = float(np.mean(totals))
    return out


def run(precision, args, out):
    """Train one run; (seconds per step after the first, model)."""
    from albumlib.style import fast_train
    config = fast_train.TrainConfig(
        style=list(args.styles), data_dir=args.data_dir, out_dir=str(out), steps=args.steps,
        crop=args.crop, batch_size=args.batch, checkpoint_every=args.steps, seed=0,
        filters=tuple(args.filters), residual_blocks=args.residual_blocks, precision=precision,
        scale=(1.0, 2.0), style_size=256)
    result = fast_train.train(config, progress=False)
    seconds = result.history["seconds"][1:]
    return float(np.median(seconds)), result.model


def main(argv=None):
    """Both runs, then the table (and --json FILE)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--filters", type=int, nargs=3, default=[32, 64, 128])
    parser.add_argument("--residual-blocks", type=int, default=5)
    parser.add_argument("--styles", nargs="+", default=STYLES)
    parser.add_argument("--data-dir", default=str(ROOT / "data" / "album"))
    parser.add_argument("--side", type=int, default=256, help="held-out photos' long side")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    photos = held_out_photos(args.side)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for precision in ("float32", "bfloat16"):
            t0 = time.perf_counter()
            per_step, model = run(precision, args, Path(tmp) / precision)
            rows[precision] = {"s_per_step": per_step, "wall": time.perf_counter() - t0,
                               "held_out": score(model, args.styles, photos)}
            print(f"{precision}: {per_step:.3f} s/step, held-out losses "
                  + ", ".join(f"{k} {v:.4g}" for k, v in rows[precision]["held_out"].items()),
                  flush=True)
    f32, b16 = rows["float32"], rows["bfloat16"]
    ratio = {k: b16["held_out"][k] / f32["held_out"][k] for k in args.styles}
    print(f"machine: {platform.processor() or platform.machine()}, {time.strftime('%Y-%m-%d')}")
    print(f"bfloat16 step {f32['s_per_step'] / b16['s_per_step']:.2f}x faster; held-out loss "
          f"bfloat16 / float32 per style: "
          + ", ".join(f"{k} {v:.3f}" for k, v in ratio.items())
          + f" (mean {np.mean(list(ratio.values())):.3f})")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "rows": rows, "ratio": ratio},
                                              indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
