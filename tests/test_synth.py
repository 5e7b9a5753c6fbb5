"""albumlib.music.synth (the numpy synthesiser) and the sample music it rendered into data/music/."""

import subprocess
from pathlib import Path

import numpy as np
import pytest

from albumlib.music import synth

ROOT = Path(__file__).resolve().parents[1]
MUSIC = ROOT / "data" / "music"
SR = 44100


def fft_peak_hz(x, sr=SR):
    """Frequency of the largest spectral peak (Hann window, zero-padded to 2**20 points)."""
    n = 1 << 20
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)), n))
    return np.argmax(spectrum) * sr / n


def test_midi_to_hz():
    assert synth.midi_to_hz(69) == pytest.approx(440.0)
    assert synth.midi_to_hz(81) == pytest.approx(880.0)
    assert synth.midi_to_hz(60) == pytest.approx(261.6256, abs=1e-4)
    np.testing.assert_allclose(synth.midi_to_hz(np.array([57, 69])), [220.0, 440.0])


@pytest.mark.parametrize("instrument", sorted(synth.INSTRUMENTS))
@pytest.mark.parametrize("pitch", [45, 60, 76])
def test_note_sounds_at_its_pitch(instrument, pitch):
    hz = synth.midi_to_hz(pitch)
    wave = synth.note_wave(hz, 1.0, SR, instrument)
    assert wave.dtype == np.float32 and wave.shape == (SR,)
    assert fft_peak_hz(wave) == pytest.approx(hz, rel=0.003)  # within 5 cents


@pytest.mark.parametrize("instrument", sorted(synth.INSTRUMENTS))
def test_note_starts_and_ends_silent(instrument):
    wave = synth.note_wave(330.0, 0.5, SR, instrument)
    peak = np.abs(wave).max()
    ms = SR // 1000
    assert wave[0] == 0.0 and wave[-1] == 0.0
    # the envelope ramps (attack and release last a few ms): no click at either end
    assert np.abs(wave[:ms]).max() < 0.5 * peak
    assert np.abs(wave[-ms:]).max() < 0.5 * peak


def test_adsr_shape():
    env = synth.adsr(1000, sr=1000, attack=0.1, decay=0.1, sustain=0.5, release=0.2)
    assert env.shape == (1000,) and env[0] == 0.0 and env[-1] == 0.0
    assert env.max() == pytest.approx(1.0, abs=0.02)
    assert np.all(np.diff(env[:100]) > 0)           # attack rises
    assert np.allclose(env[200:800], 0.5)           # sustain holds
    assert np.all(np.diff(env[800:]) < 0)           # release falls
    for n in (0, 1, 2, 7, 30):                      # notes shorter than the ramps
        short = synth.adsr(n, sr=1000, attack=0.01, decay=0.01, release=0.02)
        assert short.shape == (n,) and (n == 0 or (short[0] == 0 and short[-1] == 0))


def test_note_wave_rejects_bad_arguments():
    with pytest.raises(ValueError):
        synth.note_wave(440.0, 0.1, SR, "theremin")
    with pytest.raises(ValueError):
        synth.note_wave(440.0, 0.1, SR, "organ", velocity=100)  # 0-1, not MIDI 0-127


def test_velocity_scales_the_note():
    loud = synth.note_wave(440.0, 0.3, SR, "piano", velocity=1.0)
    soft = synth.note_wave(440.0, 0.3, SR, "piano", velocity=0.25)
    np.testing.assert_allclose(soft, 0.25 * loud, atol=1e-6)


NOTES = [(0.0, 0.5, 60, 0.8, 0), (0.5, 0.5, 64, 0.7, 1), (1.0, 1.0, 67, 0.9, 0),
         (1.0, 1.0, 48, 0.6, 1)]


def test_render_notes_length_dtype_and_peak():
    y = synth.render_notes(NOTES, SR, tail=0.5)
    assert y.dtype == np.float32 and y.ndim == 1
    assert len(y) == round((2.0 + 0.5) * SR)
    assert np.abs(y).max() == pytest.approx(10 ** (-1 / 20), rel=1e-5)  # -1 dBFS
    y6 = synth.render_notes(NOTES, SR, tail=0.5, peak_dbfs=-6.0)
    assert np.abs(y6).max() == pytest.approx(10 ** (-6 / 20), rel=1e-5)
    assert y[0] == 0.0 and y[-1] == 0.0                # starts silent, fades to 0
    assert np.sqrt(np.mean(y[: 2 * SR] ** 2)) > 0.05   # and is not silent in between


def test_render_notes_fades_out_a_note_cut_by_the_end():
    y = synth.render_notes([(0.0, 1.0, 60, 1.0)], SR, tail=0.0, legato=0.5, fade=0.05)
    assert len(y) == SR and y[-1] == 0.0
    assert np.abs(y[-SR // 1000:]).max() < 0.01 * np.abs(y).max()  # no click at the cut


def test_render_notes_places_notes_in_time():
    y = synth.render_notes([(1.0, 0.5, 69, 1.0)], SR, tail=0.5, legato=0.0)
    assert np.abs(y[: SR - 10]).max() == 0.0  # nothing before the onset
    assert np.abs(y[SR + SR // 10: SR + SR // 5]).max() > 0.3
    assert fft_peak_hz(y[SR: SR + SR // 2]) == pytest.approx(440.0, rel=0.003)


def test_render_notes_is_deterministic_and_seeded():
    a = synth.render_notes(NOTES, SR)
    b = synth.render_notes(NOTES, SR)
    c = synth.render_notes(NOTES, SR, seed=1)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_render_notes_instrument_per_part():
    organ = synth.render_notes(NOTES, SR)
    mixed = synth.render_notes(NOTES, SR, instruments={1: "pluck"})
    assert len(organ) == len(mixed) and not np.allclose(organ, mixed, atol=1e-3)
    same = synth.render_notes([n[:4] for n in NOTES], SR, instruments={1: "pluck"})
    np.testing.assert_array_equal(same, organ)  # notes without a part use `instrument`


def test_render_notes_edge_cases():
    assert len(synth.render_notes([], SR, tail=0.25)) == round(0.25 * SR)
    assert not np.any(synth.render_notes([], SR, tail=0.25))
    with pytest.raises(ValueError):
        synth.render_notes([(-0.1, 0.5, 60, 0.5)], SR)


def test_synth_does_not_need_music21():
    source = (ROOT / "albumlib" / "music" / "synth.py").read_text()
    assert "music21" not in source  # a re-rendering tool only, not a run-time dependency


# The bundled sample music (made by scripts/render_sample_music.py).

def mp3_files():
    return sorted(MUSIC.glob("*.mp3"))


def decode(path):
    """Decode with the ffmpeg binary to float32 mono 44.1 kHz (argument list, no shell)."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path),
           "-f", "f32le", "-ac", "1", "-ar", str(SR), "pipe:1"]
    out = subprocess.run(cmd, check=True, capture_output=True, timeout=120).stdout
    return np.frombuffer(out, "<f4")


def test_sample_music_is_bundled_within_budget():
    files = mp3_files()
    assert len(files) >= 6, files
    total = sum(p.stat().st_size for p in MUSIC.rglob("*") if p.is_file())
    assert total <= 5_000_000, f"data/music is {total / 1e6:.2f} MB"


def test_sample_music_attribution_names_every_file():
    text = (MUSIC / "ATTRIBUTION.md").read_text()
    for path in mp3_files():
        assert path.name in text, path.name
    for word in ("public domain", "music21", "license.txt", "render_sample_music.py"):
        assert word in text, word


@pytest.mark.parametrize("path", mp3_files(), ids=lambda p: p.name)
def test_sample_music_decodes_to_real_audio(path):
    x = decode(path).astype(np.float64)
    assert len(x) >= 20 * SR, f"{path.name}: {len(x) / SR:.1f} s"
    frames = x[: len(x) // 2205 * 2205].reshape(-1, 2205)        # 50 ms frames
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    assert np.sqrt(np.mean(x ** 2)) > 10 ** (-30 / 20)           # louder than -30 dBFS
    assert np.mean(rms < 10 ** (-50 / 20)) < 0.25                 # mostly not silent
    assert np.mean(np.abs(x) >= 0.999) < 1e-4                     # not clipped
