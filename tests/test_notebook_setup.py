"""Every notebook's first cell shows the profile; the repository's address comes from one place."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from scripts_loader import load_script

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))      # the six, and their appendices
MAIN = [p for p in NOTEBOOKS if re.match(r"\d\d_", p.name)]


def _sync_script():
    return load_script("sync_repo_url")


def _first_code_cell(path):
    return next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")


def test_there_are_six_notebooks_and_appendices_beside_them():
    assert [p.name[:2] for p in MAIN] == ["01", "02", "03", "04", "05", "06"]
    for path in set(NOTEBOOKS) - set(MAIN):      # 02a_appendix_...: an appendix of notebook 02
        assert re.match(r"\d\da_appendix_", path.name) and path.name[:2] in {p.name[:2] for p in MAIN}


# Notebooks still over the limit, with the issue that shortens them (remove them as they are done).
TOO_LONG_FOR_NOW = {}


def test_notebooks_stay_short():
    for path in NOTEBOOKS:
        cells = len(nbformat.read(path, as_version=4).cells)
        if path.name[:2] in TOO_LONG_FOR_NOW and path in MAIN:
            assert cells > 72, f"{path.name} is short now: take it off TOO_LONG_FOR_NOW"
        else:
            assert cells <= 72, f"{path.name} has {cells} cells: move side topics to an appendix"


def test_notebooks_use_the_repository_url_of_pyproject():
    sync = _sync_script()
    url = sync.repository_url(ROOT)
    differ = sync.sync(ROOT, write=False)
    assert not differ, (f"{', '.join(p.name for p in differ)} differ from pyproject.toml's "
                        f"[project.urls] Repository = {url!r}: run `python scripts/sync_repo_url.py`")
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        badge = sync.colab_url(url, path.name)
        assert badge in nb.cells[0].source, f"{path.name}: no Open-in-Colab badge {badge} in the first cell"
        assert f'REPO_URL = "{url}"' in _first_code_cell(path).source, path.name


def test_a_fork_changes_one_line_and_runs_the_script(tmp_path):
    sync = _sync_script()
    (tmp_path / "notebooks").mkdir()
    for path in NOTEBOOKS:
        shutil.copy(path, tmp_path / "notebooks" / path.name)
    readme = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](" \
             "https://colab.research.google.com/github/album-film/album-film/blob/main/notebooks/01_x.ipynb)\n"
    (tmp_path / "README.md").write_text(readme)
    pyproject = (ROOT / "pyproject.toml").read_text()
    fork = "https://github.com/alice/my-album-film"
    (tmp_path / "pyproject.toml").write_text(
        re.sub(r'^Repository = ".*"$', f'Repository = "{fork}"', pyproject, flags=re.M))
    assert sync.main(["--root", str(tmp_path), "--check"]) == 1
    assert (tmp_path / "notebooks" / NOTEBOOKS[0].name).read_bytes() == NOTEBOOKS[0].read_bytes()
    assert sync.main(["--root", str(tmp_path)]) == 0
    assert sync.sync(tmp_path, write=False) == []              # done: nothing left to change
    for path in NOTEBOOKS:
        text = (tmp_path / "notebooks" / path.name).read_text()
        assert "album-film/album-film" not in text
        assert f"colab.research.google.com/github/alice/my-album-film/blob/main/notebooks/{path.name}" in text
        before, after = nbformat.read(path, as_version=4), nbformat.read(tmp_path / "notebooks" / path.name, as_version=4)
        assert [c.id for c in before.cells] == [c.id for c in after.cells]
        assert sum(a.source != b.source for a, b in zip(before.cells, after.cells)) == 2   # badge, REPO_URL
    assert "github/alice/my-album-film/blob/main/notebooks/01_x.ipynb" in (tmp_path / "README.md").read_text()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_first_code_cell_sets_and_shows_the_profile(path):
    source = _first_code_cell(path).source
    first = source.splitlines()[0]
    assert first.startswith('ALBUM_PROFILE = ""  # ') and all(f'"{n}"' in first for n in ("smoke", "cpu", "gpu", "full"))
    assert "describe_profile()" in source and len(source.splitlines()) <= 20


@pytest.mark.parametrize("setting, env, expected", [
    ('""', "smoke", "profile smoke (ALBUM_PROFILE=smoke)"),   # CI: an empty setting keeps the environment's
    ('"cpu"', "smoke", "profile cpu (ALBUM_PROFILE=cpu)"),      # a named one wins
    ('""', None, "profile "),
])
def test_first_cell_runs_outside_colab(tmp_path, setting, env, expected):
    source = _first_code_cell(NOTEBOOKS[0]).source.replace('ALBUM_PROFILE = ""', f"ALBUM_PROFILE = {setting}", 1)
    environ = {k: v for k, v in os.environ.items() if k != "ALBUM_PROFILE"}
    if env:
        environ["ALBUM_PROFILE"] = env
    done = subprocess.run([sys.executable, "-c", source], cwd=ROOT / "notebooks", env=environ,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"project folder: {ROOT}" in done.stdout and expected in done.stdout
    assert "To change it: ALBUM_PROFILE" in done.stdout


def _cells_calling(name):
    for path in NOTEBOOKS:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and name in cell.source:
                yield path.name, cell.source


def test_long_cells_print_an_estimate():
    """The profile-sized Gatys runs and the film say how long they take first (the trainings'
    estimates are printed by fast_train.train and music_train.train themselves)."""
    gatys_runs = [(n, s) for n, s in _cells_calling("gatys.stylize(") if "steps=PROFILE.gatys_steps" in s]
    assert len(gatys_runs) >= 2
    for name, source in gatys_runs:
        assert "print_estimate_once(PROFILE.gatys_steps)" in source, name
    for name, source in list(_cells_calling("quality.gatys_curve(")) + list(_cells_calling("assemble.make_video(")):
        assert "estimate(" in source, name
    trainings = [n for n, s in _cells_calling("_train.train(") if "again" not in s]
    assert {n[:2] for n in trainings} == {"02", "04", "05"}
