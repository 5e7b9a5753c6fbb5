"""train-music and compose from the command line: a folder of MIDI and audio, bad files, resume."""

import warnings

import numpy as np
import pytest

from albumlib import audio, cli
from albumlib.music import learn, midi, note_bundle, soundtrack, synth

SR = synth.SAMPLE_RATE


def tune(root, bars=4):
    """A little tune in beats: a rising and falling line over a bass note each bar."""
    line = [0, 2, 4, 5, 7, 5, 4, 2]
    notes = [(i * 0.5, 0.5, root + 12 + line[i % 8], 0.8) for i in range(bars * 8)]
    notes += [(b * 4.0, 4.0, root - 12, 0.7) for b in range(bars)]
    return notes


@pytest.fixture(scope="module")
def music_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("my music")
    (folder / "nested").mkdir()
    midi.write_midi(folder / "a.mid", midi.Piece(tune(60), 100.0))
    midi.write_midi(folder / "nested" / "b.midi", midi.Piece(tune(57), 90.0))
    played = midi.Piece(tune(62, bars=2), 110.0).to_seconds()
    audio.save_wav(folder / "played.wav", synth.render_notes(played, SR, "piano"), SR)
    (folder / "broken.mp3").write_bytes(b"not music at all" * 100)
    (folder / "broken.mid").write_bytes(b"MThd nonsense")
    (folder / "notes.txt").write_text("not music")
    return folder


def test_music_files_finds_midi_and_audio_recursively(music_folder):
    names = [p.name for p in learn.music_files(music_folder)]
    assert names == ["a.mid", "broken.mid", "broken.mp3", "b.midi", "played.wav"] or \
        sorted(names) == sorted(["a.mid", "broken.mid", "broken.mp3", "b.midi", "played.wav"])
    with pytest.raises(NotADirectoryError):
        learn.music_files(music_folder / "a.mid")


def test_train_music_then_compose(music_folder, tmp_path, capsys):
    out = tmp_path / "model"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert cli.main(["train-music", str(music_folder), "--out", str(out),
                         "--steps", "4"]) == 0
    skipped = " ".join(str(w.message) for w in caught)
    assert "broken.mp3" in skipped and "broken.mid" in skipped
    assert "played.wav" not in skipped and "a.mid" not in skipped
    bundle = note_bundle.load(out)
    assert bundle.info["pieces"] == 3 and bundle.info["files"] == 5
    assert 90 <= bundle.bpm <= 110                       # the folder's tempo, not the corpus's
    assert bundle.rules.low >= 30 and bundle.rules.high <= 90   # the folder's register
    assert len(list((out / learn.NOTES_DIR).glob("*.npz"))) == 1     # the transcription, kept
    # Resuming: more steps start from the checkpoint, the transcription is not redone.
    assert cli.main(["train-music", str(music_folder), "--out", str(out), "--steps", "6"]) == 0
    assert "resuming from" in capsys.readouterr().out
    wav = tmp_path / "song.wav"
    assert cli.main(["compose", "--model", str(out), "--seconds", "3", "-o", str(wav),
                     "--seed", "2"]) == 0
    x = audio.load_audio(wav, sr=SR)
    assert len(x) == pytest.approx(3 * SR, abs=2) and np.abs(x).max() > 0.05
    with pytest.raises(SystemExit, match="already exists"):
        cli.main(["compose", "--model", str(out), "--seconds", "3", "-o", str(wav)])


def test_train_music_refuses_a_folder_without_music(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit, match="no music files"):
        cli.main(["train-music", str(tmp_path / "empty"), "--out", str(tmp_path / "m")])
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.mid").write_bytes(b"junk")
    with pytest.raises(SystemExit, match="none of its 1 files"):
        cli.main(["train-music", str(tmp_path / "bad"), "--out", str(tmp_path / "m")])


def test_compose_with_the_bundled_models(tmp_path):
    notes = soundtrack.compose(None, 4.0, seed=1)
    assert notes.shape == (4 * SR,) and 0.05 < np.abs(notes).max() <= 1.0
    np.testing.assert_array_equal(notes, soundtrack.compose("notes", 4.0, seed=1))
    assert not np.array_equal(notes, soundtrack.compose("notes", 4.0, seed=2))
    mp3 = tmp_path / "x.mp3"
    assert cli.main(["compose", "--seconds", "2", "-o", str(mp3)]) == 0
    assert len(audio.load_audio(mp3, sr=SR)) >= 2 * SR
    with pytest.raises(SystemExit, match="no such model folder"):
        cli.main(["compose", "--model", str(tmp_path / "nope"), "-o", str(tmp_path / "y.wav")])
    with pytest.raises(SystemExit, match=r"\.wav or \.mp3"):
        cli.main(["compose", "-o", str(tmp_path / "y.ogg")])


def test_streamed_composition_equals_the_one_in_memory(tmp_path):
    bundle = soundtrack.load_model(None)
    whole = soundtrack.compose(bundle, 25.0, seed=3)
    parts = list(soundtrack.chunks(bundle, 25.0, seed=3, chunk_seconds=1.7))
    np.testing.assert_array_equal(np.concatenate(parts), whole)
    assert max(len(p) for p in parts) <= round(1.7 * SR)
