"""Tests of albumlib.audio: decoding, writing, FFT blocks, scaling and sequences (notebook 03)."""

import json
import subprocess
import threading
import warnings

import numpy as np
import pytest
from PIL import Image
from scipy.io import wavfile

from albumlib import audio, ffmpeg
from albumlib.audio import AudioError, SkippedAudioWarning
from albumlib.music import fft_blocks

SR = 44100


def sine(freq=440.0, seconds=0.5, sr=SR, amp=0.5):
    """A float64 sine wave."""
    return amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)


def peak_hz(signal, sr=SR):
    """The frequency of the largest FFT bin (Hann window)."""
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(signal.size)))
    return np.argmax(spectrum) * sr / signal.size


def write_wav(path, signal, sr=SR, dtype=np.int16):
    """Write a float signal (n,) or (n, channels) as a WAV of the given sample type."""
    if dtype == np.int16:
        data = np.rint(np.asarray(signal) * 32767).astype(np.int16)
    else:
        data = np.asarray(signal, dtype=dtype)
    wavfile.write(path, sr, data)
    return path


def encode(src, dst, *codec):
    """Convert `src` to `dst` with the bundled ffmpeg (codec arguments as given)."""
    cmd = [ffmpeg.ffmpeg_exe(), "-nostdin", "-v", "error", "-y", "-i", str(src), *codec, str(dst)]
    subprocess.run(cmd, check=True, capture_output=True)
    return dst


def snapshot(folder):
    """Bytes and mtimes of every file under `folder`."""
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


# --- decoding ----------------------------------------------------------------------------------

CODECS = {".mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
          ".ogg": ["-c:a", "libvorbis"],
          ".opus": ["-c:a", "libopus", "-b:a", "96k"],
          ".flac": ["-c:a", "flac"],
          ".m4a": ["-c:a", "aac", "-b:a", "128k"]}


@pytest.mark.parametrize("ext", sorted(CODECS))
def test_compressed_formats_decode(tmp_path, ext):
    src = write_wav(tmp_path / "src.wav", sine(440, 1.0))
    path = encode(src, tmp_path / f"song{ext}", *CODECS[ext])
    x = audio.load_audio(path)
    assert x.dtype == np.float32 and x.ndim == 1
    assert abs(x.size - SR) < 0.05 * SR  # codecs may add a little padding
    assert -1.0 <= x.min() and x.max() <= 1.0
    assert abs(peak_hz(x) - 440) < 3
    middle = x[SR // 4: 3 * SR // 4]
    assert np.sqrt(np.mean(middle ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.1)


@pytest.mark.parametrize("backend", ["auto", "scipy", "ffmpeg"])
def test_wav_int16_exact(tmp_path, backend):
    data = np.array([0, 1, -1, 16384, -32768, 32767] * 50, dtype=np.int16)
    wavfile.write(tmp_path / "a.wav", SR, data)
    x = audio.load_audio(tmp_path / "a.wav", backend=backend)
    np.testing.assert_array_equal(x, data.astype(np.float32) / 32768)


@pytest.mark.parametrize("backend", ["scipy", "ffmpeg"])
def test_wav_float32_and_uint8(tmp_path, backend):
    s = sine(300, 0.2).astype(np.float32)
    wavfile.write(tmp_path / "f.wav", SR, s)
    np.testing.assert_allclose(audio.load_audio(tmp_path / "f.wav", backend=backend), s,
                               atol=1e-7)
    u8 = np.array([0, 64, 128, 192, 255] * 40, dtype=np.uint8)
    wavfile.write(tmp_path / "u.wav", SR, u8)
    expected = (u8.astype(np.float32) - 128) / 128
    np.testing.assert_allclose(audio.load_audio(tmp_path / "u.wav", backend=backend), expected,
                               atol=1e-6)


def test_wav_int32(tmp_path):
    data = (np.array([0.5, -0.25, 0.0, 1.0, -1.0] * 40) * 2**31).clip(-2**31, 2**31 - 1)
    wavfile.write(tmp_path / "i.wav", SR, data.astype(np.int32))
    x = audio.load_audio(tmp_path / "i.wav", backend="scipy")
    np.testing.assert_allclose(x, np.array([0.5, -0.25, 0.0, 1.0, -1.0] * 40), atol=1e-6)


@pytest.mark.parametrize("backend", ["scipy", "ffmpeg"])
def test_stereo_is_averaged(tmp_path, backend):
    left, right = sine(440, 0.3), np.full(int(0.3 * SR), 0.2)
    path = write_wav(tmp_path / "st.wav", np.stack([left, right], axis=1))
    x = audio.load_audio(path, backend=backend)
    pcm = np.rint(np.stack([left, right], axis=1) * 32767) / 32768
    np.testing.assert_allclose(x, pcm.mean(axis=1), atol=1e-6)  # not ffmpeg's (L + R) / sqrt(2)


def test_six_channels_averaged(tmp_path):
    channels = np.stack([sine(200 + 100 * c, 0.3, amp=0.1 + 0.1 * c) for c in range(6)], axis=1)
    path = encode(write_wav(tmp_path / "six.wav", channels), tmp_path / "six.flac")
    x = audio.load_audio(path)
    pcm = np.rint(channels * 32767) / 32768
    np.testing.assert_allclose(x, pcm.mean(axis=1), atol=1e-6)


@pytest.mark.parametrize("backend", ["scipy", "ffmpeg"])
def test_resampling_keeps_frequency(tmp_path, backend):
    path = write_wav(tmp_path / "low.wav", sine(1000, 1.0, sr=22050), sr=22050)
    x = audio.load_audio(path, sr=SR, backend=backend)
    assert abs(x.size - SR) <= 2
    assert abs(peak_hz(x) - 1000) < 2


def test_scipy_and_ffmpeg_agree_when_resampling(tmp_path):
    path = write_wav(tmp_path / "hi.wav", sine(523.25, 0.5, sr=48000), sr=48000)
    a = audio.load_audio(path, backend="scipy")
    b = audio.load_audio(path, backend="ffmpeg")
    n = min(a.size, b.size)
    assert abs(a.size - b.size) <= 2
    np.testing.assert_allclose(a[1000:n - 1000], b[1000:n - 1000], atol=5e-3)


def test_iter_audio_chunks_matches_whole_file(tmp_path):
    path = encode(write_wav(tmp_path / "s.wav", sine(440, 1.0)), tmp_path / "s.flac")
    chunks = list(audio.iter_audio_chunks(path, chunk_samples=10000))
    assert [c.size for c in chunks[:-1]] == [10000] * (len(chunks) - 1)
    np.testing.assert_array_equal(np.concatenate(chunks), audio.load_audio(path))


@pytest.fixture
def plain_decoder(monkeypatch):
    """Make every decoder use the plain ffmpeg command (no filter-graph input)."""
    monkeypatch.setattr(ffmpeg, "ffmpeg_major", lambda: 0)


def plain_decode(monkeypatch, path, **kw):
    """load_audio(backend="ffmpeg") with the plain command only."""
    with monkeypatch.context() as m:
        m.setattr(ffmpeg, "ffmpeg_major", lambda: 0)
        return audio.load_audio(path, backend="ffmpeg", **kw)


def count_fallbacks(monkeypatch):
    """A list that records the files whose fast decoder reported an error."""
    fell, failed = [], audio._Decoder.failed

    def spy(self):
        result = failed(self)
        if result:
            fell.append(self.path.name)
        return result

    monkeypatch.setattr(audio._Decoder, "failed", spy)
    return fell


@pytest.mark.parametrize("ext", [".mp3", ".ogg", ".flac", ".m4a", ".wav"])
def test_fast_and_plain_commands_decode_the_same_samples(tmp_path, monkeypatch, ext):
    stereo = np.stack([sine(440, 1.3, sr=48000), sine(660, 1.3, sr=48000, amp=0.3)], axis=1)
    src = write_wav(tmp_path / "src.wav", stereo, sr=48000)
    path = src if ext == ".wav" else encode(src, tmp_path / f"s{ext}", *CODECS[ext])
    fell = count_fallbacks(monkeypatch)
    fast = audio.load_audio(path, backend="ffmpeg")
    chunks = list(audio.iter_audio_chunks(path, chunk_samples=20000))
    assert fell == []  # a sound file takes the fast path to the end
    np.testing.assert_array_equal(fast, plain_decode(monkeypatch, path))
    np.testing.assert_array_equal(np.concatenate(chunks), fast)  # threaded == unthreaded
    assert [c.size for c in chunks[:-1]] == [20000] * (len(chunks) - 1)


def test_damaged_mp3_is_decoded_past_the_damage(tmp_path, monkeypatch):
    """The fast command stops at a damaged frame; the plain one takes over where it stopped."""
    mp3 = encode(write_wav(tmp_path / "s.wav", sine(440, 6.0)), tmp_path / "s.mp3",
                 *CODECS[".mp3"])
    data = mp3.read_bytes()
    damaged = tmp_path / "damaged.mp3"
    damaged.write_bytes(data[:len(data) // 3] + b"\x00" * 3000 + data[len(data) // 3 + 3000:])
    expected = plain_decode(monkeypatch, damaged)
    assert expected.size > 5 * SR  # the plain command skips the damage and goes on
    fell = count_fallbacks(monkeypatch)
    np.testing.assert_array_equal(audio.load_audio(damaged), expected)
    for chunk_samples in (10000, 44100 * 64):  # the switch inside a chunk, or the only one
        got = np.concatenate(list(audio.iter_audio_chunks(damaged, chunk_samples=chunk_samples)))
        np.testing.assert_array_equal(got, expected)
    assert fell == ["damaged.mp3"] * 3


def test_plain_command_alone_still_works(tmp_path, plain_decoder):
    path = encode(write_wav(tmp_path / "s.wav", sine(440, 0.5)), tmp_path / "s.ogg",
                  *CODECS[".ogg"])
    assert "-i" in ffmpeg.decode_command(path, SR) and "lavfi" not in ffmpeg.decode_command(
        path, SR)
    assert abs(peak_hz(audio.load_audio(path)) - 440) < 3
    np.testing.assert_array_equal(np.concatenate(list(audio.iter_audio_chunks(path, SR, 5000))),
                                  audio.load_audio(path))


def ffmpeg_processes(monkeypatch):
    """A list that records every ffmpeg decoder albumlib.audio starts."""
    ffmpeg.ffmpeg_major()  # its `ffmpeg -version`, once per process, is not a decoder
    started, popen = [], subprocess.Popen

    def spy(*args, **kwargs):
        proc = popen(*args, **kwargs)
        started.append(proc)
        return proc

    monkeypatch.setattr(audio.subprocess, "Popen", spy)
    return started


def reader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("ffmpeg reader")]


def test_consumer_stopping_early_stops_ffmpeg_and_the_reader(tmp_path, monkeypatch):
    path = encode(write_wav(tmp_path / "s.wav", sine(440, 20.0)), tmp_path / "s.flac")
    started = ffmpeg_processes(monkeypatch)
    chunks = audio.iter_audio_chunks(path, chunk_samples=1000)  # the queue fills at once
    first = next(chunks)
    assert first.size == 1000 and len(started) == 1 and reader_threads()
    chunks.close()
    assert started[0].poll() is not None  # killed (it had 19.9 s left to decode)
    assert started[0].stdout.closed and not reader_threads()


def test_chunk_reader_started_early_reports_problems_when_read(tmp_path):
    missing = audio.ChunkReader(tmp_path / "nope.mp3")
    (tmp_path / "empty.mp3").write_bytes(b"")
    empty = audio.ChunkReader(tmp_path / "empty.mp3")
    (tmp_path / "bad.mp3").write_text("not music" * 100)
    bad = audio.ChunkReader(tmp_path / "bad.mp3")
    with pytest.raises(FileNotFoundError, match="nope.mp3"):
        list(missing)
    with pytest.raises(AudioError, match="empty.mp3"):
        list(empty)
    with pytest.raises(AudioError, match="bad.mp3"):
        list(bad)
    for reader in (missing, empty, bad):
        reader.close()
        reader.close()  # closing twice is harmless
    assert not reader_threads()
    closed = audio.ChunkReader(write_wav(tmp_path / "s.wav", sine(440, 0.2)))
    closed.close()
    with pytest.raises(ValueError, match="closed"):
        list(closed)  # an error, not a wait for chunks that never come


def test_scipy_backend_refuses_mp3(tmp_path):
    path = encode(write_wav(tmp_path / "s.wav", sine()), tmp_path / "s.mp3", *CODECS[".mp3"])
    with pytest.raises(AudioError, match="s.mp3"):
        audio.load_audio(path, backend="scipy")
    with pytest.raises(ValueError, match="backend"):
        audio.load_audio(path, backend="pydub")


# --- bad files ---------------------------------------------------------------------------------

def make_bad_files(folder):
    """An empty mp3, a text file named .ogg, a PNG named .flac, a truncated wav; their names."""
    (folder / "empty.mp3").write_bytes(b"")
    (folder / "notes.ogg").write_text("not music at all\n" * 10)
    Image.new("RGB", (8, 8)).save(folder / "picture.flac", format="PNG")
    (folder / "header only.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
    return ["empty.mp3", "notes.ogg", "picture.flac", "header only.wav"]


@pytest.mark.parametrize("backend", ["auto", "ffmpeg"])
def test_bad_files_raise_audio_error_naming_them(tmp_path, backend):
    for name in make_bad_files(tmp_path):
        with pytest.raises(AudioError) as info:
            audio.load_audio(tmp_path / name, backend=backend)
        assert name in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.mp3"):
        audio.load_audio(tmp_path / "nope.mp3")
    (tmp_path / "dir.mp3").mkdir()
    with pytest.raises(AudioError, match="folder"):
        audio.load_audio(tmp_path / "dir.mp3")


def test_folder_skips_bad_files_with_warnings(tmp_path):
    bad = make_bad_files(tmp_path)
    write_wav(tmp_path / "b good.wav", sine(330, 0.2))
    encode(tmp_path / "b good.wav", tmp_path / "a good.mp3", *CODECS[".mp3"])
    (tmp_path / "readme.txt").write_text("not listed")
    with pytest.warns(SkippedAudioWarning) as record:
        got = list(audio.iter_audio_folder(tmp_path, progress=False))
    assert [p.name for p, _ in got] == ["a good.mp3", "b good.wav"]
    messages = " ".join(str(w.message) for w in record)
    for name in bad:
        assert name in messages
    assert len(record) == len(bad)


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list(audio.iter_audio_folder(tmp_path / "missing"))
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(AudioError, match="no audio files"):
        list(audio.iter_audio_folder(tmp_path))
    make_bad_files(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedAudioWarning)
        with pytest.raises(AudioError, match="none of its 4"):
            list(audio.iter_audio_folder(tmp_path))


def test_list_audio_order_hidden_recursive(tmp_path):
    for name in ["song10.mp3", "song2.wav", ".hidden.mp3", "cover.jpg"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep.flac").write_bytes(b"x")
    assert [p.name for p in audio.list_audio(tmp_path)] == ["song2.wav", "song10.mp3"]
    assert "deep.flac" in [p.name for p in audio.list_audio(tmp_path, recursive=True)]


# --- awkward names -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["-y.mp3", "-i 'it''s' \"q\" été ü.flac", "a b; rm -rf x.wav",
                                  "-.ogg"])
def test_awkward_names_round_trip(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    ext = name[name.rindex("."):]
    src = write_wav(tmp_path / "src.wav", sine(440, 0.5))
    encode(src, tmp_path / "plain" f"{ext}", *CODECS.get(ext, []))
    (tmp_path / ("plain" + ext)).rename(tmp_path / name)
    before = snapshot(tmp_path)
    x = audio.load_audio(name)  # relative: a leading dash must not be read as an option
    assert abs(peak_hz(x) - 440) < 3
    assert snapshot(tmp_path) == before


def test_save_mp3_with_leading_dash_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = audio.save_mp3("-out 'x' é.mp3", sine(440, 0.5), SR)
    assert (tmp_path / "-out 'x' é.mp3").is_file()
    assert abs(peak_hz(audio.load_audio(out)) - 440) < 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["-out 'x' é.mp3"]


# --- writing -----------------------------------------------------------------------------------

def test_save_wav_round_trip_and_clipping(tmp_path):
    signal = np.concatenate([sine(440, 0.1), [1.7, -3.0, np.nan]])
    path = audio.save_wav(tmp_path / "out.wav", signal, SR)
    rate, data = wavfile.read(path)
    assert rate == SR and data.dtype == np.int16
    assert list(data[-3:]) == [32767, -32767, 0]
    np.testing.assert_allclose(audio.load_audio(path)[:-3], signal[:-3], atol=1 / 32767)


def test_save_refuses_to_overwrite(tmp_path):
    target = tmp_path / "mine.wav"
    target.write_bytes(b"precious")
    mp3 = tmp_path / "mine.mp3"
    mp3.write_bytes(b"precious too")
    with pytest.raises(FileExistsError, match="mine.wav"):
        audio.save_wav(target, sine(), SR)
    with pytest.raises(FileExistsError, match="mine.mp3"):
        audio.save_mp3(mp3, sine(), SR)
    assert target.read_bytes() == b"precious" and mp3.read_bytes() == b"precious too"
    audio.save_wav(target, sine(), SR, overwrite=True)
    assert wavfile.read(target)[1].size == sine().size


def test_failed_mp3_leaves_nothing(tmp_path):
    target = tmp_path / "old.mp3"
    target.write_bytes(b"old")
    with pytest.raises(AudioError, match="old.mp3"):
        audio.save_mp3(target, sine(), SR, bitrate="not-a-rate", overwrite=True)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["old.mp3"]


def test_save_mp3_stereo_and_bad_extension(tmp_path):
    stereo = np.stack([sine(440, 0.5), sine(440, 0.5)], axis=1)
    path = audio.save_mp3(tmp_path / "st.mp3", stereo, SR, bitrate="96k")
    assert abs(peak_hz(audio.load_audio(path)) - 440) < 3
    with pytest.raises(ValueError, match=r"\.mp3"):
        audio.save_mp3(tmp_path / "x.wav", stereo, SR)


# --- FFT blocks --------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,features", [("fft", 88200), ("rfft", 44102)])
def test_fft_round_trip_report_size(kind, features):
    x = np.random.default_rng(0).uniform(-1, 1, 2 * SR + 1234).astype(np.float32)
    blocks = fft_blocks.to_fft_blocks(x, 44100, kind)
    assert blocks.shape == (3, features) and blocks.dtype == np.float32
    assert fft_blocks.n_features(44100, kind) == features
    back = fft_blocks.from_fft_blocks(blocks, kind, length=x.size)
    assert back.dtype == np.float32 and back.shape == x.shape
    assert np.abs(back - x).max() < 1e-6


def test_fft_layout_real_then_imaginary_and_zero_padding():
    x = np.random.default_rng(1).normal(size=250)
    blocks = fft_blocks.to_fft_blocks(x, 100)
    assert blocks.shape == (3, 200)
    last = np.fft.fft(np.concatenate([x[200:], np.zeros(50)]))
    np.testing.assert_allclose(blocks[2, :100], last.real, atol=1e-4)
    np.testing.assert_allclose(blocks[2, 100:], last.imag, atol=1e-4)
    tail = fft_blocks.from_fft_blocks(blocks)[250:]
    assert tail.size == 50 and np.abs(tail).max() < 1e-6


def test_rfft_odd_block_size():
    x = np.random.default_rng(2).normal(size=303)
    blocks = fft_blocks.to_fft_blocks(x, 101, "rfft")
    assert blocks.shape == (3, 102)
    back = fft_blocks.from_fft_blocks(blocks, "rfft", block_size=101)
    np.testing.assert_allclose(back, x, atol=1e-5)
    with pytest.raises(ValueError, match="block_size"):
        fft_blocks.from_fft_blocks(blocks, "rfft", block_size=90)


def test_inverse_takes_real_part_of_non_hermitian_spectrum():
    rng = np.random.default_rng(3)
    blocks = rng.normal(size=(2, 64)).astype(np.float32)  # not the FFT of any real signal
    expected = np.fft.ifft(blocks[:, :32] + 1j * blocks[:, 32:], axis=1).real.reshape(-1)
    out = fft_blocks.from_fft_blocks(blocks)
    assert out.dtype == np.float32 and np.isrealobj(out)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_empty_signal_and_bad_shapes():
    assert fft_blocks.to_fft_blocks(np.zeros(0), 100).shape == (0, 200)
    with pytest.raises(ValueError, match="mono"):
        fft_blocks.to_fft_blocks(np.zeros((10, 2)), 4)
    with pytest.raises(ValueError, match="kind"):
        fft_blocks.to_fft_blocks(np.zeros(10), 4, kind="stft")


@pytest.mark.parametrize("block_size", [1, 2, 7, 100, 101, 4096, 44100])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mirrored_fft_equals_numpy_fft(block_size, dtype):
    x = np.random.default_rng(block_size).uniform(-1, 1, 3 * block_size + 5).astype(dtype)
    spectra = np.fft.fft(fft_blocks.to_blocks(x, block_size), axis=1)
    expected = np.concatenate([spectra.real, spectra.imag], axis=1)
    got = fft_blocks.to_fft_blocks(x, block_size)
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6 * np.abs(expected).max())
    half = spectra[:, :block_size // 2 + 1]
    rfft = fft_blocks.to_fft_blocks(x, block_size, "rfft")
    np.testing.assert_allclose(rfft, np.concatenate([half.real, half.imag], axis=1), rtol=0,
                               atol=1e-6 * np.abs(expected).max())
    # Hermitian symmetry holds exactly: X[n - k] = conj(X[k])
    k = np.arange(1, block_size)
    np.testing.assert_array_equal(got[:, block_size - k], got[:, k])
    np.testing.assert_array_equal(got[:, block_size + block_size - k], -got[:, block_size + k])


def test_fft_blocks_of_views_and_odd_strides():
    x = np.random.default_rng(5).uniform(-1, 1, 2001).astype(np.float32)
    expected = fft_blocks.to_fft_blocks(x.copy(), 100)
    np.testing.assert_array_equal(fft_blocks.to_fft_blocks(x[:2001], 100), expected)
    strided = np.repeat(x, 2)[::2]  # not contiguous
    np.testing.assert_array_equal(fft_blocks.to_fft_blocks(strided, 100), expected)
    offset = np.frombuffer(b"\0" + x.tobytes(), dtype=np.float32, offset=1)  # unaligned
    np.testing.assert_array_equal(fft_blocks.to_fft_blocks(offset, 100), expected)


def test_fft_round_trip_error_at_float32_precision():
    """Blocks are transformed in float32: the round trip stays within ~1e-6 of the peak."""
    rng = np.random.default_rng(6)
    t = np.arange(5 * SR) / SR
    music = 0.6 * np.sin(2 * np.pi * 220 * t) + 0.3 * rng.uniform(-1, 1, t.size)
    for x in (music.astype(np.float32), rng.uniform(-1, 1, 3 * SR).astype(np.float32)):
        back = fft_blocks.from_fft_blocks(fft_blocks.to_fft_blocks(x), length=x.size)
        assert np.abs(back - x).max() < 1e-6 * np.abs(x).max()


@pytest.mark.parametrize("kind", ["fft", "rfft"])
@pytest.mark.parametrize("block_size, n", [(100, 2345), (101, 1010), (44100, 3 * 44100 + 7),
                                           (2, 9), (5, 0)])
def test_spectrum_stats_equal_block_stats(kind, block_size, n):
    """Statistics summed from the rfft halves, group by group, equal those of the blocks."""
    x = np.random.default_rng(n).uniform(-1, 1, n).astype(np.float32)
    stats = fft_blocks.SpectrumStats(block_size, kind)
    parts = [fft_blocks.fft_blocks_with_stats(x[i:i + 3 * block_size], block_size, kind, stats)
             for i in range(0, max(n, 1), 3 * block_size)]  # in pieces, as the builder does
    blocks = np.concatenate(parts)
    np.testing.assert_array_equal(blocks, fft_blocks.to_fft_blocks(x, block_size, kind))
    got, expected = stats.block_stats(), fft_blocks.BlockStats.of(blocks)
    assert got.n == expected.n and got.max_abs == expected.max_abs
    assert got.total.dtype == got.total_sq.dtype == np.float64
    np.testing.assert_allclose(got.total, expected.total, rtol=1e-12,
                               atol=1e-12 * max(1.0, np.abs(expected.total).max()))
    np.testing.assert_allclose(got.total_sq, expected.total_sq, rtol=1e-12)


# --- scaling -----------------------------------------------------------------------------------

def spectra(seed=4):
    """FFT blocks of a random signal: bins of very different sizes."""
    x = np.random.default_rng(seed).uniform(-0.8, 0.8, 4000) + sine(50, 4000 / SR)
    return fft_blocks.to_fft_blocks(x, 200)


def test_global_scale_to_unit_range_and_back():
    b = spectra()
    s = fft_blocks.fit_scale(b)
    t = s.transform(b)
    assert np.abs(t).max() == pytest.approx(1.0, abs=1e-6) and t.dtype == np.float32
    assert s.scale == pytest.approx(np.abs(b).max())
    np.testing.assert_allclose(s.inverse(t), b, rtol=1e-6, atol=1e-6 * s.scale)


def test_per_bin_standardises_and_inverts():
    b = spectra()
    s = fft_blocks.fit_scale(b, "per_bin")
    t = s.transform(b)
    live = b.std(axis=0) > 1e-3
    np.testing.assert_allclose(t.mean(axis=0)[live], 0, atol=1e-4)
    np.testing.assert_allclose(t.std(axis=0)[live], 1, atol=1e-3)
    np.testing.assert_allclose(s.inverse(t), b, rtol=1e-5, atol=1e-5 * np.abs(b).max())


@pytest.mark.parametrize("method", ["global", "per_bin"])
def test_silence_scales_without_nan(method):
    silent = fft_blocks.to_fft_blocks(np.zeros(1000), 100)
    s = fft_blocks.fit_scale(silent, method)
    t = s.transform(silent)
    assert np.all(np.isfinite(t)) and np.all(t == 0)
    np.testing.assert_array_equal(s.inverse(t), silent)


@pytest.mark.parametrize("method", ["global", "per_bin"])
def test_scaler_json_round_trip(method):
    b = spectra()
    s = fft_blocks.fit_scale(b, method)
    again = fft_blocks.Scaler.from_dict(json.loads(json.dumps(s.to_dict())))
    np.testing.assert_array_equal(again.transform(b), s.transform(b))
    with pytest.raises(ValueError, match="method"):
        fft_blocks.fit_scale(b, "minmax")


# --- sequences ---------------------------------------------------------------------------------

def test_sequences_shifted_by_one_block():
    blocks = np.arange(13 * 4, dtype=np.float32).reshape(13, 4)
    x, y = fft_blocks.make_sequences(blocks, seq_len=10)
    assert x.shape == y.shape == (3, 10, 4)
    for i in range(3):
        np.testing.assert_array_equal(x[i], blocks[i:i + 10])
        np.testing.assert_array_equal(y[i], blocks[i + 1:i + 11])
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])


def test_sequences_need_enough_blocks():
    with pytest.raises(ValueError, match="11 blocks"):
        fft_blocks.make_sequences(np.zeros((10, 4)), seq_len=10)
    x, y = fft_blocks.make_sequences(np.zeros((11, 4)), seq_len=10)
    assert x.shape == (1, 10, 4)
