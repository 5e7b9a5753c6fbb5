"""The album film's options in three groups: what to repaint, what to play, how to cut (nb 06).

    make_album(photos, "film.mp4", Paint(style="wave"), Play(seed=3), Cut(ken_burns=True))

Each group is a small frozen dataclass whose fields are checked when it is made (a ValueError
naming the field), so a mistake shows before any work; the defaults are the command line's.
Change one field of a group with `dataclasses.replace(cut, fps=24)`.
"""

import math
import numbers
import os
from dataclasses import dataclass

import numpy as np

from albumlib.film.canvas import FITS, canvas_size
from albumlib.film.capture import ORDERS
from albumlib.film.encode import CODECS
from albumlib.film.frames import TRANSITIONS
from albumlib.film.kenburns import KEN_BURNS_ZOOM
from albumlib.film.soundtrack import LOUDNESS

DEFAULT_STYLE = "starry_night"
DEFAULT_MAX_SIDE = 720          # long side the photos are repainted at (pixels)
NO_STYLE = "none"               # a style (or music) of "none": the photos as they are (silence)
NO_MUSIC = "none"
MAX_FPS = 240
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                "slower", "veryslow", "placebo")


def _number(owner, name, value, *, low=None, high=None, low_open=False, whole=False):
    """`value` checked as a finite number within [low, high] ((low, high] with low_open)."""
    ok = (isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
          and math.isfinite(value) and (not whole or int(value) == value)
          and (low is None or (value > low if low_open else value >= low))
          and (high is None or value <= high))
    if not ok:
        kind = "a whole number" if whole else "a number"
        bounds = ("" if low is None else f" {'>' if low_open else '>='} {low:g}") + \
                 ("" if high is None else f"{' and' if low is not None else ''} <= {high:g}")
        raise ValueError(f"{owner}.{name} must be {kind}{bounds}, got {value!r}")


def _flag(owner, name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{owner}.{name} must be True or False, got {value!r}")


def _choice(owner, name, value, choices):
    if value not in choices:
        raise ValueError(f"{owner}.{name} must be one of {', '.join(map(repr, choices))}, "
                         f"got {value!r}")


def _is_none_word(value):
    return isinstance(value, str) and value.strip().lower() == NO_STYLE


@dataclass(frozen=True)
class Paint:
    """What the photos are repainted with: style(s), size, strength and colours (phase 1)."""

    # a bundled network's name, a .npz/.keras file (or "file:style" mix), a Keras model, "none"
    # (the photos as they are), or a list of these given to the photos in turn
    style: object = DEFAULT_STYLE
    max_side: int | None = DEFAULT_MAX_SIDE     # repaint at most this long side (None: full size)
    strength: float = 1.0                       # 1: fully repainted, 0: the photo
    preserve_color: bool = False                # keep the photo's colours

    def __post_init__(self):
        style = NO_STYLE if self.style is None else self.style
        if not isinstance(style, (str, os.PathLike)) and not callable(style):
            try:
                style = tuple(style)
            except TypeError:
                raise ValueError(f"Paint.style must be a style name, a file, a model, 'none' "
                                 f"or a list of these, got {style!r}") from None
            if not style:
                raise ValueError("Paint.style: give at least one style name or path (or "
                                 "'none')")
            for entry in style:
                if not isinstance(entry, (str, os.PathLike)) and not callable(entry):
                    raise ValueError(f"Paint.style: {entry!r} is neither a style name, a file "
                                     f"nor a model")
        object.__setattr__(self, "style", style)
        if self.max_side is not None:
            _number("Paint", "max_side", self.max_side, low=1, whole=True)
            object.__setattr__(self, "max_side", int(self.max_side))
        _number("Paint", "strength", self.strength, low=0, high=1)
        _flag("Paint", "preserve_color", self.preserve_color)

    @property
    def repaints(self):
        """Whether any photo is repainted (a style other than "none": TensorFlow is needed)."""
        entries = self.style if isinstance(self.style, tuple) else (self.style,)
        return any(not _is_none_word(s) for s in entries)


@dataclass(frozen=True)
class Play:
    """What plays: a music file, "none" (silence), or a music model that composes (phase 2)."""

    music: object = None            # a music file, or "none" for a silent film
    model: object = None            # a music model folder, or "notes" / "report" (default: notes)
    seed: int = 0                   # the composition (or first sample piece) and Ken Burns moves
    temperature: float = 0.8        # note models: higher is bolder, lower is safer
    loudness: object = "rms"        # "rms", "loudnorm" (ffmpeg EBU R128) or None (as it is)
    fade_seconds: float = 1.0       # fade in at the start, out where the music ends

    def __post_init__(self):
        if self.music is not None and self.model is not None:
            raise ValueError("Play: give either music (a track) or model (a music model that "
                             "composes), not both")
        if self.music is not None and not isinstance(self.music, (str, os.PathLike)):
            raise ValueError(f"Play.music must be a music file or 'none', got {self.music!r}")
        if self.music is not None and not str(self.music).strip():
            raise ValueError("Play.music: the file name is empty (give a file or 'none')")
        _number("Play", "seed", self.seed, whole=True)
        object.__setattr__(self, "seed", int(self.seed))
        _number("Play", "temperature", self.temperature, low=0, low_open=True)
        _number("Play", "fade_seconds", self.fade_seconds, low=0)
        loudness = self.loudness
        if isinstance(loudness, bool):          # True: "rms", False: as it is
            loudness = "rms" if loudness else None
        _choice("Play", "loudness", loudness, (*LOUDNESS, None))
        object.__setattr__(self, "loudness", loudness)

    @property
    def silent(self):
        """Whether the film has no music (music="none")."""
        return _is_none_word(self.music)


@dataclass(frozen=True)
class Cut:
    """How the film is cut and encoded: slots, transitions, moves, frame, codec, order (phase 3)."""

    seconds_per_photo: float = 1.0  # each photo's slot
    transition: str = "crossfade"   # "crossfade", "none" (a cut) or "morph" (style morphs too)
    transition_seconds: float = 0.3     # each crossfade, centred on its cut
    ken_burns: bool = False         # a slow zoom and pan over each photo
    zoom: float = KEN_BURNS_ZOOM    # Ken Burns' closest zoom
    beat_sync: bool = False         # cuts moved to the music's nearest onsets
    fit_to_audio: bool = False      # the music's length shared by the photos (a music file)
    fit: str = "letterbox"          # photos of another shape: "letterbox" (bars) or "blur"
    size: object = "720p"           # "480p", "720p", "1080p", "portrait", "square", "WxH", (w, h)
    fps: float = 30
    codec: str = "auto"             # "auto" (H.264, else VP9), "libx264", "libopenh264", ...
    crf: int = 20                   # x264 quality: lower is better (18-23 usual)
    preset: str = "veryfast"        # x264 speed preset
    order: str = "time"             # make_album's photos by capture time or by "name"

    def __post_init__(self):
        _number("Cut", "seconds_per_photo", self.seconds_per_photo, low=0, low_open=True)
        _choice("Cut", "transition", self.transition, TRANSITIONS)
        _number("Cut", "transition_seconds", self.transition_seconds, low=0)
        for name in ("ken_burns", "beat_sync", "fit_to_audio"):
            _flag("Cut", name, getattr(self, name))
        _number("Cut", "zoom", self.zoom, low=1)
        _choice("Cut", "fit", self.fit, FITS)
        if isinstance(self.size, list):
            object.__setattr__(self, "size", tuple(self.size))
        try:
            canvas_size(self.size)
        except ValueError as err:
            raise ValueError(f"Cut.size: {err}") from None
        _number("Cut", "fps", self.fps, low=0, low_open=True, high=MAX_FPS)
        _choice("Cut", "codec", self.codec, ("auto", *CODECS))
        _number("Cut", "crf", self.crf, low=0, high=51, whole=True)
        object.__setattr__(self, "crf", int(self.crf))
        _choice("Cut", "preset", self.preset, X264_PRESETS)
        _choice("Cut", "order", self.order, ORDERS)

    @property
    def frame_size(self):
        """(width, height) of the frames."""
        return canvas_size(self.size)
