"""Real photographs to train the fast style networks on, offline: a corpus from Debian packages.

MS-COCO cannot be downloaded everywhere, but nine Debian packages ship about 260 licence-clean
photographs (landmarks, animals, streets, rooms, people, landscapes). `build_corpus()` fetches
those packages with `apt-get download` (or takes .deb files you already have), reads each .deb in
Python (an `ar` archive holding data.tar.xz; no dpkg, nothing extracted to disk), takes the
members listed in SOURCES, cuts the WebP images out of GCompris' Qt resource (.rcc) files by their
`RIFF<len>WEBP` header, checks and shrinks every photo (RGB, short side >= 256 px, long side at
most 1024 px) and writes them as JPEGs, with a manifest (package, version, path, licence, credit,
sha256) and the packages' copyright files, into `paths.cache_dir() / "photo_corpus"`.

The sample album and the held-out photos (data/album, data/holdout) never enter the corpus: every
photo is compared with them (32x32 grey gradient signatures, correlated over crops and mirrored)
and near-duplicates are dropped with a warning, so the course shows networks on photos they never
saw. The corpus is written whole or not at all
(built in a hidden sibling folder, then renamed); a rerun of a complete corpus does nothing, and
downloaded .deb files are reused once their sha256 matches apt's index or the last manifest.
The photos are cached, never committed; MS-COCO stays the training set of the `full` profile.
"""

import contextlib
import dataclasses
import fnmatch
import hashlib
import io
import itertools
import json
import os
import re
import shutil
import struct
import subprocess
import tarfile
import tempfile
import time
import warnings
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, ImageCms, ImageDraw, ImageOps

from .. import __version__, fileio, paths

CORPUS_NAME = "photo_corpus"          # the corpus folder under paths.cache_dir()
DEBS_NAME = "photo_corpus_debs"       # where apt-get downloads the .deb files
MANIFEST = "manifest.json"
MANIFEST_TSV = "manifest.tsv"
ATTRIBUTION = "ATTRIBUTION.md"
LICENSES = "LICENSES"                 # the packages' copyright files, copied beside the photos
MIN_SIDE = 256                        # a photo's short side, in pixels, at least (training crops)
MAX_SIDE = 1024                       # the long side of a written photo, at most
QUALITY = 92                          # JPEG quality of the written photos
MIN_PHOTOS = 250                      # fewer than this after a build: a CorpusWarning
SIGNATURE_SIDE = 32                   # near-duplicates: 32x32 grey gradient signatures ...
CROP_MARGINS = (0.0, 0.05, 0.1, 0.15) # ... compared over crops taking 0-15% off each side
NEAR_DUPLICATE = 0.88                 # this alike or more: a copy of an album/hold-out photo
CORPUS_DUPLICATE = 0.95               # whole pictures this alike: one photo twice in the corpus
_BASE_SIDE = 128
_REFINE_FROM = 0.6                    # coarse crop matches this good are refined in finer steps
MAX_MEMBER_BYTES = 200 << 20          # a package member this big is not read into memory
MANIFEST_FORMAT = 1


class CorpusWarning(UserWarning):
    """A photo or archive member left out of the corpus (unsafe name, near-duplicate, damaged)."""


class CorpusError(RuntimeError):
    """The corpus cannot be built (a package is missing, apt-get failed, a .deb is damaged)."""


# ---------------------------------------------------------------------------------------------
# The selection, as data (from ../shared/notes/training_photos.md, checked on contact sheets)
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Source:
    """One Debian package and the photographs taken from it.

    `take`: globs of paths inside the package (`*` stays inside one folder). `drop`: globs of the
    items to leave out (drawings, paintings, screenshots), matched against the member path, or
    for an image inside a .rcc file against `RCC_PATH!NAME_IN_THE_RCC`. `kind`: "files" (every
    member taken), "largest" (the largest file of each folder, named after the folder above
    contents/images) or "rcc" (the WebP images inside Qt resource files). `licence`: the note's
    licence, used where the package's copyright file says nothing for a photo. `licence_files`:
    globs of files inside the package that state a licence more precisely than its copyright file
    (a KDE wallpaper's metadata.json, a License file beside the photos). `rotate`: (glob, degrees
    clockwise) for photos stored sideways whose rotation the package keeps elsewhere.
    """

    package: str
    take: tuple
    licence: str
    content: str
    drop: tuple = ()
    kind: str = "files"
    licence_files: tuple = ()
    rotate: tuple = ()


_SCRATCH = "usr/share/scratch/Media/Backgrounds/"
_GCOMPRIS = "usr/share/gcompris-qt/rcc/"
_DETAILS = _GCOMPRIS + "details.rcc!/gcompris/src/activities/details/resource/image/"
_CATEGORIZATION = (_GCOMPRIS + "categorization.rcc!/gcompris/src/activities/categorization/"
                   "resource/images/")
_PLASMA = ("BytheWater", "ColdRipple", "DarkestHour", "EveningGlow", "FallenLeaf", "Grey", "Kite",
           "OneStandsOut", "Path", "Volna", "summer_1am", "Autumn")
_LXQT = ("Butterfly-Kenneth-Wimer.jpg", "Valendas.png", "after-the-rain.jpg", "appleflower.png",
         "butterfly.png", "cloud.png", "drop.png", "flowers.png", "fog.jpg",
         "this-is-not-windows.jpg")
# Paintings in GCompris' "details" activity (Van Gogh), found by their names in the .rcc's name
# table and confirmed on a contact sheet; each has a _background image and small _N cut-outs.
_DETAILS_PAINTINGS = ("Gogh4", "Eglise_dAuvers-sur-Oise", "PortraitOfPereTanguy",
                      "Van_Gogh_The_Night_Cafe", "VincentVanGogh0012", "VincentVanGogh0013",
                      "VincentVanGogh0019", "VincentVanGoghBridge")
# Drawings and graphics among categorization's larger images, seen on the contact sheet.
_CATEGORIZATION_DRAWINGS = ("alphabets/alphabets.webp", "numbers/numbers.webp")

SOURCES = (
    Source("gcompris-qt-data",
           take=tuple(f"{_GCOMPRIS}{name}.rcc" for name in (
               "explore_monuments", "explore_world_animals", "explore_farm_animals", "erase",
               "explore_world_music", "clickgame", "categorization", "details")),
           drop=(tuple(f"{_DETAILS}{name}_*" for name in _DETAILS_PAINTINGS)
                 + tuple(_CATEGORIZATION + name for name in _CATEGORIZATION_DRAWINGS)),
           kind="rcc", licence="GPL-3+ / CC-BY-SA (Wikimedia-derived)",
           content="landmarks, wild and farm animals, musicians (people), underwater, objects"),
    Source("scratch", take=(_SCRATCH + "*/*.jpg",),
           drop=tuple(f"{_SCRATCH}*/{name}.jpg" for name in (
               "party-room", "room1", "room2", "room3", "spotlight-stage", "woods-and-bench",
               "graffiti", "school2", "basketball-court2",
               "brick-wall1")),             # a drawing, seen on the contact sheet
           licence="CC-BY-SA-3.0",
           content="streets, buildings, rooms, shops, parks, beaches, sports fields"),
    Source("mate-backgrounds", take=("usr/share/backgrounds/mate/nature/*.jpg",),
           licence="GPL-2+", content="nature"),
    Source("plasma-workspace-wallpapers",
           take=tuple(f"usr/share/wallpapers/{name}/contents/images/*" for name in _PLASMA),
           # Autumn is a digital painting, Volna low-poly digital art (seen on the contact sheet)
           drop=("usr/share/wallpapers/Autumn/*/*/*", "usr/share/wallpapers/Volna/*/*/*"),
           kind="largest", licence="CC-BY-SA / LGPL (per wallpaper)", content="landscape, macro",
           licence_files=("usr/share/wallpapers/*/metadata.json",)),
    Source("lxqt-themes", take=tuple(f"usr/share/lxqt/wallpapers/{name}" for name in _LXQT),
           licence="CC-BY-SA / CC0 (per file)", content="nature, macro",
           licence_files=("usr/share/lxqt/wallpapers/License",)),
    Source("lomiri-wallpapers-16.04", take=("usr/share/backgrounds/*_by_*.jpg",),
           drop=("usr/share/backgrounds/greentock_by_*", "usr/share/backgrounds/umang_by_*",
                 "usr/share/backgrounds/analogpattern_by_*"),   # an abstract texture, no scene
           licence="CC-BY-SA", content="landscape"),
    Source("lomiri-wallpapers-20.04", take=("usr/share/backgrounds/*_by_*.jpg",),
           drop=("usr/share/backgrounds/Fossa_by_*", "usr/share/backgrounds/Painting-Colors_by_*",
                 "usr/share/backgrounds/Infinite-Sea_by_*"),    # digital art (contact sheet)
           licence="CC-BY-SA", content="landscape"),
    Source("kphotoalbum", take=("usr/share/kphotoalbum/demo/*.jpg",),
           drop=("usr/share/kphotoalbum/demo/qt-logo.jpg",),
           # the demo's index.xml keeps these rotations (its `angle` attributes), not the JPEGs
           rotate=(("usr/share/kphotoalbum/demo/new_wave_1.jpg", 90),
                   ("usr/share/kphotoalbum/demo/grand_canyon_1.jpg", 180),
                   ("usr/share/kphotoalbum/demo/wayne.jpg", 90),
                   ("usr/share/kphotoalbum/demo/pool_2.jpg", 270)),
           licence="GPL-2+", content="people, dogs, beach, canyon"),
    Source("gnome-control-center-data", take=("usr/share/pixmaps/faces/*.jpg",),
           licence="CC0", content="objects, cat, surfer, plane"),
)


def packages(sources=None):
    """The Debian package names of `sources` (default SOURCES), in order."""
    return [s.package for s in (SOURCES if sources is None else sources)]


def _selection_key(sources):
    """A fingerprint of the selection and the processing settings (a change means a rebuild)."""
    text = json.dumps({"sources": [dataclasses.asdict(s) for s in sources],
                       "settings": [MIN_SIDE, MAX_SIDE, QUALITY, SIGNATURE_SIDE, CROP_MARGINS,
                                    NEAR_DUPLICATE, CORPUS_DUPLICATE]},
                      sort_keys=True, default=list)
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Globs
# ---------------------------------------------------------------------------------------------

def path_matches(path, pattern):
    """True if `path` matches the glob `pattern` folder by folder (`*` never crosses a `/`)."""
    parts, pats = path.split("/"), pattern.split("/")
    return len(parts) == len(pats) and all(fnmatch.fnmatchcase(p, q) for p, q in zip(parts, pats))


def _matches_any(path, patterns):
    """True if `path` matches any of the globs `patterns` (see path_matches)."""
    return any(path_matches(path, p) for p in patterns)


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
                return _parse_fields(tf.extractfile(member).read().decode("utf-8", "replace"))
    raise ValueError(f"{deb}: holds no control file; not a Debian package")


def _parse_fields(text):
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
            wanted = _matches_any(name, source.take)
            is_extra = _matches_any(name, source.licence_files)
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


# ---------------------------------------------------------------------------------------------
# Qt resource (.rcc) files: WebP images cut out by their RIFF header
# ---------------------------------------------------------------------------------------------

def rcc_webps(data):
    """Return [(index, offset, webp_bytes)] of each `RIFF<len>WEBP` image in `data`, in order."""
    found, pos = [], 0
    while True:
        pos = data.find(b"RIFF", pos)
        if pos < 0 or pos + 12 > len(data):
            return found
        if data[pos + 8:pos + 12] != b"WEBP":
            pos += 4
            continue
        end = pos + 8 + struct.unpack_from("<I", data, pos + 4)[0]
        if end > len(data):
            warnings.warn(f"a WebP image at byte {pos} runs past the end of the file; skipped",
                          CorpusWarning, stacklevel=2)
            pos += 4
            continue
        found.append((len(found), pos, data[pos:end]))
        pos = end


def rcc_entries(data):
    """Return [(path, flags, offset, size)] of the files in a Qt .rcc's name table, or [].

    Layout (Qt's rcc format 1-3): "qres", then the version and the offsets of the tree, the data
    and the names (big-endian); tree nodes of 14 bytes (22 from version 2) hold a name offset and
    flags, then for a folder its child count and first child, for a file its data offset. A
    file's data is a 4-byte length and the bytes (flags 1: zlib-compressed, 4: zstd); `offset`
    is where those bytes start, so a WebP stored as it is starts there with RIFF.
    """
    try:
        if data[:4] != b"qres":
            return []
        version, tree, data_start, names = struct.unpack_from(">IIII", data, 4)
        node_size = 22 if version >= 2 else 14

        def name_at(offset):
            (length,) = struct.unpack_from(">H", data, names + offset)
            start = names + offset + 6
            return data[start:start + 2 * length].decode("utf-16-be")

        found, todo, seen = [], [(0, "")], set()
        while todo:
            index, prefix = todo.pop()
            if index in seen or len(seen) > 1_000_000:
                return []
            seen.add(index)
            node = tree + index * node_size
            name_offset, flags = struct.unpack_from(">IH", data, node)
            name = name_at(name_offset) if index else ""
            if flags & 2:                                   # a folder
                count, first = struct.unpack_from(">II", data, node + 6)
                todo.extend((first + i, f"{prefix}{name}/") for i in range(count))
            else:
                (offset,) = struct.unpack_from(">I", data, node + 10)
                (size,) = struct.unpack_from(">I", data, data_start + offset)
                found.append((prefix + name, flags, data_start + offset + 4, size))
        return sorted(found, key=lambda e: e[2])
    except (struct.error, UnicodeDecodeError, IndexError):
        return []


def rcc_names(data):
    """Return {offset of a file's bytes: path} from a Qt .rcc file's name table ({} if none)."""
    return {offset: path for path, _, offset, _ in rcc_entries(data)}


def rcc_file(data, flags, offset, size):
    """The bytes of one .rcc file entry (zlib ones decompressed), or None for zstd ones."""
    payload = data[offset:offset + size]
    if flags & 4:
        return None
    if flags & 1:
        try:
            return zlib.decompress(payload[4:])
        except zlib.error:
            return None
    return payload


_NOTICE_KEYS = {"copyright", "license", "source", "comment", "comments", "files"}
_FILE_NAME = re.compile(r"[\w./+-]+\.[A-Za-z0-9]{2,5}")


def _licence_name(text):
    """A licence as written in a README as a short name ("CC-BY-SA 4.0" -> "CC-BY-SA-4.0")."""
    text = text.strip().rstrip(".")
    if re.fullmatch(r"public[ -]domain", text, re.IGNORECASE):
        return "public-domain"
    m = re.fullmatch(r"(L?GPL)v(\d(?:\.\d)?)(\+?)", text)
    if m:
        return f"{m.group(1)}-{m.group(2)}{m.group(3)}"
    return re.sub(r"\s+(?=\d)", "-", text)


def parse_notices(text, folder):
    """Return {path: (licence, credit)} from a credits README (GCompris' Copyright/License/Files).

    Paragraphs name their files after `Files:` or on lines of their own, relative to `folder`.
    """
    notices = {}
    for paragraph in re.split(r"\n\s*\n", text):
        fields, files, key = {}, [], None
        for line in paragraph.splitlines():
            m = re.match(r"([A-Za-z]+):\s*(.*)$", line.strip())
            if m and m.group(1).lower() in _NOTICE_KEYS:
                key, value = m.group(1).lower(), m.group(2).strip()
                if key == "files":
                    files += value.split()
                else:
                    fields[key] = value
            elif _FILE_NAME.fullmatch(line.strip()):
                files.append(line.strip())
            elif line.strip() and key and key != "files":
                fields[key] = f"{fields[key]} {line.strip()}".strip()
        if not files or "license" not in fields:
            continue
        credit = "; ".join(v for v in (fields.get("copyright"), fields.get("source"),
                                       fields.get("comment") or fields.get("comments")) if v)
        for name in files:
            notices[f"{folder}/{name}"] = (_licence_name(fields["license"]), credit)
    return notices


def rcc_notices(data, entries):
    """Return {path: (licence, credit, README path)} from the README files inside a .rcc."""
    notices = {}
    for path, flags, offset, size in entries:
        if path.rsplit("/", 1)[-1].upper() not in ("README", "README.TXT", "CREDITS"):
            continue
        raw = rcc_file(data, flags, offset, size)
        if raw is None:
            continue
        found = parse_notices(raw.decode("utf-8", "replace"), path.rsplit("/", 1)[0])
        notices.update({k: (lic, credit, path) for k, (lic, credit) in found.items()})
    return notices


# ---------------------------------------------------------------------------------------------
# Licences: the package's copyright file (machine-readable DEP-5), licence files, the note
# ---------------------------------------------------------------------------------------------

def parse_copyright(text):
    """Return the Files stanzas of a machine-readable debian/copyright: [(globs, licence, who)].

    Returns None for a copyright file that is not machine-readable (no Format: header).
    """
    if not text:
        return None
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    if not paragraphs or not re.search(r"^Format:", paragraphs[0], re.MULTILINE):
        return None
    stanzas = []
    for paragraph in paragraphs:
        fields = _parse_fields(paragraph)
        if "Files" not in fields:
            continue
        licence = fields.get("License", "").split("\n")[0].strip()
        holders = "; ".join(line.strip() for line in fields.get("Copyright", "").split("\n")
                            if line.strip())
        stanzas.append((fields["Files"].split(), licence, holders))
    return stanzas


def _any_extension(pattern):
    """`pattern` with the extension of its last part replaced by `.*` (a.jpg -> a.*)."""
    head, _, last = pattern.rpartition("/")
    stem, dot, _ = last.rpartition(".")
    if not dot or not stem or any(c in last for c in "*?["):
        return pattern
    return f"{head}/{stem}.*" if head else f"{stem}.*"


def copyright_licence(stanzas, path, converted=False):
    """Return (licence, holders, glob) of the stanza that covers `path` best, or None.

    The stanzas' globs name paths in the source tree, not where files are installed, so a glob
    covers an installed `path` when it matches the path's end (`*/GLOB`), or, failing that, when
    it names the same file (same last part, no wildcard). A specific stanza wins over `Files: *`,
    and among stanzas of the same kind the last one wins, as in DEP-5. `converted`: the file was
    converted at build time (GCompris' .jpg/.png became .webp), so extensions are ignored.
    """
    best = {"suffix": None, "name": None, "catch-all": None}
    base = path.rsplit("/", 1)[-1]
    for globs, licence, holders in stanzas or ():
        for glob in globs:
            pattern = _any_extension(glob) if converted else glob
            if glob == "*":
                best["catch-all"] = (licence, holders, glob)
            elif fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(path, "*/" + pattern):
                best["suffix"] = (licence, holders, glob)
            else:
                last = pattern.rsplit("/", 1)[-1]
                if not any(c in last for c in "*?[") and (
                        last == base or (converted and fnmatch.fnmatchcase(base, last))):
                    best["name"] = (licence, holders, glob)
    return best["suffix"] or best["name"] or best["catch-all"]


def _cc_licence(url):
    """A Creative Commons URL as a short licence name (…/licenses/by-sa/3.0 -> CC-BY-SA-3.0)."""
    m = re.search(r"creativecommons\.org/licenses/([a-z-]+)/(\d+(?:\.\d+)?)", url)
    if m:
        return f"CC-{m.group(1).upper()}-{m.group(2)}"
    m = re.search(r"creativecommons\.org/publicdomain/zero/(\d+(?:\.\d+)?)", url)
    return f"CC0-{m.group(1)}" if m else None


def file_licence(licence_files, path):
    """Return (licence, credit, source) from a licence file inside the package for `path`, or None.

    Understands a KDE wallpaper's metadata.json (KPlugin License and Authors, in the folder above
    contents/) and a License file beside the photo that says "Licensed under <Creative Commons
    URL>" (LXQt's wallpapers).
    """
    parts = path.split("/")
    if "contents" in parts:
        meta = "/".join(parts[:parts.index("contents")]) + "/metadata.json"
        if meta in licence_files:
            try:
                plugin = json.loads(licence_files[meta].decode("utf-8")).get("KPlugin", {})
            except (ValueError, UnicodeDecodeError, AttributeError):
                plugin = {}
            if plugin.get("License"):
                authors = ", ".join(a.get("Name", "") for a in plugin.get("Authors", ())
                                    if isinstance(a, dict) and a.get("Name"))
                return plugin["License"], authors, meta
    beside = "/".join(parts[:-1]) + "/License"
    if beside in licence_files:
        text = licence_files[beside].decode("utf-8", "replace")
        m = re.search(r"Licen[sc]ed under\s+(\S+)", text)
        licence = _cc_licence(m.group(1)) if m else None
        if licence:
            holder = re.search(r"^Copyright[^:]*:\s*(.+)$", text, re.MULTILINE)
            return licence, holder.group(1).strip() if holder else "", beside
    return None


_MAX_CREDIT = 240


def photo_licence(source, files, path, converted=False):
    """Return (licence, credit, where it was read) for one photo of `source` at `path`."""
    stated = file_licence(files.licence_files, path)
    if stated:
        return stated
    stanzas = parse_copyright(files.copyright)
    doc = f"usr/share/doc/{source.package}/copyright"
    found = copyright_licence(stanzas, path, converted) if stanzas else None
    if found and found[0]:
        licence, holders, glob = found
        see = f"see {LICENSES}/{source.package}.copyright"
        if glob == "*" and holders.count(";") >= 3:   # the whole package's list of authors
            holders = f"the authors of {source.package} ({see})"
        elif len(holders) > _MAX_CREDIT:
            holders = holders[:_MAX_CREDIT].rsplit(";", 1)[0] + f"; … ({see})"
        return licence, holders, f"{doc} (Files: {glob})"
    why = "not machine-readable" if files.copyright else "missing"
    return source.licence, "", f"training_photos note ({doc} {why})"


# ---------------------------------------------------------------------------------------------
# Candidates: the photos a package offers, before they are decoded
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Candidate:
    """One photo taken from a package, not yet decoded."""

    item: str               # the member path, or RCC_PATH!NAME_IN_THE_RCC for a .rcc image
    path: str               # the member path inside the package
    data: bytes
    stem: str               # the output name without the package and extension
    rcc_index: int | None = None
    rcc_name: str | None = None
    notice: tuple | None = None   # (licence, credit, where) from a credits file beside the image
    rotate: int = 0               # degrees clockwise


_GENERIC_FOLDERS = {"contents", "images", "images_dark"}


def _folder_name(path):
    """The nearest folder above `path` that is not contents/ or images/ (a wallpaper's name)."""
    for part in reversed(path.split("/")[:-1]):
        if part not in _GENERIC_FOLDERS:
            return part
    return PurePosixPath(path).stem


def candidates(source, files, dropped):
    """Return the Candidates of `source` in `files`; items left out go to `dropped` with why."""
    def drop(item, path, why):
        dropped.append({"package": source.package, "path": path, "item": item, "why": why})

    found = []
    members = sorted(files.members.items())
    if source.kind in ("files", "largest"):
        kept = []
        for path, data in members:
            if _matches_any(path, source.drop):
                drop(path, path, "drop list (drawing, painting or screenshot)")
            else:
                kept.append((path, data))
        if source.kind == "files":
            found = [Candidate(p, p, d, PurePosixPath(p).stem) for p, d in kept]
        else:
            largest = {}
            for path, data in kept:
                folder = path.rsplit("/", 1)[0]
                if folder not in largest or len(data) > len(largest[folder][1]):
                    largest[folder] = (path, data)
            found = [Candidate(p, p, d, _folder_name(p)) for p, d in largest.values()]
    elif source.kind == "rcc":
        for path, data in members:
            found.extend(_rcc_candidates(source, path, data, drop))
    else:
        raise ValueError(f"source {source.package}: unknown kind {source.kind!r}")
    for cand in found:
        cand.rotate = next((deg for glob, deg in source.rotate if path_matches(cand.item, glob)),
                           0)
    return found


_PAINTING = re.compile(r"\bpainting\b", re.IGNORECASE)


def _rcc_candidates(source, path, data, drop):
    """The WebP images of one .rcc file as Candidates, less drops by name and paintings.

    An image whose credits (a README inside the .rcc) call it a painting is dropped too: GCompris'
    details README says "based on an original painting by Van Gogh" of exactly its 8 paintings.
    """
    entries = rcc_entries(data)
    names = {offset: name for name, _, offset, _ in entries}
    notices = rcc_notices(data, entries)
    webps = rcc_webps(data)
    rcc_stem = PurePosixPath(path).stem
    if not names and any("!" in p and path_matches(path, p.split("!", 1)[0])
                         for p in source.drop):
        warnings.warn(f"{source.package}: {path}: its name table cannot be read, so its drop list "
                      f"cannot be applied; all {len(webps)} images left out", CorpusWarning,
                      stacklevel=3)
        for index, _, _ in webps:
            drop(f"{path}!#{index}", path, "unnamed .rcc image (drop list not applicable)")
        return []
    found = []
    for index, offset, webp in webps:
        name = names.get(offset)
        item = f"{path}!{name}" if name else f"{path}!#{index}"
        if _matches_any(item, source.drop):
            drop(item, path, "drop list (drawing, painting or screenshot)")
            continue
        notice = notices.get(name)
        if notice and _PAINTING.search(notice[1]):
            drop(item, path, "its credits call it a painting")
            continue
        stem = f"{rcc_stem}-{PurePosixPath(name).stem if name else f'{index:03d}'}"
        if notice:
            notice = (notice[0], notice[1], f"{path}!{notice[2]}")
        found.append(Candidate(item, path, webp, stem, index, name, notice))
    return found


# ---------------------------------------------------------------------------------------------
# Photos: decode, check, shrink, encode; recognising copies of the album and hold-out photos
# ---------------------------------------------------------------------------------------------

class Rejected(ValueError):
    """A candidate that is no usable photo (too small, not an 8-bit photo, damaged); says why."""


def _to_srgb(im):
    """Convert an RGB image tagged with a non-sRGB ICC profile to sRGB (others as they are)."""
    icc = im.info.get("icc_profile")
    if not icc:
        return im
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(src).lower():
            return im
        return ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im   # an unreadable profile: keep the pixels as they are


# 8-bit photo modes (grey photos are kept, as RGB); bilevel, 16-bit and float images are not.
_PHOTO_MODES = {"RGB", "RGBA", "RGBX", "RGBa", "P", "PA", "CMYK", "YCbCr", "L", "LA"}


def output_size(width, height):
    """The written size: long side <= MAX_SIDE, short side kept >= MIN_SIDE, never enlarged."""
    scale = min(1.0, MAX_SIDE / max(width, height))
    scale = min(1.0, max(scale, MIN_SIDE / min(width, height)))
    return max(1, round(width * scale)), max(1, round(height * scale))


_ROTATIONS = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
              270: Image.Transpose.ROTATE_90}      # degrees clockwise -> Pillow's transpose


def prepare_photo(data, rotate=0):
    """Decode photo bytes and return (JPEG bytes, original (w, h), new (w, h), RGB image).

    `rotate`: 0, 90, 180 or 270 degrees clockwise, applied after the EXIF orientation.
    Raises Rejected when the photo is damaged, not an 8-bit photo (a bilevel, 16-bit or float
    image), or its short side is under MIN_SIDE. Grey photos are kept, as RGB.
    """
    try:
        im = Image.open(io.BytesIO(data))
        original, icc = im.size, im.info.get("icc_profile")
        if min(original) < MIN_SIDE:
            raise Rejected(f"too small ({original[0]}x{original[1]}; short side < {MIN_SIDE} px)")
        if im.mode not in _PHOTO_MODES:
            raise Rejected(f"not an 8-bit photo (mode {im.mode})")
        target = output_size(*original)
        if im.format == "JPEG":
            im.draft("RGB", target)       # decode at 1/2, 1/4 or 1/8 scale when that is enough
        im.load()
        im = ImageOps.exif_transpose(im)
        if rotate:
            im = im.transpose(_ROTATIONS[rotate])
    except Rejected:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as e:
        raise Rejected(f"cannot be decoded ({type(e).__name__}: {e})") from None
    if im.mode in ("RGBA", "PA", "RGBa", "LA") or (
            im.mode in ("P", "L") and "transparency" in im.info):
        rgba = im.convert("RGBA")       # transparent areas on white
        im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    rgb = im if im.mode == "RGB" else im.convert("RGB")
    if icc and im.mode in ("RGB", "RGBA"):
        rgb.info["icc_profile"] = icc
        rgb = _to_srgb(rgb)
    size = output_size(*rgb.size)       # the decoded size: after draft and EXIF rotation
    if rgb.size != size:
        rgb = rgb.resize(size, Image.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue(), original, rgb.size, rgb


def _grey_base(image):
    """The picture as a 128x128 grey float image (aspect ignored), the base of its signatures."""
    return image.convert("L").resize((_BASE_SIDE, _BASE_SIDE), Image.BOX).convert("F")


def _signature(base, margins):
    """Unit-length, zero-mean gradient magnitudes (32x32) of `base` less `margins` (l, t, r, b)."""
    n = _BASE_SIDE
    l, t, r, b = margins
    box = (l * n, t * n, n - r * n, n - b * n)
    a = np.asarray(base.resize((SIGNATURE_SIDE, SIGNATURE_SIDE), Image.BILINEAR, box=box),
                   np.float32)
    gy, gx = np.gradient(a)
    g = np.hypot(gx, gy).ravel()
    g -= g.mean()
    return g / (np.linalg.norm(g) + 1e-6)


_MARGINS = [(0.0,) * 4] + [m for m in itertools.product(CROP_MARGINS, repeat=4) if any(m)]


class PhotoPrint:
    """A picture's grey base and its signatures over crops, to recognise copies of it.

    `signatures[k]`: (len(_MARGINS), 1024) for orientation k (0: as it is, 1: mirrored, with
    `mirror`), the whole picture first, then every crop taking 0-15% off each side in 5% steps.
    """

    def __init__(self, image, mirror=False):
        if isinstance(image, (str, Path)):
            with Image.open(image) as im:
                image = ImageOps.exif_transpose(im).convert("RGB")
        self.bases = [_grey_base(image)] + ([_grey_base(ImageOps.mirror(image))] if mirror
                                            else [])
        self.signatures = [np.stack([_signature(b, m) for m in _MARGINS]) for b in self.bases]

    @property
    def whole(self):
        """The signature of the whole picture as it is."""
        return self.signatures[0][0]


def _refine(base, margins, target, score):
    """Hill-climb the crop `margins` of `base` towards `target`; return the best score found."""
    margins = list(margins)
    for step in (0.025, 0.0125):
        improved = True
        while improved:
            improved = False
            for side, sign in itertools.product(range(4), (-1, 1)):
                trial = list(margins)
                trial[side] = min(max(trial[side] + sign * step, 0.0), CROP_MARGINS[-1] + 0.05)
                if trial == margins:
                    continue
                trial_score = float(_signature(base, trial) @ target)
                if trial_score > score + 1e-4:
                    margins, score, improved = trial, trial_score, True
    return score


def similarity(candidate, reference):
    """How alike two PhotoPrints are, tolerating crops of up to about 20% a side (1.0: the same).

    The best correlation of either whole picture with the other's crops, over the reference's
    orientations; crops that already match well (>= 0.6) are refined in finer steps.
    """
    best = -1.0
    for base, signatures in zip(reference.bases, reference.signatures):
        for crop_base, crops, whole in ((base, signatures, candidate.whole),
                                        (candidate.bases[0], candidate.signatures[0],
                                         signatures[0])):
            scores = crops @ whole
            k = int(scores.argmax())
            score = float(scores[k])
            if _REFINE_FROM <= score < 0.999:
                score = _refine(crop_base, _MARGINS[k], whole, score)
            best = max(best, score)
    return best


def protected_folders():
    """The folders whose photos must never be trained on: the sample album and the hold-out set."""
    return [paths.data_path("album"), paths.data_path("holdout")]


def protected_prints(folders=None):
    """Return [(label, PhotoPrint)] of the photos in `folders` (default: album and hold-out)."""
    from ..images import list_album

    found = []
    for folder in protected_folders() if folders is None else folders:
        folder = Path(folder)
        if not folder.is_dir():
            warnings.warn(f"{folder}: not found; its photos cannot be kept out of the corpus",
                          CorpusWarning, stacklevel=2)
            continue
        for photo in list_album(folder):
            found.append((f"{folder.name}/{photo.name}", PhotoPrint(photo, mirror=True)))
    return found


def nearest(references, candidate):
    """Return (similarity, label) of the most alike of `references` [(label, PhotoPrint)]."""
    best = (None, None)
    for label, reference in references:
        score = similarity(candidate, reference)
        if best[0] is None or score > best[0]:
            best = (score, label)
    return best


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
        fields = _parse_fields(out.strip().split("\n\n")[0])
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


# ---------------------------------------------------------------------------------------------
# The corpus folder: where it is, its manifest, building it whole or not at all
# ---------------------------------------------------------------------------------------------

def default_folder():
    """The corpus folder under the project's cache (ALBUM_CACHE_DIR moves it)."""
    return paths.cache_dir() / CORPUS_NAME


def default_debs_folder():
    """Where the .deb files are downloaded (under the project's cache)."""
    return paths.cache_dir() / DEBS_NAME


def load_manifest(folder=None):
    """Return the manifest (a dict) of the corpus in `folder` (default: the cached corpus)."""
    path = Path(folder or default_folder()) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no photo corpus manifest here") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a readable manifest ({e})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("photos"), list):
        raise ValueError(f"{path}: not a photo corpus manifest (no photo list)")
    return manifest


def corpus_problem(folder, sources=None):
    """Why the corpus in `folder` is missing, incomplete or out of date, or None if it is fine."""
    folder, sources = Path(folder), SOURCES if sources is None else sources
    try:
        manifest = load_manifest(folder)
    except (FileNotFoundError, ValueError) as e:
        return str(e)
    for photo in manifest["photos"]:
        path = folder / photo.get("file", "")
        try:
            if path.stat().st_size != photo.get("bytes"):
                return f"{path}: size differs from the manifest's"
        except OSError:
            return f"{path}: listed in the manifest but missing"
    if manifest.get("selection") != _selection_key(sources):
        return f"{folder}: built from another selection of photos; rebuild it"
    return None


def corpus_dir(build=False, folder=None, **build_options):
    """Return the folder of the built photo corpus; with build=True build it first if needed.

    Raises FileNotFoundError (naming how to build it) when the corpus is missing or incomplete.
    """
    folder = Path(folder or default_folder())
    problem = corpus_problem(folder)
    if problem is None:
        return folder
    if build:
        return build_corpus(out=folder, **build_options)
    raise FileNotFoundError(f"no complete photo corpus at {folder} ({problem}): build it with "
                            "`python scripts/build_photo_corpus.py` in a checkout, or call "
                            "albumlib.style.photo_corpus.corpus_dir(build=True) (about 280 MB of "
                            "Debian packages, a few minutes)")


def _staging_dir(out):
    """A new hidden folder beside `out` to build into: .NAME.p<pid>-XXXX.building."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.p{os.getpid()}-", suffix=".building",
                                 dir=out.parent))


_LEFTOVER = re.compile(r"\.(?P<name>.+)\.p(?P<pid>\d+)-.*\.(building|old)$")


def remove_stale_builds(out):
    """Remove the staging and old folders of `out` that killed builds left; return them."""
    out = Path(out)
    removed = []
    with contextlib.suppress(OSError):
        for leftover in out.parent.glob(f".{out.name}.p*-*"):
            m = _LEFTOVER.fullmatch(leftover.name)
            if m and m["name"] == out.name and not fileio.pid_alive(int(m["pid"])):
                shutil.rmtree(leftover, ignore_errors=True)
                removed.append(leftover)
    return removed


def _check_replaceable(out):
    """Raise ValueError unless `out` is absent, empty, or a photo corpus (a build replaces it)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ValueError(f"{out}: is a file, not a photo corpus folder; choose another --out")
    if any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise ValueError(f"{out}: exists and is not a photo corpus (no {MANIFEST}); a build "
                         "replaces its folder whole, so choose another --out")


def _swap_in(staging, out):
    """Put the finished `staging` folder in the place of `out` (the old corpus goes last)."""
    fileio.swap_dir(staging, out)


def _safe_stem(text):
    """A file-name-safe version of `text` (letters, digits, . _ - kept)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "photo"


def build_corpus(out=None, debs=None, keep_debs=False, force=False, apt_update=None,
                 sources=None, protected=None, min_photos=MIN_PHOTOS, log=print):
    """Build the photo corpus and return its folder; a complete, current corpus is left as it is.

    `out`: the corpus folder (default `paths.cache_dir() / "photo_corpus"`). `debs`: a folder of
    .deb files you already have (used as they are, missing ones downloaded into it, never
    deleted); default: download into `paths.cache_dir() / "photo_corpus_debs"` and delete them
    after a successful build unless `keep_debs`. `protected`: folders whose photos must stay out
    (default data/album and data/holdout). `apt_update`: True runs `apt-get update` when apt
    cannot find a package, False never does, None does as root only. Everything is written into
    a hidden folder beside `out`, renamed to `out` only once complete.
    """
    out = Path(out or default_folder()).expanduser().absolute()
    sources = SOURCES if sources is None else sources
    _check_replaceable(out)
    fileio.check_writable(out.parent, "the photo corpus")
    remove_stale_builds(out)
    if not force and corpus_problem(out, sources) is None:
        log(f"photo corpus up to date: {out}")
        return out
    own_debs = debs is None
    debs_folder = Path(default_debs_folder() if own_debs else debs).expanduser().absolute()
    try:
        previous = load_manifest(out).get("packages", {})
    except (FileNotFoundError, ValueError):
        previous = {}
    names = packages(sources)
    log(f"fetching {len(names)} Debian packages into {debs_folder}")
    fetched = fetch_debs(names, debs_folder, known=previous, own_folder=own_debs,
                         apt_update=apt_update, log=log)
    staging = _staging_dir(out)
    try:
        manifest = _build_into(staging, sources, fetched, protected_prints(protected), log)
        if len(manifest["photos"]) < min_photos:
            warnings.warn(f"the photo corpus holds {len(manifest['photos'])} photos, fewer than "
                          f"{min_photos}", CorpusWarning, stacklevel=2)
        _swap_in(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if own_debs and not keep_debs:
        for path, _, _ in fetched.values():
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            debs_folder.rmdir()
    return out


@dataclasses.dataclass
class _Build:
    """What a build has kept so far: the photo records, the drops, names and signatures."""

    staging: Path
    protected: list                          # [(label, PhotoPrint)] of the album and hold-out
    photos: list = dataclasses.field(default_factory=list)
    dropped: list = dataclasses.field(default_factory=list)
    names: set = dataclasses.field(default_factory=set)
    wholes: list = dataclasses.field(default_factory=list)   # whole-picture signatures of photos


def _build_into(staging, sources, fetched, protected, log):
    """Read every package, write the photos, licences and manifest into `staging`; the manifest."""
    state, package_info = _Build(Path(staging), protected), {}
    for source in sources:
        deb, sha, version = fetched[source.package]
        log(f"reading {deb.name}")
        files = read_package(deb, source)
        version = files.control.get("Version", version)
        found = candidates(source, files, state.dropped)
        before = len(state.photos)
        for cand in found:
            record = _take_photo(state, source, files, cand, version)
            if record:
                state.photos.append(record)
        kept = state.photos[before:]
        _write_licence_files(staging, source, files, kept)
        package_info[source.package] = {
            "version": version, "deb": deb.name, "sha256": sha, "bytes": deb.stat().st_size,
            "unpacked_with": files.unpacked_with, "photos": len(kept),
            "licences": sorted({p["licence"] for p in kept}), "content": source.content,
            "note_licence": source.licence,
            "copyright_file": (f"{LICENSES}/{source.package}.copyright" if files.copyright
                               else None)}
        log(f"  {source.package} {version}: {len(kept)} photos ({len(found) - len(kept)} of "
            f"{len(found)} candidates left out; read with {files.unpacked_with})")
    manifest = {"format": MANIFEST_FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "albumlib": __version__, "selection": _selection_key(sources),
                "settings": {"min_side": MIN_SIDE, "max_side": MAX_SIDE, "jpeg_quality": QUALITY,
                             "near_duplicate": f"similarity >= {NEAR_DUPLICATE} of 32x32 grey "
                                               "gradient signatures over crops of up to ~20% "
                                               "a side, mirrored too",
                             "corpus_duplicate": CORPUS_DUPLICATE},
                "kept_out": [label for label, _ in protected],
                "packages": package_info, "photos": state.photos, "dropped": state.dropped}
    _write_manifest(staging, manifest)
    return manifest


def _write_licence_files(staging, source, files, kept):
    """Copy the package's copyright file and the kept photos' licence files to LICENSES/."""
    if files.copyright:
        fileio.atomic_write_bytes(staging / LICENSES / f"{source.package}.copyright",
                                  files.copyright.encode("utf-8"))
    for path, data in sorted(files.licence_files.items()):
        if any(p["path"].startswith(path.rsplit("/", 1)[0] + "/") for p in kept):
            fileio.atomic_write_bytes(staging / LICENSES / f"{source.package}__{_safe_stem(path)}",
                                      data)


def _take_photo(state, source, files, cand, version):
    """Check one candidate, write it as a JPEG into the staging folder; its record, or None."""
    def drop(why):
        state.dropped.append({"package": source.package, "path": cand.path, "item": cand.item,
                              "why": why})

    try:
        jpeg, original, size, rgb = prepare_photo(cand.data, cand.rotate)
    except Rejected as e:
        drop(str(e))
        return None
    signature = PhotoPrint(rgb)
    score, label = nearest(state.protected, signature)
    if score is not None and score >= NEAR_DUPLICATE:
        warnings.warn(f"{source.package}: {cand.item}: left out, a near-duplicate of {label} "
                      f"(similarity {score:.2f})", CorpusWarning, stacklevel=3)
        drop(f"near-duplicate of {label} (similarity {score:.2f})")
        return None
    if state.wholes:
        scores = np.stack(state.wholes) @ signature.whole
        best = int(scores.argmax())
        if scores[best] >= CORPUS_DUPLICATE:
            drop(f"the same photo as {state.photos[best]['file']} "
                 f"(similarity {scores[best]:.2f})")
            return None
    name = f"{source.package}__{_safe_stem(cand.stem)}"
    if name in state.names:
        name = f"{source.package}__{_safe_stem(_folder_name(cand.path) + '-' + cand.stem)}"
    base, suffix = name, 2
    while name in state.names:
        name, suffix = f"{base}-{suffix}", suffix + 1
    state.names.add(name)
    file_name = f"{name}.jpg"
    fileio.atomic_write_bytes(state.staging / file_name, jpeg)
    state.wholes.append(signature.whole)
    if cand.notice:
        licence, credit, licence_source = cand.notice
    else:
        licence, credit, licence_source = photo_licence(
            source, files, cand.rcc_name or cand.path, converted=cand.rcc_name is not None)
    return {"file": file_name, "package": source.package, "version": version, "path": cand.path,
            "rcc_index": cand.rcc_index, "rcc_name": cand.rcc_name, "licence": licence,
            "credit": credit, "licence_source": licence_source, "content": source.content,
            "original_size": list(original), "rotated": cand.rotate, "size": list(size),
            "bytes": len(jpeg), "sha256": hashlib.sha256(jpeg).hexdigest()}


_TSV_FIELDS = ("file", "package", "version", "path", "rcc_index", "rcc_name", "licence", "credit",
               "original_size", "size", "sha256")


def _tsv_value(value):
    """A manifest value as one TSV cell ([w, h] -> "wxh", None -> "")."""
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    return "" if value is None else str(value).replace("\t", " ").replace("\n", " ")


def _write_manifest(folder, manifest):
    """Write manifest.json, manifest.tsv and ATTRIBUTION.md into `folder` (each atomically)."""
    folder = Path(folder)
    fileio.atomic_write_bytes(folder / MANIFEST,
                              json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8"))
    rows = ["\t".join(_TSV_FIELDS)] + ["\t".join(_tsv_value(p.get(k)) for k in _TSV_FIELDS)
                                       for p in manifest["photos"]]
    fileio.atomic_write_bytes(folder / MANIFEST_TSV, ("\n".join(rows) + "\n").encode("utf-8"))
    fileio.atomic_write_bytes(folder / ATTRIBUTION, attribution_text(manifest).encode("utf-8"))


def attribution_text(manifest):
    """The ATTRIBUTION.md of a corpus: packages, versions, licences and each photo's credit."""
    photos = manifest["photos"]
    lines = ["# Photo corpus: sources and licences", "",
             f"{len(photos)} photographs taken from Debian packages by `albumlib.style.photo_corpus` "
             f"(albumlib {manifest.get('albumlib')}), on {manifest.get('created')}. Changes: "
             f"decoded, converted to sRGB, shrunk to at most {MAX_SIDE} px on the long side, "
             f"re-encoded as JPEG quality {QUALITY}, metadata removed. The full copyright file of "
             f"each package is in {LICENSES}/. Photos are for training only; they are not "
             "redistributed with albumlib.", "",
             "| package | version | photos | licences |", "|---|---|---|---|"]
    for name, info in manifest["packages"].items():
        lines.append(f"| {name} | {info['version']} | {info['photos']} | "
                     f"{', '.join(info['licences'])} |")
    for name in manifest["packages"]:
        lines += ["", f"## {name}", "", "| file | licence | credit | path in the package |",
                  "|---|---|---|---|"]
        for p in photos:
            if p["package"] == name:
                where = p["path"] + (f" ({p['rcc_name']})" if p.get("rcc_name") else "")
                credit = (p.get("credit") or "").replace("|", "/")
                lines.append(f"| {p['file']} | {p['licence']} | {credit} | {where} |")
    if manifest.get("kept_out"):
        lines += ["", "Kept out on purpose (never trained on): near-duplicates of "
                  + ", ".join(manifest["kept_out"]) + "."]
    return "\n".join(lines) + "\n"


def summary(folder=None):
    """Return {package: (photos, bytes)} of a built corpus, from its manifest."""
    result = {}
    for p in load_manifest(folder)["photos"]:
        count, size = result.get(p["package"], (0, 0))
        result[p["package"]] = (count + 1, size + p["bytes"])
    return result


# ---------------------------------------------------------------------------------------------
# A contact sheet, to look at the corpus
# ---------------------------------------------------------------------------------------------

def contact_sheet(folder, dest, files=None, columns=10, thumb=160, labels=True):
    """Write a grid of thumbnails of the corpus photos (numbered, named) to `dest`; return it."""
    folder, dest = Path(folder), Path(dest).absolute()
    if folder.absolute() in dest.parents:
        raise ValueError(f"{dest}: a contact sheet inside the corpus folder would be trained on; "
                         "write it elsewhere")
    if files is None:
        files = [p["file"] for p in load_manifest(folder)["photos"]]
    if not files:
        raise ValueError(f"{folder}: no photos to put on a contact sheet")
    label_h = 14 if labels else 0
    rows = -(-len(files) // columns)
    sheet = Image.new("RGB", (columns * thumb, rows * (thumb + label_h)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, name in enumerate(files):
        with Image.open(folder / name) as im:
            im = im.convert("RGB")
            im.thumbnail((thumb - 4, thumb - 4))
        x, y = (i % columns) * thumb, (i // columns) * (thumb + label_h)
        sheet.paste(im, (x + (thumb - im.width) // 2, y + (thumb - im.height) // 2))
        if labels:
            text = f"{i} {Path(name).stem.split('__', 1)[-1]}"
            draw.text((x + 2, y + thumb), text[:26], fill=(0, 0, 0))
    with fileio.atomic_path(dest) as tmp:
        sheet.save(tmp, format="PNG" if dest.suffix.lower() == ".png" else "JPEG", quality=85)
    return dest
