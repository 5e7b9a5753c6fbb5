"""The note path: tokens, the note LSTM, its numpy copy, the sampler, training and model files."""

import numpy as np
import pytest

from albumlib import audio
from albumlib.music import midi, note_bundle, note_train, symbolic, tokens as tk

CHORD_THEN_G = [(0, 1, 60, .8), (0, 1, 64, .8), (0, 1, 67, .8), (1, .5, 67, .8)]


def test_tokens_read_as_the_docstring_says():
    names = {tk.NOTE0 + 60 - tk.LOW: "NOTE_60", tk.DUR0 + 3: "DUR_4"}
    t = tk.encode(CHORD_THEN_G)
    assert t[0] == tk.BOS and t[-1] == tk.EOS
    assert list(t[1:3]) == [tk.NOTE0 + 60 - tk.LOW, tk.DUR0 + 3] and names[t[1]] == "NOTE_60"
    assert list(t[7:10]) == [tk.SHIFT0 + 3, tk.NOTE0 + 67 - tk.LOW, tk.DUR0 + 1]
    np.testing.assert_allclose(tk.decode(t)[:, :3], np.asarray(CHORD_THEN_G)[:, :3])


def test_long_gaps_and_durations_and_doubles():
    t = tk.encode([(0, 20, 60, .8), (0, 1, 60, .8), (6, .1, 50, .8), (6.01, 1, 72, .8)])
    back = tk.decode(t)
    assert back[:, 2].tolist() == [60, 50, 72]          # the doubled C at 0 is kept once
    assert back[0, 1] == tk.MAX_DUR * tk.STEP          # cut to two bars
    assert back[1, 0] == 6 and back[1, 1] == tk.STEP   # a 16th at least; 6 beats = 2 shifts
    assert sum(tk.kind(x) == "shift" for x in t) == 2
    assert len(tk.decode(tk.encode([]))) == 0
    assert len(tk.decode(tk.encode([(0, 1, 10, .8), (0, 1, 120, .8)]))) == 0   # out of range


def test_grammar_mask():
    note = tk.NOTE0 + 60 - tk.LOW
    after_note = tk.allowed(note)
    assert after_note[tk.DUR0:].all() and not after_note[:tk.DUR0].any()
    after_dur = tk.allowed(tk.DUR0, last_pitch=60)
    assert after_dur[tk.EOS] and after_dur[tk.SHIFT0:tk.NOTE0].all()
    assert not after_dur[tk.NOTE0:note + 1].any() and after_dur[note + 1:tk.DUR0].all()
    assert not tk.allowed(tk.BOS)[tk.DUR0:].any() and not tk.allowed(tk.EOS).any()
    assert tk.transpose(CHORD_THEN_G, 50) is None
    assert tk.transpose(CHORD_THEN_G, 2)[:, 2].tolist() == [62, 66, 69, 69]


def scales(n=12):
    """Pieces of rising scales over a held bass, one per key."""
    out = []
    for k in range(n):
        root = 55 + k % 12
        steps = [0, 2, 4, 5, 7, 9, 11, 12]
        notes = [(i * .5, .5, root + steps[i % 8], .8) for i in range(32)]
        notes += [(i * 2.0, 2.0, root - 12, .8) for i in range(8)]
        out.append(midi.Piece(np.asarray(notes), 100.0))
    return out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("notes")
    cfg = note_train.NoteTrainConfig(out_dir=str(out), steps=40, checkpoint_every=20,
                                     batch_size=16, seq_len=64,
                                     model=symbolic.NoteModelConfig(embed=16, hidden=32))
    model, history = note_train.train(scales(), cfg, progress=False)
    return model, history, cfg


def test_numpy_lstm_is_the_keras_model(trained):
    model = trained[0]
    lstm = symbolic.NumpyLSTM(model.get_weights())
    x = note_train.token_stream(scales(1))[:40].astype(np.int32)
    want = np.asarray(model(x[None], training=False))[0]
    state, got = lstm.initial_state(), []
    for token in x:
        logits, state = lstm.step(token, state)
        got.append(logits)
    np.testing.assert_allclose(np.asarray(got), want, atol=2e-4)


def test_training_learns_and_resumes(trained, tmp_path):
    model, history, cfg = trained
    assert history["step"] == [20, 40]
    assert history["loss"][-1] < np.log(tk.VOCAB) * 0.8     # far below a uniform guess
    assert history["val_loss"][-1] is not None
    assert (cfg.out_dir and (tmp_path / "x").parent.exists())
    # resume: a run to 50 steps starts from the checkpoint at 40
    more = note_train.NoteTrainConfig(**{**cfg.__dict__, "steps": 50, "checkpoint_every": 10})
    _, h2 = note_train.train(scales(), more, progress=False)
    assert h2["step"] == [20, 40, 50]


def test_sampler_keeps_its_rules(trained):
    lstm = symbolic.NumpyLSTM(trained[0].get_weights())
    rules = symbolic.Rules(max_polyphony=3, max_rest_beats=1.0, low=40, high=80)
    notes = np.asarray(list(symbolic.compose_notes(lstm, 20.0, 120, 1.5, 3, rules)))
    assert len(notes) > 10
    assert notes[:, 0].max() < 20.0 and (notes[:, 0] + notes[:, 1]).max() <= 20.0 + 1e-9
    assert np.all(np.diff(notes[:, 0]) >= 0)                  # in time order: streams
    assert notes[:, 2].min() >= 40 and notes[:, 2].max() <= 80
    grid = 60 / 120 * tk.STEP
    np.testing.assert_allclose(notes[:, 0] / grid, np.rint(notes[:, 0] / grid), atol=1e-6)
    for t in np.arange(0, 20, 0.05):                          # never more than 3 at once
        assert np.sum((notes[:, 0] <= t) & (notes[:, 0] + notes[:, 1] > t)) <= 3
    ends = np.maximum.accumulate(notes[:, 0] + notes[:, 1])
    assert np.all(notes[1:, 0] - ends[:-1] <= 0.5 + 1e-9)      # no rest over a beat at 120 bpm
    again = np.asarray(list(symbolic.compose_notes(lstm, 20.0, 120, 1.5, 3, rules)))
    np.testing.assert_array_equal(notes, again)                # a seed gives one composition


def test_note_bundle_round_trip_and_damage(trained, tmp_path):
    model, _, cfg = trained
    folder = note_bundle.save(tmp_path / "m", model.get_weights(), cfg.model, 96.0,
                              symbolic.Rules(low=36), {"keys": "grand"}, {"x": 1})
    b = note_bundle.load(folder)
    assert b.bpm == 96.0 and b.rules.low == 36 and b.info == {"x": 1}
    logits, _ = b.lstm.step(tk.BOS, b.lstm.initial_state())
    want, _ = symbolic.NumpyLSTM(model.get_weights()).step(tk.BOS,
                                                            b.lstm.initial_state())
    np.testing.assert_allclose(logits, want, rtol=1e-6)
    (folder / note_bundle.ARRAYS_NAME).write_bytes(b"cut")
    with pytest.raises(ValueError, match="does not match"):
        note_bundle.load(folder)
    with pytest.raises(FileNotFoundError, match="not a note model"):
        note_bundle.load(tmp_path)


def test_streamed_wav_and_mp3_are_whole(tmp_path):
    sr = 8000
    parts = [np.full(1000, 0.5, np.float32), np.zeros(0, np.float32), np.full(500, -2.0)]
    path, n = audio.save_wav_stream(tmp_path / "a.wav", iter(parts), sr)
    assert n == 1500
    back = audio.load_audio(path, sr=sr)
    assert len(back) == 1500 and abs(back[10] - 0.5) < 1e-3 and back[-1] == pytest.approx(-1, abs=1e-3)
    with pytest.raises(FileExistsError):
        audio.save_wav_stream(path, iter(parts), sr)

    def broken():
        yield parts[0]
        raise RuntimeError("the composer failed")
    with pytest.raises(RuntimeError):
        audio.save_stream(tmp_path / "b.mp3", broken(), sr)
    assert not (tmp_path / "b.mp3").exists()                   # nothing half-written
    path, n = audio.save_stream(tmp_path / "c.mp3", iter(parts), sr)
    assert n == 1500 and path.stat().st_size > 0
