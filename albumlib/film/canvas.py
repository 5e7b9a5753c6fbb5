"""The canvas: the film's frame size, and each photo laid out on it (notebook 06, section 3).

Every frame has the same size, the canvas (a preset such as "720p", or "WxH", both even for
yuv420p). A photo of another shape is fitted whole: on black bars ("letterbox") or on a blurred,
darkened copy of itself ("blur"). `letterbox_file` does the letterbox in 8 bits straight from a
file, the fast path of the film's photos.
"""

import re

import numpy as np

from albumlib import images
from albumlib.images import as_rgb, fit_to_frame, resize_to

PRESETS = {
    "480p": (854, 480),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "portrait": (720, 1280),
    "square": (1080, 1080),
}
FITS = ("letterbox", "blur")


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


def letterbox_rect(w, h, width, height):
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
    left, top, new_w, new_h = letterbox_rect(a.shape[1], a.shape[0], width, height)
    canvas[top:top + new_h, left:left + new_w] = resize_to(a, new_w, new_h)
    return _to_u8(canvas)


def _to_u8(a):
    """A float image in [0, 1] as uint8, rounded to the nearest level."""
    return np.rint(np.clip(a, 0.0, 1.0) * 255).astype(np.uint8)


def letterbox_file(path, size):
    """A photo file letterboxed on a width x height canvas: uint8 (height, width, 3); notebook 06.

    What `layout_photo(load_image(path), size)` gives, in 8 bits throughout: decoded (JPEGs at a
    reduced scale where that still covers the canvas), resized once (Lanczos) and placed on
    black, about five times faster than through float32 images (benchmarks/bench_video.py).
    """
    width, height = (int(v) for v in size)
    rgb = images.decode_upright(path, max_side=max(width, height))
    if isinstance(rgb, np.ndarray):  # high bit depth: the float32 path
        return layout_photo(rgb, size)
    left, top, new_w, new_h = letterbox_rect(rgb.width, rgb.height, width, height)
    if (new_w, new_h) != rgb.size:
        rgb = rgb.resize((new_w, new_h), images.RESAMPLE)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    canvas[top:top + new_h, left:left + new_w] = np.asarray(rgb)
    return canvas
