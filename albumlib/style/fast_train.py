"""Training a fast style-transfer network, one per painting (taught in notebook 02).

The TensorFlow-specific parts of training live here: the tf.distribute strategy (MirroredStrategy
spreads a batch over several GPUs unchanged), the GradientTape step, mixed precision. The model and
its loss are keras code in albumlib.style.fast_style; the input pipeline is tf.data in albumlib.style.image_data.

Checkpoints are one .npz file (model weights, optimiser state, step, loss history), written to a
temporary file and renamed, so a crash never leaves a half-written checkpoint; `train` resumes from
it (step, optimiser state and data position) and says so.
"""

import contextlib
import dataclasses
import time
from pathlib import Path

import numpy as np

from albumlib import training

CHECKPOINT = training.CHECKPOINT
HISTORY = training.HISTORY
HISTORY_KEYS = ("step", "total", "content", "style", "tv", "seconds")


@dataclasses.dataclass
class TrainConfig:
    """Settings of one training run; unset sizes come from the active profile (notebook 02)."""

    style: object                     # bundled style name or image path; a list: one network
                                      # for all of them (conditional instance norm)
    data_dir: str                     # folder of training photos (COCO train2014, or any photos)
    out_dir: str                      # checkpoints, history, exported model
    steps: int = 1000                 # optimisation steps (batches)
    crop: int = 256
    batch_size: int = 4
    learning_rate: float = 1e-3
    checkpoint_every: int = 200
    seed: int = 0
    upsample: str = "resize"
    filters: tuple = (32, 64, 128)   # transform network widths (smaller for tests and smoke runs)
    residual_blocks: int = 5
    outer_kernel: int = 9             # first and last convolutions (3: cheaper, see RESULTS.md)
    mixed_precision: bool = False     # the same as precision="float16" (kept for old scripts)
    precision: str = "float32"        # float32, bfloat16, float16 (mixed: float32 weights), or
                                      # auto: the faster on this machine (fastest_precision)
    scale: tuple = (1.0, 1.0)         # random rescale range before cropping (augmentation)
    style_size: int = 256             # long side of the style image for its Gram matrices
    loss_weights: dict = None         # {"content": .., "style": .., "tv": ..}; None: defaults
    weights: str = "auto"             # VGG19 weights
    style_weights: tuple = None       # multi-style: one style weight per style (None: loss_weights')
    style_layer_weights: object = None  # per style layer (None: 1/L each), or per style and
                                      # layer (multi-style; balanced_layer_weights)
    base: str = None                  # a multi-style network: learn only the new style's
                                      # (gamma, beta) on top of its frozen convolutions
    base_style: str = None            # with base: start from this style's (gamma, beta), not
                                      # from the mean of the base's styles

    @property
    def styles(self):
        """The styles of a conditional-norm run (several, or one on a base), None otherwise."""
        if isinstance(self.style, (list, tuple)):
            return list(self.style)
        return [self.style] if self.base else None


TrainResult = training.TrainResult


CheckpointError = training.CheckpointError


def network_settings(config):
    """The settings that shape the network (a checkpoint resumes only with the same ones)."""
    settings = {"filters": list(config.filters), "residual_blocks": int(config.residual_blocks),
                "upsample": config.upsample}
    if int(config.outer_kernel) != 9:
        settings["outer_kernel"] = int(config.outer_kernel)
    if config.styles is not None:
        settings["n_styles"] = len(config.styles)
    if config.base:
        settings["base"] = Path(config.base).name
    return settings


def _settings_text(settings):
    """Network settings as the train-style options that select them."""
    text = (f"--filters {' '.join(map(str, settings['filters']))} --residual-blocks "
            f"{settings['residual_blocks']} --upsample {settings['upsample']}")
    if settings.get("outer_kernel", 9) != 9:
        text += f" --outer-kernel {settings['outer_kernel']}"
    return text + (f" and {settings['n_styles']} styles" if settings.get("n_styles") else "")


def _checkpoint(model, optimizer, step, history, config=None):
    """The training state as a training.Checkpoint (the network's settings as a note)."""
    notes = {} if config is None else {"network": network_settings(config)}
    opt = [np.asarray(v.numpy() if hasattr(v, "numpy") else v) for v in optimizer.variables]
    return training.Checkpoint(model.get_weights(), opt, step, history, notes)


def save_checkpoint(path, model, optimizer, step, history, config=None):
    """Write a checkpoint whole or not at all (temporary file, then rename); notebook 02."""
    return training.save_checkpoint(path, _checkpoint(model, optimizer, step, history, config))


def _read_checkpoint(path, config=None):
    """The training.Checkpoint in `path`, or CheckpointError (damaged, or another network)."""
    ckpt = training.read_checkpoint(path, "step", notes=("network",))
    saved = ckpt.notes.get("network")
    if saved is not None and config is not None and saved != network_settings(config):
        raise CheckpointError(
            f"{path}: this checkpoint was written for another network ({_settings_text(saved)}); "
            f"pass those settings to resume it, or delete it to start afresh with "
            f"{_settings_text(network_settings(config))}")
    return ckpt


def check_checkpoint(path, config=None):
    """Raise CheckpointError now if `path` exists but cannot be resumed (before slow set-up)."""
    if Path(path).exists():
        _read_checkpoint(Path(path), config)


def load_checkpoint(path, model, optimizer, config=None):
    """Restore model weights and optimiser state; returns (step, history); notebook 02.

    Raises CheckpointError (naming the file and what to do) for a damaged file or one written
    for another network; nothing is changed on disk.
    """
    path = Path(path)
    ckpt = _read_checkpoint(path, config)
    try:
        model.set_weights(ckpt.weights)
    except ValueError as err:
        raise training.unusable(path, f"its weights do not fit this network - {err}") from err
    training.restore_optimizer(path, optimizer, model.trainable_variables, ckpt.optimizer)
    return ckpt.count, ckpt.history


def _build(config, strategy):
    """Model, optimiser and perceptual loss, created inside the strategy's scope."""
    import keras
    from albumlib.style import fast_style

    multi = config.styles
    precision = resolve_precision(config)
    keras.utils.set_random_seed(config.seed)   # the same seed gives the same initial network
    weights = {f"{term}_weight": value for term, value in (config.loss_weights or {}).items()}
    if config.style_layer_weights is not None:
        weights["style_layer_weights"] = config.style_layer_weights
    with strategy.scope():
        # the transform net and the VGG19 loss compute in the chosen precision, weights stay float32
        with precision_scope(precision):
            model = fast_style.build_transform_net(
                upsample=config.upsample, filters=config.filters,
                residual_blocks=config.residual_blocks, outer_kernel=config.outer_kernel,
                n_styles=None if multi is None else len(multi))
            if config.base:
                start_from_base(model, config.base, config.base_style)
            if multi is None:
                loss_fn = fast_style.PerceptualLoss(style_array(config.style, config.style_size),
                                                    weights=config.weights, **weights)
            else:
                loss_fn = fast_style.MultiStylePerceptualLoss(
                    [style_array(s, config.style_size) for s in multi],
                    style_weights=config.style_weights, weights=config.weights, **weights)
        optimizer = keras.optimizers.Adam(learning_rate=config.learning_rate)
        if precision == "float16":      # float16 gradients underflow without loss scaling
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        optimizer.build(model.trainable_variables)
    return model, optimizer, loss_fn


POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}


@contextlib.contextmanager
def precision_scope(precision):
    """Keras layers built inside compute in `precision` (POLICIES: float32 weights); the global
    dtype policy is restored afterwards, whatever happens (notebook 02)."""
    import keras
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(POLICIES[precision])
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


_FASTEST = {}


def resolve_precision(config):
    """The precision a run computes in: the config's, `auto` measured (notebook 02)."""
    precision = "float16" if config.mixed_precision else config.precision
    if precision == "auto":
        precision = fastest_precision()
    if precision not in POLICIES:
        raise ValueError(f"precision must be auto, {', '.join(POLICIES)}; got {precision!r}")
    return precision


def fastest_precision():
    """float16 on a GPU; on a CPU bfloat16 where it convolves at least 1.3x faster than float32
    (CPUs with AMX or AVX512-BF16 do, by 2-4x on the training step), else float32 (nb 02)."""
    import tensorflow as tf
    if "cpu" not in _FASTEST:
        if tf.config.list_physical_devices("GPU"):
            _FASTEST["cpu"] = "float16"
        else:
            x = tf.random.uniform((4, 64, 64, 64))
            k = tf.random.uniform((3, 3, 64, 64))
            seconds = {}
            for dtype in (tf.float32, tf.bfloat16):
                xs, ks = tf.cast(x, dtype), tf.cast(k, dtype)
                conv = tf.function(lambda a, b: tf.nn.conv2d(a, b, 1, "SAME"))
                conv(xs, ks)
                times = []
                for _ in range(7):
                    t0 = time.perf_counter()
                    conv(xs, ks).numpy()
                    times.append(time.perf_counter() - t0)
                seconds[dtype.name] = float(np.median(times))
            _FASTEST["cpu"] = "bfloat16" if seconds["bfloat16"] * 1.3 <= seconds["float32"] \
                else "float32"
    return _FASTEST["cpu"]


def style_array(style, size):
    """A style as RGB: an array as given, a name or path loaded at long side `size` (nb 02)."""
    from albumlib.style import styles
    return style if isinstance(style, np.ndarray) else styles.load_style(style, max_side=size)


def balanced_layer_weights(config, photos=8):
    """Style layer weights under which every layer adds alike on the first `photos` training
    photos: a row per style of a conditional-norm run, else one row (notebook 02)."""
    from albumlib import images
    from albumlib.style import fast_style, image_data
    files = image_data.list_files(config.data_dir)[:photos]
    if not files:
        raise ValueError(f"{config.data_dir}: no photos to balance the style layers on")
    batch = np.stack([images.resize_to(images.load_image(f, max_side=config.crop),
                                       config.crop, config.crop) for f in files])
    loss = fast_style.MultiStylePerceptualLoss(
        [style_array(s, config.style_size) for s in (config.styles or [config.style])],
        weights=config.weights)
    table = fast_style.balanced_layer_weights(loss.style_distances(batch))
    return table if config.styles is not None else table[0]


def base_architecture(base):
    """The transform net settings of a multi-style network a new style is learnt on (notebook 02)."""
    from albumlib.style import fast_style, style_nets
    model = style_nets.load(base)
    config = fast_style.transform_net_config(model)
    if config.get("n_styles") is None:
        raise ValueError(f"{base}: a one-style network; a new style is learnt on a multi-style one "
                         f"(trained with several --style)")
    return config


def start_from_base(model, base, start_style=None):
    """Copy a multi-style network's layers into the one-style `model` and freeze them; its
    (gamma, beta) start at the mean of the base's styles (or at `start_style`'s) and alone are
    trained (notebook 02)."""
    from albumlib.style import fast_style, style_nets
    row = None
    if start_style is not None:
        names = style_nets.style_names(base)
        if start_style not in names:
            raise ValueError(f"{base}: has no style {start_style!r} to start from "
                             f"(it has {', '.join(names)})")
        row = names.index(start_style)
    def pick(rows):                     # the (1, C) starting row of a (n_styles, C) table
        return np.mean(rows, axis=0, keepdims=True) if row is None else rows[row:row + 1]

    source = {layer.name: layer for layer in style_nets.load(base).layers}
    for layer in model.layers:
        weights = source[layer.name].get_weights() if layer.name in source else []
        if isinstance(layer, fast_style.ConditionalInstanceNormalization):
            layer.scale.assign(pick(weights[0]))
            layer.offset.assign(pick(weights[1]))
        else:
            if weights:
                layer.set_weights(weights)
            layer.trainable = False


def style_of_step(config, step):
    """The style a multi-style run trains at `step`: each style once per round of N steps, in a
    seeded order (so a resumed run trains the same styles as an uninterrupted one)."""
    n = len(config.styles)
    rng = np.random.default_rng([int(config.seed) & 0xFFFFFFFF, (step - 1) // n])
    return int(rng.permutation(n)[(step - 1) % n])


def train_step(model, optimizer, loss_fn, batch, style_index=0, n_styles=None, replicas=1):
    """One step: forward, perceptual loss, gradients, optimizer update (taught in notebook 02)."""
    import tensorflow as tf                 # (imported here: the command line starts without it)
    with tf.GradientTape() as tape:         # records the forward pass, to differentiate it
        if n_styles is None:                # a one-style network takes the photos alone
            stylized = tf.cast(model(batch, training=True), tf.float32)
            terms = loss_fn(batch, stylized)
        else:                               # every photo of the batch in style `style_index`
            one_hot = tf.one_hot(tf.fill([tf.shape(batch)[0]], style_index), n_styles)
            stylized = tf.cast(model([batch, one_hot], training=True), tf.float32)
            terms = loss_fn(batch, stylized, style_index)
        loss = optimizer.scale_loss(terms["total"] / replicas)   # (float16 scaling; replicas)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return terms


def _train_step(model, optimizer, loss_fn, strategy, mixed=False, n_styles=None):
    """A compiled distributed step: (batch, style index) -> mean loss terms over the replicas.

    Each replica runs `train_step` on its share of the batch; the replicas' gradients are summed,
    so each divides its loss by their number. `mixed` (float16) needs no code here: the
    LossScaleOptimizer that _build makes scales the loss in `optimizer.scale_loss` (for other
    optimizers it is the loss unchanged); the argument stays for callers such as the benchmarks.
    """
    import tensorflow as tf
    replicas = strategy.num_replicas_in_sync

    def replica_step(batch, style_index):
        return train_step(model, optimizer, loss_fn, batch, style_index, n_styles, replicas)

    @tf.function
    def step(batch, style_index):
        per_replica = strategy.run(replica_step, args=(batch, style_index))
        return {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None)
                for k, v in per_replica.items()}

    return step


def train(config, strategy=None, progress=True, on_checkpoint=None):
    """Train (or resume training) a transform network for one style; notebook 02.

    Resumes from out_dir/checkpoint.npz when present: step count, optimiser state and the data
    position (the pipeline skips the batches already seen). Writes the checkpoint every
    `checkpoint_every` steps and at the end, with history.json and loss_curve.png beside it.
    `on_checkpoint(step, history)` is called after each checkpoint (live plots). After the first
    few steps it prints an estimate of the whole run (profiles.estimate), timed on them.
    """
    import tensorflow as tf
    from tqdm.auto import tqdm

    strategy = training.distribution(strategy)
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    check_checkpoint(out / CHECKPOINT, config)     # a damaged one is said before the slow set-up
    model, optimizer, loss_fn = _build(config, strategy)
    history = {k: [] for k in HISTORY_KEYS}
    start_step = 0
    ckpt = out / CHECKPOINT
    if ckpt.exists():
        start_step, history = load_checkpoint(ckpt, model, optimizer, config)
        print(f"resuming from {ckpt} at step {start_step} of {config.steps}")
    if start_step >= config.steps:
        return TrainResult(model, history, out, start_step)

    batches = _distributed_batches(config, strategy, start_step)
    multi = config.styles
    step_fn = _train_step(model, optimizer, loss_fn, strategy,
                          resolve_precision(config) == "float16",
                          None if multi is None else len(multi))
    if multi is not None:
        history.setdefault("style_index", [])
    bar = tqdm(total=config.steps, initial=start_step, desc="training", unit="step",
               disable=not progress)
    timed = start_step + min(3, config.steps - start_step)   # the estimate comes after this step
    try:
        for step in range(start_step + 1, config.steps + 1):
            t0 = time.perf_counter()
            index = 0 if multi is None else style_of_step(config, step)
            terms = step_fn(next(batches), tf.constant(index, tf.int32))
            values = _record_step(history, terms, step, index, multi, t0, ckpt)
            bar.update(1)
            bar.set_postfix(loss=f"{values['total']:.4g}", refresh=False)
            if step == timed:
                tqdm.write(training.estimate_from_first_steps(
                    history["seconds"][start_step - step:], config.steps - start_step,
                    first_index=start_step + 1))
            if step % config.checkpoint_every == 0 or step == config.steps:
                _write_checkpoint(out, model, optimizer, step, history, config)
                if on_checkpoint is not None:
                    on_checkpoint(step, history)
    finally:
        bar.close()
    return TrainResult(model, history, out, start_step)


def _distributed_batches(config, strategy, skip):
    """The training batches after the first `skip`, spread over the strategy's replicas."""
    from albumlib.style import image_data

    dataset = image_data.training_dataset(config.data_dir, crop=config.crop,
                                          batch_size=config.batch_size, seed=config.seed,
                                          scale=config.scale, skip_batches=skip)
    return iter(strategy.experimental_distribute_dataset(dataset))


def _record_step(history, terms, step, index, multi, t0, ckpt):
    """Add a step's loss terms, style and time to `history`; return the terms, checked finite."""
    values = {k: float(v) for k, v in terms.items()}
    if not np.isfinite(values["total"]):
        raise FloatingPointError(f"loss became {values['total']} at step {step}; the last "
                                 f"good checkpoint is {ckpt}")
    for key in HISTORY_KEYS[1:5]:
        history[key].append(values[key])
    history["step"].append(step)
    if multi is not None:
        history["style_index"].append(index)
    history["seconds"].append(time.perf_counter() - t0)
    return values


def _write_checkpoint(out, model, optimizer, step, history, config=None):
    """Checkpoint, history.json and loss_curve.png, each written whole or not at all."""
    training.write_progress(out, _checkpoint(model, optimizer, step, history, config), "step",
                            plot_curve)


def plot_curve(history, ax):
    """Draw the training loss terms per step on `ax` (the run's loss_curve.png); notebook 02."""
    from albumlib import plots
    plots.plot_losses({k: v for k, v in history.items() if k not in ("step", "style_index")},
                      ax=ax, title="training")


def save_loss_curve(history, path):
    """Save the training loss curves as a PNG (written atomically); notebook 02."""
    return training.save_curve(history, path, plot_curve)
