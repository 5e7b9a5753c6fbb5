"""Tests of make-films (albumlib.film.films, titles, the CLI) and make-album's capture order.

A small library: nested folders, two "devices" (IMG_47xx and DSC_1x) whose photos interleave in
time, JPEG and HEIC files, EXIF times that make three events, one unreadable file. Each photo is
a flat colour of its own, so that a film's frames say which photo is on screen.
"""

import dataclasses
import os
import subprocess
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from albumlib import cli, ffmpeg, images
from albumlib.film import album, films, titles
from albumlib.film.events import Event
from albumlib.film.options import Cut, Paint, Play

SIZE = (64, 36)
FPS = 4
SECONDS = 0.5                       # 2 frames a photo
CUT = Cut(size=SIZE, fps=FPS, seconds_per_photo=SECONDS, transition="none")
NONE, SILENT = Paint(style="none"), Play(music="none")
SMALL = ["--style", "none", "--music", "none", "--size", "64x36", "--fps", str(FPS),
         "--seconds-per-photo", str(SECONDS), "--transition", "none", "--no-progress"]
EXIF_IFD, ORIGINAL = 0x8769, 0x9003
# (folder, name, capture time, colour): Paris interleaves the two devices; Phone is exactly
# min_photos (3) photos; misc is a tiny event of one photo.
LIBRARY = [
    ("2024/Paris", "IMG_4711.jpg", "2024:07:01 10:00:00", (230, 30, 30)),
    ("2024/Paris", "DSC_12.jpg", "2024:07:01 10:05:00", (30, 200, 30)),
    ("2024/Paris", "IMG_4712.heic", "2024:07:01 10:10:00", (30, 30, 230)),
    ("2024/Paris", "DSC_13.jpg", "2024:07:01 10:20:00", (230, 230, 30)),
    ("2024/Phone", "IMG_4713.jpg", "2024:07:03 09:00:00", (230, 30, 230)),
    ("2024/Phone/deeper", "DSC_14.heic", "2024:07:03 09:30:00", (30, 230, 230)),
    ("2024/Phone", "IMG_4714.jpg", "2024:07:03 10:00:00", (240, 240, 240)),
    ("misc", "IMG_5000.jpg", "2024:07:10 12:00:00", (120, 60, 0)),
]
PARIS = ["IMG_4711.jpg", "DSC_12.jpg", "IMG_4712.heic", "DSC_13.jpg"]       # capture order
PHONE = ["IMG_4713.jpg", "DSC_14.heic", "IMG_4714.jpg"]
NAMES = ["2024-07-01 10.00 Paris.mp4", "2024-07-03 09.00 Phone.mp4"]
TINY = "2024-07-10 12.00 misc.mp4"


def save_photo(path, colour, when):
    """A flat-colour photo (JPEG or HEIC by its suffix) with EXIF DateTimeOriginal `when`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    exif = Image.Exif()
    exif.get_ifd(EXIF_IFD)[ORIGINAL] = when
    image = Image.new("RGB", (48, 32), colour)
    if path.suffix == ".heic":
        import pillow_heif     # a dependency of albumlib: a missing reader fails these tests
        pillow_heif.register_heif_opener()
        image.save(path, format="HEIF", exif=exif.tobytes(), quality=90)
    else:
        image.save(path, exif=exif.tobytes(), quality=95)
    os.utime(path, (1_600_000_000, 1_600_000_000))        # file times that say nothing
    return path


@pytest.fixture
def library(tmp_path):
    root = tmp_path / "my photos ü"
    for folder, name, when, colour in LIBRARY:
        save_photo(root / folder / name, colour, when)
    (root / "2024" / "Paris" / "broken 'x'.jpg").write_bytes(b"\xff\xd8 not a photo")
    return root


def colours_on_screen(path, n_slots):
    """The colour in the middle of the frame at the middle of each slot of a film."""
    cmd = [ffmpeg.ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(Path(path).absolute()),
           "-vf", f"fps={FPS}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]  # as players show it
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, SIZE[1], SIZE[0], 3)
    per_slot = round(SECONDS * FPS)
    assert len(frames) == n_slots * per_slot
    return [tuple(int(v) for v in frames[k * per_slot + per_slot // 2, SIZE[1] // 2, SIZE[0] // 2])
            for k in range(n_slots)]


def photo_names(colours):
    """The library's photo of each colour (the nearest one: H.264 shifts colours a little)."""
    table = np.array([c for *_, c in LIBRARY], float)
    return [LIBRARY[int(np.argmin(np.abs(table - np.array(c)).sum(1)))][1] for c in colours]


# --- make_films ---------------------------------------------------------------------------------

def test_one_film_per_event_in_capture_order(library, tmp_path, capsys):
    out = tmp_path / "films"
    with pytest.warns(images.SkippedImageWarning, match="broken 'x'.jpg"):
        summary = films.make_films(library, out, NONE, SILENT, CUT, progress=False)
    assert [f.name for f in summary.films] == NAMES                        # sorted by date
    assert sorted(p.name for p in out.iterdir()) == NAMES                   # nothing else
    assert [f.photos for f in summary.films] == [4, 3]
    assert [f.duration for f in summary.films] == [4 * SECONDS, 3 * SECONDS]
    assert summary.films[0].start == datetime(2024, 7, 1, 10, 0)
    assert photo_names(colours_on_screen(out / NAMES[0], 4)) == PARIS      # not name order
    assert photo_names(colours_on_screen(out / NAMES[1], 3)) == PHONE      # HEIC, sub-folder
    assert [(e.name, e.photos) for e in summary.small] == [(TINY, 1)]
    assert summary.failed == [] and summary.ok
    assert [p.name for p, _ in summary.unreadable] == ["broken 'x'.jpg"]
    text = summary.text()
    assert "made 2 film(s)" in text and f"{NAMES[0]}  4 photo(s), 2.0 s" in text
    assert "skipped 1 event(s) with too few photos" in text and TINY in text
    assert "broken 'x'.jpg" in text
    said = capsys.readouterr().out
    assert f"skipping {TINY}: 1 photo(s), fewer than 3" in said and "film 2/2" in said


def test_each_event_composes_with_its_own_seed(library, tmp_path, monkeypatch):
    seen = []
    real = album.make_album

    def spy(photos, out_path, paint, play, cut, **kw):
        seen.append((Path(out_path).name, play.seed, [Path(p).name for p in photos]))
        return real(photos, out_path, paint, dataclasses.replace(play, music="none"), cut, **kw)

    monkeypatch.setattr(album, "make_album", spy)
    with pytest.warns(images.SkippedImageWarning):
        films.make_films(library, tmp_path / "f", NONE, Play(seed=5), CUT, min_photos=1,
                         progress=False, verbose=False)
    assert [(name, seed) for name, seed, _ in seen] == [(NAMES[0], 5), (NAMES[1], 6), (TINY, 7)]
    assert seen[0][2] == PARIS


def test_a_failing_event_does_not_stop_the_others(library, tmp_path, monkeypatch):
    out = tmp_path / "films"
    out.mkdir()
    (out / NAMES[0]).write_bytes(b"my own film")                    # never replaced
    with pytest.warns(images.SkippedImageWarning):
        summary = films.make_films(library, out, NONE, SILENT, CUT, progress=False,
                                   verbose=False)
    assert (out / NAMES[0]).read_bytes() == b"my own film"
    assert [f.name for f in summary.films] == [NAMES[1]] and not summary.ok
    assert [(e.name, e.photos) for e in summary.failed] == [(NAMES[0], 4)]
    reason = summary.failed[0].reason
    assert "already exists" in reason and "--overwrite" in reason
    # an unexpected error in one event: the next ones are still made
    real = album.make_album

    def broken_first(photos, out_path, *args, **kw):
        if Path(out_path).name == NAMES[0]:
            raise RuntimeError("disk on fire\nmore")
        return real(photos, out_path, *args, **kw)

    monkeypatch.setattr(album, "make_album", broken_first)
    with pytest.warns(images.SkippedImageWarning):
        summary = films.make_films(library, tmp_path / "again", NONE, SILENT, CUT,
                                   progress=False, verbose=False)
    assert [f.name for f in summary.films] == [NAMES[1]]
    assert [e.reason for e in summary.failed] == ["RuntimeError: disk on fire"]


def test_titles_add_one_slot_with_the_event_s_date(library, tmp_path):
    with pytest.warns(images.SkippedImageWarning):
        summary = films.make_films(library, tmp_path / "t", NONE, SILENT, CUT, titles=True,
                                   gap_hours=1000, min_photos=1, progress=False, verbose=False)
    (film,) = summary.films                                 # one event: all eight photos
    assert film.name == "2024-07-01 10.00 Paris.mp4"        # the folder of most of its photos
    assert film.photos == 8 and film.duration == 9 * SECONDS
    assert film.title == "1-10 July 2024\nParis"
    shown = colours_on_screen(film.path, 9)
    assert max(abs(a - b) for a, b in zip(shown[0], titles.BACKGROUND)) < 12   # the card
    assert photo_names(shown[1:3]) == PARIS[:2]


def test_bad_library_and_options(tmp_path):
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    with pytest.raises(images.ImageError, match="no photo files"):
        films.make_films(empty, tmp_path / "o", NONE, SILENT, CUT)
    with pytest.raises(FileNotFoundError):
        films.make_films(tmp_path / "nowhere", tmp_path / "o", NONE, SILENT, CUT)
    with pytest.raises(ValueError, match="gap_hours"):
        films.make_films(empty, tmp_path / "o", NONE, SILENT, CUT, gap_hours=0)
    with pytest.raises(ValueError, match="min_photos"):
        films.make_films(empty, tmp_path / "o", NONE, SILENT, CUT, min_photos=-1)
    with pytest.raises(TypeError, match="cut must be"):
        films.make_films(empty, tmp_path / "o", NONE, SILENT, "fast")


def test_title_texts():
    d = datetime
    assert titles.date_text(d(2024, 7, 6, 10), d(2024, 7, 6, 22)) == "6 July 2024"
    assert titles.date_text(d(2024, 7, 6), d(2024, 7, 8)) == "6-8 July 2024"
    assert titles.date_text(d(2024, 6, 30), d(2024, 7, 2)) == "30 June - 2 July 2024"
    assert titles.date_text(d(2024, 12, 30), d(2025, 1, 2)) == \
        "30 December 2024 - 2 January 2025"
    assert titles.date_text(None) == "undated"
    event = Event([Path("x/Paris/a.jpg"), Path("y/Paris/b.jpg")], d(2024, 7, 6), d(2024, 7, 6))
    assert titles.event_title(event) == "6 July 2024\nParis"
    card = titles.title_card("6 July 2024\n" + "a very long label " * 8, "160x90")
    assert card.shape == (90, 160, 3) and card.dtype == np.uint8
    assert tuple(card[0, 0]) == titles.BACKGROUND and card.max() > 200       # text drawn


# --- the command line ---------------------------------------------------------------------------

def test_make_films_command_summary_and_exit_codes(library, tmp_path, capsys):
    out = tmp_path / "films"
    with pytest.warns(images.SkippedImageWarning, match="broken 'x'.jpg"):
        assert cli.main(["make-films", str(library), "-o", str(out), "--titles"] + SMALL) == 0
    said = capsys.readouterr().out
    assert "made 2 film(s)" in said and f"{NAMES[0]}  4 photo(s), 2.5 s" in said
    assert f"skipped 1 event(s) with too few photos:\n  {TINY}  1 photo(s)" in said
    assert sorted(p.name for p in out.iterdir()) == NAMES
    # again: the films exist, both events fail (exit 1), nothing is replaced
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    with pytest.warns(images.SkippedImageWarning):
        assert cli.main(["make-films", str(library), "-o", str(out)] + SMALL) == 1
    captured = capsys.readouterr()
    assert "failed 2 event(s)" in captured.out and "already exists" in captured.out
    assert "error: 2 event(s) failed" in captured.err
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    with pytest.warns(images.SkippedImageWarning):
        assert cli.main(["make-films", str(library), "-o", str(out), "--overwrite",
                         "--min-photos", "1", "--gap", "30"] + SMALL) == 0
    assert "2024-07-10 12.00 misc.mp4" in capsys.readouterr().out
    with pytest.warns(images.SkippedImageWarning):
        with pytest.raises(SystemExit, match="no film made.*--min-photos"):
            cli.main(["make-films", str(library), "-o", str(tmp_path / "x"), "--min-photos",
                      "9"] + SMALL)
    with pytest.raises(SystemExit, match="error: .*nowhere"):
        cli.main(["make-films", str(tmp_path / "nowhere"), "-o", str(out)] + SMALL)
    for bad in (["--gap", "0"], ["--min-photos", "-1"], ["--order", "size"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(["make-films", str(library), "-o", str(out)] + bad)
        assert exc.value.code == 2


def test_make_album_orders_photos_by_capture_time_or_name(library, tmp_path):
    paris = library / "2024" / "Paris"
    (paris / "broken 'x'.jpg").unlink()
    for order, expected in (("time", PARIS), ("name", sorted(PARIS, key=lambda n: n.lower()))):
        out = tmp_path / f"{order}.mp4"
        assert cli.main(["make-album", str(paris), "-o", str(out), "--order", order]
                        + SMALL) == 0
        assert photo_names(colours_on_screen(out, 4)) == expected


def test_make_films_expands_the_home_folder(library, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(library.parent))
    with pytest.warns(images.SkippedImageWarning, match="broken"):
        planned = films.plan_events(f"~/{library.name}")
    assert planned and all(p.is_file() for event, _ in planned for p in event.photos)
