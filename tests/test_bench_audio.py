"""benchmarks/bench_audio.py: the baseline's FFT layout, the long-input generator, the memory
helpers and the command line, on a few seconds of audio.

No timings are asserted. The librosa baseline is run where librosa is installed (it is not a
project dependency; see benchmarks/requirements.txt).
"""

import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_audio as bench  # noqa: E402
from albumlib import audio  # noqa: E402
from albumlib.music import fft_blocks  # noqa: E402

SONGS = audio.list_audio(ROOT / "data" / "music")
HAS_LIBROSA = importlib.util.find_spec("librosa") is not None


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 1.5-second mp3 cut from the first bundled song."""
    return bench.make_long_mp3(SONGS[:1], 1.5, tmp_path_factory.mktemp("clip") / "clip.mp3")


def decoded_seconds(path):
    return audio.load_audio(path).size / bench.SR


@pytest.mark.parametrize("block_size, n", [(100, 250), (101, 303), (44100, 50000)])
def test_numpy_baseline_has_the_layout_of_to_fft_blocks(block_size, n):
    signal = np.random.default_rng(n).uniform(-1, 1, n).astype(np.float32)
    ours = fft_blocks.to_fft_blocks(signal, block_size)
    theirs = bench.numpy_fft_blocks(signal, block_size)
    assert theirs.dtype == np.float32 and theirs.shape == ours.shape == (-(-n // block_size),
                                                                         2 * block_size)
    np.testing.assert_allclose(theirs, ours, rtol=1e-6, atol=1e-6 * np.abs(ours).max())


def test_long_mp3_has_the_requested_duration(clip, tmp_path):
    assert decoded_seconds(clip) == pytest.approx(1.5, abs=0.1)
    longer = bench.make_long_mp3([clip], 4.0, tmp_path / "long.mp3")  # the clip repeated
    assert decoded_seconds(longer) == pytest.approx(4.0, abs=0.15)
    assert list(tmp_path.iterdir()) == [longer]  # no concat list left behind


def test_long_input_is_cut_into_files_of_shard_hours(clip, tmp_path):
    paths = bench.make_long_input([clip], 2.5 / 3600, 1 / 3600, tmp_path, source_seconds=[1.5])
    assert [p.name for p in paths] == ["long_000.mp3", "long_001.mp3", "long_002.mp3"]
    assert [round(decoded_seconds(p), 1) for p in paths] == pytest.approx([1.0, 1.0, 0.5],
                                                                          abs=0.1)


def test_songs_of_length_start_at_different_sources(clip, tmp_path):
    other = bench.make_long_mp3(SONGS[1:2], 1.0, tmp_path / "src" / "other.mp3")
    paths = bench.songs_of_length([clip, other], 3.0 / 60, tmp_path / "songs",
                                  source_seconds=[1.5, 1.0])
    assert [p.name for p in paths] == ["song_00.mp3", "song_01.mp3"]
    first, second = (audio.load_audio(p) for p in paths)
    assert first.size / bench.SR == pytest.approx(3.0, abs=0.1)
    assert second.size / bench.SR == pytest.approx(3.0, abs=0.1)
    start = audio.load_audio(clip)[:bench.SR // 2]  # song 0 opens with the clip, song 1 not
    assert np.abs(first[:start.size] - start).max() < 0.05
    assert np.abs(second[:start.size] - start).max() > 0.05


def test_throughput_runs_on_joined_songs(tmp_path, capsys):
    status = bench.main(["--files", "1", "--repeats", "1", "--hours", "0", "--song-minutes",
                         "0.05", "--no-baseline", "--tmp-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0 and "1 files songs of 0.05 min joined from those in" in out
    row = next(line for line in out.splitlines() if line.startswith("| ours, on disk |"))
    assert float(row.split("|")[3]) == pytest.approx(3.0, abs=0.1)  # the audio, s column
    assert list(tmp_path.iterdir()) == []


def test_long_mp3_reports_ffmpeg_failure(tmp_path):
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"not an mp3 at all" * 100)
    with pytest.raises(RuntimeError, match="ffmpeg could not write"):
        bench.make_long_mp3([bad], 1.0, tmp_path / "out" / "long.mp3", source_seconds=[1.0])


def test_child_reports_a_positive_peak_memory():
    result = bench.run_child({"mode": "noop"})
    assert result["peak_rss"] > 0 and result["ready_rss"] > 0
    assert result["peak_rss"] >= result["ready_rss"]
    assert result["n_samples"] == 0 and result["ffmpeg_peak_rss"] is None
    assert not result["tensorflow_loaded"]


def test_child_failure_is_reported():
    with pytest.raises(RuntimeError, match="unknown mode"):
        bench.run_child({"mode": "no such mode"})


def test_child_peak_sampler_sees_a_subprocess():
    with bench.ChildPeakSampler(interval=0.01) as sampler:
        proc = subprocess.Popen(["sleep", "0.3"])
        proc.wait()
    assert proc.pid in sampler.seen and sampler.peak > 0


def test_in_memory_child_decodes_the_clip(clip):
    result = bench.run_child({"mode": "memory", "files": [str(clip)], "warmup": str(clip)})
    assert result["n_samples"] == audio.load_audio(clip).size
    assert result["seconds"] > 0 and result["peak_rss"] > 0


def test_build_child_counts_what_it_wrote(clip, tmp_path):
    folder = bench.folder_of([clip], tmp_path / "music")
    result = bench.run_child({"mode": "build", "folder": str(folder),
                              "out_dir": str(tmp_path / "out"), "warmup_folder": str(folder)})
    n_blocks = -(-result["n_samples"] // bench.BLOCK)
    assert result["bytes_written"] > n_blocks * bench.FEATURES_BYTES
    assert result["bytes_written"] == bench.folder_bytes(tmp_path / "out" / "features")


@pytest.mark.skipif(not HAS_LIBROSA, reason="librosa is a benchmark-only dependency")
def test_librosa_child_reports_its_backend(clip):
    result = bench.run_child({"mode": "librosa", "files": [str(clip)], "warmup": str(clip)})
    assert result["backends"] in (["soundfile"], ["audioread"])
    assert result["n_samples"] == pytest.approx(audio.load_audio(clip).size, abs=2 * 1152)


def test_librosa_backend_from_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn("PySoundFile failed. Trying audioread instead.", UserWarning)
    assert bench.librosa_backend(caught) == "audioread"
    assert bench.librosa_backend([]) == "soundfile"


def test_disk_estimates_and_check(tmp_path):
    # 36,000 blocks of 352,800 bytes, one padded block and one (2, 88200) float64 file per song
    assert bench.shard_bytes(10, 10) == (36000 + 10) * 352800 + 10 * 2 * 88200 * 8
    assert 12.7e9 < bench.shard_bytes(10, 10) < 12.8e9
    assert bench.check_disk(tmp_path, 1e9, free=5e9) == 5e9
    with pytest.raises(OSError, match="GB free"):
        bench.check_disk(tmp_path, 13e9, free=10e9)


def test_no_baseline_runs_end_to_end_and_cleans_up(tmp_path, capsys):
    status = bench.main(["--files", "1", "--repeats", "1", "--hours", "0.0005",
                         "--shard-hours", "0.0003", "--no-baseline", "--tmp-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("machine: ") and "load average at the start" in out
    assert "| ours, on disk |" in out and "| ours, in memory |" in out
    assert "| baseline |" not in out and "Goal (faster" not in out
    assert "| 1 mp3 file |" in out and "| 2 mp3 files |" in out and "**met**" in out
    assert list(tmp_path.iterdir()) == []


def test_missing_librosa_gives_a_clear_message(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(bench.importlib.util, "find_spec",
                        lambda name, *a: None if name == "librosa" else real(name, *a))
    assert bench.main(["--files", "1", "--hours", "0"]) == 2
    err = capsys.readouterr().err
    assert "librosa is not installed" in err and "--no-baseline" in err


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit):
        bench.parse_args(["--repeats", "0"])
    with pytest.raises(SystemExit):
        bench.parse_args(["--song-minutes", "-1"])
