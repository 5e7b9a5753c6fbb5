"""Reading a Debian package (.deb) in Python: its ar members, control fields and selected files."""

import contextlib
import dataclasses
import io
import shutil
import subprocess
import tarfile
import warnings
from pathlib import Path

from .corpus_sources import CorpusError, CorpusWarning, matches_any

MAX_MEMBER_BYTES = 200 << 20          # a package member this big is not read into memory


# ---------------------------------------------------------------------------------------------
# Reading a .deb in Python: an ar archive holding control.tar.* and data.tar.*
# ---------------------------------------------------------------------------------------------

def ar_members(path):
    """Return [(name, offset, size)] of the members of an ar archive (a .deb), or ValueError."""
    path = Path(path)
    total = path.stat().st_size
    members = []
    with open(path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise ValueError(f"{path}: not a Debian package (no ar archive header)")
        while True:
            start = f.tell()
            header = f.read(60)
            if not header.strip(b"\n"):
                break
            if len(header) < 60 or header[58:60] != b"`\n":
                raise ValueError(f"{path}: damaged ar member header at byte {start}")
            name = header[:16].decode("ascii", "replace").strip().rstrip("/")
            try:
                size = int(header[48:58].decode("ascii").strip())
            except ValueError:
                raise ValueError(f"{path}: damaged size in the ar member header at byte {start}") \
                    from None
            offset = start + 60
            if offset + size > total:
                raise ValueError(f"{path}: truncated: member {name!r} needs {offset + size:,} "
                                 f"bytes, the file has {total:,}")
            members.append((name, offset, size))
            f.seek(offset + size + (size & 1))
    return members


class _Slice(io.RawIOBase):
    """A read-only window of `size` bytes at `offset` of an open binary file."""

    def __init__(self, f, offset, size):
        super().__init__()
        self._f, self._pos, self._left = f, offset, size

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self._left)
        if n <= 0:
            return 0
        self._f.seek(self._pos)
        data = self._f.read(n)
        buffer[:len(data)] = data
        self._pos += len(data)
        self._left -= len(data)
        return len(data)


def _zstd_reader(raw):
    """A decompressing reader for zstd data from Python's own support, or None if there is none."""
    try:
        from compression import zstd      # Python 3.14+
        return zstd.ZstdFile(raw)
    except ImportError:
        pass
    try:
        import zstandard
    except ImportError:
        return None
    return zstandard.ZstdDecompressor().stream_reader(raw)


_TAR_MODES = {"": "r|", ".gz": "r|gz", ".xz": "r|xz", ".bz2": "r|bz2"}


@contextlib.contextmanager
def open_deb_tar(deb, part="data"):
    """Yield (TarFile in stream mode, how it was read) for a .deb's data.tar.* or control.tar.*.

    xz, gzip, bzip2 and plain tars are read by Python's tarfile; zstd by Python's zstd support
    where there is one (Python 3.14+, or the `zstandard` package), else through
    `dpkg-deb --fsys-tarfile` / `--ctrl-tarfile` when dpkg-deb is installed.
    """
    deb = Path(deb)
    prefix = f"{part}.tar"
    found = [(n, o, s) for n, o, s in ar_members(deb) if n == prefix or n.startswith(prefix + ".")]
    if not found:
        raise ValueError(f"{deb}: holds no {prefix}.* member; not a Debian package")
    name, offset, size = found[0]
    ext = name[len(prefix):]
    with open(deb, "rb") as f:
        raw = io.BufferedReader(_Slice(f, offset, size), buffer_size=1 << 20)
        if ext in _TAR_MODES:
            with tarfile.open(fileobj=raw, mode=_TAR_MODES[ext]) as tf:
                yield tf, f"Python tarfile ({ext[1:] or 'uncompressed'})"
            return
        if ext != ".zst":
            raise ValueError(f"{deb}: {name} uses a compression this reader does not know")
        reader = _zstd_reader(raw)
        if reader is not None:
            with reader, tarfile.open(fileobj=reader, mode="r|") as tf:
                yield tf, "Python zstd"
            return
    dpkg_deb = shutil.which("dpkg-deb")
    if dpkg_deb is None:
        raise CorpusError(f"{deb}: {name} is zstd-compressed, and neither Python's zstd support "
                          "(Python 3.14+ or `pip install zstandard`) nor dpkg-deb is available")
    flag = "--fsys-tarfile" if part == "data" else "--ctrl-tarfile"
    with subprocess.Popen([dpkg_deb, flag, str(deb)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tf:
                yield tf, f"dpkg-deb {flag} (zstd)"
        finally:
            proc.stdout.read()
            err = proc.stderr.read().decode(errors="replace").strip()
            proc.wait()
        if proc.returncode:
            why = err.splitlines()[-1] if err else f"exit status {proc.returncode}"
            raise CorpusError(f"{deb}: dpkg-deb {flag} failed: {why}")


def _member_name(member):
    """The member's path without a leading "./", or None (with a warning) if it is unsafe."""
    name = member.name
    parts = name.split("/")
    if name.startswith("/") or ".." in parts or "\\" in name or "\x00" in name:
        warnings.warn(f"refusing archive member {name!r}: absolute path or '..' component",
                      CorpusWarning, stacklevel=3)
        return None
    while name.startswith("./"):
        name = name[2:]
    return name


def read_control(deb):
    """Return the fields of a .deb's control file as a dict (Package, Version, Architecture)."""
    with open_deb_tar(deb, "control") as (tf, _):
        for member in tf:
            if member.isreg() and _member_name(member) == "control":
                return parse_fields(tf.extractfile(member).read().decode("utf-8", "replace"))
    raise ValueError(f"{deb}: holds no control file; not a Debian package")


def parse_fields(text):
    """Parse one RFC 822 style paragraph into {field: value} (continuation lines kept)."""
    fields, key = {}, None
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip()
            fields[key] = value.strip()
    return fields


@dataclasses.dataclass
class PackageFiles:
    """What was read from one .deb: its control fields and the selected members' bytes."""

    control: dict
    members: dict           # path -> bytes, the members matching the source's `take` globs
    copyright: str | None   # usr/share/doc/PACKAGE/copyright
    licence_files: dict     # path -> bytes, the members matching `licence_files`
    unpacked_with: str


def read_package(deb, source):
    """Read the members `source` needs from `deb` in one pass over its data.tar stream."""
    control = read_control(deb)
    if control.get("Package") != source.package:
        raise CorpusError(f"{deb}: is package {control.get('Package')!r}, "
                          f"expected {source.package!r}")
    copyright_path = f"usr/share/doc/{source.package}/copyright"
    members, extra, copyright_text = {}, {}, None
    with open_deb_tar(deb, "data") as (tf, how):
        for member in tf:
            name = _member_name(member)
            if name is None or not member.isreg():
                continue        # links and folders are never taken (KDE's size links, faces/*)
            wanted = matches_any(name, source.take)
            is_extra = matches_any(name, source.licence_files)
            if not (wanted or is_extra or name == copyright_path):
                continue
            if member.size > MAX_MEMBER_BYTES:
                warnings.warn(f"{deb}: skipping {name}: {member.size:,} bytes is too big",
                              CorpusWarning, stacklevel=2)
                continue
            data = tf.extractfile(member).read()
            if name == copyright_path:
                copyright_text = data.decode("utf-8", "replace")
            if wanted:
                members[name] = data
            if is_extra:
                extra[name] = data
    return PackageFiles(control, members, copyright_text, extra, how)
