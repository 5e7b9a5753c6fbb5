"""Train the bundled fast style networks on this CPU and record how (issue 3, notebook 02).

    python scripts/train_bundled_styles.py [--styles starry_night wave ...] [--steps 500]

Each style trains on the bundled sample album (data/album, heavily augmented: random scales,
crops and flips; data/holdout is never used) and is exported as data/fast_styles/<style>.npz
(float16). Checkpoints go to --work-dir, so an interrupted run resumes. data/fast_styles/TRAINING.md
is rewritten from the networks' stored info. Colab users retrain on COCO with
`python -m albumlib train-style --style NAME --coco --out DIR`.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from albumlib import paths  # noqa: E402
from albumlib.style import fast_style, fast_train, image_data, style_nets, styles
from albumlib.fileio import atomic_write_bytes  # noqa: E402


def train_one(style, args):
    """Train (or resume) one style and export it into data/fast_styles."""
    data = paths.data_path("album")
    config = fast_train.TrainConfig(style=style, data_dir=str(data), out_dir=str(Path(args.work_dir) / style),
                                    steps=args.steps, crop=args.crop, batch_size=args.batch_size,
                                    checkpoint_every=50, scale=(1.0, 2.5), seed=0)
    start = time.perf_counter()
    result = fast_train.train(config, progress=True)
    h = result.history
    info = {"style": style, "data": "data/album (sample album, augmented)",
            "images": image_data.dataset_size(data), "steps": args.steps, "crop": args.crop,
            "batch_size": args.batch_size, "learning_rate": config.learning_rate,
            "scale": list(config.scale), "style_size": config.style_size,
            "loss_weights": dict(fast_style.DEFAULT_WEIGHTS),
            "train_seconds": round(sum(h["seconds"]), 1), "wall_seconds_this_run": round(time.perf_counter() - start, 1),
            "final_losses": {k: h[k][-1] for k in ("total", "content", "style", "tv")},
            "machine": "2-core CPU, TensorFlow CPU build"}
    return style_nets.export(result.model, paths.data_path("fast_styles"), style, info, formats=("npz",))


def write_record():
    """Rewrite data/fast_styles/TRAINING.md from the exported networks' info."""
    rows = []
    for name in style_nets.list_bundled():
        i = style_nets.info(name)
        f = i.get("final_losses", {})
        w = i.get("loss_weights", {})
        rows.append(f"| {name} | {i.get('images')} photos, {i.get('data')} | {i.get('steps')} x batch "
                    f"{i.get('batch_size')}, {i.get('crop')} px crops, scale {i.get('scale')} | "
                    f"{w.get('content', '?')} / {w.get('style', '?')} / {w.get('tv', '?')} | {i.get('train_seconds')} s | "
                    f"{f.get('total', 0):.3g} ({f.get('content', 0):.3g} / {f.get('style', 0):.3g} / {f.get('tv', 0):.3g}) |")
    text = ("# Bundled fast style networks\n\n"
            "Trained by `scripts/train_bundled_styles.py` on a 2-core CPU, on the sample album only\n"
            "(data/holdout is never used for training): random zoom (scale), 128 px crops and mirroring,\n"
            "Adam 1e-3, the style image at 256 px, VGG19 embedded weights. Each file is the network's\n"
            "weights in float16 with this information stored inside (`style_nets.info(name)`).\n\n"
            "They are small-data networks: they repaint photos they never saw (notebook 02's gallery),\n"
            "but keep less of the photo than COCO-trained ones; in Johnson's yardstick they match about\n"
            "10 L-BFGS iterations of Gatys' method where COCO networks match 50-100 (benchmarks/RESULTS.md).\n"
            "Retrain on COCO for real use: `python -m albumlib train-style --style NAME --coco --out DIR`.\n\n"
            "Training times are wall-clock seconds on a machine shared with other jobs, so the same\n"
            "500 steps took between about 460 and 1,420 s.\n\n"
            "| style | training images | steps | loss weights: content / style / tv | training time "
            "| final loss: total (content / style / tv) |\n"
            "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    atomic_write_bytes(paths.data_path("fast_styles", "TRAINING.md"), text.encode())


def main():
    """Train the requested styles, then rewrite the record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="+", default=styles.list_styles())
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--crop", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--work-dir", default=str(paths.cache_dir() / "fast_styles_training"))
    parser.add_argument("--record-only", action="store_true", help="only rewrite TRAINING.md")
    args = parser.parse_args()
    for style in [] if args.record_only else args.styles:
        print(style, train_one(style, args))
    write_record()


if __name__ == "__main__":
    main()
