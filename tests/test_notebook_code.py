"""One source of truth: the code the notebooks write in #@save cells is the code albumlib runs."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import notebook_code  # noqa: E402

# The pieces of the method each notebook builds in its cells (issue 12); the check below would
# pass vacuously if a notebook lost its #@save cells, so their presence is checked too.
TAUGHT = {
    "01_losses_and_gram_matrices.ipynb": {"gram_matrix", "content_loss", "style_layer_loss",
                                          "style_loss", "total_variation_loss", "make_loss_fn",
                                          "gatys_adam"},
    "02_fast_style_transfer_training.ipynb": {"IN_EPSILON", "instance_normalize",
                                              "conditional_instance_normalize", "instance_norm",
                                              "residual_block", "train_step"},
    "04_lstm_training.ipynb": {"_grid", "_shifts", "encode", "NoteModelConfig",
                               "build_note_model"},
    "05_music_generation.ipynb": {"_sigmoid", "NumpyLSTM", "Rules", "_mask", "sample_token",
                                  "compose_notes"},
    "06_video_assembly.ipynb": {"even_boundaries", "crossfade_weight", "blend", "rawvideo_input",
                                "pipe_frames", "split_events"},
}


def test_notebooks_and_library_agree():
    diffs = notebook_code.differences()
    assert not diffs, "\n".join(f"{s.notebook} cell {s.cell}: {why}" for s, why in diffs)


def test_each_notebook_builds_its_pieces():
    for name, wanted in TAUGHT.items():
        got = {s.name for s in notebook_code.saved_cells(ROOT / "notebooks" / name)}
        assert wanted <= got, f"{name} no longer builds {sorted(wanted - got)} in #@save cells"


def _notebook(tmp_path, source):
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
                     "execution_count": None}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_a_drifted_copy_is_caught_and_written_back(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "mod.py").write_text('X = 1\n\n\ndef f(a):\n    """Doc."""\n    return a + 1\n')
    monkeypatch.setattr(notebook_code, "ROOT", tmp_path)
    nb = _notebook(tmp_path, '#@save pkg.mod\nX = 1\n\n\ndef f(a):\n    """Doc."""\n    return a + 2\n')
    diffs = notebook_code.differences([nb])
    assert [(s.name, why) for s, why in diffs] == [("f", "pkg.mod.f differs from the notebook's")]
    notebook_code.write(diffs[0][0])
    assert notebook_code.differences([nb]) == []
    assert "return a + 2" in (pkg / "mod.py").read_text()


def test_a_missing_definition_is_caught(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "mod.py").write_text("Y = 2\n")
    monkeypatch.setattr(notebook_code, "ROOT", tmp_path)
    nb = _notebook(tmp_path, "#@save pkg.mod\ndef g():\n    return 1\n")
    assert [why for _, why in notebook_code.differences([nb])] == ["pkg.mod has no g"]
