"""Errors come early, in one line, and leave nothing behind (issue 11).

Each hostile but ordinary situation is reproduced: a read-only output folder, a damaged or
mismatched training checkpoint, SIGTERM and Ctrl-C sent to a running film, leftovers of killed
runs, a film too long to make, an unexpected exception in a command.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from albumlib import cli, fileio, paths
from albumlib.film import album as pipeline
from albumlib.film import repaint, timeline
from albumlib.style import commands as style_commands
from albumlib.style import fast_train

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--filters", "8", "16", "16", "--residual-blocks", "1", "--crop", "32", "--batch-size", "2",
        "--no-progress"]


@contextlib.contextmanager
def read_only(folder):
    """Make `folder` read-only for this process, as root too (immutable flag or read-only mount)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        folder.chmod(0o555)
        undo = [lambda: folder.chmod(0o755)]
    elif subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0:
        undo = [lambda: subprocess.run(["chattr", "-i", str(folder)], check=True)]
    else:
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
        undo = [lambda: subprocess.run(["umount", str(folder)], check=True)]
    try:
        assert fileio.writable_problem(folder), "the folder should be read-only now"
        yield folder
    finally:
        for step in undo:
            step()


@pytest.fixture
def photos(tmp_path):
    """A small album of three bundled photos."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in sorted(os.listdir(paths.data_path("album")))[:3]:
        if name.endswith(".jpg"):
            shutil.copy(paths.data_path("album", name), folder / name)
    return folder


@pytest.fixture
def no_work(monkeypatch):
    """Make any repainting or music work fail the test: errors must come before it."""
    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the error was found")
    monkeypatch.setattr(repaint, "repaint_photos", forbidden)
    monkeypatch.setattr(pipeline, "_prepare_music", forbidden)


def _one_line(exc_info):
    message = str(exc_info.value.code)
    assert "\n" not in message.strip(), message
    return message


# --- output locations that cannot be written ---------------------------------------------------

@pytest.mark.parametrize("where", ["output", "work-dir", "contact-sheet"])
def test_make_album_read_only_outputs_fail_before_any_work(photos, tmp_path, no_work, where):
    with read_only(tmp_path / "ro") as ro:
        film = ro / "film.mp4" if where in ("output", "contact-sheet") else tmp_path / "film.mp4"
        args = ["make-album", str(photos), "-o", str(film), "--no-progress"]
        if where == "work-dir":
            args += ["--work-dir", str(ro / "work")]
        if where == "contact-sheet":
            args += ["--contact-sheet"]
        with pytest.raises(SystemExit) as exc:
            cli.main(args)
        message = _one_line(exc)
        assert message.startswith("error: cannot write") and str(ro) in message
        assert not list(ro.iterdir())
    assert not (tmp_path / "film.mp4").exists()


@pytest.mark.parametrize("command", ["stylize", "gatys", "train-style", "demo"])
def test_other_commands_check_their_output_folder_first(photos, tmp_path, command, monkeypatch):
    from albumlib.style import gatys, style_nets
    monkeypatch.setattr(style_nets, "load", lambda *a: pytest.fail("loaded before the check"))
    monkeypatch.setattr(gatys, "stylize", lambda *a, **k: pytest.fail("worked before the check"))
    monkeypatch.setattr(fast_train, "train", lambda *a, **k: pytest.fail("trained before the check"))
    monkeypatch.setattr(repaint, "repaint_photos", lambda *a, **k: pytest.fail("repainted"))
    with read_only(tmp_path / "ro") as ro:
        out = str(ro / "out")
        args = {"stylize": ["stylize", str(photos), "--style", "wave", "-o", out],
                "gatys": ["gatys", str(photos), "--style", "wave", "-o", out],
                "train-style": ["train-style", "--style", "wave", "--data-dir", str(photos),
                                "--out", out],
                "demo": ["demo", "-o", out]}[command]
        with pytest.raises(SystemExit) as exc:
            cli.main(args)
        assert _one_line(exc).startswith("error: cannot write") and str(ro) in str(exc.value)


def test_an_unwritable_temporary_folder_is_said_up_front(photos, tmp_path, no_work, monkeypatch):
    with read_only(tmp_path / "ro") as ro:
        monkeypatch.setattr("tempfile.tempdir", str(ro))
        with pytest.raises(SystemExit, match="temporary files.*TMPDIR"):
            cli.main(["make-album", str(photos), "-o", str(tmp_path / "f.mp4"), "--no-progress"])


def test_writable_problem_names_a_file_in_the_way(tmp_path):
    (tmp_path / "file").write_text("x")
    assert "is not a folder" in fileio.writable_problem(tmp_path / "file" / "sub")
    assert fileio.writable_problem(tmp_path / "new" / "deeper") is None
    assert not (tmp_path / "new").exists()          # checking creates nothing


# --- damaged checkpoints ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A real one-step checkpoint of a tiny network (filters 8 16 16, one residual block)."""
    out = tmp_path_factory.mktemp("ckpt")
    assert cli.main(["train-style", "--style", "wave", "--data-dir", str(paths.data_path("album")),
                     "--out", str(out), "--steps", "1"] + TINY) == 0
    return (out / fast_train.CHECKPOINT).read_bytes()


@pytest.mark.parametrize("damage", ["truncated", "empty", "random bytes"])
def test_train_style_on_a_damaged_checkpoint(checkpoint, tmp_path, damage, monkeypatch):
    out = tmp_path / "run"
    out.mkdir()
    data = {"truncated": checkpoint[:len(checkpoint) // 2], "empty": b"",
            "random bytes": np.random.default_rng(0).bytes(5000)}[damage]
    (out / fast_train.CHECKPOINT).write_bytes(data)
    monkeypatch.setattr(fast_train, "_build", lambda *a: pytest.fail("built before the check"))
    with pytest.raises(SystemExit) as exc:
        cli.main(["train-style", "--style", "wave", "--data-dir", str(paths.data_path("album")),
                  "--out", str(out), "--steps", "2"] + TINY)
    message = _one_line(exc)
    assert str(out / fast_train.CHECKPOINT) in message and "delete it" in message
    assert (out / fast_train.CHECKPOINT).read_bytes() == data            # never overwritten
    assert sorted(p.name for p in out.iterdir()) == [fast_train.CHECKPOINT]


def test_train_style_with_other_filters_names_the_settings_to_pass(checkpoint, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / fast_train.CHECKPOINT).write_bytes(checkpoint)
    args = ["train-style", "--style", "wave", "--data-dir", str(paths.data_path("album")),
            "--out", str(out), "--steps", "2"] + TINY
    args[args.index("--filters") + 1:args.index("--filters") + 4] = ["4", "8", "8"]
    with pytest.raises(SystemExit) as exc:
        cli.main(args)
    message = _one_line(exc)
    assert "--filters 8 16 16 --residual-blocks 1" in message and "delete it" in message
    assert (out / fast_train.CHECKPOINT).read_bytes() == checkpoint


def test_a_checkpoint_without_settings_that_does_not_fit(checkpoint, tmp_path):
    """Checkpoints written before the settings were stored: the weights' shapes decide."""
    import keras
    from albumlib.style import fast_style
    path = tmp_path / "old.npz"
    with np.load(__import__("io").BytesIO(checkpoint)) as data:
        np.savez(path, **{k: data[k] for k in data.files if k != "network"})
    model = fast_style.build_transform_net(filters=(4, 8, 8), residual_blocks=1)
    with pytest.raises(fast_train.CheckpointError, match=r"old\.npz.*do not fit.*delete it"):
        fast_train.load_checkpoint(path, model, keras.optimizers.Adam())


# --- SIGTERM, Ctrl-C and leftovers of killed runs ------------------------------------------------

def _film_process(photos, film, tmpdir):
    """make-album in a child process, slow enough to be caught while encoding."""
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "albumlib", "make-album", str(photos), "-o", str(film),
           "--style", "none", "--music", "none", "--ken-burns", "--seconds-per-photo", "30",
           "--size", "640x360", "--no-progress"]
    # (a shell without job control starts background jobs with SIGINT ignored, and Python then
    # keeps ignoring it: give the child the default, as a terminal would)
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_the_film_leaves_nothing_and_says_one_line(photos, tmp_path, sig):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    out = tmp_path / "out"
    proc = _film_process(photos, out / "film.mp4", tmpdir)
    deadline = time.monotonic() + 120
    while not list(out.glob(".film.p*.tmp.mp4")) and proc.poll() is None:
        assert time.monotonic() < deadline, "the film never started encoding"
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()
    time.sleep(0.3)
    proc.send_signal(sig)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == (143 if sig == signal.SIGTERM else 130), stderr
    assert "Traceback" not in stderr
    name = "SIGTERM" if sig == signal.SIGTERM else "Ctrl-C"
    assert stderr.strip().splitlines()[-1] == (f"interrupted ({name}): stopped; no partial "
                                               f"output was left")
    assert not list(out.iterdir())                          # no film, no hidden partial
    assert not list(tmpdir.iterdir())                       # no temporary folders


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftovers_of_killed_runs_are_removed_by_a_later_run(tmp_path):
    dead = _dead_pid()
    beside = tmp_path / "out"
    beside.mkdir()
    stale = beside / f".film.p{dead}-abc123.tmp.mp4"
    live = beside / f".film.p{os.getpid()}-def456.tmp.mp4"      # a run that is still going
    other = beside / f".other.p{dead}-abc123.tmp.mp4"           # another file's partial
    for p in (stale, live, other):
        p.write_bytes(b"partial")
    with fileio.atomic_path(beside / "film.mp4") as tmp:
        tmp.write_bytes(b"whole")
    assert not stale.exists() and live.exists() and other.exists()
    assert (beside / "film.mp4").read_bytes() == b"whole"

    temp = tmp_path / "tmp"
    (temp / f"albumlib-film-p{dead}-x1").mkdir(parents=True)
    (temp / f"albumlib-film-p{dead}-x1" / "soundtrack.wav").write_bytes(b"x")
    (temp / f"albumlib-album-p{os.getpid()}-x2").mkdir()
    (temp / "albumlib-unrelated").mkdir()
    assert fileio.remove_stale_temp_dirs(temp) == [temp / f"albumlib-film-p{dead}-x1"]
    assert sorted(p.name for p in temp.iterdir()) == [f"albumlib-album-p{os.getpid()}-x2",
                                                      "albumlib-unrelated"]


def test_the_cli_clears_stale_temporary_folders_at_start(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    stale = tmp_path / f"albumlib-video-p{_dead_pid()}-zz"
    stale.mkdir()
    assert cli.main(["styles"]) == 0
    assert not stale.exists()


def test_an_interrupt_while_atomic_path_starts_leaves_no_file(tmp_path, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt
    monkeypatch.setattr(fileio.os, "chmod", interrupted)
    with pytest.raises(KeyboardInterrupt):
        with fileio.atomic_path(tmp_path / "a.png"):
            pass
    assert not list(tmp_path.iterdir())


# --- films too long to make ---------------------------------------------------------------------

@pytest.mark.parametrize("seconds, music", [("1e6", []), ("1e7", ["--music-seed", "1"]),
                                            ("2401", [])])
def test_a_film_too_long_is_refused_up_front(photos, tmp_path, no_work, seconds, music):
    with pytest.raises(SystemExit) as exc:
        cli.main(["make-album", str(photos), "-o", str(tmp_path / "f.mp4"), "--seconds-per-photo",
                  seconds, "--no-progress"] + music)
    message = _one_line(exc)
    assert f"limit of {timeline.MAX_FILM_SECONDS} s" in message and "3 photos" in message
    assert not list(tmp_path.glob("*.mp4"))


def test_plan_timeline_refuses_a_film_past_the_limit_and_takes_one_at_it():
    assert timeline.plan_timeline(2, timeline.MAX_FILM_SECONDS / 2, fps=30).duration == \
        timeline.MAX_FILM_SECONDS
    with pytest.raises(ValueError, match="limit"):
        timeline.plan_timeline(2, timeline.MAX_FILM_SECONDS, fps=30)
    with pytest.raises(ValueError, match="limit"):
        timeline.plan_timeline(3, 1.0, audio_seconds=timeline.MAX_FILM_SECONDS + 1)


# --- every CLI error is one line ------------------------------------------------------------------

def test_an_unexpected_error_is_one_line_and_debug_shows_it(monkeypatch):
    def broken(args):
        raise RuntimeError("something odd\nwith a second line")
    monkeypatch.setattr(style_commands, "cmd_styles", broken)
    with pytest.raises(SystemExit) as exc:
        cli.main(["styles"])
    assert _one_line(exc) == ("error: RuntimeError: something odd (more with --debug); run again "
                              "with --debug for the traceback")
    with pytest.raises(RuntimeError, match="something odd"):
        cli.main(["--debug", "styles"])
    with pytest.raises(RuntimeError):
        cli.main(["styles", "--debug"])
    monkeypatch.setenv("ALBUM_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli.main(["styles"])


def test_multi_line_command_errors_keep_their_first_line(monkeypatch):
    def failing(args):
        raise SystemExit("error: ffmpeg failed (exit code 1):\n[libx264] details\nmore")
    monkeypatch.setattr(style_commands, "cmd_styles", failing)
    with pytest.raises(SystemExit) as exc:
        cli.main(["styles"])
    assert exc.value.code == "error: ffmpeg failed (exit code 1) (more with --debug)"


@pytest.mark.parametrize("args", [["make-album"], ["make-album", "x", "--fps", "abc"], ["nope"]])
def test_usage_errors_are_one_line_on_stderr(args):
    done = subprocess.run([sys.executable, "-m", "albumlib", *args], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "error:" in done.stderr and "--help" in done.stderr


def test_an_error_after_tensorflow_started_is_still_the_only_line(photos, tmp_path):
    """TensorFlow's native start-up lines stay off stderr; the error is all a user reads."""
    bad = tmp_path / "song.mp3"
    bad.write_bytes(b"not music at all" * 100)
    done = subprocess.run([sys.executable, "-m", "albumlib", "make-album", str(photos), "-o",
                           str(tmp_path / "f.mp4"), "--music", str(bad), "--no-progress"],
                          cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()], done.stderr
    assert done.stderr.startswith("error: ") and "song.mp3" in done.stderr
    assert not (tmp_path / "f.mp4").exists()
