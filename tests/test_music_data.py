"""Tests of albumlib.music.dataset: FFT-block shards on disk and tf.data sequences (notebook 03)."""

import json
import os
import threading
import warnings

import numpy as np
import pytest
from scipy.io import wavfile

from albumlib import audio
from albumlib.music import dataset as music_data, fft_blocks
from albumlib.audio import AudioError, SkippedAudioWarning
from test_audio import ffmpeg_processes

SR, BLOCK, SEQ = 8000, 400, 3
FEATURES = 2 * BLOCK


def write_song(path, n_samples, freq, seed=0):
    """A short int16 WAV: a sine plus a little noise (so every bin varies)."""
    t = np.arange(n_samples) / SR
    x = 0.4 * np.sin(2 * np.pi * freq * t) + 0.05 * np.random.default_rng(seed).normal(size=t.size)
    wavfile.write(path, SR, np.rint(np.clip(x, -1, 1) * 32767).astype(np.int16))
    return path


@pytest.fixture
def music(tmp_path):
    """A folder of three songs of 1100, 1500 and 2300 samples (3, 4 and 6 blocks of 400)."""
    folder = tmp_path / "music"
    folder.mkdir()
    write_song(folder / "a.wav", 1100, 220, seed=1)
    write_song(folder / "b song.wav", 1500, 330, seed=2)
    write_song(folder / "c.wav", 2300, 440, seed=3)
    return folder


def build(music, out, **kw):
    """build_dataset with the small test settings."""
    kw = {"block_size": BLOCK, "sr": SR, "seq_len": SEQ, "progress": False, "verbose": False,
          **kw}
    return music_data.build_dataset(music, out, **kw)


def direct_blocks(path):
    """The FFT blocks of a file computed in memory, without the builder."""
    return fft_blocks.to_fft_blocks(audio.load_audio(path, sr=SR, backend="ffmpeg"), BLOCK)


def snapshot(folder):
    """Bytes and mtimes of every file under `folder`."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def stored(out):
    """Global sums and manifest of a feature folder."""
    return (np.load(out / "bin_sum.npy"), np.load(out / "bin_sumsq.npy"),
            music_data.load_manifest(out))


# --- building ----------------------------------------------------------------------------------

def test_build_writes_shards_equal_to_in_memory_blocks(music, tmp_path):
    out = tmp_path / "feat"
    report = build(music, out)
    assert report.processed == ["a.wav", "b song.wav", "c.wav"] and not report.unchanged
    manifest = music_data.load_manifest(out)
    assert manifest["settings"] == {"sr": SR, "block_size": BLOCK, "kind": "fft",
                                    "n_features": FEATURES, "fft_dtype": "float32"}
    for name, n_blocks in [("a.wav", 3), ("b song.wav", 4), ("c.wav", 6)]:
        entry = manifest["songs"][name]
        assert entry["n_blocks"] == n_blocks
        assert entry["size"] == (music / name).stat().st_size
        shard = music_data.load_song_blocks(out, name)
        assert isinstance(shard, np.memmap) and shard.dtype == np.float32
        np.testing.assert_array_equal(shard, direct_blocks(music / name))
        assert entry["max_abs"] == pytest.approx(float(np.abs(shard).max()))


def test_small_chunks_give_identical_shards(music, tmp_path):
    build(music, tmp_path / "big", chunk_blocks=64)
    build(music, tmp_path / "small", chunk_blocks=1)
    for name in ["a.wav", "b song.wav", "c.wav"]:
        np.testing.assert_array_equal(music_data.load_song_blocks(tmp_path / "small", name),
                                      music_data.load_song_blocks(tmp_path / "big", name))


def test_global_statistics(music, tmp_path):
    out = tmp_path / "feat"
    build(music, out)
    everything = np.concatenate([direct_blocks(p) for p in sorted(music.iterdir())])
    total, total_sq, manifest = stored(out)
    assert total.dtype == np.float64 and total.shape == (FEATURES,)
    np.testing.assert_allclose(total, everything.astype(np.float64).sum(axis=0), rtol=1e-9,
                               atol=1e-6)
    np.testing.assert_allclose(total_sq, np.square(everything.astype(np.float64)).sum(axis=0),
                               rtol=1e-9)
    assert manifest["global"]["n_blocks"] == 13
    assert manifest["global"]["max_abs"] == pytest.approx(float(np.abs(everything).max()))


def test_rfft_kind(music, tmp_path):
    build(music, tmp_path / "feat", kind="rfft")
    shard = music_data.load_song_blocks(tmp_path / "feat", "c.wav")
    assert shard.shape == (6, 2 * (BLOCK // 2 + 1))
    back = fft_blocks.from_fft_blocks(shard, "rfft", length=2300)
    np.testing.assert_allclose(back, audio.load_audio(music / "c.wav", sr=SR), atol=1e-5)


# --- incremental rebuilds ----------------------------------------------------------------------

def test_incremental_add_touch_change_delete(music, tmp_path):
    out = tmp_path / "feat"
    build(music, out)
    shard_c = out / "shards" / music_data.load_manifest(out)["songs"]["c.wav"]["shard"]

    write_song(music / "d.wav", 900, 550, seed=4)
    report = build(music, out)
    assert report.processed == ["d.wav"]
    assert report.unchanged == ["a.wav", "b song.wav", "c.wav"]

    stat = (music / "a.wav").stat()
    os.utime(music / "a.wav", ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    write_song(music / "c.wav", 1700, 660, seed=5)
    report = build(music, out)
    assert report.processed == ["a.wav", "c.wav"]
    assert report.unchanged == ["b song.wav", "d.wav"]
    assert not shard_c.exists()  # the old version's shard is gone
    np.testing.assert_array_equal(music_data.load_song_blocks(out, "c.wav"),
                                  direct_blocks(music / "c.wav"))

    (music / "b song.wav").unlink()
    report = build(music, out)
    assert report.removed == ["b song.wav"] and report.processed == []
    manifest = music_data.load_manifest(out)
    assert sorted(manifest["songs"]) == ["a.wav", "c.wav", "d.wav"]
    referenced = {f for e in manifest["songs"].values() for f in (e["shard"], e["stats"])}
    assert {p.name for p in (out / "shards").iterdir()} == referenced

    build(music, tmp_path / "fresh")  # the incremental result equals a build from scratch
    total, total_sq, _ = stored(out)
    fresh_total, fresh_sq, fresh = stored(tmp_path / "fresh")
    np.testing.assert_array_equal(total, fresh_total)
    np.testing.assert_array_equal(total_sq, fresh_sq)
    assert manifest["global"] == fresh["global"]


def test_unreadable_files_skipped_and_rest_built(music, tmp_path):
    (music / "broken.mp3").write_text("no music here")
    (music / "empty.flac").write_bytes(b"")
    with pytest.warns(SkippedAudioWarning) as record:
        report = build(music, tmp_path / "feat")
    messages = " ".join(str(w.message) for w in record)
    assert "broken.mp3" in messages and "empty.flac" in messages
    assert [n for n, _ in report.skipped] == ["broken.mp3", "empty.flac"]
    assert report.processed == ["a.wav", "b song.wav", "c.wav"]
    assert sorted(music_data.load_manifest(tmp_path / "feat")["songs"]) == report.processed
    assert not [p for p in (tmp_path / "feat" / "shards").iterdir() if "broken" in p.name]


def reader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("ffmpeg reader")]


@pytest.mark.parametrize("decode_ahead, expected", [
    (0, "decode a, write a, decode b, write b, decode c, write c"),
    (1, "decode a, decode b, write a, decode c, write b, write c"),
    (2, "decode a, decode b, decode c, write a, write b, write c")])
def test_next_songs_are_decoded_while_the_current_one_is_written(music, tmp_path, monkeypatch,
                                                                 decode_ahead, expected):
    events, reader_class, write_song = [], audio.ChunkReader, music_data._write_song

    def reader(path, *args, **kwargs):
        events.append(f"decode {path.name.split()[0].split('.')[0]}")
        return reader_class(path, *args, **kwargs)

    def write(path, *args, **kwargs):
        events.append(f"write {path.name.split()[0].split('.')[0]}")
        return write_song(path, *args, **kwargs)

    monkeypatch.setattr(audio, "ChunkReader", reader)
    monkeypatch.setattr(music_data, "_write_song", write)
    report = build(music, tmp_path / "feat", decode_ahead=decode_ahead)
    assert ", ".join(events) == expected
    assert report.processed == ["a.wav", "b song.wav", "c.wav"] and not reader_threads()
    with pytest.raises(ValueError, match="decode_ahead"):
        build(music, tmp_path / "other", decode_ahead=-1)


def test_bad_file_in_the_middle_is_skipped_and_the_rest_built(music, tmp_path, monkeypatch):
    (music / "b2 broken.mp3").write_text("no music here" * 50)  # between b song and c
    started = ffmpeg_processes(monkeypatch)
    with pytest.warns(SkippedAudioWarning, match="b2 broken.mp3") as record:
        report = build(music, tmp_path / "feat", chunk_blocks=1)
    assert len(record) == 1
    assert report.processed == ["a.wav", "b song.wav", "c.wav"]
    assert [n for n, _ in report.skipped] == ["b2 broken.mp3"]
    for name in report.processed:
        np.testing.assert_array_equal(music_data.load_song_blocks(tmp_path / "feat", name),
                                      direct_blocks(music / name))
    assert started and all(p.poll() is not None for p in started)
    assert not reader_threads()


def test_interrupted_build_stops_every_decoder_and_resumes(music, tmp_path, monkeypatch):
    started, write_song = ffmpeg_processes(monkeypatch), music_data._write_song

    def write(path, *args, **kwargs):
        if path.name == "b song.wav":
            raise KeyboardInterrupt
        return write_song(path, *args, **kwargs)

    monkeypatch.setattr(music_data, "_write_song", write)
    with pytest.raises(KeyboardInterrupt):
        build(music, tmp_path / "feat")
    assert len(started) == 3  # a, b and c (started ahead): all stopped
    assert all(p.poll() is not None for p in started) and not reader_threads()
    assert not list((tmp_path / "feat" / "shards").glob(".*tmp*"))
    monkeypatch.setattr(music_data, "_write_song", write_song)
    report = build(music, tmp_path / "feat")
    assert report.unchanged == ["a.wav"] and report.processed == ["b song.wav", "c.wav"]


@pytest.mark.parametrize("every_s, on_disk_before_c", [(0.0, ["a.wav", "b song.wav"]),
                                                        (3600.0, [])])
def test_manifest_on_disk_follows_the_build_at_most_every_interval(music, tmp_path, monkeypatch,
                                                                   every_s, on_disk_before_c):
    """A killed build (no exception handler runs) resumes from the last manifest written."""
    seen, write_song = {}, music_data._write_song

    def write(path, *args, **kwargs):
        if path.name == "c.wav":  # what a kill at this moment would leave on disk
            seen["songs"] = sorted(music_data.load_manifest(tmp_path / "feat")["songs"])
        return write_song(path, *args, **kwargs)

    monkeypatch.setattr(music_data, "_MANIFEST_EVERY_S", every_s)
    monkeypatch.setattr(music_data, "_write_song", write)
    build(music, tmp_path / "feat")
    assert seen["songs"] == on_disk_before_c
    assert sorted(music_data.load_manifest(tmp_path / "feat")["songs"]) == [
        "a.wav", "b song.wav", "c.wav"]


def test_limit_builds_from_the_first_files_only(music, tmp_path, monkeypatch):
    started = ffmpeg_processes(monkeypatch)
    report = build(music, tmp_path / "feat", limit=2)
    assert report.processed == ["a.wav", "b song.wav"] and len(started) == 2
    assert sorted(music_data.load_manifest(tmp_path / "feat")["songs"]) == ["a.wav", "b song.wav"]
    report = build(music, tmp_path / "feat")  # no limit: only the new one is decoded
    assert report.unchanged == ["a.wav", "b song.wav"] and report.processed == ["c.wav"]
    report = build(music, tmp_path / "feat", limit=1)
    assert report.unchanged == ["a.wav"] and report.removed == ["b song.wav", "c.wav"]
    assert len(list((tmp_path / "feat" / "shards").glob("*.npy"))) == 2  # a's shard and stats
    with pytest.raises(ValueError, match="limit"):
        build(music, tmp_path / "other", limit=-1)


def test_background_writer_raises_a_failed_write():
    class Full:
        def __init__(self):
            self.written = []

        def write(self, data):
            if len(self.written) == 2:
                raise OSError(28, "No space left on device")
            self.written.append(bytes(data))

    f = Full()
    with pytest.raises(OSError, match="No space"):
        with music_data._BackgroundWriter(f) as writer:
            for part in (b"a", b"b", b"c", b"d"):
                writer.write(part)
    assert f.written == [b"a", b"b"]


def test_song_that_turns_unreadable_is_dropped(music, tmp_path):
    out = tmp_path / "feat"
    build(music, out)
    (music / "a.wav").write_bytes(b"RIFF garbage")
    with pytest.warns(SkippedAudioWarning, match="a.wav"):
        build(music, out)
    assert "a.wav" not in music_data.load_manifest(out)["songs"]
    assert len(list((out / "shards").glob("*.npy"))) == 4  # two songs: shard + stats each


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        build(tmp_path / "missing", tmp_path / "feat")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AudioError, match="no audio files"):
        build(tmp_path / "empty", tmp_path / "feat")
    (tmp_path / "empty" / "bad.mp3").write_text("x")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedAudioWarning)
        with pytest.raises(AudioError, match="none of its 1"):
            build(tmp_path / "empty", tmp_path / "feat")


def test_never_touches_user_files(music, tmp_path):
    other = tmp_path / "my documents"
    other.mkdir()
    (other / "thesis.npy").write_bytes(b"precious")
    before_music, before_other = snapshot(music), snapshot(other)
    with pytest.raises(FileExistsError, match="my documents"):
        build(music, other)
    with pytest.raises((FileExistsError, ValueError)):
        build(music, music)
    build(music, tmp_path / "feat")
    build(music, tmp_path / "feat")
    assert snapshot(music) == before_music and snapshot(other) == before_other


def test_changed_settings_rebuild_everything(music, tmp_path):
    out = tmp_path / "feat"
    build(music, out)
    with pytest.warns(UserWarning, match="settings changed"):
        report = build(music, out, block_size=200)
    assert report.processed == ["a.wav", "b song.wav", "c.wav"]
    assert music_data.load_song_blocks(out, "a.wav").shape == (6, 400)  # 1100 / 200, padded
    assert len(list((out / "shards").glob("*.npy"))) == 6


def test_folder_of_float64_ffts_is_rebuilt(music, tmp_path):
    """A folder built before the FFT ran in float32 (no fft_dtype setting) is not mixed in."""
    out = tmp_path / "feat"
    build(music, out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    del manifest["settings"]["fft_dtype"]
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.warns(UserWarning, match="settings changed"):
        report = build(music, out)
    assert report.processed == ["a.wav", "b song.wav", "c.wav"]
    assert music_data.load_manifest(out)["settings"]["fft_dtype"] == "float32"


def test_too_short_songs_reported(music, tmp_path):
    report = build(music, tmp_path / "feat", seq_len=4)
    assert report.too_short == ["a.wav", "b song.wav"]  # 3 and 4 blocks < seq_len + 1
    assert "too short 2" in str(report)


def test_missing_shard_is_rebuilt(music, tmp_path):
    out = tmp_path / "feat"
    build(music, out)
    entry = music_data.load_manifest(out)["songs"]["b song.wav"]
    (out / "shards" / entry["stats"]).unlink()
    report = build(music, out)
    assert report.processed == ["b song.wav"]
    assert all((out / "shards" / entry[key]).is_file() for key in ("shard", "stats"))
    np.testing.assert_array_equal(music_data.load_song_blocks(out, "b song.wav"),
                                  direct_blocks(music / "b song.wav"))


def test_interrupted_temp_files_are_cleaned(music, tmp_path):
    out = tmp_path / "feat"
    build(music, out)
    leftover = out / "shards" / ".a-123.abc.tmp.npy"
    leftover.write_bytes(b"half a shard")
    build(music, out)
    assert not leftover.exists()


# --- scalers and splits ------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["global", "per_bin"])
def test_scaler_from_manifest_matches_in_memory_fit(music, tmp_path, method):
    out = tmp_path / "feat"
    build(music, out)
    names = ["a.wav", "c.wav"]
    for songs in (None, names):
        paths = sorted(music.iterdir()) if songs is None else [music / n for n in songs]
        expected = fft_blocks.fit_scale(np.concatenate([direct_blocks(p) for p in paths]), method)
        got = music_data.scaler_from_manifest(out, method, songs=songs)
        assert got.method == method
        if method == "global":
            assert got.scale == pytest.approx(expected.scale, rel=1e-7)
        else:
            np.testing.assert_allclose(got.mean, expected.mean, rtol=1e-5, atol=1e-4)
            np.testing.assert_allclose(got.std, expected.std, rtol=1e-4)


def test_split_songs():
    manifest = {"songs": {f"s{i}.mp3": {} for i in range(10)}}
    train, val = music_data.split_songs(manifest, 0.2, seed=1)
    assert len(val) == 2 and len(train) == 8 and not set(train) & set(val)
    assert sorted(train + val) == sorted(manifest["songs"])
    assert music_data.split_songs(manifest, 0.2, seed=1) == (train, val)
    assert music_data.split_songs({"songs": {"a": {}, "b": {}}}, 0.01)[1] != []
    with pytest.raises(ValueError):
        music_data.split_songs({"songs": {"a": {}}}, 0.5)


def test_load_manifest_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="build_dataset"):
        music_data.load_manifest(tmp_path)


# --- tf.data sequences -------------------------------------------------------------------------

def collect(ds):
    """All (x, y) of a dataset as two numpy arrays."""
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


def in_memory_sequences(music, names, scaler):
    """x, y computed directly: song by song, scaled, make_sequences."""
    pairs = [fft_blocks.make_sequences(scaler.transform(direct_blocks(music / n)), SEQ)
             for n in names]
    return np.concatenate([x for x, _ in pairs]), np.concatenate([y for _, y in pairs])


@pytest.mark.parametrize("normalise", ["global", "per_bin"])
def test_sequence_dataset_equals_direct_computation(music, tmp_path, normalise):
    out = tmp_path / "feat"
    build(music, out)
    ds = music_data.sequence_dataset(out, batch_size=3, seq_len=SEQ, shuffle=False,
                                     normalise=normalise)
    assert int(ds.cardinality()) == 2  # a.wav (3 blocks) has none, b 1 and c 3 sequences
    x, y = collect(ds)
    scaler = music_data.scaler_from_manifest(out, normalise)
    ex, ey = in_memory_sequences(music, ["b song.wav", "c.wav"], scaler)
    assert x.shape == ex.shape == (4, SEQ, FEATURES)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, ex)
    np.testing.assert_array_equal(y, ey)
    if normalise == "global":
        assert np.abs(x).max() <= 1.0


def test_sequences_never_cross_songs(music, tmp_path):
    out = tmp_path / "feat"
    build(music, out)
    ds = music_data.sequence_dataset(out, batch_size=3, seq_len=2, shuffle=True, seed=7,
                                     normalise=None)
    x, y = collect(ds)
    windows = set()
    for name in ["a.wav", "b song.wav", "c.wav"]:
        blocks = direct_blocks(music / name)
        windows |= {blocks[i:i + 3].tobytes() for i in range(len(blocks) - 2)}
    assert len(x) == (3 - 2) + (4 - 2) + (6 - 2)
    for xi, yi in zip(x, y):
        np.testing.assert_array_equal(xi[1:], yi[:-1])
        assert np.concatenate([xi, yi[-1:]]).tobytes() in windows


def test_shuffle_changes_order_each_epoch_reproducibly(music, tmp_path):
    out = tmp_path / "feat"
    build(music, out)

    def epochs(seed):
        ds = music_data.sequence_dataset(out, batch_size=2, seq_len=1, seed=seed)
        return [collect(ds)[0] for _ in range(2)]

    first, second = epochs(0)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(np.sort(first.reshape(len(first), -1), axis=0),
                                  np.sort(second.reshape(len(second), -1), axis=0))
    again = epochs(0)
    np.testing.assert_array_equal(again[0], first)
    np.testing.assert_array_equal(again[1], second)


def test_song_subset_and_drop_remainder(music, tmp_path):
    out = tmp_path / "feat"
    build(music, out)
    train_scaler = music_data.scaler_from_manifest(out, songs=["c.wav"])
    ds = music_data.sequence_dataset(out, batch_size=2, seq_len=SEQ, songs=["c.wav"],
                                     shuffle=False, scaler=train_scaler)
    x, y = collect(ds)
    ex, ey = in_memory_sequences(music, ["c.wav"], train_scaler)
    np.testing.assert_array_equal(x, ex)
    np.testing.assert_array_equal(y, ey)
    ds = music_data.sequence_dataset(out, batch_size=2, seq_len=2, songs=["b song.wav", "c.wav"],
                                     drop_remainder=True)
    shapes = [tuple(b.shape) for b, _ in ds]
    assert shapes == [(2, 2, FEATURES)] * 3 and int(ds.cardinality()) == 3  # 6 sequences
    with pytest.raises(KeyError, match="nope.wav"):
        music_data.sequence_dataset(out, 2, songs=["nope.wav"])
    with pytest.raises(ValueError, match="seq_len"):
        music_data.sequence_dataset(out, 2, seq_len=6, songs=["a.wav"])


def test_manifest_is_json_with_expected_fields(music, tmp_path):
    build(music, tmp_path / "feat")
    manifest = json.loads((tmp_path / "feat" / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["songs"]["b song.wav"]
    for key in ("path", "size", "mtime_ns", "n_blocks", "n_samples", "shard", "stats", "max_abs"):
        assert key in entry
    assert manifest["complete"] is True and manifest["global"]["sum"] == "bin_sum.npy"
