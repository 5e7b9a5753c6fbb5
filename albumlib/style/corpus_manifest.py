"""The corpus folder's files: where it is, its manifest (JSON, TSV) and ATTRIBUTION.md."""

import json
from pathlib import Path

from .. import fileio, paths
from .corpus_sources import MAX_SIDE, QUALITY

CORPUS_NAME = "photo_corpus"          # the corpus folder under paths.cache_dir()
DEBS_NAME = "photo_corpus_debs"       # where apt-get downloads the .deb files
MANIFEST = "manifest.json"
MANIFEST_TSV = "manifest.tsv"
ATTRIBUTION = "ATTRIBUTION.md"
LICENSES = "LICENSES"                 # the packages' copyright files, copied beside the photos
MANIFEST_FORMAT = 1


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


_TSV_FIELDS = ("file", "package", "version", "path", "rcc_index", "rcc_name", "licence", "credit",
               "original_size", "size", "sha256")


def _tsv_value(value):
    """A manifest value as one TSV cell ([w, h] -> "wxh", None -> "")."""
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    return "" if value is None else str(value).replace("\t", " ").replace("\n", " ")


def write_manifest(folder, manifest):
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
