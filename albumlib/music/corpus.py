"""The bundled pre-training corpus: public-domain scores as notes in beats (`Piece`s).

data/music_corpus/notes.npz holds Bach's chorales, Mozart, Haydn and Beethoven movements and
Monteverdi's madrigals, extracted from music21's corpus by scripts/extract_music21_corpus.py
(sources, licences and counts: data/music_corpus/ATTRIBUTION.md). Its arrays: `onset` and
`duration` (float32 beats), `pitch` (uint8), `velocity` (uint8, 0-127), `offsets` (the index of
each piece's first note), `names`, `collection` (unicode) and `bpm` (float32). Taught in
notebook 04 (the symbolic model's data).
"""

from pathlib import Path

import numpy as np

from .. import paths
from .midi import Piece

FOLDER = "music_corpus"
NOTES_FILE = "notes.npz"
KEYS = ("onset", "duration", "pitch", "velocity", "offsets", "names", "bpm", "collection")


def corpus_file():
    """The path of the bundled notes.npz."""
    return paths.data_path(FOLDER, NOTES_FILE)


def load_arrays(path=None):
    """The corpus's arrays as a dict (no pickles), checked for the keys it needs; notebook 04."""
    path = Path(path) if path is not None else corpus_file()
    with np.load(path, allow_pickle=False) as npz:
        missing = [key for key in KEYS if key not in npz.files]
        if missing:
            raise ValueError(f"{path}: not a music corpus, it lacks {', '.join(missing)}")
        return {key: npz[key] for key in KEYS}


def collection_names(path=None):
    """The collection names in the corpus, in their order there; notebook 04."""
    return list(dict.fromkeys(load_arrays(path)["collection"].tolist()))


def load_corpus(collections=None, path=None):
    """The corpus as a list of Piece (all, or those of the named collections); notebook 04."""
    data = load_arrays(path)
    available = list(dict.fromkeys(data["collection"].tolist()))
    wanted = [collections] if isinstance(collections, str) else collections
    wanted = available if wanted is None else list(wanted)
    unknown = sorted(set(wanted) - set(available))
    if unknown:
        raise ValueError(f"unknown collection(s) {', '.join(unknown)}; "
                         f"the corpus has {', '.join(available)}")
    table = np.stack([data["onset"], data["duration"], data["pitch"],
                      data["velocity"] / 127.0], axis=1).astype(np.float64)
    bounds = np.append(data["offsets"], len(table))
    return [Piece(table[bounds[i]:bounds[i + 1]], float(data["bpm"][i]), str(data["names"][i]))
            for i in range(len(data["names"])) if data["collection"][i] in wanted]
