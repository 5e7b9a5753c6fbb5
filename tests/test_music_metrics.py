"""albumlib.music.metrics on audio whose answer is known: silence, noise, copies, loops, music."""

import math
from pathlib import Path

import numpy as np
import pytest

from albumlib import audio
from albumlib.music import metrics as mm

ROOT = Path(__file__).resolve().parents[1]
MUSIC = ROOT / "data" / "music"
SR = 44100


def sine(freq=440.0, seconds=2.0, amp=0.5, phase=0.0):
    """A float64 sine wave."""
    return amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * SR)) / SR + phase)


def noise(seconds=6.0, amp=0.3, seed=0):
    """Gaussian white noise."""
    return amp * np.random.default_rng(seed).standard_normal(int(seconds * SR))


@pytest.fixture(scope="module")
def pieces():
    """Four bundled pieces decoded at 44.1 kHz: organ, strings, string quartet, organ."""
    names = ["01_bach_bwv66-6_organ", "02_bach_bwv4-8_strings", "06_haydn_op74no1_menuetto_strings",
             "07_mozart_k80_adagio_organ"]
    return {name[:2]: audio.load_audio(MUSIC / f"{name}.mp3").astype(np.float64) for name in names}


# ---------------------------------------------------------------------------------------------
# Silence, clipping, level
# ---------------------------------------------------------------------------------------------

def test_silence_gives_known_values_and_no_nan(pieces):
    quiet = np.zeros(5 * SR)
    assert mm.silence_fraction(quiet, SR) == 1.0
    assert mm.clipping_rate(quiet) == 0.0
    assert mm.click_ratio(quiet) == 1.0
    assert mm.spectral_flatness(quiet, SR) == 0.0
    assert mm.loop_score(quiet, SR) == 0.0
    assert mm.rms_dbfs(quiet) == -120.0
    assert np.all(np.isfinite(mm.frame_features(quiet, SR)))
    result = mm.evaluate(quiet, SR, training=[pieces["01"][:15 * SR]],
                         heldout=pieces["07"][:10 * SR], reference=pieces["02"][:10 * SR])
    assert set(result) >= {"silence_fraction", "click_ratio", "loop_score", "fad", "copy_score"}
    assert all(math.isfinite(v) for v in result.values()), result
    assert result["copy_score"] > 1.5  # silence copies nothing


def test_silence_fraction_counts_quiet_frames():
    x = np.concatenate([sine(seconds=2.0), np.zeros(3 * SR)])
    # frames of 2048: the one straddling 2 s still holds some tone, so slightly under 3 / 5
    assert mm.silence_fraction(x, SR) == pytest.approx((x.size - 44 * 2048) / x.size)
    assert mm.silence_fraction(sine(), SR) == 0.0
    faint = sine(amp=10 ** (-60 / 20) * math.sqrt(2))  # -60 dBFS RMS
    assert mm.silence_fraction(faint, SR) == 1.0
    assert mm.silence_fraction(faint, SR, threshold_db=-70) == 0.0
    assert mm.rms_dbfs(faint) == pytest.approx(-60.0, abs=0.01)


def test_clipping_rate_equals_the_constructed_fraction():
    x = np.full(10_000, 0.25)
    x[:37] = 1.0
    x[100:113] = -1.0
    x[500:550] = 1.7  # beyond full scale, as a model's raw output may be
    assert mm.clipping_rate(x) == pytest.approx(100 / 10_000)
    assert mm.clipping_rate(x, level=2.0) == 0.0
    # |2 sin| >= 1 for two thirds of each period
    assert mm.clipping_rate(np.clip(sine(amp=2.0), -1, 1)) == pytest.approx(2 / 3, abs=0.01)


def test_bad_signals_are_refused():
    with pytest.raises(ValueError, match="empty"):
        mm.clipping_rate([])
    with pytest.raises(ValueError, match="mono"):
        mm.silence_fraction(np.zeros((100, 2)), SR)
    with pytest.raises(ValueError, match="more than one block"):
        mm.click_ratio(np.zeros(1000), block_size=44100)


# ---------------------------------------------------------------------------------------------
# Clicks and flatness
# ---------------------------------------------------------------------------------------------

def test_click_ratio_large_for_hard_block_edges_and_about_one_when_continuous(pieces):
    rng = np.random.default_rng(1)
    blocks = np.concatenate([sine(330.0, 1.0, phase=rng.uniform(0, 2 * np.pi)) for _ in range(8)])
    hard = mm.click_ratio(blocks)
    smooth = mm.click_ratio(sine(330.0, 8.0))
    assert hard > 10.0
    assert 0.5 < smooth < 2.0
    assert 0.5 < mm.click_ratio(pieces["02"]) < 2.0
    # the same blocks faded out and in over 10 ms at each edge no longer jump there
    fade = int(0.01 * SR)
    envelope = np.ones(blocks.size)
    for b in range(SR, blocks.size, SR):
        envelope[b - fade:b] = np.linspace(1.0, 0.0, fade)
        envelope[b:b + fade] = np.linspace(0.0, 1.0, fade)
    assert mm.click_ratio(blocks * envelope) < 1.0


def test_spectral_flatness_of_noise_tone_and_music(pieces):
    assert mm.spectral_flatness(noise(), SR) == pytest.approx(math.exp(-np.euler_gamma), abs=0.02)
    assert mm.spectral_flatness(sine(), SR) < 1e-3
    assert mm.spectral_flatness(pieces["01"], SR) < 0.01


# ---------------------------------------------------------------------------------------------
# Mel filterbank and frame features
# ---------------------------------------------------------------------------------------------

def test_mel_filterbank_is_htk_with_unit_rows():
    assert mm.hz_to_mel(1000.0) == pytest.approx(1000.0, abs=0.05)  # HTK: 1 kHz is ~1000 mel
    assert mm.mel_to_hz(mm.hz_to_mel(3210.0)) == pytest.approx(3210.0)
    bank = mm.mel_filterbank(SR, 2048, n_mels=40)
    assert bank.shape == (40, 1025)
    assert np.all(bank >= 0)
    np.testing.assert_allclose(bank.sum(axis=1), 1.0)
    freqs = np.fft.rfftfreq(2048, 1 / SR)
    centres = bank @ freqs
    assert np.all(np.diff(centres) > 0)
    tiny = mm.mel_filterbank(8000, 64, n_mels=30, fmin=0, fmax=4000)  # bands narrower than bins
    np.testing.assert_allclose(tiny.sum(axis=1), 1.0)
    with pytest.raises(ValueError):
        mm.mel_filterbank(SR, 2048, fmax=30000)


def test_frame_features_of_a_tone_and_of_noise():
    feats = mm.frame_features(sine(1000.0), SR)
    names = mm.feature_names()
    assert feats.shape == (1 + (2 * SR - 2048) // 512, len(names)) == (169, 55)
    log_mel = feats[:, :40]
    bank = mm.mel_filterbank(SR, 2048)
    loudest = int(np.argmax(log_mel.mean(axis=0)))
    assert abs(bank[loudest] @ np.fft.rfftfreq(2048, 1 / SR) - 1000.0) < 100.0
    # MFCC 0 of the orthonormal DCT-II is the sum of the log-mel bands / sqrt(40)
    np.testing.assert_allclose(feats[:, 40], log_mel.sum(axis=1) / math.sqrt(40))
    assert feats[:, names.index("centroid_khz")].mean() == pytest.approx(1.0, abs=0.05)
    flat_db = mm.frame_features(noise(), SR)[:, names.index("flatness_db")].mean()
    assert flat_db == pytest.approx(10 * math.log10(math.exp(-np.euler_gamma)), abs=0.3)


# ---------------------------------------------------------------------------------------------
# Frechet distance
# ---------------------------------------------------------------------------------------------

def test_frechet_distance_zero_for_identical_and_symmetric():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((500, 6)) @ rng.standard_normal((6, 6))
    b = rng.standard_normal((400, 6)) * 2.0 + 1.0
    assert mm.frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert mm.frechet_distance(a, b) == pytest.approx(mm.frechet_distance(b, a), rel=1e-6)
    assert mm.frechet_distance(a, b) > 1.0


def test_frechet_distance_matches_diagonal_gaussians():
    mu_a, mu_b = np.array([0.0, 1.0, -2.0]), np.array([0.5, 1.0, 1.0])
    var_a, var_b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    direct = np.sum((mu_a - mu_b) ** 2) + np.sum((np.sqrt(var_a) - np.sqrt(var_b)) ** 2)
    assert direct == pytest.approx(0.25 + 9.0 + 4.0 + 1.0)
    exact = mm.gaussian_frechet(mu_a, np.diag(var_a), mu_b, np.diag(var_b), eps=0.0)
    assert exact == pytest.approx(direct, rel=1e-9)
    rng = np.random.default_rng(3)
    a = mu_a + np.sqrt(var_a) * rng.standard_normal((40_000, 3))
    b = mu_b + np.sqrt(var_b) * rng.standard_normal((40_000, 3))
    assert mm.frechet_distance(a, b) == pytest.approx(direct, rel=0.03)


def test_frechet_distance_survives_singular_covariances():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((300, 3))
    a = np.column_stack([a, a[:, 0] + a[:, 1], np.zeros(300)])  # rank 3 of 5
    b = a[::-1] + 0.1
    value = mm.frechet_distance(a, b)
    assert math.isfinite(value)
    assert value == pytest.approx(5 * 0.01, abs=1e-3)  # same covariance, means 0.1 apart
    with pytest.raises(ValueError, match="n >= 2"):
        mm.frechet_distance(a[:1], b)


def test_frechet_audio_distance_noise_is_farther_from_music_than_music(pieces):
    ref = [pieces["01"][:15 * SR], pieces["02"][:15 * SR]]
    music = mm.frechet_audio_distance(pieces["06"][:15 * SR], ref, SR)
    hiss = mm.frechet_audio_distance(noise(15.0), ref, SR)
    same = mm.frechet_audio_distance(ref, ref, SR)
    assert same == pytest.approx(0.0, abs=1e-3 * music)
    assert hiss > 3 * music > 0


# ---------------------------------------------------------------------------------------------
# Copy score
# ---------------------------------------------------------------------------------------------

def test_copy_score_near_zero_for_copies_and_near_one_for_new_music(pieces):
    training = [pieces["01"][:22 * SR], pieces["02"][:25 * SR]]
    heldout = pieces["07"][:20 * SR]
    copy = pieces["02"][10 * SR:25 * SR]
    assert mm.copy_score(copy, training, heldout, SR) < 0.01
    # a copy that starts between training blocks, quieter and with faint hiss, is still a copy
    shifted = 0.5 * pieces["01"][int(6.37 * SR):int(21.37 * SR)] + noise(15.0, amp=0.003)
    assert mm.copy_score(shifted, training, heldout, SR) < 0.3
    new = mm.copy_score(pieces["06"][:20 * SR], training, heldout, SR)
    assert 0.4 < new < 2.5
    gen_d, held_d = mm.copy_distances(copy, training, heldout, SR)
    assert gen_d.shape == (15,) and held_d.shape[0] == len(heldout) // SR
    with pytest.raises(ValueError, match="copies of training"):
        mm.copy_score(copy, training, training[1], SR)


def test_block_features_are_loudness_free_and_aligned():
    x = noise(4.0)
    feats, ms = mm.block_features(x, SR, hop=SR // 2)
    assert feats.shape == (7, 40)
    np.testing.assert_allclose(np.sqrt(np.mean(feats ** 2, axis=1)), 1.0)
    np.testing.assert_allclose(ms, 0.09, rtol=0.05)
    quiet, _ = mm.block_features(0.1 * x, SR, hop=SR // 2)
    np.testing.assert_allclose(quiet, feats, atol=1e-9)
    # blocks starting at multiples of block_size // 100 reuse the frames of the whole signal
    later, _ = mm.block_features(x[SR // 2:], SR)
    np.testing.assert_allclose(later, feats[1::2], atol=1e-9)


# ---------------------------------------------------------------------------------------------
# Self-similarity and loops
# ---------------------------------------------------------------------------------------------

def test_loop_score_high_for_a_looped_excerpt_lower_for_the_piece_low_for_noise(pieces):
    piece = pieces["02"][:30 * SR]
    looped = np.tile(piece[10 * SR:12 * SR], 5)
    loop = mm.loop_score(looped, SR)
    real = mm.loop_score(piece, SR)
    hiss = mm.loop_score(noise(10.0), SR)
    assert loop > 0.9
    assert real < loop - 0.2
    assert hiss < 0.1
    assert mm.loop_score(np.tile(noise(2.0), 5), SR) > 0.9  # even noise, once it repeats
    with pytest.raises(ValueError, match="too short"):
        mm.loop_score(noise(1.5), SR)


def test_self_similarity_and_lag_profile_agree():
    x = np.tile(noise(1.0, seed=5), 4) + noise(4.0, amp=0.03, seed=6)
    s, step = mm.self_similarity(x, SR)
    assert step == pytest.approx(1024 / SR)
    assert s.shape[0] == s.shape[1] == 1 + (x.size - 2048) // 1024
    np.testing.assert_allclose(s, s.T, atol=1e-6)
    np.testing.assert_allclose(np.diag(s), 1.0, atol=1e-5)
    lags, means = mm.lag_profile(x, SR)
    direct = np.array([np.diagonal(s, k).mean() for k in range(s.shape[0])])
    np.testing.assert_allclose(means, direct, atol=1e-5)
    period = int(np.argmax(means[20:]) + 20)
    assert lags[period] == pytest.approx(1.0, abs=1024 / SR)
    small, step = mm.self_similarity(x, SR, max_frames=50)
    assert small.shape[0] <= 50 and step > 1024 / SR


# ---------------------------------------------------------------------------------------------
# evaluate and the table
# ---------------------------------------------------------------------------------------------

def test_evaluate_skips_what_it_cannot_compute_and_table_renders():
    short = sine(seconds=0.5)
    result = mm.evaluate(short, SR)
    assert set(result) == {"duration_s", "rms_dbfs", "silence_fraction", "clipping_rate",
                           "spectral_flatness", "onset_rate", "onset_coverage",
                           "spectral_novelty", "chroma_change"}
    assert result["onset_coverage"] == result["spectral_novelty"] == result["chroma_change"] == 0.0
    longer = mm.evaluate(noise(4.0), SR)
    assert {"click_ratio", "loop_score"} <= set(longer)
    assert "fad" not in longer and "copy_score" not in longer
    for seconds in (1.9, 2.0, 2.1, 2.15, 2.25, 2.3):  # around the shortest that a loop score needs
        assert ("loop_score" in mm.evaluate(noise(seconds), SR)) == (seconds > 2.2)
    table = mm.metrics_table({"tone": result, "noise": longer})
    lines = table.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("| | duration_s | rms_dbfs")
    assert lines[1].count("---") == lines[0].count("|") - 1
    assert "| tone | 0.5 |" in lines[2] and lines[2].endswith("– | – |")
    assert "0.56" in lines[3]


# ---------------------------------------------------------------------------------------------
# Does it move? A drone, a scale, silence, real pieces
# ---------------------------------------------------------------------------------------------

def drone(seconds=8.0):
    """A sustained C major chord with faint noise: what the report's model composes."""
    t = np.arange(int(seconds * SR)) / SR
    chord = sum(0.2 * np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0))
    return chord + 0.01 * np.random.default_rng(0).standard_normal(t.size)


def scale():
    """C major up an octave, one piano note a second, each starting mid-second."""
    from albumlib.music import synth
    notes = [(i + 0.5, 0.9, p, 0.8) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])]
    return synth.render_notes(notes, SR, instrument="piano").astype(np.float64)


def moves(x):
    return {"rate": mm.onset_rate(x, SR), "coverage": mm.onset_coverage(x, SR),
            "novelty": mm.spectral_novelty(x, SR), "chroma": mm.chroma_change(x, SR)}


def test_a_drone_does_not_move_and_a_scale_does():
    still, steps = moves(drone()), moves(scale())
    assert still["rate"] <= 0.25 and still["coverage"] <= 0.25
    assert still["novelty"] < 0.01 and still["chroma"] < 0.01
    # every note is found, one in each second (8 notes in 8.9 s)
    assert steps["rate"] == pytest.approx(8 / 8.9, abs=0.05) and steps["coverage"] == 1.0
    assert steps["novelty"] > 0.5 and steps["chroma"] > 0.7
    assert moves(np.zeros(5 * SR)) == {"rate": 0.0, "coverage": 0.0, "novelty": 0.0, "chroma": 0.0}


def test_real_pieces_move_far_more_than_a_drone(pieces):
    still = moves(drone(30.0))
    for name, x in pieces.items():
        m = moves(x)
        assert m["rate"] > 0.8 and m["coverage"] > 0.6, (name, m)
        assert m["novelty"] > 10 * max(still["novelty"], 0.005), (name, m)
        assert m["chroma"] > 0.25 > still["chroma"] + 0.2, (name, m)


def test_chroma_puts_a_tone_in_its_pitch_class():
    n_fft = 4096
    spectrum = np.abs(np.fft.rfft(sine(440.0, 1.0)[:n_fft] * np.hanning(n_fft)))
    profile = mm.chroma(spectrum[None], SR, n_fft)[0]
    assert profile.argmax() == 9 and profile[9] > 0.9 and profile.sum() == pytest.approx(1.0)


def test_evaluate_reports_the_movement():
    out = mm.evaluate(scale(), SR)
    assert out["onset_rate"] > 0.5 and out["chroma_change"] > 0.7
