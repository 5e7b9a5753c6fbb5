"""Benchmark: one film per event (`python -m albumlib make-films`) against one film (`make-album`).

    python benchmarks/bench_films.py [--photos 1000] [--events 20] [--runs 3] [--music none]

A library of `--photos` small JPEGs (320x240, EXIF DateTimeOriginal; two "devices", IMG_ and
DSC_ names, interleaved in time) in `--events` events two days apart, in nested folders
(year / event / day part), is made once. Then, each in a fresh process, `--runs` times:

- make-films: the whole library, `--style none`, small frames (`--size`, `--fps`), the default
  music (each film's soundtrack composed by the bundled note model, seed + event) unless
  `--music none`; one film per event into a new folder;
- make-album: one event's photos (the first event's folder of photos / events of them), the
  same options, one film.

For each: wall time and peak resident memory, the median of the runs. The peak is the child's
`ru_maxrss` from `os.wait4` (the rusage of that child, the same that
`resource.getrusage(RUSAGE_CHILDREN)` accumulates): the largest resident set of the Python
process or of a process it waited for (ffmpeg), not their sum. Memory must be as flat for the
library as for the one film: make-films holds nothing of one event when the next starts. Prints
a Markdown table (benchmarks/RESULTS.md, issue 14).
"""

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import cpu_name, memory_total  # noqa: E402
EXIF_IFD, ORIGINAL = 0x8769, 0x9003
PHOTO_SIZE = (320, 240)
FLAT_RATIO = 1.25           # "flat": make-films' peak within this factor of make-album's


def make_library(root, n_photos, n_events, seed=0):
    """n_photos JPEGs with EXIF times in n_events events (two days apart, a photo every 3 min)
    in nested folders; returns the folder of the first photo (the first event's morning: all its
    photos, up to 60 of them)."""
    rng = np.random.default_rng(seed)
    start = datetime.datetime(2024, 3, 1, 9, 0)
    per_event = -(-n_photos // n_events)
    first = None
    for k in range(n_photos):
        event, j = divmod(k, per_event)
        when = start + datetime.timedelta(days=2 * event, minutes=3 * j)
        part = "morning" if when.hour < 12 else "afternoon"
        folder = root / str(when.year) / f"{when:%m-%d} trip {event + 1:02d}" / part
        first = first or folder
        device = "IMG" if j % 2 == 0 else "DSC"          # two cameras, interleaved in time
        path = folder / f"{device}_{1000 + 7 * k}.jpg"
        folder.mkdir(parents=True, exist_ok=True)
        colour = rng.integers(30, 226, 3)
        ramp = np.linspace(0.6, 1.0, PHOTO_SIZE[0])[None, :, None]
        pixels = (np.ones((PHOTO_SIZE[1], PHOTO_SIZE[0], 3)) * colour * ramp).astype(np.uint8)
        exif = Image.Exif()
        exif.get_ifd(EXIF_IFD)[ORIGINAL] = when.strftime("%Y:%m:%d %H:%M:%S")
        Image.fromarray(pixels).save(path, quality=85, exif=exif.tobytes())
    return first


def run_measured(argv, env):
    """(wall seconds, peak RSS bytes, return code) of one command in a fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    # the child's own rusage (wait4), so that runs do not mix as RUSAGE_CHILDREN's maximum would
    stderr = proc.stderr.read()
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(stderr.decode(errors="replace")[-3000:])
        raise SystemExit(f"{' '.join(argv[:4])} ... failed with exit code {proc.returncode}")
    return wall, usage.ru_maxrss * 1024, proc.returncode


def film_seconds(folder):
    """Total length of the films in a folder (seconds), from ffprobe-free probing."""
    sys.path.insert(0, str(ROOT))
    from albumlib import ffmpeg
    return sum(ffmpeg.probe(p).video_seconds for p in sorted(Path(folder).glob("*.mp4")))


def measure(name, argv_for, out_root, runs, env):
    """{name, walls, peaks, seconds}: `runs` runs of argv_for(out folder), each a fresh folder."""
    walls, peaks, seconds = [], [], None
    for r in range(runs):
        out = out_root / f"{name}-{r}"
        wall, peak, _ = run_measured(argv_for(out), env)
        walls.append(wall)
        peaks.append(peak)
        films = out if out.is_dir() else out.parent
        seconds = film_seconds(films)
        print(f"  {name} run {r + 1}/{runs}: {wall:.1f} s, peak {peak / 1e6:.0f} MB",
              file=sys.stderr)
        shutil.rmtree(films, ignore_errors=True)
    return dict(name=name, walls=walls, peaks=peaks, seconds=seconds)


def table(rows, n_photos, n_events, album_photos):
    """The Markdown table of the results."""
    lines = ["| command | photos | films | film length, s | time, s (median of "
             f"{len(rows[0]['walls'])}) | peak RSS, MB (median) | time per photo, ms |",
             "|---|---|---|---|---|---|---|"]
    for row, photos, n_films in zip(rows, (n_photos, album_photos), (n_events, 1)):
        wall = statistics.median(row["walls"])
        peak = statistics.median(row["peaks"])
        lines.append(f"| {row['name']} | {photos:,} | {n_films} | {row['seconds']:.0f} | "
                     f"{wall:.1f} ({', '.join(f'{w:.1f}' for w in row['walls'])}) | "
                     f"{peak / 1e6:.0f} ({', '.join(f'{p / 1e6:.0f}' for p in row['peaks'])}) | "
                     f"{1000 * wall / photos:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=1000)
    ap.add_argument("--events", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--size", default="160x90", help="frame size of the films (default 160x90)")
    ap.add_argument("--fps", default="10", help="frames per second (default 10)")
    ap.add_argument("--music", default=None,
                    help="'none' for silent films (default: composed by the note model)")
    ap.add_argument("--work", default=None, help="folder for the library and films (default: "
                                                 "a temporary one, removed)")
    args = ap.parse_args(argv)
    work = Path(args.work or tempfile.mkdtemp(prefix="bench_films-"))
    library = work / "library"
    try:
        t = time.perf_counter()
        first = make_library(library, args.photos, args.events)
        album_photos = len(list(first.glob("*.jpg")))
        print(f"library: {args.photos} photos in {args.events} events ({library}), made in "
              f"{time.perf_counter() - t:.0f} s", file=sys.stderr)
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        common = ["--style", "none", "--size", args.size, "--fps", args.fps, "--no-progress"]
        common += ["--music", args.music] if args.music else []
        cli = [sys.executable, "-m", "albumlib"]
        films = measure("`make-films` (the library)", lambda out: cli + [
            "make-films", str(library), "-o", str(out)] + common, work, args.runs, env)
        album = measure("`make-album` (one event)", lambda out: cli + [
            "make-album", str(first), "-o", str(out / "film.mp4")] + common, work, args.runs,
            env)
        rows = [films, album]
        music = "silent" if args.music == "none" else "music composed by the note model"
        print(f"machine: {cpu_name()}, {os.cpu_count()} cores, {memory_total()}; Python "
              f"{platform.python_version()}; load average {os.getloadavg()[0]:.2f} at the end; "
              f"{datetime.date.today()}")
        print(f"settings: --style none, {args.size} at {args.fps} fps, 1 s a photo, {music}; "
              f"photos {PHOTO_SIZE[0]}x{PHOTO_SIZE[1]} JPEG\n")
        print(table(rows, args.photos, args.events, album_photos))
        ratio = statistics.median(films["peaks"]) / statistics.median(album["peaks"])
        print(f"\nmake-films' peak / make-album's: {ratio:.2f} "
              f"({'flat' if ratio <= FLAT_RATIO else 'NOT flat'}: at most {FLAT_RATIO})")
        return 0 if ratio <= FLAT_RATIO else 1
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
