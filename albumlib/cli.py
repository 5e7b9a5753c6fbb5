"""The command line: `python -m albumlib make-album`, `demo`, `gatys-demo`, `gatys`, `styles`,
`stylize`, `train-style`.

`make-album` turns a folder of photos into a film (repainted photos, a soundtrack, an MP4:
albumlib.film.album); `demo` makes one from the bundled sample album (README quick start).
`gatys-demo` and `gatys` repaint photos with Gatys' optimisation; `train-style` trains a fast
style network for one painting and `stylize` repaints whole albums with it.
"""

import argparse
import dataclasses
import os
import signal
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np


def _add_gatys_options(p):
    """Options shared by the gatys and demo commands."""
    p.add_argument("--size", type=int, default=None, help="long side of the output in pixels (default: profile's)")
    p.add_argument("--steps", type=int, default=None, help="optimisation steps per photo (default: profile's)")
    p.add_argument("--optimizer", choices=("adam", "lbfgs"), default=None, help="optimiser (default: adam)")
    p.add_argument("--style-weight", type=float, default=None, help="weight of the style loss")
    p.add_argument("--content-weight", type=float, default=None, help="weight of the content loss")
    p.add_argument("--tv-weight", type=float, default=None, help="weight of the total-variation loss")
    p.add_argument("--preserve-color", action="store_true", help="keep the photo's colours (luminance-only transfer)")
    p.add_argument("--init", choices=("content", "noise"), default="content", help="start from the photo or from noise")
    p.add_argument("--weights", default="auto", help="VGG19 weights: auto, imagenet, or a file path")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit code 2)."""

    def error(self, message):
        """Print '<prog>: error: <message> (see <prog> --help)' and exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    """The argument parser of `python -m albumlib`."""
    parser = _Parser(prog="python -m albumlib",
                     description="Turn a photo album into a short film (albumlib).")
    parser.add_argument("--debug", action="store_true", default=False,
                        help="show full tracebacks and tool output on errors (also ALBUM_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True)

    _add_make_album_parser(sub)
    _add_demo_parser(sub)

    demo = sub.add_parser("gatys-demo", help="repaint the bundled sample album with Gatys' "
                                             "method into outputs/gatys-demo (a contact sheet)")
    demo.add_argument("-o", "--output", default="outputs/gatys-demo",
                      help="output folder (default: outputs/gatys-demo)")
    demo.add_argument("--limit", type=int, default=None, help="number of photos (default: profile's)")
    _add_gatys_options(demo)

    gatys = sub.add_parser("gatys", help="repaint photos in a painting's style by optimisation (Gatys et al.)")
    gatys.add_argument("inputs", nargs="+", help="photo files or album folders")
    gatys.add_argument("-s", "--style", action="append", required=True,
                       help="bundled style name or image path; repeat to blend several")
    gatys.add_argument("--blend", type=float, nargs="+", default=None, help="blend weights, one per --style")
    gatys.add_argument("-o", "--output", required=True, help="output folder (created if missing)")
    gatys.add_argument("--overwrite", action="store_true", help="replace existing output files")
    _add_gatys_options(gatys)

    sub.add_parser("styles", help="list the bundled styles")
    _add_stylize_parser(sub)
    _add_train_style_parser(sub)
    from albumlib.music import commands as music_commands
    parser.music_commands = music_commands.add_parsers(sub)
    for command in sub.choices.values():   # --debug after the command name too
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show full tracebacks and tool output on errors")
    return parser


def _number_type(convert, ok, wanted, noun="a number"):
    """An argparse type: convert the text, then check it, else say what was wanted."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text}")
        return value
    return parse


_positive_int = _number_type(int, lambda v: v >= 1, "a number >= 1", "a whole number")
_unit_float = _number_type(float, lambda v: 0.0 <= v <= 1.0, "a number between 0 and 1")
_positive_float = _number_type(float, lambda v: bool(np.isfinite(v)) and v > 0, "a number > 0")
_seconds = _number_type(float, lambda v: bool(np.isfinite(v)) and v >= 0, "a number of seconds >= 0",
                        "a number of seconds")


def _canvas(text):
    """argparse type: a canvas preset or WIDTHxHEIGHT (checked by canvas.canvas_size)."""
    from albumlib.film import canvas
    try:
        canvas.canvas_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


_STYLE_HELP = ("bundled fast network (data/fast_styles: starry_night, wave, the_scream, ...) or "
               "a .npz/.keras network from train-style; 'none' keeps the photos as they are; "
               "repeat to give the photos different styles in turn")
_MUSIC_HELP = ("a music file (mp3, wav, flac, ogg, m4a, ...) to use as the soundtrack instead "
               "of composing one; 'none' for a silent film")
_MUSIC_MODEL_HELP = ("the music model that composes the soundtrack: a folder made by train-music "
                     "(or albumlib.music.report_train), or a bundled model by name: 'notes' "
                     "(the note model, the default) or 'report' (the report's FFT-block model)")


def _add_make_album_parser(sub):
    """`make-album`: photos -> repainted photos + a soundtrack -> one film."""
    from albumlib.film import album, canvas, frames
    p = sub.add_parser(
        "make-album", help="make a film of a folder of photos: repaint them in a painting's "
                           "style, compose music, assemble an MP4 (the main job)",
        description=textwrap.fill(
            "Make a film of a photo album in three phases: repaint each photo with a fast style "
            "network, compose a soundtrack with the music model (or use --music FILE), and "
            "assemble an H.264/AAC MP4. Needs nothing but a folder of photos; unreadable photos "
            "are skipped with a warning. The film is written whole or not at all and never "
            "replaces a file unless --overwrite.", 79),
        epilog="examples:\n"
               "  python -m albumlib make-album ~/Pictures/trip -o trip.mp4\n"
               "  python -m albumlib make-album trip -o trip.mp4 --style wave --style udnie "
               "--ken-burns --seconds-per-photo 2\n"
               "  python -m albumlib make-album trip -o trip.mp4 --style none --music song.mp3 "
               "--beat-sync",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("photos", nargs="+", metavar="PHOTOS_DIR",
                   help="album folder (or photo files) to make the film of, in name order")
    p.add_argument("-o", "--output", default="album.mp4", metavar="FILM",
                   help="the film: .mp4 (or .webm); a folder gets album.mp4 inside; missing "
                        "folders are created (default: album.mp4)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the film if it exists (default: stop with an error)")
    rep = p.add_argument_group("repainting (phase 1)")
    rep.add_argument("-s", "--style", action="append", default=None, metavar="NAME|PATH",
                     help=f"{_STYLE_HELP} (default: {album.DEFAULT_STYLE})")
    rep.add_argument("--max-side", type=_positive_int, default=album.DEFAULT_MAX_SIDE,
                     metavar="N", help="repaint photos shrunk to at most N pixels on their long "
                                       "side; larger is slower and gives finer brushwork "
                                       f"(default: {album.DEFAULT_MAX_SIDE})")
    rep.add_argument("--strength", type=_unit_float, default=1.0, metavar="F",
                     help="style strength: 1 fully repainted, 0 the original photo (default: 1)")
    rep.add_argument("--preserve-color", action="store_true",
                     help="keep the photos' colours (luminance-only transfer)")
    mus = p.add_argument_group("music (phase 2)")
    source = mus.add_mutually_exclusive_group()
    source.add_argument("--music", default=None, metavar="FILE", help=_MUSIC_HELP)
    source.add_argument("--music-model", default=None, metavar="DIR", help=_MUSIC_MODEL_HELP)
    mus.add_argument("--music-seed", type=int, default=0, metavar="N",
                     help="seed of the composed music (which seed sequence starts it; with the "
                          "sample pieces, which piece comes first) and of the Ken Burns moves "
                          "(default: 0)")
    film = p.add_argument_group("film (phase 3)")
    film.add_argument("--seconds-per-photo", type=_positive_float, default=1.0, metavar="S",
                      help="seconds each photo is on screen; the film lasts photos x S "
                           "(default: 1)")
    film.add_argument("--transition", choices=frames.TRANSITIONS, default="crossfade",
                      help="how one photo gives way to the next: crossfade, none (a cut), or "
                           "morph (a crossfade while the first photo's style morphs into the "
                           "next one's; styles of one multi-style network) (default: crossfade)")
    film.add_argument("--transition-seconds", type=_seconds, default=0.3, metavar="S",
                      help="length of each crossfade, centred on the cut (default: 0.3)")
    film.add_argument("--ken-burns", action="store_true",
                      help="a slow zoom and pan over each photo")
    film.add_argument("--beat-sync", action="store_true",
                      help="move each cut to the nearest beat (onset) of the music")
    film.add_argument("--size", type=_canvas, default="720p", metavar="SIZE",
                      help=f"frame size: {', '.join(canvas.PRESETS)} or WIDTHxHEIGHT, even "
                           f"numbers (default: 720p)")
    film.add_argument("--fit", choices=canvas.FITS, default="letterbox",
                      help="photos of another shape than the frame: black bars (letterbox) or a "
                           "blurred copy behind them (blur) (default: letterbox)")
    film.add_argument("--fps", type=_positive_float, default=30.0, metavar="N",
                      help="frames per second (default: 30)")
    out = p.add_argument_group("other outputs")
    out.add_argument("--work-dir", default=None, metavar="DIR",
                     help="also keep the repainted photos (JPEG) and a composed soundtrack (WAV) "
                          "in DIR (created if missing)")
    out.add_argument("--contact-sheet", action="store_true",
                     help="also write FILM_contact_sheet.jpg beside the film: each photo above "
                          "its repainted version")
    out.add_argument("--no-progress", action="store_true", help="hide the progress bars")


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
    p.add_argument("--limit", type=_positive_int, default=None, metavar="N",
                   help="use the first N photos (default: all, 2 with ALBUM_PROFILE=smoke)")
    p.add_argument("-s", "--style", action="append", default=None, metavar="NAME|PATH",
                   help=f"{_STYLE_HELP} (default: each photo another bundled network)")
    p.add_argument("--size", type=_canvas, default=None, metavar="SIZE",
                   help="frame size: a preset or WIDTHxHEIGHT (default: 720p, 320x180 with "
                        "ALBUM_PROFILE=smoke)")
    p.add_argument("--max-side", type=_positive_int, default=None, metavar="N",
                   help="repaint photos at most N pixels on their long side (default: 720, 128 "
                        "with ALBUM_PROFILE=smoke)")
    p.add_argument("--seconds-per-photo", type=_positive_float, default=None, metavar="S",
                   help="seconds each photo is on screen (default: 2, 1 with ALBUM_PROFILE=smoke)")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--music", default=None, metavar="FILE", help=_MUSIC_HELP)
    source.add_argument("--music-model", default=None, metavar="DIR", help=_MUSIC_MODEL_HELP)
    p.add_argument("--no-ken-burns", action="store_true", help="no zoom and pan: still photos")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bars")


def _import_tensorflow(args):
    """Import TensorFlow without the lines its native start-up prints on stderr (kept with --debug).

    Called by the commands that need it, after their own checks, so that an early error is not
    buried under them; the lines are shown if the import fails.
    """
    if getattr(args, "debug", False) or "tensorflow" in sys.modules:
        return
    import tempfile
    sys.stderr.flush()
    with tempfile.TemporaryFile(mode="w+") as log:
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.write(log.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _warning_format(fallback):
    """A warnings.formatwarning that shows albumlib's warnings (skipped photos, codec fallbacks)
    as plain 'warning: ...' lines and leaves the others to `fallback`."""
    def format_warning(message, category, filename, lineno, line=None):
        if category.__module__.startswith("albumlib"):
            return f"warning: {message}\n"
        return fallback(message, category, filename, lineno, line)
    return format_warning


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


def cmd_make_album(args):
    """Make a film of a photo album: repaint, compose, assemble."""
    from albumlib.film import album

    def run():
        sheet = None
        film = album.output_path(args.output, overwrite=True)
        if args.contact_sheet:
            sheet = film.with_name(f"{film.stem}_contact_sheet.jpg")
        photos = args.photos if len(args.photos) > 1 else args.photos[0]
        album.check_before_work(album.candidate_photos(photos), args.seconds_per_photo, film,
                                args.work_dir, sheet)
        styles = args.style if args.style is not None else [album.DEFAULT_STYLE]
        if args.music is None or any(s.strip().lower() != album.NO_STYLE for s in styles):
            _import_tensorflow(args)        # a network repaints or composes
        return album.make_album(
            photos, args.output,
            style=args.style if args.style is not None else album.DEFAULT_STYLE,
            max_side=args.max_side, strength=args.strength, preserve_color=args.preserve_color,
            music_model=args.music_model, music=args.music, music_seed=args.music_seed,
            seconds_per_photo=args.seconds_per_photo, transition=args.transition,
            transition_seconds=args.transition_seconds, ken_burns=args.ken_burns,
            beat_sync=args.beat_sync, size=args.size, fps=args.fps, fit=args.fit,
            overwrite=args.overwrite, progress=not args.no_progress, work_dir=args.work_dir,
            contact_sheet_path=sheet)

    result = _album_errors(run)
    if result.contact_sheet is not None:
        print(f"contact sheet: {result.contact_sheet}")
    return 0


def cmd_demo(args):
    """The bundled sample album as a film in outputs/demo."""
    from albumlib.film import album
    options = {k: v for k, v in (("size", args.size), ("max_side", args.max_side),
                                 ("seconds_per_photo", args.seconds_per_photo),
                                 ("music", args.music), ("music_model", args.music_model))
               if v is not None}
    if args.no_ken_burns:
        options["ken_burns"] = False
    out = Path(args.output)
    _album_errors(lambda: album.check_outputs(out / "album.mp4", None, out / "contact_sheet.jpg"))
    _import_tensorflow(args)
    result = _album_errors(lambda: album.make_demo(
        args.output, limit=args.limit, style=args.style, progress=not args.no_progress,
        **options))
    print(f"watch it: {result.path}; side by side: {result.contact_sheet}")
    return 0


# `stylize --engine auto` runs numpy_net while its estimated time for all the photos stays below
# this. Measured on 2 busy CPU cores (load 2-5), bundled network: TensorFlow's start-up (imports,
# model, trace) costs ~4.5 s a run; a 512 px photo takes 0.53 s in numpy, 0.13 s in Keras
# (bfloat16), so numpy pays off up to ~6 s of numpy work. 3 s leaves room for the estimate's
# error and for machines where TensorFlow's convolutions gain more from many cores.
NUMPY_SECONDS = 3.0


def _add_stylize_parser(sub):
    """`stylize`: repaint photos and albums with a trained fast style network."""
    p = sub.add_parser("stylize", help="repaint photos with a trained fast style network "
                                       "(one network pass per photo)",
                       description="Repaint photos and album folders with a fast style network "
                                   "trained by `train-style`. Writes <photo>_<style>.jpg files; "
                                   "never replaces existing files unless --overwrite.")
    p.add_argument("photos", nargs="+", metavar="PHOTOS", help="photo files or album folders")
    p.add_argument("-s", "--style", required=True, metavar="NAME|PATH",
                   help="bundled network name (data/fast_styles) or a .npz/.keras network file")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output folder (created if missing)")
    p.add_argument("--max-side", type=_positive_int, default=None, metavar="N",
                   help="shrink photos so that their long side is at most N pixels first "
                        "(bounds the memory big photos need; default: full size)")
    p.add_argument("--batch-size", type=_positive_int, default=4, metavar="N",
                   help="photos of the same size run together, up to N per network call "
                        "(default: 4)")
    p.add_argument("--strength", type=_unit_float, default=1.0, metavar="F",
                   help="style strength: 1 fully repainted, 0 the original photo (default: 1)")
    p.add_argument("--preserve-color", action="store_true",
                   help="keep the photos' colours (luminance-only transfer)")
    p.add_argument("--suffix", default=None,
                   help="text after the photo's name in output names (default: _<style>)")
    p.add_argument("--engine", choices=("auto", "numpy", "keras"), default="auto",
                   help="numpy: run the network in plain numpy, without starting TensorFlow "
                        "(quicker for a few photos; .npz networks with resize upsampling); "
                        "keras: TensorFlow (quicker for many photos; any network); auto "
                        f"(default): numpy when it needs under ~{NUMPY_SECONDS:g} s for all the "
                        "photos, else keras")
    p.add_argument("--precision", choices=("auto", "float32", "bfloat16", "float16"),
                   default="auto", help="arithmetic of the network, keras engine only (numpy "
                                        "computes in float32): auto (default) uses bfloat16 "
                                        "where this CPU convolves faster in it (AMX), float16 on "
                                        "a GPU, else float32")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _add_train_style_parser(sub):
    """`train-style`: train (or resume training) a fast style network for one painting."""
    from albumlib.style.fast_train import TrainConfig
    d = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    p = sub.add_parser("train-style", help="train a fast style network for one painting "
                                           "(resumes from the checkpoint in --out)",
                       description="Train Johnson et al.'s transform network for one style on a "
                                   "folder of photos (MS-COCO train2014 for real results), then "
                                   "export it as OUT/<style>.npz and OUT/<style>.keras. Run it "
                                   "again with the same --out to resume (also with more --steps).")
    p.add_argument("--style", required=True, action="append", metavar="NAME|PATH",
                   help="bundled style name (see `python -m albumlib styles`) or an image path; "
                        "repeat it to train one network for all the styles given (conditional "
                        "instance norm; choose or mix them by name afterwards)")
    p.add_argument("--base", default=None, metavar="NAME|FILE",
                   help="learn a new painting in minutes: train only its (gamma, beta) on top of "
                        "this multi-style network (a bundled name or a file), and write them alone "
                        "as OUT/<name>.npz (a few kB), usable with --style OUT/<name>.npz")
    p.add_argument("--name", default=None, metavar="NAME",
                   help="file name of the exported network (default: the style's name, or "
                        "'paintings' for several styles)")
    data = p.add_mutually_exclusive_group(required=True)
    data.add_argument("--data-dir", metavar="DIR",
                      help="folder of training photos (e.g. your copy of COCO train2014)")
    data.add_argument("--corpus", action="store_true",
                      help="train on the offline photo corpus (278 licence-clean photos from "
                           "Debian packages, built into the cache on first use: "
                           "scripts/build_photo_corpus.py)")
    data.add_argument("--coco", action="store_true",
                      help="train on MS-COCO train2014, downloaded into the cache on first use "
                           "(13.5 GB, plus as much again extracted)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder for checkpoint, history, loss curve and the exported network")
    p.add_argument("--steps", type=_positive_int, default=d["steps"], metavar="N",
                   help=f"total optimisation steps (batches), counting resumed ones "
                        f"(default: {d['steps']})")
    p.add_argument("--crop", type=_positive_int, default=d["crop"], metavar="N",
                   help=f"side of the square training crops in pixels (default: {d['crop']})")
    p.add_argument("--batch-size", type=_positive_int, default=d["batch_size"], metavar="N",
                   help=f"photos per step, split over the GPUs with --multi-gpu "
                        f"(default: {d['batch_size']})")
    p.add_argument("--lr", type=float, default=d["learning_rate"], metavar="F",
                   help=f"Adam learning rate (default: {d['learning_rate']:g})")
    p.add_argument("--checkpoint-every", type=_positive_int, default=d["checkpoint_every"],
                   metavar="N", help=f"write a checkpoint every N steps "
                                     f"(default: {d['checkpoint_every']})")
    p.add_argument("--style-weight", type=float, default=None, metavar="F",
                   help="weight of the style loss; higher for a stronger look "
                        "(default: fast_style.DEFAULT_WEIGHTS, 1.5e-5)")
    p.add_argument("--precision", choices=("auto", "float32", "bfloat16", "float16"),
                   default="auto",
                   help="arithmetic of the training step (weights stay float32): auto measures "
                        "this machine and picks bfloat16 on CPUs that run it faster (AMX, "
                        "AVX512-BF16: 2-4x), float16 on GPUs, else float32 (default: auto)")
    p.add_argument("--style-weights", type=float, nargs="+", default=None, metavar="F",
                   help="one style weight per --style, in order (several styles: each painting "
                        "wants its own; default: --style-weight for all)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="the same as --precision float16 (kept for old scripts)")
    p.add_argument("--multi-gpu", action="store_true",
                   help="spread each batch over all visible GPUs (tf.distribute.MirroredStrategy)")
    adv = p.add_argument_group("advanced options")
    adv.add_argument("--content-weight", type=float, default=None, metavar="F",
                     help="weight of the content loss (default: 1)")
    adv.add_argument("--style-layers", choices=("equal", "balanced"), default=None,
                     help="weights of the five style layers: 1/5 each (block4_conv1 then decides "
                          "the style alone), or balanced on the training photos so that colours "
                          "and fine strokes count alike (default: balanced with --base, as the "
                          "bundled network was trained; else equal, which the default style "
                          "weight was chosen for)")
    adv.add_argument("--tv-weight", type=float, default=None, metavar="F",
                     help="weight of the total-variation loss (default: 3e5)")
    adv.add_argument("--style-size", type=_positive_int, default=d["style_size"], metavar="N",
                     help=f"long side of the style image for its Gram matrices "
                          f"(default: {d['style_size']})")
    adv.add_argument("--filters", type=_positive_int, nargs=3, default=list(d["filters"]),
                     metavar=("F1", "F2", "F3"),
                     help="widths of the transform network (default: 32 64 128; smaller nets "
                          "train faster and look rougher)")
    adv.add_argument("--residual-blocks", type=int, default=d["residual_blocks"], metavar="N",
                     help=f"residual blocks of the transform network "
                          f"(default: {d['residual_blocks']})")
    adv.add_argument("--outer-kernel", type=int, default=d["outer_kernel"], metavar="K",
                     help="size of the first and last convolutions (default: 9, Johnson's; 3 is "
                          "cheaper at full resolution)")
    adv.add_argument("--upsample", choices=("resize", "transpose"), default=d["upsample"],
                     help="upsampling layers: resize-convolution or transposed convolution "
                          f"(default: {d['upsample']})")
    adv.add_argument("--seed", type=int, default=d["seed"],
                     help=f"random seed of the initial network and the data order "
                          f"(default: {d['seed']})")
    adv.add_argument("--weights", default=d["weights"],
                     help="VGG19 weights of the loss: auto, imagenet, embedded or a file path "
                          f"(default: {d['weights']})")
    adv.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _gatys_kwargs(args):
    """The stylize() keyword arguments from parsed options."""
    return dict(image_size=args.size, steps=args.steps, optimizer=args.optimizer,
                style_weight=args.style_weight, content_weight=args.content_weight,
                tv_weight=args.tv_weight, preserve_color=args.preserve_color, init=args.init,
                weights=args.weights)


def _collect_photos(inputs):
    """Expand files and folders into (path, array) pairs; unreadable photos are skipped with a warning."""
    from albumlib import images
    photos = []
    for item in map(Path, inputs):
        if item.is_dir():
            photos.extend(images.load_album(item))
        else:
            try:
                photos.append((item, images.load_image(item)))
            except (images.ImageError, OSError) as err:
                print(f"warning: skipping {item}: {err}", file=sys.stderr)
    if not photos:
        raise SystemExit(f"error: no readable photo in {', '.join(map(str, inputs))}")
    return photos


def _repaint(photos, styles_for_photo, out_dir, kwargs, overwrite, blend=None):
    """Repaint each photo and save it as <photo>_<style>.jpg in out_dir; returns the written paths."""
    from albumlib import images
    from albumlib.style import gatys
    from albumlib.fileio import unique_path
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i, (path, array) in enumerate(photos):
        style = styles_for_photo(i)
        label = "+".join(Path(str(s)).stem for s in (style if isinstance(style, list) else [style]))
        target = out_dir / f"{Path(path).stem}_{label}.jpg"
        if target.exists() and not overwrite:
            target = unique_path(target)
        start = time.perf_counter()
        result = gatys.stylize(array, style, blend_weights=blend, **kwargs)
        images.save_image(result.image, target, overwrite=True)
        print(f"[{i + 1}/{len(photos)}] {Path(path).name} + {label} -> {target} "
              f"({time.perf_counter() - start:.1f} s, final loss {result.history['total'][-1]:.4g})")
        written.append(target)
    return written


def cmd_gatys_demo(args):
    """Repaint the bundled sample album, one bundled style per photo, with Gatys' method."""
    from albumlib import images, paths
    from albumlib.style import styles
    from albumlib.profiles import get_profile
    profile = get_profile()
    _check_output_folder(args.output)
    _import_tensorflow(args)
    limit = profile.album_limit if args.limit is None else args.limit
    photos = images.load_album(paths.data_path("album"), limit=limit or None)
    names = styles.list_styles()
    kwargs = _gatys_kwargs(args)
    kwargs["steps"] = profile.demo_steps if args.steps is None else args.steps
    print(f"profile {profile.name}: repainting {len(photos)} photos with Gatys' method "
          f"({kwargs['steps']} steps each) into {args.output}")
    start = time.perf_counter()
    written = _repaint(photos, lambda i: names[i % len(names)], args.output, kwargs, overwrite=True)
    sheet = images.save_image(contact_sheet([a for _, a in photos], [images.load_image(p) for p in written]),
                              Path(args.output) / "contact_sheet.jpg", overwrite=True)
    print(f"done in {time.perf_counter() - start:.0f} s; side by side: {sheet}")
    return 0


def contact_sheet(originals, repainted, height=160):
    """One image: each original above its repainted version, side by side (the demo's summary)."""
    from albumlib.film import album
    return album.contact_sheet(originals, repainted, height=height)


def _check_output_folder(folder, what="the repainted photos"):
    """One 'error: ...' line, before any work, when `folder` cannot be written."""
    from albumlib import fileio
    try:
        fileio.check_writable(folder, f"{what} into {folder}")
    except fileio.NotWritableError as err:
        raise SystemExit(f"error: {err}") from None


def cmd_gatys(args):
    """Repaint the given photos in the given style(s)."""
    _check_output_folder(args.output)
    _import_tensorflow(args)
    photos = _collect_photos(args.inputs)
    style = args.style if len(args.style) > 1 else args.style[0]
    _repaint(photos, lambda i: style, args.output, _gatys_kwargs(args), args.overwrite, blend=args.blend)
    return 0


def cmd_styles(args):
    """Print the bundled styles."""
    from albumlib.style import styles
    for name in styles.list_styles():
        print(name)
    return 0


def _numpy_is_quicker(net, args):
    """True when numpy_net's estimated time for all the photos stays below NUMPY_SECONDS."""
    from albumlib.style import stylize
    seconds = 0.0
    for size in stylize.photo_sizes(args.photos, args.max_side):
        seconds += net.estimated_seconds([size])
        if seconds > NUMPY_SECONDS:
            return False
    return True


def _stylize_network(args, choice):
    """(network, engine) for `stylize --engine`: numpy_net's network (no TensorFlow) or the
    Keras model; auto takes numpy for a few photos and a network it runs, else Keras."""
    if args.engine != "keras":
        from albumlib.style import numpy_net
        try:
            net = numpy_net.load_choice(choice)
        except numpy_net.Unsupported:
            if args.engine == "numpy":
                raise
        else:
            if args.engine == "numpy" or _numpy_is_quicker(net, args):
                return net, "numpy"
    _import_tensorflow(args)
    from albumlib.style import style_nets
    return style_nets.load_choice(choice, precision=args.precision), "keras"


def cmd_stylize(args):
    """Repaint photos and albums with a trained fast style network."""
    _check_output_folder(args.output)
    from albumlib import images
    from albumlib.style import style_nets, stylize
    try:
        choice = style_nets.find(args.style)
        model, engine = _stylize_network(args, choice)
    except (ValueError, OSError) as err:
        raise SystemExit(f"error: {err}") from None
    start = time.perf_counter()
    try:
        written = stylize.stylize_album(
            args.photos, model, args.output, max_side=args.max_side, batch_size=args.batch_size,
            strength=args.strength, preserve_color=args.preserve_color,
            suffix=f"_{choice.label}" if args.suffix is None else args.suffix,
            overwrite=args.overwrite, progress=not args.no_progress)
    except (images.ImageError, FileNotFoundError) as err:
        raise SystemExit(f"error: {err}") from None
    for target in written:
        print(f"-> {target}")
    print(f"repainted {len(written)} photo(s) with {choice.label} ({choice.path.name}) in "
          f"{time.perf_counter() - start:.1f} s into {args.output} ({engine} engine)")
    return 0


def _style_stem(style):
    """'starry_night' -> 'starry_night', 'paintings/my cat.jpg' -> 'my cat' (export names)."""
    from albumlib.style import styles
    key = styles.style_key(style)
    return key if key in styles.STYLES else Path(style).stem


def cmd_train_style(args):
    """Train (or resume) a fast style network, then export it into the out folder."""
    from albumlib.style import fast_train, styles
    try:
        for style in args.style:
            styles.style_path(style)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    chosen = args.style[0] if len(args.style) == 1 else list(args.style)
    names = [_style_stem(s) for s in args.style]
    if len(names) > 1 or args.base:     # names that choose and mix styles: words and underscores
        names = ["_".join("".join(c if c.isalnum() else " " for c in n.lower()).split()) or "style"
                 for n in names]
    if len(set(names)) < len(names):
        raise SystemExit(f"error: two styles have the same name ({', '.join(names)}): rename one")
    if args.style_weights is not None and len(args.style_weights) != len(names):
        raise SystemExit(f"error: --style-weights gives {len(args.style_weights)} weights for "
                         f"{len(names)} styles: give one per --style")
    if args.base and len(names) > 1:
        raise SystemExit("error: --base learns one new painting at a time: give one --style")
    _check_output_folder(args.out, "the checkpoint and the trained network")
    base = None
    if args.base:                       # the network's shape is the base's
        _import_tensorflow(args)
        from albumlib.style import style_nets
        try:
            base = str(style_nets.resolve(args.base))
            arch = fast_train.base_architecture(base)
        except (ValueError, OSError) as err:
            raise SystemExit(f"error: {err}") from None
        args.filters, args.residual_blocks = list(arch["filters"]), arch["residual_blocks"]
        args.upsample = arch["upsample"]
        args.outer_kernel = arch.get("outer_kernel", 9)
    try:
        fast_train.check_checkpoint(Path(args.out) / fast_train.CHECKPOINT,
                                    fast_train.TrainConfig(
                                        style=chosen, data_dir="", out_dir=args.out,
                                        filters=tuple(args.filters), upsample=args.upsample,
                                        residual_blocks=args.residual_blocks, base=base,
                                        outer_kernel=args.outer_kernel))
    except fast_train.CheckpointError as err:
        raise SystemExit(f"error: {err}") from None
    _import_tensorflow(args)
    from albumlib.style import fast_style, image_data, style_nets
    if args.coco:
        from albumlib.style import coco
        data_dir = coco.coco_train2014()
    elif args.corpus:
        from albumlib.style import photo_corpus
        try:
            data_dir = photo_corpus.corpus_dir(build=True)
        except (OSError, RuntimeError) as err:
            raise SystemExit(f"error: the photo corpus: {err}") from None
    else:
        data_dir = Path(args.data_dir)
        if not data_dir.is_dir():
            raise SystemExit(f"error: {data_dir}: no such folder of training photos")
    strategy = None
    if args.multi_gpu:
        import tensorflow as tf
        strategy = tf.distribute.MirroredStrategy()
        print(f"multi-GPU: {strategy.num_replicas_in_sync} replica(s), "
              f"{args.batch_size / strategy.num_replicas_in_sync:g} photos each per step")
    if args.style_weights and len(names) == 1:       # one style: its weight is the style weight
        args.style_weight = args.style_weights[0]
    loss_weights = {k: v for k, v in (("content", args.content_weight),
                                      ("style", args.style_weight),
                                      ("tv", args.tv_weight)) if v is not None}
    config = fast_train.TrainConfig(
        style=chosen, data_dir=str(data_dir), out_dir=args.out, steps=args.steps,
        crop=args.crop, batch_size=args.batch_size, learning_rate=args.lr,
        checkpoint_every=args.checkpoint_every, seed=args.seed, upsample=args.upsample,
        filters=tuple(args.filters), residual_blocks=args.residual_blocks,
        outer_kernel=args.outer_kernel, mixed_precision=args.mixed_precision, precision=args.precision,
        style_weights=tuple(args.style_weights) if args.style_weights and len(names) > 1 else None,
        style_size=args.style_size,
        loss_weights=loss_weights or None, weights=args.weights, base=base)
    if (args.style_layers or ("balanced" if base else "equal")) == "balanced":
        config = dataclasses.replace(config, style_layer_weights=fast_train.balanced_layer_weights(config))
    n_images = image_data.dataset_size(data_dir)
    if base:
        print(f"learning {names[0]} on top of {base}: only its (gamma, beta) are trained")
    print(f"training a fast network for {', '.join(args.style)} on {n_images:,} photos in {data_dir}: "
          f"{args.steps} steps of {args.batch_size} crops of {args.crop} px into {args.out}")
    start = time.perf_counter()
    try:
        result = fast_train.train(config, strategy=strategy, progress=not args.no_progress)
    except fast_train.CheckpointError as err:
        raise SystemExit(f"error: {err}") from None
    wall = time.perf_counter() - start
    history = result.history
    steps_done = history["step"][-1] if history["step"] else result.resumed_from
    info = {
        "style": args.style[0] if len(args.style) == 1 else names,
        "style_file": [str(styles.style_path(s)) for s in args.style] if len(names) > 1
        else str(styles.style_path(args.style[0])),
        "steps": steps_done,
        "data_dir": str(data_dir),
        "images": n_images,
        "crop": args.crop,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "loss_weights": {**fast_style.DEFAULT_WEIGHTS, **loss_weights},
        "style_size": args.style_size,
        "mixed_precision": bool(args.mixed_precision),
        "precision": fast_train.resolve_precision(config),
        "replicas": strategy.num_replicas_in_sync if strategy is not None else 1,
        "resumed_from": result.resumed_from,
        "train_seconds": round(float(sum(history["seconds"])), 3),
        "wall_seconds": round(wall, 3),
        "final_losses": {k: history[k][-1] for k in ("total", "content", "style", "tv")
                         if history.get(k)},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if len(names) > 1:
        info["styles"] = names          # the names that choose and mix them
        if args.style_weights:
            info["style_weights"] = dict(zip(names, args.style_weights))
    if config.style_layer_weights is not None:     # one row, or a row per style (quality reads it)
        rows = config.style_layer_weights
        info["style_layer_weights"] = dict(zip(names, rows)) if config.styles is not None else rows
    name = args.name or (names[0] if len(names) == 1 else "paintings")
    if base:
        learnt = style_nets.export_style(result.model, args.out, name, base, info=info)
        print(f"trained to step {steps_done} in {wall:.0f} s; wrote {learnt} "
              f"({learnt.stat().st_size / 1000:.0f} kB); repaint photos with:\n"
              f"  python -m albumlib stylize PHOTOS --style {learnt} -o OUT\n"
              f"  python -m albumlib make-album PHOTOS --style {learnt}:{names[0]}=0.7,"
              f"{style_nets.style_names(base)[0]}=0.3 -o film.mp4")
        return 0
    written = style_nets.export(result.model, args.out, name, info=info)
    losses = ", ".join(f"{k} {v:.4g}" for k, v in info["final_losses"].items())
    print(f"trained to step {steps_done} in {wall:.0f} s ({losses})")
    print(f"exported {written['npz']} and {written['keras']}; repaint photos with:\n"
          f"  python -m albumlib stylize PHOTOS --style {written['npz']} -o OUT")
    if len(names) > 1:
        print(f"  (copy it into data/fast_styles to choose its styles by name: --style {names[0]}, "
              f"or mix them: --style {names[0]}=0.7,{names[1]}=0.3)")
    return 0


class Terminated(KeyboardInterrupt):
    """SIGTERM (timeout, systemd, docker stop), raised like Ctrl-C so that every cleanup runs."""


def _raise_terminated(signum, frame):
    raise Terminated()


def _one_line(text):
    """The first line of an error message, with a pointer to --debug when there was more."""
    lines = [line for line in str(text).strip().splitlines() if line.strip()] or ["(no message)"]
    more = " (more with --debug)" if len(lines) > 1 else ""
    return lines[0].rstrip(" :") + more


def _run_command(command, args, debug):
    """Run one command; a failure becomes SystemExit('error: <one line>'), an interrupt a code."""
    try:
        return command(args)
    except KeyboardInterrupt as exc:
        name = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C"
        print(f"interrupted ({name}): stopped; no partial output was left", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    except SystemExit as exc:       # 'error: ...' from a command: its first line alone
        if isinstance(exc.code, str) and not debug:
            raise SystemExit(_one_line(exc.code)) from None
        raise
    except Exception as exc:        # noqa: BLE001 - the CLI's last line of defence
        if debug:
            raise
        message = _one_line(f"{type(exc).__name__}: {exc}")
        raise SystemExit(f"error: {message}; run again with --debug for the traceback") from None


def main(argv=None):
    """Entry point of `python -m albumlib` and the `albumlib` command."""
    from albumlib import fileio
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(args.debug or os.environ.get("ALBUM_DEBUG", "").strip() not in ("", "0"))
    args.debug = debug
    if not debug:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # TensorFlow's info lines, later on
    commands = {"make-album": cmd_make_album, "demo": cmd_demo, "gatys-demo": cmd_gatys_demo,
                "gatys": cmd_gatys, "styles": cmd_styles, "stylize": cmd_stylize,
                "train-style": cmd_train_style, **parser.music_commands}
    previous = warnings.formatwarning
    warnings.formatwarning = _warning_format(previous)
    fileio.remove_stale_temp_dirs()    # what killed runs (SIGKILL) left in the temporary folder
    main_thread = threading.current_thread() is threading.main_thread()
    handler = signal.signal(signal.SIGTERM, _raise_terminated) if main_thread else None
    try:
        return _run_command(commands[args.command], args, debug)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, handler)
        warnings.formatwarning = previous
