"""The film's timeline: which photo is on screen at each frame, and with what weight (notebook 06).

Photo k owns the frames [b_k, b_{k+1}) with b_k = round(k * d * fps), so the film lasts n * d
("about one second a photo" holds exactly, and fitting to the music is d = music length / n). A
crossfade of T seconds is centred on each inner boundary, inside the two slots it joins (it does
not shorten the film); it is clipped so that every photo still has at least one frame alone on
screen. With beat sync the inner boundaries move to the nearest onset of the music, keeping every
slot within [0.5 d, 2 d]. Pure arithmetic: no photo and no ffmpeg here.
"""

import bisect
import dataclasses
import math
import warnings

import numpy as np

from albumlib.dsp import round_half_up

# The longest film made: its soundtrack is held in memory as float32 (about 0.64 GB an hour at
# 44.1 kHz stereo, more while it is composed and normalised), and x264's timestamps, in 1/90,000 s
# for setpts, overflow 32 bits past 6.6 hours. Two hours is far beyond an album's film.
MAX_FILM_SECONDS = 2 * 3600


def check_film_length(seconds, what="the film"):
    """Refuse, up front, a film longer than MAX_FILM_SECONDS (memory and timestamps; notebook 06)."""
    if not (math.isfinite(seconds) and seconds <= MAX_FILM_SECONDS):
        raise ValueError(f"{what} would last {seconds:.6g} s, longer than the limit of "
                         f"{MAX_FILM_SECONDS} s ({MAX_FILM_SECONDS / 3600:g} hours): use fewer "
                         f"photos or fewer seconds per photo")


class TimelineWarning(UserWarning):
    """A timeline request was adjusted (e.g. crossfades shortened to fit short slots)."""


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
                    w = crossfade_weight(i - start, t)
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


def even_boundaries(n_photos, total_frames):
    """Photo k starts at frame round(k * total / n): rounding never accumulates; notebook 06."""
    per = total_frames / n_photos
    return [round_half_up(k * per) for k in range(n_photos)] + [int(total_frames)]


def crossfade_weight(j, frames):
    """The incoming photo's weight on frame j (0-based) of a crossfade of `frames`; notebook 06."""
    return (j + 1) / (frames + 1)


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
        target = round_half_up(k * total_frames / n)
        if lo > hi:  # cannot meet both limits (rounding): share the rest evenly
            b = prev + max(1, round_half_up((total_frames - prev) / (left + 1)))
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
        total = round_half_up(float(audio_seconds) * fps)
    else:
        if not (math.isfinite(seconds_per_photo) and seconds_per_photo > 0):
            raise ValueError(f"seconds_per_photo must be positive, got {seconds_per_photo!r}")
        total = round_half_up(n * float(seconds_per_photo) * fps)
    check_film_length(total / fps)
    if total < n:
        raise ValueError(f"{n} photos need at least {n} frames, but the film would have {total} "
                         f"({total / fps:.2f} s at {fps:g} fps): use fewer photos, more seconds "
                         f"per photo or a higher fps")
    per = total / n  # nominal frames per photo
    if onsets is not None and n > 1:
        if not 0 < min_ratio <= 1 <= max_ratio:
            raise ValueError(f"need 0 < min_ratio <= 1 <= max_ratio, got {min_ratio}, {max_ratio}")
        frames = [round_half_up(float(t) * fps) for t in np.asarray(onsets, dtype=float).ravel()
                  if math.isfinite(t)]
        min_frames = max(1, math.ceil(min_ratio * per - 1e-9))
        max_frames = max(min_frames, math.floor(max_ratio * per + 1e-9))
        bounds = snap_to_onsets(n, total, frames, min_frames, max_frames)
    else:
        bounds = even_boundaries(n, total)
    t = round_half_up(transition_seconds * fps) if n > 1 else 0
    shortest = min(b - a for a, b in zip(bounds, bounds[1:]))
    if t > shortest - 1 and n > 1:
        fitted = max(0, shortest - 1)
        if transition_seconds > 0:
            warnings.warn(f"crossfades shortened from {t} to {fitted} frames to fit the shortest "
                          f"photo slot ({shortest} frames)", TimelineWarning, stacklevel=2)
        t = fitted
    return Timeline(fps=fps, boundaries=tuple(int(b) for b in bounds), transition_frames=int(t))
