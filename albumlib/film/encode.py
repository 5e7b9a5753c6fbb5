"""Encoding the film: codecs, fallbacks, timestamps, the ffmpeg encode and its check (notebook 06).

Codecs and containers: section 2 of the notebook; the encode and its check: section 8. MP4 with
H.264 (yuv420p, BT.709 tags, +faststart) and AAC 192k at 44.1 kHz, encoded by the ffmpeg binary of
the imageio-ffmpeg wheel (`albumlib.ffmpeg`); where that build lacks libx264 it falls back to
libopenh264, then to WebM (VP9 + Opus, 48 kHz: Opus has no 44.1 kHz mode) under a `.webm` name.

* Frames are piped to ffmpeg's stdin as raw RGB, so no filter graph grows with the album (one
  xfade graph of 48 photos took 2.4 GB).
* A still photo is sent once, not once per frame: the plan knows which frames repeat the one
  before (a photo alone on screen, without Ken Burns), so only the others are rendered, piped and
  encoded, each with its timestamp from the plan (`setpts`), and the player shows every frame
  until the next one (a variable-frame-rate MP4, as phones record). With 1 s a photo and 0.3 s
  crossfades that is a third of the frames: the encoder's work, the largest cost, shrinks 3x.
* The file is encoded under a temporary name beside the target, read again to check that its
  video and audio lengths are as planned (within one frame), and only then renamed into
  place: the film appears whole or not at all, and an existing file is kept unless
  `overwrite=True`.
"""

import dataclasses
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np

from albumlib import ffmpeg, fileio

AUDIO_SR = 44100           # the soundtrack's rate (AAC; Opus resamples it to 48 kHz)
MP4_SUFFIXES = (".mp4", ".m4v")
WEBM_SUFFIXES = (".webm",)
# rgb24 from Python -> BT.709 limited-range yuv420p, tagged so that players decode the colours as
# they were encoded (an untagged HD stream is usually, but not always, taken as BT.709).
VIDEO_FILTER = ("scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
                "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv")


class VideoError(RuntimeError):
    """ffmpeg failed, or wrote a file that is not what was planned; nothing was saved."""


class CodecFallbackWarning(UserWarning):
    """The preferred encoder is missing from this ffmpeg build and another one was used."""


@dataclasses.dataclass(frozen=True)
class Codec:
    """An output flavour: video and audio encoders, container and their ffmpeg options."""

    name: str
    encoder: str
    audio_encoder: str
    container: str          # ffmpeg muxer: "mp4" or "webm"
    suffix: str
    video_codec: str        # the codec name `ffmpeg -i` reports
    audio_codec: str
    audio_sr: int

    def video_args(self, crf, preset, size, fps):
        if self.encoder == "libvpx-vp9":
            return ["-c:v", self.encoder, "-crf", str(min(63, int(crf) + 12)), "-b:v", "0",
                    "-deadline", "good", "-cpu-used", "4", "-row-mt", "1"]
        if self.encoder == "libopenh264":  # no CRF: a bitrate that matches CRF 20 at 720p
            bits_per_pixel = 0.1 * 2 ** ((20 - int(crf)) / 6)
            rate = max(100_000, int(size[0] * size[1] * fps * bits_per_pixel))
            return ["-c:v", self.encoder, "-b:v", str(rate), "-maxrate", str(2 * rate)]
        if self.encoder == "libx264":
            return ["-c:v", self.encoder, "-preset", preset, "-crf", str(int(crf)),
                    "-profile:v", "high"]
        return ["-c:v", self.encoder]

    def audio_args(self):
        if self.audio_encoder == "libopus":
            return ["-c:a", self.audio_encoder, "-b:a", "160k", "-ar", str(self.audio_sr)]
        return ["-c:a", self.audio_encoder, "-b:a", "192k", "-ar", str(self.audio_sr)]

    def container_args(self):
        if self.container == "mp4":
            return ["-movflags", "+faststart", "-f", "mp4"]
        return ["-f", self.container]


CODECS = {
    "libx264": Codec("libx264", "libx264", "aac", "mp4", ".mp4", "h264", "aac", AUDIO_SR),
    "libopenh264": Codec("libopenh264", "libopenh264", "aac", "mp4", ".mp4", "h264", "aac",
                         AUDIO_SR),
    "libvpx-vp9": Codec("libvpx-vp9", "libvpx-vp9", "libopus", "webm", ".webm", "vp9", "opus",
                        48000),
}
FALLBACK_ORDER = ("libx264", "libopenh264", "libvpx-vp9")


def choose_codec(codec="auto", suffix=".mp4"):
    """The Codec to use: `codec` if given, else the first of FALLBACK_ORDER this ffmpeg has.

    A `.webm` suffix asks for VP9/Opus. Raises VideoError when no suitable encoder exists.
    """
    have = ffmpeg.available_encoders()
    usable = [c for c in FALLBACK_ORDER
              if CODECS[c].encoder in have and CODECS[c].audio_encoder in have]
    if codec != "auto":
        if codec not in CODECS:
            raise ValueError(f"codec must be 'auto' or one of {', '.join(CODECS)}, got {codec!r}")
        if codec not in usable:
            raise VideoError(f"this ffmpeg ({ffmpeg.ffmpeg_exe()}) lacks the "
                             f"{CODECS[codec].encoder} or {CODECS[codec].audio_encoder} "
                             f"encoder; it can use: "
                             f"{', '.join(usable) or 'none of ' + ', '.join(CODECS)}")
        return CODECS[codec]
    if suffix in WEBM_SUFFIXES:
        usable = [c for c in usable if CODECS[c].container == "webm"]
    if not usable:
        raise VideoError(f"this ffmpeg ({ffmpeg.ffmpeg_exe()}) has none of the encoders "
                         f"{', '.join(FALLBACK_ORDER)} (with aac / libopus): install the "
                         f"imageio-ffmpeg wheel (`pip install -U imageio-ffmpeg`) or point "
                         f"IMAGEIO_FFMPEG_EXE at a full ffmpeg build")
    return CODECS[usable[0]]


def film_path(out_path, codec, overwrite):
    """(final path with the codec's suffix, the Codec, notes); refuses existing files."""
    path = Path(out_path)
    suffix = path.suffix.lower()
    if suffix and suffix not in MP4_SUFFIXES + WEBM_SUFFIXES:
        raise ValueError(f"{path}: the film must be named .mp4, .m4v or .webm")
    chosen = choose_codec(codec, suffix or ".mp4")
    notes = []
    if not suffix:
        path = path.with_name(path.name + chosen.suffix)
    elif chosen.container == "webm" and suffix not in WEBM_SUFFIXES:
        path = path.with_suffix(chosen.suffix)
        why = ("this ffmpeg has neither libx264 nor libopenh264" if codec == "auto"
               else f"codec {chosen.name} needs a WebM file")
        note = f"{why}: writing VP9/Opus WebM to {path} instead of an MP4"
        warnings.warn(note, CodecFallbackWarning, stacklevel=3)
        notes.append(note)
    elif chosen.container == "mp4" and suffix in WEBM_SUFFIXES:
        raise ValueError(f"{path}: codec {chosen.name} writes MP4; name the file .mp4")
    elif chosen.name != FALLBACK_ORDER[0] and codec == "auto":
        note = f"this ffmpeg has no libx264: encoding H.264 with {chosen.encoder}"
        warnings.warn(note, CodecFallbackWarning, stacklevel=3)
        notes.append(note)
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists; pass overwrite=True to replace it, or "
                              f"write to albumlib.fileio.unique_path(path) instead")
    return path, chosen, notes


def _balanced_sum(terms):
    """"a+b+c+d" as "((a+b)+(c+d))": ffmpeg's expression parser refuses sums nested deeper
    than about a hundred, which a plain chain of terms is."""
    if len(terms) == 1:
        return terms[0]
    half = len(terms) // 2
    return f"({_balanced_sum(terms[:half])}+{_balanced_sum(terms[half:])})"


def pts_expression(kept):
    """A `setpts` expression mapping the n-th frame sent to its frame index in the plan.

    kept: the increasing frame indices sent (`Timeline.kept_frames`). N + the frames skipped
    before it: one term per run of repeated frames, summed as a balanced tree, e.g.
    [0, 21, 22, 29] -> ((N+20*gte(N,1))+6*gte(N,3)).
    """
    terms, previous = ["N"], None
    for j, i in enumerate(kept):
        if previous is not None and i - previous > 1:
            terms.append(f"{i - previous - 1}*gte(N,{j})")
        previous = i
    return _balanced_sum(terms)


def _filter_args(kept, folder):
    """ffmpeg arguments of the video filter: timestamps from the plan, then the colour conversion.

    The expression grows with the album (one term a photo), so it is read from a file in
    `folder` (a command line holds at most 128 kB per argument).
    """
    script = Path(folder) / "video_filter.txt"
    script.write_text(f"setpts='{pts_expression(kept)}',{VIDEO_FILTER}", encoding="utf-8")
    option = "-/filter:v" if ffmpeg.ffmpeg_major() >= 7 else "-filter_script:v"
    return [option, str(script.absolute())]


def rawvideo_input(size, fps):
    """ffmpeg's input options for raw RGB frames of `size` at `fps` on its stdin; notebook 06."""
    width, height = size
    rate = repr(float(fps)) if fps != int(fps) else str(int(fps))
    return ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", rate,
            "-i", "pipe:0"]


def pipe_frames(proc, frames, on_frame=None):
    """Write each frame's bytes (uint8 RGB) into ffmpeg's stdin, then close it; False if ffmpeg
    quit early (its stderr says why); notebook 06."""
    ok = True
    for n, frame in enumerate(frames):
        try:
            proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).data)
        except (BrokenPipeError, OSError):
            ok = False
            break
        if on_frame is not None:
            on_frame(n)
    try:
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        ok = False
    return ok


def encode_film(frames, timeline, size, wav, tmp, codec, crf, preset, progress, kept=None):
    """Pipe frames to ffmpeg and encode them (with the WAV, if any) into `tmp`; notebook 06.

    `frames` yields the frames of `kept` (default: every frame), each shown until the next.
    """
    from tqdm.auto import tqdm

    kept = list(range(timeline.n_frames)) if kept is None else list(kept)
    with fileio.temp_dir("video") as folder, \
            tempfile.TemporaryFile() as err:
        cmd = [ffmpeg.ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
               *rawvideo_input(size, timeline.fps)]
        if wav is not None:
            cmd += ["-i", str(Path(wav).absolute()), "-map", "0:v:0", "-map", "1:a:0"]
        cmd += [*_filter_args(kept, folder), *codec.video_args(crf, preset, size, timeline.fps),
                "-pix_fmt", "yuv420p", "-fps_mode", "passthrough", "-frames:v", str(len(kept))]
        if timeline.n_frames > 1:
            # the last frame a keyframe: no B-frame reordering at the end, so that it is also the
            # last in decoding order and lasts one frame for decoders that go by frame durations
            last_keyframe = (timeline.n_frames - 1.5) / timeline.fps
            cmd += ["-force_key_frames", f"{max(0.0, last_keyframe):.6f}"]
        if wav is not None:
            cmd += codec.audio_args()
        cmd += ["-t", f"{timeline.duration:.6f}", "-map_metadata", "-1",
                *codec.container_args(), str(Path(tmp).absolute())]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        try:
            with tqdm(total=timeline.n_frames, unit="frame", desc="rendering film",
                      disable=not progress) as bar:
                # each frame sent stands for the frames to the next one sent (or to the end)
                ok = pipe_frames(proc, frames, lambda n: bar.update(
                    (kept[n + 1] if n + 1 < len(kept) else timeline.n_frames) - kept[n]))
            proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.returncode != 0 or not ok:
            err.seek(0)
            raise VideoError(f"ffmpeg failed (exit code {proc.returncode}) encoding with "
                             f"{codec.encoder}:\n{ffmpeg.stderr_tail(err.read())}")


def verify(info, timeline, codec, has_audio, size):
    """Problems of an encoded film compared with the plan (empty list: all good); notebook 06."""
    problems = []
    one = 1.0 / timeline.fps
    if info.video_codec != codec.video_codec:
        problems.append(f"video codec {info.video_codec} instead of {codec.video_codec}")
    if info.pix_fmt != "yuv420p":
        problems.append(f"pixel format {info.pix_fmt} instead of yuv420p")
    if (info.width, info.height) != tuple(size):
        problems.append(f"size {info.width}x{info.height} instead of {size[0]}x{size[1]}")
    if info.n_frames != timeline.n_frames or info.video_seconds is None or abs(
            info.video_seconds - timeline.duration) > one / 2:
        frames = "an unknown number of" if info.n_frames is None else info.n_frames
        seconds = "" if info.video_seconds is None else f", {info.video_seconds:.3f} s"
        problems.append(f"{frames} video frames{seconds} instead of {timeline.n_frames} "
                        f"({timeline.duration:.3f} s)")
    if has_audio:
        if info.audio_codec != codec.audio_codec:
            problems.append(f"audio codec {info.audio_codec} instead of {codec.audio_codec}")
        elif info.sample_rate != codec.audio_sr:
            problems.append(f"audio at {info.sample_rate} Hz instead of {codec.audio_sr} Hz")
        if info.audio_seconds is None or abs(info.audio_seconds - timeline.duration) > one:
            got = "unreadable" if info.audio_seconds is None else f"{info.audio_seconds:.3f} s"
            problems.append(f"audio lasts {got} instead of {timeline.duration:.3f} s")
    elif info.audio_codec:
        problems.append(f"an unexpected audio stream ({info.audio_codec})")
    return problems


def encode_and_check(frames, timeline, size, wav, path, codec, crf, preset, progress, kept):
    """Encode the film under a temporary name, check it against the plan (`verify`), then move
    it into place (a VideoError leaves nothing); its `ffmpeg.MediaInfo`; notebook 06."""
    with fileio.atomic_path(path) as tmp:
        encode_film(frames, timeline, size, wav, tmp, codec, crf, preset, progress, kept)
        info = ffmpeg.probe(tmp)
        problems = verify(info, timeline, codec, wav is not None, size)
        if problems:
            raise VideoError(f"{path}: the encoded film is not as planned - "
                             f"{'; '.join(problems)}; nothing was saved.\n"
                             f"ffmpeg says:\n{ffmpeg.stderr_tail(info.text)}")
    return info
