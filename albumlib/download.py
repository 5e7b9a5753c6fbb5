"""Robust downloads (resume, retry, checksum) and safe archive extraction; notebook 02.

`download` streams an http(s) URL to `dest + ".part"`, resumes that file with an HTTP Range request
after an interruption, verifies size and checksum and only then renames it to `dest`, so a file at
`dest` is always complete. `safe_extract_zip` and `safe_extract_tar` refuse entries that would land
outside the destination folder (absolute paths, `..`, drive letters, backslashes, links, device
files), write every file atomically, skip files already extracted, and write a marker file last.
Nothing here runs a shell.
"""

import hashlib
import http.client
import json
import os
import re
import shutil
import ssl
import stat
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from pathlib import Path

from . import __version__, fileio

USER_AGENT = f"albumlib/{__version__} (+urllib)"
RETRY_BACKOFF_S = 1.0        # first pause between retries; doubled each time, at most 60 s
_RETRY_HTTP_CODES = (408, 425, 429, 500, 502, 503, 504)
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError,
                   TimeoutError, ssl.SSLError)
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.IGNORECASE)
_UNSATISFIED_RANGE = re.compile(r"bytes\s+\*/(\d+)", re.IGNORECASE)


class DownloadError(OSError):
    """A download that failed (HTTP error, network down after all retries, file locked)."""


class ChecksumError(DownloadError):
    """A downloaded file whose size or checksum is not the expected one; names both values."""

    def __init__(self, path, what, expected, actual):
        self.path, self.what, self.expected, self.actual = Path(path), what, expected, actual
        super().__init__(f"{self.path}: {what} mismatch: expected {expected}, got {actual}")


class UnsafeArchiveError(ValueError):
    """An archive entry that would be written outside the destination folder, or a link."""

    def __init__(self, archive, entry, problem):
        self.archive, self.entry, self.problem = Path(archive), entry, problem
        super().__init__(f"{self.archive}: refusing entry {entry!r}: {problem} "
                         f"(nothing was extracted)")


# ---------------------------------------------------------------------------------------------
# Checks shared by download and verification
# ---------------------------------------------------------------------------------------------

def check_url(url):
    """Raise ValueError unless `url` is an http:// or https:// URL with a host."""
    try:
        parts = urllib.parse.urlsplit(str(url))
    except ValueError as e:
        raise ValueError(f"{url!r} is not a valid URL ({e})") from e
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"only http:// and https:// URLs can be downloaded, not {url!r} "
                         f"(scheme {parts.scheme or 'missing'!r}); for a file you already have, "
                         "pass its path instead")
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host name")
    return url


def _expected_digests(sha256, md5):
    """Return {"sha256": hex, "md5": hex} for the checksums given, checked for shape."""
    expected = {}
    for name, value, length in (("sha256", sha256, 64), ("md5", md5, 32)):
        if value is None:
            continue
        value = str(value).strip().lower()
        if not re.fullmatch(f"[0-9a-f]{{{length}}}", value):
            raise ValueError(f"{name} must be {length} hexadecimal digits, got {value!r}")
        expected[name] = value
    return expected


def _tqdm(**kw):
    from tqdm.auto import tqdm

    return tqdm(unit="B", unit_scale=True, unit_divisor=1024, miniters=1, **kw)


def _hash_file(path, names, progress=False, chunk=1 << 20, desc=None):
    """Return {name: hexdigest} of a file for the hash names given, read once."""
    hashers = {name: hashlib.new(name) for name in names}
    desc = desc or f"checking {Path(path).name}"
    with open(path, "rb") as f, _tqdm(total=os.path.getsize(path), desc=desc,
                                      disable=not progress, leave=False) as bar:
        for block in iter(lambda: f.read(chunk), b""):
            for h in hashers.values():
                h.update(block)
            bar.update(len(block))
    return {name: h.hexdigest() for name, h in hashers.items()}


def verify_file(path, sha256=None, size=None, md5=None, progress=False):
    """Raise ChecksumError unless `path` has the given size and checksums; return `path`."""
    path = Path(path)
    expected = _expected_digests(sha256, md5)
    actual_size = path.stat().st_size
    if size is not None and actual_size != int(size):
        raise ChecksumError(path, "size", f"{int(size):,} bytes", f"{actual_size:,} bytes")
    if expected:
        actual = _hash_file(path, expected, progress=progress)
        for name, value in expected.items():
            if actual[name] != value:
                raise ChecksumError(path, name, value, actual[name])
    return path


# ---------------------------------------------------------------------------------------------
# download
# ---------------------------------------------------------------------------------------------

class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to http(s) URLs (never to file:, ftp:, data: ...)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_url(urllib.parse.urljoin(req.full_url, newurl))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Retry(Exception):
    """Internal: one attempt failed in a way that another attempt may fix.

    `progressed`: the attempt added bytes to the .part file, so the failure count starts again
    (a restart from zero never counts as progress, so a misbehaving server cannot loop forever).
    """

    def __init__(self, reason, progressed=False):
        super().__init__(reason)
        self.progressed = progressed


def _lock(f, part):
    """Hold an exclusive lock on the .part file so two processes never write it at once."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here
        return
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        raise DownloadError(f"{part}: another process is downloading this file right now; "
                            "wait for it to finish") from e


class _Hashes:
    """Checksums of the first `nbytes` bytes of the .part file, updated as blocks arrive."""

    def __init__(self, names):
        self.names = tuple(names)
        self.reset()

    def reset(self):
        self.hashers = {name: hashlib.new(name) for name in self.names}
        self.nbytes = 0

    def update(self, block):
        for h in self.hashers.values():
            h.update(block)
        self.nbytes += len(block)

    def catch_up(self, f, offset, progress, chunk):
        """Hash the existing first `offset` bytes of `f` (a resumed .part) if not done yet."""
        if self.nbytes == offset:
            return
        self.reset()
        if not self.names:
            self.nbytes = offset
            return
        f.seek(0)
        with _tqdm(total=offset, desc="checking partial download", disable=not progress,
                   leave=False) as bar:
            while self.nbytes < offset:
                block = f.read(min(chunk, offset - self.nbytes))
                if not block:
                    break
                self.update(block)
                bar.update(len(block))

    def hexdigests(self):
        return {name: h.hexdigest() for name, h in self.hashers.items()}


def _restart(f, hashes):
    f.seek(0)
    f.truncate()
    hashes.reset()


def _attempt(opener, url, f, dest, size, hashes, progress, chunk, timeout):
    """One HTTP request that appends to the .part file; returns the expected total or None."""
    f.seek(0, os.SEEK_END)
    offset = f.tell()
    if size is not None and offset > size:
        _restart(f, hashes)             # longer than the file can be: start again
        offset = 0
    if size is not None and offset == size and offset:
        hashes.catch_up(f, offset, progress, chunk)
        return size                     # complete already: only the verification is left
    hashes.catch_up(f, offset, progress, chunk)
    response = _request(opener, url, f, offset, hashes, timeout)
    if response is None:
        return offset                   # the .part already holds the whole file
    with response:
        total, offset = _announced_total(response, url, f, offset, hashes)
        if size is not None and total is not None and total != size:
            raise ChecksumError(dest, "size (reported by the server)",
                                f"{size:,} bytes", f"{total:,} bytes")
        return _receive(response, f, dest, offset, total, hashes, progress, chunk)


def _request(opener, url, f, offset, hashes, timeout):
    """Open the request for the bytes from `offset` on; the response, or None if none are left."""
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        return opener.open(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        content_range = (e.headers.get("Content-Range") or "") if e.headers else ""
        try:
            e.close()
        except Exception:  # nothing to release
            pass
        if e.code == 416 and offset:
            m = _UNSATISFIED_RANGE.search(content_range)
            if m and int(m.group(1)) == offset:
                return None             # the .part already holds the whole file
            _restart(f, hashes)
            raise _Retry(f"HTTP 416 for bytes={offset}-; starting again from zero")
        if e.code in _RETRY_HTTP_CODES:
            raise _Retry(f"HTTP {e.code} {e.reason}") from e
        raise DownloadError(f"{url}: HTTP error {e.code} {e.reason}") from e
    except _NETWORK_ERRORS as e:
        raise _Retry(f"{type(e).__name__}: {getattr(e, 'reason', e)}") from e


def _announced_total(response, url, f, offset, hashes):
    """(the file's total size the server announces or None, the offset its bytes start at)."""
    status = getattr(response, "status", None) or response.getcode()
    total = None
    if status == 206:
        m = _CONTENT_RANGE.search(response.headers.get("Content-Range", ""))
        if not m or int(m.group(1)) != offset:
            _restart(f, hashes)     # a range we did not ask for: do not trust it
            got = response.headers.get("Content-Range")
            raise _Retry(f"server answered with range {got!r} for bytes={offset}-; starting "
                         "again from zero")
        total = int(m.group(3)) if m.group(3) != "*" else None
    elif status == 200:
        if offset:                  # the server ignored Range: it sends the whole file again
            _restart(f, hashes)
            offset = 0
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
    else:
        raise DownloadError(f"{url}: unexpected HTTP status {status}")
    return total, offset


def _receive(response, f, dest, offset, total, hashes, progress, chunk):
    """Append the response's bytes to the .part file from `offset`; return the bytes it holds."""
    received = offset
    f.seek(offset)
    with _tqdm(total=total, initial=offset, desc=dest.name,
               disable=not progress) as bar:
        while True:
            try:
                block = response.read(chunk)
            except _NETWORK_ERRORS as e:
                f.flush()
                raise _Retry(f"connection lost after {received:,} bytes "
                             f"({type(e).__name__}: {e})", received > offset) from e
            if not block:
                break
            f.write(block)
            hashes.update(block)
            received += len(block)
            bar.update(len(block))
    f.flush()
    if total is not None and received < total:
        raise _Retry(f"connection closed after {received:,} of {total:,} bytes",
                     received > offset)
    if total is not None and received > total:
        _restart(f, hashes)
        raise _Retry(f"server sent {received:,} bytes, more than the {total:,} it announced")
    return received


def download(url, dest, sha256=None, size=None, md5=None, progress=True, chunk=1 << 20, timeout=60,
             retries=3):
    """Download an http(s) URL to `dest`, resumably and verified; return `dest` as a Path.

    The bytes go to `dest + ".part"`; an existing .part is resumed with an HTTP Range request (a
    server that ignores Range and answers 200 makes it start again from zero). Once complete, the
    size and the checksums given (`sha256`, `md5`; hex strings) are checked and only then is the
    file renamed to `dest`, so `dest` is never half written. A mismatch deletes the .part and raises
    ChecksumError naming the file, the expected and the actual value. An existing `dest` that
    verifies is returned without any network access (without size or checksum, it is trusted).
    Connection errors, timeouts and HTTP 408/429/5xx are retried `retries` times with exponential
    backoff (an attempt that received bytes resets the count); other HTTP errors raise
    DownloadError at once. `timeout` is per socket operation, in seconds. Only http:// and
    https:// URLs are accepted, redirects included (ValueError otherwise).
    """
    check_url(url)
    dest = Path(dest)
    expected = _expected_digests(sha256, md5)
    size = None if size is None else int(size)
    if dest.is_dir():
        raise IsADirectoryError(f"{dest}: is a folder; give the path of the file to download to")
    if dest.exists():
        try:
            return verify_file(dest, size=size, progress=progress, **expected)
        except ChecksumError as e:
            warnings.warn(f"{e}; downloading it again", UserWarning, stacklevel=2)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = Path(str(dest) + ".part")
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    hashes = _Hashes(expected)
    fd = os.open(part, os.O_RDWR | os.O_CREAT, fileio.new_file_mode())
    with os.fdopen(fd, "r+b") as f:
        _lock(f, part)
        _attempts(opener, url, f, part, dest, size, hashes, progress, chunk, timeout, retries)
        problem = _part_problem(f, dest, size, expected, hashes, progress, chunk)
        if problem is None:
            os.fsync(f.fileno())
    if problem is not None:
        part.unlink(missing_ok=True)
        raise problem
    os.replace(part, dest)              # atomic: dest appears complete or not at all
    return dest


def _attempts(opener, url, f, part, dest, size, hashes, progress, chunk, timeout, retries):
    """Fill the .part file `f`, retrying with backoff; DownloadError after `retries` failures."""
    failures = 0
    while True:
        try:
            _attempt(opener, url, f, dest, size, hashes, progress, chunk, timeout)
            return
        except ChecksumError:
            f.close()
            part.unlink(missing_ok=True)   # the server has another file: the part is useless
            raise
        except _Retry as e:
            failures = 0 if e.progressed else failures + 1
            if failures > retries:
                raise DownloadError(
                    f"{url}: download failed after {retries + 1} attempts ({e}); the partial "
                    f"file {part} is kept and the next call resumes it") from e.__cause__
            if failures:
                time.sleep(min(RETRY_BACKOFF_S * 2 ** (failures - 1), 60.0))


def _part_problem(f, dest, size, expected, hashes, progress, chunk):
    """The ChecksumError of the finished .part file `f` (its size, then checksums), or None."""
    f.seek(0, os.SEEK_END)
    got = f.tell()
    if size is not None and got != size:
        return ChecksumError(dest, "size", f"{size:,} bytes", f"{got:,} bytes")
    hashes.catch_up(f, got, progress, chunk)
    actual = hashes.hexdigests()
    for name, value in expected.items():
        if actual[name] != value:
            return ChecksumError(dest, name, value, actual[name])
    return None


# ---------------------------------------------------------------------------------------------
# Safe extraction
# ---------------------------------------------------------------------------------------------

def extraction_marker(dest_dir, archive):
    """The marker file that `safe_extract_*` writes into `dest_dir` once `archive` is extracted."""
    return Path(dest_dir) / f".{Path(archive).name}.extracted"


def _entry_parts(archive, name):
    """Return the path components of an archive entry name, or raise UnsafeArchiveError."""
    if not name or "\x00" in name:
        raise UnsafeArchiveError(archive, name, "empty name or NUL character")
    if "\\" in name:
        raise UnsafeArchiveError(archive, name, "backslash in the name (a Windows path separator "
                                 "that could escape the destination)")
    if name.startswith("/"):
        raise UnsafeArchiveError(archive, name, "absolute path")
    if re.match(r"[A-Za-z]:", name):
        raise UnsafeArchiveError(archive, name, "drive letter in the name")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(archive, name, "'..' component (would escape the destination)")
    return parts


def _inside(root_real, target):
    """True if `target`, existing symlinks resolved, lies inside the real folder `root_real`."""
    real = os.path.realpath(target)
    return real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep)


class _Entry:
    """One archive entry to extract: where it goes, its kind and size, and how to read it."""

    __slots__ = ("name", "parts", "is_dir", "size", "mtime", "source")

    def __init__(self, name, parts, is_dir, size, mtime, source):
        self.name, self.parts, self.is_dir, self.size = name, parts, is_dir, size
        self.mtime, self.source = mtime, source


def _check_free_space(folder, needed, what):
    free = shutil.disk_usage(folder).free
    if needed > free:
        raise OSError(f"not enough disk space to extract {what} into {folder}: it needs "
                      f"{needed / 1e9:.2f} GB, {free / 1e9:.2f} GB are free")


def _marker_key(archive, entries):
    names = hashlib.sha256("\n".join(e.name for e in entries).encode("utf-8", "surrogateescape"))
    return {"archive": Path(archive).name, "archive_bytes": Path(archive).stat().st_size,
            "entries": len(entries), "bytes": sum(e.size for e in entries if not e.is_dir),
            "names_sha256": names.hexdigest()}


def _marker_ok(marker, key):
    try:
        return json.loads(marker.read_text(encoding="utf-8")) == key
    except (OSError, ValueError):
        return False


def _extract(archive, dest_dir, entries, open_entry, progress):
    """Shared body of the extractors: checks, resumable atomic writes, marker last."""
    dest = Path(dest_dir)
    marker = extraction_marker(dest, archive)
    key = _marker_key(archive, entries)
    if _marker_ok(marker, key):
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    root_real = os.path.realpath(dest)
    plan = []
    for e in entries:
        if not e.parts:
            if e.is_dir:
                continue
            raise UnsafeArchiveError(archive, e.name, "a file entry without a name")
        target = dest.joinpath(*e.parts)
        if not _inside(root_real, target):
            raise UnsafeArchiveError(archive, e.name, f"would be written outside {dest} through "
                                     "an existing symbolic link")
        plan.append((e, target))
    def done(e, t):
        return t.is_file() and not t.is_symlink() and t.stat().st_size == e.size

    todo = [(e, t) for e, t in plan if not e.is_dir and not done(e, t)]
    _check_free_space(dest, sum(e.size for e, _ in todo), Path(archive).name)
    todo_ids = {id(e) for e, _ in todo}
    with _tqdm(total=sum(e.size for e, _ in todo), desc=f"extracting {Path(archive).name}",
               disable=not progress or not todo) as bar:
        for e, target in plan:
            if e.is_dir:
                target.mkdir(parents=True, exist_ok=True)
                continue
            if id(e) not in todo_ids:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if not _inside(root_real, target.parent):   # re-check right before writing
                raise UnsafeArchiveError(archive, e.name, f"would be written outside {dest}")
            if target.is_dir() and not target.is_symlink():
                raise IsADirectoryError(f"{target}: a folder is in the way of archive entry "
                                        f"{e.name!r} of {archive}")
            with open_entry(e) as src, fileio.atomic_path(target) as tmp:
                with open(tmp, "wb") as out:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        out.write(block)
                        bar.update(len(block))
                if e.mtime is not None:
                    try:
                        os.utime(tmp, (e.mtime, e.mtime))
                    except (OverflowError, OSError, ValueError):
                        pass  # an odd timestamp in the archive is not worth failing for
    fileio.atomic_write_bytes(marker, json.dumps(key, indent=1).encode())
    return dest


def _select(archive, available, members, name_of):
    """The entries to extract: all, or those named in `members` (names or entry objects)."""
    if members is None:
        return list(available)
    by_name = {}
    for item in available:
        by_name[name_of(item)] = item
    chosen = []
    for m in members:
        name = m if isinstance(m, str) else name_of(m)
        if name not in by_name:
            raise KeyError(f"{archive}: has no entry {name!r}")
        chosen.append(by_name[name])
    return chosen


def safe_extract_zip(zip_path, dest_dir, members=None, progress=True):
    """Extract a zip into `dest_dir` safely and resumably; return `dest_dir` as a Path; notebook 02.

    Every selected entry is checked before anything is written: absolute paths, `..` components,
    drive letters, backslashes, symbolic links and other special files (from the Unix mode in
    `external_attr`) raise UnsafeArchiveError naming the entry. Each file is written atomically
    (a temporary file renamed into place), files already present with the right size are
    skipped, and the marker `extraction_marker(dest_dir, zip_path)` is written last: while it
    matches the archive, a new call returns at once. `members`: entry names (or ZipInfos) to
    extract, default all. CRC errors in the archive raise zipfile.BadZipFile.
    """
    zip_path = Path(zip_path)
    with zipfile.ZipFile(zip_path) as zf:
        infos = _select(zip_path, zf.infolist(), members, lambda i: i.filename)
        entries = []
        for info in infos:
            parts = _entry_parts(zip_path, info.filename)
            kind = stat.S_IFMT(info.external_attr >> 16)
            if kind == stat.S_IFLNK:
                raise UnsafeArchiveError(zip_path, info.filename, "symbolic link entry")
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise UnsafeArchiveError(zip_path, info.filename, "special file (device, pipe or "
                                         "socket) entry")
            if info.flag_bits & 0x1:
                raise UnsafeArchiveError(zip_path, info.filename, "encrypted entry")
            try:
                mtime = time.mktime(info.date_time + (0, 0, -1))
            except (OverflowError, ValueError):
                mtime = None
            entries.append(_Entry(info.filename, parts, info.is_dir(), info.file_size, mtime, info))
        return _extract(zip_path, dest_dir, entries, lambda e: zf.open(e.source), progress)


def safe_extract_tar(tar_path, dest_dir, members=None, progress=True):
    """Extract a tar (.tar, .tar.gz, .tar.bz2, .tar.xz) like `safe_extract_zip`; notebook 02.

    Only regular files and folders are extracted: symbolic and hard links, devices and pipes are
    refused with UnsafeArchiveError, as are absolute paths, `..`, drive letters and backslashes.
    Where Python has `tarfile.data_filter` it also vets each entry. File modes are not copied.
    """
    tar_path = Path(tar_path)
    dest = Path(dest_dir)
    with tarfile.open(tar_path, "r:*") as tf:
        chosen = _select(tar_path, tf.getmembers(), members, lambda m: m.name)
        entries = []
        for m in chosen:
            parts = _entry_parts(tar_path, m.name)
            if m.issym():
                raise UnsafeArchiveError(tar_path, m.name,
                                         f"symbolic link entry (to {m.linkname!r})")
            if m.islnk():
                raise UnsafeArchiveError(tar_path, m.name, f"hard link entry (to {m.linkname!r})")
            if not (m.isreg() or m.isdir()):
                raise UnsafeArchiveError(tar_path, m.name, "special file (device, pipe) entry")
            if hasattr(tarfile, "data_filter"):
                try:
                    tarfile.data_filter(m, str(dest))
                except tarfile.FilterError as e:
                    raise UnsafeArchiveError(tar_path, m.name, str(e)) from e
            entries.append(_Entry(m.name, parts, m.isdir(), m.size if m.isreg() else 0,
                                  m.mtime, m))
        return _extract(tar_path, dest, entries, lambda e: tf.extractfile(e.source), progress)
