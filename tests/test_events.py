"""Tests of albumlib.film.events: photos split into events, their labels and film names."""

import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from albumlib.film import events
from albumlib.film.capture import Taken, dated
from albumlib.film.events import Event, drop_small, event_label, film_names, split_events

T0 = datetime(2024, 7, 1, 14, 5)


def at(path, when):
    """A (path, Taken) pair as capture.dated gives them."""
    return Path(path), Taken(when, "DateTimeOriginal" if when else "none")


def trip():
    """Paris on day 1 (with a lunch pause), a late photo, Rome on day 2, two undated scans."""
    return [at("Paris trip/a.jpg", T0),
            at("Paris trip/b.jpg", T0 + timedelta(hours=2)),
            at("Paris trip/c.jpg", T0 + timedelta(hours=10)),            # 8 h after b: no split
            at("Rome/d.jpg", T0 + timedelta(hours=18, seconds=1)),       # 8 h 1 s after c: split
            at("Rome/e.jpg", T0 + timedelta(hours=19)),
            at("scans/old2.jpg", None),
            at("scans/old10.jpg", None)]


def test_split_at_gaps_longer_than_gap_hours():
    found = split_events(trip())
    assert [[p.name for p in e.photos] for e in found] == [["a.jpg", "b.jpg", "c.jpg"],
                                                           ["d.jpg", "e.jpg"],
                                                           ["old2.jpg", "old10.jpg"]]
    assert (found[0].start, found[0].end) == (T0, T0 + timedelta(hours=10))
    assert (found[1].start, found[1].end) == (T0 + timedelta(hours=18, seconds=1),
                                              T0 + timedelta(hours=19))
    assert (found[2].start, found[2].end, found[2].undated) == (None, None, True)
    assert not found[0].undated
    assert events.DEFAULT_GAP_HOURS == 8.0


def test_gap_hours_changes_the_cuts():
    assert len(split_events(trip(), gap_hours=1.5)) == 5     # a | b | c | d e | undated
    assert [len(e.photos) for e in split_events(trip(), gap_hours=1.5)] == [1, 1, 1, 2, 2]
    assert [len(e.photos) for e in split_events(trip(), gap_hours=24)] == [5, 2]
    exact = [at("x/1.jpg", T0), at("x/2.jpg", T0 + timedelta(minutes=90))]
    assert len(split_events(exact, gap_hours=1.5)) == 1      # exactly the gap: same event
    assert len(split_events(exact, gap_hours=1.49)) == 2


def test_split_puts_pairs_in_capture_order_first():
    shuffled = list(reversed(trip()))
    assert split_events(shuffled) == split_events(trip())


def test_split_edge_cases():
    assert split_events([]) == []
    only_undated = split_events([at("a/1.jpg", None)])
    assert only_undated == [Event([Path("a/1.jpg")], None, None)]
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="gap_hours"):
            split_events(trip(), gap_hours=bad)


def test_event_label():
    assert event_label(Event([Path("x/Rome/1.jpg"), Path("y/Paris/2.jpg"),
                              Path("z/Paris/3.jpg")], T0, T0)) == "Paris"
    tie = Event([Path("Rome/1.jpg"), Path("Paris/2.jpg"), Path("Paris/3.jpg"),
                 Path("Rome/4.jpg")], T0, T0)
    assert event_label(tie) == "Rome"                        # ties: first in capture order
    assert event_label(Event([Path("1.jpg")], T0, T0)) == "photos"
    assert event_label(Event([Path("../1.jpg")], T0, T0)) == "photos"
    odd = Event([Path("/album") / 'a:b*c?"d<e>f|g\th\x07i\u202ej' / "1.jpg"], T0, T0)
    assert event_label(odd) == "a b c d e f g h i j"
    assert event_label(Event([Path("x" * 80 + "/1.jpg")], T0, T0)) == "x" * 60
    assert event_label(Event([Path("Bali 2019 .../1.jpg")], T0, T0)) == "Bali 2019"


def test_film_names_sort_in_event_order():
    found = split_events(trip())
    names = film_names(found)
    assert names == ["2024-07-01 14.05 Paris trip.mp4", "2024-07-02 08.05 Rome.mp4",
                     "undated scans.mp4"]
    assert sorted(names) == names
    assert film_names(found, suffix=".mkv")[0] == "2024-07-01 14.05 Paris trip.mkv"


def test_film_names_unique_and_ordered_within_a_minute():
    # events a minute or a second apart, with labels that sort the other way round
    close = [at("Zoo/1.jpg", T0), at("Aquarium/2.jpg", T0 + timedelta(seconds=20)),
             at("Museum/3.jpg", T0 + timedelta(seconds=20, microseconds=500)),
             at("Beach/4.jpg", T0 + timedelta(minutes=1)),
             at("Beach/5.jpg", T0 + timedelta(minutes=2))]
    found = split_events(close, gap_hours=1e-7)              # 0.36 ms
    assert len(found) == 5
    names = film_names(found)
    assert names == ["2024-07-01 14.05.00 Zoo.mp4", "2024-07-01 14.05.20.000000 Aquarium.mp4",
                     "2024-07-01 14.05.20.000500 Museum.mp4", "2024-07-01 14.06 Beach.mp4",
                     "2024-07-01 14.07 Beach.mp4"]
    assert sorted(names) == names and len(set(names)) == 5


def test_film_names_made_unique():
    same = [Event([Path("Home/1.jpg")], None, None), Event([Path("home/2.jpg")], None, None),
            Event([Path("Home/3.jpg")], None, None)]
    assert film_names(same) == ["undated Home.mp4", "undated home (2).mp4",
                                "undated Home (3).mp4"]
    twice = [Event([Path("Rome/1.jpg")], T0, T0), Event([Path("Rome/2.jpg")], T0, T0)]
    assert film_names(twice) == ["2024-07-01 14.05.00.000000 Rome.mp4",
                                 "2024-07-01 14.05.00.000000 Rome (2).mp4"]


def test_drop_small():
    found = split_events(trip())
    kept, dropped = drop_small(found, 3)
    assert kept == [found[0]] and dropped == [found[1], found[2]]
    assert drop_small(found, 0) == (found, []) and drop_small(found, 1) == (found, [])
    assert drop_small(found, 4) == ([], found)
    for bad in (-1, 2.5):
        with pytest.raises(ValueError, match="min_photos"):
            drop_small(found, bad)


def test_from_files_on_disk(tmp_path):
    """capture.dated on real files, then split: EXIF dates, file times and nested folders."""
    def jpeg(rel, when=None, mtime=None):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        exif = Image.Exif()
        if when:
            exif.get_ifd(0x8769)[0x9003] = when
        Image.new("RGB", (8, 8)).save(path, exif=exif.tobytes())
        if mtime:
            os.utime(path, (mtime.timestamp(),) * 2)
        return path

    a = jpeg("2024/Paris/IMG_4711.jpg", "2024:07:01 10:00:00")
    b = jpeg("2024/camera/IMG_12.jpg", "2024:07:01 12:00:00")
    c = jpeg("2024/Paris/IMG_4712.jpg", "2024:07:01 13:00:00")
    d = jpeg("later/Lyon/x.jpg", mtime=datetime(2024, 7, 5, 9, 0))
    found = split_events(dated([d, c, b, a]))
    assert [e.photos for e in found] == [[a, b, c], [d]]
    assert film_names(found) == ["2024-07-01 10.00 Paris.mp4", "2024-07-05 09.00 Lyon.mp4"]
