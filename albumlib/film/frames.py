"""The film's frames, one at a time, from photos loaded when their turn comes (notebook 06).

Sections 3 to 6 of the notebook (morphs: notebook 02). Frames are rendered one at a time, so memory
stays bounded whatever the album size: at most two photos (the current and the next) are held, each
as one canvas (`albumlib.film.canvas`). A frame where one photo is alone on screen without Ken
Burns is that photo's canvas itself; a crossfade mixes the two canvases with the timeline's weights
(`albumlib.film.timeline`); Ken Burns resamples a moving window of each (`albumlib.film.kenburns`);
a morph shows both photos repainted at the style mix nearest to the crossfade's weight.
"""

import warnings
from pathlib import Path

import numpy as np

from albumlib.film.canvas import layout_photo, letterbox_file
from albumlib.film.kenburns import KEN_BURNS_ZOOM, render_frame, supersample
from albumlib.images import (ImageError, SkippedImageWarning, as_image_array, list_album,
                             load_image, open_checked)

TRANSITIONS = ("crossfade", "none", "morph")    # morph: crossfade while the style morphs
MORPH_LEVELS = 4            # style mixes a morph passes through (each repaints both photos)


def _describe(item, k):
    return str(item) if isinstance(item, (str, Path)) else f"photo {k} (array)"


def check_photos(photos):
    """Readable photos of a folder or a list of paths/arrays; warns SkippedImageWarning for others.

    Paths are only opened (header read), not decoded, so this is quick for large albums; a file
    whose data turns out corrupt when it is decoded later is skipped then (the film keeps its
    length: the previous photo stays on screen). Raises ImageError when none is usable.
    """
    return usable_photos(photos)[0]


def usable_photos(photos):
    """(usable photos, number given): see `check_photos`; notebook 06."""
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
                      f"screen instead)", SkippedImageWarning, stacklevel=5)
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
