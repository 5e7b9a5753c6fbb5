"""The tf.data input pipeline: random square crops of a folder of photos, in batches; notebook 02.

`training_dataset(folder)` feeds the fast style-transfer network: it lists the photos (COCO's
82,783 JPEGs, or the handful of the bundled album), shuffles the list with a fresh seeded
permutation each epoch, decodes in parallel, takes a random square window, resizes it to
crop x crop, flips half of them, and batches float32 images in [0, 1].

Everything random is *stateless*: it depends only on `seed` and on the position of the photo in
the stream (epoch, index), never on global TensorFlow seeds or on thread timing. The same seed
gives the same batches on every run, and `skip_batches=n` starts exactly at batch n of a fresh
pipeline, so a training run resumed from a checkpoint sees the data it would have seen.
"""

import collections
import dataclasses
import hashlib
import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
import tensorflow as tf

from .. import fileio, paths
from ..images import ImageError, SkippedImageWarning, list_album

# What tf.io.decode_image reads. Other photo types in an album (TIFF, HEIC, AVIF) are left out with
# one warning: convert them to JPEG, or load them with albumlib.images.load_image.
TF_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".gif", ".bmp", ".webp")
CHECK_FILES_LIMIT = 64        # folders up to this size are decoded once up front (check_files=None)
DISK_CACHE_MIN_FILES = 1000   # file lists of folders this big are also cached on disk

_LIST_CACHE = {}              # real folder path -> (folder mtime_ns, [file names])
_DECODE_CACHE = {}            # (path, size, mtime_ns) -> None, or why TensorFlow cannot decode it


# ---------------------------------------------------------------------------------------------
# Listing
# ---------------------------------------------------------------------------------------------

def _disk_cache_file(real):
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return paths.cache_dir() / "filelists" / f"{digest}.json"


def _listed_names(folder):
    """Names of the photos of a (non-recursive) folder, cached while its mtime is unchanged."""
    real = os.path.realpath(folder)
    stamp = os.stat(folder).st_mtime_ns
    hit = _LIST_CACHE.get(real)
    if hit and hit[0] == stamp:
        return hit[1]
    with os.scandir(folder) as it:
        big = sum(1 for _ in it) >= DISK_CACHE_MIN_FILES
    names = None
    if big:
        try:
            data = json.loads(_disk_cache_file(real).read_text(encoding="utf-8"))
            if data.get("folder") == real and data.get("mtime_ns") == stamp:
                names = data["files"]
        except (OSError, ValueError, KeyError):
            names = None
    if names is None:
        names = [p.name for p in list_album(folder)]
        if big:
            try:
                fileio.atomic_write_bytes(_disk_cache_file(real), json.dumps(
                    {"folder": real, "mtime_ns": stamp, "files": names}).encode())
            except OSError:
                pass  # a read-only cache only costs a new listing next time
    _LIST_CACHE[real] = (stamp, names)
    return names


def list_files(folder, recursive=False, cache_list=True):
    """Return the photo paths of `folder` that TensorFlow can decode, in name order; notebook 02.

    Uses `albumlib.images.list_album` (hidden files skipped; sub-folders with `recursive`). Photo
    types TensorFlow cannot read (TIFF, HEIC, AVIF) are left out with a SkippedImageWarning. With
    `cache_list` the listing of a folder is reused while the folder's modification time is
    unchanged (in memory, and on disk under `paths.cache_dir()` for folders of 1000+ files), which
    saves seconds on COCO. Recursive listings are not cached.
    """
    folder = Path(folder)
    if cache_list and not recursive and folder.is_dir():
        found = [folder / name for name in _listed_names(folder)]
    else:
        found = list_album(folder, recursive=recursive)
    usable = [p for p in found if p.suffix.lower() in TF_EXTENSIONS]
    if len(usable) < len(found):
        kinds = sorted({p.suffix.lower() for p in found if p.suffix.lower() not in TF_EXTENSIONS})
        warnings.warn(f"{folder}: skipping {len(found) - len(usable)} photo(s) of type "
                      f"{', '.join(kinds)} that TensorFlow cannot decode; convert them to JPEG "
                      "to train on them", SkippedImageWarning, stacklevel=2)
    return usable


def dataset_size(folder, recursive=False):
    """Number of photos `training_dataset(folder)` draws from (by file type, not decoded)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImageWarning)
        return len(list_files(folder, recursive=recursive))


@dataclasses.dataclass
class FolderInfo:
    """What `describe` found in a folder of training photos."""

    folder: Path
    images: int
    total_bytes: int
    by_type: dict
    other_photos: int            # photo files TensorFlow cannot decode (TIFF, HEIC, ...)
    sample_sizes: list           # (width, height) of up to `sample` photos spread over the list

    def __str__(self):
        types = ", ".join(f"{n} {ext}" for ext, n in sorted(self.by_type.items()))
        lines = [f"{self.folder}: {self.images:,} photos, {self.total_bytes / 1e6:,.1f} MB"
                 + (f" ({types})" if types else "")]
        if self.sample_sizes:
            shorts = [min(s) for s in self.sample_sizes]
            lines.append(f"  short side of {len(shorts)} sampled photos: {min(shorts)} to "
                         f"{max(shorts)} px")
        if self.other_photos:
            lines.append(f"  {self.other_photos} more photo(s) in formats TensorFlow cannot read")
        return "\n".join(lines)


def describe(folder, recursive=False, sample=16):
    """Return a FolderInfo (count, size on disk, file types, sampled photo sizes); notebook 02."""
    from PIL import Image

    folder = Path(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImageWarning)
        files = list_files(folder, recursive=recursive)
    every = list_album(folder, recursive=recursive)
    sizes = []
    step = max(1, len(files) // max(1, sample))
    for p in files[::step][:sample]:
        try:
            with Image.open(p) as im:
                sizes.append(im.size)
        except Exception:  # a corrupt file is reported by the pipeline, not here
            continue
    return FolderInfo(folder=folder, images=len(files),
                      total_bytes=sum(p.stat().st_size for p in files),
                      by_type=dict(collections.Counter(p.suffix.lower() for p in files)),
                      other_photos=len(every) - len(files), sample_sizes=sizes)


# ---------------------------------------------------------------------------------------------
# Decoding checks and the report of skipped files
# ---------------------------------------------------------------------------------------------

def _short_message(e):
    text = getattr(e, "message", None) or str(e)
    text = text.split("}}")[-1].strip() if "}}" in text else text
    text = re.sub(r"\s*\[Op:[^\]]*\].*$", "", text.strip(), flags=re.S)
    return text.strip().splitlines()[0] if text.strip() else type(e).__name__


def decode_problem(path):
    """None if TensorFlow decodes `path` as an image, else why not (cached per file version)."""
    try:
        st = os.stat(path)
    except OSError as e:
        return str(e)
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _DECODE_CACHE:
        try:
            tf.io.decode_image(tf.io.read_file(os.fsencode(path)), channels=3,
                               expand_animations=False)
            _DECODE_CACHE[key] = None
        except (tf.errors.OpError, ValueError) as e:
            _DECODE_CACHE[key] = _short_message(e)
    return _DECODE_CACHE[key]


class DecodeReport:
    """The photos a pipeline left out because TensorFlow could not decode them.

    `excluded`: found by the check before training (check_files); `skipped`: met while streaming,
    path -> number of times. Each file is warned about once (SkippedImageWarning). A stream
    position is known to be skipped when the next photo arrives, so with `repeat=False` bad files
    at the very end of the epoch are only reported by the up-front check.
    """

    def __init__(self, folder, files, seed, shuffle):
        self.folder = Path(folder)
        self.excluded = []
        self.skipped = {}
        self._files, self._seed, self._shuffle = files, seed, shuffle
        self._orders = {}
        self._warned = set()

    @property
    def count(self):
        """How many different files were found undecodable so far."""
        return len(set(self.excluded) | set(self.skipped))

    def __repr__(self):
        return (f"DecodeReport({self.folder}: {len(self.excluded)} excluded up front, "
                f"{len(self.skipped)} skipped while streaming)")

    def _path_of(self, key):
        epoch, pos = divmod(int(key), len(self._files))
        if epoch not in self._orders:
            if len(self._orders) > 2:
                self._orders.clear()
            self._orders[epoch] = _epoch_order(len(self._files), self._seed, epoch,
                                               self._shuffle).numpy()
        return self._files[int(self._orders[epoch][pos])]

    def _warn(self, path, problem):
        if path not in self._warned:
            self._warned.add(path)
            warnings.warn(f"skipping {path}: {problem}", SkippedImageWarning, stacklevel=1)

    def _record(self, first, last):
        """Called from the pipeline when stream positions first..last-1 yielded nothing."""
        first, last = int(first), int(last)
        for key in range(first, last):
            path = self._path_of(key)
            self._warn(path, "TensorFlow could not decode it (corrupt, truncated, or not an image)")
            self.skipped[path] = self.skipped.get(path, 0) + 1
        return np.int64(last - first)


# ---------------------------------------------------------------------------------------------
# The pipeline
# ---------------------------------------------------------------------------------------------

def _epoch_order(n, seed, epoch, shuffle):
    """The order of the n files in an epoch: a seeded permutation (graph or eager)."""
    indices = tf.range(n, dtype=tf.int64)
    if not shuffle:
        return indices
    rng = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
    return tf.random.experimental.stateless_shuffle(indices, seed=rng)


def _random_crop(image, key, seed, crop, scale, flip):
    """A random crop x crop float32 view of a uint8 (H, W, 3) image, seeded by stream position."""

    def rng(k):
        return tf.stack([key, tf.constant(seed * 8 + k, tf.int64)])

    lo, hi = scale
    shape = tf.shape(image)
    h, w = shape[0], shape[1]
    short = tf.minimum(h, w)
    if hi > lo:
        s = tf.random.stateless_uniform([], rng(0), minval=lo, maxval=hi)
    else:
        s = tf.constant(lo, tf.float32)
    s = tf.maximum(s, 1.0)    # below 1 the crop would not fit inside the photo: no padding
    # Resizing the photo so its short side is crop * s and cutting crop x crop from it equals
    # cutting a square of side short / s from the photo and resizing that: far less work.
    win = tf.clip_by_value(tf.cast(tf.round(tf.cast(short, tf.float32) / s), tf.int32), 1, short)
    top = tf.random.stateless_uniform([], rng(1), minval=0, maxval=h - win + 1, dtype=tf.int32)
    left = tf.random.stateless_uniform([], rng(2), minval=0, maxval=w - win + 1, dtype=tf.int32)
    window = tf.image.convert_image_dtype(image[top:top + win, left:left + win, :], tf.float32)
    out = tf.image.resize(window, [crop, crop], method="bilinear", antialias=True)
    out = tf.clip_by_value(out, 0.0, 1.0)
    if flip:
        mirror = tf.random.stateless_uniform([], rng(3)) < 0.5
        out = tf.cond(mirror, lambda: tf.reverse(out, axis=[1]), lambda: out)
    return tf.ensure_shape(out, [crop, crop, 3])


def _decode_report(folder, files, seed, shuffle, check_files):
    """A DecodeReport of `files` (decoded up front if `check_files`); ImageError if none decode."""
    report = DecodeReport(folder, files, seed, shuffle)
    if check_files:
        for path in files:
            problem = decode_problem(path)
            if problem:
                report._warn(path, f"TensorFlow cannot decode it ({problem})")
                report.excluded.append(path)
        usable = len(report.excluded) < len(files)
    else:  # make sure at least one decodes, or the endless stream would spin on nothing
        usable = any(decode_problem(p) is None for p in files)
    if not usable:
        raise ImageError(folder, f"none of its {len(files)} photo files can be decoded by "
                                 "TensorFlow")
    return report


def _photo_stream(files, seed, shuffle, crop, scale, flip, repeat, report):
    """A dataset of (crop, skipped) of `files`, epoch after epoch; undecodable files dropped."""
    n = len(files)
    files_t = tf.constant([os.fsencode(p) for p in files])   # bytes: any file name works

    def epoch_elements(epoch):
        keys = epoch * n + tf.range(n, dtype=tf.int64)
        order = _epoch_order(n, seed, epoch, shuffle)
        return tf.data.Dataset.from_tensor_slices((keys, tf.gather(files_t, order)))

    def load(key, path):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        return key, _random_crop(image, key, seed, crop, scale, flip)

    def note_gaps(expected, element):
        key, image = element
        skipped = tf.cond(key > expected,
                          lambda: tf.py_function(report._record, [expected, key], tf.int64),
                          lambda: tf.constant(0, tf.int64))
        return key + 1, (image, skipped)

    epochs = tf.data.Dataset.counter(dtype=tf.int64) if repeat else tf.data.Dataset.range(1)
    ds = epochs.flat_map(epoch_elements)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.ignore_errors()
    return ds.scan(tf.constant(0, tf.int64), note_gaps)


def training_dataset(folder, crop=256, batch_size=4, seed=0, shuffle_buffer=1000, repeat=True,
                     scale=(1.0, 1.0), flip=True, skip_batches=0, cache_list=True, *,
                     recursive=False, check_files=None):
    """Return a tf.data.Dataset of (batch, crop, crop, 3) float32 batches in [0, 1]; notebook 02.

    Each epoch visits every photo once in a new order (a seeded permutation of the whole file
    list; `shuffle_buffer=0` keeps name order instead; any other value, None included, shuffles
    fully: the list of names is small, so no buffer is needed). For each photo a scale s is
    drawn uniformly from `scale` (values below 1 count as 1), the photo is resized so that its
    short side is crop * s (photos smaller than the crop are enlarged), and a random crop x crop
    square is cut and mirrored half of the time (`flip`). Batches are always full
    (drop_remainder); with `repeat` the stream is endless, without it one epoch. `skip_batches=n`
    starts at batch n of the same seed's stream (the skipped photos are still decoded, so deep
    resumes take a moment).

    Files TensorFlow cannot decode are dropped while streaming (`ignore_errors`), each warned
    about once (SkippedImageWarning) and counted in `dataset.decode_report` (a DecodeReport).
    With `check_files` (default: folders of up to 64 photos) every file is also decoded once up
    front, so bad ones are named before training starts; either way the batches are the same.
    Raises ImageError if no photo can be decoded. `recursive` includes sub-folders. TensorFlow
    ignores EXIF orientation, which does not matter for training crops.
    """
    crop, batch_size, skip_batches, seed = int(crop), int(batch_size), int(skip_batches), int(seed)
    if crop < 1 or batch_size < 1 or skip_batches < 0:
        raise ValueError(f"crop and batch_size must be positive and skip_batches >= 0, got "
                         f"crop={crop}, batch_size={batch_size}, skip_batches={skip_batches}")
    lo, hi = (float(v) for v in scale)
    if not 0 < lo <= hi:
        raise ValueError(f"scale must be (low, high) with 0 < low <= high, got {scale!r}")
    seed &= (1 << 56) - 1
    files = [str(p) for p in list_files(folder, recursive=recursive, cache_list=cache_list)]
    if not files:
        raise ImageError(folder, f"no photos TensorFlow can decode (looked for "
                                 f"{', '.join(TF_EXTENSIONS)})")
    if check_files is None:
        check_files = len(files) <= CHECK_FILES_LIMIT
    shuffle = shuffle_buffer is None or int(shuffle_buffer) > 0
    report = _decode_report(folder, files, seed, shuffle, check_files)
    # Bad files stay in the list (and are dropped while streaming) so that the batches depend
    # only on the folder, the seed and the settings, not on check_files.
    ds = _photo_stream(files, seed, shuffle, crop, (lo, hi), flip, repeat, report)
    if skip_batches:
        ds = ds.skip(skip_batches * batch_size)
    ds = ds.map(lambda image, skipped: image)
    ds = ds.batch(batch_size, drop_remainder=True)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    ds = ds.with_options(options)
    ds.decode_report = report
    return ds
