"""Photos + a soundtrack -> a film that plays in browsers and phones (notebook 06).

MP4 with H.264 (yuv420p, BT.709 tags, +faststart) and AAC 192k at 44.1 kHz, encoded by the ffmpeg
binary of the imageio-ffmpeg wheel; where that build lacks libx264 it falls back to libopenh264,
then to WebM (VP9 + Opus, 48 kHz: Opus has no 44.1 kHz mode) under a `.webm` name.

How it works, and why:

* Frames are rendered one at a time in Python and piped to ffmpeg's stdin as raw RGB, so memory
  stays bounded whatever the album size: at most two photos (the current and the next) are held,
  each as one canvas. No filter graph grows with the album (one xfade graph of 48 photos took
  2.4 GB).
* Timeline (`plan_timeline`): photo k owns the frames [b_k, b_{k+1}) with b_k = round(k * d * fps),
  so the film lasts n * d ("about one second a photo" holds exactly, and fitting to the music is
  d = music length / n). A crossfade of T seconds is centred on each inner boundary, inside the
  two slots it joins (it does not shorten the film); it is clipped so that every photo still has
  at least one frame alone on screen. With beat sync the inner boundaries move to the nearest
  onset of the music, keeping every slot within [0.5 d, 2 d].
* A still photo is sent once, not once per frame: the plan knows which frames repeat the one
  before (a photo alone on screen, without Ken Burns), so only the others are rendered, piped and
  encoded, each with its timestamp from the plan (`setpts`), and the player shows every frame
  until the next one (a variable-frame-rate MP4, as phones record). With 1 s a photo and 0.3 s
  crossfades that is a third of the frames: the encoder's work, the largest cost, shrinks 3x.
* Ken Burns: the crop window moves linearly in frame time (corners, size, centre), and each frame
  is resampled bilinearly with subpixel accuracy from a supersampled canvas - no whole-pixel
  rounding, so no shake (ffmpeg's zoompan rounds to pixels).
* Audio: decoded to mono float32 at 44.1 kHz, loudness-normalised (gated RMS to -16 dBFS with a
  -1 dBFS peak ceiling in numpy, or ffmpeg `loudnorm` followed by `aresample=44100`), then trimmed
  or padded with silence to exactly the film's length, faded in at the start and out where the
  music (or the film) ends, and encoded with an explicit `-t` (never `-shortest`).
* The file is encoded under a temporary name beside the target, read again to check that its
  video and audio lengths are as planned (within one frame), and only then renamed into
  place: the film appears whole or not at all, and an existing file is kept unless
  `overwrite=True`.
"""

import bisect
import dataclasses
import functools
import math
import re
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np

from . import dsp, fileio, images
from .images import (ImageError, SkippedImageWarning, as_image_array, open_checked,
                     as_rgb, fit_to_frame, list_album, load_image, resize_to, to_float32)

PRESETS = {
    "480p": (854, 480),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "portrait": (720, 1280),
    "square": (1080, 1080),
}
FITS = ("letterbox", "blur")
TRANSITIONS = ("crossfade", "none", "morph")    # morph: crossfade while the style morphs
MORPH_LEVELS = 4            # style mixes a morph passes through (each repaints both photos)
LOUDNESS = ("rms", "loudnorm")
AUDIO_SR = 44100
RMS_TARGET_DBFS = -16.0     # gated RMS target of the "rms" normalisation
PEAK_CEILING_DBFS = -1.0    # the "rms" normalisation never raises a peak above this
LOUDNORM = "loudnorm=I=-16:TP=-1.5:LRA=11"
KEN_BURNS_ZOOM = 1.15       # zoom at the close end of a Ken Burns move
# The longest film made: its soundtrack is held in memory as float32 (about 0.64 GB an hour at
# 44.1 kHz stereo, more while it is composed and normalised), and x264's timestamps, in 1/90,000 s
# for setpts, overflow 32 bits past 6.6 hours. Two hours is far beyond an album's film.
MAX_FILM_SECONDS = 2 * 3600
MP4_SUFFIXES = (".mp4", ".m4v")
WEBM_SUFFIXES = (".webm",)

_MAX_FPS = 480  # a common frame period shorter than this is irregular timestamps, not a rate
# rgb24 from Python -> BT.709 limited-range yuv420p, tagged so that players decode the colours as
# they were encoded (an untagged HD stream is usually, but not always, taken as BT.709).
_VIDEO_FILTER = ("scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
                 "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv")


class VideoError(RuntimeError):
    """ffmpeg failed, or wrote a file that is not what was planned; nothing was saved."""


def check_film_length(seconds, what="the film"):
    """Refuse, up front, a film longer than MAX_FILM_SECONDS (memory and timestamps; notebook 06)."""
    if not (math.isfinite(seconds) and seconds <= MAX_FILM_SECONDS):
        raise ValueError(f"{what} would last {seconds:.6g} s, longer than the limit of "
                         f"{MAX_FILM_SECONDS} s ({MAX_FILM_SECONDS / 3600:g} hours): use fewer "
                         f"photos or fewer seconds per photo")


class CodecFallbackWarning(UserWarning):
    """The preferred encoder is missing from this ffmpeg build and another one was used."""


class TimelineWarning(UserWarning):
    """A timeline request was adjusted (e.g. crossfades shortened to fit short slots)."""


def _round(x):
    """Round half up (Python's round() rounds half to even, which makes timelines uneven)."""
    return int(math.floor(x + 0.5))


# ---------------------------------------------------------------------------------------------
# Canvas
# ---------------------------------------------------------------------------------------------

def canvas_size(preset="720p"):
    """(width, height) of a canvas preset, "WxH" or a (w, h) pair; notebook 06.

    Presets: "480p" 854x480, "720p" 1280x720, "1080p" 1920x1080, "portrait" 720x1280 and
    "square" 1080x1080.

    Both must be even (yuv420p halves the chroma resolution): odd sizes raise ValueError.
    """
    if isinstance(preset, str):
        key = preset.strip().lower()
        if key in PRESETS:
            return PRESETS[key]
        m = re.fullmatch(r"(\d+)\s*[x×*]\s*(\d+)", key)
        if not m:
            raise ValueError(f"size must be one of {', '.join(PRESETS)} or 'WIDTHxHEIGHT', "
                             f"got {preset!r}")
        width, height = int(m.group(1)), int(m.group(2))
    else:
        try:
            width, height = (int(v) for v in preset)
        except (TypeError, ValueError):
            raise ValueError(f"size must be a preset name, 'WxH' or (width, height), "
                             f"got {preset!r}") from None
    if width < 2 or height < 2:
        raise ValueError(f"canvas must be at least 2x2, got {width}x{height}")
    if width % 2 or height % 2:
        raise ValueError(f"canvas {width}x{height}: width and height must be even for yuv420p "
                         f"video; try {width + width % 2}x{height + height % 2}")
    if width > 4096 or height > 4096:
        raise ValueError(f"canvas {width}x{height} is larger than 4096 pixels a side")
    return width, height


def _letterbox_rect(w, h, width, height):
    """(left, top, new_w, new_h) of a w x h image fitted inside the canvas, as `fit_to_frame`."""
    scale = min(width / w, height / h)
    new_w, new_h = min(width, max(1, round(w * scale))), min(height, max(1, round(h * scale)))
    return (width - new_w) // 2, (height - new_h) // 2, new_w, new_h


def layout_photo(image, size, fit="letterbox"):
    """Place a photo on a width x height canvas; returns uint8 (height, width, 3); notebook 06.

    "letterbox": the whole photo, scaled to fit, on black bars. "blur": the whole photo on a
    blurred, darkened copy of itself that covers the canvas (no black bars).
    """
    from scipy.ndimage import gaussian_filter

    width, height = (int(v) for v in size)
    if fit not in FITS:
        raise ValueError(f"fit must be one of {', '.join(FITS)}, got {fit!r}")
    a = as_rgb(image)
    if fit == "letterbox":
        return _to_u8(fit_to_frame(a, width, height, mode="pad", fill=0.0))
    small_w, small_h = max(2, width // 16), max(2, height // 16)
    back = fit_to_frame(a, small_w, small_h, mode="crop")
    back = gaussian_filter(back, sigma=(small_h / 12, small_w / 12, 0), mode="nearest")
    canvas = resize_to(back, width, height) * np.float32(0.55)
    left, top, new_w, new_h = _letterbox_rect(a.shape[1], a.shape[0], width, height)
    canvas[top:top + new_h, left:left + new_w] = resize_to(a, new_w, new_h)
    return _to_u8(canvas)


def _to_u8(a):
    return np.rint(np.clip(a, 0.0, 1.0) * 255).astype(np.uint8)


def letterbox_file(path, size):
    """A photo file letterboxed on a width x height canvas: uint8 (height, width, 3).

    What `layout_photo(load_image(path), size)` gives, in 8 bits throughout: decoded (JPEGs at a
    reduced scale where that still covers the canvas), resized once (Lanczos) and placed on
    black, about five times faster than through float32 images (benchmarks/bench_video.py).
    """
    width, height = (int(v) for v in size)
    rgb = images.decode_upright(path, max_side=max(width, height))
    if isinstance(rgb, np.ndarray):  # high bit depth: the float32 path
        return layout_photo(rgb, size)
    left, top, new_w, new_h = _letterbox_rect(rgb.width, rgb.height, width, height)
    if (new_w, new_h) != rgb.size:
        rgb = rgb.resize((new_w, new_h), images.RESAMPLE)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    canvas[top:top + new_h, left:left + new_w] = np.asarray(rgb)
    return canvas


# ---------------------------------------------------------------------------------------------
# Timeline
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Timeline:
    """Frame-exact plan of a film: which photo is on screen at each frame, and with what weight.

    Photo k owns the frames [boundaries[k], boundaries[k+1]). The crossfade between photos k and
    k+1 covers `transition_frames` frames centred on boundaries[k+1]: it starts at
    boundaries[k+1] - transition_frames // 2. Frame j of a crossfade (0-based) shows the next
    photo with weight (j + 1) / (transition_frames + 1), so no blended frame repeats a whole photo.
    """

    fps: float
    boundaries: tuple
    transition_frames: int = 0

    @property
    def n_photos(self):
        return len(self.boundaries) - 1

    @property
    def n_frames(self):
        return self.boundaries[-1]

    @property
    def duration(self):
        """Seconds: n_frames / fps."""
        return self.n_frames / self.fps

    def slot(self, k):
        """(first, end) frames owned by photo k (end exclusive)."""
        return self.boundaries[k], self.boundaries[k + 1]

    def transition(self, k):
        """(first, end) frames of the crossfade from photo k to k + 1 (empty without one)."""
        start = self.boundaries[k + 1] - self.transition_frames // 2
        return start, start + self.transition_frames

    def visible(self, k):
        """(first, end) frames on which photo k is on screen, crossfades included."""
        first = self.transition(k - 1)[0] if k > 0 else 0
        end = self.transition(k)[1] if k < self.n_photos - 1 else self.n_frames
        return first, end

    def sources(self, i):
        """((photo, weight), ...) for frame i: one photo, or two during a crossfade."""
        if not 0 <= i < self.n_frames:
            raise IndexError(f"frame {i} is outside the timeline (0..{self.n_frames - 1})")
        k = bisect.bisect_right(self.boundaries, i) - 1
        t = self.transition_frames
        for a in (k - 1, k):
            if 0 <= a < self.n_photos - 1 and t:
                start, end = self.transition(a)
                if start <= i < end:
                    w = (i - start + 1) / (t + 1)
                    return ((a, 1.0 - w), (a + 1, w))
        return ((k, 1.0),)

    def kept_frames(self, moving=False):
        """Frames that differ from the one before (the others repeat it), and the last frame.

        moving=True (Ken Burns: every frame moves) keeps them all. The last frame is kept so
        that the film lasts to its planned end.
        """
        n = self.n_frames
        if moving or n <= 1:
            return list(range(n))
        kept = [0] + [i for i in range(1, n) if self.sources(i) != self.sources(i - 1)]
        if kept[-1] != n - 1:
            kept.append(n - 1)
        return kept

    def progress(self, k, i):
        """Where frame i lies in photo k's time on screen: 0 at its first frame, 1 at its last."""
        first, end = self.visible(k)
        return (i - first) / max(1, end - first - 1)

    @property
    def starts(self):
        """Start of each photo's slot in seconds."""
        return [b / self.fps for b in self.boundaries[:-1]]

    def summary(self):
        """A list of dicts per photo: slot and on-screen frames and seconds (for reports)."""
        rows = []
        for k in range(self.n_photos):
            (s, e), (vs, ve) = self.slot(k), self.visible(k)
            rows.append({"photo": k, "first_frame": s, "end_frame": e, "start": s / self.fps,
                         "seconds": (e - s) / self.fps, "on_screen": (vs, ve)})
        return rows


def snap_to_onsets(n_photos, total_frames, onset_frames, min_frames, max_frames):
    """Inner boundaries (frames) moved to the nearest onsets, each slot in [min, max] frames.

    Greedy from the start: boundary k goes to the onset nearest to its nominal place
    k * total / n among those that keep this slot within [min_frames, max_frames] and leave the
    remaining photos room for slots within the same limits; with none, it stays at the nominal
    place clamped to those limits. Returns the n + 1 boundaries, 0 first and total last.
    """
    n = int(n_photos)
    onsets = np.unique(np.asarray(onset_frames, dtype=np.int64))
    bounds = [0]
    for k in range(1, n):
        prev, left = bounds[-1], n - k
        lo = max(prev + min_frames, total_frames - left * max_frames)
        hi = min(prev + max_frames, total_frames - left * min_frames)
        target = _round(k * total_frames / n)
        if lo > hi:  # cannot meet both limits (rounding): share the rest evenly
            b = prev + max(1, _round((total_frames - prev) / (left + 1)))
        else:
            cand = onsets[(onsets >= lo) & (onsets <= hi)]
            if cand.size:
                b = int(cand[np.argmin(np.abs(cand - target))])
            else:
                b = min(max(target, lo), hi)
        bounds.append(int(b))
    bounds.append(int(total_frames))
    return bounds


def plan_timeline(n_photos, seconds_per_photo=1.0, transition_seconds=0.3, fps=30,
                  audio_seconds=None, onsets=None, min_ratio=0.5, max_ratio=2.0):
    """Plan a film of `n_photos` photos: a frame-exact `Timeline` (pure arithmetic); notebook 06.

    Length: n * seconds_per_photo, rounded to whole frames; with `audio_seconds` the film is
    fitted to the music instead (seconds_per_photo = audio_seconds / n). Photo k starts at frame
    round(k * d * fps) (no drift: rounding never accumulates). Crossfades of
    `transition_seconds` (0: hard cuts) are centred on the boundaries inside the slots, so they
    do not shorten the film; they are shortened, with a TimelineWarning, where a slot is too short
    to show its photo alone for at least one frame. `onsets` (seconds) snaps the boundaries to the
    music, keeping each slot within [min_ratio, max_ratio] x the nominal duration.
    """
    n = int(n_photos)
    if n < 1:
        raise ValueError(f"need at least one photo, got {n_photos!r}")
    fps = float(fps)
    if not (math.isfinite(fps) and 0 < fps <= 240):
        raise ValueError(f"fps must be in (0, 240], got {fps!r}")
    if transition_seconds is None or transition_seconds < 0:
        raise ValueError(f"transition_seconds must be >= 0, got {transition_seconds!r}")
    if audio_seconds is not None:
        if not (math.isfinite(audio_seconds) and audio_seconds > 0):
            raise ValueError(f"audio_seconds must be a positive length, got {audio_seconds!r}")
        total = _round(float(audio_seconds) * fps)
    else:
        if not (math.isfinite(seconds_per_photo) and seconds_per_photo > 0):
            raise ValueError(f"seconds_per_photo must be positive, got {seconds_per_photo!r}")
        total = _round(n * float(seconds_per_photo) * fps)
    check_film_length(total / fps)
    if total < n:
        raise ValueError(f"{n} photos need at least {n} frames, but the film would have {total} "
                         f"({total / fps:.2f} s at {fps:g} fps): use fewer photos, more seconds "
                         f"per photo or a higher fps")
    per = total / n  # nominal frames per photo
    if onsets is not None and n > 1:
        if not 0 < min_ratio <= 1 <= max_ratio:
            raise ValueError(f"need 0 < min_ratio <= 1 <= max_ratio, got {min_ratio}, {max_ratio}")
        frames = [_round(float(t) * fps) for t in np.asarray(onsets, dtype=float).ravel()
                  if math.isfinite(t)]
        min_frames = max(1, math.ceil(min_ratio * per - 1e-9))
        max_frames = max(min_frames, math.floor(max_ratio * per + 1e-9))
        bounds = snap_to_onsets(n, total, frames, min_frames, max_frames)
    else:
        bounds = [_round(k * per) for k in range(n)] + [total]
    t = _round(transition_seconds * fps) if n > 1 else 0
    shortest = min(b - a for a, b in zip(bounds, bounds[1:]))
    if t > shortest - 1 and n > 1:
        fitted = max(0, shortest - 1)
        if transition_seconds > 0:
            warnings.warn(f"crossfades shortened from {t} to {fitted} frames to fit the shortest "
                          f"photo slot ({shortest} frames)", TimelineWarning, stacklevel=2)
        t = fitted
    return Timeline(fps=fps, boundaries=tuple(int(b) for b in bounds), transition_frames=int(t))


# ---------------------------------------------------------------------------------------------
# Ken Burns and frame rendering
# ---------------------------------------------------------------------------------------------

def ken_burns_window(index, u, size, zoom=KEN_BURNS_ZOOM, seed=0):
    """Crop window (x0, y0, w, h), canvas pixels, of photo `index` at progress u in [0, 1].

    Even photos zoom in from the whole canvas towards a random point, odd ones zoom out from it
    (seeded: the same film every time). All four numbers are linear in u, so the window moves
    and grows at a constant rate (its second difference over frames is zero), and it always lies
    inside the canvas.
    """
    width, height = (float(v) for v in size)
    if zoom < 1:
        raise ValueError(f"zoom must be >= 1, got {zoom!r}")
    rng = np.random.default_rng([int(seed), int(index)])
    w1, h1 = width / zoom, height / zoom
    fx, fy = rng.uniform(-1.0, 1.0, size=2)
    x1 = (width - w1) / 2 * (1 + fx)
    y1 = (height - h1) / 2 * (1 + fy)
    full, close = np.array([0.0, 0.0, width, height]), np.array([x1, y1, w1, h1])
    start, end = (full, close) if index % 2 == 0 else (close, full)
    u = min(max(float(u), 0.0), 1.0)
    return tuple(float(v) for v in start + (end - start) * u)


def _sample_coords(n_out, start, length, scale, n_in):
    """Bilinear taps (i0, i1, weight of i1) of n_out pixel centres over [start, start + length)."""
    c = (start + (np.arange(n_out) + 0.5) * (length / n_out)) * scale - 0.5
    c = np.clip(c, 0.0, n_in - 1)
    i0 = np.minimum(np.floor(c).astype(np.intp), max(n_in - 2, 0))
    return i0, np.minimum(i0 + 1, n_in - 1), (c - i0).astype(np.float32)


def warp_window(source, window, size):
    """Resample the crop window (x0, y0, w, h), in canvas pixels, of `source` to size (float32).

    `source` (uint8 or float, (h, w, 3)) is the canvas at any (supersampled) resolution; the
    window is mapped with subpixel accuracy: pixel centres, bilinear, separable (columns of the
    rows needed, then rows), edges clamped.
    """
    width, height = (int(v) for v in size)
    sh, sw, channels = source.shape
    x0, y0, w, h = window
    ya, yb, fy = _sample_coords(height, y0, h, sh / height, sh)
    xa, xb, fx = _sample_coords(width, x0, w, sw / width, sw)
    r0, r1 = int(ya.min()), int(yb.max()) + 1
    flat = source[r0:r1].reshape(r1 - r0, sw * channels)
    lanes = np.arange(channels)
    cols = np.take(flat, (xa[:, None] * channels + lanes).ravel(), axis=1).astype(np.float32)
    right = np.take(flat, (xb[:, None] * channels + lanes).ravel(), axis=1).astype(np.float32)
    right -= cols
    right *= np.repeat(fx, channels)
    cols += right                                     # (rows, width * channels)
    top, bottom = cols[ya - r0], cols[yb - r0]
    bottom -= top
    bottom *= fy[:, None]
    top += bottom
    return top.reshape(height, width, channels)


def render_frame(timeline, i, canvases, size, ken_burns=False, zoom=KEN_BURNS_ZOOM, seed=0):
    """Frame i of the film as uint8 (height, width, 3).

    `canvases` maps photo index -> its uint8 canvas (`layout_photo`; with Ken Burns laid out
    larger, e.g. `supersample(size, zoom)`, for detail when zoomed in).
    """
    parts = timeline.sources(i)
    if not ken_burns and len(parts) == 1:
        return canvases[parts[0][0]]
    out = None
    for k, weight in parts:
        if ken_burns:
            window = ken_burns_window(k, timeline.progress(k, i), size, zoom=zoom, seed=seed)
            img = warp_window(canvases[k], window, size)
        else:
            img = canvases[k].astype(np.float32)
        if weight != 1.0:
            img *= np.float32(weight)
        if out is None:
            out = img
        else:
            out += img
    out += np.float32(0.5)  # round half up (values are >= 0)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def supersample(size, zoom=KEN_BURNS_ZOOM):
    """Canvas size to lay photos out at for Ken Burns: the frame size times the zoom, even."""
    width, height = (int(v) for v in size)
    return 2 * _round(width * zoom / 2), 2 * _round(height * zoom / 2)


# ---------------------------------------------------------------------------------------------
# Photos
# ---------------------------------------------------------------------------------------------

def _describe(item, k):
    return str(item) if isinstance(item, (str, Path)) else f"photo {k} (array)"


def check_photos(photos):
    """Readable photos of a folder or a list of paths/arrays; warns SkippedImageWarning for others.

    Paths are only opened (header read), not decoded, so this is quick for large albums; a file
    whose data turns out corrupt when it is decoded later is skipped then (the film keeps its
    length: the previous photo stays on screen). Raises ImageError when none is usable.
    """
    return _check_photos(photos)[0]


def _check_photos(photos):
    """(usable photos, number given): see `check_photos`."""
    folder = None
    if isinstance(photos, (str, Path)):
        folder = Path(photos)
        photos = list_album(folder)
    elif isinstance(photos, np.ndarray) and photos.ndim == 4:
        photos = list(photos)  # a batch of images
    else:
        photos = list(photos)
    kept = []
    for k, item in enumerate(photos):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], (str, Path)):
            item = item[1]  # (path, image) pairs of iter_album / load_album
        try:
            if isinstance(item, (str, Path)):
                with open_checked(Path(item)):
                    pass
            else:
                a = as_image_array(item)
                if not (a.dtype in (np.uint8, np.uint16, bool)
                        or np.issubdtype(a.dtype, np.floating)):
                    raise ValueError(f"expected a float, uint8 or uint16 image, got {a.dtype}")
        except (ImageError, OSError, ValueError, TypeError) as e:
            problem = e.problem if isinstance(e, ImageError) else str(e)
            warnings.warn(f"skipping {_describe(item, k)}: {problem}", SkippedImageWarning,
                          stacklevel=3)
            continue
        kept.append(item)
    if not kept:
        where = folder if folder is not None else Path("photos")
        problem = (f"none of the {len(photos)} photos could be read (see the warnings above)"
                   if photos else "no photos given" if folder is None else
                   "no photo files found in the folder")
        raise ImageError(where, problem)
    return kept, len(photos)


def _load_canvas(item, k, canvas, fit):
    """Lay out photo `item` on a canvas of size `canvas`; None (with a warning) if unreadable."""
    try:
        if isinstance(item, (str, Path)) and fit == "letterbox":
            return letterbox_file(item, canvas)
        if isinstance(item, (str, Path)):
            image = load_image(item, max_side=max(canvas))
        else:
            image = item
        return layout_photo(image, canvas, fit=fit)
    except (ImageError, OSError, ValueError) as e:
        problem = e.problem if isinstance(e, ImageError) else str(e)
        warnings.warn(f"skipping {_describe(item, k)}: {problem} (the previous photo stays on "
                      f"screen instead)", SkippedImageWarning, stacklevel=4)
        return None


class _Morphs:
    """The current transition's morph canvases, made when its first frame comes (notebook 06).

    `morph(k)` returns [(u, image of photo k, image of photo k + 1), ...]: both photos repainted
    with the style mix u of the way from photo k's style to photo k + 1's (u increasing), or None
    where the pair cannot morph (it crossfades instead).
    """

    def __init__(self, morph, canvas, fit):
        self.morph, self.canvas, self.fit = morph, canvas, fit
        self.k, self.levels = None, None

    def canvases(self, a, b, w):
        """{a: canvas, b: canvas} of the level nearest to weight w, or None (a crossfade)."""
        if self.k != a:
            levels = self.morph(a)
            self.k = a
            self.levels = None if not levels else [
                (u, layout_photo(x, self.canvas, self.fit), layout_photo(y, self.canvas, self.fit))
                for u, x, y in levels]
        if self.levels is None:
            return None
        _, x, y = min(self.levels, key=lambda level: abs(level[0] - w))
        return {a: x, b: y}


def iter_frames(photos, timeline, size, fit="letterbox", ken_burns=False, zoom=KEN_BURNS_ZOOM,
                seed=0, frames=None, morph=None):
    """Yield the film's frames, uint8 (height, width, 3), one at a time.

    `photos` are paths or arrays (already checked: `check_photos`). Each photo is loaded when its
    first frame comes and dropped after its last, so at most two canvases are held at once.
    Frames are read-only (a still frame is the photo's canvas itself, not a copy). `frames`:
    the increasing frame indices to yield (default: all; `Timeline.kept_frames` for encoding).
    `morph`: see `_Morphs`; during a transition both photos show the level of the style morph
    nearest to the crossfade's weight (notebook 06).
    """
    morphs = None if morph is None else _Morphs(
        morph, supersample(size, zoom) if ken_burns else tuple(int(v) for v in size), fit)
    if len(photos) != timeline.n_photos:
        raise ValueError(f"timeline plans {timeline.n_photos} photos, got {len(photos)}")
    width, height = (int(v) for v in size)
    canvas = supersample(size, zoom) if ken_burns else (width, height)
    cache, fade = {}, None  # fade: the current crossfade's float32 arrays
    for i in (range(timeline.n_frames) if frames is None else frames):
        needed = [k for k, _ in timeline.sources(i)]
        for k in needed:
            if k not in cache:
                c = _load_canvas(photos[k], k, canvas, fit)
                if c is None:  # unreadable after all: repeat the photo before it (or black)
                    c = cache.get(k - 1)
                    if c is None:
                        c = np.zeros((canvas[1], canvas[0], 3), dtype=np.uint8)
                c.setflags(write=False)  # frames may be the canvas itself: keep it intact
                cache[k] = c
        for k in [k for k in cache if k not in needed]:
            del cache[k]
        parts = timeline.sources(i)
        morphed = morphs.canvases(parts[0][0], parts[1][0], parts[1][1]) \
            if morphs is not None and len(parts) == 2 else None
        if morphed is not None:
            yield render_frame(timeline, i, morphed, size, ken_burns=ken_burns, zoom=zoom, seed=seed)
            continue
        if ken_burns or len(parts) == 1:
            yield render_frame(timeline, i, cache, size, ken_burns=ken_burns, zoom=zoom, seed=seed)
            continue
        (a, _), (b, w) = parts  # a crossfade: a + (b - a) w, the pair's arrays made once
        if fade is None or fade[0] != (a, b):
            base = cache[a].astype(np.float32)
            diff = cache[b].astype(np.float32) - base
            base += np.float32(0.5)  # round half up when truncated to uint8
            fade = ((a, b), base, diff, np.empty_like(base))
        _, base, diff, out = fade
        np.multiply(diff, np.float32(w), out=out)
        out += base  # within [0.5, 255.5]: a convex mix of two uint8 images
        yield out.astype(np.uint8)


# ---------------------------------------------------------------------------------------------
# ffmpeg: encoders, probing
# ---------------------------------------------------------------------------------------------

def ffmpeg_exe():
    """The ffmpeg binary of the imageio-ffmpeg wheel (or $IMAGEIO_FFMPEG_EXE)."""
    from .audio import ffmpeg_exe as exe

    return exe()


@functools.lru_cache(maxsize=4)
def _encoders_of(exe):
    done = subprocess.run([exe, "-nostdin", "-hide_banner", "-encoders"], capture_output=True,
                          stdin=subprocess.DEVNULL)
    text = done.stdout.decode("utf-8", "replace")
    return frozenset(m.group(1) for m in re.finditer(r"^ ?[VAS][.A-Z]{5} +(\S+)", text, re.M))


def available_encoders():
    """Names of the encoders of the ffmpeg binary (`ffmpeg -encoders`, cached per binary)."""
    return _encoders_of(ffmpeg_exe())


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
    have = available_encoders()
    usable = [c for c in FALLBACK_ORDER
              if CODECS[c].encoder in have and CODECS[c].audio_encoder in have]
    if codec != "auto":
        if codec not in CODECS:
            raise ValueError(f"codec must be 'auto' or one of {', '.join(CODECS)}, got {codec!r}")
        if codec not in usable:
            raise VideoError(f"this ffmpeg ({ffmpeg_exe()}) lacks the {CODECS[codec].encoder} or "
                             f"{CODECS[codec].audio_encoder} encoder; it can use: "
                             f"{', '.join(usable) or 'none of ' + ', '.join(CODECS)}")
        return CODECS[codec]
    if suffix in WEBM_SUFFIXES:
        usable = [c for c in usable if CODECS[c].container == "webm"]
    if not usable:
        raise VideoError(f"this ffmpeg ({ffmpeg_exe()}) has none of the encoders "
                         f"{', '.join(FALLBACK_ORDER)} (with aac / libopus): install the "
                         f"imageio-ffmpeg wheel (`pip install -U imageio-ffmpeg`) or point "
                         f"IMAGEIO_FFMPEG_EXE at a full ffmpeg build")
    return CODECS[usable[0]]


def _ffmpeg_text(raw, keep=12):
    """The last lines of ffmpeg's stderr, without '[x @ 0x..]' prefixes and repeats."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = re.sub(r"\[[^\]@]* @ 0x[0-9a-fA-F]+\] *", "", text)
    lines = [ln.strip() for ln in re.split(r"[\r\n]+", text) if ln.strip()]
    lines = [ln for ln in dict.fromkeys(lines) if not ln.startswith("frame=")]
    return "\n".join(lines[-keep:]) or "(ffmpeg printed nothing)"


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


def _run_to_file(cmd):
    """Run `cmd` with stderr to a temp file (never a pipe); return (returncode, stderr text)."""
    with tempfile.TemporaryFile() as err:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=err)
        err.seek(0)
        return done.returncode, err.read().decode("utf-8", "replace")


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
    _, text = _run_to_file([exe, "-nostdin", "-hide_banner", "-i", src])
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
            info.n_frames = _round(info.video_seconds * info.fps)
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
    """(video seconds, audio seconds) of a film; None for a missing stream."""
    info = probe(path)
    return info.video_seconds, info.audio_seconds


# ---------------------------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------------------------

def _music_signal(audio):
    """A mono float32 signal at 44.1 kHz from a path or a (signal, sr) pair."""
    from .audio import AudioError, iter_audio_chunks, resample

    if isinstance(audio, (str, Path)):
        # Streamed through ffmpeg for every format (WAV too): memory is twice the decoded song
        # at most (the chunks, then one array), where a float64 WAV read would take six times.
        chunks = list(iter_audio_chunks(audio, sr=AUDIO_SR, chunk_samples=AUDIO_SR * 16))
        if not chunks:
            raise AudioError(audio, "no audio samples")
        out = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
        del chunks
        return out
    try:
        signal, sr = audio
        sr = int(sr)
    except (TypeError, ValueError):
        raise ValueError("audio must be a file path or a (signal, sample_rate) pair") from None
    x = np.asarray(signal)
    if x.ndim == 2:  # (n, channels), or (channels, n) when that is clearly the layout
        x = x.mean(axis=0 if x.shape[0] <= 8 < x.shape[1] else 1, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"audio signal must have shape (n,) or (n, channels), got {x.shape}")
    if sr < 1:
        raise ValueError(f"sample rate must be positive, got {sr}")
    if sr != AUDIO_SR:
        x = resample(x, sr, AUDIO_SR)
    x = np.array(x, dtype=np.float32)  # one copy: the caller's array is never changed
    if not np.isfinite(x).all():
        np.nan_to_num(x, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(x, -1.0, 1.0, out=x)


_RMS_BLOCK = AUDIO_SR * 4 // 10   # 400 ms blocks of the gated RMS
_RMS_STEP = _RMS_BLOCK * 16       # samples looked at in one piece (no float64 copy of a song)


def _rms_gain(x, target_dbfs=RMS_TARGET_DBFS, peak_dbfs=PEAK_CEILING_DBFS):
    """Gain that brings the gated RMS of `x` to target_dbfs, its peak to at most peak_dbfs."""
    rms = dsp.GatedRms(_RMS_BLOCK)
    for start in range(0, x.size, _RMS_STEP):
        rms.add(x[start:start + _RMS_STEP])
    return rms.gain(target_dbfs, peak_dbfs)


def normalise_rms(signal, target_dbfs=RMS_TARGET_DBFS, peak_dbfs=PEAK_CEILING_DBFS):
    """Scale a signal so its gated RMS is `target_dbfs`, its peak at most `peak_dbfs` (float32).

    Gated: 400 ms blocks quieter than -50 dBFS (silence) do not count. A pure gain, so fades
    and dynamics are kept; silence is returned unchanged.
    """
    x = np.asarray(signal, dtype=np.float32)
    return x * np.float32(_rms_gain(x, target_dbfs, peak_dbfs))


def _loudnorm(signal, folder):
    """EBU R128 normalisation with ffmpeg `loudnorm` (then `aresample=44100`, see the notes)."""
    from scipy.io import wavfile

    src, dst = Path(folder) / "music-in.wav", Path(folder) / "music-norm.wav"
    wavfile.write(src, AUDIO_SR, np.asarray(signal, dtype=np.float32))
    rc, err = _run_to_file([ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-y",
                            "-i", str(src), "-af", f"{LOUDNORM},aresample={AUDIO_SR}",
                            "-c:a", "pcm_f32le", "-f", "wav", str(dst)])
    if rc != 0:
        raise VideoError(f"ffmpeg loudnorm failed:\n{_ffmpeg_text(err)}")
    _, y = wavfile.read(dst)
    src.unlink()
    dst.unlink()
    y = np.asarray(y, dtype=np.float32).reshape(len(y), -1).mean(axis=1)
    out = np.zeros(len(signal), dtype=np.float32)  # loudnorm keeps the length; be sure anyway
    out[:min(len(y), len(out))] = y[:len(out)]
    return np.clip(out, -1.0, 1.0)


def _fade_curve(n):
    """n gains rising smoothly from near 0 to near 1 (raised cosine)."""
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)


def soundtrack(music, n_samples, fade_seconds=1.0, normalise="rms", folder=None):
    """The film's audio: exactly `n_samples` mono float32 samples at 44.1 kHz.

    `music` (mono float32 at 44.1 kHz) is cut to n_samples or padded with silence, normalised
    ("rms", "loudnorm" or None; over the music only), and faded in at the start and out over the
    last `fade_seconds` of the music (at most half of it). Works in place on one new array.
    """
    if normalise not in (None, False, *LOUDNESS):
        raise ValueError(f"normalise must be one of {', '.join(LOUDNESS)} or None, "
                         f"got {normalise!r}")
    n_samples = int(n_samples)
    out = np.zeros(n_samples, dtype=np.float32)
    m = min(len(music), n_samples)
    out[:m] = music[:m]
    body = out[:m]
    if normalise == "rms":
        body *= np.float32(_rms_gain(body))
    elif normalise == "loudnorm" and m:
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            body[:] = _loudnorm(body, tmp)
    fade = min(_round(max(0.0, fade_seconds) * AUDIO_SR), m // 2)
    if fade:
        curve = _fade_curve(fade)
        body[:fade] *= curve
        body[m - fade:] *= curve[::-1]
    np.clip(out, -1.0, 1.0, out=out)
    return out


def _music_pieces(path, n_samples=None):
    """The first n_samples (None: all) of a music file, mono float32 at 44.1 kHz, in pieces of
    _RMS_STEP samples."""
    from .audio import iter_audio_chunks

    pos = 0
    for chunk in iter_audio_chunks(path, sr=AUDIO_SR, chunk_samples=_RMS_STEP):
        if n_samples is not None and pos >= n_samples:
            break
        piece = chunk if n_samples is None else chunk[:n_samples - pos]
        pos += piece.size
        yield piece


def music_samples(path):
    """The length in samples at 44.1 kHz of a music file, decoded in pieces (nothing kept)."""
    from .audio import AudioError

    n = sum(piece.size for piece in _music_pieces(path))
    if n == 0:
        raise AudioError(path, "no audio samples")
    return n


def _wav_float32_header(n_samples, sr=AUDIO_SR):
    """The header of a mono IEEE-float32 WAV file of n_samples samples."""
    import struct

    data = 4 * int(n_samples)
    fmt = struct.pack("<HHIIHHH", 3, 1, sr, 4 * sr, 4, 32, 0)  # float, mono, cbSize 0
    return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 12 + 8 + data) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"fact" + struct.pack("<II", 4, int(n_samples))
            + b"data" + struct.pack("<I", data))


def write_soundtrack(path, n_samples, wav, fade_seconds=1.0, normalise="rms"):
    """`soundtrack(music of file path, ...)` written to a float32 WAV, the file read twice in
    pieces and never held whole, so memory stays flat however long the film; notebook 06.

    Pass 1 measures the length (and the gated RMS), pass 2 applies the gain and the fades. The
    same samples as `soundtrack`, bit for bit. normalise: "rms" or None (loudnorm needs the
    whole signal: use `soundtrack`).
    """
    from .audio import AudioError

    if normalise not in (None, "rms"):
        raise ValueError(f"write_soundtrack normalises with 'rms' or None, got {normalise!r}")
    n_samples, rms, m = int(n_samples), dsp.GatedRms(_RMS_BLOCK), 0
    for piece in _music_pieces(path, n_samples):
        m += piece.size
        if normalise == "rms":
            rms.add(piece)
    if m == 0:
        raise AudioError(path, "no audio samples")
    gain = np.float32(rms.gain(RMS_TARGET_DBFS, PEAK_CEILING_DBFS) if normalise == "rms" else 1.0)
    fade = min(_round(max(0.0, fade_seconds) * AUDIO_SR), m // 2)
    curve = _fade_curve(fade)
    with open(wav, "wb") as f:
        f.write(_wav_float32_header(n_samples))
        pos = 0
        for piece in _music_pieces(path, m):
            x = piece * gain if normalise == "rms" else piece.copy()
            end = pos + x.size
            if pos < fade:                      # fade in over [0, fade)
                x[:fade - pos] *= curve[pos:min(fade, end)]
            if end > m - fade:                  # fade out over [m - fade, m)
                first = max(pos, m - fade)
                x[first - pos:] *= curve[::-1][first - (m - fade):end - (m - fade)]
            np.clip(x, -1.0, 1.0, out=x)
            f.write(x.astype("<f4", copy=False).tobytes())
            pos = end
        if pos != m:
            raise AudioError(path, "the file changed while it was read")
        silence = np.zeros(min(_RMS_STEP, n_samples - m), dtype="<f4")
        for start in range(m, n_samples, _RMS_STEP):
            f.write(silence[:min(_RMS_STEP, n_samples - start)].tobytes())
    return Path(wav)


# ---------------------------------------------------------------------------------------------
# The film
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class VideoResult:
    """What `make_video` wrote."""

    path: Path
    codec: str
    duration: float
    n_frames: int
    fps: float
    size: tuple
    timeline: Timeline
    info: MediaInfo = None
    skipped: int = 0
    notes: list = dataclasses.field(default_factory=list)

    def show(self, embed=True, width=640):
        """The film as an IPython Video (embedded as base64 by default: fine for short films)."""
        from IPython.display import Video

        return Video(str(self.path), embed=embed, width=width)


def _output_path(out_path, codec, overwrite):
    """Final path (suffix of the codec's container) and the Codec; refuses existing files."""
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
    from .audio import _ffmpeg_major

    script = Path(folder) / "video_filter.txt"
    script.write_text(f"setpts='{pts_expression(kept)}',{_VIDEO_FILTER}", encoding="utf-8")
    option = "-/filter:v" if _ffmpeg_major() >= 7 else "-filter_script:v"
    return [option, str(script.absolute())]


def _encode(frames, timeline, size, wav, tmp, codec, crf, preset, progress, kept=None):
    """Pipe frames to ffmpeg and encode them (with the WAV, if any) into `tmp`.

    `frames` yields the frames of `kept` (default: every frame), each shown until the next.
    """
    from tqdm.auto import tqdm

    kept = list(range(timeline.n_frames)) if kept is None else list(kept)
    width, height = size
    fps = repr(float(timeline.fps)) if timeline.fps != int(timeline.fps) else str(int(timeline.fps))
    with fileio.temp_dir("video") as folder, \
            tempfile.TemporaryFile() as err:
        cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", fps,
               "-i", "pipe:0"]
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
        broken = False
        try:
            with tqdm(total=timeline.n_frames, unit="frame", desc="rendering film",
                      disable=not progress) as bar:
                for n, frame in enumerate(frames):
                    try:
                        proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).data)
                    except (BrokenPipeError, OSError):
                        broken = True
                        break
                    # the frames this one stands for (to the next one sent, or the end)
                    bar.update((kept[n + 1] if n + 1 < len(kept) else timeline.n_frames)
                               - kept[n])
            try:
                proc.stdin.close()
            except (BrokenPipeError, OSError):
                broken = True
            proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        if proc.returncode != 0 or broken:
            err.seek(0)
            raise VideoError(f"ffmpeg failed (exit code {proc.returncode}) encoding with "
                             f"{codec.encoder}:\n{_ffmpeg_text(err.read())}")


def _verify(info, timeline, codec, has_audio, size):
    """Problems of an encoded film compared with the plan (empty list: all good)."""
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


def make_video(photos, audio, out_path, *, seconds_per_photo=1.0, fit_to_audio=False,
               size="720p", fps=30, fit="letterbox", transition="crossfade",
               transition_seconds=0.3, ken_burns=False, beat_sync=False, fade_seconds=1.0,
               normalise_loudness=True, overwrite=False, progress=True, crf=20,
               codec="auto", preset="veryfast", zoom=KEN_BURNS_ZOOM, seed=0, morph=None):
    """Make a film of `photos` with `audio` as its soundtrack; returns a `VideoResult`; notebook 06.

    photos: a folder, or a list of paths and/or arrays (H, W[, 3|4], float in [0, 1] or uint8),
        or (path, image) pairs; unreadable ones are skipped with a SkippedImageWarning.
    audio: a music file, a (signal, sample_rate) pair, or None for a silent film.
    out_path: .mp4 (H.264 + AAC; .webm if only VP9 is available, with a CodecFallbackWarning)
        or .webm. Written whole or not at all; an existing file is kept unless overwrite=True.
    seconds_per_photo / fit_to_audio: each photo's slot, or the music's length shared equally.
    size: "720p", "1080p", "480p", "portrait", "square", "WxH" or (w, h), even.
    fit: "letterbox" (black bars) or "blur" (a blurred copy of the photo behind it).
    transition / transition_seconds: "crossfade" centred on each cut (not shortening the film),
        "none", or "morph": a crossfade during which both photos' style morphs from the first
        photo's to the second's, given `morph(k)` (see `_Morphs`; album.make_album makes it).
    ken_burns: a slow linear zoom and pan on each photo (zoom up to `zoom`, seeded by `seed`).
    beat_sync: move each cut to the nearest onset of the music (slots within 0.5x-2x).
    fade_seconds: audio fade in at the start and out where the music ends.
    normalise_loudness: True / "rms" (numpy gated RMS), "loudnorm" (ffmpeg EBU R128) or False.
    crf, preset: x264 quality (lower is better, 18-23 usual) and speed preset. "veryfast", not
        x264's "medium": on photo films at CRF 20 it measured the same quality (PSNR against
        the planned frames 37.90 against 38.06 dB with crossfades, 37.27 against 37.54 with
        Ken Burns) and size (2.13 against 2.15 MB; 1.07 against 1.23) for half or less of the
        encoder's CPU time (benchmarks/RESULTS.md, issue 6).
    """
    size = canvas_size(size)
    if fit not in FITS:
        raise ValueError(f"fit must be one of {', '.join(FITS)}, got {fit!r}")
    if transition not in TRANSITIONS:
        raise ValueError(f"transition must be one of {', '.join(TRANSITIONS)}, "
                         f"got {transition!r}")
    if not 0 <= int(crf) <= 51:
        raise ValueError(f"crf must be in 0..51, got {crf!r}")
    normalise = {True: "rms", False: None, None: None}.get(normalise_loudness, normalise_loudness)
    if normalise not in (None, *LOUDNESS):
        raise ValueError(f"normalise_loudness must be True, False, 'rms' or 'loudnorm', "
                         f"got {normalise_loudness!r}")
    if audio is None and (fit_to_audio or beat_sync):
        raise ValueError("fit_to_audio and beat_sync need an audio track")
    path, chosen, notes = _output_path(out_path, codec, overwrite)
    items, n_given = _check_photos(photos)

    # a music file is streamed (read in pieces, twice: memory stays flat with the film's
    # length) unless beat sync or loudnorm need the whole signal
    stream = isinstance(audio, (str, Path)) and not beat_sync and normalise != "loudnorm"
    music = _music_signal(audio) if audio is not None and not stream else None
    onsets = None
    if beat_sync:
        from .beats import detect_onsets

        onsets = detect_onsets(music, AUDIO_SR)
    music_seconds = None
    if fit_to_audio:
        music_seconds = (music.size if music is not None else music_samples(audio)) / AUDIO_SR
    timeline = plan_timeline(len(items), seconds_per_photo,
                             transition_seconds if transition != "none" else 0.0, fps,
                             audio_seconds=music_seconds, onsets=onsets)
    kept = timeline.kept_frames(moving=ken_burns)  # a still photo is sent once
    frames = iter_frames(items, timeline, size, fit=fit, ken_burns=ken_burns, zoom=zoom,
                         seed=seed, frames=kept, morph=morph if transition == "morph" else None)
    with fileio.temp_dir("film") as work:
        wav, n_samples = None, _round(timeline.duration * AUDIO_SR)
        if stream:
            wav = write_soundtrack(audio, n_samples, Path(work) / "soundtrack.wav",
                                   fade_seconds=fade_seconds, normalise=normalise)
        elif music is not None:
            from scipy.io import wavfile

            track = soundtrack(music, n_samples, fade_seconds=fade_seconds, normalise=normalise,
                               folder=work)
            del music
            wav = Path(work) / "soundtrack.wav"
            wavfile.write(wav, AUDIO_SR, track)
            del track
        with fileio.atomic_path(path) as tmp:
            _encode(frames, timeline, size, wav, tmp, chosen, crf, preset, progress, kept)
            info = probe(tmp)
            problems = _verify(info, timeline, chosen, wav is not None, size)
            if problems:
                raise VideoError(f"{path}: the encoded film is not as planned - "
                                 f"{'; '.join(problems)}; nothing was saved.\n"
                                 f"ffmpeg says:\n{_ffmpeg_text(info.text)}")
    return VideoResult(path=path, codec=chosen.name, duration=timeline.duration,
                       n_frames=timeline.n_frames, fps=timeline.fps, size=size,
                       timeline=timeline, info=info, skipped=n_given - len(items), notes=notes)
