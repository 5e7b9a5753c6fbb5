"""One film per event of a photo library: `make_films` (`python -m albumlib make-films`; nb 06).

The library's photos, in any depth of folders, are dated (`capture.dated`: EXIF DateTimeOriginal,
the other EXIF dates, then the file's time) and split into events wherever two photos are more
than `gap_hours` apart (`events.split_events`). Events with fewer than `min_photos` photos are
skipped (and said); each other one becomes a film made by `album.make_album` with the same
options, named by `events.film_names` ("2024-07-01 14.05 Paris.mp4": the names sort by date), its
music composed with the seed `play.seed + k` for the k-th event (so that the films differ), and
with `titles` a title card of its dates and label first. The events are made one at a time and
nothing of one is kept when the next starts, so memory stays that of one film however large the
library. An event that fails (its film exists and overwrite is False, a broken music file ...)
does not stop the others: it is reported in the summary, as are the skipped ones.
"""

import dataclasses
import tempfile
import warnings
from datetime import datetime
from pathlib import Path

from albumlib import fileio, images
from albumlib.film import album, capture, events
from albumlib.film.events import DEFAULT_GAP_HOURS
from albumlib.film.options import Cut, Paint, Play
from albumlib.film.titles import event_title

DEFAULT_MIN_PHOTOS = 3      # an event of fewer photos makes no film


@dataclasses.dataclass(frozen=True)
class Film:
    """A film made of one event: its file, first capture time, photos, length and title."""

    name: str
    path: Path
    start: datetime | None
    photos: int                 # photos in the film (the title card not counted)
    duration: float             # seconds
    title: str | None = None
    skipped: int = 0            # photos of the event that could not be decoded


@dataclasses.dataclass(frozen=True)
class SkippedEvent:
    """An event that made no film: too few photos, or failed (`reason` says which and why)."""

    name: str
    photos: int
    reason: str
    failed: bool = False


@dataclasses.dataclass
class FilmsSummary:
    """What `make_films` did: the films made, the events skipped or failed, unreadable files."""

    out_dir: Path
    films: list = dataclasses.field(default_factory=list)        # Film, in date order
    small: list = dataclasses.field(default_factory=list)        # SkippedEvent: too few photos
    failed: list = dataclasses.field(default_factory=list)       # SkippedEvent: failed
    unreadable: list = dataclasses.field(default_factory=list)   # (path, problem)

    @property
    def ok(self):
        """True when no event failed."""
        return not self.failed

    def text(self):
        """The summary in lines: films made (name, photos, length), events skipped and failed."""
        lines = [f"made {len(self.films)} film(s) in {self.out_dir}:"]
        lines += [f"  {f.name}  {f.photos} photo(s), {f.duration:.1f} s" for f in self.films]
        if self.small:
            lines.append(f"skipped {len(self.small)} event(s) with too few photos:")
            lines += [f"  {e.name}  {e.photos} photo(s)" for e in self.small]
        if self.failed:
            lines.append(f"failed {len(self.failed)} event(s):")
            lines += [f"  {e.name}  {e.photos} photo(s): {e.reason}" for e in self.failed]
        if self.unreadable:
            lines.append(f"skipped {len(self.unreadable)} unreadable file(s): "
                         f"{', '.join(str(p) for p, _ in self.unreadable)}")
        return "\n".join(lines)


def readable_photos(library, unreadable):
    """The photo files of `library` and its sub-folders whose header Pillow reads; the others
    are warned about (SkippedImageWarning) and added to `unreadable` as (path, problem)."""
    library = Path(library).expanduser()
    files = images.list_album(library, recursive=True)
    if not files:
        raise images.ImageError(library, f"no photo files found in it or its folders (looked "
                                         f"for {', '.join(images.IMAGE_EXTENSIONS)})")
    readable = []
    for path in files:
        try:
            with images.open_checked(path):
                pass
        except (images.ImageError, OSError) as err:
            problem = err.problem if isinstance(err, images.ImageError) else str(err)
            warnings.warn(f"skipping {path}: {problem}", images.SkippedImageWarning,
                          stacklevel=3)
            unreadable.append((path, problem))
            continue
        readable.append(path)
    if not readable:
        raise images.ImageError(library, f"none of its {len(files)} photo files could be read "
                                         f"(see the warnings above)")
    return readable


def plan_events(library, gap_hours=DEFAULT_GAP_HOURS, unreadable=None):
    """[(event, film name), ...] of a library in date order (see the module); notebook 06."""
    found = readable_photos(library, [] if unreadable is None else unreadable)
    split = events.split_events(capture.dated(found), gap_hours)
    return list(zip(split, events.film_names(split)))


def make_films(library, out_dir, paint=Paint(), play=Play(), cut=Cut(), *,
               gap_hours=DEFAULT_GAP_HOURS, min_photos=DEFAULT_MIN_PHOTOS, titles=False,
               overwrite=False, progress=True, verbose=True):
    """One film per event of `library` into `out_dir`; returns a `FilmsSummary`; notebook 06.

    paint, play, cut: as for `album.make_album` (the k-th event's music seed is play.seed + k;
    cut.order orders the photos inside each film). gap_hours: a pause longer than this starts a
    new event. min_photos: smaller events are skipped. titles: a title card (the event's dates
    and label) before each film's photos. overwrite: replace films of the same name (else such
    an event fails, and the others go on). Raises before any film only for what concerns them
    all: bad options, an unwritable out_dir, a library with no readable photo.
    """
    say = print if verbose else (lambda *a, **k: None)
    album.check_groups(paint, play, cut)
    if not gap_hours > 0:
        raise ValueError(f"gap_hours must be a positive number of hours, got {gap_hours!r}")
    events.drop_small([], min_photos)                 # (checks min_photos)
    out_dir = Path(out_dir).expanduser()
    fileio.check_writable(out_dir, f"the films into {out_dir}")
    fileio.check_writable(tempfile.gettempdir(), "temporary files (set TMPDIR to another folder)")
    summary = FilmsSummary(out_dir)
    planned = plan_events(library, gap_hours, summary.unreadable)
    made = [k for k, (event, _) in enumerate(planned) if len(event.photos) >= min_photos]
    for k, (event, name) in enumerate(planned):
        if k not in made:
            summary.small.append(SkippedEvent(name, len(event.photos),
                                              f"fewer than {min_photos} photos"))
            say(f"skipping {name}: {len(event.photos)} photo(s), fewer than {min_photos}")
            continue
        say(f"film {made.index(k) + 1}/{len(made)}: {name} ({len(event.photos)} photos)")
        _one_event(summary, event, name, dataclasses.replace(play, seed=play.seed + k), paint,
                   cut, titles=titles, overwrite=overwrite, progress=progress, verbose=verbose)
    return summary


def _one_event(summary, event, name, play, paint, cut, *, titles, overwrite, progress, verbose):
    """Make one event's film into summary.out_dir; its Film, or its failure, goes into summary."""
    title = event_title(event) if titles else None
    try:
        result = album.make_album(event.photos, summary.out_dir / name, paint, play, cut,
                                  title=title, overwrite=overwrite, progress=progress,
                                  verbose=verbose)
    except Exception as err:  # noqa: BLE001 - one event's failure must not stop the others
        reason = _reason(err)
        summary.failed.append(SkippedEvent(name, len(event.photos), reason, failed=True))
        if verbose:
            print(f"failed: {name}: {reason}")
        return
    summary.unreadable.extend(result.skipped)
    summary.films.append(Film(name, result.path, event.start, len(result.photos),
                              result.duration, title, len(result.skipped)))


def _reason(err):
    """One line saying why an event failed."""
    if isinstance(err, album.OutputExistsError):
        return "the film already exists; not replaced (overwrite=True, --overwrite, replaces it)"
    lines = [line for line in str(err).splitlines() if line.strip()] or ["(no message)"]
    known = (images.ImageError, OSError, ValueError)
    return lines[0] if isinstance(err, known) else f"{type(err).__name__}: {lines[0]}"
