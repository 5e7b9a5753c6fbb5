"""When each photo was taken, and the photos in the order they were taken; notebook 06.

A photo's capture time comes from the first of these that holds a real date:

1. EXIF DateTimeOriginal (the shutter press; with SubSecTimeOriginal, so that a burst keeps its
   order),
2. EXIF DateTimeDigitized (when it was scanned or stored; with SubSecTimeDigitized),
3. EXIF DateTime in the main image directory (when the file was last edited, by camera or app),
4. the file's modification time ("file time"), which a copy or a download may have changed.

The EXIF block is read without decoding any pixels, from JPEG, HEIC/HEIF, PNG, WebP and TIFF
files. Placeholder dates ("0000:00:00 00:00:00"), blanks and impossible dates are skipped, and the
next source is tried. Times are naive local wall-clock times, as cameras store them: a time-zone
offset (EXIF OffsetTime*) is ignored, so photos from two cameras set to different zones do not
line up, and a camera clock that was never set gives its wrong time.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image

from .. import images

ORDERS = ("time", "name")
FIRST_YEAR = 1826          # the first photograph: an earlier date is a placeholder, not a time
EXIF_IFD = 0x8769          # the Exif sub-directory, where the capture dates live
# (source, directory (None: the main one), date tag, sub-second tag in the Exif directory)
EXIF_DATES = (("DateTimeOriginal", EXIF_IFD, 0x9003, 0x9291),
              ("DateTimeDigitized", EXIF_IFD, 0x9004, 0x9292),
              ("DateTime", None, 0x0132, 0x9290))
_DATE = re.compile(r"\s*(\d{4})[:\-/.](\d{1,2})[:\-/.](\d{1,2})[ T]+(\d{1,2}):(\d{2}):(\d{2})")


@dataclass(frozen=True)
class Taken:
    """A photo's capture time (naive local time, or None) and its source word; notebook 06."""

    time: datetime | None
    source: str


def parse_exif_time(value, subsec=None):
    """An EXIF date ("2024:07:01 14:05:06") plus sub-seconds as a datetime, or None; notebook 06."""
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    match = _DATE.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    try:
        when = datetime(*(int(g) for g in match.groups()))
    except ValueError:     # 0000:00:00, month 13, hour 25 ...
        return None
    if when.year < FIRST_YEAR:
        return None
    if isinstance(subsec, bytes):
        subsec = subsec.decode("ascii", "replace")
    digits = subsec.strip(" \0") if isinstance(subsec, str) else ""
    if digits.isascii() and digits.isdigit():
        when = when.replace(microsecond=int(digits[:6].ljust(6, "0")))
    return when


def _exif_of(im):
    """The Image.Exif of an open image, without decoding its pixels."""
    if im.format != "PNG":
        return im.getexif()
    exif = Image.Exif()  # PNG's getexif() would decode a file that has no eXIf chunk
    if im.info.get("exif"):
        exif.load(im.info["exif"])
    return exif


def _table(exif, ifd):
    """One directory of an Image.Exif (the main one for None); empty if it cannot be read."""
    try:
        return exif.get_ifd(ifd) if ifd else exif
    except Exception:  # noqa: BLE001 - a malformed EXIF block fails in many ways
        return {}


def exif_time(exif):
    """The first real date of EXIF_DATES in an Image.Exif, as a Taken, or None; notebook 06."""
    sub = _table(exif, EXIF_IFD)
    for source, ifd, tag, subsec_tag in EXIF_DATES:
        try:
            when = parse_exif_time(_table(exif, ifd).get(tag), sub.get(subsec_tag))
        except Exception:  # noqa: BLE001 - a value that cannot be read: try the next source
            when = None
        if when is not None:
            return Taken(when, source)
    return None


def exif_taken(path):
    """A photo file's EXIF capture time as a Taken, or None; pixels are not decoded; notebook 06."""
    try:
        with images.open_checked(Path(path)) as im:
            return exif_time(_exif_of(im))  # TIFF reads its Exif directory from the open file
    except Exception:  # noqa: BLE001 - unreadable, not a photo, or a broken EXIF block
        return None


def file_time(path):
    """The modification time as Taken(time, "file time"), or Taken(None, "none"); notebook 06."""
    try:
        return Taken(datetime.fromtimestamp(Path(path).stat().st_mtime), "file time")
    except (OSError, ValueError, OverflowError):
        return Taken(None, "none")


def capture_time(path):
    """When a photo was taken: EXIF dates, else the file time (see the module); notebook 06."""
    taken = exif_taken(path)
    return taken if taken is not None else file_time(path)


def capture_key(item):
    """Sort key of a (path, Taken) pair: dated first, by time, ties by natural name; notebook 06."""
    path, taken = item
    return (taken.time is None, taken.time or datetime.min, images.natural_key(Path(path)))


def dated(files):
    """[(path, Taken), ...] of the files in capture order (undated last, by name); notebook 06."""
    return sorted(((Path(f), capture_time(f)) for f in files), key=capture_key)


def order_photos(files, order="time"):
    """The files as Paths, in capture order ("time") or natural name order ("name"); notebook 06.

    "time": by capture time (see the module for where it comes from); photos taken at the same
    moment in natural file-name order (IMG_2 before IMG_10); photos with no time at all last, in
    name order. "name": natural name order alone, as images.list_album sorts. Both are stable.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(map(repr, ORDERS))}, got {order!r}")
    if order == "name":
        return sorted((Path(f) for f in files), key=images.natural_key)
    return [path for path, _ in dated(files)]
