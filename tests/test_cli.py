"""The command line: films and repainted photos, bad photos skipped, never overwrite, odd names."""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from albumlib import audio, cli, ffmpeg, images, paths
from albumlib.film import album as pipeline

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--size", "40", "--steps", "2"]


def test_gatys_folder_with_a_bad_file_and_odd_names(tmp_path, capsys):
    album = tmp_path / "my album ü"
    album.mkdir()
    shutil.copy(paths.data_path("album", "06_chelsea.jpg"), album / "chat 'noir' é.jpg")
    (album / "broken.jpg").write_bytes(b"not a jpeg at all")
    before = {p.name: p.read_bytes() for p in album.iterdir()}
    out = tmp_path / "new folder" / "out"
    with pytest.warns(UserWarning, match="broken.jpg"):
        assert cli.main(["gatys", str(album), "--style", "wave", "-o", str(out)] + FAST) == 0
    written = sorted(out.iterdir())
    assert [p.name for p in written] == ["chat 'noir' é_wave.jpg"]
    assert {p.name: p.read_bytes() for p in album.iterdir()} == before   # inputs untouched
    # A second run never replaces the first output.
    cli.main(["gatys", str(album / "chat 'noir' é.jpg"), "--style", "wave", "-o", str(out)] + FAST)
    assert sorted(p.name for p in out.iterdir()) == ["chat 'noir' é_wave-1.jpg", "chat 'noir' é_wave.jpg"]
    assert "->" in capsys.readouterr().out


def test_gatys_no_readable_photo_is_an_error(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"")
    with pytest.raises((SystemExit, ValueError), match="a.jpg|no readable photo"):
        cli.main(["gatys", str(tmp_path / "a.jpg"), "--style", "wave", "-o", str(tmp_path / "o")] + FAST)


def test_gatys_demo_writes_repainted_photos(tmp_path, monkeypatch):
    monkeypatch.setenv("ALBUM_PROFILE", "smoke")
    assert cli.main(["gatys-demo", "-o", str(tmp_path), "--limit", "2"] + FAST) == 0
    outs = sorted(p.name for p in tmp_path.glob("*.jpg"))
    assert outs == ["01_astronaut_starry_night.jpg", "02_rocket_wave.jpg", "contact_sheet.jpg"]
    sheet = images.load_image(tmp_path / "contact_sheet.jpg")
    assert sheet.shape[0] == 320 and sheet.shape[1] > 300      # two rows of 160 px, two columns


def test_module_entry_point_lists_styles():
    done = subprocess.run([sys.executable, "-m", "albumlib", "styles"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    assert "starry_night" in done.stdout.split() and len(done.stdout.split()) == 6


# --- make-album and demo: the film ----------------------------------------------------------

ODD = "my 'album' \"ü\" 写真"          # spaces, both quotes and non-ASCII characters
SMALL = ["--size", "160x90", "--seconds-per-photo", "0.5", "--no-progress"]


def make_photos(folder, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        a = np.full((32, 48, 3), 40 * k + 30, np.uint8)
        a[:16, :24] = (200, 80 * k, 30)
        Image.fromarray(a).save(folder / f"pic {k} 'é'.{'jpg' if k % 2 else 'png'}")
    return folder


@pytest.fixture
def odd_album(tmp_path):
    return make_photos(tmp_path / ODD)


@pytest.fixture
def wav(tmp_path):
    t = np.arange(2 * 22050) / 22050
    return audio.save_wav(tmp_path / "tune 'ü'.wav", 0.3 * np.sin(2 * np.pi * 330 * t), 22050)


def film_seconds(path):
    info = ffmpeg.probe(path)
    assert (info.width, info.height) == (160, 90)
    return info.video_seconds, info.audio_seconds


def test_make_album_odd_names_music_file_no_style(odd_album, wav, tmp_path, capsys):
    out = tmp_path / "films ü" / "new 'folder'" / "trip é.mp4"       # missing folders created
    assert cli.main(["make-album", str(odd_album), "-o", str(out), "--music", str(wav),
                     "--style", "none"] + SMALL) == 0
    seconds, music_seconds = film_seconds(out)
    assert abs(seconds - 3 * 0.5) <= 1 / 30 and abs(music_seconds - 1.5) <= 1 / 30
    said = capsys.readouterr().out
    assert "phase 1/3" in said and "phase 3/3" in said and str(out) in said


def test_make_album_bundled_style_small_max_side(odd_album, wav, tmp_path, capsys):
    out = tmp_path / "film.mp4"
    assert cli.main(["make-album", str(odd_album), "-o", str(out), "--music", str(wav),
                     "--style", "wave", "--max-side", "32", "--contact-sheet",
                     "--work-dir", str(tmp_path / "work"), "--ken-burns",
                     "--transition", "none"] + SMALL) == 0
    assert abs(film_seconds(out)[0] - 1.5) <= 1 / 30
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == [
        "pic 0 'é'_wave.jpg", "pic 1 'é'_wave.jpg", "pic 2 'é'_wave.jpg"]
    assert (tmp_path / "film_contact_sheet.jpg").is_file()
    assert "repainted 3 photo(s) with wave" in capsys.readouterr().out


def test_make_album_errors_exit_non_zero_with_a_clear_message(tmp_path):
    """A real process (no TensorFlow is imported for these): exit code and messages."""
    empty = tmp_path / "empty 'ü'"
    empty.mkdir()
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    run = [sys.executable, "-m", "albumlib", "make-album"]
    done = subprocess.run(run + [str(empty), "-o", str(tmp_path / "a.mp4")], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 1
    assert "error:" in done.stderr and "empty 'ü'" in done.stderr and "no photo" in done.stderr
    assert not (tmp_path / "a.mp4").exists()
    # A broken photo among good ones: a warning naming it, and the film is made.
    good = make_photos(tmp_path / "good")
    (good / "broken é.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    done = subprocess.run(run + [str(good), "-o", str(tmp_path / "b.mp4"), "--style", "none",
                                 "--music", "none"] + SMALL, cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 0, done.stderr
    assert "warning: skipping" in done.stderr and "broken é.jpg" in done.stderr
    assert abs(film_seconds(tmp_path / "b.mp4")[0] - 1.5) <= 1 / 30
    # An existing film is kept, and the message says how to replace it.
    done = subprocess.run(run + [str(good), "-o", str(tmp_path / "b.mp4")], cwd=ROOT, env=env,
                          capture_output=True, text=True, encoding="utf-8")
    assert done.returncode == 1 and "already exists" in done.stderr
    assert "--overwrite" in done.stderr


def test_make_album_unreadable_photo_skipped_existing_film_kept(odd_album, tmp_path):
    (odd_album / "zz broken.jpg").write_bytes(b"")
    out = tmp_path / "film.mp4"
    with pytest.warns(images.SkippedImageWarning, match="zz broken.jpg"):
        assert cli.main(["make-album", str(odd_album), "-o", str(out), "--style", "none",
                         "--music", "none"] + SMALL) == 0
    assert film_seconds(out) == (pytest.approx(1.5), None)
    before = out.read_bytes()
    with pytest.raises(SystemExit, match="already exists; pass --overwrite"):
        cli.main(["make-album", str(odd_album), "-o", str(out), "--style", "none"] + SMALL)
    assert out.read_bytes() == before
    with pytest.warns(images.SkippedImageWarning):
        assert cli.main(["make-album", str(odd_album), "-o", str(out), "--style", "none",
                         "--music", "none", "--overwrite", "--seconds-per-photo", "1"]
                        + SMALL[:2] + ["--no-progress"]) == 0
    assert film_seconds(out)[0] == pytest.approx(3.0)


def test_make_album_bad_options_are_clear_errors(odd_album, tmp_path, capsys):
    base = ["make-album", str(odd_album), "-o", str(tmp_path / "f.mp4")]
    with pytest.raises(SystemExit, match="neither a bundled style network"):
        cli.main(base + ["--style", "no such painting"])
    for bad in (["--size", "161x90"], ["--seconds-per-photo", "0"], ["--strength", "2"],
                ["--music", "a.mp3", "--music-model", "m"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(base + bad)
        assert exc.value.code == 2                  # argparse: usage error
    assert "even" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="missing.mp3"):
        cli.main(base + ["--style", "none", "--music", str(tmp_path / "missing.mp3")])
    with pytest.raises(SystemExit, match=r"\.mp4, \.m4v or \.webm"):
        cli.main(["make-album", str(odd_album), "-o", str(tmp_path / "f.avi")])


def test_make_album_without_a_music_model_plays_a_sample_piece_with_a_note(
        odd_album, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pipeline, "DEFAULT_MUSIC_MODEL", tmp_path / "music_model")
    out = tmp_path / "f.mp4"
    assert cli.main(["make-album", str(odd_album), "-o", str(out), "--style", "none"]
                    + SMALL) == 0
    said = capsys.readouterr().out
    assert "note: the default music model could not be read" in said and "--music FILE" in said
    assert "bundled sample music: 01_bach" in said
    assert film_seconds(out)[1] == pytest.approx(1.5, abs=1 / 30)


def _subcommand(name):
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


@pytest.mark.parametrize("name", ["make-album", "make-films", "demo"])
def test_help_lists_every_option_with_help_text(name, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([name, "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for action in _subcommand(name)._actions:
        assert action.help and action.help != argparse.SUPPRESS, action.dest
        shown = action.option_strings[-1] if action.option_strings else action.metavar
        assert shown in text, shown
        assert " ".join(action.help.split()[:4]) in text, action.help
    if name == "make-album":
        for option in ("--style", "--music", "--music-model", "--seconds-per-photo",
                       "--transition", "--ken-burns", "--beat-sync", "--size", "--max-side",
                       "--overwrite", "-o", "--order"):
            assert option in text
    if name == "make-films":
        for option in ("--gap", "--min-photos", "--titles", "--style", "--music", "--size",
                       "--order", "--overwrite", "(default: 8", "(default: 3)"):
            assert option in text


def test_demo_makes_a_film_of_the_sample_album(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ALBUM_PROFILE", "smoke")
    out = tmp_path / "demo ü"
    for _ in range(2):                              # a second run replaces the demo's files
        assert cli.main(["demo", "-o", str(out), "--size", "160x90", "--max-side", "32",
                         "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["album.mp4", "contact_sheet.jpg"]
    seconds, music_seconds = film_seconds(out / "album.mp4")
    assert seconds == pytest.approx(2.0) and music_seconds == pytest.approx(2.0, abs=1 / 30)
    sheet = images.load_image(out / "contact_sheet.jpg")
    assert sheet.shape[0] == 320 and sheet.shape[1] > 300   # two rows of 160 px, two columns
    said = capsys.readouterr().out
    assert "profile smoke" in said and "starry_night, wave" in said
