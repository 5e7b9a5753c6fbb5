"""Learning from the user's music: a folder of recordings or MIDI files to a note model.

What `python -m albumlib train-music MUSIC_DIR --out MODEL_DIR` runs (taught in notebook 04):

1. read each file's notes: MIDI files as they are (albumlib.music.midi), audio files (mp3, wav,
   flac, ogg, m4a, ...) by automatic transcription (albumlib.music.transcribe), with their tempo
   estimated from the onsets; a file that cannot be read is skipped with a warning naming it;
   transcriptions are kept in MODEL_DIR/notes so a second run does not redo them;
2. adapt the bundled note model, pre-trained on public-domain scores, to those notes
   (albumlib.music.note_train, resumable from MODEL_DIR/checkpoint.npz);
3. write the note model (albumlib.music.note_bundle) into MODEL_DIR with the folder's tempo and
   register, for `python -m albumlib compose --model MODEL_DIR`.
"""

import dataclasses
import warnings
from pathlib import Path

import numpy as np

from albumlib import audio, fileio
from albumlib.music import midi, note_bundle, note_metrics, note_train

MIDI_EXTENSIONS = (".mid", ".midi")
NOTES_DIR = "notes"


@dataclasses.dataclass
class LearnOptions:
    """How to learn from a music folder; notebook 04."""

    steps: int = 600                 # adaptation steps (about 3-4 minutes on a 2-core CPU)
    learning_rate: float = 1e-3
    batch_size: int = 32
    seq_len: int = 128
    transpose: int = 2
    base: str = None                 # a note model folder to start from (None: the bundled one)
    seed: int = 0


def music_files(folder):
    """MIDI and audio files under `folder` (recursively), in name order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder of music")
    midis = [p for p in folder.rglob("*") if p.suffix.lower() in MIDI_EXTENSIONS and p.is_file()]
    return sorted(midis + audio.list_audio(folder, recursive=True))


def _cache_path(cache, path):
    """Where the notes of `path` are kept, keyed by its name, size and modification time."""
    st = path.stat()
    return Path(cache) / f"{path.stem}-{st.st_size}-{st.st_mtime_ns}.npz"


def _transcribed(path, cache, transcriber):
    """The Piece of an audio file: from the cache, or transcribed and then cached."""
    keep = _cache_path(cache, path) if cache is not None else None
    if keep is not None and keep.is_file():
        with np.load(keep, allow_pickle=False) as data:
            return midi.Piece(data["notes"], float(data["bpm"]), path.name)
    notes = transcriber.file(path)
    bpm = midi.estimate_bpm(notes) if len(notes) else 120.0
    piece = midi.quantise(midi.Piece.from_seconds(notes, bpm, path.name))
    if keep is not None:
        keep.parent.mkdir(parents=True, exist_ok=True)
        with fileio.atomic_path(keep) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, notes=np.asarray(piece.notes, np.float32), bpm=np.float32(bpm))
    return piece


def read_pieces(files, cache=None, progress=True):
    """The Pieces of music files, skipping (with a warning naming it) what cannot be read."""
    from tqdm.auto import tqdm

    from albumlib.music import transcribe
    transcriber, pieces = transcribe.Transcriber(), []
    for path in tqdm(files, desc="reading notes", unit="file", disable=not progress):
        try:
            if path.suffix.lower() in MIDI_EXTENSIONS:
                piece = midi.quantise(midi.read_midi(path))
            else:
                piece = _transcribed(path, cache, transcriber)
        except (OSError, ValueError) as err:
            why = str(err) if str(path) in str(err) else f"{path}: {err}"
            warnings.warn(f"{why}; skipped", audio.SkippedAudioWarning, stacklevel=2)
            continue
        if len(piece.notes):
            pieces.append(piece)
        else:
            warnings.warn(f"{path}: skipped (no notes found)", audio.SkippedAudioWarning,
                          stacklevel=2)
    return pieces


def register(pieces):
    """The pitch range that holds 98 % of the pieces' notes, widened a little; notebook 04."""
    pitches = np.concatenate([np.asarray(p.notes)[:, 2] for p in pieces])
    low, high = np.percentile(pitches, [1, 99])
    return int(max(low - 2, 24)), int(min(high + 2, 100))


def learn(music_dir, out_dir, options=None, progress=True):
    """Read a music folder, adapt the note model to it, write it to out_dir; notebook 04."""
    options = options or LearnOptions()
    out = Path(out_dir)
    files = music_files(music_dir)
    if not files:
        raise ValueError(f"{music_dir}: no music files (MIDI, mp3, wav, flac, ogg, m4a, ...)")
    pieces = read_pieces(files, out / NOTES_DIR, progress)
    if not pieces:
        raise ValueError(f"{music_dir}: none of its {len(files)} files gave notes")
    base = note_bundle.load(options.base)
    config = note_train.NoteTrainConfig(
        out_dir=str(out), steps=options.steps, batch_size=options.batch_size,
        seq_len=options.seq_len, learning_rate=options.learning_rate,
        transpose=options.transpose, seed=options.seed, model=base.config,
        val_fraction=0.1 if len(pieces) > 4 else 0.0)
    model, history = note_train.train(pieces, config, base.weights,
                                      progress)
    low, high = register(note_train.in_c(pieces))
    rules = dataclasses.replace(base.rules, low=low, high=high)
    info = {"trained_on": str(music_dir), "files": len(files), "pieces": len(pieces),
            "notes": int(sum(len(p.notes) for p in pieces)), "base": str(base.path),
            "steps": options.steps, "history": history}
    bpm = float(np.median([p.bpm for p in pieces]))
    return note_bundle.save(out, model.get_weights(), base.config, bpm, rules,
                            base.instruments, info, key=folder_key(pieces))


def folder_key(pieces):
    """The major key (C = 0) that holds the most notes of the pieces, each piece voting with
    its own key and its number of notes; notebook 04."""
    votes = np.zeros(12)
    for p in pieces:
        votes[note_metrics.major_tonic(p.notes)] += len(p.notes)
    return int(np.argmax(votes))


def summary(pieces):
    """The number of pieces and notes and their median tempo, as one line."""
    notes = sum(len(p.notes) for p in pieces)
    bpm = np.median([p.bpm for p in pieces]) if pieces else 0
    return f"{len(pieces)} pieces, {notes} notes, median tempo {bpm:.0f} bpm"
