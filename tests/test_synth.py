"""albumlib.music.synth (the numpy synthesiser) and the sample music it rendered into data/music/."""

import subprocess
import sys
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


# Notebook 05: instruments for a film soundtrack, streaming, part gains, the SoundFont path.

NEW = sorted(synth.MODELLED)          # grand, bass, harp, celesta, pad
PERCUSSIVE = ["bass", "celesta", "grand", "harp"]


def band_energy(x, lo, hi, sr=SR):
    """Energy of x between lo and hi Hz (Hann window)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    hz = np.fft.rfftfreq(len(x), 1 / sr)
    return float(spectrum[(hz >= lo) & (hz < hi)].sum())


def centroid(x, sr=SR):
    """Spectral centroid in Hz."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.sum(np.fft.rfftfreq(len(x), 1 / sr) * spectrum) / np.sum(spectrum))


def rms_db(x):
    return 20 * np.log10(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)) + 1e-12)


def test_existing_instruments_sound_as_before():
    # fingerprints of render_notes before notebook 05's additions (the bundled MP3s were made so)
    expected = {("organ", "piano"): (3571.7683572214464, 0.18472094072285472,
                                     (0.006778426002711058, 0.26164546608924866,
                                      0.07915094494819641)),
                ("strings", "pluck"): (4916.893015376791, 0.45189831164225325,
                                       (0.03248859941959381, 0.22048841416835785,
                                        0.37484923005104065))}
    for (a, b), (energy, total, samples) in expected.items():
        y = synth.render_notes(NOTES, SR, instruments={0: a, 1: b}).astype(np.float64)
        assert np.sum(y * y) == pytest.approx(energy, rel=1e-5)
        assert np.sum(y[::7]) == pytest.approx(total, rel=1e-3, abs=1e-3)
        np.testing.assert_allclose(y[[22050, 44100 + 1234, 66150 + 99]], samples, atol=1e-5)
    plain = synth.render_notes(NOTES, SR)
    assert np.array_equal(synth.render_notes(NOTES, SR, part_gains={}), plain)


def scale_notes(instrument, step=0.5, duration=0.45):
    """A C major scale (an A major one in the bass's range), one note every `step` s."""
    base = 33 if instrument == "bass" else 60
    pitches = [base + s for s in (0, 2, 4, 5, 7, 9, 11, 12)]
    return [(0.25 + step * i, duration, p, 0.7) for i, p in enumerate(pitches)]


@pytest.mark.parametrize("instrument", NEW)
def test_new_instruments_onsets_are_found_within_30_ms(instrument):
    from albumlib.beats import detect_onsets

    notes = scale_notes(instrument)
    y = synth.render_stream(notes, SR, instrument=instrument)
    found = detect_onsets(y, SR)
    for onset, *_ in notes:
        assert np.min(np.abs(found - onset)) <= 0.03, (onset, found)
    if instrument in PERCUSSIVE:  # and nothing else (the pad's chorus may shimmer when alone)
        assert len(found) == len(notes), found


@pytest.mark.parametrize("instrument", PERCUSSIVE)
def test_new_instruments_attack_within_a_few_ms(instrument):
    wave = np.abs(synth.note_wave(synth.midi_to_hz(40 if instrument == "bass" else 64), 0.5, SR,
                                  instrument, 0.8))
    peak = wave[: SR // 10].max()
    assert np.argmax(wave >= 0.5 * peak) < 0.006 * SR  # half its peak within 6 ms
    assert np.argmax(wave[: SR // 10]) < 0.03 * SR      # its peak within 30 ms


def test_pad_under_a_melody_adds_no_onsets():
    from albumlib.beats import detect_onsets

    melody = [60, 64, 67, 72, 71, 67, 64, 62]
    notes = [(0.5 * i, 0.45, p, 0.6, "keys") for i, p in enumerate(melody)]
    notes += [(2.0 * j, 1.95, p + d, 0.5, "pad")
              for j, p in enumerate([48, 53]) for d in (0, 7, 12)]
    notes.sort(key=lambda nt: nt[0])
    y = synth.render_stream(notes, SR, instruments={"keys": "grand", "pad": "pad"})
    found = detect_onsets(y, SR)
    onsets = np.array(sorted({nt[0] for nt in notes}))
    assert all(np.min(np.abs(found - o)) <= 0.03 for o in onsets), found
    assert all(np.min(np.abs(onsets - f)) <= 0.03 for f in found), found


def test_pad_swells_slowly_and_sits_under_the_others():
    pad = synth.note_wave(synth.midi_to_hz(60), 2.0, SR, "pad", 0.8)
    grand = synth.note_wave(synth.midi_to_hz(60), 2.0, SR, "grand", 0.8)
    early, full = rms_db(pad[int(0.01 * SR): int(0.05 * SR)]), rms_db(pad[SR // 2: SR])
    assert full - early > 4.0                     # a slower attack than the others
    assert rms_db(pad[: SR // 2]) < rms_db(grand[: SR // 2]) - 3.0   # quiet


@pytest.mark.parametrize("pitch", [28, 33, 40, 45])
def test_bass_sits_below_300_hz_with_audible_harmonics(pitch):
    f0 = synth.midi_to_hz(pitch)
    wave = synth.note_wave(f0, 1.0, SR, "bass", 0.8).astype(np.float64)
    total = band_energy(wave, 0, SR / 2)
    assert band_energy(wave, 0, 300) > 0.75 * total
    fundamental = band_energy(wave, 0.8 * f0, 1.2 * f0)
    for k in (2, 3):  # what a laptop speaker can play of a low note
        harmonic = band_energy(wave, (k - 0.2) * f0, (k + 0.2) * f0)
        assert 10 * np.log10(harmonic / fundamental) > -15.0, k
    # above a laptop speaker's low cut-off (~150 Hz) within 15 dB of the whole, even for E1
    assert 10 * np.log10(band_energy(wave, 150, SR / 2) / total) > -15.0


def test_grand_decays_in_two_stages_and_high_partials_first():
    y = synth.note_wave(synth.midi_to_hz(60), 3.0, SR, "grand", 0.9).astype(np.float64)

    def level(t, x=y):
        return rms_db(x[int(t * SR): int((t + 0.05) * SR)])

    early = level(0.1) - level(1.0)    # the prompt sound: dB lost from 0.1 s to 1 s
    late = level(1.0) - level(1.9)     # the aftersound: dB lost over the next 0.9 s
    assert early > 2.0 * late > 0, (early, late)

    def band_drop(lo, hi):  # dB lost from 0.3 s to 1.3 s, in the aftersound
        a = band_energy(y[int(0.3 * SR): int(0.5 * SR)], lo, hi)
        b = band_energy(y[int(1.3 * SR): int(1.5 * SR)], lo, hi)
        return 10 * np.log10(a / b)

    assert band_drop(2000, 8000) > band_drop(200, 600) + 6.0


def test_grand_has_a_hammer_transient_and_beating_strings():
    y = synth.note_wave(synth.midi_to_hz(60), 1.0, SR, "grand", 0.9).astype(np.float64)
    # broadband noise in the first few ms, above the harmonics the note sustains
    hz = 6000
    first = band_energy(y[: int(0.008 * SR)] * 1.0, hz, 12000) / (0.008 * SR)
    later = band_energy(y[int(0.2 * SR): int(0.208 * SR)], hz, 12000) / (0.008 * SR)
    assert first > 10 * later
    table = synth.partial_table(261.6, SR, synth.INSTRUMENTS["grand"], 0.9,
                                np.random.default_rng(0))
    assert table["depth"] > 0 and np.all(table["beat_hz"] > 0)


@pytest.mark.parametrize("instrument", NEW)
def test_velocity_changes_brightness_not_only_level(instrument):
    pitch = 40 if instrument == "bass" else 64
    loud = synth.note_wave(synth.midi_to_hz(pitch), 0.5, SR, instrument, 1.0)
    soft = synth.note_wave(synth.midi_to_hz(pitch), 0.5, SR, instrument, 0.3)
    assert centroid(loud) > 1.15 * centroid(soft)
    assert rms_db(loud) > rms_db(soft) + 6.0


@pytest.mark.parametrize("instrument", NEW)
def test_new_instruments_handle_tiny_notes(instrument):
    for seconds in (0.0, 1 / SR, 2 / SR, 5 / SR, 0.001, 0.01):
        wave = synth.note_wave(440.0, seconds, SR, instrument, 0.8)
        n = int(round(seconds * SR))
        assert wave.shape == (n,) and wave.dtype == np.float32
        assert n == 0 or (wave[0] == 0.0 and wave[-1] == 0.0)
        assert np.all(np.isfinite(wave))


def stream_notes():
    """A few seconds of four parts sorted by onset, with overlapping tails."""
    rng = np.random.default_rng(3)
    notes = []
    for part, (lo, hi, step) in enumerate([(60, 84, 0.25), (28, 45, 0.5), (55, 72, 0.375),
                                           (48, 67, 1.0)]):
        for onset in np.arange(0.0, 5.0, step):
            notes.append((float(onset + rng.uniform(0, 0.05)), float(step * rng.uniform(0.6, 2.5)),
                          int(rng.integers(lo, hi)), float(rng.uniform(0.3, 1.0)), part))
    return sorted(notes, key=lambda nt: nt[0])


INSTRUMENTS_4 = {0: "grand", 1: "bass", 2: "harp", 3: "pad"}


def test_stream_is_the_same_signal_for_any_chunk_size():
    notes = stream_notes()
    one = synth.render_stream(notes, SR, instruments=INSTRUMENTS_4, seed=2)
    assert one.dtype == np.float32 and one.ndim == 1
    end = max(o + d for o, d, *_ in notes)
    assert len(one) >= round((end + 0.5) * SR)
    for seconds in (0.37, 1.0, 10.0):
        chunks = list(synth.iter_render(notes, SR, chunk_seconds=seconds,
                                        instruments=INSTRUMENTS_4, seed=2))
        size = round(seconds * SR)
        assert all(len(c) == size for c in chunks[:-1]) and 0 < len(chunks[-1]) <= size
        assert all(c.dtype == np.float32 for c in chunks)
        np.testing.assert_array_equal(np.concatenate(chunks), one)
    assert np.array_equal(synth.render_stream(notes, SR, instruments=INSTRUMENTS_4, seed=2), one)
    assert not np.array_equal(synth.render_stream(notes, SR, instruments=INSTRUMENTS_4, seed=3),
                              one)


def test_stream_takes_a_lazy_iterator_of_notes():
    notes = stream_notes()
    seen = []

    def lazily():
        for nt in notes:
            seen.append(nt)
            yield nt

    stream = synth.iter_render(lazily(), SR, chunk_seconds=1.0, instruments=INSTRUMENTS_4)
    first = next(stream)
    assert len(first) == SR and len(seen) < len(notes)  # only what the first second needs
    rest = list(stream)
    expected = synth.render_stream(notes, SR, instruments=INSTRUMENTS_4)
    np.testing.assert_array_equal(np.concatenate([first, *rest]), expected)


def test_stream_rejects_notes_out_of_onset_order():
    notes = [(0.0, 0.5, 60, 0.8), (1.0, 0.5, 62, 0.8), (0.5, 0.5, 64, 0.8)]
    with pytest.raises(ValueError, match="sorted by onset"):
        synth.render_stream(notes, SR, chunk_seconds=0.25)
    with pytest.raises(ValueError, match=">= 0"):
        synth.render_stream([(-1.0, 0.5, 60, 0.8)], SR)
    with pytest.raises(ValueError, match="chunk_seconds"):
        next(synth.iter_render(notes, SR, chunk_seconds=0.0))


def test_stream_never_clips_and_keeps_quiet_notes_untouched():
    loud = [(0.01 * i, 1.0, 40 + 5 * i, 1.0) for i in range(8)]   # 8 loud overlapping notes
    for instrument in ["organ", "grand", "bass", "harp"]:
        y = synth.render_stream(loud, SR, instrument=instrument)
        assert np.abs(y).max() <= 1.0 and np.abs(y).max() > 0.3
    y = synth.render_stream(loud, SR, instrument="organ", level_dbfs=0.0)  # far too hot
    assert np.abs(y).max() <= 0.99
    # one quiet note: the fixed gain, no normalisation, nothing limited
    y = synth.render_stream([(0.5, 1.0, 60, 0.5)], SR, instrument="grand", level_dbfs=-15.0)
    wave = synth.note_wave(synth.midi_to_hz(60), 1.03, SR, "grand", 0.5, seed=[0, 0])
    start = round(0.5 * SR)
    np.testing.assert_allclose(y[start:start + len(wave)], wave * 10 ** (-15 / 20), atol=1e-7)
    assert np.abs(y[:start]).max() == 0.0 and len(y) == round(2.0 * SR)


def test_stream_of_no_notes_is_its_tail_of_silence():
    y = synth.render_stream([], SR, tail=0.25)
    assert len(y) == round(0.25 * SR) and not np.any(y)


def test_soft_limit():
    x = np.linspace(-5, 5, 10001)
    y = synth.soft_limit(x, knee=0.6, ceiling=0.99)
    inside = np.abs(x) <= 0.6
    np.testing.assert_array_equal(y[inside], x[inside])   # quiet samples pass untouched
    assert np.all(np.diff(y) > 0) and np.abs(y).max() < 0.99
    slope = np.diff(y) / np.diff(x)
    assert np.allclose(slope[5596:5606], 1.0, atol=0.02)  # no kink at the knee (x = 0.6)


def test_part_gains_and_balance_parts():
    notes = stream_notes()
    kw = dict(sr=SR, instruments=INSTRUMENTS_4, level_dbfs=-40.0)  # quiet: the limiter is idle
    both = synth.render_stream(notes, part_gains={1: -6.0}, **kw).astype(np.float64)
    without = synth.render_stream(notes, part_gains={1: -400.0}, **kw).astype(np.float64)
    only = synth.render_stream(notes, part_gains={p: -400.0 for p in (0, 2, 3)},
                               **kw).astype(np.float64)
    np.testing.assert_allclose(both, without + 10 ** (-6 / 20) * only, atol=1e-6)
    y = synth.render_notes(NOTES, SR, instruments={1: "bass"}, part_gains={1: -12.0})
    assert len(y) == len(synth.render_notes(NOTES, SR))
    # a three-note chord part at full velocity against a soft single line
    chords = [(t, 1.0, p, 1.0, "chords") for t in range(4) for p in (48, 52, 55)]
    line = [(t + 0.5, 0.5, 72, 0.4, "line") for t in range(4)]
    gains = synth.balance_parts(chords + line)
    assert gains["chords"] < 0 < gains["line"]
    assert gains["line"] - gains["chords"] == pytest.approx(10 * np.log10(3 / 0.4 ** 2 / 0.5),
                                                             rel=0.2)
    lead = synth.balance_parts(chords + line, lead="line", lead_db=3.0)
    assert lead["line"] == pytest.approx(gains["line"] + 3.0)
    assert synth.balance_parts([]) == {}


# The SoundFont path (tinysoundfont, optional).

def soundfont_or_skip():
    """The SoundFont to test with, or skip with the reason."""
    import importlib.util

    if importlib.util.find_spec("tinysoundfont") is None:
        pytest.skip("tinysoundfont is not installed (pip install --no-deps tinysoundfont)")
    path = synth.find_soundfont()
    if path is None:
        pytest.skip("no General MIDI SoundFont found: set ALBUM_SOUNDFONT to an .sf2 file (or "
                    "install pretty_midi, which ships TimGM6mb.sf2)")
    return path


def test_soundfont_missing_module_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tinysoundfont", None)  # as if not installed
    assert not synth.soundfont_available()
    with pytest.raises(ImportError, match="pip install --no-deps tinysoundfont"):
        synth.render_soundfont([(0.0, 0.5, 60, 0.8)], "any.sf2")


def test_find_soundfont_looks_at_the_environment_first(monkeypatch, tmp_path):
    sf2 = tmp_path / "mine.sf2"
    sf2.write_bytes(b"RIFF")
    monkeypatch.setenv("ALBUM_SOUNDFONT", str(sf2))
    assert synth.find_soundfont() == sf2
    monkeypatch.setenv("ALBUM_SOUNDFONT", str(tmp_path / "missing.sf2"))
    monkeypatch.setattr(synth, "SOUNDFONT_PATHS", (str(sf2),))
    found = synth.find_soundfont()  # passed over: pretty_midi's SoundFont, else the Debian path
    assert found is not None and found != tmp_path / "missing.sf2"
    if not synth.soundfont_available():
        return
    with pytest.raises(FileNotFoundError, match="ALBUM_SOUNDFONT"):
        synth.render_soundfont([(0.0, 0.5, 60, 0.8)], tmp_path / "missing.sf2")


def test_soundfont_renders_notes_at_their_pitch():
    path = soundfont_or_skip()
    y = synth.render_soundfont([(0.0, 1.0, 69, 0.8)], path, SR, programs={None: "grand"})
    assert y.dtype == np.float32 and len(y) == round(2.0 * SR)  # 1 s tail after the note-off
    assert rms_db(y[: SR // 2]) > -40.0
    assert fft_peak_hz(y[SR // 10: SR]) == pytest.approx(440.0, rel=0.01)


def test_soundfont_stream_is_the_same_signal_for_any_chunk_size():
    path = soundfont_or_skip()
    notes = stream_notes()
    programs = {0: "grand", 1: "bass", 2: "harp", 3: 89}
    one = synth.render_soundfont(notes, path, SR, programs=programs)
    for seconds in (0.37, 1.0, 10.0):
        chunks = list(synth.iter_render_soundfont(iter(notes), path, SR, chunk_seconds=seconds,
                                                  programs=programs))
        assert all(len(c) == round(seconds * SR) for c in chunks[:-1])
        np.testing.assert_array_equal(np.concatenate(chunks), one)
    assert np.abs(one).max() <= 0.99
    with pytest.raises(ValueError, match="sorted by onset"):
        synth.render_soundfont(notes[::-1], path, SR)
    with pytest.raises(ValueError, match="GM program"):
        synth.render_soundfont(notes, path, SR, programs={0: "theremin"})
