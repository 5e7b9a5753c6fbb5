"""Whole-or-nothing file writing (used by every module that writes outputs or checkpoints)."""

import contextlib
import glob
import hashlib
import os
import re
import shutil
import tempfile
import time
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds.

    The temporary file is named `.NAME.p<pid>-XXXX.tmp.EXT`, so that a later write of the same
    file removes what a killed process (SIGKILL, a power cut) left (see `remove_stale_partials`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(path)
    tmp = None
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.p{os.getpid()}-",
                                    suffix=f".tmp{path.suffix}", dir=path.parent)
        tmp = Path(name)
        os.close(fd)
        os.chmod(tmp, new_file_mode())  # mkstemp makes 0600 files; give the usual permissions
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def pid_alive(pid):
    """True when a process with this id runs on this machine (any user's)."""
    pid = int(pid)
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:     # another user's process
        return True
    return True


_PID_PART = re.compile(r"p(\d+)-")


def _owner_pid(name, prefix):
    """The pid written after `prefix` in a leftover's name, or None."""
    match = _PID_PART.match(name, len(prefix)) if name.startswith(prefix) else None
    return int(match.group(1)) if match else None


def remove_stale_partials(path):
    """Remove the hidden partial files of `path` that killed processes left; return them."""
    path = Path(path)
    prefix = f".{path.stem}."
    removed = []
    with contextlib.suppress(OSError):
        for leftover in path.parent.glob(f"{glob.escape(prefix)}p*-*.tmp{glob.escape(path.suffix)}"):
            pid = _owner_pid(leftover.name, prefix)
            if pid is not None and not pid_alive(pid):
                with contextlib.suppress(OSError):
                    leftover.unlink()
                    removed.append(leftover)
    return removed


def swap_dir(new, target):
    """Put the finished folder `new` in the place of `target` whole (the old one goes last)."""
    new, target = Path(new), Path(target)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.p{os.getpid()}-{time.time_ns()}.old")
        os.replace(target, old)
    try:
        os.replace(new, target)
    except BaseException:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


TEMP_PREFIX = "albumlib-"


def temp_dir(kind):
    """A TemporaryDirectory named albumlib-KIND-p<pid>-XXXX (stale ones: remove_stale_temp_dirs)."""
    return tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{kind}-p{os.getpid()}-")


def remove_stale_temp_dirs(folder=None):
    """Remove albumlib's temporary folders whose process was killed; return them (CLI start)."""
    folder = Path(folder or tempfile.gettempdir())
    removed = []
    with contextlib.suppress(OSError):
        for leftover in folder.glob(f"{TEMP_PREFIX}*-p*-*"):
            kind_end = leftover.name.find("-p", len(TEMP_PREFIX))
            pid = _owner_pid(leftover.name, leftover.name[:kind_end + 1]) if kind_end > 0 else None
            if pid is not None and leftover.is_dir() and not pid_alive(pid):
                shutil.rmtree(leftover, ignore_errors=True)
                removed.append(leftover)
    return removed


def new_file_mode():
    """Permissions of a newly created file under the current umask (0o644 with umask 022)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_bytes(path, data):
    """Write `data` to `path` whole or not at all."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def read_format_json(path, fmt, version):
    """The JSON object in `path`, checked to carry {"format": fmt, "version": version}, or a
    ValueError that names the file."""
    import json
    try:
        meta = json.loads(Path(path).read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(meta, dict) or meta.get("format") != fmt or meta.get("version") != version:
        raise ValueError(f"{path}: not a version-{version} {fmt} file")
    return meta


def sha256_file(path, chunk=1 << 20):
    """Return the hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def unique_path(path):
    """Return `path`, or `name-1.ext`, `name-2.ext`, ... if it exists (never overwrite user files)."""
    path = Path(path)
    candidate, n = path, 0
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


class NotWritableError(OSError):
    """An output location cannot be written; found before any work starts."""


def writable_problem(folder):
    """Why files cannot be made in `folder` (or the parent it would be made in), or None."""
    existing = Path(folder).expanduser().absolute()
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    try:    # really try: permissions alone miss read-only file systems (and root ignores them)
        fd, probe = tempfile.mkstemp(prefix=".albumlib-write-test-", dir=existing)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        return f"{existing} cannot be written ({err.strerror or err})"
    return None


def check_writable(folder, what):
    """Raise NotWritableError naming `what` when `folder` cannot be written (checked up front)."""
    problem = writable_problem(folder)
    if problem:
        raise NotWritableError(f"cannot write {what}: {problem}")
