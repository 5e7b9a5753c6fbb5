"""The album film: a folder of photos -> repainted photos + a soundtrack -> one MP4 (notebook 06).

`make_album("my photos", "album.mp4", Paint(style="wave"), Play(), Cut(ken_burns=True))` is what
`python -m albumlib make-album` runs, so that notebooks can call the same pipeline; the three
option groups are `albumlib.film.options`. The photos come in capture order (`cut.order="time"`:
EXIF DateTimeOriginal, then the other EXIF dates, then the file's time; `albumlib.film.capture`)
or in name order ("name"). Three phases, each timed:

1. **Repaint** every readable photo with a fast style network (`albumlib.film.repaint`, with
   `albumlib.style.stylize`): a bundled one ("starry_night", see `style_nets.list_bundled()`), a
   trained `.npz`/`.keras` file, several of them cycled over the photos, or "none" to keep the
   photos as they are. Photos are shrunk to `paint.max_side` first (the networks run in about a
   second a photo at 720 px on 2 CPU cores). The repainted photos stay in memory as uint8 (about
   1 MB each at 720 px), or go to `work_dir` (and, for albums of more than `IN_MEMORY_PHOTOS`
   photos, to a temporary folder) as JPEGs. Unreadable files are skipped with a
   `SkippedImageWarning` naming them; none readable is an `ImageError` naming the folder.
2. **Music**: `Play(music="song.mp3")` uses that track; otherwise a music model (`Play(model=...)`:
   a folder from train-music or report_train, or "notes" / "report"; default the bundled note
   model data/note_model) composes a little more than the film's length, streamed to a WAV
   (`albumlib.music.soundtrack`). Where no model is bundled (or it cannot be read) and none is
   given, the bundled sample pieces of data/music play instead (starting with piece `play.seed`
   and followed by the next ones while the film lasts), and a note says so: the command always
   works with nothing but photos. `Play(music="none")` makes a silent film.
3. **Film**: `assemble.make_video` lays the photos out on the canvas, after an optional title
   card (`title=`, `albumlib.film.titles`), with crossfades, optional Ken Burns moves and
   beat-synchronised cuts, and writes a verified H.264/AAC MP4 whole or not at all. An existing
   file is never replaced unless `overwrite=True` (checked before any work).

`make_demo()` is `python -m albumlib demo`: the bundled sample album, each photo in another
bundled style, the bundled music (model or sample piece), into outputs/demo/album.mp4 with a
contact sheet beside it.
"""

import dataclasses
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from albumlib import fileio, images
from albumlib.film import assemble, capture, encode, repaint, timeline, titles
from albumlib.film.options import NO_STYLE, Cut, Paint, Play

MUSIC_TAIL_SECONDS = 1.0        # composed beyond the film's end (cut and faded out by make_video)
IN_MEMORY_PHOTOS = 100          # more repainted photos than this go to a (temporary) folder
SAMPLE_GAP_SECONDS = 0.5        # silence between two sample pieces played one after the other

# The demo's settings per profile (ALBUM_PROFILE): smoke is a seconds-long check.
DEMO_SETTINGS = {
    "smoke": dict(size="320x180", max_side=128, seconds_per_photo=1.0, ken_burns=True),
    "cpu": dict(size="720p", max_side=720, seconds_per_photo=2.0, ken_burns=True),
    "gpu": dict(size="720p", max_side=720, seconds_per_photo=2.0, ken_burns=True),
    "full": dict(size="720p", max_side=720, seconds_per_photo=2.0, ken_burns=True),
}


class OutputExistsError(FileExistsError):
    """The film's file exists already and overwrite was not asked for; nothing was done."""

    def __init__(self, path):
        self.path = Path(path)
        super().__init__(f"{self.path}: already exists; pass overwrite=True to replace it, or "
                         f"choose another file name")


@dataclasses.dataclass
class AlbumResult:
    """What `make_album` did: the film, its photos and music, and how long each phase took."""

    path: Path                   # the film (its suffix may be .webm: see assemble.make_video)
    video: assemble.VideoResult
    photos: list                 # source photo paths, in film order
    skipped: list                # (path, problem) of each file that was left out
    styles: list                 # the style of each photo in the film ("none": as it was)
    music: str                   # where the soundtrack came from, in words
    timings: dict                # seconds per phase: repaint, music, film, total
    notes: list = dataclasses.field(default_factory=list)
    contact_sheet: Path = None
    repainted: list = dataclasses.field(default_factory=list)   # files written into work_dir
    soundtrack: Path = None      # the composed music as a WAV in work_dir, when there is one
    title: str = None            # the title card's text, shown first, when there is one

    @property
    def duration(self):
        """Length of the film in seconds."""
        return self.video.duration

    def show(self, embed=True, width=640):
        """The film as an IPython Video (see VideoResult.show)."""
        return self.video.show(embed=embed, width=width)


# ---------------------------------------------------------------------------------------------
# Checks done before any work
# ---------------------------------------------------------------------------------------------

def output_path(out_path, overwrite=False):
    """The film's path: FOLDER/ -> FOLDER/album.mp4, no suffix -> .mp4; refuses existing files.

    Raises ValueError for a suffix other than .mp4, .m4v or .webm and OutputExistsError when the
    file exists and overwrite is False.
    """
    text = os.fspath(out_path)
    if not str(text).strip():
        raise ValueError("the film needs a file name")
    path = Path(text).expanduser()
    if path.is_dir() or str(text).endswith(("/", os.sep)):
        path = path / "album.mp4"
    suffix = path.suffix.lower()
    if not suffix:
        path = path.with_name(path.name + ".mp4")
    elif suffix not in encode.MP4_SUFFIXES + encode.WEBM_SUFFIXES:
        raise ValueError(f"{path}: the film must be named .mp4, .m4v or .webm")
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    return path


def check_before_work(files, seconds_per_photo, film, work_dir=None, contact_sheet_path=None,
                      title=False):
    """The checks that need no network: outputs writable, the film's length within the limit
    (a title card is one more slot)."""
    check_outputs(film, work_dir, contact_sheet_path)
    slots = len(files) + bool(title)
    timeline.check_film_length(slots * float(seconds_per_photo),
                               f"a film of {slots} photos at {seconds_per_photo:g} s each")


def check_outputs(film, work_dir=None, contact_sheet_path=None):
    """Check, before any work, that every output location can be written (NotWritableError)."""
    fileio.check_writable(Path(film).parent, f"the film {film}")
    if work_dir is not None:
        fileio.check_writable(work_dir, f"into the work folder {work_dir}")
    if contact_sheet_path is not None:
        fileio.check_writable(Path(contact_sheet_path).parent,
                              f"the contact sheet {contact_sheet_path}")
    fileio.check_writable(tempfile.gettempdir(), "temporary files (set TMPDIR to another folder)")

def candidate_photos(photos):
    """The photo files of a folder, a photo file, or a list of them (in the order given).

    Raises FileNotFoundError for a missing input and ImageError (naming the folder) when no
    photo file is found at all.
    """
    inputs = [photos] if isinstance(photos, (str, os.PathLike)) else list(photos)
    if not inputs:
        raise ValueError("no photos or folders given")
    found, seen = [], set()
    for item in map(Path, inputs):
        if item.is_dir():
            files = images.list_album(item)
        elif item.exists():
            files = [item]
        else:
            raise FileNotFoundError(f"{item}: no such photo or folder")
        for f in files:
            if f.resolve() not in seen:
                seen.add(f.resolve())
                found.append(f)
    if not found:
        where = ", ".join(str(p) for p in inputs)
        raise images.ImageError(where, f"no photo files found (looked for "
                                       f"{', '.join(images.IMAGE_EXTENSIONS)})")
    return found


def check_groups(paint, play, cut):
    """make_album's option groups: their types, and what one group asks of another (ValueError),
    before any work (each group checked its own fields when it was made); notebook 06."""
    for name, value, kind in (("paint", paint, Paint), ("play", play, Play), ("cut", cut, Cut)):
        if not isinstance(value, kind):
            raise TypeError(f"{name} must be an albumlib.film.options.{kind.__name__}, "
                            f"got {type(value).__name__}")
    if cut.beat_sync and play.silent:
        raise ValueError("Cut.beat_sync needs music; it cannot be used with Play(music='none')")
    if cut.fit_to_audio and (play.music is None or play.silent):
        raise ValueError("Cut.fit_to_audio needs a music file (Play.music): composed music is "
                         "made as long as the film")


# ---------------------------------------------------------------------------------------------
# Phase 1's summary: the contact sheet (the repainting itself: albumlib.film.repaint)
# ---------------------------------------------------------------------------------------------

def contact_sheet(originals, repainted, height=repaint.SHEET_HEIGHT):
    """One image: each original above its repainted version, side by side (float32 RGB)."""
    columns = []
    for a, b in zip(originals, repainted):
        pair = [images.resize_to(x, max(1, round(x.shape[1] * height / x.shape[0])), height)
                for x in (images.to_float32(a), images.to_float32(b))]
        width = min(p.shape[1] for p in pair)
        columns.append(np.concatenate([p[:, :width] for p in pair], axis=0))
    if not columns:
        raise ValueError("a contact sheet needs at least one photo")
    gap = np.ones((2 * height, 4, 3), np.float32)
    return np.concatenate([c for col in columns for c in (col, gap)][:-1], axis=1)


# ---------------------------------------------------------------------------------------------
# Phase 2: music
# ---------------------------------------------------------------------------------------------

def sample_pieces():
    """The bundled sample pieces (data/music/*.mp3), in name order; notebook 06."""
    from albumlib import audio, paths

    return audio.list_audio(paths.data_path("music"))


def sample_soundtrack(seconds, seed=0, sr=encode.AUDIO_SR):
    """(signal, sr, [pieces]): bundled sample pieces, one after another, for `seconds`; notebook 06.

    Starts with piece `seed` (modulo their number) and goes on with the next ones, half a second
    apart, until the film is covered (the film fades the music out at its end).
    """
    from albumlib import audio

    pieces = sample_pieces()
    if not pieces:
        raise FileNotFoundError("no bundled sample music in data/music")
    need = int(np.ceil(seconds * sr))
    parts, used, have, k = [], [], 0, int(seed) % len(pieces)
    gap = np.zeros(int(SAMPLE_GAP_SECONDS * sr), np.float32)
    while have < need:
        piece = pieces[k % len(pieces)]
        signal = audio.load_audio(piece, sr=sr)
        if parts:
            parts.append(gap)
            have += gap.size
        parts.append(signal)
        used.append(piece)
        have += signal.size
        k += 1
    return np.concatenate(parts) if len(parts) > 1 else parts[0], sr, used


DEFAULT_MUSIC_MODEL = "notes"     # the bundled note model (albumlib.music.soundtrack.load_model)


def _prepare_music(play, notes, say):
    """Before phase 1: ("file", (signal, sr), text) / ("model", bundle, text) /
    ("samples", None, text) / ("none", None, text). Raises for a bad explicit choice."""
    from albumlib import audio
    from albumlib.music import soundtrack

    music, music_model = play.music, play.model
    if music is not None:
        if repaint.means_none(music):
            return "none", None, "no music (a silent film)"
        path = Path(music).expanduser()
        audio.check_readable(path)
        signal = audio.load_audio(path, sr=encode.AUDIO_SR)
        return "file", (signal, encode.AUDIO_SR), f"the track {path}"
    if music_model is not None:
        bundle = soundtrack.load_model(music_model)
        return "model", bundle, f"composed by the music model {bundle.path}"
    try:
        bundle = soundtrack.load_model(DEFAULT_MUSIC_MODEL)
        return "model", bundle, f"composed by the default music model {bundle.path}"
    except (OSError, ValueError) as e:
        why = f"the default music model could not be read ({e})"
    note = (f"note: {why}; the soundtrack is a bundled sample piece from data/music instead "
            f"(pass --music FILE to use your own track, or --music-model DIR for a model "
            f"made by `python -m albumlib train-music`)")
    notes.append(note)
    say(note)
    return "samples", None, "bundled sample music"


class _Peak:
    """Passes chunks through, keeping the largest absolute sample seen."""

    def __init__(self):
        self.value = 0.0

    def __call__(self, chunk):
        if len(chunk):
            self.value = max(self.value, float(np.max(np.abs(chunk))))
        return chunk


def _soundtrack(kind, source, text, seconds, play, store_dir, scratch):
    """Phase 2: (audio for make_video, description, saved WAV or None). Composed music is
    streamed to soundtrack.wav in store_dir (or scratch) and played from there."""
    from albumlib import audio
    from albumlib.music import soundtrack

    if kind == "none":
        return None, text, None
    if kind == "file":
        return source, text, None
    if kind == "model":
        length = seconds + MUSIC_TAIL_SECONDS
        where = Path(store_dir if store_dir is not None else scratch) / "soundtrack.wav"
        peak = _Peak()
        seed = play.seed
        chunks = (soundtrack.chunks(source, length, seed, play.temperature)
                  if soundtrack.is_note_model(source)
                  else soundtrack.report.iter_compose(source, length, seed=seed))
        wav = audio.save_stream(where, map(peak, chunks), soundtrack.sample_rate(source),
                                overwrite=True)[0]
        if not np.isfinite(peak.value) or peak.value < 1e-4:
            warnings.warn(f"the music composed by {source.path} is silent or broken "
                          f"(peak {peak.value:.3g}); the film will be quiet", UserWarning,
                          stacklevel=4)
        kept = wav if store_dir is not None else None
        return str(wav), f"{text} ({length:.1f} s, seed {seed})", kept
    signal, sr, used = sample_soundtrack(seconds + MUSIC_TAIL_SECONDS, play.seed)
    names = ", ".join(p.name for p in used)
    return (signal, sr), f"bundled sample music: {names}", None



# ---------------------------------------------------------------------------------------------
# The pipeline
# ---------------------------------------------------------------------------------------------

def make_album(photos, out_path, paint=Paint(), play=Play(), cut=Cut(), *, title=None,
               overwrite=False, work_dir=None, contact_sheet=None, progress=True, verbose=True):
    """Photos -> repainted photos -> soundtrack -> film; returns an `AlbumResult`; notebook 06.

    photos: an album folder, a photo file, or a list of them; shown in `cut.order`: capture time
        ("time", the default) or natural file name ("name").
    out_path: the film, .mp4 (default when no suffix; a folder gets album.mp4 inside) or .webm;
        missing folders are created; never replaced unless overwrite=True.
    paint: what repaints the photos (`options.Paint`: style or styles cycled over the photos,
        max_side, strength, preserve_color). play: what plays (`options.Play`: a music file or
        "none", else a music model composes; seed, temperature, loudness, fade_seconds). cut: how
        the film is cut and encoded (`options.Cut`, as in `assemble.make_video`, and the order).
    title: the text of a title card shown first for one slot (lines; `titles.title_card`), not
        repainted; None: no card.
    work_dir: also keep the repainted photos (JPEG) and a composed soundtrack (WAV) there.
    contact_sheet: also write a contact sheet (originals above repainted photos) to this file
        (never replacing a file unless overwrite=True).
    progress: tqdm bars; verbose: print what each phase did and how long it took.
    """
    start, notes, timings = time.perf_counter(), [], {}
    say = print if verbose else (lambda *a, **k: None)
    # Everything that can be checked is checked before the first photo is repainted.
    check_groups(paint, play, cut)
    target = output_path(out_path, overwrite)
    files = capture.order_photos(candidate_photos(photos), cut.order)
    sheet_path = _sheet_path(contact_sheet, overwrite)
    check_before_work(files, cut.seconds_per_photo, target, work_dir, sheet_path, title)
    resolved = repaint.resolve_styles(paint.style)  # (the first to import TensorFlow)
    prepared, music_seconds = _timed(_prepare_music, play, notes, say)
    with fileio.temp_dir("album") as tmp:
        items, labels, used, written, thumbs, skipped = _repaint_phase(
            photos, files, resolved, _store_dir(work_dir, files, resolved, tmp), timings, say,
            max_side=paint.max_side, strength=paint.strength,
            preserve_color=paint.preserve_color, sheet=sheet_path is not None,
            progress=progress)
        items = _with_title(items, title, cut)
        track, music_text, wav = _music_phase(prepared, len(items) * float(cut.seconds_per_photo),
                                              play, work_dir, tmp, music_seconds, timings, say)
        t = time.perf_counter()
        morph = _morph(cut.transition, resolved, used, labels, notes, say, paint,
                       shift=title is not None)
        result = _film_phase(items, track, target, morph, notes, t, timings, say, cut, play,
                             overwrite=overwrite, progress=progress)
    sheet = _write_sheet(sheet_path, thumbs)
    timings["total"] = time.perf_counter() - start
    say(_summary(result, len(used), timings))
    return AlbumResult(path=result.path, video=result, photos=used, skipped=skipped,
                       styles=labels, music=music_text, timings=timings, notes=notes,
                       contact_sheet=sheet, repainted=written if work_dir is not None else [],
                       soundtrack=wav, title=title)


def _timed(step, *args):
    """(what step(*args) returns, the seconds it took)."""
    t = time.perf_counter()
    return step(*args), time.perf_counter() - t


def _summary(result, n_photos, timings):
    """The last line make_album says: the film, its length and the time of each phase."""
    return (f"film: {result.path} ({result.duration:.1f} s, {n_photos} photos) in "
            f"{timings['total']:.0f} s (repaint {timings['repaint']:.0f} s, music "
            f"{timings['music']:.0f} s, film {timings['film']:.0f} s)")


def _sheet_path(contact_sheet_path, overwrite):
    """The contact sheet's path (None: none), checked before any work; notebook 06."""
    if contact_sheet_path is None:
        return None
    contact_sheet_path = Path(contact_sheet_path)
    if contact_sheet_path.suffix.lower() not in images.SAVE_FORMATS:
        raise ValueError(f"{contact_sheet_path}: the contact sheet must be named "
                         f"{', '.join(images.SAVE_FORMATS)}")
    if contact_sheet_path.exists() and not overwrite:
        raise OutputExistsError(contact_sheet_path)
    return contact_sheet_path


def _store_dir(work_dir, files, resolved, tmp):
    """Where the repainted photos go as JPEGs: work_dir (created), the temporary folder `tmp`
    for a large repainted album, or None (they stay in memory); notebook 06."""
    if work_dir is not None:
        store_dir = Path(work_dir)
        store_dir.mkdir(parents=True, exist_ok=True)
        return store_dir
    if len(files) > IN_MEMORY_PHOTOS and any(lb != NO_STYLE for lb, _, _ in resolved):
        return Path(tmp)
    return None


def _repaint_phase(photos, files, resolved, store_dir, timings, say, **options):
    """Phase 1, timed and told: (items, labels, used, written, thumbs, skipped); an ImageError
    when no photo could be read; notebook 06."""
    t = time.perf_counter()
    skipped = []
    items, labels, used, written, thumbs = repaint.repaint_photos(
        files, resolved, store_dir=store_dir, skipped=skipped, **options)
    if not items:
        where = ", ".join(str(p) for p in ([photos] if isinstance(photos, (str, os.PathLike))
                                           else photos))
        raise images.ImageError(where, f"none of its {len(files)} photo files could be read "
                                       f"(see the warnings above)")
    timings["repaint"] = time.perf_counter() - t
    styled = sorted({lb for lb in labels if lb != NO_STYLE})
    what = (f"repainted {len(items)} photo(s) with {', '.join(styled)}" if styled
            else f"kept {len(items)} photo(s) as they are (no style)")
    skip_text = f"; skipped {len(skipped)} unreadable file(s)" if skipped else ""
    say(f"phase 1/3 repaint: {what}{skip_text} in {timings['repaint']:.1f} s")
    return items, labels, used, written, thumbs, skipped


def _with_title(items, title, cut):
    """The film's items: the title card (an image of the frame's size) first, if any."""
    if title is None:
        return items
    return [titles.title_card(title, cut.size), *items]


def _music_phase(prepared, film_seconds, play, work_dir, tmp, seconds, timings, say):
    """Phase 2, timed (with the `seconds` `_prepare_music` took before phase 1) and told: (audio
    for make_video, description, saved WAV or None); notebook 06."""
    t = time.perf_counter()
    kind, source, music_text = prepared
    track, music_text, wav = _soundtrack(kind, source, music_text, film_seconds, play,
                                         Path(work_dir) if work_dir is not None else None,
                                         Path(tmp))
    timings["music"] = seconds + time.perf_counter() - t
    say(f"phase 2/3 music: {music_text} in {timings['music']:.1f} s")
    return track, music_text, wav


def _morph(transition, resolved, used, labels, notes, say, paint, shift=False):
    """The morph(k) of a "morph" transition (`repaint.morpher`, its notes told), else None;
    `shift`: the film's item k is photo k - 1 (a title card comes first)."""
    if transition != "morph":
        return None
    said = len(notes)
    morph = repaint.morpher(resolved, used, labels, notes=notes, max_side=paint.max_side,
                            strength=paint.strength, preserve_color=paint.preserve_color)
    for note in notes[said:]:
        say(f"note: {note}")
    if shift:
        return lambda k, photos_morph=morph: None if k == 0 else photos_morph(k - 1)
    return morph


def _film_phase(items, track, target, morph, notes, t, timings, say, cut, play, **options):
    """Phase 3, timed from `t` and told: `assemble.make_video` with the film's `cut`, `play`'s
    fade, loudness and seed and `options` (overwrite, progress); its result (its notes added to
    `notes`); notebook 06."""
    result = assemble.make_video(items, track, target, cut, fade_seconds=play.fade_seconds,
                                 loudness=play.loudness, seed=play.seed, morph=morph, **options)
    notes += result.notes           # e.g. a WebM written where H.264 was missing
    timings["film"] = time.perf_counter() - t
    say(f"phase 3/3 film: {result.n_frames} frames, {result.size[0]}x{result.size[1]}, "
        f"{result.codec}, in {timings['film']:.1f} s")
    return result


def _write_sheet(contact_sheet_path, thumbs):
    """The contact sheet written (replacing a file: checked before any work), or None."""
    if contact_sheet_path is None or not thumbs:
        return None
    return images.save_image(contact_sheet([a for a, _ in thumbs], [b for _, b in thumbs]),
                             contact_sheet_path, overwrite=True)


# ---------------------------------------------------------------------------------------------
# The demo
# ---------------------------------------------------------------------------------------------

def demo_styles():
    """The bundled fast networks in the paintings' order (starry_night, wave, the_scream, ...)."""
    from albumlib.style import style_nets, styles

    bundled = style_nets.list_bundled_styles()
    order = [s for s in styles.list_styles() if s in bundled]
    return order + [s for s in bundled if s not in order]


def demo_transition(style):
    """"morph" where the demo's styles live in one multi-style network, else "crossfade";
    notebook 06."""
    from albumlib.style import style_nets
    try:
        choices = [style_nets.find(s) for s in repaint.style_entries(style)
                   if not repaint.means_none(s)]
    except (TypeError, ValueError):
        return "crossfade"
    one_network = len({c.path for c in choices}) == 1 and all(c.mix for c in choices)
    return "morph" if one_network and len({c.mix for c in choices}) > 1 else "crossfade"


def demo_options(style=None, profile=None):
    """(Paint, Cut) of the demo: each photo in another bundled style (`style` overrides), sizes
    of the profile (DEMO_SETTINGS), a morph where the styles allow it, photos in name order
    (the bundled album has no capture times); notebook 06."""
    from albumlib.profiles import get_profile

    settings = DEMO_SETTINGS.get(get_profile(profile).name, DEMO_SETTINGS["cpu"])
    if style is None:
        style = demo_styles() or [NO_STYLE]
    paint = Paint(style=style, max_side=settings["max_side"])
    cut = Cut(size=settings["size"], seconds_per_photo=settings["seconds_per_photo"],
              ken_burns=settings["ken_burns"], transition=demo_transition(style), order="name")
    return paint, cut


def make_demo(out_dir="outputs/demo", paint=None, play=Play(), cut=None, *, limit=None,
              profile=None, progress=True, verbose=True):
    """`python -m albumlib demo`: the bundled sample album as a film in out_dir/album.mp4.

    paint, cut: default `demo_options(profile=profile)`: each photo repainted with another
    bundled fast network, sizes after the profile (smoke is seconds long); play: default the
    bundled model's music (or a bundled sample piece, with a note). A contact sheet is written
    beside the film. `limit` caps the number of photos (default: the profile's album_limit).
    The demo's two files are replaced on each run.
    """
    from albumlib import paths
    from albumlib.profiles import get_profile

    prof = get_profile(profile)
    if paint is None or cut is None:
        default_paint, default_cut = demo_options(
            None if paint is None else paint.style, profile=prof.name)
        paint, cut = paint or default_paint, cut or default_cut
    limit = prof.album_limit if limit is None else limit
    files = images.list_album(paths.data_path("album"))
    if limit:
        files = files[:limit]
    out_dir = Path(out_dir)
    if verbose:
        entries = repaint.style_entries(paint.style)
        used = list(dict.fromkeys(str(entries[k % len(entries)]) for k in range(len(files))))
        print(f"profile {prof.name}: a film of {len(files)} bundled photos ({', '.join(used)}) "
              f"at {cut.size} into {out_dir}")
    return make_album(files, out_dir / "album.mp4", paint, play, cut, overwrite=True,
                      contact_sheet=out_dir / "contact_sheet.jpg", progress=progress,
                      verbose=verbose)
