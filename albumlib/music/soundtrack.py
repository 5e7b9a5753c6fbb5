"""A soundtrack from either kind of music model, streamed to a file (taught in notebook 05).

`load_model` reads a note model (note_model.json: albumlib.music.note_bundle) or the report's
FFT-block model (bundle.json: albumlib.music.report) from a folder, or a bundled one by name
("notes", the default, or "report"). `compose` writes or returns `seconds` of music from it.

For a note model nothing grows with the length: the sampler yields notes as it goes, the
synthesiser renders them a chunk at a time (albumlib.music.synth.iter_render), and the chunks go
straight to the WAV or MP3 file, so an hour costs the memory of a minute.
"""

from pathlib import Path

import numpy as np

from albumlib import audio, paths
from albumlib.music import note_bundle, report, symbolic, synth

SR = synth.SAMPLE_RATE
NAMES = ("notes", "report")
BASS_BELOW = 52                    # notes under E3 are played by the bass
DEFAULT_INSTRUMENTS = {"bass": "bass", "keys": "grand"}
KEYS = (0, 7, 2, 5, 10, 9, 3)       # C, G, D, F, Bb, A, Eb major: a seed picks one
CACHE_NOTES = 512                 # distinct notes the synthesiser keeps rendered (synth.iter_render)
LEVEL_DBFS = -10.0                 # one loud note's peak; synth.soft_limit keeps chords in range


def load_model(model=None):
    """A NoteBundle or the report's MusicBundle from a folder or a bundled name; notebook 05."""
    if model is None or str(model) == "notes":
        return note_bundle.load()
    if str(model) == "report":
        return report.load_bundle(paths.data_path(report.DEFAULT_BUNDLE))
    folder = Path(model).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such model folder (or a name: "
                                f"{' or '.join(NAMES)})")
    if note_bundle.is_note_bundle(folder):
        return note_bundle.load(folder)
    return report.load_bundle(folder)


def is_note_model(bundle):
    """True for a note model (NoteBundle), False for the report's model (MusicBundle)."""
    return isinstance(bundle, note_bundle.NoteBundle)


def with_parts(notes):
    """Each note with its part: "bass" under BASS_BELOW, else "keys"; notebook 05."""
    for onset, duration, pitch, velocity in notes:
        yield onset, duration, pitch, velocity, "bass" if pitch < BASS_BELOW else "keys"


def key_shift(bundle, seed):
    """Semitones (-6..5) from C to the key a composition is played in: the bundle's key, or
    one of KEYS picked by the seed; notebook 05."""
    key = bundle.key if bundle.key is not None else KEYS[seed % len(KEYS)]
    return (int(key) + 6) % 12 - 6


def note_stream(bundle, seconds, seed=0, temperature=0.8):
    """The notes a note model composes for `seconds` (a generator), parts assigned."""
    return with_parts(symbolic.compose_notes(bundle.lstm, seconds, bundle.bpm, temperature,
                                             seed, bundle.rules,
                                             transpose=key_shift(bundle, seed)))


def chunks(bundle, seconds, seed=0, temperature=0.8, chunk_seconds=10.0, soundfont=None):
    """Audio chunks of `seconds` of music composed by a note model (an iterator); with
    `soundfont` (an .sf2 path) rendered by tinysoundfont instead of the numpy synthesiser."""
    instruments = {**DEFAULT_INSTRUMENTS, **(bundle.instruments or {})}
    notes = note_stream(bundle, seconds, seed, temperature)
    if soundfont is not None:
        parts = synth.iter_render_soundfont(notes, soundfont, SR, chunk_seconds,
                                            programs=instruments)
    else:
        parts = synth.iter_render(notes, SR, chunk_seconds=chunk_seconds,
                                  instruments=instruments, seed=seed, level_dbfs=LEVEL_DBFS,
                                  cache_notes=CACHE_NOTES)
    return audio.exact_length(parts, int(round(seconds * SR)))


def compose(model=None, seconds=30.0, *, seed=0, temperature=0.8, out=None, overwrite=False,
            progress=False, soundfont=None):
    """Compose `seconds` of music: the signal, or the path of `out` (.wav or .mp3); notebook 05.

    model: a loaded bundle, a model folder, or a bundled name ("notes", the default, "report").
    soundfont: an .sf2 file to render a note model's music with (tinysoundfont), else the
    numpy synthesiser. With `out`, the music is written a chunk at a time (a block at a time for
    the report's model), so memory does not grow with `seconds`. The file is written whole or
    not at all, never over an existing one unless overwrite=True.
    """
    if not seconds or seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds!r}")
    bundle = model if isinstance(model, (note_bundle.NoteBundle, report.MusicBundle)) \
        else load_model(model)
    if isinstance(bundle, report.MusicBundle):
        if out is None:
            return report.compose(bundle, seconds, seed=seed, progress=progress)
        return audio.save_stream(out, report.iter_compose(bundle, seconds, seed=seed),
                                 bundle.config.sr, overwrite=overwrite)[0]
    parts = chunks(bundle, seconds, seed, temperature, soundfont=soundfont)
    if out is None:
        return np.concatenate(list(parts))
    return audio.save_stream(out, parts, SR, overwrite=overwrite)[0]


def sample_rate(bundle):
    """The sample rate a bundle composes at."""
    return bundle.config.sr if isinstance(bundle, report.MusicBundle) else SR
