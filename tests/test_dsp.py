"""albumlib.dsp: mono signals, frames and spectra, block mean squares, the gated RMS."""

import math

import numpy as np
import pytest

from albumlib import dsp


def test_as_mono_averages_channels_and_does_not_copy_mono():
    stereo = [[1.0, 3.0], [2.0, -2.0], [0.5, 0.5]]
    mono = dsp.as_mono(stereo)
    assert mono.dtype == np.float32
    np.testing.assert_array_equal(mono, [2.0, 0.0, 0.5])
    assert dsp.as_mono(stereo, np.float64).dtype == np.float64
    x = np.zeros(5, np.float32)
    assert dsp.as_mono(x) is x
    assert dsp.as_mono(np.zeros(0)).shape == (0,)
    with pytest.raises(ValueError, match=r"music: .*\(2, 3, 4\)"):
        dsp.as_mono(np.zeros((2, 3, 4)), name="music")


def test_hann_periodic_and_symmetric():
    n = 8
    k = np.arange(n)
    np.testing.assert_allclose(dsp.hann(n), 0.5 - 0.5 * np.cos(2 * np.pi * k / n), atol=1e-15)
    np.testing.assert_allclose(dsp.hann(n, periodic=False),
                               0.5 - 0.5 * np.cos(2 * np.pi * k / (n - 1)), atol=1e-15)


def test_frames_count_and_content_are_a_view():
    x = np.arange(10.0)
    f = dsp.frames(x, 4, 3)
    assert f.shape == (3, 4)                             # starts 0, 3, 6 (9 would overrun)
    np.testing.assert_array_equal(f[2], [6, 7, 8, 9])
    assert np.shares_memory(f, x)
    assert dsp.frames(np.zeros(1000), 256, 100).shape == (1 + (1000 - 256) // 100, 256)
    assert dsp.frames(np.zeros(4), 4, 7).shape == (1, 4)
    with pytest.raises(ValueError, match="at least n_fft=4"):
        dsp.frames(np.zeros(3), 4, 1)
    with pytest.raises(ValueError, match="hop >= 1"):
        dsp.frames(x, 4, 0)


def test_power_of_a_sine_lies_in_its_bin():
    n_fft, k, amp = 512, 37, 0.3
    t = np.arange(4 * n_fft)
    x = amp * np.sin(2 * np.pi * k * t / n_fft + 0.4)
    power = dsp.stft(x, n_fft, n_fft // 2, dsp.hann(n_fft), power=True)
    assert power.shape == (7, n_fft // 2 + 1)
    # periodic Hann: |X_k| = amp * sum(w) / 2 = amp n / 4, and amp n / 8 in both neighbours
    np.testing.assert_allclose(power[:, k], (amp * n_fft / 4) ** 2, rtol=1e-9)
    np.testing.assert_allclose(power[:, [k - 1, k + 1]], (amp * n_fft / 8) ** 2, rtol=1e-9)
    rest = np.delete(power, [k - 1, k, k + 1], axis=1)
    assert rest.max() < 1e-18 * power[:, k].min() * n_fft
    spectra = dsp.stft(x, n_fft, n_fft // 2, dsp.hann(n_fft))
    np.testing.assert_allclose(np.abs(spectra) ** 2, power, rtol=1e-12)


@pytest.mark.parametrize("chunk", [1, 3, 7, 1000])
def test_stft_chunks_are_the_whole_stft_in_pieces(chunk):
    x = np.random.default_rng(0).standard_normal(3000)
    window = dsp.hann(128)
    whole = dsp.stft(x, 128, 50, window, power=True)
    pieces = list(dsp.stft_chunks(x, 128, 50, window, chunk=chunk, power=True))
    assert len(pieces) == -(-whole.shape[0] // chunk)
    assert all(p.shape[0] <= chunk for _, p in pieces)
    np.testing.assert_array_equal(np.concatenate([f for f, _ in pieces]),
                                  dsp.frames(x, 128, 50))
    np.testing.assert_allclose(np.concatenate([p for _, p in pieces]), whole, rtol=1e-12)


def test_block_mean_squares_with_and_without_the_tail():
    x = [1.0, -1.0, 2.0, 2.0, 3.0]
    np.testing.assert_array_equal(dsp.block_mean_squares(x, 2), [1.0, 4.0, 9.0])
    np.testing.assert_array_equal(dsp.block_mean_squares(x, 2, tail=False), [1.0, 4.0])
    np.testing.assert_array_equal(dsp.block_mean_squares(x, 10, tail=False), [19.0 / 5])
    with pytest.raises(ValueError, match="block >= 1"):
        dsp.block_mean_squares(x, 0)


def _signal_with_silent_blocks(block):
    rng = np.random.default_rng(3)
    parts = [np.full(block, 0.5), np.zeros(block), 0.2 * rng.standard_normal(block),
             np.full(block, 1e-4),                  # -80 dBFS: below the -50 dBFS gate
             0.1 * np.sin(np.arange(block)), np.zeros(block), -0.9 * np.ones(block)]
    return np.concatenate(parts), np.array([0, 2, 4, 6])  # the blocks that count


def test_gated_rms_ignores_silent_blocks():
    block = 100
    x, loud = _signal_with_silent_blocks(block)
    rms = dsp.GatedRms(block)
    rms.add(x)
    ms = [float(np.mean(x[b * block:(b + 1) * block] ** 2)) for b in loud]
    assert rms.count == 4
    assert rms.total == pytest.approx(sum(ms), rel=1e-12)
    assert rms.peak == 0.9
    gated = math.sqrt(sum(ms) / 4)
    assert rms.gain(-16.0, 0.0) == pytest.approx(10 ** (-16 / 20) / gated, rel=1e-12)
    assert rms.gain(0.0, -3.0) == pytest.approx(10 ** (-3 / 20) / 0.9, rel=1e-12)  # peak
    silent = dsp.GatedRms(block)
    silent.add(np.zeros(1000))
    assert silent.gain(-16.0, -1.0) == 1.0


def test_gated_rms_in_pieces_equals_whole():
    block = 100
    x, _ = _signal_with_silent_blocks(block)
    tail = np.full(30, 0.95)
    whole, pieces = dsp.GatedRms(block), dsp.GatedRms(block)
    whole.add(x)
    for start in range(0, 6 * block, 2 * block):
        pieces.add(x[start:start + 2 * block])
    pieces.add(np.concatenate([x[6 * block:], tail]))  # a trailing part: for the peak only
    assert pieces.count == whole.count
    assert pieces.total == pytest.approx(whole.total, rel=1e-12)
    assert pieces.peak == 0.95 and whole.peak == 0.9
    short = dsp.GatedRms(block)
    short.add(tail)                                  # a piece shorter than a block is one block
    assert short.count == 1 and short.total == pytest.approx(0.95 ** 2)
