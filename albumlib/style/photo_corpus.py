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

This module builds the corpus; its parts, in the order a build uses them: corpus_sources (the
selection and settings), corpus_fetch (the .deb files), corpus_debs (reading a .deb), corpus_rcc
(Qt resource files), corpus_candidates (the photos a package offers), corpus_licences (each
photo's licence and credit), corpus_photos (decoding, checks, near-duplicates) and
corpus_manifest (the corpus folder's files).
"""

import contextlib
import dataclasses
import hashlib
import os
import re
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .. import __version__, fileio
from .corpus_candidates import candidates, folder_name
from .corpus_debs import read_package
from .corpus_fetch import fetch_debs
from .corpus_licences import photo_licence
from .corpus_manifest import (LICENSES, MANIFEST, MANIFEST_FORMAT, default_debs_folder,
                              default_folder, load_manifest, write_manifest)
from .corpus_photos import PhotoPrint, Rejected, nearest, prepare_photo, protected_prints
from .corpus_sources import (CORPUS_DUPLICATE, MAX_SIDE, MIN_SIDE, NEAR_DUPLICATE, QUALITY,
                             SOURCES, CorpusWarning, packages, selection_key)

MIN_PHOTOS = 250                      # fewer than this after a build: a CorpusWarning


# ---------------------------------------------------------------------------------------------
# The corpus folder: complete or not, building it whole or not at all
# ---------------------------------------------------------------------------------------------

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
    if manifest.get("selection") != selection_key(sources):
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
                "albumlib": __version__, "selection": selection_key(sources),
                "settings": {"min_side": MIN_SIDE, "max_side": MAX_SIDE, "jpeg_quality": QUALITY,
                             "near_duplicate": f"similarity >= {NEAR_DUPLICATE} of 32x32 grey "
                                               "gradient signatures over crops of up to ~20% "
                                               "a side, mirrored too",
                             "corpus_duplicate": CORPUS_DUPLICATE},
                "kept_out": [label for label, _ in protected],
                "packages": package_info, "photos": state.photos, "dropped": state.dropped}
    write_manifest(staging, manifest)
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
        name = f"{source.package}__{_safe_stem(folder_name(cand.path) + '-' + cand.stem)}"
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
