"""Quality yardstick (Johnson et al. 2016, Fig. 5): fast network against N Gatys iterations.

Run: `python benchmarks/bench_fast_quality.py [--styles starry_night ...] [--size 256]`
(about 3 minutes a photo and style on a 2-core CPU). Prints a Markdown table for
benchmarks/RESULTS.md.

For each bundled fast network and each held-out photo (data/holdout: never used in training) it
measures the network's own training objective - albumlib.style.fast_style.PerceptualLoss with the
layers, weights and style size the network was trained with - on:

- the network's output for the photo (one forward pass), and
- Gatys' optimisation of that same objective (albumlib.style.gatys.stylize with the same content and
  style layers and weights, the style image at the same size, L-BFGS from the photo, or with
  `--init noise` from white noise as in Gatys' paper) after
  N = 50, 100 and 300 iterations.

Every image is scored by the same PerceptualLoss object, so the numbers are directly comparable:
"the network matches Gatys at N iterations" when its loss lies at or below Gatys' loss after N.
The iteration at which Gatys first reaches the network's loss is reported too.
"""

import argparse
import datetime
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from albumlib import images, paths  # noqa: E402
from albumlib.style import fast_style, style_nets
from albumlib.style.quality import first_reach, gatys_curve, held_out, objective_for, score  # noqa: E402

CHECKPOINTS = (50, 100, 300)


def holdout_photos(size, names=None, album=False):
    """The held-out photos (never trained on; all, or those named), long side `size`, by name;
    with `album`, the sample album's photos too (for networks trained on other photos)."""
    folder = paths.data_path("holdout")
    found = {p.stem: p for p in images.list_album(folder)}
    if album:
        found.update({p.stem: p for p in images.list_album(paths.data_path("album"))})
    missing = sorted(set(names or ()) - set(found))
    if missing:
        sys.exit(f"no held-out photo named {', '.join(missing)} in {folder} (there are {', '.join(found)})")
    return {name: images.load_image(p, max_side=size, upscale=True)
            for name, p in found.items() if not names or name in names}


def main():
    """Run the yardstick and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="+", default=None, help="bundled networks (default: all)")
    parser.add_argument("--size", type=int, default=256, help="long side of the photos in pixels")
    parser.add_argument("--iterations", type=int, nargs="+", default=list(CHECKPOINTS))
    parser.add_argument("--init", choices=("content", "noise"), default="content",
                        help="Gatys starts from the photo (stricter) or from white noise (Gatys' paper)")
    parser.add_argument("--photos", nargs="+", default=None,
                        help="held-out photos by name, e.g. camera (default: all of data/holdout)")
    args = parser.parse_args()
    names = args.styles or style_nets.list_bundled_styles()
    if not names:
        sys.exit("no bundled fast networks in data/fast_styles: run scripts/train_bundled_styles.py")
    every = sorted(set(args.iterations) | set(range(10, max(args.iterations) + 1, 10)))
    print(f"date {datetime.date.today()}, held-out photos at {args.size} px (data/holdout, and "
          f"the sample album for networks not trained on it), Gatys: L-BFGS from "
          f"{'the photo' if args.init == 'content' else 'white noise'}")
    print()
    head = " | ".join(f"Gatys {n}" for n in args.iterations)
    print(f"| style | photo | fast net | {head} | Gatys reaches the net at | net / Gatys {args.iterations[-1]} | seconds |")
    print("|---" * (6 + len(args.iterations)) + "|")
    ratios = []
    for name in names:
        loss = objective_for(name, args.size)
        net = style_nets.load_choice(style_nets.find(name))
        photos = holdout_photos(args.size, args.photos, album=held_out(name))
        for photo_name, photo in photos.items():
            start = time.perf_counter()
            fast = score(loss, photo, fast_style.stylize_array(net, photo))
            curve = gatys_curve(loss, photo, every, init=args.init)
            reach = first_reach(curve, fast)
            ratios.append(fast / curve[args.iterations[-1]])
            cells = " | ".join(f"{curve[n]:.4g}" for n in args.iterations)
            print(f"| {name} | {photo_name} | {fast:.4g} | {cells} | "
                  f"{reach if reach is not None else f'> {max(every)}'} | {ratios[-1]:.2f} | "
                  f"{time.perf_counter() - start:.0f} |", flush=True)
    print()
    print(f"median net / Gatys {args.iterations[-1]} ratio: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
