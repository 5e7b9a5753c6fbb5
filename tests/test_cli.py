"""The command line: repaint photos, skip bad ones, never overwrite, odd file names work."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from albumlib import cli, images, paths

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


def test_demo_writes_repainted_photos(tmp_path, monkeypatch):
    monkeypatch.setenv("ALBUM_PROFILE", "smoke")
    assert cli.main(["demo", "-o", str(tmp_path), "--limit", "2"] + FAST) == 0
    outs = sorted(p.name for p in tmp_path.glob("*.jpg"))
    assert outs == ["01_astronaut_starry_night.jpg", "02_rocket_wave.jpg", "contact_sheet.jpg"]
    sheet = images.load_image(tmp_path / "contact_sheet.jpg")
    assert sheet.shape[0] == 320 and sheet.shape[1] > 300      # two rows of 160 px, two columns


def test_module_entry_point_lists_styles():
    done = subprocess.run([sys.executable, "-m", "albumlib", "styles"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    assert "starry_night" in done.stdout.split() and len(done.stdout.split()) == 6
