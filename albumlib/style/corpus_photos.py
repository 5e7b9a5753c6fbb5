"""Corpus photos: decode, check, shrink, encode; recognise copies of album and hold-out photos."""

import io
import itertools
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps

from .. import paths
from .corpus_sources import (CROP_MARGINS, MAX_SIDE, MIN_SIDE, QUALITY, SIGNATURE_SIDE,
                             CorpusWarning)

_BASE_SIDE = 128
_REFINE_FROM = 0.6                    # coarse crop matches this good are refined in finer steps


# ---------------------------------------------------------------------------------------------
# Photos: decode, check, shrink, encode; recognising copies of the album and hold-out photos
# ---------------------------------------------------------------------------------------------

class Rejected(ValueError):
    """A candidate that is no usable photo (too small, not an 8-bit photo, damaged); says why."""


def _to_srgb(im):
    """Convert an RGB image tagged with a non-sRGB ICC profile to sRGB (others as they are)."""
    icc = im.info.get("icc_profile")
    if not icc:
        return im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(src).lower():
            return im
        return ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im   # an unreadable profile: keep the pixels as they are


# 8-bit photo modes (grey photos are kept, as RGB); bilevel, 16-bit and float images are not.
_PHOTO_MODES = {"RGB", "RGBA", "RGBX", "RGBa", "P", "PA", "CMYK", "YCbCr", "L", "LA"}


def output_size(width, height):
    """The written size: long side <= MAX_SIDE, short side kept >= MIN_SIDE, never enlarged."""
    scale = min(1.0, MAX_SIDE / max(width, height))
    scale = min(1.0, max(scale, MIN_SIDE / min(width, height)))
    return max(1, round(width * scale)), max(1, round(height * scale))


_ROTATIONS = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
              270: Image.Transpose.ROTATE_90}      # degrees clockwise -> Pillow's transpose


def prepare_photo(data, rotate=0):
    """Decode photo bytes and return (JPEG bytes, original (w, h), new (w, h), RGB image).

    `rotate`: 0, 90, 180 or 270 degrees clockwise, applied after the EXIF orientation.
    Raises Rejected when the photo is damaged, not an 8-bit photo (a bilevel, 16-bit or float
    image), or its short side is under MIN_SIDE. Grey photos are kept, as RGB.
    """
    try:
        im = Image.open(io.BytesIO(data))
        original, icc = im.size, im.info.get("icc_profile")
        if min(original) < MIN_SIDE:
            raise Rejected(f"too small ({original[0]}x{original[1]}; short side < {MIN_SIDE} px)")
        if im.mode not in _PHOTO_MODES:
            raise Rejected(f"not an 8-bit photo (mode {im.mode})")
        target = output_size(*original)
        if im.format == "JPEG":
            im.draft("RGB", target)       # decode at 1/2, 1/4 or 1/8 scale when that is enough
        im.load()
        im = ImageOps.exif_transpose(im)
        if rotate:
            im = im.transpose(_ROTATIONS[rotate])
    except Rejected:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as e:
        raise Rejected(f"cannot be decoded ({type(e).__name__}: {e})") from None
    if im.mode in ("RGBA", "PA", "RGBa", "LA") or (
            im.mode in ("P", "L") and "transparency" in im.info):
        rgba = im.convert("RGBA")       # transparent areas on white
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    rgb = im if im.mode == "RGB" else im.convert("RGB")
    if icc and im.mode in ("RGB", "RGBA"):
        rgb.info["icc_profile"] = icc
        rgb = _to_srgb(rgb)
    size = output_size(*rgb.size)       # the decoded size: after draft and EXIF rotation
    if rgb.size != size:
        rgb = rgb.resize(size, Image.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue(), original, rgb.size, rgb


def _grey_base(image):
    """The picture as a 128x128 grey float image (aspect ignored), the base of its signatures."""
    return image.convert("L").resize((_BASE_SIDE, _BASE_SIDE), Image.BOX).convert("F")


def _signature(base, margins):
    """Unit-length, zero-mean gradient magnitudes (32x32) of `base` less `margins` (l, t, r, b)."""
    n = _BASE_SIDE
    l, t, r, b = margins
    box = (l * n, t * n, n - r * n, n - b * n)
    a = np.asarray(base.resize((SIGNATURE_SIDE, SIGNATURE_SIDE), Image.BILINEAR, box=box),
                   np.float32)
    gy, gx = np.gradient(a)
    g = np.hypot(gx, gy).ravel()
    g -= g.mean()
    return g / (np.linalg.norm(g) + 1e-6)


_MARGINS = [(0.0,) * 4] + [m for m in itertools.product(CROP_MARGINS, repeat=4) if any(m)]


class PhotoPrint:
    """A picture's grey base and its signatures over crops, to recognise copies of it.

    `signatures[k]`: (len(_MARGINS), 1024) for orientation k (0: as it is, 1: mirrored, with
    `mirror`), the whole picture first, then every crop taking 0-15% off each side in 5% steps.
    """

    def __init__(self, image, mirror=False):
        if isinstance(image, (str, Path)):
            with Image.open(image) as im:
                image = ImageOps.exif_transpose(im).convert("RGB")
        self.bases = [_grey_base(image)] + ([_grey_base(ImageOps.mirror(image))] if mirror
                                            else [])
        self.signatures = [np.stack([_signature(b, m) for m in _MARGINS]) for b in self.bases]

    @property
    def whole(self):
        """The signature of the whole picture as it is."""
        return self.signatures[0][0]


def _refine(base, margins, target, score):
    """Hill-climb the crop `margins` of `base` towards `target`; return the best score found."""
    margins = list(margins)
    for step in (0.025, 0.0125):
        improved = True
        while improved:
            improved = False
            for side, sign in itertools.product(range(4), (-1, 1)):
                trial = list(margins)
                trial[side] = min(max(trial[side] + sign * step, 0.0), CROP_MARGINS[-1] + 0.05)
                if trial == margins:
                    continue
                trial_score = float(_signature(base, trial) @ target)
                if trial_score > score + 1e-4:
                    margins, score, improved = trial, trial_score, True
    return score


def similarity(candidate, reference):
    """How alike two PhotoPrints are, tolerating crops of up to about 20% a side (1.0: the same).

    The best correlation of either whole picture with the other's crops, over the reference's
    orientations; crops that already match well (>= 0.6) are refined in finer steps.
    """
    best = -1.0
    for base, signatures in zip(reference.bases, reference.signatures):
        for crop_base, crops, whole in ((base, signatures, candidate.whole),
                                        (candidate.bases[0], candidate.signatures[0],
                                         signatures[0])):
            scores = crops @ whole
            k = int(scores.argmax())
            score = float(scores[k])
            if _REFINE_FROM <= score < 0.999:
                score = _refine(crop_base, _MARGINS[k], whole, score)
            best = max(best, score)
    return best


def protected_folders():
    """The folders whose photos must never be trained on: the sample album and the hold-out set."""
    return [paths.data_path("album"), paths.data_path("holdout")]


def protected_prints(folders=None):
    """Return [(label, PhotoPrint)] of the photos in `folders` (default: album and hold-out)."""
    from ..images import list_album

    found = []
    for folder in protected_folders() if folders is None else folders:
        folder = Path(folder)
        if not folder.is_dir():
            warnings.warn(f"{folder}: not found; its photos cannot be kept out of the corpus",
                          CorpusWarning, stacklevel=2)
            continue
        for photo in list_album(folder):
            found.append((f"{folder.name}/{photo.name}", PhotoPrint(photo, mirror=True)))
    return found


def nearest(references, candidate):
    """Return (similarity, label) of the most alike of `references` [(label, PhotoPrint)]."""
    best = (None, None)
    for label, reference in references:
        score = similarity(candidate, reference)
        if best[0] is None or score > best[0]:
            best = (score, label)
    return best
