"""benchmarks/bench_music.py and bench_music_quality.py: FLOP count, children, seed averaging.

No timings are asserted.
"""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_music  # noqa: E402
import bench_music_quality as quality  # noqa: E402
from albumlib.music import report as music  # noqa: E402


@pytest.mark.parametrize("batch", [1, 8])
def test_train_flops_are_six_per_weight_per_row(batch):
    """Forward 2 FLOPs per kernel weight and row, backward twice that (the report's model)."""
    model = music.build_report_model(compile=False)
    kernels = [w for w in model.weights if "kernel" in w.path]  # LSTM: kernel, recurrent_kernel
    assert len(kernels) == 4
    by_weights = 6.0 * sum(int(np.prod(w.shape)) for w in kernels) * batch * 10
    assert bench_music.train_flops(batch) == pytest.approx(by_weights)


def test_generation_child_composes_the_requested_length():
    result = bench_music.run_child("generate", seconds=0.5)
    assert result["music_seconds"] == pytest.approx(0.5, abs=0.01)
    assert result["seconds"] > 0 and result["peak_mb"] > 100  # TensorFlow and the bundle


def test_failed_child_is_reported():
    with pytest.raises(RuntimeError, match="(?s)generate child failed:.*bogus"):
        bench_music.run_child("generate", bogus=1)


def test_mean_and_spread_of_runs():
    runs = [{"fad": 1.0, "loop_score": 0.5}, {"fad": 3.0, "loop_score": 0.1}]
    assert quality.mean_of(runs) == {"fad": 2.0, "loop_score": pytest.approx(0.3)}
    assert quality.spread_of(runs) == {"fad": 2.0, "loop_score": pytest.approx(0.4)}


def test_quality_averages_compositions_from_different_seeds(capsys):
    quality.main([str(ROOT / "data" / "music_model"), "--seconds", "1", "--seeds", "2",
                  "--no-reference"])
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [(r["seed"], r["seed_source"]) for r in lines] == [(0, 0), (1, 1)]
    assert lines[0]["rms_dbfs"] != lines[1]["rms_dbfs"]  # two different compositions
    mean_row = next(line for line in out.splitlines() if line.startswith("| music_model |"))
    header = next(line for line in out.splitlines() if line.startswith("| | "))
    column = [c.strip() for c in header.split("|")].index("rms_dbfs")
    shown = float(mean_row.split("|")[column])
    assert shown == pytest.approx((lines[0]["rms_dbfs"] + lines[1]["rms_dbfs"]) / 2, rel=0.01)
    assert "Range (max - min) over the 2 compositions" in out
    with pytest.raises(SystemExit):
        quality.main([str(ROOT / "data" / "music_model"), "--seeds", "0"])
