"""The note model's quality bar, speed and memory (issue 13, items 3, 5, 6, 7).

    python benchmarks/bench_note_model.py quality [--model DIR] [--seeds 5] [--seconds 30]
                                                  [--real DIR] [--report]
    python benchmarks/bench_note_model.py adapt --model DIR --folder MUSIC_DIR
    python benchmarks/bench_note_model.py memory [--model DIR]
    python benchmarks/bench_note_model.py speed [--model DIR]

quality: compositions of several seeds, measured as a listener hears them (albumlib.music.metrics
.movement: onset rate, onset coverage, spectral novelty, chroma change) beside real music: the
bundled rendered pieces (data/music) and, with --real, a folder of recordings; with --report the
report's FFT-block model is measured the same way. A row "inside" says whether every composition
lies within real music's range on every measure.

adapt: a model made by train-music on MUSIC_DIR against the bundled (pre-trained) model: the
pitch-class histogram distance, note density, register and tempo of their compositions' notes to
the folder's notes and to the pre-training corpus's, and the longest run of notes copied from the
folder.

memory: peak resident memory of `compose` writing a short and a long composition to a WAV file,
each in a fresh process, for the note model and the report's (flat: within a few per cent). speed: composing and rendering in x real time, median of
runs, against the report's model composing the same length in the same run.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from albumlib import audio  # noqa: E402
from albumlib.music import metrics, note_metrics as nm, soundtrack  # noqa: E402

MEASURES = ("onset_rate", "onset_coverage", "spectral_novelty", "chroma_change")
SR = soundtrack.SR


def measure(x, sr=SR):
    """The four movement measures of a signal."""
    return metrics.movement(np.asarray(x, np.float32), sr)


def real_rows(folder, seconds, limit=None):
    """Movement of windows of `seconds` from each file of a folder (two windows per file)."""
    rows = []
    for path in sorted(audio.list_audio(folder, recursive=True))[:limit]:
        x = audio.load_audio(path, sr=SR)
        starts = [0, max(len(x) // 2 - int(seconds * SR) // 2, 0)]
        for s in starts:
            seg = x[s:s + int(seconds * SR)]
            if len(seg) >= seconds * SR * 0.9:
                rows.append(measure(seg))
    return rows


def summary(rows):
    """Mean, min and max of each measure over rows."""
    return {k: (float(np.mean([r[k] for r in rows])), float(np.min([r[k] for r in rows])),
                float(np.max([r[k] for r in rows]))) for k in MEASURES}


def inside(rows, reference):
    """For each measure, whether every row lies within the reference's min-max range."""
    return {k: all(reference[k][1] <= r[k] <= reference[k][2] for r in rows) for k in MEASURES}


def cmd_quality(args):
    """Compositions of the note model (and the report's) beside real music."""
    table = {}
    model = soundtrack.load_model(args.model)
    table["note model"] = [measure(soundtrack.compose(model, args.seconds, seed=s))
                           for s in range(args.seeds)]
    if args.report:
        rep = soundtrack.load_model("report")
        table["report's model"] = [measure(soundtrack.compose(rep, args.seconds, seed=s))
                                   for s in range(args.seeds)]
    table["bundled pieces (data/music)"] = real_rows(ROOT / "data" / "music", args.seconds)
    if args.real:
        table[f"recordings ({Path(args.real).name})"] = real_rows(args.real, args.seconds)
    reals = [r for name, rows in table.items() if "model" not in name for r in rows]
    ref = summary(reals)
    print("| | " + " | ".join(MEASURES) + " | inside real range |")
    print("|---" * (len(MEASURES) + 2) + "|")
    for name, rows in table.items():
        s, ok = summary(rows), inside(rows, ref)
        cells = [f"{s[k][0]:.3g} ({s[k][1]:.3g}-{s[k][2]:.3g})" for k in MEASURES]
        verdict = "all" if all(ok.values()) else "no: " + ", ".join(k for k in MEASURES
                                                                   if not ok[k])
        print(f"| {name}, {len(rows)} x {args.seconds:g} s | " + " | ".join(cells)
              + f" | {verdict if 'model' in name else ''} |")


def notes_of(model, seconds, seeds):
    """The composed notes (onset s, duration s, pitch, velocity) of several seeds."""
    return [np.asarray([n[:4] for n in soundtrack.note_stream(model, seconds, seed=s)])
            for s in range(seeds)]


def profile(pieces_s):
    """Pitch-class histogram, density, mean pitch of notes in seconds (a list of pieces)."""
    allnotes = np.concatenate([p for p in pieces_s if len(p)])
    return {"pc": nm.pitch_class_histogram(allnotes),
            "density": float(np.mean([nm.note_density(p) for p in pieces_s if len(p)])),
            "register": float(np.average(allnotes[:, 2], weights=allnotes[:, 1]))}


def cmd_adapt(args):
    """A train-music model against the bundled one, both against the folder and the corpus."""
    from albumlib.music import corpus, learn
    folder = [p.to_seconds() for p in learn.read_pieces(learn.music_files(args.folder),
                                                        Path(args.model) / learn.NOTES_DIR)]
    folder = [np.asarray([n[:4] for n in p]) for p in folder]
    pre = [np.asarray([n[:4] for n in p.to_seconds()]) for p in corpus.load_corpus()[:200]]
    refs = {"folder": profile(folder), "corpus": profile(pre)}
    rows = {}
    for name, m in (("adapted", soundtrack.load_model(args.model)),
                    ("pre-trained", soundtrack.load_model(None))):
        comp = notes_of(m, args.seconds, args.seeds)
        prof = profile(comp)
        rows[name] = {f"pc distance to {k}": float(0.5 * np.abs(prof["pc"] - v["pc"]).sum())
                      for k, v in refs.items()}
        rows[name].update(density=prof["density"], register=prof["register"], bpm=m.bpm,
                          longest_copied_run=max(nm.longest_copied_run(c, folder)
                                                 for c in comp))
    rows["folder"] = {"density": refs["folder"]["density"],
                      "register": refs["folder"]["register"]}
    rows["corpus"] = {"density": refs["corpus"]["density"],
                      "register": refs["corpus"]["register"]}
    print(json.dumps(rows, indent=1))


def _child_peak(model, seconds, out):
    """Peak resident memory (MB) of a fresh process composing `seconds` to `out`."""
    code = ("import resource, sys; from albumlib.music import soundtrack; "
            "soundtrack.compose(None if sys.argv[1] == '-' else sys.argv[1], float(sys.argv[2]), "
            "out=sys.argv[3], overwrite=True); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    t = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, model or "-", str(seconds), str(out)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    return float(done.stdout.strip().splitlines()[-1]), time.perf_counter() - t


def cmd_memory(args):
    """Peak memory for a short and a long composition written to a WAV, each in its own
    process: the note model at 60 s and 3600 s, the report's model at 60 s and 900 s."""
    plans = ((args.model or "notes", (60, 3600)), ("report", (60, 900)))
    with tempfile.TemporaryDirectory() as tmp:
        for model, lengths in plans:
            for seconds in lengths:
                peaks = [_child_peak(None if model == "notes" else model, seconds,
                                     Path(tmp) / "x.wav") for _ in range(args.runs)]
                mb = statistics.median(p for p, _ in peaks)
                wall = statistics.median(w for _, w in peaks)
                print(f"{model}: {seconds:5d} s: peak {mb:.1f} MB (median of {args.runs}), "
                      f"{wall:.1f} s wall ({seconds / wall:.0f}x real time with start-up)")


def cmd_speed(args):
    """Composing and rendering speed in x real time, note model and report's model."""
    seconds = 60.0
    for name in ((args.model or "notes"), "report"):
        model = soundtrack.load_model(None if name == "notes" else name)
        runs = []
        for seed in range(3):
            t = time.perf_counter()
            soundtrack.compose(model, seconds, seed=seed)
            runs.append(time.perf_counter() - t)
        med = statistics.median(runs)
        print(f"{name}: {seconds:g} s of music in {med:.2f} s (median of 3): "
              f"{seconds / med:.0f}x real time")
    model = soundtrack.load_model(args.model)
    t = time.perf_counter()
    n = sum(1 for _ in soundtrack.note_stream(model, 600, seed=0))
    dt = time.perf_counter() - t
    print(f"sampling alone: {n} notes for 600 s in {dt:.2f} s ({600 / dt:.0f}x real time)")


def main(argv=None):
    """Parse the command line and run one part."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("part", choices=("quality", "adapt", "memory", "speed"))
    p.add_argument("--model", default=None)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--real", default=None)
    p.add_argument("--folder", default=None)
    p.add_argument("--report", action="store_true")
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args(argv)
    {"quality": cmd_quality, "adapt": cmd_adapt, "memory": cmd_memory,
     "speed": cmd_speed}[args.part](args)


if __name__ == "__main__":
    main()
