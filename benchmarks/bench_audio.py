"""Benchmark: music preprocessing throughput against librosa + numpy, and peak memory at scale.

Run: `pip install -r benchmarks/requirements.txt` (librosa, the reference; not a project
dependency), then `python benchmarks/bench_audio.py [--music-dir data/music] [--files N]
[--repeats 3] [--hours 10] [--shard-hours 1] [--tmp-dir DIR] [--no-baseline] [--keep-temp]`.
`--no-baseline` runs ours alone (no librosa needed), `--no-throughput` skips part 1, `--hours 0`
part 2. Prints Markdown to paste into benchmarks/RESULTS.md (with the machine and date). Run it on
an otherwise idle machine: the load average is printed at the start and at the end.

1. Throughput (issue 4: "seconds of audio per second, decode included ... against `librosa.load`
   plus numpy FFT on the same files in the same run"), on the bundled MP3s (or `--music-dir`):
   - ours, on disk: `music_data.build_dataset` into a new temporary folder: decode (ffmpeg, in a
     stream), FFT blocks, per-feature statistics and float32 shards written (to the page cache:
     nothing is fsynced), manifest included;
   - ours, in memory: `audio.load_audio` then `fft_blocks.to_fft_blocks`, file by file;
   - baseline: `librosa.load(path, sr=44100, mono=True)` then `numpy_fft_blocks` below: plain
     numpy, one `np.fft.fft` per 44,100-sample block (last block zero-padded, float64 as ours),
     real parts then imaginary parts, float32 - the same layout as ours (a test checks it).
   Each measurement is one fresh child process (`sys.executable`, an argument list, no shell):
   it imports what it needs, runs its method once on a 2-second clip cut from the same songs
   (warm-up: lazy imports, librosa's first-call set-up), then times one pass over all the files.
   Interpreter start, imports and the warm-up are excluded from the time; the peak memory is the
   child's whole life (imports included: the "after imports" figure is printed beside it).
   The methods take turns (repeat 1 of each, then repeat 2 ...), so a change in background load
   touches all of them; the table gives the median of `--repeats` children per method.
   Throughput = decoded seconds of audio / timed seconds; speed-up = baseline time / our time.
2. Peak memory at scale (issue 4: "under 2 GB for 10 hours of input, measured"): the songs are
   joined, without re-encoding (ffmpeg's concat demuxer, `-c copy`), into mp3 files of
   `--shard-hours` each (default 1 h; 10 h of the bundled 80 kbit/s songs are about 360 MB), and
   `build_dataset` runs in a child on the first file alone, then on all of them (a fresh folder
   each time; 10 h make about 12.7 GB of shards: free disk is checked first). Everything is
   deleted at the end unless `--keep-temp`.

Peak memory: the child's VmHWM from /proc/self/status (its peak resident set; ru_maxrss where
there is no /proc), and, as its own column, the largest VmHWM among the ffmpeg decoders it
started, read from /proc/<pid>/status every 10 ms by a thread (`ChildPeakSampler`; ru_maxrss of
RUSAGE_CHILDREN would count the Python image forked before exec). `build_dataset` runs up to
1 + decode_ahead decoders at a time (the next songs' start early), so part 2's total is the
Python peak plus one decoder peak per decoder running at once. Page cache (the shards being written) is counted
by neither. MB = 10^6 bytes, GB = 10^9 bytes. The CPU column:
user + system seconds of the timed pass, of the child (all its threads) and of the decoders it
waited for; on a loaded machine it is steadier than the wall time.

What was tried for issue 4 ("faster than that baseline"), on a shared 2-core VM (another job
kept the load at 4 to 10, so wall times varied up to 3x between runs: compare CPU seconds, and
wall times only within one interleaved run). Per 50 s mp3 (44.1 kHz mono, 80 kbit/s), medians:
- ffmpeg alone: `ffmpeg -version` costs 9 ms of CPU (its dynamic loader applies 212,495
  relocations), a floor per file; decoding to /dev/null 36-57 ms; `soundfile.read` 14-15 ms.
  Over 600 s of mp3: old command 0.50 s of CPU, soundfile 0.21-0.24 s.
- the old command (`-i file`, one frame of 1,152 samples through ffmpeg's demux, decode,
  filter, encode and mux threads) made ~14,000 context switches per file: 52-57 ms of CPU
  and, under load, 2x that in wall time. Adding `-af asetnsamples`: 49-50 ms; `-threads 1`,
  `-thread_queue_size 1024`, `-probesize 32k -analyzeduration 0`, `-f f32le` instead of AU
  (the byte swap is fused into numpy's clip), the fixed-point mp3 decoder, a 1 MiB pipe
  (F_SETPIPE_SZ): no measurable change, or worse; not kept.
- kept: demux and decode inside a filter graph (`-f lavfi -i amovie=fd\\:,asetnsamples=...`,
  the file on ffmpeg's stdin): ~400 context switches, 36-40 ms of CPU (0.29 s for 600 s), the
  same samples bit for bit (tests). Frames of 8,192 / 16,384 / 24,576 / 65,536 samples: 286 /
  286 / 289 / 308 ms of CPU for 600 s; 16,384 kept. amovie stops at a damaged frame where the
  old command skips it, so any error makes the old command take over from that sample on.
- FFT of 50 blocks: `np.fft.fft` of all blocks at once (the old `to_fft_blocks`) 51-86 ms (its
  complex128 output is 36 MB: out of cache); the baseline's per-block `np.fft.fft` 32-49 ms;
  `np.fft.rfft` + Hermitian mirror, float64: 21-28 ms; `scipy.fft.rfft` float64 19-20 ms;
  float32 10-11 ms (kept; workers=-1 against 1: no difference under this load, kept for idle
  machines), 8 blocks per call (4 to 16: the same) written straight into the output. Float32
  differs from float64 by at most 1.2e-7 of the spectrum's peak; the round trip error is
  4.2e-7 (uniform noise of peak 1) and 1.4e-7 of the peak (music), against 6.7e-8 and 1.8e-8.
- build_dataset: 130 MB of shards for the 369 s of bundled songs; writing them cost 0.49 s of
  the wall time in a profile of the old code. Kept: a thread writes each group of 8 blocks while
  the next is transformed (15 interleaved builds: 0.65 s median with it, 0.96 s without); the
  next song's ffmpeg starts when the current song starts (7 builds: 1.47 s, 1.96 s without);
  statistics summed from the rfft half in the same pass (mirrored, exact); a reader thread
  that keeps two chunks ahead.
- end to end, the 9 bundled mp3s (369 s), 7-9 interleaved children per row, load 8 to 10:
  CPU seconds (Python + ffmpeg) went from 1.2-1.5 + 0.46 to 0.32-0.38 + 0.31 (on disk) and
  from 0.55-0.66 + 0.46 to 0.17-0.20 + 0.30 (in memory); the baseline used 0.44-0.48. Wall,
  against the baseline in the same runs (5 runs): on disk 0.17-0.33x before, 0.53-0.93x after;
  in memory 0.32-0.51x before, 0.66-1.13x after. On this loaded machine the wall time follows
  the CPU time (and a pipeline of processes and threads waits for the CPU at every hand-over), and
  ffmpeg's decoding (about twice libsndfile's CPU per second of mp3, plus 9 ms a file) keeps
  ours at best level with the baseline; on an idle machine ffmpeg, the reader, the FFT and the
  writer run side by side, which the baseline (one thread) cannot: run it there.
- on the idle machine (load 0 to 1.5, 2026-11-25, third session), the bundled songs, medians of
  5-9 interleaved children: the code above 0.95-0.99x. The CPU column said why: 0.34 s of
  Python and 0.34 s of ffmpeg in 0.46 s of wall, so one core was idle a quarter of the time;
  the current song's ffmpeg, then the next one's, ran one after the other. Kept: the decoders
  of the next `decode_ahead`=2 songs run beside the current one (in-process builds, medians of
  5: 0.50 s with none ahead, 0.39-0.42 s with one, 0.35-0.42 s with two or three; chunks of 16,
  32 or 64 blocks the same); the manifest is rewritten at most every 2 s instead of after each
  song (replacing it on ext4 waited 5-8 ms each time for the shards written before it).
  Tried, not kept: the FFT's workers=1 (the same), reusing the output and the mono buffers
  (the same CPU; 16-block chunks made the allocator fault in 47,000 fresh pages per build
  against 20 with 64-block ones, so 64 stays). Now 1.04-1.05x on the bundled 41-s songs and
  1.30x (on disk) / 1.26x (in memory) on 4-minute songs (`--song-minutes 4`): the 9 ms ffmpeg
  start per file weighs six times less there.
"""

import argparse
import contextlib
import datetime
import functools
import importlib
import importlib.util
import inspect
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from albumlib import audio, ffmpeg  # noqa: E402  (numpy only: no TensorFlow in children)
from albumlib.music import dataset as music_data, fft_blocks  # noqa: E402

SR = 44100
BLOCK = 44100
FEATURES_BYTES = 2 * BLOCK * 4          # one float32 block of the report's layout: 352,800 bytes
GOAL_BYTES = 2e9                       # "under 2 GB for 10 hours of input"
# decoders build_dataset runs beside the current song's (part 2 counts one ffmpeg peak for each)
DECODE_AHEAD = inspect.signature(music_data.build_dataset).parameters["decode_ahead"].default
RESULT_TAG = "BENCH_AUDIO_RESULT "
WARMUP_SECONDS = 2.0
MODES = {  # mode -> (table label, what is timed)
    "build": ("ours, on disk", "`music_data.build_dataset`: decode + blocks + FFT + stats + write"),
    "memory": ("ours, in memory", "`audio.load_audio` + `fft_blocks.to_fft_blocks`"),
    "librosa": ("baseline", "`librosa.load(sr=44100, mono=True)` + numpy FFT per block"),
}
LIBROSA_MISSING = ("librosa is not installed, and the baseline needs it: "
                   "`pip install -r benchmarks/requirements.txt` (or `pip install librosa`), "
                   "or run with --no-baseline for our side alone.")


# --------------------------------------------------------------------------- the baseline


def numpy_fft_blocks(signal, block_size=BLOCK):
    """Baseline FFT blocks in plain numpy: per block (last zero-padded), real then imag, float32.

    Each block is FFT'd in float64 (as `fft_blocks.to_fft_blocks` does, and as numpy before 2.0 did
    for every input), one `np.fft.fft` call per block.
    """
    x = np.asarray(signal)
    n_blocks = -(-x.size // block_size)
    out = np.empty((n_blocks, 2 * block_size), dtype=np.float32)
    for i in range(n_blocks):
        block = np.zeros(block_size, dtype=np.float64)
        piece = x[i * block_size:(i + 1) * block_size]
        block[:piece.size] = piece
        spectrum = np.fft.fft(block)
        out[i] = np.concatenate([spectrum.real, spectrum.imag])
    return out


def librosa_backend(caught):
    """Which decoder librosa.load used, from the warnings it raised ("soundfile" or "audioread")."""
    fell_back = any("PySoundFile failed" in str(w.message) for w in caught)
    return "audioread" if fell_back else "soundfile"


# --------------------------------------------------------------------------- child processes


def _proc_status(pid="self"):
    """The fields of /proc/<pid>/status as a dict of strings ({} without /proc or process)."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as f:
            return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
    except OSError:
        return {}


def _kb_field(status, field):
    """A `... kB` field of a status dict in bytes, or None."""
    try:
        return int(status[field].split()[0]) * 1024
    except (KeyError, ValueError, IndexError):
        return None


def _proc_status_bytes(field, pid="self"):
    """A `kB` field of /proc/<pid>/status in bytes, or None (no /proc, or the process is gone)."""
    return _kb_field(_proc_status(pid), field)


def _maxrss_bytes(who):
    """getrusage(who).ru_maxrss in bytes (kilobytes on Linux, bytes on macOS)."""
    import resource
    value = resource.getrusage(who).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024


def peak_rss_bytes():
    """This process's peak resident set: VmHWM, or ru_maxrss where there is no /proc."""
    import resource
    peak = _proc_status_bytes("VmHWM")
    return peak if peak is not None else _maxrss_bytes(resource.RUSAGE_SELF)


def current_rss_bytes():
    """This process's resident set now (VmRSS), or None where there is no /proc."""
    return _proc_status_bytes("VmRSS")


class ChildPeakSampler:
    """The largest peak RSS (VmHWM) among this process's child processes (the ffmpeg decoders).

    getrusage(RUSAGE_CHILDREN).ru_maxrss cannot be used: Linux counts in it the memory of the
    forked (or vforked) Python image before it runs exec, so it reports about the parent's own
    peak. Instead a thread reads /proc/<child>/status every `interval` seconds while the
    measurement runs: VmHWM only grows, so a child that lives more than one interval is caught
    near its peak. A child still named like this process has not run exec yet (it may share
    our memory through vfork) and is not counted. `peak` stays None where there is no /proc.
    """

    def __init__(self, interval=0.01):
        self.interval, self.latest = interval, {}
        self.own_name = _proc_status().get("Name")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _children(self):
        pids = set()
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{os.getpid()}/task").iterdir():
                with contextlib.suppress(OSError):
                    pids.update(map(int, (task / "children").read_text().split()))
        return pids

    def sample(self):
        """Read the children's VmHWM once."""
        for pid in self._children():
            status = _proc_status(pid)
            hwm = _kb_field(status, "VmHWM")  # None for a zombie: its memory is released
            if hwm and status.get("Name") != self.own_name:
                self.latest[pid] = hwm

    @property
    def peak(self):
        """The largest child peak seen (bytes), or None."""
        return max(self.latest.values()) if self.latest else None

    @property
    def seen(self):
        """The child process ids sampled after their exec."""
        return set(self.latest)

    def _run(self):
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def cpu_seconds():
    """(this process, its waited-for children): user + system CPU seconds so far."""
    import resource
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def folder_bytes(folder):
    """Total size of the files under `folder`."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def _run_build(folder, out_dir):
    from albumlib.music import dataset as music_data
    report = music_data.build_dataset(folder, out_dir, progress=False, verbose=False)
    if report.skipped:
        raise RuntimeError(f"build_dataset skipped {report.skipped}")
    return sum(e["n_samples"] for e in report.manifest["songs"].values())


def _run_memory(files):
    n = 0
    for path in files:
        signal = audio.load_audio(path, sr=SR)
        blocks = fft_blocks.to_fft_blocks(signal, BLOCK)
        n += signal.size
        del signal, blocks
    return n


def _run_librosa(files, backends):
    import librosa
    n = 0
    for path in files:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            signal, _ = librosa.load(path, sr=SR, mono=True)
        backends.add(librosa_backend(caught))
        blocks = numpy_fft_blocks(signal, BLOCK)
        n += signal.size
        del signal, blocks
    return n


def child_main(spec_json):
    """One measurement (see the module docstring); prints RESULT_TAG + JSON on its last line."""
    spec = json.loads(spec_json)
    mode, files = spec["mode"], [Path(p) for p in spec.get("files", [])]
    backends = set()
    # each branch imports its modules and warms up before the clock starts
    if mode == "build":
        importlib.import_module("albumlib.music.dataset")
        if spec.get("warmup_folder"):
            _run_build(spec["warmup_folder"], Path(spec["out_dir"]) / "warmup")
        run = functools.partial(_run_build, spec["folder"], Path(spec["out_dir"]) / "features")
    elif mode == "memory":
        if spec.get("warmup"):
            _run_memory([spec["warmup"]])
        run = functools.partial(_run_memory, files)
    elif mode == "librosa":
        importlib.import_module("librosa")
        if spec.get("warmup"):
            _run_librosa([spec["warmup"]], set())
        run = functools.partial(_run_librosa, files, backends)
    elif mode == "noop":  # the interpreter, numpy and albumlib.audio alone
        run = int
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    ready = current_rss_bytes()
    with ChildPeakSampler() as children:
        cpu_before = cpu_seconds()
        start = time.perf_counter()
        n_samples = run()
        seconds = time.perf_counter() - start
        cpu_after = cpu_seconds()
    result = {"mode": mode, "seconds": seconds, "n_samples": int(n_samples),
              "cpu_self": cpu_after[0] - cpu_before[0],
              "cpu_children": cpu_after[1] - cpu_before[1],
              "peak_rss": peak_rss_bytes(), "ready_rss": ready,
              "ffmpeg_peak_rss": children.peak, "ffmpeg_sampled": len(children.seen),
              "backends": sorted(backends), "tensorflow_loaded": "tensorflow" in sys.modules}
    if mode == "build":
        result["bytes_written"] = folder_bytes(Path(spec["out_dir"]) / "features")
    print(RESULT_TAG + json.dumps(result), flush=True)
    return 0


def run_child(spec, timeout=None):
    """Run one measurement in a fresh Python process; return its result dict.

    The spec travels as JSON on the child's standard input (a long file list could pass the
    length limit of one command-line argument).
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child"]
    done = subprocess.run(cmd, input=json.dumps(spec), capture_output=True, text=True,
                          timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_TAG)]
    if done.returncode != 0 or not lines:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise RuntimeError(f"measurement {spec.get('mode')!r} failed "
                           f"(exit status {done.returncode}):\n{tail}")
    return json.loads(lines[-1][len(RESULT_TAG):])


# --------------------------------------------------------------------------- inputs


def audio_seconds(path):
    """Decoded length of a file in seconds (ffmpeg, streamed)."""
    return sum(chunk.size for chunk in audio.iter_audio_chunks(path, SR)) / SR


def _concat_line(path):
    """One line of an ffmpeg concat list, the path quoted as the demuxer wants."""
    return "file '" + str(Path(path).resolve()).replace("'", "'\\''") + "'\n"


def make_long_mp3(sources, seconds, out_path, source_seconds=None):
    """Write `seconds` of the `sources` mp3s joined end to end (repeated as needed) to out_path.

    No re-encoding: ffmpeg's concat demuxer with `-c copy`, so every source must be an mp3 of
    the same sample rate and channel count (the bundled songs are). Cut at the mp3 frame after
    `seconds` (26 ms at 44.1 kHz). `source_seconds` (their lengths) saves decoding them.
    """
    sources = [Path(p) for p in sources]
    if seconds <= 0 or not sources:
        raise ValueError("need some sources and a positive duration")
    lengths = source_seconds or [audio_seconds(p) for p in sources]
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    rounds = int(seconds // sum(lengths)) + 2  # one round more than needed: -t cuts it
    list_file = out_path.with_name(out_path.name + ".concat.txt")
    list_file.write_text("".join(_concat_line(p) for _ in range(rounds) for p in sources),
                         encoding="utf-8")
    cmd = [ffmpeg.ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-f", "concat",
           "-safe", "0", "-i", str(list_file), "-map", "0:a:0", "-map_metadata", "-1",
           "-c:a", "copy", "-t", f"{seconds:.3f}", "-f", "mp3", "-y", str(out_path.resolve())]
    try:
        # stderr is kept for failures only: the concat joins log harmless "non monotonically
        # increasing dts" lines at every song boundary
        done = subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL)
    finally:
        list_file.unlink(missing_ok=True)
    if done.returncode != 0 or not out_path.is_file() or out_path.stat().st_size == 0:
        raise RuntimeError(f"ffmpeg could not write {out_path}: "
                           f"{done.stderr.decode('utf-8', 'replace')[-800:]}")
    return out_path


def make_long_input(sources, hours, shard_hours, folder, source_seconds=None, log=None):
    """`hours` of joined songs as mp3 files of `shard_hours` each in `folder`; returns paths."""
    total = hours * 3600.0
    paths, done, i = [], 0.0, 0
    while done < total - 1e-6:
        seconds = min(shard_hours * 3600.0, total - done)
        path = Path(folder) / f"long_{i:03d}.mp3"
        if log:
            log(f"writing {path.name} ({seconds / 3600:.3g} h)")
        paths.append(make_long_mp3(sources, seconds, path, source_seconds))
        done += seconds
        i += 1
    return paths


def songs_of_length(sources, minutes, folder, source_seconds=None, log=None):
    """As many mp3 songs of `minutes` each as there are `sources`, joined from them (each one
    starting at a different source), for part 1 at a typical song length; returns the paths."""
    sources = [Path(p) for p in sources]
    lengths = source_seconds or [audio_seconds(p) for p in sources]
    paths = []
    for i in range(len(sources)):
        path = Path(folder) / f"song_{i:02d}.mp3"
        if log:
            log(f"writing {path.name} ({minutes:g} min)")
        paths.append(make_long_mp3(sources[i:] + sources[:i], minutes * 60.0, path,
                                   lengths[i:] + lengths[:i]))
    return paths


def shard_bytes(hours, n_files=1):
    """Bytes of shards `build_dataset` writes for `hours` of audio in n_files songs (approx.)."""
    blocks = hours * 3600 * SR / BLOCK + n_files  # each song's last block is padded
    stats = n_files * 2 * 2 * BLOCK * 8            # a (2, features) float64 file per song
    return int(blocks * FEATURES_BYTES + stats)


def check_disk(folder, needed, free=None):
    """Raise OSError unless `folder`'s file system has `needed` bytes plus 1 GB to spare."""
    free = shutil.disk_usage(folder).free if free is None else free
    if free < needed + 1e9:
        raise OSError(f"{folder}: {free / 1e9:.1f} GB free, the benchmark needs about "
                      f"{needed / 1e9:.1f} GB plus 1 GB to spare; use --tmp-dir elsewhere or "
                      f"fewer --hours")
    return free


def _link_or_copy(src, dst):
    """A symbolic link to `src` at `dst`, or a copy where links are not allowed."""
    try:
        dst.symlink_to(Path(src).resolve())
    except OSError:
        shutil.copy2(src, dst)
    return dst


def folder_of(files, folder):
    """A new folder holding (links to) exactly `files`, for build_dataset."""
    folder = Path(folder)
    folder.mkdir(parents=True)
    for f in files:
        _link_or_copy(f, folder / Path(f).name)
    return folder


# --------------------------------------------------------------------------- report


def _mb(n):
    return f"{n / 1e6:.0f}" if n is not None else "?"


def versions():
    """Versions of what the benchmark exercises."""
    import imageio_ffmpeg
    import scipy
    parts = [f"Python {platform.python_version()}", f"numpy {np.__version__}",
             f"scipy {scipy.__version__}",
             f"ffmpeg {imageio_ffmpeg.get_ffmpeg_version()} (imageio-ffmpeg "
             f"{imageio_ffmpeg.__version__})"]
    if importlib.util.find_spec("librosa") is not None:
        import librosa
        import soundfile
        parts.append(f"librosa {librosa.__version__}, soundfile {soundfile.__version__} "
                     f"(libsndfile {soundfile.__libsndfile_version__})")
    return ", ".join(parts)


def machine_line():
    """The machine line of RESULTS.md: processor, cores, memory, versions, date."""
    from machine import cpu_name, memory_total
    return (f"machine: {cpu_name()}, {os.cpu_count()} cores, {memory_total()}; {versions()}; "
            f"{datetime.date.today()}")


def load_average():
    """The 1-minute load average as text (want about 0)."""
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?"


def librosa_mp3_support():
    """What librosa.load uses for mp3 here: soundfile if libsndfile reads mp3, else audioread."""
    import soundfile
    has_mp3 = "MP3" in soundfile.available_formats()
    return (f"libsndfile {soundfile.__libsndfile_version__} "
            f"{'reads' if has_mp3 else 'does not read'} mp3, so librosa.load decodes mp3 with "
            f"{'soundfile (libsndfile + mpg123, in process)' if has_mp3 else 'audioread'}")


def speed_cell(base_s, seconds, reference):
    """The speed-up column: "-" without a baseline, "1 (reference)" for it, else base / ours."""
    if base_s is None:
        return "-"
    return "1 (reference)" if reference else f"**{base_s / seconds:.2f}x**"


def throughput_table(results, repeats):
    """Markdown table of part 1 from {mode: [child results]}."""
    base = results.get("librosa")
    base_s = statistics.median(r["seconds"] for r in base) if base else None
    lines = [f"| method | what is timed | audio, s | s, median ({repeats} runs) | audio s / s "
             f"| speed-up vs baseline | CPU s, median: Python + decoders "
             f"| peak RSS, MB (after imports) | decoder subprocess peak RSS, MB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for mode, runs in results.items():
        label, what = MODES[mode]
        secs = [r["seconds"] for r in runs]
        med = statistics.median(secs)
        audio_s = runs[0]["n_samples"] / SR
        speed = speed_cell(base_s, med, reference=mode == "librosa")
        sampled = [r["ffmpeg_peak_rss"] for r in runs if r["ffmpeg_peak_rss"]]
        ffmpeg = _mb(max(sampled)) if sampled else "- (none)"
        times = ", ".join(f"{s:.3f}" for s in secs)
        own = statistics.median(r.get("cpu_self", 0.0) for r in runs)
        decoders = statistics.median(r.get("cpu_children", 0.0) for r in runs)
        lines.append(
            f"| {label} | {what} | {audio_s:.1f} | {med:.3f} ({times})"
            f" | {audio_s / med:.0f} | {speed} | {own:.2f} + {decoders:.2f} "
            f"| {_mb(max(r['peak_rss'] for r in runs))} "
            f"({_mb(max(r['ready_rss'] or 0 for r in runs))}) | {ffmpeg} |")
    return "\n".join(lines)


def scale_table(rows):
    """Markdown table of part 2 from [(files, child result)]."""
    lines = ["| input | audio, h | wall, s | audio s / s | shards written, GB "
             "| peak RSS Python, MB (after imports) | peak RSS ffmpeg, MB "
             "| Python + decoders at once, vs the 2 GB goal |",
             "|---|---|---|---|---|---|---|---|"]
    for n_files, r in rows:
        hours = r["n_samples"] / SR / 3600
        decoders = min(n_files, 1 + DECODE_AHEAD)  # build_dataset starts the next ones early
        total = r["peak_rss"] + decoders * (r["ffmpeg_peak_rss"] or 0)
        lines.append(
            f"| {n_files} mp3 file{'s' if n_files > 1 else ''} | {hours:.3g} | {r['seconds']:.1f} "
            f"| {r['n_samples'] / SR / r['seconds']:.0f} | {r['bytes_written'] / 1e9:.2f} "
            f"| {_mb(r['peak_rss'])} ({_mb(r['ready_rss'])}) | {_mb(r['ffmpeg_peak_rss'])} "
            f"| {_mb(total)} MB: **{'met' if total < GOAL_BYTES else 'NOT met'}** |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- parts


def log(message):
    """Progress on stderr (stdout is the Markdown)."""
    print(f"[bench_audio {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def throughput(files, args, tmp, warmup, warmup_folder):
    """Part 1: the three methods, interleaved, `args.repeats` fresh children each."""
    modes = ["build", "memory"] + ([] if args.no_baseline else ["librosa"])
    folder = folder_of(files, tmp / "music")
    for f in files:  # the page cache holds the inputs before any timing
        Path(f).read_bytes()
    results = {m: [] for m in modes}
    for r in range(args.repeats):
        for mode in modes:
            out_dir = tmp / f"features_{mode}_{r}"
            spec = {"mode": mode, "files": [str(f) for f in files], "folder": str(folder),
                    "out_dir": str(out_dir), "warmup": str(warmup),
                    "warmup_folder": str(warmup_folder)}
            log(f"throughput: {mode}, run {r + 1} of {args.repeats}")
            try:
                results[mode].append(run_child(spec))
            finally:
                shutil.rmtree(out_dir, ignore_errors=True)
    counts = {m: results[m][0]["n_samples"] for m in modes}
    print()
    source = (f"songs of {args.song_minutes:g} min joined from those in {args.music_dir}"
              if args.song_minutes > 0 else f"from {args.music_dir}")
    print(f"Throughput: {len(files)} files {source} "
          f"({sum(Path(f).stat().st_size for f in files) / 1e6:.1f} MB of "
          f"{', '.join(sorted({Path(f).suffix for f in files}))}), decoded samples per method: "
          + ", ".join(f"{m} {n}" for m, n in counts.items()))
    if not args.no_baseline:
        used = sorted({b for r in results["librosa"] for b in r["backends"]})
        print(f"librosa.load decoded these files with: {', '.join(used)} ({librosa_mp3_support()})")
    if any(r["tensorflow_loaded"] for runs in results.values() for r in runs):
        print("warning: TensorFlow was imported in a child (its memory is in the peak)")
    print()
    print(throughput_table(results, args.repeats))
    if not args.no_baseline:
        base = statistics.median(r["seconds"] for r in results["librosa"])
        for mode in ("build", "memory"):
            ours = statistics.median(r["seconds"] for r in results[mode])
            print(f"\nGoal (faster than the baseline), {MODES[mode][0]}: "
                  f"{'met' if ours < base else 'NOT met'} ({base / ours:.2f}x).", end="")
        print()
    return results


def scale(files, args, tmp, warmup_folder):
    """Part 2: build_dataset's peak memory on the first long file, then on all of them."""
    lengths = [audio_seconds(f) for f in files]
    rate = sum(Path(f).stat().st_size for f in files) / sum(lengths)  # mp3 bytes per second
    n_files = int(np.ceil(args.hours / args.shard_hours - 1e-9))
    needed = rate * args.hours * 3600 * 1.02 + shard_bytes(args.hours, n_files)
    if args.keep_temp:  # the first file's shards are kept beside the whole build's
        needed += shard_bytes(min(args.hours, args.shard_hours))
    free = check_disk(tmp, needed)
    log(f"scale: {args.hours:g} h of input needs about {needed / 1e9:.1f} GB on disk, "
        f"{free / 1e9:.1f} GB free in {tmp}")
    long_dir = tmp / "long"
    start = time.perf_counter()
    paths = make_long_input(files, args.hours, args.shard_hours, long_dir, lengths, log)
    log(f"scale: input written in {time.perf_counter() - start:.0f} s "
        f"({folder_bytes(long_dir) / 1e6:.0f} MB of mp3)")
    cases = [paths[:1]] + ([paths] if len(paths) > 1 else [])
    rows = []
    for i, case in enumerate(cases):
        folder = long_dir if len(case) == len(paths) else folder_of(case, tmp / f"long_{i}")
        out_dir = tmp / f"features_scale_{i}"
        log(f"scale: build_dataset on {len(case)} file(s) ...")
        try:
            rows.append((len(case), run_child({"mode": "build", "folder": str(folder),
                                               "out_dir": str(out_dir),
                                               "warmup_folder": str(warmup_folder)})))
        finally:
            if not args.keep_temp:
                shutil.rmtree(out_dir, ignore_errors=True)
        log(f"scale: done in {rows[-1][1]['seconds']:.0f} s")
    print()
    print(f"Peak memory at scale: the {len(files)} songs joined without re-encoding into "
          f"{len(paths)} mp3 file(s) of up to {args.shard_hours:g} h "
          f"({rate * 8 / 1000:.0f} kbit/s), `build_dataset` with its defaults "
          f"(chunk_blocks=64), one child process per row.")
    print()
    print(scale_table(rows))
    return rows


# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--music-dir", type=Path, default=ROOT / "data" / "music",
                        help="folder of songs (default: the bundled mp3s)")
    parser.add_argument("--files", type=int, default=0,
                        help="use only the first N songs of the folder (0: all)")
    parser.add_argument("--song-minutes", type=float, default=0.0,
                        help="part 1 on songs of this length, as many as the folder has, joined "
                             "from its songs without re-encoding (0: the songs as they are)")
    parser.add_argument("--repeats", type=int, default=3, help="children per method (median)")
    parser.add_argument("--hours", type=float, default=10.0,
                        help="hours of input for the peak-memory part (0 skips it)")
    parser.add_argument("--shard-hours", type=float, default=1.0,
                        help="length of each generated mp3 file (the first one alone is also "
                             "measured)")
    parser.add_argument("--tmp-dir", type=Path, default=None,
                        help="where temporary files go (default: the system's temp folder)")
    parser.add_argument("--no-baseline", action="store_true", help="ours only (no librosa)")
    parser.add_argument("--no-throughput", action="store_true", help="skip part 1")
    parser.add_argument("--keep-temp", action="store_true",
                        help="leave the temporary folder (inputs and shards) for inspection")
    args = parser.parse_args(argv)
    if (args.repeats < 1 or args.files < 0 or args.hours < 0 or args.shard_hours <= 0
            or args.song_minutes < 0):
        parser.error("repeats must be at least 1, files, hours and song minutes at least 0, "
                     "shard hours > 0")
    return args


def main(argv=None):
    """Run the benchmark and print Markdown tables; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--child"]:  # a measurement, started by run_child
        return child_main(sys.stdin.read())
    args = parse_args(argv)
    if not args.no_baseline and importlib.util.find_spec("librosa") is None:
        print(LIBROSA_MISSING, file=sys.stderr)
        return 2
    files = audio.list_audio(args.music_dir)
    files = files[:args.files] if args.files else files
    if not files:
        print(f"{args.music_dir}: no audio files", file=sys.stderr)
        return 2
    print(machine_line())
    print(f"load average at the start (want about 0): {load_average()}")
    tmp_parent = args.tmp_dir or Path(tempfile.gettempdir())
    tmp_parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench_audio_", dir=tmp_parent))
    try:
        if not args.no_throughput or args.hours > 0:
            warmup = make_long_mp3(files, WARMUP_SECONDS, tmp / "warmup" / "clip.mp3")
        if not args.no_throughput:
            songs = files
            if args.song_minutes > 0:
                songs = songs_of_length(files, args.song_minutes, tmp / "songs", log=log)
            # one build's shards exist at a time; at >= 32 kbit/s a byte of input is <= 1/4000 s
            rough_hours = sum(f.stat().st_size for f in songs) / 4000 / 3600
            check_disk(tmp, shard_bytes(rough_hours, len(songs)))
            throughput(songs, args, tmp, warmup, warmup.parent)
        if args.hours > 0:
            scale(files, args, tmp, warmup.parent)
    finally:
        if args.keep_temp:
            log(f"temporary files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nload average at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
