"""Benchmark: video assembly (`albumlib.film.assemble.make_video`) against moviepy making the same
film.

Run: `pip install --no-deps -r benchmarks/requirements-nodeps.txt` (moviepy, the reference; not
a project dependency; without its dependencies, which would downgrade Pillow), then
`python benchmarks/bench_video.py [--photos 100] [--scale-photos 1000] [--repeats 3]
[--tmp-dir DIR] [--keep-temp] [--no-moviepy] [--no-demo] [--moviepy-scale]`. `--no-moviepy` runs ours alone (no moviepy needed), `--scale-photos 0` skips
part 2, `--no-demo` part 3. Prints Markdown to paste into benchmarks/RESULTS.md (with the machine
and date). Run it on an otherwise idle machine: the load average is printed at the start and at
the end. With the defaults it takes 20 to 30 minutes on 2 cores (part 2's film lasts 1,000 s).

Issue 6: "100 photos at 1280x720 with crossfades: wall time and peak memory against moviepy making
the same film in the same run. Goal: at least 3 times faster, and memory flat as the album grows
(measure 100 and 1,000 photos). The demo's wall time on this machine."

Inputs (written once into a temporary folder, deleted at the end unless `--keep-temp`):
- photos: synthetic JPEGs (quality 90), smooth colour fields with shapes and grain, in five
  shapes that take turns: 1600x1200, 1200x1600 (portrait), 2000x1125, 1080x1080, 1500x1000; so
  both tools decode real files of varied sizes and aspect ratios (`make_photos`);
- a soundtrack: a 16-bit mono 44.1 kHz WAV of exactly the film's length (a chord with a slow
  tremolo), one per film length (`make_soundtrack`).

The film (the same settings for both; `--size`, `--fps`, `--seconds-per-photo`,
`--transition-seconds`, `--crf`, `--preset` change them): 1280x720, 30 fps, 1 s per photo, so
N photos last N s; 0.3 s (9 frames) linear crossfades centred on each cut, which do not shorten
the film (`timeline.plan_timeline`); each photo letterboxed (scaled to fit, black bars); H.264
yuv420p CRF 20 preset veryfast (`Cut`'s default; `--preset medium` for x264's), profile
high, `+faststart`; AAC 192 kbit/s at 44.1 kHz; no Ken
Burns (moviepy would need custom code for it). Both encode with the same ffmpeg binary, the
imageio-ffmpeg one (printed; a warning if they differ), and neither passes `-threads`: x264
picks its thread count itself (all cores) in both.
- ours: `assemble.make_video(photos, wav, out, Cut(codec="libx264", ...), loudness=None,
  fade_seconds=0, progress=False)`: the soundtrack is taken as it is, as moviepy takes it.
  Its time includes its own check of the file it wrote (`ffmpeg.probe`, as every call does);
  the "check, s" column is the time of the same probe run again after the clock stops.
- moviepy (`moviepy_film`): `ImageClip(path)` per photo, `.resized()` to the letterbox size of
  `canvas.letterbox_rect` (Pillow LANCZOS), `.with_background_color(size, (0, 0, 0), pos)` for
  the black bars (so the whole canvas crossfades, as ours does), `CrossFadeIn` on every photo but
  the first, `with_start`, all in one `CompositeVideoClip(size, bg_color=(0, 0, 0))` with the
  WAV as `AudioFileClip`; `write_videofile(fps, codec="libx264", audio_codec="aac",
  audio_bitrate="192k", preset, ffmpeg_params=["-crf", crf, "-pix_fmt", "yuv420p", "-profile:v",
  "high", "-movflags", "+faststart"], threads=None, logger=None)`. Each clip starts one frame
  before ours starts its crossfade and fades in over transition + 1 frames, so the same frames
  are blended with the same weights, (j + 1) / (T + 1) (`moviepy_schedule`; a test checks it
  frame by frame). What differs, and cannot be set in moviepy 2.2: moviepy decodes the WAV to
  stereo and encodes stereo AAC (ours: mono); it encodes the audio to a temporary file first,
  then muxes it; it converts RGB to YUV with ffmpeg's default BT.601 matrix, untagged (ours:
  BT.709, tagged, limited range); it appends `-pix_fmt yuva420p` after our parameters, for which
  ffmpeg picks yuv420p for libx264 (checked in the output); it loads every photo when the clip is
  built (the resized images stay in memory until the film is written), ours one or two at a time.

Every film is probed after it is written (`ffmpeg.probe`: the frame count and decoded audio) and
must last the planned duration within `TOLERANCE_FRAMES` frames, video and audio, at the planned
size, in yuv420p H.264: otherwise the benchmark stops with `FilmCheckError` (`check_film`).

1. Speed and memory at `--photos` (default 100): ours and moviepy take turns (repeat 1 of each,
   then repeat 2 ...), `--repeats` (default 3) fresh children each; the table gives medians of
   the wall time and CPU and the largest peaks of the runs; speed-up = moviepy's median wall
   time / ours. Goal: at least 3x. Both use the same x264 settings; ours sends a still photo
   once (a variable-frame-rate film: only crossfade frames and the first frame of each photo
   are encoded, a third of them here), moviepy every frame (compare the ffmpeg CPU column).
2. Memory as the album grows: ours at `--photos` (part 1's children) and at `--scale-photos`
   (default 1,000; one child): Python and ffmpeg peaks, and their ratios (flat: both within
   `FLAT_RATIO`). The soundtrack grows with the film (make_video holds it as float32: 176 MB for
   1,000 s), so the table shows its size. moviepy at the larger size only with
   `--moviepy-scale`: it loads every photo up front and may run out of memory; a failure is
   reported in the table, not raised.
3. The demo's wall time: `python -m albumlib demo -o <temporary folder> --no-progress`, in a child
   that runs `albumlib.cli.main` (so its memory can be read), under the current ALBUM_PROFILE
   (printed); the demo's imports (TensorFlow) are part of its time, as a user waits for them. The
   wall column is the whole process, interpreter start included; "in Python" starts just before
   `import albumlib.cli`. One run.

Each measurement is one fresh child process (`sys.executable`, an argument list, no shell; the
spec travels as JSON on its stdin). In parts 1 and 2 the child imports what it needs, makes one
warm-up film of the first two photos at 64x36 (lazy imports, first-call set-up), then times one
film: interpreter start, imports and the warm-up are excluded from the time. Peak memory: the
child's VmHWM from /proc/self/status (its whole life, imports included; the RSS after the warm-up
is printed beside it), and, as its own column, the largest VmHWM among the ffmpeg processes it
started while the clock ran (`bench_audio.ChildPeakSampler`, every 10 ms): the encoder, and for
ours the decoders of its check, for moviepy its audio decoder and encoder. MB = 10^6 bytes. The
CPU column: user + system seconds of the timed film, of the child (all its threads) and of the
ffmpeg processes it waited for; on a loaded machine it is steadier than the wall time.
"""

import argparse
import contextlib
import datetime
import importlib
import importlib.util
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

from albumlib import audio, ffmpeg  # noqa: E402  (numpy, scipy, Pillow: no TensorFlow)
from albumlib.film import assemble, canvas, encode, timeline  # noqa: E402
from albumlib.film.options import Cut  # noqa: E402
from bench_audio import (ChildPeakSampler, _mb, check_disk, cpu_seconds,  # noqa: E402
                         current_rss_bytes, load_average, peak_rss_bytes,
                         speed_cell)

RESULT_TAG = "BENCH_VIDEO_RESULT "
PHOTO_SHAPES = ((1600, 1200), (1200, 1600), (2000, 1125), (1080, 1080), (1500, 1000))
JPEG_QUALITY = 90
WARMUP_SIZE = (64, 36)
TOLERANCE_FRAMES = 2      # a film may differ from the plan by this many frames (video or audio)
GOAL_SPEEDUP = 3.0        # "at least 3 times faster"
FLAT_RATIO = 1.25         # "flat": the larger album's peaks within this factor of the smaller's
DEFAULT_PRESET = Cut().preset
METHODS = {  # method -> (table label, what is timed)
    "ours": ("ours", "`assemble.make_video` (its own check of the file included)"),
    "moviepy": ("moviepy", "clips built + `write_videofile` + `close`"),
}
MOVIEPY_MISSING = ("moviepy is not installed, and the reference needs it: "
                   "`pip install --no-deps -r benchmarks/requirements-nodeps.txt` (no-deps: "
                   "it would downgrade Pillow), or run with --no-moviepy for our side alone.")


class FilmCheckError(RuntimeError):
    """A film written by the benchmark is not the planned one (duration, size, format)."""


# --------------------------------------------------------------------------- inputs


def make_photo(width, height, seed):
    """A synthetic photo, uint8 (height, width, 3): a smooth colour field, shapes and grain."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    field = rng.integers(0, 256, size=(3, 4, 3), dtype=np.uint8)
    image = Image.fromarray(field).resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    side = min(width, height)
    for _ in range(12):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        rx, ry = rng.uniform(0.03, 0.25, size=2) * side
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape([x - rx, y - ry, x + rx, y + ry], fill=colour)
    pixels = np.asarray(image, dtype=np.int16)
    pixels += rng.integers(-8, 9, size=(height, width, 1), dtype=np.int16)  # grain
    return np.clip(pixels, 0, 255).astype(np.uint8)


def make_photos(folder, n, seed=0, shapes=PHOTO_SHAPES, log=None):
    """Write n synthetic JPEGs (shapes taking turns) into `folder`; returns their paths."""
    from PIL import Image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n):
        width, height = shapes[k % len(shapes)]
        path = folder / f"photo_{k:04d}.jpg"
        Image.fromarray(make_photo(width, height, [seed, k])).save(path, quality=JPEG_QUALITY)
        paths.append(path)
        if log and (k + 1) % 100 == 0:
            log(f"photos: {k + 1} of {n} written")
    return paths


def make_soundtrack(path, seconds, sr=encode.AUDIO_SR, chunk_seconds=60):
    """Write `seconds` of a chord with a slow tremolo as 16-bit mono WAV at `path`."""
    n = int(round(seconds * sr))
    out = np.empty(n, dtype=np.float32)
    step = int(chunk_seconds * sr)
    for start in range(0, n, step):  # in chunks: no float64 copy of a long film's soundtrack
        t = np.arange(start, min(n, start + step), dtype=np.float64) / sr
        chord = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63)) / 3
        out[start:start + t.size] = 0.3 * (0.75 + 0.25 * np.sin(2 * np.pi * 0.25 * t)) * chord
    return audio.save_wav(path, out, sr, overwrite=True)


def plan(n_photos, args):
    """The film's `timeline.Timeline` for n photos (what both tools must make)."""
    return settings_timeline(n_photos, vars(args))


def bytes_needed(n_photos, film_seconds, size, keep_films=False):
    """Rough disk bytes for the photos, one soundtrack and the films (generous)."""
    photos = n_photos * 1.5e6
    film = film_seconds * 1e6 * (size[0] * size[1]) / (1280 * 720)  # 8 Mbit/s at 720p
    wav = film_seconds * encode.AUDIO_SR * 2
    return int(photos + wav + (4 if keep_films else 2) * film)


def check_free_disk(folder, needed, free=None):
    """`bench_audio.check_disk`, with this benchmark's option in its message."""
    try:
        return check_disk(folder, needed, free)
    except OSError as err:
        raise OSError(str(err).replace("--hours", "--scale-photos")) from None


# --------------------------------------------------------------------------- the two films


def settings_timeline(n_photos, settings):
    """The `timeline.Timeline` that make_video plans for n photos with these settings."""
    return timeline.plan_timeline(n_photos, settings["seconds_per_photo"],
                                  settings["transition_seconds"], settings["fps"])


def make_ours(photos, wav, out, size, settings):
    """Our film: `assemble.make_video` with the settings of the module docstring."""
    cut = Cut(seconds_per_photo=settings["seconds_per_photo"], size=size, fps=settings["fps"],
              fit="letterbox", transition="crossfade",
              transition_seconds=settings["transition_seconds"], ken_burns=False,
              crf=settings["crf"], codec="libx264", preset=settings["preset"])
    assemble.make_video(photos, wav, out, cut, fade_seconds=0.0, loudness=None, overwrite=True,
                        progress=False)


def moviepy_schedule(timeline):
    """[(start, end, fade)] in seconds for each photo's moviepy clip, matching `timeline`.

    Ours blends the T frames from b - T // 2 (b: the cut) with weights (j + 1) / (T + 1). A
    moviepy clip that starts at frame b - T // 2 - 1 with `CrossFadeIn((T + 1) / fps)` has
    exactly these weights (0 on its first frame, where the previous photo is all that shows), and
    the previous clip can end when the fade does, at frame b - T // 2 + T. Without crossfades the
    clips meet at the cuts. fade is None for the first clip.
    """
    fps, t = timeline.fps, timeline.transition_frames
    n = timeline.n_photos
    lead = t // 2 + 1 if t else 0      # frames before the cut where the next clip starts
    tail = t - t // 2 if t else 0      # frames after the cut where the previous clip ends
    rows = []
    for k in range(n):
        first, end = timeline.slot(k)
        start = 0 if k == 0 else first - lead
        stop = timeline.n_frames if k == n - 1 else end + tail
        rows.append((start / fps, stop / fps, (t + 1) / fps if k and t else None))
    return rows


def moviepy_film(photos, wav, size, timeline):
    """The same film as a moviepy 2.x clip (see the module docstring), with its soundtrack."""
    from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, vfx

    width, height = size
    clips = []
    for path, (start, stop, fade) in zip(photos, moviepy_schedule(timeline)):
        clip = ImageClip(str(path), duration=stop - start)
        left, top, new_w, new_h = canvas.letterbox_rect(clip.size[0], clip.size[1], width, height)
        clip = clip.resized((new_w, new_h)).with_background_color(size=(width, height),
                                                                  color=(0, 0, 0),
                                                                  pos=(left, top))
        if fade is not None:
            clip = clip.with_effects([vfx.CrossFadeIn(fade)])
        clips.append(clip.with_start(start))
    film = CompositeVideoClip(clips, size=(width, height), bg_color=(0, 0, 0))
    soundtrack = AudioFileClip(str(wav)).with_duration(timeline.duration)
    return film.with_duration(timeline.duration).with_audio(soundtrack)


def make_moviepy(photos, wav, out, size, settings):
    """moviepy's film, written to `out` (its temporary audio file beside it)."""
    timeline = settings_timeline(len(photos), settings)
    film = moviepy_film(photos, wav, size, timeline)
    try:
        film.write_videofile(str(out), fps=timeline.fps, codec="libx264", audio_codec="aac",
                             audio_bitrate="192k", audio_fps=encode.AUDIO_SR,
                             preset=settings["preset"],
                             ffmpeg_params=["-crf", str(int(settings["crf"])), "-pix_fmt",
                                            "yuv420p", "-profile:v", "high", "-movflags",
                                            "+faststart"],
                             threads=None, temp_audiofile_path=str(Path(out).parent),
                             logger=None)
    finally:
        film.audio.close()
        film.close()


MAKERS = {"ours": make_ours, "moviepy": make_moviepy}


def film_info(info):
    """The fields of a `ffmpeg.MediaInfo` the report uses, as a JSON-ready dict."""
    keys = ("duration", "video_codec", "pix_fmt", "width", "height", "fps", "n_frames",
            "n_coded", "video_seconds", "audio_codec", "sample_rate", "channels",
            "audio_seconds")
    return {k: getattr(info, k) for k in keys}


def check_film(info, timeline, size, who="film"):
    """Raise FilmCheckError unless the probed film (a `film_info` dict) is the planned one."""
    planned, fps = timeline.duration, timeline.fps
    tolerance = TOLERANCE_FRAMES / fps
    problems = []
    for stream in ("video", "audio"):
        got = info.get(f"{stream}_seconds")
        if got is None:
            problems.append(f"no readable {stream} stream")
        elif abs(got - planned) > tolerance + 1e-9:
            problems.append(f"{stream} lasts {got:.3f} s instead of {planned:.3f} s "
                            f"(more than {TOLERANCE_FRAMES} frames off)")
    if info.get("fps") is not None and abs(info["fps"] - fps) > 1e-3:
        problems.append(f"{info['fps']:g} fps instead of {fps:g}")
    if (info.get("width"), info.get("height")) != tuple(size):
        problems.append(f"size {info.get('width')}x{info.get('height')} instead of "
                        f"{size[0]}x{size[1]}")
    if info.get("video_codec") != "h264" or info.get("pix_fmt") != "yuv420p":
        problems.append(f"video {info.get('video_codec')} {info.get('pix_fmt')} instead of "
                        f"h264 yuv420p")
    if info.get("audio_codec") != "aac":
        problems.append(f"audio {info.get('audio_codec')} instead of aac")
    if problems:
        raise FilmCheckError(f"{who}: not the planned film - {'; '.join(problems)}")
    return info


# --------------------------------------------------------------------------- child processes


def timed(run):
    """(run(), measures): its wall and CPU seconds, and the peak of the ffmpeg it started."""
    with ChildPeakSampler() as ffmpeg:
        own_0, waited_0 = cpu_seconds()
        clock_0 = time.perf_counter()
        value = run()
        wall = time.perf_counter() - clock_0
        own_1, waited_1 = cpu_seconds()
    return value, {"seconds": wall, "cpu_self": own_1 - own_0,
                   "cpu_children": waited_1 - waited_0, "ffmpeg_peak_rss": ffmpeg.peak}


def _film_child(spec):
    """Parts 1 and 2: warm up, then time one film; returns the result dict."""
    mode = spec["mode"]
    make = MAKERS[mode]
    importlib.import_module("moviepy" if mode == "moviepy" else "albumlib.film.assemble")
    size = tuple(spec["size"])
    photos = [Path(p) for p in spec["photos"]]
    timeline = settings_timeline(len(photos), spec)
    out = Path(spec["out"])
    if spec.get("warmup_wav"):  # two photos, 1 s each, tiny frames
        warm_out = out.with_name(f"warmup_{out.name}")
        make(photos[:2], spec["warmup_wav"], warm_out, WARMUP_SIZE,
             {**spec, "seconds_per_photo": 1.0})
        warm_out.unlink()
    ready = current_rss_bytes()
    _, result = timed(lambda: make(photos, spec["wav"], out, size, spec))
    result.update(mode=mode, peak_rss=peak_rss_bytes(), ready_rss=ready, n_photos=len(photos),
                  planned_seconds=timeline.duration, film_bytes=out.stat().st_size,
                  tensorflow_loaded="tensorflow" in sys.modules)
    check_start = time.perf_counter()
    result["info"] = film_info(ffmpeg.probe(out))  # outside the clock (ours checks inside it)
    result["check_seconds"] = time.perf_counter() - check_start
    return result


def _run_demo(argv):
    from albumlib import cli  # its imports (TensorFlow) are part of the demo's time
    return cli.main(argv)


def _demo_child(spec):
    """Part 3: `python -m albumlib demo ...` run in this process (imports included)."""
    status, result = timed(lambda: _run_demo(spec["argv"]))
    if status:
        raise SystemExit(f"the demo exited with status {status}")
    from albumlib import profiles
    result.update(mode="demo", profile=profiles.profile_name(), peak_rss=peak_rss_bytes())
    return result


def child_main(spec_json):
    """One measurement (see the module docstring); prints RESULT_TAG + JSON on its last line."""
    spec = json.loads(spec_json)
    mode = spec.get("mode")
    if mode in MAKERS:
        result = _film_child(spec)
    elif mode == "demo":
        result = _demo_child(spec)
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    print(RESULT_TAG + json.dumps(result), flush=True)
    return 0


def _exit_text(returncode):
    """'exit status 1', or 'killed by SIGKILL (out of memory?)' for a negative status."""
    if returncode >= 0:
        return f"exit status {returncode}"
    name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else "?"
    hint = " (out of memory?)" if name == "SIGKILL" else ""
    return f"killed by {name}{hint}"


def run_child(spec):
    """Run one measurement in a fresh Python process; its result dict, plus `process_seconds`
    (the whole child, interpreter start included). Raises RuntimeError when it fails."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child"]
    start = time.perf_counter()
    done = subprocess.run(cmd, input=json.dumps(spec), capture_output=True, text=True)
    process_seconds = time.perf_counter() - start
    results = [line[len(RESULT_TAG):] for line in done.stdout.splitlines()
               if line.startswith(RESULT_TAG)]
    if done.returncode != 0 or not results:
        tail = "\n".join((done.stderr.strip() or done.stdout.strip()).splitlines()[-15:])
        raise RuntimeError(f"measurement {spec.get('mode')!r} failed "
                           f"({_exit_text(done.returncode)}):\n{tail}")
    result = json.loads(results[-1])
    result["process_seconds"] = process_seconds
    return result


# --------------------------------------------------------------------------- report


def log(message):
    """Progress on stderr (stdout is the Markdown)."""
    print(f"[bench_video {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def moviepy_version():
    """moviepy's version, or None where it is not installed."""
    if importlib.util.find_spec("moviepy") is None:
        return None
    from importlib.metadata import version
    return version("moviepy")


def ffmpeg_binaries():
    """(ours, moviepy's or None): the ffmpeg binaries the two tools run."""
    theirs = None
    if moviepy_version() is not None:
        from moviepy.config import FFMPEG_BINARY
        theirs = FFMPEG_BINARY
    return ffmpeg.ffmpeg_exe(), theirs


def versions():
    """Versions of what the benchmark exercises."""
    import PIL
    import imageio_ffmpeg
    parts = [f"Python {platform.python_version()}", f"numpy {np.__version__}",
             f"Pillow {PIL.__version__}",
             f"ffmpeg {imageio_ffmpeg.get_ffmpeg_version()} (imageio-ffmpeg "
             f"{imageio_ffmpeg.__version__})"]
    if moviepy_version() is not None:
        parts.append(f"moviepy {moviepy_version()}")
    return ", ".join(parts)


def locked_version(package, lock_dir=ROOT / "locks"):
    """The version of `package` in this Python's lock file (locks/pyX.Y.txt), or None."""
    lock = Path(lock_dir) / f"py{sys.version_info[0]}.{sys.version_info[1]}.txt"
    try:
        lines = lock.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, pinned = line.partition("==")
        if pinned and name.strip().lower() == package.lower():
            return pinned.split(";")[0].split()[0]
    return None


def pillow_warning():
    """A warning when Pillow is not the locked one (moviepy's pillow<12 may have replaced it)."""
    import PIL
    locked = locked_version("pillow")
    if locked is None or locked == PIL.__version__:
        return None
    return (f"warning: Pillow {PIL.__version__} is installed, the lock has {locked} (moviepy "
            f"declares pillow<12, and pip downgrades it: see benchmarks/requirements.txt); "
            f"ours decodes and resizes the photos with Pillow too")


def machine_line():
    """The machine line of RESULTS.md: processor, cores, memory, versions, date."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # bench_gatys imports TensorFlow
    from machine import cpu_name, memory_total
    where = f"{cpu_name()}, {os.cpu_count()} cores, {memory_total()}"
    return f"machine: {where}; {versions()}; {datetime.date.today()}"


def _median(runs, key):
    return statistics.median(r[key] for r in runs)


def _peak(runs, key):
    values = [r[key] for r in runs if r.get(key)]
    return max(values) if values else None


def _film_cell(runs):
    """'planned / video / audio' seconds of the films (the runs' extremes where they differ)."""
    def span(key):
        values = sorted({round(r["info"][key], 3) for r in runs})
        return f"{values[0]:.3f}" if len(values) == 1 else f"{values[0]:.3f}-{values[-1]:.3f}"
    info = runs[0]["info"]
    return (f"{runs[0]['planned_seconds']:.3f} / {span('video_seconds')} / "
            f"{span('audio_seconds')} ({info['channels']})")


def speed_table(results, repeats):
    """Markdown table of part 1 from {method: [child results]}."""
    base = results.get("moviepy")
    base_s = _median(base, "seconds") if base else None
    lines = [f"| method | what is timed | film, s: planned / video / audio (channels) "
             f"| wall, s, median ({repeats} run{'s' if repeats > 1 else ''}) "
             f"| speed-up vs moviepy "
             f"| CPU s, median: Python + ffmpeg | peak RSS Python, MB (after warm-up) "
             f"| peak RSS ffmpeg, MB | check, s | file, MB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for method, runs in results.items():
        label, what = METHODS[method]
        secs = [r["seconds"] for r in runs]
        med = statistics.median(secs)
        speed = speed_cell(base_s, med, reference=method == "moviepy")
        times = ", ".join(f"{s:.2f}" for s in secs)
        lines.append(
            f"| {label} | {what} | {_film_cell(runs)} | {med:.2f} ({times}) | {speed} "
            f"| {_median(runs, 'cpu_self'):.1f} + {_median(runs, 'cpu_children'):.1f} "
            f"| {_mb(_peak(runs, 'peak_rss'))} ({_mb(_peak(runs, 'ready_rss'))}) "
            f"| {_mb(_peak(runs, 'ffmpeg_peak_rss'))} | {_median(runs, 'check_seconds'):.2f} "
            f"| {_median(runs, 'film_bytes') / 1e6:.1f} |")
    return "\n".join(lines)


def soundtrack_bytes(film_seconds):
    """The soundtrack as make_video holds it: mono float32 at 44.1 kHz."""
    return int(round(film_seconds * encode.AUDIO_SR)) * 4


def scale_table(rows):
    """Markdown table of part 2 from [(method, n_photos, [child results] or error text)]."""
    lines = ["| method | photos | film, s | wall, s | CPU s: Python + ffmpeg "
             "| peak RSS Python, MB (after warm-up) | peak RSS ffmpeg, MB "
             "| soundtrack as float32, MB |",
             "|---|---|---|---|---|---|---|---|"]
    for method, n, runs in rows:
        if isinstance(runs, str):
            lines.append(f"| {METHODS[method][0]} | {n} | - | **failed**: {runs} | | | | |")
            continue
        film_s = runs[0]["planned_seconds"]
        lines.append(
            f"| {METHODS[method][0]} | {n} | {film_s:.0f} | {_median(runs, 'seconds'):.1f} "
            f"| {_median(runs, 'cpu_self'):.1f} + {_median(runs, 'cpu_children'):.1f} "
            f"| {_mb(_peak(runs, 'peak_rss'))} ({_mb(_peak(runs, 'ready_rss'))}) "
            f"| {_mb(_peak(runs, 'ffmpeg_peak_rss'))} | {_mb(soundtrack_bytes(film_s))} |")
    return "\n".join(lines)


def flat_verdict(small, large):
    """One line: the peaks' ratios from the smaller album to the larger, and the verdict."""
    ratios = {}
    for key, name in (("peak_rss", "Python"), ("ffmpeg_peak_rss", "ffmpeg")):
        a, b = _peak(small, key), _peak(large, key)
        ratios[name] = b / a if a and b else None
    flat = all(r is not None and r <= FLAT_RATIO for r in ratios.values())
    text = ", ".join(f"{name} peak x{r:.2f}" if r is not None else f"{name} peak ?"
                     for name, r in ratios.items())
    return (f"{text} from {small[0]['n_photos']} to {large[0]['n_photos']} photos: "
            f"**{'flat' if flat else 'NOT flat'}** (flat: both within x{FLAT_RATIO:g})")


def demo_table(result):
    """Markdown table of part 3 from the demo child's result."""
    return "\n".join([
        "| command | profile | wall, s (process) | in Python, s (imports included) "
        "| CPU s: Python + ffmpeg | peak RSS Python, MB | peak RSS ffmpeg, MB |",
        "|---|---|---|---|---|---|---|",
        f"| `python -m albumlib demo` | {result['profile']} | "
        f"**{result['process_seconds']:.1f}** | {result['seconds']:.1f} "
        f"| {result['cpu_self']:.1f} + {result['cpu_children']:.1f} "
        f"| {_mb(result['peak_rss'])} | {_mb(result['ffmpeg_peak_rss'])} |"])


# --------------------------------------------------------------------------- parts


def film_spec(method, photos, wav, out, args, warmup_wav):
    """The JSON spec of one film measurement."""
    return {"mode": method, "photos": [str(p) for p in photos], "wav": str(wav),
            "out": str(out), "size": list(args.canvas), "fps": args.fps,
            "seconds_per_photo": args.seconds_per_photo,
            "transition_seconds": args.transition_seconds, "crf": args.crf,
            "preset": args.preset, "warmup_wav": str(warmup_wav) if warmup_wav else None}


def measure_film(method, photos, wav, out, args, warmup_wav):
    """One child making one film; the film is checked against the plan, then deleted."""
    try:
        result = run_child(film_spec(method, photos, wav, out, args, warmup_wav))
        check_film(result["info"], plan(len(photos), args), args.canvas,
                   who=f"{method}'s film of {len(photos)} photos ({out})")
    finally:
        if not args.keep_temp:
            Path(out).unlink(missing_ok=True)
    return result


def speed(photos, wav, args, tmp, warmup_wav):
    """Part 1: ours and moviepy, interleaved, `args.repeats` fresh children each."""
    methods = ["ours"] + ([] if args.no_moviepy else ["moviepy"])
    results = {m: [] for m in methods}
    for r in range(args.repeats):
        for method in methods:
            log(f"speed: {method}, {len(photos)} photos, run {r + 1} of {args.repeats}")
            out = tmp / "films" / f"{method}_{len(photos)}_{r}.mp4"
            results[method].append(measure_film(method, photos, wav, out, args, warmup_wav))
    timeline = plan(len(photos), args)
    print()
    print(f"Speed and memory: {len(photos)} photos ({_shapes_text(photos)}), "
          f"{args.canvas[0]}x{args.canvas[1]} at {args.fps:g} fps, {args.seconds_per_photo:g} s "
          f"a photo, crossfades of {timeline.transition_frames} frames centred on the cuts, "
          f"letterbox, no Ken Burns; H.264 CRF {args.crf} preset {args.preset}, AAC 192k; "
          f"one child process per run, runs interleaved.")
    if any(r["tensorflow_loaded"] for runs in results.values() for r in runs):
        print("warning: TensorFlow was imported in a child (its memory is in the peak)")
    print()
    print(speed_table(results, args.repeats))
    if not args.no_moviepy:
        ratio = _median(results["moviepy"], "seconds") / _median(results["ours"], "seconds")
        print(f"\nGoal (>= {GOAL_SPEEDUP:g}x faster): "
              f"**{'met' if ratio >= GOAL_SPEEDUP else 'NOT met'}** ({ratio:.2f}x).")
    return results


def scale(all_photos, args, tmp, warmup_wav, small):
    """Part 2: ours at args.scale_photos (part 1's runs at args.photos beside it)."""
    photos = all_photos[:args.scale_photos]
    timeline = plan(len(photos), args)
    wav = make_soundtrack(tmp / f"soundtrack_{len(photos)}.wav", timeline.duration)
    rows = [("ours", args.photos, small["ours"])]
    log(f"scale: ours, {len(photos)} photos ({timeline.duration:.0f} s of film) ...")
    out = tmp / "films" / f"ours_{len(photos)}.mp4"
    large = measure_film("ours", photos, wav, out, args, warmup_wav)
    rows.append(("ours", len(photos), [large]))
    log(f"scale: ours done in {large['seconds']:.0f} s")
    if args.moviepy_scale:
        if "moviepy" in small:
            rows.append(("moviepy", args.photos, small["moviepy"]))
        log(f"scale: moviepy, {len(photos)} photos ...")
        out = tmp / "films" / f"moviepy_{len(photos)}.mp4"
        try:
            rows.append(("moviepy", len(photos),
                         [measure_film("moviepy", photos, wav, out, args, warmup_wav)]))
        except FilmCheckError:
            raise
        except (RuntimeError, OSError) as err:  # out of memory, most likely
            first = str(err).splitlines()[0]
            last = str(err).strip().splitlines()[-1]
            rows.append(("moviepy", len(photos), f"{first} ... {last}".replace("|", "/")))
        log("scale: moviepy done")
    if not args.keep_temp:
        wav.unlink()
    print()
    print(f"Memory as the album grows: the same film settings, {args.photos} and "
          f"{len(photos)} photos (the first row is part 1's runs; memory: the largest of them).")
    print()
    print(scale_table(rows))
    print()
    print(f"Memory as the album grows (ours): {flat_verdict(small['ours'], [large])}.")
    theirs = [runs for method, _, runs in rows if method == "moviepy"]
    if len(theirs) == 2 and not isinstance(theirs[1], str):
        print(f"\nMemory as the album grows (moviepy): {flat_verdict(*theirs)}.")
    return rows


def demo(args, tmp):
    """Part 3: the demo's wall time and peak memory, written into the temporary folder."""
    out = tmp / "demo"
    log(f"demo: python -m albumlib demo -o {out} ...")
    result = run_child({"mode": "demo", "argv": demo_argv(out)})
    log(f"demo: done in {result['process_seconds']:.0f} s")
    print()
    print(f"The demo (`python -m albumlib demo`, the bundled album with its defaults; written to "
          f"a temporary folder), ALBUM_PROFILE={os.environ.get('ALBUM_PROFILE', '(unset)')}, "
          f"one run:")
    print()
    print(demo_table(result))
    return result


def demo_argv(out):
    """The demo's command line (after `python -m albumlib`), writing into `out`."""
    return ["demo", "-o", str(out), "--no-progress"]


def _shapes_text(photos):
    from PIL import Image
    shapes = []
    for p in photos[:len(PHOTO_SHAPES)]:
        with Image.open(p) as im:
            shapes.append(f"{im.size[0]}x{im.size[1]}")
    return "JPEG, " + ", ".join(dict.fromkeys(shapes)) + " in turn"


# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100, help="photos of part 1's film")
    parser.add_argument("--scale-photos", type=int, default=1000,
                        help="photos of part 2's larger film (0 skips part 2)")
    parser.add_argument("--repeats", type=int, default=3, help="children per method (median)")
    parser.add_argument("--size", default="720p",
                        help="frame size: a preset of albumlib.film.canvas or WIDTHxHEIGHT")
    parser.add_argument("--fps", type=float, default=30.0, help="frames per second")
    parser.add_argument("--seconds-per-photo", type=float, default=1.0)
    parser.add_argument("--transition-seconds", type=float, default=0.3,
                        help="crossfade length (0: hard cuts)")
    parser.add_argument("--crf", type=int, default=20, help="x264 CRF of both films")
    parser.add_argument("--preset", default=DEFAULT_PRESET,
                        help="x264 preset of both films (default: Cut's, %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic photos")
    parser.add_argument("--tmp-dir", type=Path, default=None,
                        help="where temporary files go (default: the system's temp folder)")
    parser.add_argument("--keep-temp", action="store_true",
                        help="leave the temporary folder (photos, soundtracks, films)")
    parser.add_argument("--no-moviepy", action="store_true", help="ours only (no moviepy)")
    parser.add_argument("--moviepy-scale", action="store_true",
                        help="also run moviepy at --scale-photos (it may run out of memory)")
    parser.add_argument("--no-demo", action="store_true", help="skip part 3 (the demo)")
    args = parser.parse_args(argv)
    try:
        args.canvas = canvas.canvas_size(args.size)
    except ValueError as err:
        parser.error(str(err))
    if args.repeats < 1 or args.photos < 1 or args.scale_photos < 0:
        parser.error("repeats and photos must be at least 1, scale photos at least 0")
    if args.scale_photos and args.scale_photos <= args.photos:
        parser.error(f"--scale-photos ({args.scale_photos}) must be larger than --photos "
                     f"({args.photos}), or 0 to skip part 2")
    if args.moviepy_scale and (args.no_moviepy or not args.scale_photos):
        parser.error("--moviepy-scale needs moviepy (no --no-moviepy) and --scale-photos > 0")
    if not (0 < args.fps <= 240 and args.seconds_per_photo > 0 and args.transition_seconds >= 0
            and 0 <= args.crf <= 51):
        parser.error("need 0 < fps <= 240, seconds per photo > 0, transition seconds >= 0 and "
                     "0 <= crf <= 51")
    try:
        for n in {args.photos, args.scale_photos} - {0}:
            plan(n, args)
    except ValueError as err:
        parser.error(str(err))
    return args


@contextlib.contextmanager
def temporary_folder(parent, keep=False):
    """A new folder under `parent`, deleted on exit unless `keep` (then its path is logged)."""
    folder = Path(tempfile.mkdtemp(prefix="bench_video_", dir=parent))
    try:
        yield folder
    finally:
        if keep:
            log(f"temporary files kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def main(argv=None):
    """Run the benchmark and print Markdown tables; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":  # a measurement, started by run_child
        return child_main(sys.stdin.read())
    args = parse_args(argv)
    if (not args.no_moviepy or args.moviepy_scale) and moviepy_version() is None:
        print(MOVIEPY_MISSING, file=sys.stderr)
        return 2
    print(machine_line())
    print(f"load average at the start (want about 0): {load_average()}")
    ours_exe, theirs_exe = ffmpeg_binaries()
    print(f"ffmpeg: ours {ours_exe}" + ("" if args.no_moviepy else f"; moviepy's {theirs_exe}"))
    if not args.no_moviepy and Path(theirs_exe).resolve() != Path(ours_exe).resolve():
        print("warning: moviepy runs another ffmpeg binary than ours (FFMPEG_BINARY or "
              "IMAGEIO_FFMPEG_EXE is set): the encoders may differ")
    if pillow_warning():
        print(pillow_warning())
    n_total = max(args.photos, args.scale_photos)
    where = Path(tempfile.gettempdir()) if args.tmp_dir is None else args.tmp_dir
    where.mkdir(parents=True, exist_ok=True)
    free = check_free_disk(where, bytes_needed(n_total, plan(n_total, args).duration,
                                               args.canvas, args.keep_temp))
    with temporary_folder(where, args.keep_temp) as tmp:
        log(f"temporary folder {tmp} ({free / 1e9:.0f} GB free)")
        (tmp / "films").mkdir()
        start = time.perf_counter()
        photos = make_photos(tmp / "photos", n_total, seed=args.seed, log=log)
        log(f"{n_total} photos written in {time.perf_counter() - start:.0f} s "
            f"({sum(p.stat().st_size for p in photos) / 1e6:.0f} MB)")
        warmup_wav = make_soundtrack(tmp / "warmup.wav", 2.0)
        wav = make_soundtrack(tmp / f"soundtrack_{args.photos}.wav",
                              plan(args.photos, args).duration)
        results = speed(photos[:args.photos], wav, args, tmp, warmup_wav)
        if args.scale_photos:
            scale(photos, args, tmp, warmup_wav, results)
        if not args.no_demo:
            demo(args, tmp)
    print(f"\nload average at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
