"""Ken Burns moves, and one frame of the film rendered from its photos' canvases (notebook 06).

Sections 5 and 6 of the notebook. A frame shows one photo's canvas, or two of them mixed with the
timeline's crossfade weights. With Ken Burns the crop window moves linearly in frame time (corners,
size, centre), and each frame is resampled bilinearly with subpixel accuracy from a supersampled
canvas: no whole-pixel rounding, so no shake (ffmpeg's zoompan rounds to pixels).
"""

import numpy as np

from albumlib.dsp import round_half_up

KEN_BURNS_ZOOM = 1.15       # zoom at the close end of a Ken Burns move


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
    """Frame i of the film as uint8 (height, width, 3); notebook 06.

    `canvases` maps photo index -> its uint8 canvas (`layout_photo`; with Ken Burns laid out
    larger, e.g. `supersample(size, zoom)`, for detail when zoomed in).
    """
    parts = timeline.sources(i)
    if not ken_burns and len(parts) == 1:
        return canvases[parts[0][0]]
    layers = []
    for k, _ in parts:
        if ken_burns:
            window = ken_burns_window(k, timeline.progress(k, i), size, zoom=zoom, seed=seed)
            layers.append(warp_window(canvases[k], window, size))
        else:
            layers.append(canvases[k].astype(np.float32))
    return blend(layers, [w for _, w in parts])


def blend(layers, weights):
    """A frame: the sum of weight x layer (float32 images, used up: changed in place), rounded
    half up to uint8; notebook 06."""
    out = layers[0]
    for k, (layer, weight) in enumerate(zip(layers, weights)):
        if weight != 1.0:
            layer *= np.float32(weight)
        if k:
            out += layer
    out += np.float32(0.5)  # round half up (values are >= 0)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


def supersample(size, zoom=KEN_BURNS_ZOOM):
    """Canvas size to lay photos out at for Ken Burns: the frame size times the zoom, even."""
    width, height = (int(v) for v in size)
    return 2 * round_half_up(width * zoom / 2), 2 * round_half_up(height * zoom / 2)
