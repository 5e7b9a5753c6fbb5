"""The report's music model, its variants, generation and saved bundles (notebooks 04 and 05).

The report's model (`build_report_model`), on sequences of 10 FFT blocks of 88,200 features:

    input (10, 88200)
    TimeDistributed Dense(512)                     88,200 x 512 + 512           =  45,158,912
    LSTM(512, return_sequences=True)               4 x (512 x 512 + 512 x 512 + 512) = 2,099,200
    TimeDistributed Dense(88200)                   512 x 88,200 + 88,200        =  45,246,600
                                                                          total  92,504,712

trained with the mean squared error and RMSprop (Keras' defaults: learning rate 1e-3, rho 0.9).
Almost every parameter sits in the two dense layers, which map a whole second of sound in and out.

Variants (`MusicConfig`, `build_model`): "rfft" features (44,101 complex bins instead of the
Hermitian-redundant 44,100), "ola" framing (sqrt-Hann windowed frames at 50 % overlap joined by
overlap-add, so no hard block edges), "per_bin" standardisation, other sizes and dropout.

Generation (`generate`) is the report's loop: seed with a sequence of blocks, predict, take the
last predicted block, append it, slide, repeat; optional Gaussian noise injection and a carried LSTM
state ("stateful"). `blocks_to_audio` denormalises and inverts; `compose` does everything from a
bundle (`save_bundle`/`load_bundle`: JSON + one .npz, no pickles) to WAV and MP3 files.

Model code is keras.layers / keras.ops only (any Keras backend); the TensorFlow training loop is in
albumlib.music.report_train.
"""

import dataclasses
import itertools
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .. import audio, fileio
from . import fft_blocks

FRAMINGS = ("blocks", "ola")
BUNDLE_FORMAT = "albumlib-music-bundle"
BUNDLE_VERSION = 1
BUNDLE_JSON = "bundle.json"
BUNDLE_ARRAYS = "arrays.npz"
BUNDLE_FILES = (BUNDLE_JSON, BUNDLE_ARRAYS)
DEFAULT_BUNDLE = "music_model"        # data/music_model: the bundled demo model, when shipped
LAYER_NAMES = ("dense_in", "lstm", "dense_out")
_FLOAT16_MAX = float(np.finfo(np.float16).max)


# ---------------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class MusicConfig:
    """Features and sizes of a music model; the defaults are the report's; notebook 04.

    kind: "fft" (real and imaginary parts of the full FFT, the report) or "rfft" (half spectrum).
    framing: "blocks" (non-overlapping rectangular blocks of `block_size` samples, the report) or
        "ola" (sqrt-Hann windowed frames of `block_size` samples every `block_size // 2`, joined
        by overlap-add; one model step is then half a block).
    normalise: "global" (x / max|x|: the report's [-1, 1]) or "per_bin" ((x - mean) / std).
    """

    kind: str = "fft"
    framing: str = "blocks"
    block_size: int = 44100
    normalise: str = "global"
    seq_len: int = 10
    dense_in: int = 512
    hidden: int = 512
    dropout: float = 0.0
    sr: int = 44100

    def __post_init__(self):
        for name in ("block_size", "seq_len", "dense_in", "hidden", "sr"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"MusicConfig.{name} must be a positive integer, got {value!r}")
            setattr(self, name, int(value))
        if self.kind not in fft_blocks.KINDS:
            raise ValueError(f"MusicConfig.kind must be one of {', '.join(fft_blocks.KINDS)}, "
                             f"got {self.kind!r}")
        if self.framing not in FRAMINGS:
            raise ValueError(f"MusicConfig.framing must be one of {', '.join(FRAMINGS)}, "
                             f"got {self.framing!r}")
        if self.normalise not in fft_blocks.SCALE_METHODS:
            raise ValueError(f"MusicConfig.normalise must be one of "
                             f"{', '.join(fft_blocks.SCALE_METHODS)}, got {self.normalise!r}")
        if self.framing == "ola" and (self.block_size % 2 or self.block_size < 4):
            raise ValueError(f"ola framing needs an even block_size of at least 4, "
                             f"got {self.block_size}")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"MusicConfig.dropout must be in [0, 1), got {self.dropout!r}")
        self.dropout = float(self.dropout)

    @property
    def n_features(self):
        """Numbers per model step: 2 * block_size (fft) or 2 * (block_size // 2 + 1) (rfft)."""
        return fft_blocks.n_features(self.block_size, self.kind)

    @property
    def hop(self):
        """Samples between the starts of two model steps (block_size, or half of it for ola)."""
        return self.block_size if self.framing == "blocks" else self.block_size // 2

    @property
    def step_seconds(self):
        """Seconds of music one model step advances."""
        return self.hop / self.sr

    @property
    def dataset_block_size(self):
        """Block size of the on-disk dataset (music_data) the features are made from."""
        return self.hop

    def to_dict(self):
        """A JSON-ready dict; notebook 04."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d):
        """Rebuild a config from `to_dict`'s output (unknown keys are an error); notebook 05."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown MusicConfig fields: {', '.join(unknown)}")
        return cls(**d)

    def replace(self, **changes):
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


REPORT_CONFIG = MusicConfig()


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------

def report_model_parameters(features=88200, hidden=512, dense_in=None):
    """Closed-form parameter count of the report's architecture; notebook 04.

    Dense in: F*D + D; LSTM: 4 (D*H + H*H + H) (four gates, each with input and recurrent
    kernels and a bias); Dense out: H*F + F. D defaults to H (the report uses 512 for both):
    92,504,712 for F = 88,200 and H = 512.
    """
    f, h = int(features), int(hidden)
    d = h if dense_in is None else int(dense_in)
    return (f * d + d) + 4 * (d * h + h * h + h) + (h * f + f)


def model_parameters(config):
    """Parameter count of `build_model(config)` without building it; notebook 04."""
    return report_model_parameters(config.n_features, config.hidden, config.dense_in)


def _assemble(seq_len, features, dense_in, hidden, dropout, name):
    """The functional model: TimeDistributed Dense -> LSTM -> TimeDistributed Dense."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(int(seq_len), int(features)), name="blocks")
    x = layers.TimeDistributed(layers.Dense(int(dense_in)), name="dense_in")(inputs)
    if dropout:
        x = layers.Dropout(dropout, name="dropout_in")(x)
    x = layers.LSTM(int(hidden), return_sequences=True, name="lstm")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout_out")(x)
    outputs = layers.TimeDistributed(layers.Dense(int(features)), name="dense_out")(x)
    return keras.Model(inputs, outputs, name=name)


def _compile(model, learning_rate):
    import keras
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate), loss="mse")
    return model


def build_report_model(seq_len=10, features=88200, hidden=512, learning_rate=1e-3, compile=True):
    """The report's model exactly, compiled with MSE and RMSprop (lr 1e-3); notebook 04.

    input (seq_len, features) -> TimeDistributed Dense(hidden) -> LSTM(hidden,
    return_sequences=True) -> TimeDistributed Dense(features): 92.5 M parameters at the
    report's sizes (about 370 MB of float32 weights, three times that while training).
    """
    model = _assemble(seq_len, features, hidden, hidden, 0.0, "report_lstm")
    return _compile(model, learning_rate) if compile else model


def build_model(config=None, learning_rate=1e-3, compile=True):
    """The report's architecture at the sizes of a MusicConfig (default: the report); notebook 04.

    `dense_in` is the width of the first dense layer, `hidden` the LSTM's; `dropout` adds Dropout
    after the first dense layer and after the LSTM.
    """
    config = config or MusicConfig()
    name = "report_lstm" if config == REPORT_CONFIG else "music_lstm"
    model = _assemble(config.seq_len, config.n_features, config.dense_in, config.hidden,
                      config.dropout, name)
    return _compile(model, learning_rate) if compile else model


def _model_sizes(model):
    """(seq_len, features, dense_in, hidden) of a model built here."""
    try:
        dense_in, lstm = model.get_layer("dense_in"), model.get_layer("lstm")
    except ValueError as e:
        raise ValueError("stateful generation needs a model built by albumlib.music.report "
                         "(layers dense_in, lstm, dense_out)") from e
    _, seq_len, features = model.input_shape
    return seq_len, features, dense_in.layer.units, lstm.units


def step_model(model):
    """A one-step model sharing `model`'s weights: ([block, h, c]) -> [next, h, c]; notebook 05.

    It carries the LSTM state from call to call (stateful generation) instead of re-reading the
    last seq_len blocks from a zero state.
    """
    import keras
    from keras import layers

    _, features, dense_in, hidden = _model_sizes(model)
    block = keras.Input(shape=(1, features), name="block")
    h0 = keras.Input(shape=(hidden,), name="h")
    c0 = keras.Input(shape=(hidden,), name="c")
    d_in = layers.TimeDistributed(layers.Dense(dense_in), name="dense_in")
    lstm = layers.LSTM(hidden, return_sequences=True, return_state=True, name="lstm")
    d_out = layers.TimeDistributed(layers.Dense(features), name="dense_out")
    seq, h, c = lstm(d_in(block), initial_state=[h0, c0])
    stepper = keras.Model([block, h0, c0], [d_out(seq), h, c], name="music_step")
    for layer in (d_in, lstm, d_out):
        layer.set_weights(model.get_layer(layer.name).get_weights())
    return stepper


# ---------------------------------------------------------------------------------------------
# Framing and features
# ---------------------------------------------------------------------------------------------

def ola_window(frame):
    """sqrt of the periodic Hann window: its square sums to a constant at hop frame / k (COLA)."""
    n = np.arange(int(frame))
    return np.abs(np.sin(np.pi * n / int(frame)))


def _check_framing(frame, hop):
    frame, hop = int(frame), int(hop)
    if hop < 1 or frame < 2 or frame % hop or frame // hop < 2:
        raise ValueError(f"overlap-add needs hop to divide frame at least twice, got frame "
                         f"{frame}, hop {hop}")
    return frame, hop


def frames_ola(signal, frame, hop=None):
    """Cut a signal into sqrt-Hann windowed frames every `hop` samples (float64); notebook 05.

    The signal is padded with frame - hop zeros in front (and zeros behind), so that every sample
    is covered by frame / hop frames and `overlap_add` gives it back exactly. Frame t covers input
    samples [t*hop - (frame-hop), t*hop + hop).
    """
    frame, hop = _check_framing(frame, hop or int(frame) // 2)
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"expected a non-empty mono signal of shape (n,), got {x.shape}")
    pad = frame - hop
    n_frames = (x.size - 1 + pad) // hop + 1
    padded = np.zeros((n_frames - 1) * hop + frame)
    padded[pad:pad + x.size] = x
    view = np.lib.stride_tricks.sliding_window_view(padded, frame)[::hop]
    return view[:n_frames] * ola_window(frame)


def ola_length(n_frames, frame, hop):
    """Samples `overlap_add` returns for n frames: (n + 1) * hop - frame (the covered part)."""
    return max(0, (int(n_frames) + 1) * int(hop) - int(frame))


def overlap_add(frames, hop, length=None):
    """Join analysis-windowed frames: window again, add, divide by the summed squared window.

    The inverse of `frames_ola` (exact up to rounding) and, for frames that were not cut from one
    signal (a model's predictions), the least-squares signal closest to them. Returns float64 of
    `ola_length` samples (or the first `length`); notebook 05.
    """
    f = np.asarray(frames, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] == 0:
        raise ValueError(f"expected frames of shape (n_frames, frame), got {f.shape}")
    frame, hop = _check_framing(f.shape[1], hop)
    w = ola_window(frame)
    n = f.shape[0]
    total = np.zeros((n - 1) * hop + frame)
    norm = np.zeros_like(total)
    for k in range(frame // hop):          # frame / hop strided adds instead of n small ones
        part = f[:, k * hop:(k + 1) * hop] * w[k * hop:(k + 1) * hop]
        total[k * hop:k * hop + n * hop] += part.reshape(-1)
        norm[k * hop:k * hop + n * hop] += np.tile(w[k * hop:(k + 1) * hop] ** 2, n)
    pad = frame - hop
    out = total[pad:pad + ola_length(n, frame, hop)] / norm[pad:pad + ola_length(n, frame, hop)]
    return out if length is None else out[:int(length)]


def _spectra_to_features(spectra):
    out = np.empty((spectra.shape[0], 2 * spectra.shape[1]), dtype=np.float32)
    half = spectra.shape[1]
    out[:, :half] = spectra.real
    out[:, half:] = spectra.imag
    return out


def audio_to_features(signal, config):
    """Signal -> raw (unnormalised) float32 features (n_steps, n_features) of a config; nb 04."""
    config = config or MusicConfig()
    if config.framing == "blocks":
        return fft_blocks.to_fft_blocks(signal, config.block_size, config.kind)
    frames = frames_ola(signal, config.block_size, config.hop)
    fft = np.fft.fft if config.kind == "fft" else np.fft.rfft
    return _spectra_to_features(fft(frames, axis=1))


def n_samples_to_steps(n_samples, config):
    """Model steps needed to cover `n_samples` samples of music."""
    n = max(1, math.ceil(int(n_samples) / config.hop))
    return n if config.framing == "blocks" else n + config.block_size // config.hop - 1


def features_to_audio(features, config, length=None):
    """Raw features -> float64 signal: inverse FFT per step (real part), then join; notebook 05.

    Blocks are concatenated (the report); ola frames are overlap-added. Not clipped.
    """
    f = np.asarray(features, dtype=np.float32)
    if f.ndim != 2 or f.shape[1] != config.n_features:
        raise ValueError(f"expected features of shape (n, {config.n_features}), got {f.shape}")
    if config.framing == "blocks":
        return fft_blocks.from_fft_blocks(f, config.kind, length=length,
                                     block_size=config.block_size).astype(np.float64)
    half = f.shape[1] // 2
    spectra = f[:, :half].astype(np.float64) + 1j * f[:, half:].astype(np.float64)
    if config.kind == "fft":
        frames = np.fft.ifft(spectra, axis=1).real      # a predicted spectrum need not be Hermitian
    else:
        frames = np.fft.irfft(spectra, n=config.block_size, axis=1)
    return overlap_add(frames, config.hop, length)


def blocks_to_audio(blocks, config, scaler=None, length=None):
    """Normalised model blocks -> float32 signal in [-1, 1]; notebook 05.

    Denormalise with the scaler (None: the blocks are raw features), invert (inverse FFT, then
    concatenation or overlap-add), replace NaNs by 0, clip to [-1, 1].
    """
    b = np.asarray(blocks, dtype=np.float32)
    raw = scaler.inverse(b) if scaler is not None else b
    signal = features_to_audio(np.nan_to_num(raw, nan=0.0, posinf=0.0, neginf=0.0), config,
                               length)
    return np.clip(np.nan_to_num(signal, nan=0.0), -1.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------

def _predict(model, inputs):
    out = model.predict_on_batch(inputs)
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else np.asarray(out)


def _checked_seed(seed_sequence, seq_len, features):
    """The last seq_len blocks of a seed, checked to be (>= seq_len, features)."""
    s = np.asarray(seed_sequence, dtype=np.float32)
    if s.ndim == 3 and s.shape[0] == 1:
        s = s[0]
    if s.ndim != 2 or s.shape[1] != features or s.shape[0] < seq_len:
        raise ValueError(f"the seed must be at least ({seq_len}, {features}) blocks, "
                         f"got {s.shape}")
    return s[-seq_len:]


def iter_generate(model, seed_sequence, n_blocks, *, noise=0.0, feature_std=None, seed=0,
                  stateful=False):
    """The report's generation loop, one normalised float32 block at a time; notebook 05.

    Sliding (default, as trained): feed the last seq_len blocks, take the last predicted block,
    append it, slide by one, repeat. Stateful: warm the LSTM state up on the seed, then feed one
    block at a time, carrying the state (the model then remembers further back than seq_len).
    noise > 0 adds Gaussian noise of noise * feature_std to each predicted block before it is fed
    back (feature_std: per-feature or scalar std of the normalised data, default the per-feature
    std of the seed); the same `seed` gives the same output. The seed blocks are not yielded.
    """
    seq_len, features = model.input_shape[1], model.input_shape[2]
    s = _checked_seed(seed_sequence, seq_len, features)
    n_blocks = int(n_blocks)
    if n_blocks < 0:
        raise ValueError(f"n_blocks must be >= 0, got {n_blocks}")
    noise, rng = float(noise), np.random.default_rng(seed)
    std = (s.std(axis=0) if feature_std is None else np.asarray(feature_std, np.float32)) \
        if noise else None

    def perturb(block):
        if noise:
            block = block + (noise * std * rng.standard_normal(features)).astype(np.float32)
        return block.astype(np.float32)

    if not stateful:
        window = s.copy()
        for _ in range(n_blocks):
            block = perturb(_predict(model, window[None])[0, -1])
            window = np.concatenate([window[1:], block[None]])
            yield block
        return
    if n_blocks:
        stepper = step_model(model)
        h = c = np.zeros((1, stepper.input_shape[1][-1]), np.float32)
        for block in s:                                   # warm-up on the seed
            y, h, c = _predict(stepper, [block[None, None], h, c])
        for i in range(n_blocks):
            block = perturb(y[0, -1])
            yield block
            if i + 1 < n_blocks:
                y, h, c = _predict(stepper, [block[None, None], h, c])


def generate(model, seed_sequence, n_blocks, *, noise=0.0, feature_std=None, seed=0,
             stateful=False, progress=False):
    """`iter_generate`'s blocks as one (n_blocks, features) float32 array; notebook 05."""
    from tqdm.auto import tqdm

    blocks = iter_generate(model, seed_sequence, n_blocks, noise=noise,
                           feature_std=feature_std, seed=seed, stateful=stateful)
    out = np.empty((max(int(n_blocks), 0), model.input_shape[2]), dtype=np.float32)
    with tqdm(total=len(out), desc="composing", unit="block", disable=not progress) as bar:
        for i, block in enumerate(blocks):
            out[i] = block
            bar.update(1)
    return out


def _raw_frame(block, config, scaler):
    """One normalised block -> its time-domain frame (float64), NaN-free."""
    raw = scaler.inverse(block[None]) if scaler is not None else block[None]
    raw = np.nan_to_num(np.asarray(raw, np.float32), nan=0.0, posinf=0.0, neginf=0.0)[0]
    half = raw.size // 2
    spectrum = raw[:half].astype(np.float64) + 1j * raw[half:].astype(np.float64)
    if config.kind == "fft":
        return np.fft.ifft(spectrum).real
    return np.fft.irfft(spectrum, n=config.block_size)


def iter_blocks_to_audio(blocks, config, scaler=None, length=None):
    """`blocks_to_audio` one block at a time: float32 chunks in [-1, 1]; notebook 05.

    Blocks are inverted as they come; "blocks" framing yields each block's samples, "ola"
    framing keeps one frame of overlap-add buffer and yields each hop as soon as no later frame
    can touch it. Joined, the chunks equal blocks_to_audio(all the blocks) up to rounding.
    """
    frame, hop = config.block_size, config.hop
    ola = config.framing == "ola"
    w = ola_window(frame) if ola else None
    total, norm = np.zeros(frame), np.zeros(frame)
    done, pos = 0, -(frame - hop) if ola else 0      # samples yielded; buffer start position
    for block in blocks:
        x = _raw_frame(block, config, scaler)
        if ola:
            total += x * w
            norm += w * w
            out = np.divide(total[:hop], norm[:hop], out=np.zeros(hop), where=norm[:hop] > 0)
            total, norm = np.roll(total, -hop), np.roll(norm, -hop)
            total[-hop:], norm[-hop:] = 0.0, 0.0
            start, pos = max(-pos, 0), pos + hop
            out = out[start:]
        else:
            out = x
        if length is not None:
            out = out[:max(int(length) - done, 0)]
        done += len(out)
        if len(out):
            yield np.clip(np.nan_to_num(out, nan=0.0), -1.0, 1.0).astype(np.float32)


# ---------------------------------------------------------------------------------------------
# Bundles
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class MusicBundle:
    """A trained music model ready to compose: model, config, scaler, seed sequences; nb 05."""

    model: object
    config: MusicConfig
    scaler: fft_blocks.Scaler
    seeds: np.ndarray            # (k, seq_len, features) float32 normalised training blocks
    feature_std: np.ndarray      # (features,) std of the normalised training features, or None
    info: dict
    path: Path = None


def _scaler_meta(scaler):
    return {"method": scaler.method, "scale": float(scaler.scale)}


def _replace_dir(tmp_dir, directory, overwrite):
    """Move a finished temporary folder to `directory` (replacing an older bundle if allowed)."""
    directory = Path(directory)
    if directory.exists() and not overwrite:
        raise FileExistsError(f"{directory}: already exists; pass overwrite=True to replace "
                              f"it, or save to a new folder")
    fileio.swap_dir(tmp_dir, directory)


def save_bundle(directory, model, config, scaler, seeds, info=None, *, feature_std=None,
                weights_dtype="float32", overwrite=False):
    """Write a model bundle folder whole or not at all (no pickles); notebook 04.

    bundle.json: format, config, scaler method and scale, weight names and shapes, info;
    arrays.npz: weights (float32, or float16 to halve the size), per-bin scaler mean and std,
    seed sequences (float16) and the per-feature std of the normalised training data.
    overwrite=True replaces an existing bundle folder, never a folder of other files.
    """
    directory = Path(directory)
    if weights_dtype not in ("float32", "float16"):
        raise ValueError(f"weights_dtype must be float32 or float16, got {weights_dtype!r}")
    if directory.exists():
        if not directory.is_dir():
            raise NotADirectoryError(f"{directory}: is not a folder")
        contents = sorted(p.name for p in directory.iterdir())
        others = [name for name in contents if name not in BUNDLE_FILES]
        if others:
            raise FileExistsError(f"{directory}: holds other files ({', '.join(others[:3])}); "
                                  f"save the bundle to a new folder")
        if contents and not overwrite:
            raise FileExistsError(f"{directory}: already holds a bundle; pass overwrite=True")
    seeds = np.asarray(seeds, dtype=np.float32)
    if seeds.ndim == 2:
        seeds = seeds[None]
    features = config.n_features
    if seeds.ndim != 3 or seeds.shape[1:] != (config.seq_len, features) or not len(seeds):
        raise ValueError(f"seeds must be (k, {config.seq_len}, {features}), got {seeds.shape}")
    weights = model.get_weights()
    if not all(np.all(np.isfinite(w)) for w in weights):
        raise FloatingPointError("the model's weights hold NaN or inf; not saving them")
    arrays = {f"weight_{i:04d}": np.asarray(w, dtype=weights_dtype) for i, w in enumerate(weights)}
    arrays["seeds"] = np.clip(seeds, -_FLOAT16_MAX, _FLOAT16_MAX).astype(np.float16)
    if scaler.method == "per_bin":
        arrays["scaler_mean"] = np.asarray(scaler.mean, np.float32)
        arrays["scaler_std"] = np.asarray(scaler.std, np.float32)
    if feature_std is not None:
        arrays["feature_std"] = np.asarray(feature_std, np.float32)
    meta = {"format": BUNDLE_FORMAT, "version": BUNDLE_VERSION, "config": config.to_dict(),
            "scaler": _scaler_meta(scaler), "weights_dtype": weights_dtype,
            "weights": [{"path": v.path, "shape": list(v.shape)} for v in model.weights],
            "parameters": int(model.count_params()), "info": info or {}}
    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp",
                                    dir=directory.parent))
    try:
        with open(tmp_dir / BUNDLE_ARRAYS, "wb") as f:
            np.savez(f, **arrays)
        (tmp_dir / BUNDLE_JSON).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        for p in tmp_dir.iterdir():
            os.chmod(p, fileio.new_file_mode())
        mode = fileio.new_file_mode()
        os.chmod(tmp_dir, mode | (mode & 0o444) >> 2)     # 0o644 -> 0o755
        if directory.exists() and not any(directory.iterdir()):
            directory.rmdir()
        _replace_dir(tmp_dir, directory, overwrite)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return directory


def _bundle_dir(directory):
    if directory is None:
        from .. import paths
        directory = paths.data_path(DEFAULT_BUNDLE)
    return Path(directory)


def load_bundle(directory=None, compile=False):
    """Read a bundle written by `save_bundle` (default: the bundled data/music_model); nb 05."""
    directory = _bundle_dir(directory)
    meta_path, arrays_path = directory / BUNDLE_JSON, directory / BUNDLE_ARRAYS
    if not meta_path.is_file() or not arrays_path.is_file():
        raise FileNotFoundError(f"{directory}: not a music model bundle (needs {BUNDLE_JSON} and "
                                f"{BUNDLE_ARRAYS}); train one with albumlib.music.report_train")
    meta = fileio.read_format_json(meta_path, BUNDLE_FORMAT, BUNDLE_VERSION)
    config = MusicConfig.from_dict(meta["config"])
    try:
        with np.load(arrays_path, allow_pickle=False) as data:
            keys = sorted(k for k in data.files if k.startswith("weight_"))
            weights = [data[k].astype(np.float32) for k in keys]
            seeds = data["seeds"].astype(np.float32)
            mean = data["scaler_mean"] if "scaler_mean" in data.files else None
            std = data["scaler_std"] if "scaler_std" in data.files else None
            feature_std = data["feature_std"] if "feature_std" in data.files else None
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"{arrays_path}: not a readable bundle array file ({e})") from e
    s = meta["scaler"]
    scaler = fft_blocks.Scaler(s["method"], scale=float(s["scale"]), mean=mean, std=std)
    model = build_model(config, compile=compile)
    shapes = [tuple(w.shape) for w in model.get_weights()]
    if shapes != [tuple(w.shape) for w in weights]:
        raise ValueError(f"{arrays_path}: weight shapes do not match the config's model")
    model.set_weights(weights)
    return MusicBundle(model, config, scaler, seeds, feature_std, meta.get("info", {}), directory)


def _as_bundle(bundle):
    return bundle if isinstance(bundle, MusicBundle) else load_bundle(bundle)


def seed_from_audio(path_or_signal, config, scaler, start_seconds=0.0):
    """A normalised seed sequence (seq_len, features) from an audio file or signal; notebook 05."""
    if isinstance(path_or_signal, (str, os.PathLike)):
        signal = audio.load_audio(path_or_signal, sr=config.sr)
    else:
        signal = np.asarray(path_or_signal, dtype=np.float32)
    start = int(round(float(start_seconds) * config.sr))
    feats = audio_to_features(signal[start:], config)
    if feats.shape[0] < config.seq_len:
        raise ValueError(f"the seed music gives {feats.shape[0]} steps of "
                         f"{config.step_seconds:g} s; the model needs {config.seq_len}")
    return scaler.transform(feats[:config.seq_len])


def _seed_blocks(b, seed_source, rng):
    """The normalised seed sequence compose starts from (see compose's seed_source)."""
    if seed_source is None:
        return b.seeds[rng.integers(len(b.seeds))]
    if isinstance(seed_source, (int, np.integer)) and not isinstance(seed_source, bool):
        return b.seeds[int(seed_source)]
    if isinstance(seed_source, (str, os.PathLike)):
        return seed_from_audio(seed_source, b.config, b.scaler)
    return np.asarray(seed_source, dtype=np.float32)


def iter_compose(bundle=None, seconds=10.0, *, seed=0, seed_source=None, noise=None,
                 stateful=False, include_seed=False):
    """compose's music as float32 chunks, a block at a time: memory does not grow with
    `seconds`; the chunks joined are compose's signal; notebook 05."""
    b = _as_bundle(bundle)
    cfg = b.config
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds!r}")
    rng = np.random.default_rng(seed)
    seq = _seed_blocks(b, seed_source, rng)
    n_samples = int(round(float(seconds) * cfg.sr))
    steps = n_samples_to_steps(n_samples, cfg)
    steps = max(0, steps - cfg.seq_len) if include_seed else steps
    if noise is None:
        noise = float(b.info.get("generation_noise", 0.0))
    blocks = iter_generate(b.model, seq, steps, noise=noise, feature_std=b.feature_std,
                           seed=seed, stateful=stateful)
    if include_seed:
        blocks = itertools.chain(np.asarray(seq, np.float32)[-cfg.seq_len:], blocks)
    return audio.exact_length(iter_blocks_to_audio(blocks, cfg, b.scaler), n_samples)


def compose(bundle=None, seconds=10.0, *, seed=0, out_wav=None, out_mp3=None, seed_source=None,
            noise=None, stateful=False, include_seed=False, progress=False):
    """Compose `seconds` of music with a trained bundle; returns the float32 signal; notebook 05.

    bundle: a MusicBundle, a bundle folder, or None for the bundled data/music_model.
    noise: Gaussian noise fed back with each predicted block, x the per-feature std (see
    `generate`); None: the bundle's measured choice, info["generation_noise"] (0 if absent;
    0.3 for the bundled model, which loops less with it: benchmarks/RESULTS.md, issue 5).
    seed_source: None (one of the bundle's seed sequences, picked by `seed`), an int (that seed
    sequence), an audio file path (its first seq_len steps) or a normalised (seq_len, features)
    array. include_seed=True starts the music with the seed itself, as GRUV's output does.
    out_wav / out_mp3 are written whole, never over an existing file (checked before composing).
    `iter_compose` gives the same music a block at a time.
    """
    from tqdm.auto import tqdm

    b = _as_bundle(bundle)
    for path, suffixes in ((out_wav, audio.WAV_EXTENSIONS), (out_mp3, (".mp3",))):
        if path is not None:
            audio.check_output(path, suffixes, overwrite=False)
    parts = iter_compose(b, seconds, seed=seed, seed_source=seed_source, noise=noise,
                         stateful=stateful, include_seed=include_seed)
    total = int(round(float(seconds) * b.config.sr)) if seconds > 0 else None
    with tqdm(total=total, desc="composing", unit="sample", unit_scale=True,
              disable=not progress) as bar:
        chunks = []
        for chunk in parts:
            chunks.append(chunk)
            bar.update(len(chunk))
    signal = np.concatenate(chunks)
    if out_wav is not None:
        audio.save_wav(out_wav, signal, b.config.sr)
    if out_mp3 is not None:
        audio.save_mp3(out_mp3, signal, b.config.sr)
    return signal
