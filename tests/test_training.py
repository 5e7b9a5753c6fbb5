"""The training scaffolding shared by the style and music phases (albumlib.training)."""

import json

import numpy as np
import pytest

from albumlib import training


def _ckpt():
    return training.Checkpoint([np.ones((2, 3), np.float32), np.arange(3.0)], [np.zeros(4)], 7,
                               {"step": [6, 7], "total": [1.5, 1.25]}, {"network": {"a": [1, 2]}},
                               {"scaler_mean": np.full(3, 0.5)})


def test_a_checkpoint_round_trips_without_pickles(tmp_path):
    path = training.save_checkpoint(tmp_path / "c.npz", _ckpt(), "epoch")
    with np.load(path, allow_pickle=False) as data:        # plain arrays only
        assert int(data["epoch"]) == 7
    got = training.read_checkpoint(path, "epoch", notes=("network",))
    assert got.count == 7 and got.history == _ckpt().history and got.notes == {"network": {"a": [1, 2]}}
    np.testing.assert_array_equal(got.weights[0], np.ones((2, 3)))
    np.testing.assert_array_equal(got.arrays["scaler_mean"], np.full(3, 0.5))
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]      # no temporary file left


@pytest.mark.parametrize("content, why", [(b"", "empty"), (b"PK\x03\x04 cut", "cut short"),
                                          (b"random bytes", "not an .npz")])
def test_a_damaged_checkpoint_is_named_with_the_way_out(tmp_path, content, why):
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(content)
    with pytest.raises(training.CheckpointError, match=rf"checkpoint\.npz.*{why}.*delete it"):
        training.read_checkpoint(path)


def test_a_checkpoint_without_its_counter_is_refused(tmp_path):
    path = training.save_checkpoint(tmp_path / "c.npz", _ckpt(), "epoch")
    with pytest.raises(training.CheckpointError, match="no 'step'"):
        training.read_checkpoint(path, "step")


def test_progress_files_are_written_whole(tmp_path):
    drawn = []
    training.write_progress(tmp_path, _ckpt(), "step",
                            lambda h, ax: drawn.append(ax.plot(h["step"], h["total"])))
    assert json.loads((tmp_path / training.HISTORY).read_text()) == _ckpt().history
    assert (tmp_path / training.LOSS_CURVE).read_bytes()[:4] == b"\x89PNG" and drawn
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [training.CHECKPOINT, training.HISTORY, training.LOSS_CURVE])


def test_the_estimate_keeps_the_first_step_apart():
    line = training.estimate_from_first_steps([5.0, 1.0, 1.0], 100, first_index=11)
    assert "steps 12-13" in line
    assert "step 11" in training.estimate_from_first_steps([2.0], 10, first_index=11)
