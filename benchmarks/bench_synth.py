"""Benchmark: the numpy synthesiser's speed (x real time) and memory, one-shot and streaming.

Run: `python benchmarks/bench_synth.py [--seconds 60] [--long-seconds 600] [--repeats 3]
[--chunk-seconds 10]` (a few minutes on a 2-core CPU). Prints Markdown for benchmarks/RESULTS.md.

- The music: `texture(seconds)`, a lazy, onset-sorted stream of four parts, one voice each (so
  about four notes sound at once, plus their tails): a grand-piano melody of quavers (0.25 s), a
  harp arpeggio (0.5 s), a bass line (0.5 s) and a pad holding one note a bar (2 s), velocities
  0.45-0.95, fixed seed.
- Speed: seconds of music / wall seconds (median of `--repeats` runs, each after one warm-up)
  for `synth.render_notes` (one-shot, normalised) and `synth.iter_render` (streaming, chunks
  consumed and dropped), and, in the same run when it is installed with a SoundFont
  (`synth.soundfont_available()`), `synth.iter_render_soundfont` (tinysoundfont, C) playing the
  same notes with the GM programs of GM_PROGRAMS: the reference.
- Memory: tracemalloc's peak (numpy's buffers are traced) while rendering `--seconds` and
  `--long-seconds` of the texture, streaming (should stay flat: only the sounding notes and one
  chunk are held) and one-shot (grows with the length: the whole signal in float64, then
  float32). tinysoundfont's own C buffers are not traced (its voices are few and fixed).
"""

import argparse
import heapq
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from albumlib.music import synth  # noqa: E402

SR = synth.SAMPLE_RATE
INSTRUMENTS = {"keys": "grand", "harp": "harp", "bass": "bass", "pad": "pad"}
CHORDS = [(48, 52, 55), (45, 48, 52), (41, 45, 48), (43, 47, 50)]  # C, Am, F, G (a bar each)


def part_notes(part, seconds, seed):
    """One part of the texture, sorted by onset (a generator)."""
    rng = np.random.default_rng([seed, list(INSTRUMENTS).index(part)])
    step = {"keys": 0.25, "harp": 0.5, "bass": 0.5, "pad": 2.0}[part]
    onset = 0.0
    while onset < seconds:
        chord = CHORDS[int(onset // 2.0) % len(CHORDS)]
        if part == "keys":
            pitch = chord[int(rng.integers(3))] + 24 + int(rng.choice([0, 2, 12]))
        elif part == "harp":
            pitch = chord[int(onset / step) % 3] + 12
        elif part == "bass":
            pitch = chord[0] - 12 + (7 if int(onset / step) % 4 == 2 else 0)
        else:
            pitch = chord[1] + 12
        yield (round(onset, 6), step * 0.95, pitch, float(rng.uniform(0.45, 0.95)), part)
        onset += step


def texture(seconds, seed=0):
    """The four parts merged, sorted by onset (lazy)."""
    parts = [part_notes(p, seconds, seed) for p in INSTRUMENTS]
    return heapq.merge(*parts, key=lambda note: note[0])


def consume(chunks):
    """Exhaust a chunk generator, keeping nothing; returns the samples seen."""
    return sum(len(chunk) for chunk in chunks)


def render_one_shot(seconds):
    return len(synth.render_notes(list(texture(seconds)), SR, instruments=INSTRUMENTS))


def render_streaming(seconds, chunk_seconds=10.0):
    return consume(synth.iter_render(texture(seconds), SR, chunk_seconds=chunk_seconds,
                                     instruments=INSTRUMENTS))


def render_soundfont(seconds, chunk_seconds=10.0):
    programs = {part: synth.GM_PROGRAMS[name] for part, name in INSTRUMENTS.items()}
    return consume(synth.iter_render_soundfont(texture(seconds), None, SR,
                                               chunk_seconds=chunk_seconds, programs=programs))


def timed(fn, seconds, repeats):
    """Median wall seconds of fn(seconds) over `repeats` runs, after one short warm-up."""
    fn(2.0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(seconds)
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def traced_peak_mb(fn, seconds):
    """tracemalloc's peak (MB) while fn(seconds) runs."""
    tracemalloc.start()
    try:
        fn(seconds)
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--long-seconds", type=float, default=600.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chunk-seconds", type=float, default=10.0)
    args = parser.parse_args(argv)
    sf = synth.soundfont_available()
    notes = list(texture(args.seconds))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}; {time.strftime('%Y-%m-%d %H:%M')}; numpy "
          f"{np.__version__}; SoundFont: {synth.find_soundfont() if sf else 'not available'}")
    print(f"texture: {args.seconds:g} s, {len(notes)} notes, "
          f"{sum(d for _, d, *_ in notes) / args.seconds:.2f} notes sounding on average\n")
    chunk = args.chunk_seconds
    methods = [("numpy, one-shot (`render_notes`)", render_one_shot),
               (f"numpy, streaming (`iter_render`, {chunk:g} s chunks)",
                lambda s: render_streaming(s, chunk))]
    if sf:
        methods.append((f"tinysoundfont, streaming (`iter_render_soundfont`, {chunk:g} s)",
                        lambda s: render_soundfont(s, chunk)))
    print(f"| method | median s for {args.seconds:g} s | x real time | runs (s) |")
    print("|---|---|---|---|")
    for label, fn in methods:
        median, runs = timed(fn, args.seconds, args.repeats)
        print(f"| {label} | {median:.2f} | {args.seconds / median:.1f} | "
              f"{', '.join(f'{r:.2f}' for r in runs)} |")
    print(f"\n| method | peak MB, {args.seconds:g} s | peak MB, {args.long_seconds:g} s |")
    print("|---|---|---|")
    for label, fn in methods:
        peaks = [traced_peak_mb(fn, s) for s in (args.seconds, args.long_seconds)]
        print(f"| {label} | {peaks[0]:.1f} | {peaks[1]:.1f} |")
    print(f"\nload at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
