"""albumlib.music.transcribe: basic-pitch's model, bundled, turns rendered notes back into notes.

Signals rendered by albumlib.music.synth (their notes are known), silence, a bundled mp3 (against
its score where music21 is installed), chunked against one-shot processing, the vendored file's
checksum and a file that cannot be decoded.
"""

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from albumlib import audio
from albumlib.music import note_metrics, synth, transcribe

ROOT = Path(__file__).resolve().parents[1]
SR = transcribe.SAMPLE_RATE
SCALE = [(0.3 + 0.45 * i, 0.4, pitch, 0.8)
         for i, pitch in enumerate([48, 50, 52, 53, 55, 57, 59, 60, 62, 64, 65, 67, 69, 71, 72])]
PIECE = ROOT / "data" / "music" / "03_bach_bwv269_piano.mp3"


@pytest.fixture(scope="module")
def transcriber():
    """One transcriber for the module (the model is loaded once)."""
    return transcribe.Transcriber()


def _matches(reference, estimate, tolerance=0.05):
    """For each reference note, whether a note of its pitch starts within `tolerance` s."""
    return [any(e[2] == r[2] and abs(e[0] - r[0]) <= tolerance for e in estimate)
            for r in reference]


def test_a_rendered_piano_scale_comes_back(transcriber):
    signal = synth.render_notes(SCALE, sr=SR, instrument="piano")
    notes = transcriber.notes(signal, SR)
    assert transcribe.note_f1(SCALE, notes) >= 0.9
    assert all(_matches(SCALE, notes))
    for onset, duration, pitch, velocity in notes:
        assert isinstance(pitch, int) and 0.0 <= velocity <= 1.0 and duration > 0


def test_a_chord_gives_its_three_pitches(transcriber):
    chord = [(0.25, 1.5, pitch, 0.8) for pitch in (60, 64, 67)]
    signal = synth.render_notes(chord, sr=44100, instrument="piano")   # resampled to 22,050 Hz
    notes = transcriber.notes(signal, 44100)
    assert {n[2] for n in notes} == {60, 64, 67}
    assert all(_matches(chord, notes))


def test_silence_gives_no_notes(transcriber):
    assert transcriber.notes(np.zeros(3 * SR, np.float32), SR) == []
    assert transcriber.notes(np.zeros(10, np.float32), SR) == []


def test_a_bundled_mp3_gives_plausible_notes(transcriber):
    notes = transcriber.file(PIECE)
    pitches = np.array([n[2] for n in notes])
    assert len(notes) > 100
    assert pitches.min() >= 21 and pitches.max() <= 108          # the piano's keys
    assert 36 <= np.median(pitches) <= 84                          # a four-part chorale
    assert 1.0 <= note_metrics.note_density(notes) <= 20.0         # notes a second
    assert max(n[0] + n[1] for n in notes) <= 51.0                 # the file lasts 50.3 s


def test_a_bundled_mp3_matches_its_score(transcriber):
    pytest.importorskip("music21")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_transcribe

    score = bench_transcribe.score_notes([PIECE.name])[PIECE.name]
    assert transcribe.note_f1(score, transcriber.file(PIECE)) >= 0.9


def test_chunks_give_the_notes_of_one_shot(tmp_path):
    notes = [(0.2 + 0.3 * i, 0.35, 55 + (5 * i) % 17, 0.8) for i in range(30)]
    signal = synth.render_notes(notes, sr=SR, instrument="piano")
    pcm = np.round(np.clip(signal, -1, 1) * 32767).astype(np.int16)
    path = tmp_path / "tune.wav"
    wavfile.write(path, SR, pcm)
    one_shot = transcribe.Transcriber(chunk_samples=10 ** 9).notes(pcm / 32768.0, SR)
    chunked = transcribe.Transcriber(chunk_samples=5000).file(path)        # 21 chunks
    assert len(one_shot) >= 25 and chunked == one_shot
    small_blocks = transcribe.Transcriber(block_frames=300).notes(pcm / 32768.0, SR)  # 4 blocks
    assert transcribe.note_f1(one_shot, small_blocks, onset_tolerance=0.013) == 1.0


def test_a_note_held_past_a_block_is_made_once():
    held = [(0.2, 6.0, 57, 0.8)] + [(0.3 + 0.5 * i, 0.3, 72 + i % 5, 0.7) for i in range(11)]
    signal = synth.render_notes(held, sr=SR, instrument="organ")

    def held_notes(**options):
        return [n for n in transcribe.Transcriber(**options).notes(signal, SR) if n[2] == 57]

    whole = held_notes()
    assert len(whole) == 1 and whole[0][1] == pytest.approx(6.0, abs=0.15)
    assert held_notes(block_frames=150) == whole          # 6 s = 520 frames: the block grows
    first, second = held_notes(block_frames=100, max_block_frames=200)  # cut at 200 + 256
    assert first[0] == whole[0][0]
    assert second[0] == pytest.approx(first[0] + first[1], abs=0.03)
    assert second[0] + second[1] == pytest.approx(whole[0][0] + whole[0][1], abs=0.03)


def test_the_vendored_model_matches_its_attribution():
    folder = transcribe.model_path().parent
    text = (folder / "ATTRIBUTION.md").read_text()
    digest = hashlib.sha256(transcribe.model_path().read_bytes()).hexdigest()
    assert re.findall(r"\b[0-9a-f]{64}\b", text) == [digest]
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert "Spotify" in (folder / "NOTICE").read_text()


def test_a_corrupt_file_raises_audio_error_naming_it(tmp_path):
    path = tmp_path / "broken.mp3"
    path.write_bytes(b"not audio at all " * 100)
    with pytest.raises(audio.AudioError, match="broken.mp3"):
        transcribe.transcribe(path)


def test_transcribe_takes_a_path_or_a_signal_with_its_rate(transcriber):
    with pytest.raises(ValueError, match="sample rate"):
        transcribe.transcribe(np.zeros(100))
    with pytest.raises(ValueError, match="threshold"):
        transcribe.Transcriber(onset_threshold=1.5)


def test_frame_times_follow_the_windows():
    # frame 142 is the first kept frame of the second window, which starts 36,164 samples on
    assert transcribe.frame_times(141) == pytest.approx(141 * 256 / SR)
    assert transcribe.frame_times(142) == pytest.approx(36164 / SR)
    assert transcribe.frames_in(1) == 1 and transcribe.frames_in(36164) == 142
    assert transcribe.frames_in(36165) == 143


def test_note_f1_matches_one_to_one():
    ref = [(0.0, 1, 60, 1), (0.5, 1, 60, 1), (1.0, 1, 64, 1)]
    assert transcribe.note_f1(ref, ref) == 1.0
    assert transcribe.note_f1(ref, [(0.02, 1, 60, 1)]) == pytest.approx(2 * 1 / 4)
    assert transcribe.note_f1(ref, [(0.0, 1, 61, 1)]) == 0.0
    assert transcribe.note_f1([], []) == 1.0


def test_importing_it_does_not_import_tensorflow():
    code = ("import sys; import albumlib.music.transcribe; "
            "print('tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.strip() == "False"
