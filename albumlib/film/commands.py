"""The film commands of `python -m albumlib`: make-album, make-films and demo.

    python -m albumlib make-album PHOTOS_DIR -o FILM.mp4 [--style S] [--music FILE] [--order name]
    python -m albumlib make-films LIBRARY -o OUT_DIR [--gap HOURS] [--min-photos N] [--titles]
    python -m albumlib demo [-o OUT]

make-album and make-films share their option groups, one per phase (repainting: `Paint`,
music: `Play`, film: `Cut`; albumlib.film.options).
"""

import argparse
import textwrap
from pathlib import Path

from albumlib import cli

STYLE_HELP = ("bundled fast network (data/fast_styles: starry_night, wave, the_scream, ...) or "
              "a .npz/.keras network from train-style; 'none' keeps the photos as they are; "
              "repeat to give the photos different styles in turn")
MUSIC_HELP = ("a music file (mp3, wav, flac, ogg, m4a, ...) to use as the soundtrack instead "
              "of composing one; 'none' for a silent film")
MUSIC_MODEL_HELP = ("the music model that composes the soundtrack: a folder made by train-music "
                    "(or albumlib.music.report_train), or a bundled model by name: 'notes' "
                    "(the note model, the default) or 'report' (the report's FFT-block model)")
ORDER_HELP = ("the photos' order: time (when each was taken: EXIF DateTimeOriginal, then the "
              "other EXIF dates, then the file's time; photos taken at the same moment by file "
              "name) or name (natural file-name order: IMG_2 before IMG_10) (default: time)")


def add_parsers(sub):
    """Add make-album, make-films and demo to the subcommands; returns {name: function}."""
    _add_make_album_parser(sub)
    _add_make_films_parser(sub)
    _add_demo_parser(sub)
    return {"make-album": cmd_make_album, "make-films": cmd_make_films, "demo": cmd_demo}


# ---------------------------------------------------------------------------------------------
# The option groups of make-album and make-films, and the options they make
# ---------------------------------------------------------------------------------------------

def add_paint_options(p):
    """The repainting group (phase 1): --style, --max-side, --strength, --preserve-color."""
    from albumlib.film import options
    rep = p.add_argument_group("repainting (phase 1)")
    rep.add_argument("-s", "--style", action="append", default=None, metavar="NAME|PATH",
                     help=f"{STYLE_HELP} (default: {options.DEFAULT_STYLE})")
    rep.add_argument("--max-side", type=cli.positive_int, default=options.DEFAULT_MAX_SIDE,
                     metavar="N", help="repaint photos shrunk to at most N pixels on their long "
                                       "side; larger is slower and gives finer brushwork "
                                       f"(default: {options.DEFAULT_MAX_SIDE})")
    rep.add_argument("--strength", type=cli.unit_float, default=1.0, metavar="F",
                     help="style strength: 1 fully repainted, 0 the original photo (default: 1)")
    rep.add_argument("--preserve-color", action="store_true",
                     help="keep the photos' colours (luminance-only transfer)")


def add_play_options(p):
    """The music group (phase 2): --music or --music-model, --music-seed, --temperature."""
    mus = p.add_argument_group("music (phase 2)")
    source = mus.add_mutually_exclusive_group()
    source.add_argument("--music", default=None, metavar="FILE", help=MUSIC_HELP)
    source.add_argument("--music-model", default=None, metavar="DIR", help=MUSIC_MODEL_HELP)
    mus.add_argument("--music-seed", type=int, default=0, metavar="N",
                     help="seed of the composed music (which seed sequence starts it; with the "
                          "sample pieces, which piece comes first) and of the Ken Burns moves "
                          "(default: 0)")
    mus.add_argument("--temperature", type=cli.positive_float, default=0.8, metavar="T",
                     help="boldness of the composed music: higher is bolder, lower is safer "
                          "(note models; default: 0.8)")


def add_cut_options(p):
    """The film group (phase 3): slots, transitions, moves, frame, order."""
    from albumlib.film import canvas, capture, frames
    film = p.add_argument_group("film (phase 3)")
    film.add_argument("--seconds-per-photo", type=cli.positive_float, default=1.0, metavar="S",
                      help="seconds each photo is on screen; the film lasts photos x S "
                           "(default: 1)")
    film.add_argument("--transition", choices=frames.TRANSITIONS, default="crossfade",
                      help="how one photo gives way to the next: crossfade, none (a cut), or "
                           "morph (a crossfade while the first photo's style morphs into the "
                           "next one's; styles of one multi-style network) (default: crossfade)")
    film.add_argument("--transition-seconds", type=cli.seconds, default=0.3, metavar="S",
                      help="length of each crossfade, centred on the cut (default: 0.3)")
    film.add_argument("--ken-burns", action="store_true",
                      help="a slow zoom and pan over each photo")
    film.add_argument("--beat-sync", action="store_true",
                      help="move each cut to the nearest beat (onset) of the music")
    film.add_argument("--size", type=cli.canvas, default="720p", metavar="SIZE",
                      help=f"frame size: {', '.join(canvas.PRESETS)} or WIDTHxHEIGHT, even "
                           f"numbers (default: 720p)")
    film.add_argument("--fit", choices=canvas.FITS, default="letterbox",
                      help="photos of another shape than the frame: black bars (letterbox) or a "
                           "blurred copy behind them (blur) (default: letterbox)")
    film.add_argument("--fps", type=cli.positive_float, default=30.0, metavar="N",
                      help="frames per second (default: 30)")
    film.add_argument("--order", choices=capture.ORDERS, default="time", help=ORDER_HELP)


def option_groups(args):
    """(Paint, Play, Cut) of parsed make-album / make-films options (ValueError if wrong)."""
    from albumlib.film.options import DEFAULT_STYLE, Cut, Paint, Play
    paint = Paint(style=args.style if args.style is not None else DEFAULT_STYLE,
                  max_side=args.max_side, strength=args.strength,
                  preserve_color=args.preserve_color)
    play = Play(music=args.music, model=args.music_model, seed=args.music_seed,
                temperature=args.temperature)
    cut = Cut(seconds_per_photo=args.seconds_per_photo, transition=args.transition,
              transition_seconds=args.transition_seconds, ken_burns=args.ken_burns,
              beat_sync=args.beat_sync, size=args.size, fit=args.fit, fps=args.fps,
              order=args.order)
    return paint, play, cut


def _album_errors(run):
    """Run an album command; turn expected failures into one 'error: ...' line (exit code 1)."""
    from albumlib import audio, fileio, images
    from albumlib.film import album, encode
    try:
        return run()
    except fileio.NotWritableError as err:
        raise SystemExit(f"error: {err}") from None
    except album.OutputExistsError as err:
        raise SystemExit(f"error: {err.path}: already exists; pass --overwrite to replace it, "
                         f"or choose another name with -o") from None
    except (images.ImageError, audio.AudioError, encode.VideoError, FileNotFoundError,
            NotADirectoryError, IsADirectoryError, FileExistsError, ValueError) as err:
        raise SystemExit(f"error: {err}") from None


def _needs_tensorflow(paint, play):
    """Whether a network repaints, or a model other than the bundled note model (numpy alone)
    may compose: TensorFlow is then imported, quietly, after the checks."""
    composed_by = None if play.music is not None else str(play.model or "notes")
    return paint.repaints or composed_by not in (None, "notes")


# ---------------------------------------------------------------------------------------------
# make-album
# ---------------------------------------------------------------------------------------------

def _add_make_album_parser(sub):
    """`make-album`: photos -> repainted photos + a soundtrack -> one film."""
    p = sub.add_parser(
        "make-album", help="make a film of a folder of photos: repaint them in a painting's "
                           "style, compose music, assemble an MP4 (the main job)",
        description=textwrap.fill(
            "Make a film of a photo album in three phases: repaint each photo with a fast style "
            "network, compose a soundtrack with the music model (or use --music FILE), and "
            "assemble an H.264/AAC MP4. The photos come in the order they were taken (--order). "
            "Needs nothing but a folder of photos; unreadable photos are skipped with a "
            "warning. The film is written whole or not at all and never replaces a file unless "
            "--overwrite.", 79),
        epilog="examples:\n"
               "  python -m albumlib make-album ~/Pictures/trip -o trip.mp4\n"
               "  python -m albumlib make-album trip -o trip.mp4 --style wave --style udnie "
               "--ken-burns --seconds-per-photo 2\n"
               "  python -m albumlib make-album trip -o trip.mp4 --style none --music song.mp3 "
               "--beat-sync",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos", nargs="+", metavar="PHOTOS_DIR",
                   help="album folder (or photo files) to make the film of, in the order they "
                        "were taken (see --order)")
    p.add_argument("-o", "--output", default="album.mp4", metavar="FILM",
                   help="the film: .mp4 (or .webm); a folder gets album.mp4 inside; missing "
                        "folders are created (default: album.mp4)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the film if it exists (default: stop with an error)")
    add_paint_options(p)
    add_play_options(p)
    add_cut_options(p)
    out = p.add_argument_group("other outputs")
    out.add_argument("--work-dir", default=None, metavar="DIR",
                     help="also keep the repainted photos (JPEG) and a composed soundtrack (WAV) "
                          "in DIR (created if missing)")
    out.add_argument("--contact-sheet", action="store_true",
                     help="also write FILM_contact_sheet.jpg beside the film: each photo above "
                          "its repainted version")
    out.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def cmd_make_album(args):
    """Make a film of a photo album: repaint, compose, assemble."""
    from albumlib.film import album

    def run():
        paint, play, cut = option_groups(args)
        sheet = None
        film = album.output_path(args.output, overwrite=True)
        if args.contact_sheet:
            sheet = film.with_name(f"{film.stem}_contact_sheet.jpg")
        photos = args.photos if len(args.photos) > 1 else args.photos[0]
        album.check_before_work(album.candidate_photos(photos), cut.seconds_per_photo, film,
                                args.work_dir, sheet)
        if _needs_tensorflow(paint, play):
            cli.import_tensorflow(args)
        return album.make_album(photos, args.output, paint, play, cut, overwrite=args.overwrite,
                                progress=not args.no_progress, work_dir=args.work_dir,
                                contact_sheet=sheet)

    result = _album_errors(run)
    if result.contact_sheet is not None:
        print(f"contact sheet: {result.contact_sheet}")
    return 0


# ---------------------------------------------------------------------------------------------
# make-films
# ---------------------------------------------------------------------------------------------

def _add_make_films_parser(sub):
    """`make-films`: a photo library -> one film per event."""
    from albumlib.film import events, films
    p = sub.add_parser(
        "make-films", help="make one film per event (a day out, a trip) of a photo library "
                           "in nested folders",
        description=textwrap.fill(
            "Make one film per event of a photo library: the photos of LIBRARY and all its "
            "sub-folders are dated (EXIF DateTimeOriginal, then the other EXIF dates, then the "
            "file's time) and split into events wherever two photos are more than --gap hours "
            "apart; each event of at least --min-photos photos becomes a film made as "
            "make-album makes one (the same options; the music's seed is --music-seed plus the "
            "event's number), named after its start and its folder, e.g. "
            "'2024-07-01 14.05 Paris.mp4', so that the films sort by date. Unreadable files "
            "are skipped with a warning; an event that fails does not stop the others (the "
            "exit code is then 1); a summary lists the films made and the events skipped. "
            "Existing films are never replaced unless --overwrite.", 79),
        epilog="examples:\n"
               "  python -m albumlib make-films ~/Pictures -o films/\n"
               "  python -m albumlib make-films ~/Pictures -o films/ --style none --titles "
               "--gap 12 --min-photos 5",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("library", metavar="LIBRARY",
                   help="the photo library: a folder, searched with all its sub-folders")
    p.add_argument("-o", "--output", required=True, metavar="OUT_DIR",
                   help="folder of the films (created if missing)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace films of the same name (default: such an event fails)")
    ev = p.add_argument_group("events")
    ev.add_argument("--gap", type=cli.positive_float, default=events.DEFAULT_GAP_HOURS,
                    metavar="HOURS", help=f"a pause of more than HOURS between two photos "
                                          f"starts a new event (default: "
                                          f"{events.DEFAULT_GAP_HOURS:g}: a night's sleep)")
    ev.add_argument("--min-photos", type=cli.whole_number, default=films.DEFAULT_MIN_PHOTOS,
                    metavar="N", help=f"skip events of fewer than N photos (said in the "
                                      f"summary) (default: {films.DEFAULT_MIN_PHOTOS})")
    ev.add_argument("--titles", action="store_true",
                    help="open each film with a title card: the event's dates and its folder's "
                         "name (not repainted; one more slot)")
    add_paint_options(p)
    add_play_options(p)
    add_cut_options(p)
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def cmd_make_films(args):
    """One film per event of a photo library; the summary; 1 if an event failed."""
    import sys

    from albumlib import fileio
    from albumlib.film import films

    def run():
        paint, play, cut = option_groups(args)
        fileio.check_writable(args.output, f"the films into {args.output}")
        if _needs_tensorflow(paint, play):
            cli.import_tensorflow(args)
        return films.make_films(args.library, args.output, paint, play, cut,
                                gap_hours=args.gap, min_photos=args.min_photos,
                                titles=args.titles, overwrite=args.overwrite,
                                progress=not args.no_progress)

    summary = _album_errors(run)
    print(summary.text())
    if summary.failed:
        print(f"error: {len(summary.failed)} event(s) failed: "
              f"{', '.join(e.name for e in summary.failed)} (see above)", file=sys.stderr)
        return 1
    if not summary.films:
        raise SystemExit(f"error: no film made: every event has fewer than {args.min_photos} "
                         f"photos (--min-photos)")
    return 0


# ---------------------------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------------------------

def _add_demo_parser(sub):
    """`demo`: the bundled sample album as a film (README quick start, `make demo`)."""
    p = sub.add_parser(
        "demo", help="make a film of the bundled sample album with the bundled styles and "
                     "music into outputs/demo (about a minute or two on a 2-core CPU)",
        description="Make a film of the bundled sample album: each photo repainted by another "
                    "bundled fast style network, music by the bundled note model (or a bundled "
                    "sample piece), crossfades and Ken Burns moves, written to OUT/album.mp4 "
                    "with OUT/contact_sheet.jpg beside it (both replaced on each run). "
                    "ALBUM_PROFILE=smoke makes a tiny film in seconds. The old Gatys demo is "
                    "`gatys-demo`.")
    p.add_argument("-o", "--output", default="outputs/demo", metavar="OUT",
                   help="output folder (created if missing; default: outputs/demo)")
    p.add_argument("--limit", type=cli.positive_int, default=None, metavar="N",
                   help="use the first N photos (default: all, 2 with ALBUM_PROFILE=smoke)")
    p.add_argument("-s", "--style", action="append", default=None, metavar="NAME|PATH",
                   help=f"{STYLE_HELP} (default: each photo another bundled network)")
    p.add_argument("--size", type=cli.canvas, default=None, metavar="SIZE",
                   help="frame size: a preset or WIDTHxHEIGHT (default: 720p, 320x180 with "
                        "ALBUM_PROFILE=smoke)")
    p.add_argument("--max-side", type=cli.positive_int, default=None, metavar="N",
                   help="repaint photos at most N pixels on their long side (default: 720, 128 "
                        "with ALBUM_PROFILE=smoke)")
    p.add_argument("--seconds-per-photo", type=cli.positive_float, default=None, metavar="S",
                   help="seconds each photo is on screen (default: 2, 1 with ALBUM_PROFILE=smoke)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--music", default=None, metavar="FILE", help=MUSIC_HELP)
    source.add_argument("--music-model", default=None, metavar="DIR", help=MUSIC_MODEL_HELP)
    p.add_argument("--no-ken-burns", action="store_true", help="no zoom and pan: still photos")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def cmd_demo(args):
    """The bundled sample album as a film in outputs/demo."""
    import dataclasses

    from albumlib.film import album
    from albumlib.film.options import Play
    out = Path(args.output)
    _album_errors(lambda: album.check_outputs(out / "album.mp4", None, out / "contact_sheet.jpg"))
    cli.import_tensorflow(args)

    def run():
        paint, cut = album.demo_options(args.style)
        paint = dataclasses.replace(paint, **{k: v for k, v in (("max_side", args.max_side),)
                                              if v is not None})
        cut = dataclasses.replace(cut, **{k: v for k, v in (
            ("size", args.size), ("seconds_per_photo", args.seconds_per_photo),
            ("ken_burns", False if args.no_ken_burns else None)) if v is not None})
        return album.make_demo(args.output, paint, Play(music=args.music, model=args.music_model),
                               cut, limit=args.limit, progress=not args.no_progress)

    result = _album_errors(run)
    print(f"watch it: {result.path}; side by side: {result.contact_sheet}")
    return 0
