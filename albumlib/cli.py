"""The command line, `python -m albumlib COMMAND`: the top-level parser, dispatch and what every
command shares (one-line errors, warnings, signals, argparse types, TensorFlow's quiet import).

The commands live with their phase:

- albumlib.film.commands:  make-album (a folder of photos -> a film), make-films (a library ->
  one film per event), demo (the bundled sample album as a film)
- albumlib.style.commands: gatys-demo, gatys, styles, stylize, train-style
- albumlib.music.commands: train-music, compose

Each module's `add_parsers(sub)` adds its commands and returns {name: function(args)}.
"""

import argparse
import os
import signal
import sys
import threading
import warnings

import numpy as np


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit code 2)."""

    def error(self, message):
        """Print '<prog>: error: <message> (see <prog> --help)' and exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    """The argument parser of `python -m albumlib`; `parser.commands` maps names to functions."""
    from albumlib.film import commands as film_commands
    from albumlib.music import commands as music_commands
    from albumlib.style import commands as style_commands

    parser = _Parser(prog="python -m albumlib",
                     description="Turn a photo album into a short film (albumlib).")
    parser.add_argument("--debug", action="store_true", default=False,
                        help="show full tracebacks and tool output on errors (also ALBUM_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True)
    parser.commands = {**film_commands.add_parsers(sub), **style_commands.add_parsers(sub),
                       **music_commands.add_parsers(sub)}
    for command in sub.choices.values():   # --debug after the command name too
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show full tracebacks and tool output on errors")
    return parser


# ---------------------------------------------------------------------------------------------
# argparse types shared by the commands
# ---------------------------------------------------------------------------------------------

def number_type(convert, ok, wanted, noun="a number"):
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


positive_int = number_type(int, lambda v: v >= 1, "a number >= 1", "a whole number")
whole_number = number_type(int, lambda v: v >= 0, "a number >= 0", "a whole number")
unit_float = number_type(float, lambda v: 0.0 <= v <= 1.0, "a number between 0 and 1")
positive_float = number_type(float, lambda v: bool(np.isfinite(v)) and v > 0, "a number > 0")
seconds = number_type(float, lambda v: bool(np.isfinite(v)) and v >= 0,
                      "a number of seconds >= 0", "a number of seconds")


def canvas(text):
    """argparse type: a canvas preset or WIDTHxHEIGHT (checked by canvas.canvas_size)."""
    from albumlib.film import canvas as film_canvas
    try:
        film_canvas.canvas_size(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


# ---------------------------------------------------------------------------------------------
# Helpers of the commands
# ---------------------------------------------------------------------------------------------

def import_tensorflow(args):
    """Import TensorFlow without the lines its native start-up prints on stderr (kept with --debug).

    Called by the commands that need it, after their own checks, so that an early error is not
    buried under them; the lines are shown if the import fails.
    """
    if getattr(args, "debug", False) or "tensorflow" in sys.modules:
        return
    import importlib
    import tempfile
    sys.stderr.flush()
    with tempfile.TemporaryFile(mode="w+") as log:
        saved = os.dup(2)
        os.dup2(log.fileno(), 2)
        try:
            importlib.import_module("tensorflow")
        except BaseException:
            os.dup2(saved, 2)
            log.seek(0)
            sys.stderr.write(log.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def check_output_folder(folder, what="the repainted photos"):
    """One 'error: ...' line, before any work, when `folder` cannot be written."""
    from albumlib import fileio
    try:
        fileio.check_writable(folder, f"{what} into {folder}")
    except fileio.NotWritableError as err:
        raise SystemExit(f"error: {err}") from None


def _warning_format(fallback):
    """A warnings.formatwarning that shows albumlib's warnings (skipped photos, codec fallbacks)
    as plain 'warning: ...' lines and leaves the others to `fallback`."""
    def format_warning(message, category, filename, lineno, line=None):
        if category.__module__.startswith("albumlib"):
            return f"warning: {message}\n"
        return fallback(message, category, filename, lineno, line)
    return format_warning


# ---------------------------------------------------------------------------------------------
# Running a command: one-line errors, interrupts
# ---------------------------------------------------------------------------------------------

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
    previous = warnings.formatwarning
    warnings.formatwarning = _warning_format(previous)
    fileio.remove_stale_temp_dirs()    # what killed runs (SIGKILL) left in the temporary folder
    main_thread = threading.current_thread() is threading.main_thread()
    handler = signal.signal(signal.SIGTERM, _raise_terminated) if main_thread else None
    try:
        return _run_command(parser.commands[args.command], args, debug)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, handler)
        warnings.formatwarning = previous
