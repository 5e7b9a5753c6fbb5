"""Fetching the corpus' .deb files: apt's index, `apt-get download`, reusing checked downloads."""

import os
import re
import shutil
import subprocess
import tarfile
import warnings
from pathlib import Path

from .. import fileio
from .corpus_debs import parse_fields, read_control
from .corpus_sources import CorpusError, CorpusWarning


# ---------------------------------------------------------------------------------------------
# Fetching the .deb files
# ---------------------------------------------------------------------------------------------

def _run(args, cwd=None):
    """Run a command (a list of arguments, no shell); return (exit status, stdout + stderr)."""
    proc = subprocess.run(args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace")
    return proc.returncode, proc.stdout


def apt_index(names):
    """Return {package: {"version", "sha256", "size"}} of the candidates apt knows ({} without)."""
    apt_cache = shutil.which("apt-cache")
    if not apt_cache:
        return {}
    found = {}
    for name in names:      # one call each: one unknown name must not hide the others
        status, out = _run([apt_cache, "show", "--no-all-versions", name])
        if status:
            continue
        fields = parse_fields(out.strip().split("\n\n")[0])
        if fields.get("Package") == name and fields.get("SHA256"):
            found[name] = {"version": fields.get("Version"), "sha256": fields["SHA256"],
                           "size": int(fields.get("Size", 0) or 0)}
    return found


def _apt_download(name, folder, update, log):
    """`apt-get download NAME` into `folder`; `apt-get update` first if allowed and needed."""
    apt_get = shutil.which("apt-get")
    status, out = _run([apt_get, "download", name], cwd=folder)
    missing_lists = status and re.search(r"Unable to locate|no installation candidate|"
                                         r"has no installation|not found", out, re.IGNORECASE)
    if missing_lists and update is not False:
        if update is None and os.geteuid() != 0:
            raise CorpusError(f"apt-get cannot find {name}: its package lists are missing or old; "
                              "run `sudo apt-get update` and build again")
        log("  apt-get update (package lists missing or old)")
        status_u, out_u = _run([apt_get, "update"])
        if status_u:
            raise CorpusError(f"apt-get update failed: {_last_line(out_u)}")
        status, out = _run([apt_get, "download", name], cwd=folder)
    if status:
        raise CorpusError(f"apt-get download {name} failed: {_last_line(out)}")


def _last_line(text):
    """The last error line (E: ...) of a command's output, else its last line."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("E:")]
    return (errors or lines or ["(no output)"])[-1].strip()


def manual_download_hint(names, folder):
    """One line saying how to get the .deb files where apt-get is not available."""
    return (f"apt-get is not available here: download the Debian 12 (bookworm) packages "
            f"{', '.join(names)} by hand (https://packages.debian.org/bookworm/PACKAGE, "
            f"'all' or any architecture) into {folder} and rerun with --debs {folder}")


def _debs_in(folder, name):
    """The .deb files in `folder` that are named for package `name`, newest first."""
    found = [p for p in Path(folder).glob(f"{name}_*.deb") if p.is_file()]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def fetch_debs(names, folder, known=None, own_folder=True, apt_update=None, log=print):
    """Return {package: (path, sha256, version)}: a verified .deb of each package in `folder`.

    A .deb already there is reused when its sha256 is the one apt's index gives (or, without
    apt, the one `known` {package: {"version", "sha256"}} records from the last manifest); a copy
    of the same version with another sha256 is damaged and downloaded again. In a folder you
    gave (`own_folder=False`) a .deb of another version is used as it is. Packages still missing
    are downloaded with `apt-get download`; without apt-get a CorpusError says what to do.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    index = apt_index(names)
    known = dict(known or {})
    result, missing = {}, []
    for name in names:
        expected = index.get(name) or known.get(name)
        chosen = _reuse(name, folder, expected, own_folder, log)
        if chosen:
            result[name] = chosen
        else:
            missing.append(name)
    if missing and not shutil.which("apt-get"):
        raise CorpusError(manual_download_hint(missing, folder))
    for name in missing:
        log(f"  downloading {name} (apt-get download)")
        _apt_download(name, folder, apt_update, log)
        expected = apt_index([name]).get(name) or index.get(name)
        chosen = _reuse(name, folder, expected, own_folder, log, after_download=True)
        if not chosen:
            raise CorpusError(f"apt-get download {name} left no usable {name}_*.deb in {folder}")
        result[name] = chosen
    return result


def _reuse(name, folder, expected, own_folder, log, after_download=False):
    """A (path, sha256, version) for `name` in `folder` that passes the checks, or None.

    A .deb with the expected sha256 wins. A copy of the expected version with another sha256 is
    damaged (removed from our own folder). A .deb of another version is taken only when nothing
    is expected, or from a folder you gave before anything was downloaded.
    """
    debs = _debs_in(folder, name)
    hashes = {deb: fileio.sha256_file(deb) for deb in debs}
    for deb in debs:
        if expected and hashes[deb] == expected["sha256"]:
            if not after_download:
                log(f"  reusing {deb.name} (sha256 checked)")
            return deb, hashes[deb], expected.get("version") or _version(deb)
    for deb in debs:
        version = _version(deb)
        if expected and version == expected.get("version"):
            what = "removed and downloaded again" if own_folder else "skipped"
            warnings.warn(f"{deb}: damaged (sha256 {hashes[deb][:12]}…, version {version} has "
                          f"{expected['sha256'][:12]}…); {what}", CorpusWarning, stacklevel=3)
            if own_folder:
                deb.unlink(missing_ok=True)
        elif expected is None or not (own_folder or after_download):
            if expected is not None:
                log(f"  using {deb.name}: version {version}, apt has {expected.get('version')}")
            return deb, hashes[deb], version
    return None


def _version(deb):
    """The Version field of a .deb's control file (None if unreadable)."""
    try:
        return read_control(deb).get("Version")
    except (ValueError, OSError, tarfile.TarError, CorpusError):
        return None
