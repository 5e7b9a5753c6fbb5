"""Training the note model on pieces, with checkpoints and resume (taught in notebook 04).

The pieces (notes in beats, albumlib.music.midi.Piece) become one stream of tokens, piece after
piece (BOS ... EOS). A training batch is `batch_size` windows of `seq_len + 1` tokens cut at
random places, each moved by a random transposition (the same music in another key), and the
model learns to predict each window's tokens from the ones before. A few pieces are held out; the
loss on fixed windows of them is the validation loss.

The random windows of step k come from a generator seeded by (seed, k), so a run resumed from its
checkpoint (weights, Adam's state, step, history: albumlib.training) goes on as an uninterrupted
one would. Adapting a pre-trained model to the user's music is the same loop started from the
pre-trained weights (`base`).
"""

import dataclasses
import time
from pathlib import Path

import numpy as np

from albumlib import training
from albumlib.music import note_metrics, symbolic, tokens as tk

CHECKPOINT = training.CHECKPOINT
HISTORY_KEYS = ("step", "loss", "val_loss", "seconds")


@dataclasses.dataclass
class NoteTrainConfig:
    """What and how to train; notebook 04."""

    out_dir: str = "runs/note_model"
    steps: int = 1500
    batch_size: int = 32
    seq_len: int = 128
    learning_rate: float = 2e-3
    transpose: int = 0                   # random keys up to this many semitones away (after in_c)
    checkpoint_every: int = 100
    val_fraction: float = 0.05
    seed: int = 0
    model: symbolic.NoteModelConfig = dataclasses.field(default_factory=symbolic.NoteModelConfig)


def key_shift(notes):
    """The transposition (-6..5 semitones) that moves the notes' major scale to C; notebook 04.

    Every piece is learnt in C major (or A minor), so the model need not find the key from the
    notes before it can choose the next one; compositions are moved to a key afterwards.
    """
    return (-note_metrics.major_tonic(notes) + 6) % 12 - 6


def in_c(pieces):
    """The pieces' notes moved to C major / A minor (a piece that would leave the range stays)."""
    out = []
    for p in pieces:
        moved = tk.transpose(p.notes, key_shift(p.notes)) if len(p.notes) else None
        out.append(dataclasses.replace(p, notes=moved) if moved is not None else p)
    return out


def token_stream(pieces):
    """One int16 array of the pieces' tokens, BOS ... EOS each; notebook 04."""
    parts = [tk.encode(p.notes) for p in pieces]
    return np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, np.int16)


def split_pieces(pieces, fraction, seed):
    """(training pieces, held-out pieces): every k-th piece after a seeded shuffle."""
    order = np.random.default_rng(seed).permutation(len(pieces))
    n_val = int(round(len(pieces) * fraction)) if len(pieces) > 1 else 0
    n_val = min(max(n_val, 1 if fraction > 0 and len(pieces) > 1 else 0), len(pieces) - 1)
    held = set(order[:n_val].tolist())
    return ([p for i, p in enumerate(pieces) if i not in held],
            [p for i, p in enumerate(pieces) if i in held])


def transpose_tokens(window, semitones):
    """The window with its pitch tokens moved, or unchanged where one would leave the range."""
    notes = (window >= tk.NOTE0) & (window < tk.DUR0)
    moved = window + np.where(notes, semitones, 0)
    ok = np.all((moved[notes] >= tk.NOTE0) & (moved[notes] < tk.DUR0))
    return moved if ok else window


def windows(stream, n, length, rng, transpose=0):
    """n random windows of `length` tokens (PAD-filled past the stream's end); notebook 04."""
    out = np.full((n, length), tk.PAD, np.int32)
    starts = rng.integers(0, max(len(stream) - 1, 1), n)
    for row, start in zip(out, starts):
        piece = stream[start:start + length].astype(np.int32)
        shift = int(rng.integers(-transpose, transpose + 1)) if transpose else 0
        row[:len(piece)] = transpose_tokens(piece, shift)
    return out


def batch(stream, n, seq_len, rng, transpose=0):
    """(inputs, targets, weights) of one training step: targets are inputs shifted by one."""
    w = windows(stream, n, seq_len + 1, rng, transpose)
    x, y = w[:, :-1], w[:, 1:]
    return x, y, (y != tk.PAD).astype(np.float32)


def plot_curve(history, ax):
    """Training and validation loss against the step; notebook 04."""
    ax.plot(history["step"], history["loss"], label="training")
    val = [(s, v) for s, v in zip(history["step"], history["val_loss"]) if v is not None]
    if val:
        ax.plot(*zip(*val), label="validation")
    ax.set(xlabel="step", ylabel="cross-entropy (nats a token)", title="note model")
    ax.legend()


def _resume(out, model, history):
    """Load out/checkpoint.npz into the model and optimiser; the step it was at (0 if none)."""
    path = out / CHECKPOINT
    if not path.exists():
        return 0, history
    saved = training.read_checkpoint(path, "step")
    try:
        model.set_weights(saved.weights)
    except ValueError as err:
        raise training.unusable(path, f"its weights do not fit this model - {err}") from err
    training.restore_optimizer(path, model.optimizer, model.trainable_variables, saved.optimizer)
    print(f"resuming from {path} at step {saved.count}")
    return saved.count, saved.history


def _save(out, model, step, history):
    """Checkpoint, history.json and loss_curve.png, each written whole."""
    ckpt = training.Checkpoint(model.get_weights(),
                               [np.asarray(v) for v in model.optimizer.variables], step, history)
    training.write_progress(out, ckpt, "step", plot_curve)


def _validate(model, val_batch):
    """The mean loss a token on the held-out windows (None without them)."""
    if val_batch is None:
        return None
    x, y, w = val_batch
    return float(model.evaluate(x, y, sample_weight=w, verbose=0, batch_size=len(x)))


def _model(config, base_weights):
    """The compiled note model, from `base_weights` when adapting."""
    model = symbolic.compile_note_model(symbolic.build_note_model(config.model),
                                        config.learning_rate)
    if base_weights is not None:
        model.set_weights(base_weights)
    return model


def train(pieces, config, base_weights=None, progress=True):
    """Train (or resume) the note model on `pieces`; the Keras model and history; notebook 04."""
    from tqdm.auto import tqdm
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    train_p, val_p = split_pieces(in_c(pieces), config.val_fraction, config.seed)
    stream = token_stream(train_p)
    if len(stream) < 2:
        raise ValueError("no notes to learn from: every piece was empty or unreadable")
    val_stream = token_stream(val_p)
    val_batch = (batch(val_stream, 16, config.seq_len, np.random.default_rng(config.seed))
                 if len(val_stream) > 1 else None)
    model = _model(config, base_weights)
    history = {k: [] for k in HISTORY_KEYS}
    start, history = _resume(out, model, history)
    bar = tqdm(total=config.steps, initial=min(start, config.steps), desc="training notes",
               unit="step", disable=not progress)
    t0, losses, first = time.perf_counter(), [], []
    for step in range(start + 1, config.steps + 1):
        t_step = time.perf_counter()
        x, y, w = batch(stream, config.batch_size, config.seq_len,
                        np.random.default_rng([config.seed, step]), config.transpose)
        losses.append(float(model.train_on_batch(x, y, sample_weight=w)))
        bar.update(1)
        bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}", refresh=False)
        if len(first) < 4:
            first.append(time.perf_counter() - t_step)
            if len(first) == 4 and progress:
                tqdm.write(training.estimate_from_first_steps(first, config.steps - step))
        if step % config.checkpoint_every == 0 or step == config.steps:
            for key, value in zip(HISTORY_KEYS, (step, float(np.mean(losses)),
                                                 _validate(model, val_batch),
                                                 time.perf_counter() - t0)):
                history[key].append(value)
            losses = []
            _save(out, model, step, history)
    bar.close()
    return model, history
