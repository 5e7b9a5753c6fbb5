"""Benchmark: albumlib.music.transcribe against basic-pitch's own inference: speed, notes, memory.

Run: `python benchmarks/bench_transcribe.py [--music-dir data/music] [--repeats 3]
[--long-minutes 10] [--no-reference] [--no-scores] [--no-memory]`. Prints Markdown for
benchmarks/RESULTS.md, with the machine, the date and the load average at the start and the end.

The reference is basic-pitch 0.4.0's `basic_pitch.inference.predict(path,
model_or_model_path=<our bundled nmp.tflite>)`: the same network, run by the same TFLite
interpreter, with librosa's decoding and basic-pitch's note creation. It is a benchmark-only
dependency that cannot be installed with its declared dependencies (they break the project's
stack): `pip install --no-deps basic-pitch==0.4.0` and `pip install -r benchmarks/requirements.txt`
(librosa, pretty_midi, mir_eval, resampy). Without it the reference columns are skipped with a
message.

1. Speed, in x real time (seconds of audio / seconds of wall time, decoding included), the
   median of `--repeats` runs per bundled piece, ours (`Transcriber().file` at basic-pitch's
   thresholds, 0.5 and 0.3) and the reference taking turns in one process after one warm-up run
   each (model loading, librosa's JIT). The CPU seconds (user + system, all threads, ffmpeg
   included) are steadier than the wall time on a shared machine.
2. Agreement: note F1 of our notes against the reference's on the same files (same pitch, onsets
   within 50 ms, one to one: `transcribe.note_f1`). The two decode the mp3 with different
   resamplers (ffmpeg against soxr), so a few activations near a threshold differ.
3. Against the scores (music21 needed: scripts/requirements-render.txt): the pieces' notes,
   re-made as scripts/render_sample_music.py makes them, against ours at a few
   (onset_threshold, frame_threshold) pairs, to choose the default.
4. Memory: the peak resident set (VmHWM) of a child process that transcribes a short and a
   long file (the bundled pieces joined by ffmpeg without re-encoding, bench_audio's
   make_long_mp3), after its imports and the model's loading and at the end; the reference's
   with `--reference-memory` (it holds the whole signal and all the model outputs).
"""

import argparse
import contextlib
import datetime
import importlib.util
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from albumlib import audio  # noqa: E402
from albumlib.music import transcribe  # noqa: E402
from machine import cpu_name  # noqa: E402

THRESHOLDS = [(0.5, 0.3), (0.5, 0.4), (0.6, 0.4), (0.7, 0.3), (0.7, 0.4), (0.7, 0.5),
              (0.8, 0.4)]
RESULT_TAG = "BENCH_TRANSCRIBE_RESULT "
REFERENCE_MISSING = ("basic-pitch is not installed: the reference is skipped. Install it with "
                     "`pip install --no-deps basic-pitch==0.4.0` and "
                     "`pip install -r benchmarks/requirements.txt`.")


def has_reference():
    """Whether basic-pitch and the packages it imports are installed."""
    return all(importlib.util.find_spec(name) for name in
               ("basic_pitch", "librosa", "pretty_midi", "mir_eval", "resampy"))


def reference_predictor():
    """basic-pitch's predict on our bundled TFLite file: path -> notes in our format."""
    logging.getLogger().setLevel(logging.ERROR)  # its import warns of the runtimes it lacks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from basic_pitch import inference
        model = inference.Model(str(transcribe.model_path()))

    def predict(path):
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            _, _, events = inference.predict(str(path), model_or_model_path=model)
        notes = [(float(a), float(b - a), int(p), float(v)) for a, b, p, v, _ in events]
        return sorted(notes, key=lambda n: (n[0], n[2]))

    return predict


def seconds_of(path):
    """Decoded length of a file in seconds."""
    return sum(c.size for c in audio.iter_audio_chunks(path, transcribe.SAMPLE_RATE)) / \
        transcribe.SAMPLE_RATE


def cpu_seconds():
    """User + system seconds of this process (all threads) and of its waited-for children."""
    import resource

    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn, path):
    """(seconds of wall time, CPU seconds, result) of fn(path)."""
    start, cpu = time.perf_counter(), cpu_seconds()
    result = fn(path)
    return time.perf_counter() - start, cpu_seconds() - cpu, result


def speed_and_agreement(files, repeats, reference):
    """Rows per file: seconds, x real time of ours and the reference, F1 ours vs reference."""
    ours = transcribe.Transcriber(onset_threshold=0.5, frame_threshold=0.3)  # basic-pitch's
    methods = {"ours": ours.file}
    if reference:
        methods["basic-pitch"] = reference
    for fn in methods.values():  # warm-up: model loading, librosa's JIT compilation
        fn(files[0])
    rows = []
    for path in files:
        length, times, notes = seconds_of(path), {k: [] for k in methods}, {}
        cpu = {k: [] for k in methods}
        for _ in range(repeats):
            for name, fn in methods.items():  # taking turns: load changes touch both
                dt, dcpu, notes[name] = timed(fn, path)
                times[name].append(dt)
                cpu[name].append(dcpu)
        row = {"file": path.name, "seconds": length, "notes": len(notes["ours"])}
        for name in methods:
            row[f"{name} x"] = length / statistics.median(times[name])
            row[f"{name} cpu"] = statistics.median(cpu[name])
        if reference:
            row["reference notes"] = len(notes["basic-pitch"])
            row["f1 vs reference"] = transcribe.note_f1(notes["basic-pitch"], notes["ours"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def score_notes(names=None):
    """{file name: notes of its score} as scripts/render_sample_music.py renders them, or None.

    `names`: only these files (default: all the pieces). music21 is needed (else None).
    """
    if importlib.util.find_spec("music21") is None:
        return None
    spec = importlib.util.spec_from_file_location(
        "render_sample_music", ROOT / "scripts" / "render_sample_music.py")
    render = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(render)
    from music21 import corpus

    out = {}
    for name, where, _, _, _, bpm, max_seconds in render.PIECES:
        if names is not None and name not in names:
            continue
        notes = render.score_notes(corpus.parse(where), bpm, max_seconds)
        unique = {(round(n[0], 4), int(n[2])): n for n in notes}  # a unison sounds as one note
        out[name] = sorted(unique.values())
    return out


def threshold_table(files, scores):
    """F1 against the scores for each threshold pair: {pair: [F1 per file]}."""
    table = {}
    for onset, frame in THRESHOLDS:
        tr = transcribe.Transcriber(onset_threshold=onset, frame_threshold=frame)
        table[(onset, frame)] = [transcribe.note_f1(scores[p.name], tr.file(p))
                                 for p in files if p.name in scores]
        print(json.dumps({"thresholds": [onset, frame], "f1": table[(onset, frame)]}),
              flush=True)
    return table


def _vm(field):
    """A kB field of /proc/self/status in bytes (None without /proc)."""
    with contextlib.suppress(OSError, StopIteration, ValueError):
        with open("/proc/self/status", encoding="utf-8") as f:
            line = next(line for line in f if line.startswith(field + ":"))
        return int(line.split()[1]) * 1024
    return None


def child_main(path, which, notes_json):
    """In a child: transcribe `path` with `which`, print peak memory before and after."""
    if which == "ours":
        tr = transcribe.Transcriber(onset_threshold=0.5, frame_threshold=0.3)
        tr._model = transcribe._Model(tr.model_path)  # load before the first measure
        fn = tr.file
    else:
        fn = reference_predictor()
    before = _vm("VmHWM")
    dt, _, notes = timed(fn, path)
    Path(notes_json).write_text(json.dumps(notes))
    print(RESULT_TAG + json.dumps({"which": which, "peak_before": before,
                                   "peak": _vm("VmHWM"), "seconds": dt, "notes": len(notes)}))


def run_child(path, which, notes_json):
    """The child's result dict (a fresh interpreter: its peak is this transcription's)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(path), which,
           str(notes_json)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_TAG):
            return json.loads(line[len(RESULT_TAG):])
    raise RuntimeError(f"child failed ({done.returncode}): {done.stderr[-2000:]}")


def memory_rows(files, long_minutes, with_reference):
    """Peak memory of children on a short (30 s) and a long file of the pieces joined."""
    from bench_audio import make_long_mp3

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in (0.5, long_minutes):
            path = make_long_mp3(files, minutes * 60, Path(tmp) / f"long_{minutes}.mp3")
            notes = {}
            for which in ["ours"] + (["basic-pitch"] if with_reference else []):
                result = run_child(path, which, Path(tmp) / f"{which}.json")
                notes[which] = json.loads((Path(tmp) / f"{which}.json").read_text())
                result.update(minutes=minutes, x=minutes * 60 / result["seconds"])
                if which != "ours":
                    result["f1"] = transcribe.note_f1(notes[which], notes["ours"])
                rows.append(result)
                print(json.dumps(result), flush=True)
    return rows


def load():
    """The 1-minute load average, or None."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def print_report(rows, table, memory, reference, repeats, loads):
    """Markdown for RESULTS.md."""
    print(f"\n- {datetime.datetime.now():%Y-%m-%d %H:%M}, {cpu_name()}, {os.cpu_count()} CPUs,"
          f" load average {loads[0]:.2f} at the start, {loads[1]:.2f} at the end; median of"
          f" {repeats} runs per file.\n")
    if rows:
        head = "| file | seconds | notes | ours, x real time |"
        if reference:
            head += " basic-pitch, x real time | basic-pitch notes | F1 ours vs basic-pitch |"
        print(head + "\n|" + "---|" * head.count(" |"))
        for r in rows:
            line = f"| {r['file']} | {r['seconds']:.1f} | {r['notes']} | {r['ours x']:.1f} |"
            if reference:
                line += (f" {r['basic-pitch x']:.1f} | {r['reference notes']} |"
                         f" {r['f1 vs reference']:.3f} |")
            print(line)
        total = sum(r["seconds"] for r in rows)
        for name in ["ours"] + (["basic-pitch"] if reference else []):
            wall = sum(r["seconds"] / r[f"{name} x"] for r in rows)
            cpu = sum(r[f"{name} cpu"] for r in rows)
            print(f"\nAll {len(rows)} files ({total:.0f} s of audio), {name}: {total / wall:.1f}x"
                  f" real time ({wall:.1f} s of wall time), {cpu:.1f} CPU seconds"
                  f" ({total / cpu:.1f} s of audio a CPU second)")
    if table:
        print("\n| onset, frame threshold | mean F1 vs score | min | max |\n|---|---|---|---|")
        for (onset, frame), f1 in table.items():
            print(f"| {onset}, {frame} | {statistics.mean(f1):.3f} | {min(f1):.3f} |"
                  f" {max(f1):.3f} |")
    if memory:
        print("\n| input | method | peak MB after imports + model | peak MB at the end |"
              " x real time | notes | F1 vs ours |\n|---|---|---|---|---|---|---|")
        for m in memory:
            f1 = f"{m['f1']:.3f}" if "f1" in m else ""
            print(f"| {m['minutes']:g} min | {m['which']} | {m['peak_before'] / 1e6:.0f} |"
                  f" {m['peak'] / 1e6:.0f} | {m['x']:.1f} | {m['notes']} | {f1} |")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--music-dir", type=Path, default=ROOT / "data" / "music")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--files", type=int, default=0, help="only the first N files (0: all)")
    ap.add_argument("--long-minutes", type=float, default=10.0)
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--no-scores", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--reference-memory", action="store_true")
    ap.add_argument("--child", nargs=3, metavar=("PATH", "WHICH", "JSON"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(Path(args.child[0]), *args.child[1:])
    files = sorted(args.music_dir.glob("*.mp3"))[:args.files or None]
    reference = None
    if not args.no_reference:
        if has_reference():
            reference = reference_predictor()
        else:
            print(REFERENCE_MISSING)
    loads = [load()]
    rows = [] if args.no_speed else speed_and_agreement(files, args.repeats, reference)
    scores = None if args.no_scores else score_notes()
    if scores is None and not args.no_scores:
        print("music21 is not installed: the comparison with the scores is skipped "
              "(pip install -r scripts/requirements-render.txt).")
    table = threshold_table(files, scores) if scores else {}
    memory = [] if args.no_memory else memory_rows(
        files, args.long_minutes, args.reference_memory and reference is not None)
    loads.append(load())
    print_report(rows, table, memory, reference is not None, args.repeats, loads)


if __name__ == "__main__":
    main()
