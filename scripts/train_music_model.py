"""Train a named music model variant, compose from it and measure it (issue 5, "A better model").

    python scripts/train_music_model.py NAME [--kind fft|rfft] [--framing blocks|ola]
        [--normalise global|per_bin] [--block-size 4096] [--hidden 256] [--epochs 10]
        [--batch 8] [--noise 0 0.3] [--seconds 20] [--work outputs/music_variants] [--bundle]
        [--generation-noise 0.3]

Trains into WORK/NAME with albumlib.music.report_train.train (all songs of data/music, the same
held-out split for every variant: val_fraction 0.2, seed 0; the scaler is fitted on the training
songs only; weights stored as float16, as shipped), then for each --noise value composes
--seconds of music from the bundle's first seed (a window of a training song) with a fixed
random seed and evaluates it with albumlib.music.metrics.evaluate against the training and the
held-out songs (benchmarks/bench_music_quality.py). Prints one JSON line per noise value and
writes them to WORK/NAME/metrics.json.

--bundle copies the bundle (float16 weights, at most 20 MB) to data/music_model/ and writes
data/music_model/TRAINING.md (variant, data, epochs, time, metrics of each --noise value);
`albumlib.music.report.compose()` with no arguments then uses it (at --generation-noise).
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_music_quality as bench  # noqa: E402
from albumlib.music import report as music, report_train as music_train  # noqa: E402

MAX_BUNDLE_BYTES = 20 * 1024 * 1024


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("name", help="variant name (a folder of --work)")
    ap.add_argument("--kind", default="fft", choices=("fft", "rfft"))
    ap.add_argument("--framing", default="blocks", choices=music.FRAMINGS)
    ap.add_argument("--normalise", default="global", choices=("global", "per_bin"))
    ap.add_argument("--block-size", type=int, default=4096)
    ap.add_argument("--hidden", type=int, default=256, help="LSTM and first dense layer width")
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--noise", type=float, nargs="+", default=[0.0],
                    help="generation noise values to evaluate (x per-feature std)")
    ap.add_argument("--stateful", action="store_true", help="carry the LSTM state in generation")
    ap.add_argument("--generation-noise", type=float, default=0.0,
                    help="the noise compose() uses by default with the shipped bundle (stored "
                         "as its info['generation_noise']; choose it from the --noise rows)")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--music-dir", default=str(ROOT / "data" / "music"))
    ap.add_argument("--work", default=str(ROOT / "outputs" / "music_variants"))
    ap.add_argument("--bundle", action="store_true", help="ship it to data/music_model/")
    return ap.parse_args(argv)


def train(args):
    cfg = music.MusicConfig(kind=args.kind, framing=args.framing, block_size=args.block_size,
                            normalise=args.normalise, dense_in=args.hidden, hidden=args.hidden,
                            dropout=args.dropout)
    work = Path(args.work)
    ds = work / "datasets" / f"{cfg.dataset_block_size}-{cfg.kind}"
    tc = music_train.TrainConfig(out_dir=str(work / args.name), music_dir=args.music_dir,
                                 dataset_dir=str(ds), music=cfg, epochs=args.epochs,
                                 batch_size=args.batch, learning_rate=args.lr,
                                 checkpoint_every=max(1, args.epochs), val_fraction=0.2,
                                 seed=args.seed, weights_dtype="float16")
    t0 = time.perf_counter()
    result = music_train.train(tc, progress=False)
    return tc, result, time.perf_counter() - t0


def ship(args, tc, result, seconds, rows):
    """Copy the bundle to data/music_model and write TRAINING.md."""
    src = Path(result.bundle_dir)
    size = sum(p.stat().st_size for p in src.iterdir())
    if size > MAX_BUNDLE_BYTES:
        raise SystemExit(f"bundle is {size / 1e6:.1f} MB, over the 20 MB limit; not shipped")
    dst = ROOT / "data" / music.DEFAULT_BUNDLE
    dst.mkdir(parents=True, exist_ok=True)
    for name in music.BUNDLE_FILES:
        tmp = dst / f".{name}.tmp"
        if name == music.BUNDLE_JSON:  # the measured default noise goes into the metadata
            meta = json.loads((src / name).read_text(encoding="utf-8"))
            meta.setdefault("info", {})["generation_noise"] = float(args.generation_noise)
            tmp.write_text(json.dumps(meta, indent=1, ensure_ascii=False), encoding="utf-8")
        else:
            shutil.copyfile(src / name, tmp)
        os.replace(tmp, dst / name)
    h = result.history
    cfg = tc.music
    lines = [
        "# The bundled music model (data/music_model)",
        "",
        f"Trained by `python scripts/train_music_model.py {' '.join(sys.argv[1:])}` on "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC "
        f"({platform.machine()}, {os.cpu_count()} CPUs, Keras 3 on TensorFlow, CPU only).",
        "",
        f"- Variant `{args.name}`: {json.dumps(cfg.to_dict())}; "
        f"{result.model.count_params():,} parameters, weights stored as float16 "
        f"({size / 1e6:.1f} MB).",
        f"- Data: data/music (see data/music/ATTRIBUTION.md). Training songs: "
        f"{', '.join(result.plan.train_songs)}. Held out (never seen by the model or its scaler): "
        f"{', '.join(result.plan.val_songs)}.",
        f"- Training: {h['epoch'][-1] if h['epoch'] else 0} epochs, batch {tc.batch_size}, "
        f"RMSprop lr {tc.learning_rate:g}, MSE; {seconds:.0f} s. Final losses: training "
        f"{h['train'][-1]:.4g}, held-out (teacher forced) {h['val'][-1]:.4g}.",
        "",
        f"Metrics of {args.seconds:g} s composed from the first seed sequence (seed {args.seed}), "
        "benchmarks/bench_music_quality.py (see benchmarks/RESULTS.md, issue 5):",
        "",
        bench.table(rows),
        "",
        f"`albumlib.music.report.compose()` uses this model with noise {args.generation_noise:g} by "
        "default (`info[\"generation_noise\"]` in bundle.json); pass `noise=` for another.",
        "",
    ]
    (dst / "TRAINING.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"shipped {dst} ({size / 1e6:.1f} MB)")


def main(argv=None):
    args = parse(argv)
    tc, result, seconds = train(args)
    previous = Path(tc.out_dir) / "metrics.json"
    if result.resumed_from >= args.epochs and previous.is_file():   # nothing trained this time
        seconds = next(iter(json.loads(previous.read_text()).values())).get("train_s", seconds)
    print(f"trained {args.name} in {seconds:.0f} s; losses {json.dumps(result.history)}",
          flush=True)
    rows, songs = {}, None
    for noise in args.noise:
        m, _, songs = bench.evaluate_bundle(result.bundle_dir, args.music_dir, args.seconds,
                                            noise, args.seed, args.stateful, songs=songs)
        name = args.name + (f" noise {noise:g}" if noise else "")
        m.update(train_s=seconds, val_loss=result.history["val"][-1],
                 train_loss=result.history["train"][-1])
        rows[name] = m
        print(json.dumps({"model": name, **m}), flush=True)
    (Path(tc.out_dir) / "metrics.json").write_text(json.dumps(rows, indent=1))
    if args.bundle:
        ship(args, tc, result, seconds, rows)


if __name__ == "__main__":
    main()
