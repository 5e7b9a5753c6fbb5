"""Tests of albumlib.film.capture: capture times from EXIF or the file, and photos in that order."""

import os
from datetime import datetime

import pytest
from PIL import Image

from albumlib import images
from albumlib.film import capture
from albumlib.film.capture import Taken, capture_time, dated, order_photos

ORIGINAL, DIGITIZED, SUBSEC_ORIGINAL, SUBSEC_DIGITIZED, EXIF_IFD = (
    0x9003, 0x9004, 0x9291, 0x9292, 0x8769)
DATETIME = 0x0132
MTIME = datetime(2021, 3, 4, 5, 6, 7)


def photo(path, original=None, digitized=None, main=None, subsec=None, fmt=None, mtime=MTIME):
    """Write a small photo with the given EXIF dates (None: tag left out) and file time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    if main is not None:
        exif[DATETIME] = main
    sub = exif.get_ifd(EXIF_IFD)
    for tag, value in [(ORIGINAL, original), (DIGITIZED, digitized), (SUBSEC_ORIGINAL, subsec)]:
        if value is not None:
            sub[tag] = value
    im = Image.new("RGB", (16, 12), (200, 30, 30))
    if fmt == "HEIF":
        import pillow_heif     # a dependency of albumlib: a missing reader fails this test
        pillow_heif.register_heif_opener()
    options = {"exif": exif.tobytes()} if len(exif) or len(sub) else {}
    im.save(path, format=fmt, **options)
    if mtime is not None:
        os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


# --- capture_time -------------------------------------------------------------------------------

def test_sources_in_order(tmp_path):
    full = photo(tmp_path / "a.jpg", original="2024:07:01 14:05:06",
                 digitized="2024:07:02 00:00:00", main="2024:07:03 00:00:00")
    assert capture_time(full) == Taken(datetime(2024, 7, 1, 14, 5, 6), "DateTimeOriginal")
    scanned = photo(tmp_path / "b.jpg", digitized="2019:01:02 03:04:05",
                    main="2020:01:01 00:00:00")
    assert capture_time(scanned) == Taken(datetime(2019, 1, 2, 3, 4, 5), "DateTimeDigitized")
    edited = photo(tmp_path / "c.jpg", main="2018:12:31 23:59:59")
    assert capture_time(edited) == Taken(datetime(2018, 12, 31, 23, 59, 59), "DateTime")
    bare = photo(tmp_path / "d.jpg")
    assert capture_time(bare) == Taken(MTIME, "file time")


@pytest.mark.parametrize("bad", ["0000:00:00 00:00:00", "", "    :  :     :  :  ",
                                 "2024:13:01 10:00:00", "2024:02:30 10:00:00",
                                 "2024:07:01 25:00:00", "1000:01:01 00:00:00", "yesterday"])
def test_placeholder_and_broken_dates_fall_through(tmp_path, bad):
    p = photo(tmp_path / "a.jpg", original=bad, digitized=bad, main="2022:05:06 07:08:09")
    assert capture_time(p) == Taken(datetime(2022, 5, 6, 7, 8, 9), "DateTime")
    q = photo(tmp_path / "b.jpg", original=bad)
    assert capture_time(q) == Taken(MTIME, "file time")


def test_subseconds_offsets_and_bytes():
    assert capture.parse_exif_time("2024:07:01 14:05:06", "25") == datetime(2024, 7, 1, 14, 5, 6,
                                                                          250000)
    assert capture.parse_exif_time(b"2024:07:01 14:05:06\0", b"007\0") == datetime(
        2024, 7, 1, 14, 5, 6, 7000)
    # the offset is ignored: the camera's wall-clock time is what counts
    assert capture.parse_exif_time("2024:07:01 14:05:06+02:00") == datetime(2024, 7, 1, 14, 5, 6)
    assert capture.parse_exif_time("2024:07:01 14:05:06", "x1") == datetime(2024, 7, 1, 14, 5, 6)
    assert capture.parse_exif_time(None) is None and capture.parse_exif_time(17) is None


def test_burst_keeps_its_order_by_subseconds(tmp_path):
    late = photo(tmp_path / "IMG_1.jpg", original="2024:07:01 14:05:06", subsec="80")
    early = photo(tmp_path / "IMG_2.jpg", original="2024:07:01 14:05:06", subsec="15")
    assert capture_time(early).time == datetime(2024, 7, 1, 14, 5, 6, 150000)
    assert order_photos([late, early]) == [early, late]
    assert order_photos([late, early], order="name") == [late, early]


@pytest.mark.parametrize("ext,fmt", [(".jpg", "JPEG"), (".png", "PNG"), (".webp", "WEBP"),
                                     (".tif", "TIFF"), (".heic", "HEIF")])
def test_pixels_are_not_decoded(tmp_path, monkeypatch, ext, fmt):
    p = photo(tmp_path / f"a{ext}", original="2023:08:09 10:11:12", fmt=fmt)
    q = photo(tmp_path / f"b{ext}", fmt=fmt)            # no EXIF at all

    def refuse(self):
        pytest.fail(f"decoded the pixels of {self.format}")

    with Image.open(p) as im:
        for klass in type(im).__mro__:
            if "load" in vars(klass):
                monkeypatch.setattr(klass, "load", refuse)
    assert capture_time(p).source == "DateTimeOriginal"
    assert capture_time(q).source == "file time"


@pytest.mark.parametrize("ext,fmt", [(".png", "PNG"), (".webp", "WEBP"), (".tif", "TIFF"),
                                     (".heic", "HEIF")])
def test_other_formats(tmp_path, ext, fmt):
    p = photo(tmp_path / f"a{ext}", original="2023:08:09 10:11:12", fmt=fmt)
    assert capture_time(p) == Taken(datetime(2023, 8, 9, 10, 11, 12), "DateTimeOriginal")
    q = photo(tmp_path / f"b{ext}", main="2023:08:09 10:11:13", fmt=fmt)
    assert capture_time(q) == Taken(datetime(2023, 8, 9, 10, 11, 13), "DateTime")


def test_unreadable_and_missing_files(tmp_path):
    junk = tmp_path / "junk.jpg"
    junk.write_text("not a photo")
    os.utime(junk, (MTIME.timestamp(), MTIME.timestamp()))
    assert capture_time(junk) == Taken(MTIME, "file time")
    empty = tmp_path / "empty.heic"
    empty.write_bytes(b"")
    assert capture_time(empty).source == "file time"
    assert capture_time(tmp_path / "missing.jpg") == Taken(None, "none")


def test_taken_is_frozen():
    with pytest.raises(AttributeError):
        Taken(None, "none").time = MTIME


# --- order_photos and dated ---------------------------------------------------------------------

@pytest.fixture
def two_devices(tmp_path):
    """A phone (IMG_4711..) and a camera (IMG_8..) whose photos interleave in time."""
    return {
        "phone_a": photo(tmp_path / "IMG_4711.jpg", original="2024:07:01 09:00:00"),
        "cam_a": photo(tmp_path / "IMG_8.jpg", original="2024:07:01 10:00:00"),
        # three taken in the same second, without sub-seconds: natural name order decides
        "phone_b": photo(tmp_path / "IMG_4712.jpg", original="2024:07:01 11:00:00"),
        "cam_c": photo(tmp_path / "IMG_10.jpg", original="2024:07:01 11:00:00"),
        "cam_b": photo(tmp_path / "IMG_9.jpg", original="2024:07:01 11:00:00"),
        "nested": photo(tmp_path / "day2" / "IMG_1.jpg", original="2024:07:02 08:00:00"),
        "scan": photo(tmp_path / "scan.png", mtime=datetime(2024, 7, 1, 10, 30)),
    }


def test_order_by_time_differs_from_name_order(two_devices):
    d = two_devices
    files = images.list_album(d["cam_a"].parent, recursive=True)
    assert order_photos(files, order="name") == files   # today's order, unchanged
    assert [p.relative_to(d["cam_a"].parent).as_posix() for p in files] == [
        "day2/IMG_1.jpg", "IMG_8.jpg", "IMG_9.jpg", "IMG_10.jpg", "IMG_4711.jpg", "IMG_4712.jpg",
        "scan.png"]
    by_time = order_photos(files)
    assert by_time == [d["phone_a"], d["cam_a"], d["scan"], d["cam_b"], d["cam_c"], d["phone_b"],
                       d["nested"]]
    assert order_photos(reversed(files)) == by_time      # input order does not matter
    assert order_photos([str(p) for p in files]) == by_time
    assert order_photos(reversed(files), order="name") == files


def test_dated_pairs_and_undated_last(two_devices, tmp_path):
    d = two_devices
    pairs = dated([d["nested"], d["scan"], tmp_path / "gone_b.jpg", tmp_path / "gone_a.jpg"])
    assert [p for p, _ in pairs] == [d["scan"], d["nested"], tmp_path / "gone_a.jpg",
                                     tmp_path / "gone_b.jpg"]
    assert [t.source for _, t in pairs] == ["file time", "DateTimeOriginal", "none", "none"]


def test_bad_order_is_named():
    assert capture.ORDERS == ("time", "name")
    with pytest.raises(ValueError, match="'date'"):
        order_photos([], order="date")
    assert order_photos([]) == []
