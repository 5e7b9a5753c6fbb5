"""A corpus photo's licence and credit: the package's copyright file, licence files, the note."""

import fnmatch
import json
import re

from .corpus_debs import parse_fields
from .corpus_manifest import LICENSES


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
        fields = parse_fields(paragraph)
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
