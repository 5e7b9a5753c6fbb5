"""The command line: `python -m albumlib demo` and `python -m albumlib gatys` (README quick start)."""

import argparse
import sys
import time
from pathlib import Path

import numpy as np


def _add_gatys_options(p):
    """Options shared by the gatys and demo commands."""
    p.add_argument("--size", type=int, default=None, help="long side of the output in pixels (default: profile's)")
    p.add_argument("--steps", type=int, default=None, help="optimisation steps per photo (default: profile's)")
    p.add_argument("--optimizer", choices=("adam", "lbfgs"), default=None, help="optimiser (default: adam)")
    p.add_argument("--style-weight", type=float, default=None, help="weight of the style loss")
    p.add_argument("--content-weight", type=float, default=None, help="weight of the content loss")
    p.add_argument("--tv-weight", type=float, default=None, help="weight of the total-variation loss")
    p.add_argument("--preserve-color", action="store_true", help="keep the photo's colours (luminance-only transfer)")
    p.add_argument("--init", choices=("content", "noise"), default="content", help="start from the photo or from noise")
    p.add_argument("--weights", default="auto", help="VGG19 weights: auto, imagenet, or a file path")


def build_parser():
    """The argument parser of `python -m albumlib`."""
    parser = argparse.ArgumentParser(prog="python -m albumlib",
                                     description="Turn a photo album into a short film (albumlib).")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="repaint the bundled sample album with Gatys' method into outputs/demo")
    demo.add_argument("-o", "--output", default="outputs/demo", help="output folder (default: outputs/demo)")
    demo.add_argument("--limit", type=int, default=None, help="number of photos (default: profile's)")
    _add_gatys_options(demo)

    gatys = sub.add_parser("gatys", help="repaint photos in a painting's style by optimisation (Gatys et al.)")
    gatys.add_argument("inputs", nargs="+", help="photo files or album folders")
    gatys.add_argument("-s", "--style", action="append", required=True,
                       help="bundled style name or image path; repeat to blend several")
    gatys.add_argument("--blend", type=float, nargs="+", default=None, help="blend weights, one per --style")
    gatys.add_argument("-o", "--output", required=True, help="output folder (created if missing)")
    gatys.add_argument("--overwrite", action="store_true", help="replace existing output files")
    _add_gatys_options(gatys)

    sub.add_parser("styles", help="list the bundled styles")
    return parser


def _gatys_kwargs(args):
    """The stylize() keyword arguments from parsed options."""
    return dict(image_size=args.size, steps=args.steps, optimizer=args.optimizer,
                style_weight=args.style_weight, content_weight=args.content_weight,
                tv_weight=args.tv_weight, preserve_color=args.preserve_color, init=args.init,
                weights=args.weights)


def _collect_photos(inputs):
    """Expand files and folders into (path, array) pairs; unreadable photos are skipped with a warning."""
    from albumlib import images
    photos = []
    for item in map(Path, inputs):
        if item.is_dir():
            photos.extend(images.load_album(item))
        else:
            try:
                photos.append((item, images.load_image(item)))
            except (images.ImageError, OSError) as err:
                print(f"warning: skipping {item}: {err}", file=sys.stderr)
    if not photos:
        raise SystemExit(f"error: no readable photo in {', '.join(map(str, inputs))}")
    return photos


def _repaint(photos, styles_for_photo, out_dir, kwargs, overwrite, blend=None):
    """Repaint each photo and save it as <photo>_<style>.jpg in out_dir; returns the written paths."""
    from albumlib import gatys, images
    from albumlib.fileio import unique_path
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i, (path, array) in enumerate(photos):
        style = styles_for_photo(i)
        label = "+".join(Path(str(s)).stem for s in (style if isinstance(style, list) else [style]))
        target = out_dir / f"{Path(path).stem}_{label}.jpg"
        if target.exists() and not overwrite:
            target = unique_path(target)
        start = time.perf_counter()
        result = gatys.stylize(array, style, blend_weights=blend, **kwargs)
        images.save_image(result.image, target, overwrite=True)
        print(f"[{i + 1}/{len(photos)}] {Path(path).name} + {label} -> {target} "
              f"({time.perf_counter() - start:.1f} s, final loss {result.history['total'][-1]:.4g})")
        written.append(target)
    return written


def cmd_demo(args):
    """Repaint the bundled sample album, one bundled style per photo, into outputs/demo."""
    from albumlib import images, paths, styles
    from albumlib.profiles import get_profile
    profile = get_profile()
    limit = profile.album_limit if args.limit is None else args.limit
    photos = images.load_album(paths.data_path("album"), limit=limit or None)
    names = styles.list_styles()
    kwargs = _gatys_kwargs(args)
    kwargs["steps"] = profile.demo_steps if args.steps is None else args.steps
    print(f"profile {profile.name}: repainting {len(photos)} photos with Gatys' method "
          f"({kwargs['steps']} steps each) into {args.output}")
    start = time.perf_counter()
    written = _repaint(photos, lambda i: names[i % len(names)], args.output, kwargs, overwrite=True)
    sheet = images.save_image(contact_sheet([a for _, a in photos], [images.load_image(p) for p in written]),
                              Path(args.output) / "contact_sheet.jpg", overwrite=True)
    print(f"done in {time.perf_counter() - start:.0f} s; side by side: {sheet}")
    return 0


def contact_sheet(originals, repainted, height=160):
    """One image: each original above its repainted version, side by side (the demo's summary)."""
    from albumlib import images
    columns = []
    for a, b in zip(originals, repainted):
        pair = [images.resize_to(x, max(1, round(x.shape[1] * height / x.shape[0])), height) for x in (a, b)]
        width = min(p.shape[1] for p in pair)
        columns.append(np.concatenate([p[:, :width] for p in pair], axis=0))
    gap = np.ones((2 * height, 4, 3), np.float32)
    return np.concatenate([c for col in columns for c in (col, gap)][:-1], axis=1)


def cmd_gatys(args):
    """Repaint the given photos in the given style(s)."""
    photos = _collect_photos(args.inputs)
    style = args.style if len(args.style) > 1 else args.style[0]
    _repaint(photos, lambda i: style, args.output, _gatys_kwargs(args), args.overwrite, blend=args.blend)
    return 0


def cmd_styles(args):
    """Print the bundled styles."""
    from albumlib import styles
    for name in styles.list_styles():
        print(name)
    return 0


def main(argv=None):
    """Entry point of `python -m albumlib` and the `albumlib` command."""
    args = build_parser().parse_args(argv)
    return {"demo": cmd_demo, "gatys": cmd_gatys, "styles": cmd_styles}[args.command](args)
