"""Training the music model on an on-disk music dataset, with exact resume (notebook 04).

The TensorFlow parts live here (tf.data input, GradientTape step, tf.distribute strategy); the
model, features and generation are keras/numpy code in albumlib.music.report, the dataset is
albumlib.music.dataset.

What `train` does:
- builds (or updates) the on-disk FFT-block dataset of the music folder with
  `music_data.build_dataset` (out_dir/dataset unless `dataset_dir` is given);
- holds out whole songs for validation (`music_data.split_songs`) and fits the scaler on the
  training songs only, so nothing of a validation song reaches the model or its normalisation;
- trains with the report's mean squared error and RMSprop, one epoch = every training sequence
  once, in an order fixed by (seed, epoch);
- after each epoch, measures the validation loss (teacher forced: the true previous blocks are fed
  in, as in training) and optionally a free-running one (the model's own predictions are fed back
  for `free_run_steps` blocks, as in generation);
- every `checkpoint_every` epochs (the report: 500) and at the end, writes checkpoint.npz (model
  and optimiser variables, epoch, history, split, scaler; a temporary file renamed, no pickles),
  history.json and loss_curve.png; on restart it resumes from the checkpoint and says so;
- stops with FloatingPointError when a loss becomes NaN or infinite, without writing anything:
  the last checkpoint stays the last good one;
- exports a bundle (albumlib.music.report.save_bundle) to out_dir/bundle at the end.

For "ola" framing the features of each song are made from the dataset's blocks of half a frame
(the signal is exactly recoverable from them) and cached in out_dir/features.
"""

import dataclasses
import math
import time
import warnings
from pathlib import Path

import numpy as np

from albumlib import training
from albumlib.music import report as music, dataset as music_data, fft_blocks
from albumlib.fileio import atomic_path
from albumlib.music.report import MusicConfig

CHECKPOINT = training.CHECKPOINT
HISTORY = training.HISTORY
LOSS_CURVE = training.LOSS_CURVE
BUNDLE = "bundle"
FEATURES = "features"
HISTORY_KEYS = ("epoch", "train", "val", "val_free", "seconds")


@dataclasses.dataclass
class TrainConfig:
    """Settings of one music training run (notebook 04); `music` holds the model's features/sizes.

    music_dir: folder of songs (any format load_audio reads); None: use the existing dataset in
    dataset_dir as it is. songs_limit keeps the first N songs (name order; 0: all; with
    music_dir, only those are decoded) and max_seconds the first seconds of each (0: whole
    songs), as the profiles' music_limit and music_seconds ask. free_run_steps > 0 adds a
    free-running validation loss over that many generated blocks. clipnorm (None: the
    report's plain RMSprop) clips each gradient's norm.
    """

    out_dir: str
    music_dir: str = None
    dataset_dir: str = None
    music: MusicConfig = dataclasses.field(default_factory=MusicConfig)
    epochs: int = 10
    batch_size: int = 8
    learning_rate: float = 1e-3
    checkpoint_every: int = 500
    val_fraction: float = 0.2
    seed: int = 0
    songs_limit: int = 0
    max_seconds: float = 0.0
    free_run_steps: int = 0
    clipnorm: float = None
    n_seeds: int = 4
    weights_dtype: str = "float32"

    def __post_init__(self):
        if isinstance(self.music, dict):
            self.music = MusicConfig.from_dict(self.music)
        for name in ("epochs", "batch_size", "checkpoint_every"):
            value = getattr(self, name)
            if int(value) < (0 if name == "epochs" else 1):
                raise ValueError(f"TrainConfig.{name} must be positive, got {value!r}")

    def to_dict(self):
        """A JSON-ready dict."""
        d = dataclasses.asdict(self)
        d["music"] = self.music.to_dict()
        return d


@dataclasses.dataclass
class DataPlan:
    """The data of a run: songs, held-out songs, scaler and sequence indexes; notebook 04."""

    dataset_dir: Path
    source: object                # _SongSource: per-song feature arrays
    train_songs: list
    val_songs: list
    scaler: fft_blocks.Scaler
    feature_std: np.ndarray       # per-feature std of the normalised training features
    train_index: np.ndarray       # int64 rows (song number in train_songs, first step)
    val_index: np.ndarray         # the same for val_songs


@dataclasses.dataclass
class TrainResult(training.TrainResult):
    """What `train` returns: training.TrainResult, with the data plan and the exported bundle."""

    plan: DataPlan
    bundle_dir: Path = None


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------

class _SongSource:
    """Model features of each song of a dataset (memory maps; ola features cached on disk)."""

    def __init__(self, dataset_dir, manifest, config, cache_dir, max_steps=0):
        self.dataset_dir = Path(dataset_dir)
        self.manifest = manifest
        self.config = config
        self.cache_dir = Path(cache_dir)
        self.max_steps = int(max_steps)
        self._arrays = {}

    def n_steps(self, name):
        """Model steps of a song without reading it."""
        n = self.manifest["songs"][name]["n_blocks"]
        if self.config.framing == "ola":
            n += self.config.block_size // self.config.hop - 1
        return min(n, self.max_steps) if self.max_steps else n

    def features(self, name):
        """(n_steps, n_features) raw float32 features of a song (read-only)."""
        if name not in self._arrays:
            blocks = music_data.load_song_blocks(self.dataset_dir, name)
            if self.config.framing == "ola":
                blocks = self._ola_features(name, blocks)
            self._arrays[name] = blocks[:self.max_steps] if self.max_steps else blocks
        return self._arrays[name]

    def _ola_features(self, name, blocks):
        cfg = self.config
        stem = Path(self.manifest["songs"][name]["shard"]).stem
        path = self.cache_dir / f"{stem}.ola{cfg.block_size}-{cfg.kind}.npy"
        if not path.is_file():
            kind = self.manifest["settings"]["kind"]
            signal = fft_blocks.from_fft_blocks(blocks, kind, block_size=cfg.hop)
            with atomic_path(path) as tmp:
                with open(tmp, "wb") as f:
                    np.save(f, music.audio_to_features(signal, cfg))
        return np.load(path, mmap_mode="r", allow_pickle=False)


def _index(source, names, seq_len, extra=1):
    """int64 rows (song number, first step) of windows of seq_len + extra steps inside one song."""
    rows = [np.stack([np.full(n - seq_len - extra + 1, i), np.arange(n - seq_len - extra + 1)],
                     axis=1)
            for i, n in enumerate(source.n_steps(name) for name in names)
            if n >= seq_len + extra]
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 2), np.int64)


def _batch_starts(n, batch_size, min_last=1):
    """First positions of the batches of n items; a last batch under min_last joins the one before.

    min_last is the number of replicas: no replica of a tf.distribute strategy gets an empty batch.
    """
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] < min_last:
        starts.pop()
    return starts + [n]


def _window_batches(source, names, index, order, batch_size, length, scaler, role="train",
                    min_last=1):
    """Yield normalised float32 windows (batch, length, features) in the given order."""
    starts = _batch_starts(len(order), batch_size, min_last)
    for first, stop in zip(starts[:-1], starts[1:]):
        rows = index[order[first:stop]]
        windows = np.stack([source.features(names[s])[start:start + length] for s, start in rows])
        yield scaler.transform(windows)


def epoch_order(n, seed, epoch):
    """The shuffled order of epoch `epoch` (1-based): a function of (seed, epoch) alone."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


def _train_stats(source, names, chunk=256):
    """BlockStats of the training songs' raw features, summed in float64."""
    stats = None
    for name in names:
        feats = source.features(name)
        for first in range(0, feats.shape[0], chunk):
            part = fft_blocks.BlockStats.of(feats[first:first + chunk])
            stats = part if stats is None else stats + part
    return stats


def _feature_std(stats, scaler):
    """Per-feature std of the normalised training features (for generation's noise)."""
    mean = stats.total / stats.n
    std = np.sqrt(np.maximum(stats.total_sq / stats.n - mean * mean, 0.0))
    scale = scaler.scale if scaler.method == "global" else scaler.std
    return (std / scale).astype(np.float32)


def _build_dataset(config, out, progress):
    """Build or update the on-disk dataset; return its folder."""
    cfg = config.music
    ds_dir = Path(config.dataset_dir) if config.dataset_dir else out / "dataset"
    if config.music_dir is not None:
        music_data.build_dataset(config.music_dir, ds_dir, block_size=cfg.dataset_block_size,
                                 kind=cfg.kind, seq_len=cfg.seq_len, sr=cfg.sr,
                                 limit=int(config.songs_limit or 0), progress=progress,
                                 verbose=progress)
    settings = music_data.load_manifest(ds_dir)["settings"]
    wanted = {"sr": cfg.sr, "block_size": cfg.dataset_block_size}
    if any(settings.get(k) != v for k, v in wanted.items()):
        raise ValueError(f"{ds_dir}: dataset made with {settings}, but the model needs "
                         f"{wanted}; give music_dir to rebuild it or another dataset_dir")
    if cfg.framing == "blocks" and settings.get("kind") != cfg.kind:
        raise ValueError(f"{ds_dir}: dataset features are {settings.get('kind')!r}, the model "
                         f"needs {cfg.kind!r}")
    return ds_dir


def prepare_data(config, out_dir=None, split=None, scaler=None, progress=False):
    """Dataset, song split, scaler (training songs only) and sequence indexes; notebook 04.

    `split` (train, val) and `scaler` override the computed ones (used when resuming).
    """
    cfg = config.music
    out = Path(out_dir or config.out_dir)
    ds_dir = _build_dataset(config, out, progress)
    manifest = music_data.load_manifest(ds_dir)
    max_steps = 0
    if config.max_seconds:
        max_steps = max(cfg.seq_len + 1, math.ceil(config.max_seconds * cfg.sr / cfg.hop))
    source = _SongSource(ds_dir, manifest, cfg, out / FEATURES, max_steps)
    if split is None:
        names = sorted(manifest["songs"])
        if config.songs_limit:
            names = names[:int(config.songs_limit)]
        short = [n for n in names if source.n_steps(n) < cfg.seq_len + 1]
        if short:
            warnings.warn(f"{len(short)} songs are shorter than the seq_len + 1 = "
                          f"{cfg.seq_len + 1} steps of one sequence and are left out: "
                          f"{', '.join(short[:5])}", UserWarning, stacklevel=2)
        usable = {"songs": {n: manifest["songs"][n] for n in names if n not in short}}
        if not usable["songs"]:
            raise ValueError(f"{ds_dir}: no song is long enough for one sequence of "
                             f"{cfg.seq_len + 1} steps of {cfg.step_seconds:g} s")
        val_fraction = config.val_fraction if len(usable["songs"]) > 1 else 0.0
        if config.val_fraction and not val_fraction:
            warnings.warn("only one usable song: no validation songs", UserWarning, stacklevel=2)
        train_songs, val_songs = music_data.split_songs(usable, val_fraction, config.seed)
    else:
        train_songs, val_songs = list(split[0]), list(split[1])
        missing = [n for n in train_songs + val_songs if n not in manifest["songs"]]
        if missing:
            raise ValueError(f"{ds_dir}: songs of the checkpoint's split are gone from the "
                             f"dataset: {', '.join(missing[:5])}; train in a new out_dir")
    stats = _train_stats(source, train_songs)
    if scaler is None:
        scaler = fft_blocks.scaler_from_stats(stats, cfg.normalise)
    return DataPlan(ds_dir, source, train_songs, val_songs, scaler, _feature_std(stats, scaler),
                    _index(source, train_songs, cfg.seq_len),
                    _index(source, val_songs, cfg.seq_len))


def _dataset(batches, seq_len, features):
    """tf.data.Dataset of (x, y) from a generator function of windows of `length` steps."""
    import tensorflow as tf

    def pairs():
        for w in batches():
            yield w[:, :seq_len], w[:, 1:seq_len + 1]

    spec = tf.TensorSpec((None, seq_len, features), tf.float32)
    return tf.data.Dataset.from_generator(pairs, output_signature=(spec, spec)).prefetch(2)


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------

def _meta(config, plan):
    s = plan.scaler
    return {"music": config.music.to_dict(), "train_songs": plan.train_songs,
            "val_songs": plan.val_songs, "scaler": {"method": s.method, "scale": float(s.scale)},
            "seed": int(config.seed)}


def _checkpoint(model, optimizer, epoch, history, meta, scaler):
    """The training state as a training.Checkpoint; NaN or inf weights are refused."""
    weights = [np.asarray(v) for v in model.variables]
    if not all(np.all(np.isfinite(a)) for a in weights if a.dtype.kind == "f"):
        raise FloatingPointError("the model's weights hold NaN or inf; no checkpoint written")
    extra = ({"scaler_mean": scaler.mean, "scaler_std": scaler.std}
             if scaler.method == "per_bin" else {})
    return training.Checkpoint(weights, [np.asarray(v) for v in optimizer.variables], epoch,
                               history, {"meta": meta}, extra)


def save_checkpoint(path, model, optimizer, epoch, history, meta, scaler):
    """Write a checkpoint whole or not at all (no pickles, no NaN weights); notebook 04."""
    return training.save_checkpoint(
        path, _checkpoint(model, optimizer, epoch, history, meta, scaler), "epoch")


def read_checkpoint(path):
    """(training.Checkpoint, epoch, history, meta, scaler) of a checkpoint file; notebook 04."""
    ckpt = training.read_checkpoint(path, "epoch", notes=("meta",))
    if "meta" not in ckpt.notes:
        raise training.unusable(path, "not a music training checkpoint: it has no 'meta'")
    s = ckpt.notes["meta"]["scaler"]
    scaler = fft_blocks.Scaler(s["method"], scale=s["scale"], mean=ckpt.arrays.get("scaler_mean"),
                          std=ckpt.arrays.get("scaler_std"))
    return ckpt, ckpt.count, ckpt.history, ckpt.notes["meta"], scaler


def _restore(path, ckpt, model, optimizer):
    """Give the model and optimiser the checkpoint's variables, or CheckpointError."""
    if len(ckpt.weights) != len(model.variables):
        raise training.unusable(path, f"it holds {len(ckpt.weights)} model arrays, expected "
                                      f"{len(model.variables)}")
    for i, (var, value) in enumerate(zip(model.variables, ckpt.weights)):
        if tuple(var.shape) != value.shape:
            raise training.unusable(path, f"model array {i} has shape {value.shape}, expected "
                                          f"{tuple(var.shape)}")
        var.assign(value)
    training.restore_optimizer(path, optimizer, model.trainable_variables, ckpt.optimizer)


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------

def _build(config, strategy):
    """Model and RMSprop optimiser, created inside the strategy's scope."""
    import keras
    keras.utils.set_random_seed(config.seed)   # the same seed gives the same initial network
    with strategy.scope():
        model = music.build_model(config.music, compile=False)
        optimizer = keras.optimizers.RMSprop(learning_rate=config.learning_rate,
                                             clipnorm=config.clipnorm)
        optimizer.build(model.trainable_variables)
    return model, optimizer


def _steps(model, optimizer, strategy):
    """Compiled distributed train and evaluation steps returning (sum of squares, count)."""
    import tensorflow as tf

    sum_ = tf.distribute.ReduceOp.SUM

    def sse(x, y, training):
        pred = tf.cast(model(x, training=training), tf.float32)
        return tf.reduce_sum(tf.square(pred - y)), tf.cast(tf.size(y), tf.float32)

    def replica_train(x, y):
        with tf.GradientTape() as tape:
            err, count = sse(x, y, True)
            total = tf.distribute.get_replica_context().all_reduce(sum_, count)
            loss = err / tf.maximum(total, 1.0)          # replicas' gradients are summed
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return err, count

    def replica_eval(x, y):
        return sse(x, y, False)

    def run(fn):
        @tf.function
        def step(x, y):
            err, count = strategy.run(fn, args=(x, y))
            return strategy.reduce(sum_, err, axis=None), strategy.reduce(sum_, count, axis=None)
        return step

    @tf.function
    def predict(x):
        return model(x, training=False)

    return run(replica_train), run(replica_eval), predict


def _mean_loss(step, dataset, strategy):
    err = count = 0.0
    for x, y in strategy.experimental_distribute_dataset(dataset):
        e, c = step(x, y)
        err, count = err + float(e), count + float(c)
    return err / count if count else None


def _free_running_loss(predict, plan, seq_len, steps, windows=8):
    """MSE of `steps` blocks generated from true seeds of held-out songs (fed back, no noise)."""
    index = _index(plan.source, plan.val_songs, seq_len, extra=steps)
    if not len(index):
        return None
    rows = np.linspace(0, len(index) - 1, min(windows, len(index))).round().astype(int)
    w = next(_window_batches(plan.source, plan.val_songs, index, rows, len(rows),
                             seq_len + steps, plan.scaler, role="val"))
    x, preds = w[:, :seq_len], []
    for _ in range(steps):
        nxt = np.asarray(predict(x))[:, -1:]
        preds.append(nxt)
        x = np.concatenate([x[:, 1:], nxt], axis=1)
    return float(np.mean(np.square(np.concatenate(preds, axis=1) - w[:, seq_len:])))


def _guard(value, what, epoch, ckpt, last_good):
    if value is not None and not np.isfinite(value):
        where = (f"the last good checkpoint is {ckpt} (epoch {last_good})" if last_good
                 else "no checkpoint had been written yet")
        raise FloatingPointError(
            f"training stopped: the {what} became {value} in epoch {epoch}; nothing was saved "
            f"from this epoch and {where}. Lower the learning rate or set clipnorm, then run "
            f"again (it resumes from the checkpoint)")


def train(config, strategy=None, progress=True, on_checkpoint=None, on_epoch=None):
    """Train (or resume training) a music model; notebook 04.

    Resumes from out_dir/checkpoint.npz when present (weights, optimiser state, epoch, history,
    song split and scaler; the data order of each epoch depends on (seed, epoch) only), so an
    interrupted run ends with the weights of an uninterrupted one. `on_checkpoint(epoch,
    history)` is called after each checkpoint, `on_epoch(epoch, history)` after each epoch.
    After the first few steps it prints an estimate of the whole run (profiles.estimate).
    """
    strategy = training.distribution(strategy)
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / CHECKPOINT
    history = {k: [] for k in HISTORY_KEYS}
    start, saved = 0, _saved_run(ckpt, config.music)
    plan = prepare_data(config, out, split=None if saved is None else
                        (saved[3]["train_songs"], saved[3]["val_songs"]),
                        scaler=None if saved is None else saved[4], progress=progress)
    model, optimizer = _build(config, strategy)
    if saved is not None:
        state, start, history, _, _ = saved
        _restore(ckpt, state, model, optimizer)
        optimizer.learning_rate = config.learning_rate   # a new rate may be given on resume
        print(f"resuming from {ckpt} at epoch {start} of {config.epochs}")
    meta = _meta(config, plan)
    if not len(plan.train_index):
        raise ValueError("no training sequence (see the warnings about short songs)")
    _fit(config, strategy, model, optimizer, plan, meta, start, history, progress,
         on_checkpoint, on_epoch)
    result = TrainResult(model, history, out, start, plan)
    if config.epochs > start or not (out / BUNDLE / music.BUNDLE_JSON).is_file():
        result.bundle_dir = export_bundle(result, config)
    else:
        result.bundle_dir = out / BUNDLE
    return result


def _saved_run(ckpt, cfg):
    """The checkpoint of an earlier run at `ckpt` (read_checkpoint's tuple), or None if none."""
    if not ckpt.exists():
        return None
    saved = read_checkpoint(ckpt)
    if saved[3]["music"] != cfg.to_dict():
        raise ValueError(f"{ckpt}: made for the model {saved[3]['music']}, not "
                         f"{cfg.to_dict()}; train it in another out_dir")
    return saved


def _fit(config, strategy, model, optimizer, plan, meta, start, history, progress, on_checkpoint,
         on_epoch):
    """Train epochs start + 1 to config.epochs, appending to `history` and checkpointing."""
    from tqdm.auto import tqdm

    out, cfg = Path(config.out_dir), config.music
    ckpt, last_good = out / CHECKPOINT, start
    train_step, eval_step, predict = _steps(model, optimizer, strategy)
    features, seq_len, bs = cfg.n_features, cfg.seq_len, int(config.batch_size)
    replicas = strategy.num_replicas_in_sync
    if bs < replicas:
        raise ValueError(f"batch_size {bs} is smaller than the {replicas} replicas of the "
                         f"strategy; each replica needs at least one sequence")
    val_ds = _val_dataset(plan, bs, seq_len, features, replicas)
    n_batches = len(_batch_starts(len(plan.train_index), bs, replicas)) - 1
    bar = tqdm(total=config.epochs * n_batches, initial=min(start, config.epochs) * n_batches,
               desc="training", unit="step", disable=not progress)
    try:
        for epoch in range(start + 1, config.epochs + 1):
            t0 = time.perf_counter()
            order = epoch_order(len(plan.train_index), config.seed, epoch)
            ds = _dataset(lambda order=order: _window_batches(
                plan.source, plan.train_songs, plan.train_index, order, bs, seq_len + 1,
                plan.scaler, min_last=replicas), seq_len, features)
            err, count = _train_batches(strategy, ds, train_step, bar, epoch, ckpt, last_good,
                                        (t0, n_batches, config.epochs - start)
                                        if epoch == start + 1 else None)
            val, free = _validate(eval_step, val_ds, strategy, predict, plan, config, epoch, ckpt,
                                  last_good)
            for key, value in zip(HISTORY_KEYS, (epoch, err / count, val, free,
                                                 time.perf_counter() - t0)):
                history[key].append(value)
            if val is not None:
                bar.set_postfix(epoch=epoch, loss=f"{err / count:.4g}", val=f"{val:.4g}",
                                refresh=False)
            if epoch % config.checkpoint_every == 0 or epoch == config.epochs:
                _write_checkpoint(out, model, optimizer, epoch, history, meta, plan.scaler)
                last_good = epoch
                if on_checkpoint is not None:
                    on_checkpoint(epoch, history)
            if on_epoch is not None:
                on_epoch(epoch, history)
    finally:
        bar.close()


def _val_dataset(plan, bs, seq_len, features, replicas):
    """The tf.data dataset of the validation windows, or None without validation songs."""
    if not len(plan.val_index):
        return None
    return _dataset(lambda: _window_batches(
        plan.source, plan.val_songs, plan.val_index, np.arange(len(plan.val_index)), bs,
        seq_len + 1, plan.scaler, role="val", min_last=replicas), seq_len, features)


def _train_batches(strategy, ds, train_step, bar, epoch, ckpt, last_good, estimate_from=None):
    """One epoch's training steps: (summed loss, count); `estimate_from`: (t0, batches, epochs).

    With `estimate_from` (the first epoch of this call), the end times of the first steps give
    an estimate of the whole run, printed once.
    """
    from tqdm.auto import tqdm

    err = count = 0.0
    marks = []          # end times of this call's first steps, for the estimate
    for x, y in strategy.experimental_distribute_dataset(ds):
        e, c = train_step(x, y)
        e, c = float(e), float(c)
        _guard(e, "training loss", epoch, ckpt, last_good)
        err, count = err + e, count + c
        bar.update(1)
        bar.set_postfix(epoch=epoch, loss=f"{err / count:.4g}", refresh=False)
        if estimate_from is not None and len(marks) < 3:
            marks.append(time.perf_counter())
            if len(marks) == min(3, estimate_from[1]):
                tqdm.write(_estimate(marks, *estimate_from))
    return err, count


def _validate(eval_step, val_ds, strategy, predict, plan, config, epoch, ckpt, last_good):
    """(validation loss, free-running validation loss) after an epoch; None where not measured."""
    val = _mean_loss(eval_step, val_ds, strategy) if val_ds is not None else None
    _guard(val, "validation loss", epoch, ckpt, last_good)
    free = (_free_running_loss(predict, plan, config.music.seq_len, config.free_run_steps)
            if config.free_run_steps and plan.val_songs else None)
    _guard(free, "free-running validation loss", epoch, ckpt, last_good)
    return val, free


def _estimate(marks, t0, n_batches, epochs):
    """The run's estimate from the end times of its first steps (the first compiles: apart)."""
    seconds = list(np.diff([t0] + marks))
    return training.estimate_from_first_steps(
        seconds, epochs * n_batches, "step",
        note=f" of {epochs} epochs of {n_batches} steps; validation adds to it")


def _write_checkpoint(out, model, optimizer, epoch, history, meta, scaler):
    """Checkpoint, history.json and loss_curve.png, each written whole or not at all."""
    training.write_progress(out, _checkpoint(model, optimizer, epoch, history, meta, scaler),
                            "epoch", plot_curve)


def seed_sequences(plan, seq_len, n=4):
    """Up to n normalised training sequences (k, seq_len, features), one per song in turn."""
    picks, by_song = [], {}
    for row in plan.train_index:
        by_song.setdefault(int(row[0]), []).append(int(row[1]))
    songs = sorted(by_song)
    for i in range(min(n, len(plan.train_index))):
        song = songs[i % len(songs)]
        starts = by_song[song]
        picks.append((song, starts[(i // len(songs)) * seq_len % len(starts)]))
    rows = np.asarray(picks, np.int64)
    seeds = next(_window_batches(plan.source, plan.train_songs, rows, np.arange(len(rows)),
                                 len(rows), seq_len, plan.scaler))
    return seeds, [{"song": plan.train_songs[s], "step": st} for s, st in picks]


def export_bundle(result, config, directory=None):
    """Save the trained model as a bundle (out_dir/bundle by default); notebook 04."""
    plan, h = result.plan, result.history
    seeds, where = seed_sequences(plan, config.music.seq_len, config.n_seeds)
    last = {k: (h[k][-1] if h[k] else None) for k in ("epoch", "train", "val", "val_free")}
    info = {"epochs": last["epoch"], "train_loss": last["train"], "val_loss": last["val"],
            "val_free_loss": last["val_free"], "train_songs": plan.train_songs,
            "val_songs": plan.val_songs, "seeds": where, "train_config": config.to_dict()}
    return music.save_bundle(directory or Path(config.out_dir) / BUNDLE, result.model,
                             config.music, plan.scaler, seeds, info,
                             feature_std=plan.feature_std, weights_dtype=config.weights_dtype,
                             overwrite=True)


def plot_curve(history, ax):
    """Training and validation losses per epoch (log scale) on `ax`; notebook 04."""
    labels = {"train": "training (teacher forced)", "val": "held-out songs (teacher forced)",
              "val_free": "held-out songs (free running)"}
    for key, label in labels.items():
        pts = [(e, v) for e, v in zip(history["epoch"], history[key]) if v is not None]
        if pts:
            ax.plot(*zip(*pts), label=label, marker="." if len(pts) < 30 else None)
    if any(v for v in history["train"]):
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean squared error")
    ax.set_title("music model")
    ax.legend()


def save_loss_curve(history, path):
    """Training and validation losses per epoch (log scale) as a PNG, written atomically."""
    return training.save_curve(history, path, plot_curve)
