"""Music model quality on songs it did not train on (issue 5): the metrics of albumlib.music.metrics.

Run: `python benchmarks/bench_music_quality.py WORK_DIR [WORK_DIR ...] [--seconds 20] [--noise 0]`
where each WORK_DIR was trained by scripts/train_music_model.py (it holds bundle/), or a bundle
folder itself (e.g. data/music_model). Prints one JSON line per model and a Markdown table with two
reference rows of real music, for benchmarks/RESULTS.md.

For each model: compose `seconds` of music (albumlib.music.report.compose) from the bundle's first seed
sequence (a window of a training song; the seed itself is not part of the output) with a fixed
random seed (with `--seeds K`: K compositions, from seed sequences 0..K-1 with random seeds
--seed + 0..K-1, averaged; a second table gives each metric's range), then
`music_metrics.evaluate` it with
- training = the bundle's training songs, heldout = its held-out songs (the copy score: median
  distance of generated blocks to their nearest training block over that of held-out blocks; ~1
  is as novel as unseen real music, ~0 is a copy of the training songs);
- reference = the held-out songs (the Frechet distance of frame features, FAD formula);
- block_size = 4096 samples (the block edges of the cpu-profile model; a multiple of the ola hop,
  so click_ratio looks at step edges in both framings).

Reference rows, measured with the same function on real music of the same length:
- "real held-out" : the first `seconds` of each held-out song (averaged over the songs); its FAD
  is against the held-out songs including itself, so it is a lower bound, not a target;
- "real training" : the first `seconds` of a training song (of the first K with `--seeds K`,
  averaged); its FAD is a real piece against other
  real pieces (the level to aim at), its copy score ~0 by construction (it is a training song).
"""

import argparse
import datetime
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from albumlib import audio  # noqa: E402
from albumlib.music import metrics as music_metrics, report as music  # noqa: E402

EVAL_BLOCK = 4096
METRICS = ("rms_dbfs", "silence_fraction", "clipping_rate", "click_ratio", "spectral_flatness",
           "fad", "copy_score", "loop_score", "onset_rate", "onset_coverage", "spectral_novelty",
           "chroma_change")


def song_paths(names, music_dir):
    """Files of the music folder for dataset song names (name, stem or relative path)."""
    music_dir = Path(music_dir)
    files = {p.name: p for p in music_dir.iterdir() if p.is_file()}
    stems = {p.stem: p for p in files.values()}
    out = []
    for name in names:
        p = Path(name)
        hit = files.get(p.name) or stems.get(p.stem) or stems.get(p.name)
        if hit is None:
            raise FileNotFoundError(f"song {name!r} not found in {music_dir}")
        out.append(hit)
    return out


def load_songs(names, music_dir, sr=44100):
    """Mono float32 signals of the named songs."""
    return [audio.load_audio(p, sr=sr) for p in song_paths(names, music_dir)]


def evaluate_signal(signal, sr, training, heldout):
    """music_metrics.evaluate with the issue-5 settings; a dict of floats."""
    m = music_metrics.evaluate(signal, sr, training=training, heldout=heldout, reference=heldout,
                               block_size=EVAL_BLOCK)
    return {k: float(v) for k, v in m.items()}


def bundle_dir(path):
    """A work dir (holding bundle/) or a bundle folder itself."""
    p = Path(path)
    return p / "bundle" if (p / "bundle" / music.BUNDLE_JSON).is_file() else p


def evaluate_bundle(path, music_dir, seconds=20.0, noise=0.0, seed=0, stateful=False,
                    songs=None, seed_source=0):
    """Compose from a bundle and evaluate; returns (metrics dict, signal, songs)."""
    b = music.load_bundle(bundle_dir(path))
    train_names, val_names = b.info["train_songs"], b.info["val_songs"]
    if songs is None:
        songs = (load_songs(train_names, music_dir, b.config.sr),
                 load_songs(val_names, music_dir, b.config.sr))
    t0 = time.perf_counter()
    signal = music.compose(b, seconds=seconds, seed=seed, seed_source=seed_source % len(b.seeds),
                           noise=noise, stateful=stateful)
    compose_s = time.perf_counter() - t0
    m = evaluate_signal(signal, b.config.sr, *songs)
    m["compose_s"] = compose_s
    return m, signal, songs


def mean_of(runs):
    """The mean of each metric over several runs (dicts of floats)."""
    return {k: float(np.mean([r[k] for r in runs if k in r])) for k in runs[0]}


def spread_of(runs):
    """Each metric's range (max - min) over several runs."""
    return {k: float(np.ptp([r[k] for r in runs if k in r])) for k in runs[0]}


def reference_rows(training, heldout, sr=44100, seconds=20.0, n_training=1):
    """Metrics of real music excerpts of the same length (see the module docstring)."""
    n = int(seconds * sr)
    held = [evaluate_signal(s[:n], sr, training, heldout) for s in heldout]
    train = [evaluate_signal(s[:n], sr, training, heldout) for s in training[:n_training]]
    name = "real training song" + (f"s (mean of {len(train)})" if len(train) > 1 else "")
    return {"real held-out (mean of songs)": mean_of(held), name: mean_of(train)}


def table(rows):
    """Markdown table of the issue's metrics."""
    return music_metrics.metrics_table(
        {name: {k: m.get(k) for k in METRICS} for name, m in rows.items()})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="work dirs of train_music_model.py or bundles")
    ap.add_argument("--music-dir", default=str(ROOT / "data" / "music"))
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--noise", type=float, nargs="+", default=[0.0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, default=1,
                    help="compositions per model: seed sequence i and random seed --seed + i, "
                         "for i < SEEDS; the table gives their mean, a second one their range")
    ap.add_argument("--no-reference", action="store_true")
    args = ap.parse_args(argv)
    if args.seeds < 1 or args.seconds <= 0:
        ap.error("--seeds must be at least 1 and --seconds positive")
    rows, spreads, songs, split = {}, {}, None, None
    for path in args.models:
        b = music.load_bundle(bundle_dir(path))
        this_split = (tuple(b.info["train_songs"]), tuple(b.info["val_songs"]))
        if split is not None and this_split != split:
            print(f"warning: {path} has another song split than the first model", file=sys.stderr)
            songs = None
        split = this_split
        for noise in args.noise:
            name = Path(path).name + (f" noise {noise:g}" if noise else "")
            runs = []
            for i in range(args.seeds):
                m, _, songs = evaluate_bundle(path, args.music_dir, args.seconds, noise,
                                              args.seed + i, songs=songs, seed_source=i)
                runs.append(m)
                print(json.dumps({"model": name, "seed": args.seed + i, "seed_source": i, **m}),
                      flush=True)
            rows[name], spreads[name] = mean_of(runs), spread_of(runs)
    if not args.no_reference and songs is not None:
        rows.update(reference_rows(*songs, seconds=args.seconds, n_training=args.seeds))
    print(f"\n{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{platform.machine()}, held-out songs: {', '.join(split[1])}, "
          f"{args.seeds} composition(s) of {args.seconds:g} s per model\n")
    print(table(rows))
    if args.seeds > 1:
        print(f"\nRange (max - min) over the {args.seeds} compositions:\n")
        print(table(spreads))


if __name__ == "__main__":
    main()
