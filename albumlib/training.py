"""Training scaffolding shared by the style and music phases: checkpoints, history, curves, resume.

A checkpoint is one .npz file (no pickles): the model's arrays `model_0000...`, the optimiser's
`opt_0000...`, a counter (`step` or `epoch`), the loss history and other JSON notes as UTF-8
bytes, and any extra arrays. It is written to a temporary file and renamed, so a crash never
leaves half a checkpoint; beside it go history.json and loss_curve.png, each written whole.
Taught in notebooks 02 and 04; the training loops themselves live in albumlib.style.fast_train
and albumlib.music.report_train.
"""

import dataclasses
import json
import zipfile
from pathlib import Path

import numpy as np

from albumlib.fileio import atomic_path, atomic_write_bytes

CHECKPOINT = "checkpoint.npz"
HISTORY = "history.json"
LOSS_CURVE = "loss_curve.png"


class CheckpointError(ValueError):
    """A checkpoint that cannot be resumed from; the message says which file and what to do."""


@dataclasses.dataclass
class TrainResult:
    """What a training run returns: the model, its loss history, where things were written and
    the step or epoch it resumed from (0: a fresh run)."""

    model: object
    history: dict
    out_dir: Path
    resumed_from: int


@dataclasses.dataclass
class Checkpoint:
    """What a checkpoint holds: weights, optimiser state, counter, history, notes, extra arrays."""

    weights: list
    optimizer: list
    count: int
    history: dict
    notes: dict = dataclasses.field(default_factory=dict)    # JSON entries by key
    arrays: dict = dataclasses.field(default_factory=dict)   # other numpy arrays by key


def _json_array(value):
    """A JSON-able value as a uint8 array (stored in the .npz without pickles)."""
    return np.frombuffer(json.dumps(value).encode(), np.uint8)


def checkpoint_arrays(ckpt, counter="step"):
    """A Checkpoint as the dict of arrays saved in the .npz."""
    arrays = {f"model_{i:04d}": np.asarray(v) for i, v in enumerate(ckpt.weights)}
    arrays.update({f"opt_{i:04d}": np.asarray(v) for i, v in enumerate(ckpt.optimizer)})
    arrays[counter] = np.asarray(ckpt.count, np.int64)
    arrays["history"] = _json_array(ckpt.history)
    arrays.update({k: _json_array(v) for k, v in ckpt.notes.items()})
    arrays.update(ckpt.arrays)
    return arrays


def save_checkpoint(path, ckpt, counter="step"):
    """Write a checkpoint whole or not at all (temporary file, then rename); notebook 02."""
    path = Path(path)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **checkpoint_arrays(ckpt, counter))
    return path


def unusable(path, why):
    """A CheckpointError that names the file, the problem and the way out."""
    return CheckpointError(f"{path}: this checkpoint cannot be resumed from ({why}); delete it "
                           f"to start training afresh, or choose another --out folder")


def damage(err):
    """What a failed read of a checkpoint means, in a few words."""
    if isinstance(err, zipfile.BadZipFile):
        return "cut short, or not an .npz archive"
    if isinstance(err, EOFError):
        return "empty"
    if isinstance(err, KeyError):
        return f"no {str(err.args[0]).replace(' is not a file in the archive', '')!r} in it"
    if isinstance(err, json.JSONDecodeError):
        return "its loss history is unreadable"
    if isinstance(err, ValueError) and "pickle" in str(err):
        return "not an .npz archive"
    return str(err).split(". ")[0] or type(err).__name__


def read_checkpoint(path, counter="step", notes=()):
    """The Checkpoint in `path` (JSON `notes` decoded when present), or CheckpointError."""
    try:
        with np.load(path, allow_pickle=False) as data:
            files = set(data.files)
            weights = [data[k] for k in sorted(k for k in files if k.startswith("model_"))]
            opt = [data[k] for k in sorted(k for k in files if k.startswith("opt_"))]
            count = int(data[counter])
            history = json.loads(data["history"].tobytes().decode())
            decoded = {k: json.loads(data[k].tobytes().decode()) for k in notes if k in files}
            known = {counter, "history", *notes}
            extra = {k: data[k] for k in files
                     if k not in known and not k.startswith(("model_", "opt_"))}
    except Exception as err:  # noqa: BLE001 - zip, npy, json and key errors all mean "damaged"
        raise unusable(path, f"the file is damaged or not a checkpoint: {damage(err)}") from err
    return Checkpoint(weights, opt, count, history, decoded, extra)


def restore_optimizer(path, optimizer, variables, values):
    """Give the optimiser (built for `variables`) the saved state, or CheckpointError."""
    if not optimizer.built:
        optimizer.build(variables)
    if len(values) != len(optimizer.variables):
        raise unusable(path, f"optimiser state has {len(values)} arrays, expected "
                             f"{len(optimizer.variables)}: another model or optimiser")
    try:
        for var, value in zip(optimizer.variables, values):
            var.assign(value)
    except ValueError as err:
        raise unusable(path, f"its optimiser state does not fit this network - {err}") from err


def write_progress(out, ckpt, counter, plot_curve):
    """Checkpoint, history.json and loss_curve.png (drawn by `plot_curve(history, ax)`), each
    written whole or not at all."""
    out = Path(out)
    save_checkpoint(out / CHECKPOINT, ckpt, counter)
    atomic_write_bytes(out / HISTORY, json.dumps(ckpt.history).encode())
    save_curve(ckpt.history, out / LOSS_CURVE, plot_curve)


def save_curve(history, path, plot_curve):
    """Draw `plot_curve(history, ax)` and save it as a PNG, written atomically."""
    from matplotlib.figure import Figure    # no pyplot: leaves a notebook's backend alone
    fig = Figure(figsize=(7, 4))
    plot_curve(history, fig.subplots())
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    return Path(path)


def estimate_from_first_steps(seconds, remaining, unit="step", first_index=1, note=""):
    """The run's estimate line timed on its first steps (the first, which compiles, apart)."""
    from albumlib import profiles
    if len(seconds) == 1:
        return profiles.estimate(seconds[0], remaining, unit,
                                 how=f"measured on {unit} {first_index}{note}")
    return profiles.estimate(sum(seconds[1:]) / (len(seconds) - 1), remaining, unit,
                             first=seconds[0],
                             how=f"measured on {unit}s {first_index + 1}-"
                                 f"{first_index + len(seconds) - 1}{note}")


def distribution(strategy=None):
    """The given tf.distribute strategy, or the default (one device) one."""
    import tensorflow as tf
    return strategy or tf.distribute.get_strategy()
