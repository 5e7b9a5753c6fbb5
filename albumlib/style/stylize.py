"""Repainting a whole album with a trained fast style network (taught in notebook 02).

`stylize_album(folder, "starry_night", "outputs/fast")` runs the transform network once per photo
(or once per batch of same-sized photos) and writes `<photo>_<style>.jpg` files. Photos of any size
work; `max_side` shrinks big ones first, which bounds the memory a 12-megapixel photo needs.

The network call is one tf.function whose input signature leaves batch, height and width unknown,
so it is traced once for all photo sizes and batch sizes. Measured on 2 CPU cores with the default
1.68 M-parameter network, 16 photos of 16 different sizes around 96 px, two runs each: 1.5-1.6 s
with it; 1.4-2.0 s with keras' predict_on_batch or tf.function(reduce_retracing=True), which trace
a second time before they generalise the shape; 2.3-3.3 s calling the model eagerly (2-4x slower
per photo once warm); 7.8-8.0 s with a plain tf.function, which traces again for every new size
(~0.4 s each). Around 512 px the convolutions dominate (~1.5 s per photo) and the choices differ by
less than the noise, the fixed signature still among the fastest.
"""

import collections
import logging
import os
import sys
import warnings
import weakref
from pathlib import Path

import numpy as np

from albumlib import images
from albumlib.style import color
from albumlib.fileio import unique_path
from albumlib.style.numpy_net import MIN_SIDE    # fast_style's, without importing Keras

# Largest number of pixels (summed over a batch) run in one network call: the activations of the
# default network take about 1.2 kB per pixel, so 4 Mpx need about 5 GB at the widest layer.
# Bigger photos run one at a time (shrink them with max_side if even that is too much).
MAX_BATCH_PIXELS = 4 * 1024 * 1024
# Photos waiting for a batch partner: at most this many batches' worth, then the oldest group runs
# as it is (an album of all-different sizes must not be held in memory whole).
PENDING_BATCHES = 2

_COMPILED = weakref.WeakKeyDictionary()    # model -> its compiled inference function


# --------------------------------------------------------------------------- the network call


def _compiled(model):
    """The model's inference as a tf.function traced once for every batch size and photo size."""
    fn = _COMPILED.get(model)
    if fn is None:
        import tensorflow as tf
        ref = weakref.ref(model)       # the cache must not keep the model alive

        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
        def fn(batch):
            return ref()(batch, training=False)

        _COMPILED[model] = fn
    return fn


class _OneTracePerNetwork(logging.Filter):
    """Drop TensorFlow's "N out of the last N calls ... triggered tf.function retracing" warning.

    Each network has its own function, traced once (see `_compiled`): a film in six styles
    traces six times, which TensorFlow takes for a loop that makes functions by mistake.
    """

    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


_TRACE_FILTER = _OneTracePerNetwork()


def _call_compiled(model, batch):
    """Call the model's compiled function, TensorFlow's retracing warning filtered meanwhile."""
    logger = logging.getLogger("tensorflow")
    logger.addFilter(_TRACE_FILTER)
    try:
        return _compiled(model)(batch)
    finally:
        logger.removeFilter(_TRACE_FILTER)


def _run_batch(model, batch):
    """Run the transform net on a float32 (B, H, W, 3) batch -> float32 numpy in [0, 1]."""
    keras = sys.modules.get("keras")    # not imported: `model` is no Keras model (numpy_net's)
    if keras is not None and isinstance(model, keras.Model) \
            and keras.backend.backend() == "tensorflow":
        out = _call_compiled(model, batch)
    elif keras is not None and isinstance(model, keras.Model):
        out = model.predict_on_batch(batch)
    else:
        out = model(batch)
    out = np.asarray(out if keras is None else keras.ops.convert_to_numpy(out))
    return np.clip(out.astype(np.float32, copy=False), 0.0, 1.0)


def batch_limit(shape, batch_size):
    """How many photos of this (H, W) go in one call: batch_size, fewer for big photos."""
    h, w = shape[:2]
    return max(1, min(int(batch_size), MAX_BATCH_PIXELS // max(1, h * w)))


def plan_batches(shapes, batch_size):
    """Group photo indices by (H, W) into batches of up to batch_size; first-seen order.

    >>> plan_batches([(4, 6), (5, 5), (4, 6), (4, 6)], 2)
    [[0, 2], [3], [1]]
    """
    groups = collections.OrderedDict()
    for i, shape in enumerate(shapes):
        groups.setdefault(tuple(shape[:2]), []).append(i)
    batches = []
    for shape, members in groups.items():
        n = batch_limit(shape, batch_size)
        batches += [members[j:j + n] for j in range(0, len(members), n)]
    return batches


# --------------------------------------------------------------------------- options


def _check_options(batch_size, strength, max_side):
    if int(batch_size) != batch_size or batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
    if not 0.0 <= float(strength) <= 1.0:
        raise ValueError(f"strength must be between 0 and 1, got {strength!r}")
    if max_side is not None and (int(max_side) != max_side or max_side < 1):
        raise ValueError(f"max_side must be a positive number of pixels, got {max_side!r}")


def _as_model(style):
    """(model, label): a keras model as is; a path or bundled name loaded by style_nets."""
    from albumlib.style import style_nets
    if isinstance(style, (str, os.PathLike)):
        choice = style_nets.find(style)     # a name, a file or a mix (wave=0.7,udnie=0.3)
        return style_nets.load_choice(choice, precision="auto"), choice.label
    if not callable(style):
        raise TypeError(f"style must be a model, a file path or a bundled network name, "
                        f"not {type(style).__name__}")
    return style, getattr(style, "name", "stylized")


def _finish(stylized, original, strength, preserve_color):
    """Optional colour preservation, then blending with the photo."""
    out = stylized
    if preserve_color:
        out = color.transfer_luminance(out, original)
    if strength != 1.0:
        out = color.blend(out, original, strength)
    return np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)


def _too_small(a):
    return min(a.shape[:2]) < MIN_SIDE


# --------------------------------------------------------------------------- arrays


def stylize_images(model, photos, *, batch_size=4, strength=1.0, preserve_color=False,
                   max_side=None):
    """Repaint a list of images with a transform net -> list of float32 RGB arrays; notebook 02.

    `model`: a keras model, a network file or a bundled name (or any callable batch -> batch,
    such as a numpy_net network). `photos`: arrays (float [0, 1] or uint8, any sizes) or image
    paths. Photos of the same size (after `max_side`) run together, up to `batch_size` per
    network call. `strength` blends with the photo (1: fully repainted,
    0: the photo), `preserve_color` keeps the photo's colours (luminance-only transfer). Each
    output has its (shrunk) photo's size.
    """
    _check_options(batch_size, strength, max_side)
    model, _ = _as_model(model)
    arrays = [images.as_rgb(p, max_side) for p in photos]
    for i, a in enumerate(arrays):
        if _too_small(a):
            raise ValueError(f"photo {i} is {a.shape[1]}x{a.shape[0]} pixels; the transform net "
                             f"needs at least {MIN_SIDE} on each side")
    out = [None] * len(arrays)
    for batch in plan_batches([a.shape for a in arrays], batch_size):
        result = _run_batch(model, np.stack([arrays[i] for i in batch]))
        for i, stylized in zip(batch, result):
            out[i] = _finish(stylized, arrays[i], strength, preserve_color)
    return out


# --------------------------------------------------------------------------- albums


def _candidates(inputs):
    """[(source, [photo files])] for folders and single files; missing inputs raise.

    A photo given twice (as a file and inside a folder, or a folder twice) is repainted once.
    """
    sources, seen = [], set()
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            if item.resolve() in seen:
                continue
            files = images.list_album(item)
            inside = {p.resolve() for p in files}
            # images.iter_album loads the whole folder: drop loose copies given earlier instead
            sources = [(s, f) for s, f in sources if s.is_dir() or f[0].resolve() not in inside]
            seen |= inside | {item.resolve()}
            sources.append((item, files))
        elif item.exists():
            if item.resolve() not in seen:
                seen.add(item.resolve())
                sources.append((item, [item]))
        else:
            raise FileNotFoundError(f"{item}: no such photo or folder")
    return sources


def photo_sizes(inputs, max_side=None):
    """Yield the (H, W) of each photo of `inputs` (files and album folders, as stylize_album
    takes them) after `max_side`, read from the file headers without decoding the pixels;
    unreadable files are left out, a missing input raises FileNotFoundError."""
    from PIL import Image
    inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    for _, files in _candidates(inputs):
        for path in files:
            try:
                with Image.open(path) as im:
                    width, height = im.size
                    if im.getexif().get(0x0112) in (5, 6, 7, 8):     # EXIF: turned a quarter
                        width, height = height, width
            except (OSError, ValueError, Image.DecompressionBombError):
                continue
            scale = 1.0 if max_side is None else min(1.0, max_side / max(width, height, 1))
            yield max(1, round(height * scale)), max(1, round(width * scale))


def _load_photos(sources, max_side, bar):
    """Yield (index, path, image) of each readable photo; skip the others with a warning."""
    index = 0
    for source, files in sources:
        if source.is_dir():
            position = {p: i for i, p in enumerate(files)}
            done = 0
            for path, image in images.iter_album(source, max_side=max_side, progress=False):
                i = position.get(path, done)
                bar.update(max(0, i + 1 - done))     # skipped files count as done too
                done = max(done, i + 1)
                yield index + i, path, image
            bar.update(max(0, len(files) - done))
        else:
            path = files[0]
            bar.update(1)
            try:
                yield index, path, images.load_image(path, max_side=max_side)
            except (images.ImageError, OSError) as e:
                problem = e.problem if isinstance(e, images.ImageError) else str(e)
                warnings.warn(f"skipping {path}: {problem}", images.SkippedImageWarning,
                              stacklevel=3)
        index += len(files)


def _target(out_folder, stem, suffix, overwrite, taken):
    """The output path for a photo: never an input or a file written earlier in this run, and
    never an existing file unless overwrite (fileio.unique_path's -1, -2, ... names instead)."""
    target = out_folder / f"{stem}{suffix}.jpg"
    if target.resolve() not in taken:
        return target if overwrite else unique_path(target)
    n = 1
    while True:       # same name as an input or an earlier output of this run (a.jpg and a.png)
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
        if candidate.resolve() not in taken and not candidate.exists():
            return candidate
        n += 1


def _save_new(image, out_folder, stem, suffix, overwrite, taken):
    """Save `image` under its _target name (the next one if that appears meanwhile); the path."""
    while True:
        target = _target(out_folder, stem, suffix, overwrite, taken)
        try:
            images.save_image(image, target, overwrite=overwrite)
            return target
        except FileExistsError:      # appeared since we looked: take the next name
            continue


def _album_sources(folder):
    """(sources, photo count, their names for messages) of stylize_album's photos and folders."""
    inputs = list(folder) if isinstance(folder, (list, tuple)) else [folder]
    if not inputs:
        raise ValueError("no photos or folders given")
    sources = _candidates(inputs)
    total = sum(len(files) for _, files in sources)
    where = ", ".join(str(s) for s, _ in sources)
    if total == 0:
        raise images.ImageError(where, f"no photo files found (looked for "
                                       f"{', '.join(images.IMAGE_EXTENSIONS)})")
    return sources, total, where


def _output_suffix(suffix, label):
    """The end of the written files' names (default `_<style label>`); no folder separators."""
    suffix = f"_{label}" if suffix is None else str(suffix)
    if "/" in suffix or "\\" in suffix:
        raise ValueError(f"suffix must not contain folder separators, got {suffix!r}")
    return suffix


def stylize_album(folder, style, out_folder, *, max_side=None, batch_size=4, strength=1.0,
                  preserve_color=False, suffix=None, overwrite=False, progress=True):
    """Repaint every photo of an album with a trained fast network; returns the written paths.

    `folder`: an album folder, a photo file, or a list of them. `style`: a keras model, a
    network file (.npz / .keras) or a bundled network name (style_nets.resolve), or a
    numpy_net network (the CLI's TensorFlow-free path). Writes
    `<photo stem>_<style>.jpg` (`<stem><suffix>.jpg` when `suffix` is given) into `out_folder`
    (created if missing), each file whole or not at all. Existing files are never replaced unless
    `overwrite=True`: the new file gets a -1, -2, ... name instead; input photos are never
    touched. Unreadable photos are skipped with a SkippedImageWarning naming them; an album with
    no readable photo raises ImageError. `max_side` shrinks photos first (bounded memory);
    `batch_size`, `strength` and `preserve_color` as in `stylize_images`. The returned paths are
    in album order. Taught in notebook 02.
    """
    from tqdm.auto import tqdm

    _check_options(batch_size, strength, max_side)
    sources, total, where = _album_sources(folder)
    model, label = _as_model(style)
    suffix = _output_suffix(suffix, label)
    out_folder = Path(out_folder)
    taken = {p.resolve() for _, files in sources for p in files}    # never write over an input
    written = {}                                                     # album index -> path
    pending = collections.OrderedDict()                              # (H, W) -> [(i, path, img)]

    def run(shape):
        group = pending.pop(shape)
        result = _run_batch(model, np.stack([img for _, _, img in group]))
        out_folder.mkdir(parents=True, exist_ok=True)
        for (i, path, img), stylized in zip(group, result):
            final = _finish(stylized, img, strength, preserve_color)
            target = _save_new(final, out_folder, Path(path).stem, suffix, overwrite, taken)
            taken.add(target.resolve())
            written[i] = target

    with tqdm(total=total, desc="stylizing", unit="photo", disable=not progress) as bar:
        for i, path, img in _load_photos(sources, max_side, bar):
            if _too_small(img):
                warnings.warn(f"skipping {path}: {img.shape[1]}x{img.shape[0]} pixels is too "
                              f"small (the network needs {MIN_SIDE} on each side)",
                              images.SkippedImageWarning, stacklevel=2)
                continue
            shape = img.shape[:2]
            pending.setdefault(shape, []).append((i, path, img))
            if len(pending[shape]) >= batch_limit(shape, batch_size):
                run(shape)
            elif sum(len(g) for g in pending.values()) > PENDING_BATCHES * batch_size:
                run(next(iter(pending)))      # the oldest group, as far as it got
        while pending:
            run(next(iter(pending)))
    if not written:
        raise images.ImageError(where, f"none of its {total} photo files could be read "
                                       "(see the warnings above)")
    return [written[i] for i in sorted(written)]
