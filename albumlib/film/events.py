"""An album split into events (a day out, a trip, a party), one film each; notebook 06.

Photos in capture order (capture.dated) are cut wherever two consecutive photos are more than
`gap_hours` apart. The default, DEFAULT_GAP_HOURS = 8: a night's sleep separates two days' photos;
a longer pause inside a day starts a new event. Photos with no time at all form one last,
"undated" event. Each event is named after the folder most of its photos come from, and its film
after its start: "2024-07-01 14.05 Paris trip.mp4", so that the films sort in event order.
"""

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from . import capture

DEFAULT_GAP_HOURS = 8.0
MAX_LABEL = 60
# Characters a file name cannot hold on some system (path separators, Windows' reserved ones).
_UNSAFE = re.compile(r'[/\\:*?"<>|]')
# Film-name time stamps, each finer one used only where a coarser one would name two events alike.
_STAMPS = ("%Y-%m-%d %H.%M", "%Y-%m-%d %H.%M.%S", "%Y-%m-%d %H.%M.%S.%f")


@dataclass
class Event:
    """Photos (paths, in capture order) and their first and last capture times; notebook 06."""

    photos: list
    start: datetime | None
    end: datetime | None

    @property
    def undated(self):
        """True for the event of the photos with no capture time."""
        return self.start is None


def split_events(dated, gap_hours=DEFAULT_GAP_HOURS):
    """Events of [(path, Taken), ...]: a new one after each pause > gap_hours; notebook 06.

    A pause of exactly `gap_hours` does not split. The pairs are put in capture order first
    (capture.capture_key); photos with no time form one last event with start = end = None.
    """
    if not gap_hours > 0:
        raise ValueError(f"gap_hours must be a positive number of hours, got {gap_hours!r}")
    gap_seconds = float(gap_hours) * 3600.0
    events, undated = [], []
    for path, taken in sorted(dated, key=capture.capture_key):
        when = taken.time
        if when is None:
            undated.append(path)
        elif events and (when - events[-1].end).total_seconds() <= gap_seconds:
            events[-1].photos.append(path)
            events[-1].end = when
        else:
            events.append(Event([path], when, when))
    if undated:
        events.append(Event(undated, None, None))
    return events


def clean_name(text, limit=MAX_LABEL):
    """`text` made safe inside a file name: no separators or control characters; notebook 06."""
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in str(text))
    text = " ".join(_UNSAFE.sub(" ", text).split())
    return text[:limit].strip(" .")


def event_label(event):
    """The most common parent-folder name of an event's photos, cleaned, or "photos"; notebook 06.

    Ties go to the folder that comes first in capture order; at most MAX_LABEL characters.
    """
    folders = [Path(p).parent.name for p in event.photos]
    counts = Counter(folders)
    best = max(counts, key=lambda name: (counts[name], -folders.index(name)), default="")
    return clean_name(best) or "photos"


def _stamp(start, others):
    """The coarsest of _STAMPS that tells `start` from every other event's start."""
    for fmt in _STAMPS[:-1]:
        text = start.strftime(fmt)
        if sum(o.strftime(fmt) == text for o in others) == 1:   # `others` holds `start` too
            return text
    return start.strftime(_STAMPS[-1])


def film_names(events, suffix=".mp4"):
    """One file name per event, "2024-07-01 14.05 Paris trip.mp4", in event order; notebook 06.

    Dated events are named after their start, to the minute (to the second, or microsecond, only
    where two events would share a name), so that the names sort as the events do; an undated
    event is "undated <label>.mp4". Names made alike otherwise get " (2)", " (3)" ...
    """
    starts = [e.start for e in events if e.start is not None]
    names, taken = [], set()
    for event in events:
        label = event_label(event)
        when = "undated" if event.start is None else _stamp(event.start, starts)
        stem = f"{when} {label}"
        name, n = f"{stem}{suffix}", 1
        while name.casefold() in taken:     # also unique where the file system ignores case
            n += 1
            name = f"{stem} ({n}){suffix}"
        taken.add(name.casefold())
        names.append(name)
    return names


def drop_small(events, min_photos):
    """(kept, dropped): the events with at least / fewer than `min_photos` photos; notebook 06."""
    if min_photos < 0 or int(min_photos) != min_photos:
        raise ValueError(f"min_photos must be a whole number >= 0, got {min_photos!r}")
    kept = [e for e in events if len(e.photos) >= min_photos]
    dropped = [e for e in events if len(e.photos) < min_photos]
    return kept, dropped
