"""MIDI files in and out, notes in beats, and a tempo for notes that came from audio.

The symbolic model works on notes in beats (quarter notes), so that a piece keeps its rhythm
whatever tempo it is played at. A `Piece` holds them as a float64 (n, 4) array of rows
(onset beats, duration beats, MIDI pitch, velocity 0-1), sorted by onset then pitch, with the
tempo (quarter notes a minute) to play them at; `to_seconds` gives the project's note tuples
(onset s, duration s, pitch, velocity), as `albumlib.music.synth.render_notes` takes them.

`read_midi` merges every track and channel but the drums (channel 10), `write_midi` writes a
type-1 file whole or not at all, `quantise` snaps notes to a grid of beats, and `estimate_bpm`
guesses a tempo for transcribed notes that have seconds but no beats. Reading and writing use
mido (MIT licence). Taught in notebook 04 (the symbolic model's data).
"""

import collections
import dataclasses
import struct
from pathlib import Path

import numpy as np

from .. import audio, fileio

MIDI_EXTENSIONS = (".mid", ".midi")
DRUM_CHANNEL = 9            # MIDI channel 10, counted from 0
TICKS_PER_BEAT = 480        # what write_midi uses: 16ths (120), triplets (160) and 32nds are exact
DEFAULT_TEMPO = 500000      # microseconds a beat when a file sets none (120 bpm)
BPM_RANGE = (60.0, 180.0)   # estimate_bpm searches here ...
PREFERRED_BPM = (70.0, 150.0)   # ... and halves or doubles its answer into here where it can


@dataclasses.dataclass(eq=False)
class Piece:
    """Notes in beats, (onset, duration, pitch, velocity 0-1) rows, with a tempo; notebook 04."""

    notes: np.ndarray
    bpm: float = 120.0
    name: str = ""

    def __post_init__(self):
        notes = np.asarray(self.notes, dtype=np.float64)
        notes = notes.reshape(-1, 4) if notes.size == 0 else notes
        if notes.ndim != 2 or notes.shape[1] != 4:
            raise ValueError(f"notes must be rows of (onset, duration, pitch, velocity), "
                             f"got shape {notes.shape}")
        self.notes = notes[np.lexsort((notes[:, 2], notes[:, 0]))]
        self.bpm = float(self.bpm)
        if not np.isfinite(self.bpm) or self.bpm <= 0:
            raise ValueError(f"bpm must be a positive number, got {self.bpm}")
        self.name = str(self.name)

    def __len__(self):
        return len(self.notes)

    def to_seconds(self):
        """The notes as the project's (onset s, duration s, pitch, velocity) tuples at `bpm`."""
        scale = 60.0 / self.bpm
        return [(float(on) * scale, float(dur) * scale, int(round(p)), float(v))
                for on, dur, p, v in self.notes]

    @classmethod
    def from_seconds(cls, notes, bpm, name=""):
        """A Piece from (onset s, duration s, pitch, velocity[, part]) tuples played at `bpm`."""
        rows = [tuple(float(x) for x in note[:4]) for note in notes]
        table = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
        table[:, :2] *= float(bpm) / 60.0
        return cls(table, bpm, name)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def _open_midi(path):
    """The mido.MidiFile at `path`, or a ValueError naming the file when mido cannot parse it."""
    import mido

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return mido.MidiFile(path)
    except (FileNotFoundError, PermissionError):
        raise
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError, struct.error) as err:
        raise ValueError(f"{path}: not a MIDI file that mido can read ({err or type(err).__name__})"
                         ) from err


def _track_notes(track):
    """(onset tick, end tick, pitch, velocity 0-127, channel) notes, (tick, tempo), last tick."""
    open_notes = collections.defaultdict(collections.deque)    # (channel, pitch) -> onsets
    notes, tempos, tick = [], [], 0
    for msg in track:
        tick += msg.time
        if msg.type == "set_tempo" and msg.tempo > 0:
            tempos.append((tick, msg.tempo))
        elif msg.type in ("note_on", "note_off") and msg.channel != DRUM_CHANNEL:
            key = (msg.channel, msg.note)
            if msg.type == "note_on" and msg.velocity > 0:
                open_notes[key].append((tick, msg.velocity))
            elif open_notes[key]:                   # note-off, or note-on at velocity 0
                onset, velocity = open_notes[key].popleft()     # the oldest one ends first
                notes.append((onset, tick, msg.note, velocity, msg.channel))
    for (channel, pitch), waiting in open_notes.items():    # never switched off: to the end
        notes.extend((onset, tick, pitch, velocity, channel) for onset, velocity in waiting)
    return notes, tempos, tick


def _end_restruck_notes(notes):
    """End a note where its pitch starts again on its channel (a key cannot sound twice)."""
    by_pitch = collections.defaultdict(list)
    for note in sorted(notes):
        by_pitch[note[4], note[2]].append(list(note))
    out = []
    for group in by_pitch.values():
        for current, following in zip(group, group[1:]):
            if following[0] < current[1]:
                current[1] = following[0]
        out.extend(tuple(n) for n in group if n[1] > n[0])    # zero-length notes dropped
    return out


def _longest_tempo(tempos, end_tick, ticks_per_beat):
    """The bpm that holds for the most seconds between tick 0 and `end_tick`."""
    changes = sorted((tick, order, tempo) for order, (tick, tempo) in enumerate(tempos))
    if not changes or changes[0][0] > 0:
        changes.insert(0, (0, -1, DEFAULT_TEMPO))
    held = collections.Counter()
    for (tick, _, tempo), (next_tick, _, _) in zip(changes, changes[1:] + [(end_tick, 0, 0)]):
        span = max(min(next_tick, end_tick) - tick, 0)
        held[tempo] += span / ticks_per_beat * tempo / 1e6
    first_seen = {}
    for _, _, tempo in changes:
        first_seen.setdefault(tempo, len(first_seen))
    best = max(held, key=lambda t: (held[t], -first_seen[t]))    # ties: the earlier tempo
    return round(60e6 / best, 3)


def read_midi(path):
    """A Piece from a MIDI file: all tracks and channels but drums, beats = ticks / ticks a beat.

    A note-on at velocity 0 is a note-off; a note-off ends the oldest sounding note of its pitch
    and channel, a note still sounding when its pitch starts again ends there, and notes never
    switched off end with their track. Beats do not depend on tempo changes; `bpm` is the tempo
    (rounded to 0.001) that holds for the longest time. A file mido cannot parse, or one with no
    notes, raises a ValueError naming it. Notebook 04.
    """
    path = Path(path)
    midi_file = _open_midi(path)
    ticks_per_beat = midi_file.ticks_per_beat
    if not 0 < ticks_per_beat < 0x8000:             # the top bit set: SMPTE frames, not beats
        raise ValueError(f"{path}: SMPTE time division (frames, not beats) is not supported")
    notes, tempos, ends = [], [], []
    for track in midi_file.tracks:
        track_notes, track_tempos, end = _track_notes(track)
        notes.extend(_end_restruck_notes(track_notes))
        tempos.extend(track_tempos)
        ends.append(end)
    if not notes:
        raise ValueError(f"{path}: the MIDI file has no notes (drums on channel 10 are ignored)")
    table = np.array([(on / ticks_per_beat, (off - on) / ticks_per_beat, pitch, vel / 127.0)
                      for on, off, pitch, vel, _ in notes], dtype=np.float64)
    bpm = _longest_tempo(tempos, max(max(ends), max(n[1] for n in notes)), ticks_per_beat)
    return Piece(table, bpm, path.stem)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def _note_events(notes, ticks_per_beat):
    """(tick, kind, pitch, velocity) events of beat notes, note-offs first at a shared tick."""
    events = []
    for i, (onset, duration, pitch, velocity) in enumerate(notes):
        pitch = int(round(pitch))
        if not 0 <= pitch <= 127 or onset < 0 or not np.isfinite([onset, duration]).all():
            raise ValueError(f"note {i}: needs a pitch in 0-127 and an onset >= 0, "
                             f"got {(onset, duration, pitch, velocity)}")
        start = int(round(onset * ticks_per_beat))
        stop = max(int(round((onset + duration) * ticks_per_beat)), start + 1)
        vel = int(np.clip(round(float(velocity) * 127), 1, 127))
        events += [(start, 1, pitch, vel), (stop, 0, pitch, 0)]
    return sorted(events)


def _midi_file(piece, ticks_per_beat):
    """A type-1 mido.MidiFile: a tempo track, then the notes on channel 1."""
    import mido

    tempo_track = mido.MidiTrack([
        mido.MetaMessage("track_name", name=piece.name or "albumlib", time=0),
        mido.MetaMessage("set_tempo", tempo=int(round(60e6 / piece.bpm)), time=0),
        mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
        mido.MetaMessage("end_of_track", time=0)])
    note_track, last = mido.MidiTrack(), 0
    for tick, kind, pitch, velocity in _note_events(piece.notes, ticks_per_beat):
        name = "note_on" if kind else "note_off"
        note_track.append(mido.Message(name, note=pitch, velocity=velocity if kind else 0,
                                       channel=0, time=tick - last))
        last = tick
    note_track.append(mido.MetaMessage("end_of_track", time=0))
    return mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat, tracks=[tempo_track, note_track])


def write_midi(path, notes, bpm=120, overwrite=False, ticks_per_beat=TICKS_PER_BEAT):
    """Write a Piece (at its own bpm) or (onset s, duration s, pitch, velocity) notes (at `bpm`).

    A type-1 file (a tempo track and one track of notes), written whole or not at all; an
    existing file is replaced only with overwrite=True. Returns the path. Notebook 04.
    """
    path = audio.check_output(path, MIDI_EXTENSIONS, overwrite)
    piece = notes if isinstance(notes, Piece) else Piece.from_seconds(notes, bpm, path.stem)
    midi = _midi_file(piece, int(ticks_per_beat))
    with fileio.atomic_path(path) as tmp:
        midi.save(tmp)
    return path


# ---------------------------------------------------------------------------------------------
# Grid and tempo
# ---------------------------------------------------------------------------------------------

def quantise(piece, step=0.25):
    """Onsets and durations rounded to `step` beats (durations >= step), duplicates dropped.

    Of notes of one pitch that land on one onset, the longest (then loudest) stays. Notebook 04.
    """
    step = float(step)
    if not step > 0:
        raise ValueError(f"step must be > 0 beats, got {step}")
    table = piece.notes.copy()
    table[:, 0] = np.floor(table[:, 0] / step + 0.5) * step
    table[:, 1] = np.maximum(np.floor(table[:, 1] / step + 0.5), 1) * step
    order = np.lexsort((-table[:, 3], -table[:, 1], table[:, 2], table[:, 0]))
    table = table[order]
    keep = np.ones(len(table), dtype=bool)
    keep[1:] = (table[1:, 0] != table[:-1, 0]) | (table[1:, 2] != table[:-1, 2])
    return Piece(table[keep], piece.bpm, piece.name)


def _onset_signal(onsets, rate, width):
    """Onsets (s) as Gaussian pulses of `width` s on a `rate` Hz grid, mean removed."""
    n = int(np.ceil((onsets.max() + 4 * width) * rate)) + 1
    signal = np.zeros(n)
    np.add.at(signal, np.rint(onsets * rate).astype(int), 1.0)
    half = int(np.ceil(4 * width * rate))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / (width * rate)) ** 2)
    signal = np.convolve(signal, kernel, mode="same")
    return signal - signal.mean()


def _autocorrelation(signal):
    """The autocorrelation of a signal at lags 0 .. len - 1 (by FFT)."""
    n = len(signal)
    spectrum = np.fft.rfft(signal, 2 * n)
    return np.fft.irfft(spectrum * np.conj(spectrum), 2 * n)[:n]


def _tempo_scores(acf, rate, bpms, window=6.0):
    """How well each tempo explains the onsets: the autocorrelation summed at its 16th lags.

    Lags up to `window` seconds count: those on a beat fully, on an eighth half, on other 16ths a
    quarter (the same span for every tempo, so that a slow tempo gets no longer comb).
    """
    sixteenths = np.arange(1, int(window * BPM_RANGE[1] / 60 * 4) + 1)
    weights = np.where(sixteenths % 4 == 0, 1.0, np.where(sixteenths % 2 == 0, 0.5, 0.25))
    lags = (60.0 / bpms)[:, None] / 4 * sixteenths[None, :]
    values = np.interp(lags * rate, np.arange(len(acf)), acf, right=0.0)
    return (values * weights * (lags <= window)).sum(axis=1) / acf[0]


def estimate_bpm(notes, default=120.0):
    """A tempo (quarter notes a minute) for notes in seconds that came from audio; notebook 04.

    Onsets (chords merged, 20 ms pulses to absorb jitter) are autocorrelated, and each tempo in
    60-180 bpm (0.1 bpm steps) is scored by the autocorrelation at its 16th-note lags over 6 s,
    beats weighted most. Like every tempo tracker it can answer the double or the half of the
    tempo a musician would write; the answer is folded into 70-150 bpm where that is possible (a
    best of 180 becomes 90, of 65 becomes 130): on the tests' synthetic tunes, 90 and 140 bpm
    come out as 90 and 140, and 160 as 80. Fewer than 4 distinct onsets give `default`.
    """
    onsets = np.unique(np.round([float(n[0]) for n in notes], 2)) if len(notes) else np.zeros(0)
    if len(onsets) < 4:
        return float(default)
    onsets = onsets - onsets[0]
    rate, width = 200.0, 0.02
    acf = _autocorrelation(_onset_signal(onsets, rate, width))
    bpms = np.arange(BPM_RANGE[0], BPM_RANGE[1] + 1e-9, 0.1)
    best = float(bpms[np.argmax(_tempo_scores(acf, rate, bpms))])
    if best > PREFERRED_BPM[1] and best / 2 >= BPM_RANGE[0]:
        best /= 2
    elif best < PREFERRED_BPM[0] and best * 2 <= BPM_RANGE[1]:
        best *= 2
    return round(best, 1)
