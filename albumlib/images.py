"""Reading and writing photos: float32 RGB arrays in [0, 1], (height, width, 3).

Every function here leaves its inputs alone: files are only opened for reading, arrays are never
written in place, and `save_image` refuses to replace an existing file unless asked to.
"""

import os
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from . import fileio

# Extensions that `list_album` treats as photos. HEIC/HEIF (iPhone photos) are read through
# pillow-heif, registered below; where it is missing they are skipped with a warning that says what
# to install. AVIF loads where Pillow can read it.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".bmp", ".gif",
                    ".tif", ".tiff", ".heic", ".heif", ".avif")
SAVE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}

# Pillow decoders that may open a photo. Restricting them keeps, for example, a PostScript file
# renamed to .jpg from being handed to Ghostscript.
_PHOTO_FORMATS = ("JPEG", "MPO", "PNG", "WEBP", "BMP", "DIB", "GIF", "TIFF", "AVIF", "HEIF")
RESAMPLE = Image.Resampling.LANCZOS
HEIF_EXTENSIONS = (".heic", ".heif")


def _register_heif():
    """Register pillow-heif's HEIC/HEIF opener with Pillow; False if pillow-heif is missing."""
    try:
        import pillow_heif
    except ImportError:
        return False
    # libheif turns the picture upright while decoding (the `irot`/`imir` boxes, which cameras
    # write to match the EXIF orientation) and pillow-heif then sets the EXIF orientation to 1, so
    # that nothing turns it a second time.
    pillow_heif.register_heif_opener()
    return True


HEIF_READER = _register_heif()


class ImageError(ValueError):
    """A file that cannot be used as a photo; the message names file and problem; notebook 01."""

    def __init__(self, path, problem):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class SkippedImageWarning(UserWarning):
    """Warned by `load_album` for each file it skips, with the reason; notebook 01."""


# ---------------------------------------------------------------------------------------------
# Array helpers
# ---------------------------------------------------------------------------------------------

def as_image_array(array):
    """Return `array` as a numpy array of shape (H, W), (H, W, 1|3|4); drops a batch axis of 1."""
    a = np.asarray(array)
    if a.ndim == 4 and a.shape[0] == 1:
        a = a[0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (1, 3, 4)):
        raise ValueError(f"expected an image of shape (H, W), (H, W, 3) or (H, W, 4), "
                         f"got shape {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"image has no pixels (shape {a.shape})")
    return a


def to_float32(array):
    """Return a float32 copy in [0, 1] (uint8 / 255, uint16 / 65535, clipped); notebook 01."""
    a = as_image_array(array)
    if a.dtype == np.uint8:
        return a.astype(np.float32) / np.float32(255)
    if a.dtype == np.uint16:
        return a.astype(np.float32) / np.float32(65535)
    if a.dtype == bool:
        return a.astype(np.float32)
    if not np.issubdtype(a.dtype, np.floating):
        raise ValueError(f"expected a float, uint8 or uint16 image, got dtype {a.dtype}")
    return np.clip(np.nan_to_num(a.astype(np.float32), nan=0.0), 0.0, 1.0)


def to_uint8(array):
    """Return a uint8 copy of an image (floats clipped to [0, 1], then rounded); notebook 01."""
    a = as_image_array(array)
    if a.dtype == np.uint8:
        return a.copy()
    f = to_float32(a)
    return np.rint(f * 255).astype(np.uint8)


def _float_channels_to_pil(a):
    """Split a float (H, W, C) array into Pillow mode-F images, one per channel."""
    return [Image.fromarray(np.ascontiguousarray(a[..., c], dtype=np.float32), mode="F")
            for c in range(a.shape[-1])]


def resize_to(array, width, height):
    """Return a float32 copy resized to exactly width x height (antialiased); notebook 01."""
    a = to_float32(array)
    width, height = int(width), int(height)
    if width < 1 or height < 1:
        raise ValueError(f"target size must be at least 1x1, got {width}x{height}")
    if a.shape[1] == width and a.shape[0] == height:
        return a
    squeeze = a.ndim == 2
    if squeeze:
        a = a[..., None]
    channels = [np.asarray(ch.resize((width, height), RESAMPLE))
                for ch in _float_channels_to_pil(a)]
    out = np.clip(np.stack(channels, axis=-1), 0.0, 1.0).astype(np.float32)
    return out[..., 0] if squeeze else out


def _fit_max_side(width, height, max_side, upscale=False):
    """Return the (width, height) whose long side is `max_side`, keeping the aspect ratio."""
    long_side = max(width, height)
    if max_side is None or (long_side <= max_side and not upscale):
        return width, height
    scale = max_side / long_side
    return max(1, round(width * scale)), max(1, round(height * scale))


def resize_max_side(array, max_side, upscale=False):
    """Return a float32 copy whose long side is at most `max_side` (aspect kept); notebook 01."""
    if max_side is not None and int(max_side) < 1:
        raise ValueError(f"max_side must be a positive number of pixels, got {max_side!r}")
    a = to_float32(array)
    width, height = _fit_max_side(a.shape[1], a.shape[0], max_side, upscale)
    return resize_to(a, width, height)


def center_crop(array, width, height):
    """Return a copy of the central width x height region (no resizing); notebook 02."""
    a = as_image_array(array)
    h, w = a.shape[:2]
    if not (1 <= width <= w and 1 <= height <= h):
        raise ValueError(f"cannot crop {width}x{height} from an image of {w}x{h}")
    top, left = (h - height) // 2, (w - width) // 2
    return a[top:top + height, left:left + width].copy()


def center_crop_square(array, size=None):
    """Return the largest central square, resized to size x size if given (float32); notebook 02."""
    a = as_image_array(array)
    side = min(a.shape[:2])
    square = to_float32(center_crop(a, side, side))
    return square if size is None else resize_to(square, size, size)


def fit_to_frame(array, width, height, mode="pad", fill=0.0):
    """Return a width x height float32 frame, letterboxed or cropped to fill; notebook 06."""
    a = to_float32(array)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=-1)
    h, w = a.shape[:2]
    if mode == "crop":
        scale = max(width / w, height / h)
        scaled = resize_to(a, max(width, round(w * scale)), max(height, round(h * scale)))
        return center_crop(scaled, width, height)
    if mode != "pad":
        raise ValueError(f"mode must be 'pad' or 'crop', got {mode!r}")
    scale = min(width / w, height / h)
    new_w, new_h = min(width, max(1, round(w * scale))), min(height, max(1, round(h * scale)))
    frame = np.empty((height, width, a.shape[-1]), dtype=np.float32)
    frame[...] = np.asarray(fill, dtype=np.float32)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    frame[top:top + new_h, left:left + new_w] = resize_to(a, new_w, new_h)
    return frame


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def _photo_formats():
    """The photo decoders this Pillow has (HEIF only once pillow-heif has registered it)."""
    Image.init()
    return [f for f in _PHOTO_FORMATS if f in Image.OPEN]


def open_checked(path):
    """Open `path` read-only with Pillow's photo decoders, or raise ImageError saying why not."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise ImageError(path, "is a folder, not an image file")
    if path.stat().st_size == 0:
        raise ImageError(path, "empty file (0 bytes)")
    try:
        return Image.open(path, formats=_photo_formats())  # opens the file in "rb" mode
    except Image.DecompressionBombError as e:
        raise ImageError(path, f"too many pixels to load safely ({e})") from e
    except Image.UnidentifiedImageError as e:
        if path.suffix.lower() in HEIF_EXTENSIONS and not HEIF_READER:
            raise ImageError(path, "a HEIC/HEIF photo, and its reader pillow-heif is not "
                                   "installed: `pip install pillow-heif` (or export it as JPEG)"
                             ) from e
        raise ImageError(path, "not an image, or a format Pillow cannot read") from e
    except OSError as e:
        raise ImageError(path, f"cannot be read: {e}") from e


def _gray_high_bit_to_unit(im, path):
    """Return a float32 (H, W) array in [0, 1] for 16-bit, 32-bit integer and float grey modes."""
    a = np.asarray(im)
    if im.mode.startswith("I;16"):
        return a.astype(np.float32) / np.float32(65535)
    if im.mode == "I":
        # Pillow gives 16-bit PNGs and TIFFs this mode in some versions: values 0..65535.
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, 0)
        if lo >= 0 and hi <= 65535:
            return a.astype(np.float32) / np.float32(65535)
        warnings.warn(f"{path}: 32-bit integer image with values {lo}..{hi}; stretched to [0, 1]",
                      UserWarning, stacklevel=4)
        return ((a.astype(np.float64) - lo) / max(hi - lo, 1)).astype(np.float32)
    # mode "F": a float image; take [0, 1] as is, else the smallest usual white level that fits.
    a = np.nan_to_num(a.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    hi = float(a.max()) if a.size else 0.0
    white = next((w for w in (1.0, 255.0, 65535.0) if hi <= w), hi)
    return np.clip(a / np.float32(white), 0.0, 1.0)


def _to_rgb(im, path):
    """Return a Pillow RGB image (8-bit) or a float32 (H, W, 3) array for high-bit-depth modes."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        if "transparency" in im.info:
            warnings.warn(f"{path}: transparency of a {mode} image ignored", UserWarning,
                          stacklevel=5)
        gray = _gray_high_bit_to_unit(im, path)
        return np.repeat(gray[..., None], 3, axis=-1)
    has_alpha = mode in ("LA", "La", "PA", "RGBA", "RGBa") or (
        mode in ("P", "L", "RGB") and "transparency" in im.info)  # palette / colour-key alpha
    try:
        if has_alpha:
            rgba = im.convert("RGBA")
            white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            return Image.alpha_composite(white, rgba).convert("RGB")
        if mode == "RGB":
            return im
        return im.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV, RGBX ...
    except (ValueError, OSError) as e:
        raise ImageError(path, f"unsupported image mode {mode!r} ({e})") from e


def as_rgb(image, max_side=None, what="image"):
    """A path, or a grey, RGB or RGBA array -> float32 RGB in [0, 1], long side <= max_side.

    The one alpha policy of albumlib: transparent pixels are composited on white, for arrays as
    for files (load_image); grey becomes three equal channels. Notebook 01.
    """
    if isinstance(image, (str, os.PathLike)):
        return load_image(image, max_side=max_side)
    a = np.asarray(image)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 3, 4):
        raise ValueError(f"{what}: expected an image of shape (H, W), (H, W, 3) or (H, W, 4), "
                         f"got {a.shape}")
    a = to_float32(a)
    if a.shape[-1] == 1:
        a = np.repeat(a, 3, axis=-1)
    elif a.shape[-1] == 4:
        alpha = a[..., 3:]
        a = a[..., :3] * alpha + (1.0 - alpha)
    return resize_max_side(a, max_side) if max_side else a


def load_image(path, max_side=None, upscale=False):
    """Read a photo as float32 RGB (H, W, 3) in [0, 1], upright, long side <= max_side; notebook 01.

    Transparent areas are composited on white; 16-bit images are scaled by 65535; GIFs and
    multi-page TIFFs give their first frame; HEIC/HEIF photos are read through pillow-heif.
    Raises ImageError (a ValueError) naming the file for empty, truncated, corrupt or non-image
    files, and FileNotFoundError if it does not exist.
    """
    rgb = decode_upright(path, max_side)
    if isinstance(rgb, np.ndarray):
        return resize_max_side(rgb, max_side, upscale)
    size = _fit_max_side(*rgb.size, max_side, upscale)
    if size != rgb.size:
        rgb = rgb.resize(size, RESAMPLE)
    return np.asarray(rgb, dtype=np.float32) / np.float32(255)


def decode_upright(path, max_side=None):
    """A photo file decoded and turned upright: a Pillow RGB image (8-bit sources) or a float32
    array (high bit depth); JPEGs decoded at a reduced scale that still leaves >= max_side."""
    path = Path(path)
    if max_side is not None and int(max_side) < 1:
        raise ValueError(f"max_side must be a positive number of pixels, got {max_side!r}")
    with open_checked(path) as im:
        try:
            if max_side is not None and im.format == "JPEG":
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still leaves >= max_side.
                im.draft(None, _fit_max_side(*im.size, max_side))
            im.load()  # Pillow reads lazily: force the decode so truncation is caught here
        except Image.DecompressionBombError as e:
            raise ImageError(path, f"too many pixels to load safely ({e})") from e
        except (OSError, SyntaxError, ValueError, EOFError, IndexError) as e:
            problem = "truncated file" if "truncat" in str(e).lower() else "corrupt image data"
            raise ImageError(path, f"{problem} ({type(e).__name__}: {e})") from e
        rgb = _to_rgb(_upright(im, path), path)
        if not isinstance(rgb, np.ndarray):
            rgb.load()  # detached from the file, which closes here
    return rgb


def _upright(im, path):
    """The image turned as its EXIF orientation says; HEIF comes upright from libheif already."""
    if im.format == "HEIF":  # irot/imir applied while decoding; the EXIF tag is informative only
        return im
    try:
        return ImageOps.exif_transpose(im)
    except Exception as e:  # a malformed EXIF block should not lose the photo
        warnings.warn(f"{path}: EXIF orientation ignored ({e})", UserWarning, stacklevel=4)
        return im


def natural_key(path):
    """Sort key that puts IMG_2 before IMG_10 (case-insensitive, folder by folder)."""
    return [[int(t) if t.isdigit() else t for t in re.split(r"(\d+)", part.lower())]
            for part in path.parts]


def list_album(folder, recursive=False):
    """Return the photo files of `folder` by extension, in name order, no hidden; notebook 01.

    Natural order: IMG_2.jpg comes before IMG_10.jpg. Sub-folders only with `recursive=True`.
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: album folder does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: is not a folder")
    found = folder.rglob("*") if recursive else folder.iterdir()
    photos = []
    for p in found:
        rel = p.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file():
            photos.append(p)
    return sorted(photos, key=lambda p: natural_key(p.relative_to(folder)))


def iter_album(folder, max_side=None, limit=None, recursive=False, progress=None):
    """Yield (path, image) for each readable photo, skipping the rest with a warning; notebook 01.

    `limit` counts loaded photos (None or 0: all). `progress` shows a tqdm bar (default: albums of
    more than 10 files).
    """
    from tqdm.auto import tqdm

    paths = list_album(folder, recursive=recursive)
    if progress is None:
        progress = len(paths) > 10
    loaded = 0
    with tqdm(paths, desc="loading photos", unit="photo", disable=not progress) as bar:
        for path in bar:
            if limit and loaded >= limit:
                break
            try:
                image = load_image(path, max_side=max_side)
            except (ImageError, OSError) as e:
                problem = e.problem if isinstance(e, ImageError) else str(e)
                warnings.warn(f"skipping {path}: {problem}", SkippedImageWarning, stacklevel=2)
                continue
            loaded += 1
            yield path, image


def load_album(folder, max_side=None, limit=None, recursive=False, progress=None):
    """Return [(path, image), ...] for the readable photos of a folder; notebook 01.

    Raises FileNotFoundError if the folder does not exist and ImageError if it holds no readable
    photo. Pass `max_side` for large albums: a 12-megapixel photo takes 144 MB as float32.
    """
    photos = list(iter_album(folder, max_side=max_side, limit=limit, recursive=recursive,
                             progress=progress))
    if not photos:
        n = len(list_album(folder, recursive=recursive))
        problem = (f"none of its {n} candidate files could be read (see the warnings above)" if n
                   else f"no photo files found (looked for {', '.join(IMAGE_EXTENSIONS)})")
        raise ImageError(folder, problem)
    return photos


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def save_image(array, path, quality=95, overwrite=False):
    """Write an image (float [0, 1] or uint8) to .jpg/.png/.webp whole or not at all; notebook 01.

    Refuses to replace an existing file unless `overwrite=True` (use `fileio.unique_path(path)` for
    a fresh name). JPEG has no alpha: RGBA arrays are composited on white there. Returns the path.
    """
    path = Path(path)
    fmt = SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"{path}: cannot save as {path.suffix!r}; use one of "
                         f"{', '.join(SAVE_FORMATS)}")
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"quality must be between 1 and 100, got {quality!r}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists; pass overwrite=True to replace it, or "
                              f"save to albumlib.fileio.unique_path(path) instead")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder")
    a = to_uint8(array)
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    im = Image.fromarray(a)  # mode L, RGB or RGBA from the shape
    if fmt == "JPEG" and im.mode == "RGBA":
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, im).convert("RGB")
    options = {"PNG": {}, "JPEG": {"quality": int(quality), "optimize": True},
               "WEBP": {"quality": int(quality)}}[fmt]
    with fileio.atomic_path(path) as tmp:
        im.save(tmp, format=fmt, **options)
    return path
