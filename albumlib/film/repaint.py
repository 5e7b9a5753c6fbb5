"""Phase 1 of the album film: the photos repainted, each in its style (notebooks 02 and 06).

Styles are resolved before any work (a bundled fast network's name, a trained `.npz`/`.keras`
file, a mix of one multi-style network's paintings, a model, or "none" to keep a photo as it is),
each network loaded once when its first photo comes, and the photos repainted one at a time,
shrunk to `max_side` first. A photo kept as it is is only checked; a repainted one stays in
memory as uint8 or goes to a folder as a JPEG. `morpher` repaints two neighbouring photos at the
style mixes between their styles, for the morph transition.
"""

import os
import warnings
from pathlib import Path

import numpy as np

from albumlib import images
from albumlib.film.frames import MORPH_LEVELS

NO_STYLE = "none"
SHEET_HEIGHT = 160              # height of one row of the contact sheet


def means_none(value):
    """Whether a style (or music) option is the word "none": keep the photo (no music)."""
    return isinstance(value, str) and value.strip().lower() == NO_STYLE


def style_entries(style):
    """style argument -> non-empty list of entries (names, paths, models or "none"); notebook 06."""
    if style is None:
        return [NO_STYLE]
    if isinstance(style, (str, os.PathLike)) or callable(style):
        return [style]
    entries = list(style)
    if not entries:
        raise ValueError("style: give at least one style name or path (or 'none')")
    return entries


def resolve_styles(style):
    """[(label, style_nets.StyleChoice, model or None)] per entry; "none": ("none", None, None).

    Raises ValueError (listing the bundled networks) for an unknown name before any work.
    """
    resolved = []
    for entry in style_entries(style):
        if means_none(entry):
            resolved.append((NO_STYLE, None, None))
        elif isinstance(entry, (str, os.PathLike)):
            from albumlib.style import style_nets     # TensorFlow: only when something is repainted

            choice = style_nets.find(entry)     # a name, a file or a mix (wave=0.7,udnie=0.3)
            resolved.append((choice.label, choice, None))
        elif callable(entry):
            resolved.append((getattr(entry, "name", "stylized"), None, entry))
        else:
            raise TypeError(f"style must be a bundled network name, a file path, a model or "
                            f"'none', not {type(entry).__name__}")
    return resolved


def _load(path, max_side):
    """(image, None) or (None, problem) for one photo file."""
    try:
        return images.load_image(path, max_side=max_side), None
    except images.ImageError as e:
        return None, e.problem
    except OSError as e:
        return None, str(e)


def _thumb(image, height=SHEET_HEIGHT):
    """An image shrunk to `height` pixels high, for the contact sheet."""
    h, w = image.shape[:2]
    return images.resize_to(image, max(1, round(w * height / h)), height)


class _Models:
    """Loads each style network once, when its first photo comes."""

    def __init__(self, resolved):
        self.resolved = resolved
        self.models = {}

    def get(self, k):
        label, path, model = self.resolved[k % len(self.resolved)]
        if label == NO_STYLE:
            return label, None
        if model is not None:
            return label, model
        if path not in self.models:        # (a StyleChoice)
            from albumlib.style import style_nets
            self.models[path] = style_nets.load_choice(path, precision="auto")
        return label, self.models[path]


def repaint_photos(files, resolved, *, max_side, strength, preserve_color, store_dir,
                    sheet, progress, skipped):
    """Phase 1: (film items, labels, used paths, written paths, sheet thumbnails); notebook 06."""
    from tqdm.auto import tqdm

    models = _Models(resolved)
    any_style = any(label != NO_STYLE for label, _, _ in resolved)
    if any_style:
        from albumlib.style import fast_style, stylize      # TensorFlow: only when repainting
    items, labels, used, written, thumbs = [], [], [], [], []
    taken = set()
    with tqdm(files, desc="repainting" if any_style else "checking photos", unit="photo",
              disable=not progress) as bar:
        for path in bar:
            label, model = models.get(len(items))
            if model is None:
                # Kept as it is: only check that it decodes (a JPEG decodes at 1/8 scale for
                # this); the film loads it at the canvas size when its turn comes.
                image, problem = _load(path, 4 * SHEET_HEIGHT if sheet else 64)
            else:
                image, problem = _load(path, max_side)
            if problem is not None:
                warnings.warn(f"skipping {path}: {problem}", images.SkippedImageWarning,
                              stacklevel=4)
                skipped.append((Path(path), problem))
                continue
            if model is not None and min(image.shape[:2]) < fast_style.MIN_SIDE:
                warnings.warn(f"{path}: {image.shape[1]}x{image.shape[0]} pixels is too small "
                              f"for the style network; it appears as it is",
                              images.SkippedImageWarning, stacklevel=4)
                label, model = NO_STYLE, None
            if model is None:
                item = Path(path)
                if sheet:
                    thumbs.append((_thumb(image), _thumb(image)))
            else:
                out = stylize.stylize_images(model, [image], strength=strength,
                                             preserve_color=preserve_color)[0]
                if sheet:
                    thumbs.append((_thumb(image), _thumb(out)))
                item = images.to_uint8(out)
                del out
                if store_dir is not None:
                    stem = f"{Path(path).stem}_{label}"
                    target, n = Path(store_dir) / f"{stem}.jpg", 0
                    while target.name in taken:   # two photos with the same stem (a.jpg, a.png)
                        n += 1
                        target = Path(store_dir) / f"{stem}-{n}.jpg"
                    taken.add(target.name)
                    images.save_image(item, target, overwrite=True)
                    written.append(target)
                    item = target
            items.append(item)
            labels.append(label)
            used.append(Path(path))
    return items, labels, used, written, thumbs


def morpher(resolved, used, labels, *, max_side, strength, preserve_color, notes):
    """morph(k) for assemble.make_video: photos k and k + 1 repainted at the style mixes between
    their styles (MORPH_LEVELS of them), when both styles live in one multi-style network;
    None for a pair that crossfades instead (notebook 06)."""
    from albumlib.style import style_nets, stylize
    choices = [resolved[k % len(resolved)][1] for k in range(len(used))]
    loaded = {}

    def network(choice):
        """(names, a bound model whose mix can change) of a choice's file, loaded once."""
        if choice.path not in loaded:
            names = style_nets.style_names(choice.path)
            model = style_nets.load(choice.path)
            loaded[choice.path] = (names, style_nets.bind(model,
                                                          np.full(len(names), 1 / len(names))))
        return loaded[choice.path]

    def can_morph(a, b):
        return (isinstance(a, style_nets.StyleChoice) and isinstance(b, style_nets.StyleChoice)
                and a.mix and b.mix and a.path == b.path and a.mix != b.mix)

    pairs = [k for k in range(len(used) - 1) if NO_STYLE not in labels[k:k + 2]
             and can_morph(choices[k], choices[k + 1])]
    if len(pairs) < len(used) - 1:
        notes.append(f"morph: {len(used) - 1 - len(pairs)} of {len(used) - 1} transitions "
                     f"crossfade instead (a morph needs two styles of one multi-style network)")

    def morph(k):
        if k not in pairs:
            return None
        names, bound = network(choices[k])
        va, vb = (style_nets.mix_vector(names, choices[j].mix) for j in (k, k + 1))
        photos = [_load(used[j], max_side)[0] for j in (k, k + 1)]
        levels = []
        for i in range(MORPH_LEVELS):
            u = (i + 0.5) / MORPH_LEVELS
            style_nets.set_mix(bound, (1 - u) * va + u * vb)
            a, b = stylize.stylize_images(bound, photos, strength=strength,
                                          preserve_color=preserve_color)
            levels.append((u, images.to_uint8(a), images.to_uint8(b)))
        return levels

    return morph
