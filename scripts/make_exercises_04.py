"""Reference solutions of notebook 04's exercises, and the answers they give (data/exercises/04.npz).

    python scripts/make_exercises_04.py

The notebooks load each exercise's inputs with `exercises.stored("04", name)` and compare the
learner's answer with the stored `expected` value (`exercises.check("04", name, answer)` prints
PASS or FAIL; whole-number answers with tol=EXACT), CS231n style: the solutions live here, not in the notebooks. They are plain
Python and numpy, written from the definitions (the token layout of albumlib.music.tokens is
restated below), so they do not lean on the library they check; tests/test_exercises_04.py checks
that they reproduce the stored answers and that albumlib agrees with them. Run this script again
after changing an exercise.

Exercises (name: what the learner writes; where):
- encode:       the tokens of a short phrase, BOS to EOS: onsets and durations rounded to 16ths,
                notes in order of onset then pitch, SHIFT tokens for each gap (16 sixteenths at
                most per token, so a gap of 20 is SHIFT_16 SHIFT_4), then NOTE_p DUR_d for each
                note (durations cut to 32 sixteenths). The phrase is given out of order and holds
                a chord, a long rest and a note held longer than two bars. Notebook 04.
- decode:       notes (onset beats, duration beats, pitch) back from tokens: a SHIFT_k moves the
                time on by k sixteenths, a NOTE_p followed by DUR_d is a note of d sixteenths at
                the current time, EOS ends (the tokens stored after it must be ignored).
                Notebook 04.
- rfft_params:  the report's architecture with rfft features, F = 2 (22,050 + 1) = 44,102 and
                D = H = 512: (F D + D) + 4 (D H + H^2 + H) + (H F + F) = 47,304,262, about half
                of 92.5 M: both dense layers shrink with F, the LSTM does not. Appendix 04a.
- sequences:    205.5 s make 206 blocks of 1 s (the last one half filled with zeros); a song of n
                blocks gives n - 10 sequences: 196. Nine such songs: 9 x 196 = 1,764 sequences,
                ceil(1,764 / 8) = 221 batches of 8 (the last one of 4). Appendix 04a.

Appendix 04a also has two exercises checked live against the model trained there, so they store
nothing here; their solutions:
- slot bytes:   RMSprop keeps one float32 per parameter, Adam two (its first and second
                moments): 4 P and 8 P bytes (`solution_slot_bytes`); 370 MB and 740 MB for the
                report's model.
- zero loss:    the error of predicting 0 is the label itself: the mean of y^2 over every label
                of every held-out sequence (`solution_zero_loss`). With per-bin scaling it is
                about 1 on the training songs by construction; on held-out songs it is their
                spectra's distance from the training songs' mean.
"""

import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 1997        # the year of Hochreiter and Schmidhuber's LSTM paper
EXACT = 1e-12      # the check's tolerance for whole numbers: an off-by-one must fail

# The token layout of albumlib.music.tokens, restated: ids 0-2 are PAD, BOS, EOS; SHIFT_k
# (k = 1..16 sixteenths) from 3; NOTE_p (p = 21..108) next; DUR_d (d = 1..32 sixteenths) last.
BOS, EOS = 1, 2
SHIFT0, MAX_SHIFT = 3, 16
NOTE0, LOW, HIGH = 3 + 16, 21, 108
DUR0, MAX_DUR = 3 + 16 + 88, 32


def solution_encode(notes):
    """Exercise encode: BOS, then per onset the shifts to it and NOTE/DUR pairs by pitch, EOS."""
    rows = sorted((int(round(on * 4)), int(round(p)), min(max(int(round(d * 4)), 1), MAX_DUR))
                  for on, d, p, *_ in np.asarray(notes, np.float64))
    out, now = [BOS], 0
    for onset, pitch, dur in rows:
        gap = onset - now
        while gap > 0:
            k = min(gap, MAX_SHIFT)
            out.append(SHIFT0 + k - 1)
            gap -= k
        now = onset
        out += [NOTE0 + pitch - LOW, DUR0 + dur - 1]
    return np.array(out + [EOS], np.int64)


def solution_decode(tokens):
    """Exercise decode: (onset, duration, pitch) rows in beats, reading up to EOS."""
    notes, now, pitch = [], 0, None
    for t in (int(t) for t in tokens):
        if t == EOS:
            break
        if SHIFT0 <= t < NOTE0:
            now += t - SHIFT0 + 1
        elif NOTE0 <= t < DUR0:
            pitch = t - NOTE0 + LOW
        elif t >= DUR0 and pitch is not None:
            notes.append((now / 4, (t - DUR0 + 1) / 4, pitch))
            pitch = None
    return np.array(notes, np.float64).reshape(-1, 3)


def solution_rfft_params(features, hidden=512):
    """Exercise rfft_params: dense in, LSTM and dense out of the report's architecture."""
    f, d, h = int(features), int(hidden), int(hidden)
    return (f * d + d) + 4 * (d * h + h * h + h) + (h * f + f)


def solution_sequences(seconds, songs, batch, seq_len=10):
    """Exercise sequences: ceil(seconds) blocks - seq_len sequences; batches for `songs` songs."""
    per_song = math.ceil(seconds) - seq_len
    return per_song, math.ceil(songs * per_song / batch)


def solution_slot_bytes(n_params):
    """Appendix 04a's slot-bytes exercise: float32 slots, one per weight (RMSprop), two (Adam)."""
    return 4 * int(n_params), 8 * int(n_params)


def solution_zero_loss(sequences):
    """Appendix 04a's zero-loss exercise: the mean of y^2 over (x, y) pairs of sequences."""
    total = count = 0.0
    for _, y in sequences:
        total += float(np.sum(np.square(np.asarray(y, np.float64))))
        count += np.size(y)
    return total / count


def answers(seed=SEED):
    """{exercise: {input name: array, ..., "expected": answer}} for data/exercises/04.npz."""
    rng = np.random.default_rng(seed)
    # onset, duration (beats), pitch, velocity: a C major chord, a G and an F, a long E, a rest
    # of five beats and a high C; given in a shuffled order
    phrase = np.array([(0.0, 1.0, 60, 0.8), (0.0, 1.0, 64, 0.8), (0.0, 1.0, 67, 0.8),
                       (1.0, 0.5, 67, 0.8), (1.5, 0.5, 65, 0.8), (2.0, 10.0, 64, 0.8),
                       (2.0, 2.0, 48, 0.8), (7.0, 1.0, 72, 0.8)])
    phrase = phrase[rng.permutation(len(phrase))]
    # a bar and a half of a bass line under a melody, and tokens after EOS that must be ignored
    tune = np.array([(0.0, 2.0, 43, 0.8), (0.0, 0.75, 71, 0.8), (0.75, 0.25, 69, 0.8),
                     (1.0, 1.0, 67, 0.8), (2.0, 2.0, 47, 0.8), (2.0, 0.5, 74, 0.8),
                     (2.5, 1.5, 72, 0.8), (6.0, 3.0, 55, 0.8)])
    tokens = np.concatenate([solution_encode(tune), [NOTE0 + 60 - LOW, DUR0 + 3, SHIFT0]])
    return {
        "encode": {"notes": phrase, "expected": solution_encode(phrase)},
        "decode": {"tokens": tokens.astype(np.int64), "expected": solution_decode(tokens)},
        "rfft_params": {"features": np.int64(2 * (22_050 + 1)), "hidden": np.int64(512),
                        "expected": np.int64(solution_rfft_params(2 * (22_050 + 1)))},
        "sequences": {"seconds": np.float64(205.5), "songs": np.int64(9), "batch": np.int64(8),
                      "expected": np.array(solution_sequences(205.5, 9, 8), np.int64)},
    }


def main():
    """Write data/exercises/04.npz and say what it holds."""
    from albumlib import exercises
    exercises.save_and_report("04", answers())


if __name__ == "__main__":
    main()
