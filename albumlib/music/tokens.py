"""Notes as tokens on a 16th-note grid, and back (taught in notebook 04).

A piece is a list of onsets in time order; at each onset its notes, from low to high. Each note is
two tokens, its pitch and its duration; the time between onsets is one or more time shifts:

    BOS  SHIFT_k (k = 1..16 sixteenths)  NOTE_p (p = 21..108)  DUR_d (d = 1..32 sixteenths)  EOS

so a C major chord of a quarter note followed by a G eighth note a beat later reads
`NOTE_60 DUR_4 NOTE_64 DUR_4 NOTE_67 DUR_4 SHIFT_4 NOTE_67 DUR_2`. Gaps longer than 16
sixteenths are several shifts; durations longer than 32 sixteenths are cut to 32.

The grammar (`allowed`): a pitch is followed by its duration; a duration by a higher pitch at the
same onset, a shift or the end; a shift by a shift, a pitch or the end. The sampler masks every
token the grammar forbids, so a composition always decodes.
"""

import numpy as np

STEP = 0.25                       # one grid step in beats: a 16th note
MAX_SHIFT = 16                    # a whole 4/4 bar at most per shift token
MAX_DUR = 32                      # two bars
LOW, HIGH = 21, 108               # the piano's range, A0 to C8
PAD, BOS, EOS = 0, 1, 2
SHIFT0 = 3                                    # SHIFT_k is SHIFT0 + k - 1
NOTE0 = SHIFT0 + MAX_SHIFT                    # NOTE_p is NOTE0 + p - LOW
DUR0 = NOTE0 + HIGH - LOW + 1                 # DUR_d is DUR0 + d - 1
VOCAB = DUR0 + MAX_DUR


def kind(token):
    """'pad', 'bos', 'eos', 'shift', 'note' or 'dur' for one token id; notebook 04."""
    token = int(token)
    if token < SHIFT0:
        return ("pad", "bos", "eos")[token]
    if token < NOTE0:
        return "shift"
    return "note" if token < DUR0 else "dur"


def _grid(values):
    """Beats to whole grid steps (at least 0)."""
    return np.maximum(np.rint(np.asarray(values, np.float64) / STEP), 0).astype(np.int64)


def _shifts(gap):
    """Shift tokens that advance `gap` grid steps (several when it is over MAX_SHIFT)."""
    full, rest = divmod(int(gap), MAX_SHIFT)
    return [SHIFT0 + MAX_SHIFT - 1] * full + ([SHIFT0 + rest - 1] if rest else [])


def encode(notes):
    """Notes (onset beats, duration beats, pitch, ...) as token ids, BOS to EOS; notebook 04."""
    notes = np.asarray(notes, np.float64).reshape(-1, np.shape(notes)[-1] if len(notes) else 4)
    out, now = [BOS], 0
    if len(notes):
        onsets, durs = _grid(notes[:, 0]), np.clip(_grid(notes[:, 1]), 1, MAX_DUR)
        pitches = np.rint(notes[:, 2]).astype(np.int64)
        keep = (pitches >= LOW) & (pitches <= HIGH)
        order = np.lexsort((pitches, onsets))
        last = None
        for i in order[keep[order]]:
            gap = onsets[i] - now
            if gap > 0:
                out += _shifts(gap)
                now, last = onsets[i], None
            if last is not None and pitches[i] <= last:
                continue          # the same pitch twice at one onset: keep the first
            out += [NOTE0 + pitches[i] - LOW, DUR0 + durs[i] - 1]
            last = pitches[i]
    return np.asarray(out + [EOS], np.int32)


def decode(tokens, velocity=0.8):
    """Token ids back to notes (onset beats, duration beats, pitch, velocity); notebook 04.

    Tokens the grammar does not allow where they stand (a duration with no pitch before it, a
    pitch with no duration after it) are skipped; decoding stops at EOS.
    """
    notes, now, pitch = [], 0, None
    for token in np.asarray(tokens).ravel():
        what = kind(token)
        if what == "eos":
            break
        if what == "shift":
            now += int(token) - SHIFT0 + 1
            pitch = None
        elif what == "note":
            pitch = int(token) - NOTE0 + LOW
        elif what == "dur" and pitch is not None:
            notes.append((now * STEP, (int(token) - DUR0 + 1) * STEP, pitch, velocity))
            pitch = None
    return np.asarray(notes, np.float64).reshape(-1, 4)


def allowed(previous, last_pitch=None):
    """A boolean mask over the vocabulary: the tokens the grammar allows next; notebook 05.

    `previous` is the last token; `last_pitch` the highest pitch already at the current onset
    (None after a shift), so that pitches at one onset rise.
    """
    mask = np.zeros(VOCAB, bool)
    what = kind(previous)
    if what == "note":
        mask[DUR0:] = True
        return mask
    mask[SHIFT0:NOTE0] = what != "eos"
    mask[EOS] = what in ("dur", "shift")
    low = LOW if last_pitch is None or what != "dur" else int(last_pitch) + 1
    mask[NOTE0 + max(low, LOW) - LOW:DUR0] = what != "eos"
    return mask


def transpose(notes, semitones):
    """The notes moved by `semitones`, or None when a pitch would leave the range; notebook 04."""
    notes = np.array(notes, np.float64, copy=True).reshape(-1, np.shape(notes)[-1] if len(notes) else 4)
    if len(notes):
        notes[:, 2] += semitones
        if notes[:, 2].min() < LOW or notes[:, 2].max() > HIGH:
            return None
    return notes
