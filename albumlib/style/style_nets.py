"""Saving, loading and finding trained fast style-transfer networks (taught in notebook 02).

A trained transform network (albumlib.style.fast_style.build_transform_net) is exported as two files:

- `<name>.keras`: the Keras archive (architecture + float32 weights), loadable anywhere with
  `keras.saving.load_model(path, safe_mode=True)` once albumlib.style.fast_style is imported (its layers
  are registered there). The training info is stored inside the archive as `albumlib_info.json`.
- `<name>.npz`: a small weights file: the weights as float16 (half the size: about 3.4 MB for
  the default 1.68 M-parameter network), the architecture settings and the training info, both as
  JSON text in uint8 arrays. No pickles: it loads with `np.load(path, allow_pickle=False)`. The
  network is rebuilt from the stored settings and the weights are cast back to float32; the
  outputs differ from the float32 network's by about float16's precision (~1e-3).

Each file is written whole or not at all (a temporary file in the same folder, then a rename).

Bundled networks live in data/fast_styles/<style>.npz; `resolve("starry_night")` finds them, and
`python -m albumlib train-style` trains new ones.

Importing this module loads no Keras: reading the files (read_npz, read_pair), finding and mixing
styles (find, parse_mix, resolve, style_names) are plain numpy, shared with
albumlib.style.numpy_net (the CLI's TensorFlow-free path); the functions that build Keras models
import Keras when called.
"""

import dataclasses
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from albumlib import paths
from albumlib.fileio import atomic_path

FORMAT = "albumlib-style-net"
FORMAT_VERSION = 1
SUFFIXES = (".npz", ".keras")
INFO_MEMBER = "albumlib_info.json"      # the info inside a .keras archive
_FLOAT16_MAX = float(np.finfo(np.float16).max)
TRAIN_HINT = ("train one with `python -m albumlib train-style --style starry_night --data-dir "
              "PHOTOS --out OUT` and pass OUT/starry_night.npz")


# --------------------------------------------------------------------------- helpers


def _json_bytes(value, what):
    """JSON text of `value` as a uint8 array (raises ValueError if it is not JSON-able)."""
    try:
        text = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be JSON-able (dicts, lists, str, numbers): {err}") from err
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _from_json_bytes(array):
    """Inverse of _json_bytes."""
    return json.loads(np.asarray(array, dtype=np.uint8).tobytes().decode("utf-8"))


def _jsonable(value):
    """numpy scalars and arrays, tuples and Paths inside `value` -> plain JSON types."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _check_name(name):
    """A file stem without folders in it."""
    name = str(name)
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"name must be a plain file name without folders, got {name!r}")
    return name


def _rebuilt(model, config):
    """A fresh transform net in the current dtype policy (float32 unless inside
    fast_train.precision_scope) with `model`'s weights as float32 arrays (drops mixed precision
    policies and tf.distribute mirrored variables, so that a saved file loads anywhere)."""
    from albumlib.style import fast_style
    clean = fast_style.build_transform_net(name=model.name, **config)
    weights = [np.asarray(w, dtype=np.float32) for w in model.get_weights()]
    try:
        clean.set_weights(weights)
    except ValueError as err:
        raise ValueError(f"{model.name}: its weights do not fit a transform net with settings "
                         f"{config} ({err})") from err
    return clean


def _half(array):
    """float16 copy of a weight array, or float32 where float16 would overflow."""
    array = np.asarray(array, dtype=np.float32)
    if array.size and float(np.max(np.abs(array))) > _FLOAT16_MAX:
        return array
    return array.astype(np.float16)


# --------------------------------------------------------------------------- export


def export(model, out_dir, name, info=None, formats=("keras", "npz")):
    """Write `<name>.keras` and a small float16 `<name>.npz` of a transform net; notebook 02.

    `info`: a JSON-able dict stored with the network (style, steps, images, time, final losses,
    ...); read it back with `info(path)`. Each file is written whole or not at all; existing files
    of the same name are replaced. `formats` picks which of the two to write (the bundled networks
    ship only the .npz). Returns {"keras": path, "npz": path} for those written.
    """
    from albumlib.style import fast_style
    unknown = set(formats) - {"keras", "npz"}
    if unknown or not formats:
        raise ValueError(f"formats must be a non-empty subset of ('keras', 'npz'), got {formats}")
    name = _check_name(name)
    out_dir = Path(out_dir)
    config = fast_style.transform_net_config(model)     # ValueError for other models
    config = {**config, "filters": list(config["filters"])}
    info = _jsonable(dict(info or {}))
    info_bytes = _json_bytes(info, "info")
    clean = _rebuilt(model, config)
    weights = clean.get_weights()
    meta = {"format": FORMAT, "version": FORMAT_VERSION, "name": clean.name,
            "architecture": config, "params": int(sum(w.size for w in weights)),
            "shapes": [list(w.shape) for w in weights],
            "names": [v.path for v in clean.weights]}
    arrays = {f"weight_{i:04d}": _half(w) for i, w in enumerate(weights)}
    arrays["config"] = _json_bytes(meta, "config")
    arrays["info"] = info_bytes

    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    if "npz" in formats:
        written["npz"] = out_dir / f"{name}.npz"
        with atomic_path(written["npz"]) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)
    if "keras" in formats:
        written["keras"] = out_dir / f"{name}.keras"
        # atomic_path's temporary name ends in ".tmp.keras", the suffix model.save insists on.
        with atomic_path(written["keras"]) as tmp:
            clean.save(tmp)
            with zipfile.ZipFile(tmp, "a") as archive:
                archive.writestr(INFO_MEMBER, info_bytes.tobytes())
    return written


# --------------------------------------------------------------------------- loading


def _existing_file(path):
    """`path` as a Path, or FileNotFoundError / IsADirectoryError naming it."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such style network file")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder, not a style network file "
                                f"({' or '.join(SUFFIXES)})")
    return path


def _check_suffix(path):
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{path}: not a style network file; expected a .keras or .npz file "
                         "written by albumlib.style.style_nets.export")
    return suffix


def read_npz(path):
    """(meta, weights, info) of one of our .npz files, or ValueError naming it."""
    try:
        with np.load(path, allow_pickle=False) as data:
            if "config" not in data.files:
                raise ValueError("it holds no network settings (not written by "
                                 "albumlib.style.style_nets.export?)")
            meta = _from_json_bytes(data["config"])
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError(f"its settings are not those of an {FORMAT} file")
            if int(meta.get("version", 0)) > FORMAT_VERSION:
                raise ValueError(f"written by a newer albumlib (format version "
                                 f"{meta.get('version')}); update albumlib")
            keys = sorted(k for k in data.files if k.startswith("weight_"))
            weights = [np.asarray(data[k], dtype=np.float32) for k in keys]
            info = _from_json_bytes(data["info"]) if "info" in data.files else {}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile,
            UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a readable style network file ({err})") from err
    return meta, weights, info


def _load_npz(path):
    from albumlib.style import fast_style
    meta, weights, _ = read_npz(path)
    arch = meta.get("architecture") or {}
    try:
        model = fast_style.build_transform_net(
            upsample=arch.get("upsample", "resize"),
            filters=tuple(arch.get("filters", fast_style.DEFAULT_FILTERS)),
            residual_blocks=arch.get("residual_blocks", 5),
            name=meta.get("name") or "transform_net", n_styles=arch.get("n_styles"),
            outer_kernel=arch.get("outer_kernel", 9))
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: invalid network settings {arch} ({err})") from err
    expected = [tuple(w.shape) for w in model.get_weights()]
    check_weights(path, weights, expected == [tuple(w.shape) for w in weights], len(expected))
    model.set_weights(weights)
    return model


def check_weights(path, weights, fits, expected_count):
    """ValueError naming `path` (the file is damaged) when its `weights` do not fit the network it
    describes (`fits` False) or are not all finite; shared with numpy_net."""
    if not fits:
        raise ValueError(f"{path}: holds {len(weights)} weight arrays that do not fit the network "
                         f"it describes ({expected_count} arrays expected); the file is damaged")
    if not all(np.all(np.isfinite(w)) for w in weights):
        raise ValueError(f"{path}: holds weights that are not finite numbers; the file is damaged")


def _load_keras(path):
    import keras

    from albumlib.style import fast_style       # registers the layers the archive names
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as err:  # noqa: BLE001 - Keras raises many kinds; say which file failed
        raise ValueError(f"{path}: not a loadable Keras model ({type(err).__name__}: "
                         f"{str(err)[:300]})") from err
    if not isinstance(model, keras.Model):
        raise ValueError(f"{path}: holds a {type(model).__name__}, not a Keras model")
    try:
        fast_style.transform_net_config(model)
    except ValueError as err:
        raise ValueError(f"{path}: is a Keras model but not a style transform network") from err
    return model


def network_file(path):
    """An existing network file for `path`, taking a bare name as a bundled network's."""
    p = Path(path).expanduser()
    if not p.exists() and isinstance(path, str) and p.suffix.lower() not in SUFFIXES \
            and len(p.parts) == 1:
        p = resolve(path)
    return _existing_file(p)


def load(path):
    """Load a transform net from `.keras` (safe mode) or our float16 `.npz`; notebook 02.

    A bundled network's name ("starry_night") works too. Raises FileNotFoundError for a missing
    file and ValueError naming the file when it is corrupt or not a style network.
    """
    p = network_file(path)
    if is_pair(p):
        return _load_pair(p)
    if _check_suffix(p) == ".npz":
        return _load_npz(p)
    return _load_keras(p)


def info(path):
    """Return the info dict stored by `export` (style, steps, images, time, losses); notebook 02.

    Works for both files (and bundled names); {} when the file carries no info.
    """
    p = network_file(path)
    if is_pair(p):
        return read_pair(p)[2]
    if _check_suffix(p) == ".npz":
        return read_npz(p)[2]
    try:
        with zipfile.ZipFile(p) as archive:
            if INFO_MEMBER not in archive.namelist():
                return {}
            return json.loads(archive.read(INFO_MEMBER).decode("utf-8"))
    except (OSError, ValueError, zipfile.BadZipFile, UnicodeDecodeError) as err:
        raise ValueError(f"{p}: not a readable .keras archive ({err})") from err


# --------------------------------------------------------------------------- bundled networks


def bundled_dir():
    """The folder of the bundled trained networks, data/fast_styles (may not exist); notebook 02."""
    return paths.data_path("fast_styles")


def _bundled_files():
    """{name: path} of the bundled networks, .npz preferred over .keras."""
    try:
        folder = bundled_dir()
    except FileNotFoundError:
        return {}
    if not folder.is_dir():
        return {}
    found = {}
    for suffix in reversed(SUFFIXES):          # .npz last, so it wins
        for p in sorted(folder.glob(f"*{suffix}")):
            if p.is_file() and not p.name.startswith("."):
                found[p.stem] = p
    return dict(sorted(found.items()))


def list_bundled():
    """Names of the bundled trained networks, e.g. ["starry_night"] ([] if none); notebook 02."""
    return list(_bundled_files())


def list_bundled_styles():
    """Every style a bundled network paints, by the name that chooses it: the one-style networks'
    names and the styles inside multi-style ones (notebook 02)."""
    names = []
    for stem, path in _bundled_files().items():
        try:
            inside = style_names(path)
        except ValueError:
            continue
        names += inside if len(inside) > 1 else [stem]
    return list(dict.fromkeys(names))


def _normalise(name):
    """'Starry Night', 'starry-night' and 'starry_night.npz' all become 'starry_night'."""
    key = name.strip().lower()
    for suffix in SUFFIXES:
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    return key.replace("-", "_").replace(" ", "_")


def resolve(style):
    """A bundled network name or an existing file -> the network file's Path; notebook 02.

    "starry_night" -> data/fast_styles/starry_night.npz when it is bundled. Otherwise a clear
    ValueError listing the bundled networks (or saying that none are bundled yet, and how to
    train one).
    """
    if not isinstance(style, (str, os.PathLike)):
        raise TypeError(f"style must be a bundled network name or a file path, "
                        f"not {type(style).__name__}")
    candidate = Path(style).expanduser()
    if candidate.is_file():
        return candidate
    bundled = _bundled_files()
    if isinstance(style, str) and _normalise(style) in bundled:
        return bundled[_normalise(style)]
    if bundled:
        styles = [s for s in list_bundled_styles() if s not in bundled]
        available = (f"bundled networks: {', '.join(bundled)}"
                     + (f" (styles: {', '.join(styles)})" if styles else ""))
    else:
        try:
            where = bundled_dir()
        except FileNotFoundError:
            where = "data/fast_styles"
        available = f"no trained networks are bundled yet (in {where}); {TRAIN_HINT}"
    if candidate.is_dir():
        raise ValueError(f"{candidate}: is a folder, not a style network file (.npz or .keras); "
                         f"{available}")
    raise ValueError(f"{str(style)!r} is neither a bundled style network nor an existing file "
                     f"(.npz or .keras); {available}")


# --------------------------------------------------------------------------- multi-style networks
#
# A multi-style network (fast_style.build_transform_net(n_styles=N), conditional instance norm)
# holds N styles in one file; its info names them: info["styles"] = ["starry_night", "wave", ...].
# A style is chosen by name ("wave"), or mixed: "wave=0.7,udnie=0.3" is the convex combination
# of the two styles' (gamma, beta) pairs. `find` turns such a text into a StyleChoice and
# `load_choice` into a one-input model (photo -> repainted photo) that the rest of albumlib uses
# like any one-style network: the mix is a constant inside it, so mixing costs nothing per photo.


@dataclasses.dataclass(frozen=True)
class StyleChoice:
    """A style as chosen by the user: its label, the network file and, for a multi-style
    network, the weights of its styles ((name, weight) pairs summing to 1); notebook 02."""

    label: str
    path: Path
    mix: tuple = ()             # ((name, weight), ...); () for a one-style network


def style_names(path):
    """The style names of a multi-style network file ([] for a one-style one); notebook 02.

    A learnt style's file (export_style) names its base network's styles and its own, last.
    """
    path = network_file(path)
    if is_pair(path):
        meta = read_pair(path)[0]
        return style_names(pair_base(path, meta)) + [meta["style"]]
    names = info(path).get("styles") or []
    return [str(n) for n in names]


def _multi_files():
    """{style name: bundled multi-style network file} for every style the bundled files hold."""
    found = {}
    for path in _bundled_files().values():
        try:
            for name in style_names(path):
                found.setdefault(name, path)
        except ValueError:
            continue
    return found


def parse_mix(text):
    """'wave=0.7,udnie=0.3' -> [('wave', 0.7), ('udnie', 0.3)]; 'wave' -> [('wave', 1.0)] (nb 02)."""
    parts = [part.strip() for part in str(text).split(",")]
    if not all(parts):
        raise ValueError(f"{text!r}: a style mix is NAME=WEIGHT,NAME=WEIGHT (e.g. wave=0.7,udnie=0.3)")
    mix = []
    for part in parts:
        name, sep, weight = part.partition("=")
        try:
            value = float(weight) if sep else 1.0
        except ValueError:
            raise ValueError(f"{text!r}: {weight!r} is not a number (NAME=WEIGHT)") from None
        if not (np.isfinite(value) and value >= 0):
            raise ValueError(f"{text!r}: style weights must be numbers >= 0, got {weight}")
        mix.append((_normalise(name), value))
    total = sum(w for _, w in mix)
    if total <= 0:
        raise ValueError(f"{text!r}: the style weights add up to 0")
    return [(name, w / total) for name, w in mix]


def find(style):
    """A style text -> StyleChoice: a network file, a bundled name, or a mix of the styles of a
    multi-style network ("wave=0.7,udnie=0.3", or "FILE:wave=0.7,udnie=0.3" for a trained file);
    ValueError listing what exists (notebook 02)."""
    text = os.fspath(style)
    file, sep, rest = text.rpartition(":")         # FILE:wave=0.7,udnie=0.3 for a trained file
    if sep and not isinstance(style, os.PathLike) and Path(file).expanduser().is_file():
        path = resolve(file)
        names, mix = style_names(path), parse_mix(rest)
        mix_vector(names, mix)                      # raises for a name the file does not hold
        return StyleChoice(mix_label(mix), path, tuple(mix))
    bundled_file = "=" not in text and "," not in text and _normalise(text) in _bundled_files()
    if isinstance(style, os.PathLike) or Path(text).expanduser().is_file() or bundled_file:
        path = resolve(style)
        names = style_names(path)
        if is_pair(path):                           # a learnt style: itself, the last one
            return StyleChoice(names[-1], path, ((names[-1], 1.0),))
        return StyleChoice(path.stem, path, ((names[0], 1.0),) if len(names) == 1 else ())
    mix = parse_mix(text)
    multi = _multi_files()
    missing = [name for name, _ in mix if name not in multi]
    if missing:
        if len(mix) == 1:
            resolve(style)              # raises the usual message, listing the bundled networks
        known = sorted(set(multi))
        raise ValueError(f"{text!r}: {', '.join(missing)} not in a bundled multi-style network"
                         f"{' (styles: ' + ', '.join(known) + ')' if known else ' (none is bundled)'}")
    files = {multi[name] for name, _ in mix}
    if len(files) > 1:
        raise ValueError(f"{text!r}: the styles are in different networks ({', '.join(map(str, files))}); "
                         f"only styles of one network mix")
    return StyleChoice(mix_label(mix), files.pop(), tuple(mix))


def mix_label(mix):
    """'wave' for one style, 'wave70+udnie30' for a mix (file names and film labels)."""
    return mix[0][0] if len(mix) == 1 else "+".join(f"{n}{round(w * 100)}" for n, w in mix)


def mix_vector(names, mix):
    """The (n_styles,) float32 weights of `mix` over a network's style `names` (notebook 02)."""
    vector = np.zeros(len(names), np.float32)
    for name, weight in mix:
        if name not in names:
            raise ValueError(f"style {name!r} is not in this network (styles: {', '.join(names)})")
        vector[names.index(name)] += weight
    return vector


def bind(model, vector, name=None):
    """A one-input model (photo -> repainted photo) of a multi-style `model` with its style
    weights fixed to `vector`; it shares the multi-style model's weights (notebook 02)."""
    import keras

    from albumlib.style import fast_style
    photo = keras.Input(shape=(None, None, 3), name="photo")
    out = model([photo, fast_style.StyleMix(vector, name="style_mix")(photo)])
    return keras.Model(photo, out, name=name or model.name)


def set_mix(bound, vector):
    """Change the style mix of a model made by `bind` in place (a morph's steps; notebook 06)."""
    layer = bound.get_layer("style_mix")
    layer.mix.assign(np.asarray(vector, np.float32))


PRECISIONS = ("auto", "float32", "bfloat16", "float16")


def in_precision(model, precision="auto"):
    """The same network computing in `precision` (weights stay float32); `auto`: the faster
    of float32 and reduced precision on this machine (fast_train.fastest_precision)."""
    from albumlib.style import fast_style, fast_train
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
    if precision == "auto":
        precision = fast_train.fastest_precision()
    if precision == "float32":
        return model
    with fast_train.precision_scope(precision):
        return _rebuilt(model, fast_style.transform_net_config(model))


def load_choice(choice, precision="float32"):
    """The one-input model of a StyleChoice (a mix bound into a multi-style network), computing
    in `precision` (see in_precision)."""
    from albumlib.style import fast_style
    model = in_precision(load(choice.path), precision)
    if fast_style.n_styles_of(model) is None:
        return model
    name = "".join(c if c.isalnum() or c in "_.-" else "_" for c in choice.label)  # a scope name
    return bind(model, choice_vector(choice), name=name)


def choice_vector(choice):
    """The (n_styles,) style weights of a StyleChoice of a multi-style network; ValueError when
    it names no style (the file's own name: which of its styles?)."""
    names = style_names(choice.path)
    if not choice.mix:
        raise ValueError(f"{choice.path}: holds {len(names)} styles ({', '.join(names)}); "
                         f"choose one by name or mix them (NAME=WEIGHT,NAME=WEIGHT)")
    return mix_vector(names, choice.mix)


# --------------------------------------------------------------------------- a learnt style
#
# `train-style --style my_painting.jpg --base paintings` learns only a new (gamma, beta) pair per
# conditional instance norm on top of a multi-style network (Dumoulin et al. show the shared
# convolutions serve new styles). The pair is saved alone, a few kB: `<name>.npz` holding the
# rows, the base network's file name and its sha256. Loaded, it is the base network with one more
# style, named after the painting, which mixes with the base's styles like any other.

PAIR_FORMAT = "albumlib-style-pair"


def is_pair(path):
    """True for a learnt style's file (export_style)."""
    if Path(path).suffix.lower() != ".npz":
        return False
    try:
        with np.load(path, allow_pickle=False) as data:
            return "pair" in data.files
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return False


def export_style(model, out_dir, name, base, info=None):
    """Write the learnt (gamma, beta) of the one-style `model` trained on `base` as
    `<name>.npz` (a few kB, whole or not at all); returns its path (notebook 02)."""
    from albumlib.fileio import sha256_file
    from albumlib.style import fast_style
    name = _check_name(name)
    base = network_file(base)
    norms = [layer for layer in model.layers
             if isinstance(layer, fast_style.ConditionalInstanceNormalization)]
    if not norms or any(layer.n_styles != 1 for layer in norms):
        raise ValueError(f"{model.name}: not a one-style conditional-norm network learnt on a base")
    meta = {"format": PAIR_FORMAT, "version": 1, "style": _normalise(name), "base": base.name,
            "base_sha256": sha256_file(base), "layers": [layer.name for layer in norms]}
    arrays = {"pair": _json_bytes(meta, "pair"), "info": _json_bytes(_jsonable(info or {}), "info")}
    for i, layer in enumerate(norms):
        arrays[f"scale_{i:03d}"] = np.asarray(layer.scale, np.float32)[0]
        arrays[f"offset_{i:03d}"] = np.asarray(layer.offset, np.float32)[0]
    path = Path(out_dir) / f"{name}.npz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)
    return path


def read_pair(path):
    """(meta, [(scale, offset)] per norm layer, info) of a learnt style's file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = _from_json_bytes(data["pair"])
            if meta.get("format") != PAIR_FORMAT:
                raise ValueError("not a learnt style's file")
            rows = [(data[f"scale_{i:03d}"], data[f"offset_{i:03d}"])
                    for i in range(len(meta["layers"]))]
            info = _from_json_bytes(data["info"]) if "info" in data.files else {}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile,
            UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not a readable learnt style ({err})") from err
    return meta, rows, info


def pair_base(path, meta):
    """The base network of a learnt style: beside it, else bundled; checked by its sha256."""
    from albumlib.fileio import sha256_file
    beside = Path(path).parent / meta["base"]
    bundled = _bundled_files().get(Path(meta["base"]).stem)
    for candidate in (beside, bundled):
        if candidate is not None and candidate.is_file() and \
                sha256_file(candidate) == meta["base_sha256"]:
            return candidate
    raise ValueError(f"{path}: was learnt on the network {meta['base']}, which is neither beside it "
                     f"nor bundled in this version (a retrained base needs the style learnt again)")


def _load_pair(path):
    """The base network with the learnt style appended as its last style."""
    from albumlib.style import fast_style
    meta, rows, _ = read_pair(path)
    base = load(pair_base(path, meta))
    config = fast_style.transform_net_config(base)
    config["n_styles"] += 1
    model = fast_style.build_transform_net(name=f"{base.name}_{meta['style']}", **config)
    source = {layer.name: layer for layer in base.layers}
    norms = iter(rows)
    for layer in model.layers:
        weights = source[layer.name].get_weights()
        if isinstance(layer, fast_style.ConditionalInstanceNormalization):
            scale, offset = next(norms)
            weights = [np.concatenate([weights[0], scale[None]]),
                       np.concatenate([weights[1], offset[None]])]
        layer.set_weights(weights)
    return model
