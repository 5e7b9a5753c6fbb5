"""Measuring composed notes, not audio: what a listener hears in a score (taught in notebook 05).

A note is (onset s, duration s, MIDI pitch, velocity 0-1[, part]), as `albumlib.music.synth.render_notes`
takes them. Definitions:

- pitch-class histogram  share of the sounding time of each pitch class (C = 0), each note
                         weighted by its duration; sums to 1 (all zeros for no notes).
- pitch-class distance   half the L1 distance of two histograms: 0 the same, 1 disjoint.
- note density           notes a second over the span from the first onset to the last note end.
- share in key           the duration-weighted share of notes whose pitch class lies in the
                         major scale (or its relative natural minor: the same pitch classes) that
                         holds the most: 1 for a tune in one key, 7/12 for a chromatic cluster.
- on grid                the share of onsets within `tolerance` seconds of a multiple of `step`
                         seconds after the first onset (e.g. step = an eighth note at the tempo).
- polyphony              the mean number of notes sounding while at least one sounds, and the
                         largest number at once.
- longest copied run     the length of the longest run of consecutive notes (in onset order,
                         pitches at one onset from low to high) whose pitches appear in that
                         order in a training piece: a few notes for new music, the whole piece for
                         a copy.
"""

import numpy as np

MAJOR = (0, 2, 4, 5, 7, 9, 11)      # the pitch classes of a major scale above its tonic


def _table(notes):
    """Notes as float arrays (onset, duration, pitch), sorted by onset then pitch."""
    rows = [tuple(float(v) for v in note[:3]) for note in notes]
    rows.sort(key=lambda r: (r[0], r[2]))
    a = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
    if np.any(a[:, 1] < 0) or np.any(a[:, 0] < 0):
        raise ValueError("notes need onsets and durations >= 0")
    return a


def pitch_class_histogram(notes):
    """Duration-weighted share of each of the 12 pitch classes (C = 0); notebook 05."""
    a = _table(notes)
    hist = np.bincount(np.round(a[:, 2]).astype(int) % 12, weights=a[:, 1], minlength=12)
    total = hist.sum()
    return hist / total if total > 0 else hist


def pitch_class_distance(notes_a, notes_b):
    """Half the L1 distance of two pitch-class histograms, in [0, 1]; notebook 05."""
    return 0.5 * float(np.abs(pitch_class_histogram(notes_a) - pitch_class_histogram(notes_b)).sum())


def note_density(notes):
    """Notes a second from the first onset to the last note end (0 for no notes); notebook 05."""
    a = _table(notes)
    if not len(a):
        return 0.0
    span = float(np.max(a[:, 0] + a[:, 1]) - a[:, 0].min())
    return len(a) / span if span > 0 else 0.0


def _scale_shares(notes):
    """For each tonic 0-11, the duration-weighted share of notes in its major scale."""
    hist = pitch_class_histogram(notes)
    return np.array([hist[[(tonic + step) % 12 for step in MAJOR]].sum() for tonic in range(12)])


def share_in_key(notes):
    """Duration-weighted share of notes in the major scale that holds most of them; nb 05."""
    return float(_scale_shares(notes).max()) if len(notes) else 0.0


def major_tonic(notes):
    """The pitch class (C = 0) of the major scale that holds most of the notes (a minor key
    gives its relative major: A minor -> C); ties go to the lowest; notebook 04."""
    return int(np.argmax(_scale_shares(notes))) if len(notes) else 0


def on_grid(notes, step, tolerance=0.03):
    """Share of onsets within `tolerance` s of a multiple of `step` s after the first; nb 05."""
    a = _table(notes)
    if not len(a):
        return 0.0
    offset = (a[:, 0] - a[0, 0]) / float(step)
    return float(np.mean(np.abs(offset - np.round(offset)) * float(step) <= tolerance))


def polyphony(notes):
    """(mean notes sounding while any sounds, most at once) of the notes; notebook 05."""
    a = _table(notes)
    if not len(a):
        return 0.0, 0
    starts, ends = np.round(a[:, 0], 6), np.round(a[:, 0] + a[:, 1], 6)   # touching: equal
    events = np.concatenate([np.stack([starts, np.ones(len(a))], 1),
                             np.stack([ends, -np.ones(len(a))], 1)])
    events = events[np.lexsort((events[:, 1], events[:, 0]))]     # ends before starts at a time
    counts = np.cumsum(events[:, 1])
    lengths = np.diff(events[:, 0])
    sounding = counts[:-1] > 0
    busy = float(lengths[sounding].sum())
    mean = float((counts[:-1] * lengths)[sounding].sum() / busy) if busy > 0 else 0.0
    return mean, int(counts.max())


def longest_copied_run(notes, training_pieces):
    """Longest run of consecutive notes whose pitches occur in that order in a training
    piece (a list of note lists); notebook 05."""
    mine = tuple(np.round(_table(notes)[:, 2]).astype(int))
    pieces = [tuple(np.round(_table(p)[:, 2]).astype(int)) for p in training_pieces]

    def found(n):                                   # is some run of n of mine in a piece?
        grams = {piece[i:i + n] for piece in pieces for i in range(len(piece) - n + 1)}
        return any(mine[i:i + n] in grams for i in range(len(mine) - n + 1))

    lo, hi = 0, len(mine)                           # found(lo) holds; search the largest
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if found(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo
