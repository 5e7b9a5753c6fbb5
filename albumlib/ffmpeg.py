"""The ffmpeg binary: found, its encoders, run, media files probed (notebooks 03 and 06).

One module for the plumbing that decoding music (`albumlib.audio`, notebook 03) and making the
film (`albumlib.film`, notebook 06) share: the binary of the imageio-ffmpeg wheel (or the one
$IMAGEIO_FFMPEG_EXE names), its major version and its encoders, the command that decodes a
file's audio, a run that never uses a shell and keeps stderr in a file, short texts made of
ffmpeg's stderr, and `probe`, which describes a media file with ffmpeg itself (the wheel has no
ffprobe). What the film asks of the encoder (codecs, filters, timestamps) stays with the film
phase, in `albumlib.film.encode`.
"""

import dataclasses
import functools
import math
import re
import subprocess
import tempfile
from pathlib import Path

from albumlib import dsp

_MAX_FPS = 480  # a common frame period shorter than this is irregular timestamps, not a rate
_ADDRESS_PREFIX = r"\[[^\]@]* @ 0x[0-9a-fA-F]+\] *"   # "[in#0 @ 0x55...]" before a message


# ---------------------------------------------------------------------------------------------
# The binary
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def ffmpeg_exe():
    """Return the path of the ffmpeg binary shipped by the imageio-ffmpeg wheel; notebooks 03, 06.

    $IMAGEIO_FFMPEG_EXE, when set, names another binary (imageio-ffmpeg reads it).
    """
    try:
        import imageio_ffmpeg
    except ImportError as e:
        raise RuntimeError("decoding music and making films need the imageio-ffmpeg package: "
                           "`pip install imageio-ffmpeg`") from e
    return imageio_ffmpeg.get_ffmpeg_exe()


@functools.lru_cache(maxsize=1)
def ffmpeg_major():
    """The major version of `ffmpeg_exe()` (e.g. 7 for "7.0.2" or "n7.1-..."), 0 if unknown."""
    import imageio_ffmpeg

    try:
        version = imageio_ffmpeg.get_ffmpeg_version()
    except (OSError, subprocess.SubprocessError):
        return 0
    match = re.match(r"n?(\d+)\.", version)
    return int(match.group(1)) if match else 0


FRAME_SAMPLES = 16384    # samples per frame that the filter-graph input hands on (see below)


def decode_command(path, sr, fast=True):
    """ffmpeg arguments that decode the first audio stream of `path` to Sun AU float32 on stdout.

    The file itself is ffmpeg's standard input. `fast` (ffmpeg 7 or later): read from there
    (the `fd:` protocol, seekable: no file name to escape), demuxed and decoded inside a filter
    graph (`amovie`) that hands on frames of 16,384 samples, so that ffmpeg's threads pass a
    few large frames instead of one per mp3 frame (1,152 samples): a third less CPU time, the
    same samples bit for bit. But it stops at the first damaged frame, where the plain command
    (`fast=False`) skips it and goes on: audio's reader then continues with the plain one.
    """
    if fast and ffmpeg_major() >= 7:
        source = ["-f", "lavfi", "-i",
                  rf"amovie=fd\\::s=a\\:0,asetnsamples=n={FRAME_SAMPLES}:p=0"]
    else:
        source = ["-i", str(path), "-map", "0:a:0", "-vn", "-sn", "-dn"]
    return [ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", *source,
            "-map_metadata", "-1", "-fflags", "+bitexact", "-c:a", "pcm_f32be", "-ar", str(int(sr)),
            "-f", "au", "-"]


@functools.lru_cache(maxsize=4)
def _encoders_of(exe):
    done = subprocess.run([exe, "-nostdin", "-hide_banner", "-encoders"], capture_output=True,
                          stdin=subprocess.DEVNULL)
    text = done.stdout.decode("utf-8", "replace")
    return frozenset(m.group(1) for m in re.finditer(r"^ ?[VAS][.A-Z]{5} +(\S+)", text, re.M))


def available_encoders():
    """Names of the encoders of the ffmpeg binary (`ffmpeg -encoders`, cached per binary)."""
    return _encoders_of(ffmpeg_exe())


# ---------------------------------------------------------------------------------------------
# Running it, and what it says
# ---------------------------------------------------------------------------------------------

def run_to_file(cmd):
    """Run `cmd` with stderr to a temp file (never a pipe); return (returncode, stderr text)."""
    with tempfile.TemporaryFile() as err:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=err)
        err.seek(0)
        return done.returncode, err.read().decode("utf-8", "replace")


def stderr_tail(raw, keep=12):
    """The last lines of ffmpeg's stderr, without '[x @ 0x..]' prefixes and repeats; notebook 06."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = re.sub(_ADDRESS_PREFIX, "", text)
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", text) if ln.strip()]
    lines = [ln for ln in dict.fromkeys(lines) if not ln.startswith("frame=")]
    return "\n".join(lines[-keep:]) or "(ffmpeg printed nothing)"


def stderr_problem(stderr, default="ffmpeg could not decode it"):
    """Turn ffmpeg's stderr into a short problem description (an AudioError's; notebook 03)."""
    text = stderr.decode("utf-8", "replace").strip() if isinstance(stderr, bytes) else stderr
    if "matches no streams" in text:
        return "no audio stream (not an audio file?)"
    text = re.sub(_ADDRESS_PREFIX, "", text)
    lines = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
    return f"{default}: {' | '.join(lines[:2])}" if lines else default


# ---------------------------------------------------------------------------------------------
# Probing a media file
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class MediaInfo:
    """What `probe` found in a film: streams, frame count, durations (seconds)."""

    duration: float = None            # container
    video_codec: str = None
    pix_fmt: str = None
    color: str = None                 # e.g. "tv, bt709, progressive"
    width: int = None
    height: int = None
    fps: float = None                 # nominal (a held photo is one frame shown longer)
    n_frames: int = None              # frames at the nominal rate: video_seconds * fps
    n_coded: int = None               # frames stored (fewer where photos are held)
    video_seconds: float = None       # from the first frame's start to the last one's end
    audio_codec: str = None
    sample_rate: int = None
    channels: str = None
    audio_seconds: float = None       # decoded samples / sample_rate
    text: str = ""                    # ffmpeg's description of the input


def probe(path):
    """Describe a media file with the bundled ffmpeg (no ffprobe): a `MediaInfo`; notebook 06.

    Parses `ffmpeg -i` for the streams, reads the video packets' timestamps by remuxing them
    (no decode) and counts audio samples by decoding the first audio stream.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    src = str(path.absolute())
    exe = ffmpeg_exe()
    _, text = run_to_file([exe, "-nostdin", "-hide_banner", "-i", src])
    info = MediaInfo(text=text)
    m = re.search(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)", text)
    if m:
        info.duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    v = re.search(r"Stream #\S+.*?: Video: (\w+)[^,]*, (\w+)(?:\(([^)]*)\))?.*?, (\d+)x(\d+)"
                  r"(?:.*?, ([\d.]+) fps)?", text)
    if v:
        info.video_codec, info.pix_fmt, info.color = v.group(1), v.group(2), v.group(3)
        info.width, info.height = int(v.group(4)), int(v.group(5))
        info.fps = float(v.group(6)) if v.group(6) else None
        info.n_coded, info.video_seconds, rate = _video_packets(exe, src)
        if rate and rate <= _MAX_FPS:  # the nominal rate (ffmpeg's fps is the average, lower
            info.fps = rate            # where photos are held); irregular: ffmpeg's figure
        if info.video_seconds is not None and info.fps:
            info.n_frames = dsp.round_half_up(info.video_seconds * info.fps)
    a = re.search(r"Stream #\S+.*?: Audio: (\w+)[^,]*, (\d+) Hz, ([^,]+)", text)
    if a:
        info.audio_codec, info.sample_rate, info.channels = a.group(1), int(a.group(2)), a.group(3)
        info.audio_seconds = _decoded_seconds(exe, src, info.sample_rate)
    return info


def _video_packets(exe, src):
    """(coded frames, seconds from the first frame's start to the last one's end, frame rate)
    of the first video stream, from its packet timestamps (remuxed to framecrc, not decoded).

    The frame period is the greatest common divisor of the gaps between frames and of their
    durations, so held photos do not hide it; the last frame lasts one period (for irregular
    timestamps: its packet's duration, which B-frames can stretch).
    """
    cmd = [exe, "-nostdin", "-hide_banner", "-v", "error", "-i", src, "-map", "0:v:0",
           "-c", "copy", "-f", "framecrc", "-"]
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True)
    text = done.stdout.decode("ascii", "replace")
    tb = re.search(r"^#tb 0: (\d+)/(\d+)", text, flags=re.M)
    packets = [line.split(",") for line in text.splitlines() if line[:1].isdigit()]
    if done.returncode != 0 or not tb or not packets:
        return (len(packets) or None), None, None
    starts = sorted(int(p[2]) for p in packets)
    durations = [int(p[3]) for p in packets]
    last = max(packets, key=lambda p: int(p[2]))
    num, den = int(tb.group(1)), int(tb.group(2))
    period = math.gcd(*(b - a for a, b in zip(starts, starts[1:])), *durations)
    rate = den / (num * period) if period else None
    tail = period if rate and rate <= _MAX_FPS else int(last[3])
    return len(packets), (starts[-1] + tail - starts[0]) * num / den, rate


def _decoded_seconds(exe, src, sr):
    """Length of the first audio stream, by decoding it to mono 16-bit PCM and counting bytes."""
    cmd = [exe, "-nostdin", "-hide_banner", "-v", "error", "-i", src, "-map", "0:a:0",
           "-ac", "1", "-ar", str(sr), "-f", "s16le", "-"]
    count = 0
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
        try:
            while chunk := proc.stdout.read(1 << 20):
                count += len(chunk)
        finally:
            proc.stdout.close()
            proc.wait()
    return count / 2 / sr if proc.returncode == 0 else None


def probe_duration(path):
    """(video seconds, audio seconds) of a film; None for a missing stream; notebook 06."""
    info = probe(path)
    return info.video_seconds, info.audio_seconds
