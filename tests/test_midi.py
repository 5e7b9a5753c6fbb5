"""albumlib.music.midi: MIDI files in and out (mido), notes in beats, grid and tempo."""

import mido
import numpy as np
import pytest

from albumlib.music import midi


def make_file(path, tracks, ticks_per_beat=96, kind=1):
    """Write a MIDI file of mido tracks, each a list of messages with delta times."""
    mid = mido.MidiFile(type=kind, ticks_per_beat=ticks_per_beat)
    for messages in tracks:
        mid.tracks.append(mido.MidiTrack(messages + [mido.MetaMessage("end_of_track", time=0)]))
    mid.save(path)
    return path


def on(note, time=0, velocity=100, channel=0):
    return mido.Message("note_on", note=note, velocity=velocity, time=time, channel=channel)


def off(note, time=0, channel=0, zero_on=False):
    if zero_on:
        return mido.Message("note_on", note=note, velocity=0, time=time, channel=channel)
    return mido.Message("note_off", note=note, velocity=0, time=time, channel=channel)


def tempo(bpm, time=0):
    return mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=time)


# A tune with chords, 16ths, triplets, a long note and several velocities, in beats.
TUNE = [(0.0, 1.0, 60, 0.8), (0.0, 1.0, 64, 0.6), (0.0, 2.0, 48, 0.5), (1.0, 0.25, 67, 1.0),
        (1.25, 0.25, 65, 0.3), (1.5, 0.5, 64, 0.7), (2.0, 1 / 3, 62, 0.8),
        (2 + 1 / 3, 1 / 3, 64, 0.8), (2 + 2 / 3, 1 / 3, 65, 0.8), (3.0, 4.0, 60, 0.9),
        (3.0, 4.0, 36, 0.9)]


# ---------------------------------------------------------------------------------------------
# Piece
# ---------------------------------------------------------------------------------------------

def test_piece_sorts_by_onset_then_pitch_and_converts_to_seconds():
    piece = midi.Piece([(1.0, 1.0, 60, 0.5), (0.0, 2.0, 67, 0.5), (0.0, 1.0, 55, 1.0)], 120, "x")
    assert piece.notes.shape == (3, 4) and piece.notes.dtype == np.float64
    assert piece.notes[:, 2].tolist() == [55, 67, 60]
    assert piece.to_seconds() == [(0.0, 0.5, 55, 1.0), (0.0, 1.0, 67, 0.5), (0.5, 0.5, 60, 0.5)]
    back = midi.Piece.from_seconds([n + ("violin",) for n in piece.to_seconds()], 120, "y")
    np.testing.assert_allclose(back.notes, piece.notes)
    assert back.bpm == 120.0 and back.name == "y" and len(back) == 3
    assert len(midi.Piece(np.zeros((0, 4)), 90)) == 0 and len(midi.Piece([], 90)) == 0
    with pytest.raises(ValueError):
        midi.Piece(np.zeros((3, 3)), 120)
    with pytest.raises(ValueError):
        midi.Piece(TUNE, 0)


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------

def test_a_piece_survives_writing_and_reading(tmp_path):
    piece = midi.Piece(TUNE, 96.0, "tune")
    path = midi.write_midi(tmp_path / "tune.mid", piece)
    assert path == tmp_path / "tune.mid" and mido.MidiFile(path).type == 1
    back = midi.read_midi(path)
    assert back.bpm == 96.0 and back.name == "tune" and len(back) == len(TUNE)
    np.testing.assert_allclose(back.notes[:, :3], piece.notes[:, :3], atol=1e-9)
    assert np.abs(back.notes[:, 3] - piece.notes[:, 3]).max() <= 1 / 127


def test_notes_in_seconds_survive_at_their_tempo(tmp_path):
    seconds = midi.Piece(TUNE, 90.0).to_seconds()
    midi.write_midi(tmp_path / "s.midi", seconds, bpm=90)
    back = midi.read_midi(tmp_path / "s.midi")
    assert back.bpm == 90.0
    got = back.to_seconds()
    assert [n[2] for n in got] == [n[2] for n in seconds]
    np.testing.assert_allclose([n[:2] for n in got], [n[:2] for n in seconds], atol=1e-6)


# ---------------------------------------------------------------------------------------------
# Reading what other programs write
# ---------------------------------------------------------------------------------------------

def test_tempo_changes_leave_beats_alone_and_bpm_is_the_longest_held(tmp_path):
    # 60 bpm for beats 0-4 (4 s), then 180 bpm for beats 4-14 (3.3 s): more beats at 180, more
    # time at 60. A quarter note on every beat; ticks_per_beat 96.
    conductor = [tempo(60), tempo(180, time=4 * 96)]
    notes = []
    for beat in range(14):
        notes += [on(60 + beat % 5), off(60 + beat % 5, time=96)]
    piece = midi.read_midi(make_file(tmp_path / "changes.mid", [conductor, notes]))
    np.testing.assert_allclose(piece.notes[:, 0], np.arange(14))
    np.testing.assert_allclose(piece.notes[:, 1], 1.0)
    assert piece.bpm == 60.0
    # 120 bpm for 2 beats (1 s), then 100 bpm for 12 beats (7.2 s): 100 holds longest.
    conductor = [tempo(120), tempo(100, time=2 * 96)]
    assert midi.read_midi(make_file(tmp_path / "c2.mid", [conductor, notes])).bpm == 100.0
    # No tempo at all: MIDI's default, 120 bpm.
    assert midi.read_midi(make_file(tmp_path / "none.mid", [notes])).bpm == 120.0


def test_drums_are_left_out_and_velocity_zero_ends_a_note(tmp_path):
    track = [on(60, velocity=64), on(36, channel=9), off(36, time=48, channel=9, zero_on=True),
             off(60, time=48, zero_on=True), on(62, channel=3, velocity=127),
             off(62, time=96, channel=3)]
    piece = midi.read_midi(make_file(tmp_path / "drums.mid", [track], kind=0))
    assert piece.notes.tolist() == [[0.0, 1.0, 60.0, 64 / 127], [1.0, 1.0, 62.0, 1.0]]


def test_tracks_and_channels_are_merged(tmp_path):
    first = [on(60), off(60, time=96)]
    second = [on(64, time=48, channel=1), off(64, time=96, channel=1)]
    piece = midi.read_midi(make_file(tmp_path / "merge.mid", [first, second]))
    assert piece.notes[:, :3].tolist() == [[0.0, 1.0, 60.0], [0.5, 1.0, 64.0]]


def test_overlapping_notes_of_one_pitch(tmp_path):
    # Struck again before its note-off: the first note ends where the second starts.
    track = [on(60), on(60, time=96), off(60, time=96), off(60, time=96)]
    piece = midi.read_midi(make_file(tmp_path / "restruck.mid", [track]))
    assert piece.notes[:, :3].tolist() == [[0.0, 1.0, 60.0], [1.0, 2.0, 60.0]]
    # The next note-on written before the last note-off at the same tick: two clean notes.
    track = [on(62), on(62, time=96), off(62), off(62, time=96)]
    piece = midi.read_midi(make_file(tmp_path / "sametick.mid", [track]))
    assert piece.notes[:, :3].tolist() == [[0.0, 1.0, 62.0], [1.0, 1.0, 62.0]]
    # Never switched off: it lasts to the end of its track; a stray note-off is ignored.
    track = [off(70), on(64), on(67, time=96), off(67, time=96),
             mido.MetaMessage("marker", text="x", time=96)]
    piece = midi.read_midi(make_file(tmp_path / "hanging.mid", [track]))
    assert piece.notes[:, :3].tolist() == [[0.0, 3.0, 64.0], [1.0, 1.0, 67.0]]


@pytest.mark.parametrize("content", [
    b"", b"MThd nonsense", b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x00\x60MTrk\xff",
    bytes(range(256)) * 4])
def test_files_that_are_not_midi_raise_value_error_naming_them(tmp_path, content):
    path = tmp_path / "broken song.mid"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="broken song.mid"):
        midi.read_midi(path)


def test_files_without_notes_raise_value_error_naming_them(tmp_path):
    path = make_file(tmp_path / "silent.mid", [[tempo(100)]])
    with pytest.raises(ValueError, match="silent.mid.*no notes"):
        midi.read_midi(path)
    drums = make_file(tmp_path / "drums only.mid",
                      [[on(36, channel=9), off(36, time=96, channel=9)]])
    with pytest.raises(ValueError, match="drums only.mid"):
        midi.read_midi(drums)
    with pytest.raises(FileNotFoundError):
        midi.read_midi(tmp_path / "missing.mid")


# ---------------------------------------------------------------------------------------------
# Writing safely
# ---------------------------------------------------------------------------------------------

def test_write_midi_refuses_to_overwrite_unless_asked(tmp_path):
    path = midi.write_midi(tmp_path / "a.mid", midi.Piece(TUNE, 120))
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        midi.write_midi(path, midi.Piece(TUNE[:2], 120))
    assert path.read_bytes() == before
    midi.write_midi(path, midi.Piece(TUNE[:2], 120), overwrite=True)
    assert len(midi.read_midi(path)) == 2
    with pytest.raises(ValueError, match="ending in"):
        midi.write_midi(tmp_path / "a.wav", midi.Piece(TUNE, 120))
    (tmp_path / "folder.mid").mkdir()
    with pytest.raises(IsADirectoryError):
        midi.write_midi(tmp_path / "folder.mid", midi.Piece(TUNE, 120), overwrite=True)


def test_a_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    def broken_save(self, filename=None, file=None):
        with open(filename, "wb") as f:
            f.write(b"MThd\x00\x00")               # half a header, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mido.MidiFile, "save", broken_save)
    with pytest.raises(OSError, match="No space"):
        midi.write_midi(tmp_path / "new.mid", midi.Piece(TUNE, 120))
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    old = midi.write_midi(tmp_path / "old.mid", midi.Piece(TUNE, 120)).read_bytes()
    monkeypatch.setattr(mido.MidiFile, "save", broken_save)
    with pytest.raises(OSError):
        midi.write_midi(tmp_path / "old.mid", midi.Piece(TUNE[:1], 120), overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["old.mid"]
    assert (tmp_path / "old.mid").read_bytes() == old


def test_write_midi_rejects_impossible_notes(tmp_path):
    with pytest.raises(ValueError, match="pitch"):
        midi.write_midi(tmp_path / "x.mid", midi.Piece([(0, 1, 128, 0.5)], 120))
    with pytest.raises(ValueError, match="onset"):
        midi.write_midi(tmp_path / "y.mid", midi.Piece([(-1, 1, 60, 0.5)], 120))
    assert not list(tmp_path.iterdir())
    # A zero-length note still gets a tick; velocity 0 becomes the quietest note-on, 1.
    midi.write_midi(tmp_path / "z.mid", midi.Piece([(0, 0, 60, 0.0)], 120))
    note = midi.read_midi(tmp_path / "z.mid").notes[0]
    assert note[1] == pytest.approx(1 / midi.TICKS_PER_BEAT) and note[3] == pytest.approx(1 / 127)


# ---------------------------------------------------------------------------------------------
# Grid and tempo
# ---------------------------------------------------------------------------------------------

def test_quantise_snaps_to_sixteenths_and_drops_duplicates():
    piece = midi.Piece([(0.02, 0.23, 60, 0.5), (0.49, 0.05, 62, 0.5), (0.74, 0.9, 64, 0.5),
                        (0.76, 0.4, 64, 0.9), (1.13, 1.0, 65, 0.5)], 100, "jittery")
    q = midi.quantise(piece)
    assert q.bpm == 100 and q.name == "jittery"
    assert q.notes.tolist() == [[0.0, 0.25, 60, 0.5], [0.5, 0.25, 62, 0.5],
                                [0.75, 1.0, 64, 0.5], [1.25, 1.0, 65, 0.5]]
    assert midi.quantise(piece, step=0.5).notes[:, :3].tolist() == [
        [0.0, 0.5, 60], [0.5, 0.5, 62], [0.5, 1.0, 64], [1.0, 0.5, 64], [1.0, 1.0, 65]]
    assert piece.notes[0, 0] == 0.02                  # the input is left alone
    with pytest.raises(ValueError):
        midi.quantise(piece, step=0)


def synthetic_tune(bpm, seed, beats=48, jitter=0.01):
    """Notes in seconds: a melody of 16ths to halves on a 16th grid, a bass on beats 1 and 3."""
    rng = np.random.default_rng(seed)
    beat, t, notes = 60.0 / bpm, 0.0, []
    while t < beats:
        length = float(rng.choice([0.25, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.5, 2.0]))
        if t % 0.5 and length < 1:
            length = 0.25                               # back onto the eighth-note grid
        onset = t * beat + rng.normal(0, jitter)
        notes.append((onset, length * beat, int(rng.integers(60, 80)), 0.8))
        t += length
    notes += [(b * beat + rng.normal(0, jitter), 2 * beat, 40, 0.8) for b in range(0, beats, 2)]
    return [(max(o, 0.0), d, p, v) for o, d, p, v in notes]


@pytest.mark.parametrize("bpm", [90, 140])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_estimate_bpm_finds_the_tempo_of_jittered_notes(bpm, seed):
    estimate = midi.estimate_bpm(synthetic_tune(bpm, seed))
    assert abs(estimate / bpm - 1) < 0.04, estimate


def test_estimate_bpm_folds_into_the_preferred_range_and_needs_onsets():
    assert abs(midi.estimate_bpm(synthetic_tune(160, 0)) / 80 - 1) < 0.04   # 160 is told as 80
    assert midi.estimate_bpm([]) == 120.0
    assert midi.estimate_bpm([(0.0, 1.0, 60, 0.8), (0.5, 1.0, 62, 0.8)], default=100) == 100.0
