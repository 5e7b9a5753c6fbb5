"""Tests of albumlib.beats: spectral-flux onset envelope and onset picking."""

import numpy as np
import pytest

from albumlib import beats

SR = 44100


def click_track(times, seconds, sr=SR, noise=0.01, seed=0):
    """Short 2 kHz pings at `times` over faint white noise."""
    rng = np.random.default_rng(seed)
    x = noise * rng.standard_normal(int(seconds * sr)).astype(np.float32)
    n = np.arange(400)
    ping = (0.8 * np.exp(-n / 60) * np.sin(2 * np.pi * 2000 * n / sr)).astype(np.float32)
    for t in times:
        i = int(round(t * sr))
        x[i:i + ping.size] += ping[:x.size - i]
    return x


def notes(starts, seconds, sr=SR):
    """Decaying tones starting at `starts` (a plucked-string melody)."""
    t = np.arange(int(seconds * sr)) / sr
    y = np.zeros_like(t)
    for s, f in zip(starts, [220, 330, 440, 262, 392, 294]):
        m = t >= s
        y[m] += 0.3 * np.sin(2 * np.pi * f * (t[m] - s)) * np.exp(-(t[m] - s) * 3)
    return y.astype(np.float32)


def test_clicks_found_within_a_video_frame():
    clicks = [0.5, 1.03, 1.6, 2.2, 2.71, 3.3, 4.05, 4.6, 5.2]
    found = beats.detect_onsets(click_track(clicks, 6.0), SR)
    assert found.shape == (len(clicks),)
    assert np.max(np.abs(found - clicks)) < 1 / 60  # within half a frame at 30 fps


def test_note_onsets_of_tones():
    starts = [0.3, 1.1, 1.9, 2.6, 3.3]
    found = beats.detect_onsets(notes(starts, 3.9), SR)
    assert found.shape == (5,)
    assert np.max(np.abs(found - starts)) < 1 / 30


def test_silence_and_steady_tone_have_no_onsets():
    assert beats.detect_onsets(np.zeros(SR), SR).size == 0
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(2 * SR) / SR)
    assert beats.detect_onsets(tone, SR).size == 0
    assert beats.detect_onsets(np.zeros(10), SR).size == 0


def test_stereo_and_min_interval():
    x = click_track([0.5, 0.56, 1.5], 2.0)
    stereo = np.stack([x, x], axis=1)
    found = beats.detect_onsets(stereo, SR, min_interval=0.1)
    assert found.size == 2  # the two clicks 60 ms apart count once
    assert abs(found[-1] - 1.5) < 0.02


def test_envelope_blocks_do_not_change_the_result():
    x = click_track([0.3, 0.9, 1.4], 2.0)
    env_a, times_a = beats.onset_strength(x, SR, block_frames=7)
    env_b, times_b = beats.onset_strength(x, SR, block_frames=10_000)
    np.testing.assert_allclose(env_a, env_b, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(times_a, times_b)
    assert times_a[1] == pytest.approx(beats.DEFAULT_HOP / SR)


def test_bad_arguments():
    with pytest.raises(ValueError):
        beats.onset_strength(np.zeros((2, 2, 2)), SR)
    with pytest.raises(ValueError):
        beats.pick_peaks(np.zeros(5), np.zeros(4))
