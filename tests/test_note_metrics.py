"""albumlib.music.note_metrics on note lists whose answers are known: a scale, a chord, a cluster, copies."""

import numpy as np
import pytest

from albumlib.music import note_metrics as nm

C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def scale(step=0.5, pitches=C_MAJOR, start=0.0):
    """One note every `step` seconds, each lasting `step`."""
    return [(start + i * step, step, p, 0.8) for i, p in enumerate(pitches)]


def test_a_scale_in_one_key():
    notes = scale()
    hist = nm.pitch_class_histogram(notes)
    assert hist.sum() == pytest.approx(1.0)
    assert hist[0] == pytest.approx(2 / 8) and hist[2] == pytest.approx(1 / 8) and hist[1] == 0
    assert nm.share_in_key(notes) == pytest.approx(1.0)
    assert nm.share_in_key(scale(pitches=[p + 3 for p in C_MAJOR])) == pytest.approx(1.0)
    assert nm.note_density(notes) == pytest.approx(8 / 4.0)
    assert nm.on_grid(notes, 0.5) == 1.0 and nm.on_grid(notes, 1.0) == 0.5
    assert nm.polyphony(notes) == (pytest.approx(1.0), 1)


def test_a_chromatic_cluster_and_a_chord():
    cluster = [(0.0, 1.0, 60 + k, 0.5) for k in range(12)]
    assert nm.share_in_key(cluster) == pytest.approx(7 / 12)
    assert nm.polyphony(cluster) == (pytest.approx(12.0), 12)
    chord_then_rest_then_note = [(0, 1, 60, 1), (0, 1, 64, 1), (0, 1, 67, 1), (3, 1, 72, 1)]
    mean, most = nm.polyphony(chord_then_rest_then_note)
    assert most == 3 and mean == pytest.approx((3 * 1 + 1 * 1) / 2)   # the rest does not count


def test_pitch_class_distance():
    c, fsharp = scale(), scale(pitches=[p + 6 for p in C_MAJOR])
    assert nm.pitch_class_distance(c, c) == 0.0
    assert 0.3 < nm.pitch_class_distance(c, fsharp) <= 1.0
    assert nm.pitch_class_distance([(0, 1, 60, 1)], [(0, 1, 61, 1)]) == pytest.approx(1.0)


def test_longest_copied_run_finds_a_quoted_phrase():
    rng = np.random.default_rng(0)
    training = [scale(0.25, list(rng.integers(48, 84, 200))) for _ in range(3)]
    quote = [(i * 0.25, 0.25, p, 1) for i, (_, _, p, _) in enumerate(training[1][50:62])]
    fresh = scale(0.25, list(rng.integers(48, 84, 40)))
    assert nm.longest_copied_run(fresh, training) <= 3
    shifted = [(t + 10.0, d, p, v) for t, d, p, v in quote]
    assert nm.longest_copied_run(fresh + shifted, training) == 12
    assert nm.longest_copied_run(training[2], training) == 200      # a copy: all of it
    assert nm.longest_copied_run(fresh, []) == 0


def test_no_notes_and_bad_notes():
    assert nm.note_density([]) == 0.0 and nm.share_in_key([]) == 0.0
    assert nm.polyphony([]) == (0.0, 0) and nm.on_grid([], 0.5) == 0.0
    assert nm.pitch_class_histogram([]).sum() == 0.0
    with pytest.raises(ValueError, match=">= 0"):
        nm.note_density([(0.0, -1.0, 60, 1.0)])
