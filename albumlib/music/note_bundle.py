"""Note model files: the weights and what composing needs, saved and loaded (notebooks 04 and 05).

A note model folder holds note_model.npz (the weights, float32, no pickles) and note_model.json
(format, sizes, tempo, sampler rules, instruments, what it was trained on, and the sha256 of the
.npz). Each file is written whole or not at all; the JSON is written last and names the arrays'
checksum, so a folder whose .npz was replaced or cut short is refused with a message that says so.
Composing needs numpy only: the LSTM runs as albumlib.music.symbolic.NumpyLSTM.
"""

import dataclasses
import json
from pathlib import Path

import numpy as np

from albumlib import fileio, paths
from albumlib.music import symbolic

FORMAT = "albumlib-note-model"
VERSION = 1
JSON_NAME = "note_model.json"
ARRAYS_NAME = "note_model.npz"
DEFAULT = "note_model"             # data/note_model: the bundled model


@dataclasses.dataclass
class NoteBundle:
    """A loaded note model: its numpy LSTM and the settings composing uses."""

    lstm: symbolic.NumpyLSTM
    config: symbolic.NoteModelConfig
    bpm: float
    rules: symbolic.Rules
    instruments: dict
    info: dict
    path: Path = None
    key: int = None            # the tonic (C = 0) to play in; None: one per seed (KEYS)
    weights: list = None       # the float32 arrays, as saved: to adapt the model to new music


def is_note_bundle(directory):
    """True when `directory` holds a note model (note_model.json)."""
    return directory is not None and (Path(directory) / JSON_NAME).is_file()


def save(directory, weights, config, bpm, rules=None, instruments=None, info=None, key=None):
    """Write note_model.npz, then note_model.json, into `directory`; notebook 04.

    key: the major key (tonic pitch class, C = 0) compositions are played in, or None for a
    key picked by each composition's seed."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = [np.asarray(w, np.float32) for w in weights]
    if not all(np.all(np.isfinite(w)) for w in weights):
        raise FloatingPointError("the model's weights hold NaN or inf; not saving them")
    with fileio.atomic_path(directory / ARRAYS_NAME) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{f"weight_{i:04d}": w for i, w in enumerate(weights)})
    meta = {"format": FORMAT, "version": VERSION, "config": dataclasses.asdict(config),
            "bpm": float(bpm), "rules": dataclasses.asdict(rules or symbolic.Rules()),
            "instruments": instruments or {}, "info": info or {},
            "key": None if key is None else int(key) % 12,
            "arrays_sha256": fileio.sha256_file(directory / ARRAYS_NAME),
            "parameters": int(sum(w.size for w in weights))}
    fileio.atomic_write_bytes(directory / JSON_NAME, json.dumps(meta, indent=1).encode())
    return directory


def _meta(directory):
    """The checked JSON of a note model folder."""
    path = directory / JSON_NAME
    if not path.is_file() or not (directory / ARRAYS_NAME).is_file():
        raise FileNotFoundError(f"{directory}: not a note model (needs {JSON_NAME} and "
                                f"{ARRAYS_NAME}); make one with `python -m albumlib train-music`")
    meta = fileio.read_format_json(path, FORMAT, VERSION)
    if fileio.sha256_file(directory / ARRAYS_NAME) != meta.get("arrays_sha256"):
        raise ValueError(f"{directory / ARRAYS_NAME}: does not match {JSON_NAME} (replaced or "
                         f"cut short); train the model again")
    return meta


def load(directory=None):
    """The NoteBundle in `directory` (default: the bundled data/note_model); notebook 05."""
    directory = Path(directory) if directory is not None else paths.data_path(DEFAULT)
    meta = _meta(directory)
    try:
        with np.load(directory / ARRAYS_NAME, allow_pickle=False) as data:
            weights = [data[k] for k in sorted(k for k in data.files if k.startswith("weight_"))]
    except (OSError, ValueError) as err:
        raise ValueError(f"{directory / ARRAYS_NAME}: unreadable ({err})") from err
    config = symbolic.NoteModelConfig(**meta["config"])
    if len(weights) != 3 + 3 * config.layers:
        raise ValueError(f"{directory / ARRAYS_NAME}: {len(weights)} arrays, expected "
                         f"{3 + 3 * config.layers} for {config.layers} LSTM layers")
    return NoteBundle(symbolic.NumpyLSTM(weights), config, float(meta["bpm"]),
                      symbolic.Rules(**meta["rules"]), dict(meta["instruments"]),
                      dict(meta["info"]), directory, meta.get("key"), weights)
