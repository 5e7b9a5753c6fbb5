"""MS-COCO 2014 train images, the training photos of the fast style-transfer network; notebook 02.

`coco_train2014()` returns a folder of the 82,783 JPEGs: a copy you already have (`data_dir`, never
modified), else the one cached under `paths.cache_dir() / "coco"`, else it downloads the official
zip (13.5 GB, resumable, SHA-256 verified) and extracts it there safely (another ~13.5 GB).

Where the checksums come from (not re-checked here: the COCO site is out of reach from the
machine this was written on): the SHA-256 is the one TensorFlow Datasets verifies for this URL
(tensorflow_datasets/url_checksums/coco.txt, shipped in the `tensorflow-datasets` package, beside
the same byte count 13,510,573,713), and torchvision's prototype COCO dataset lists the same
SHA-256. The MD5 is the one given for this URL by Salesforce LAVIS (`salesforce-lavis`) and by
pystiche-papers. `coco_train2014` checks the size and the SHA-256 of its own downloads, and the
image count of every copy.
"""

import os
import shutil
import warnings
import zipfile
from pathlib import Path

from .. import download as dl
from .. import paths
from ..images import IMAGE_EXTENSIONS

TRAIN2014_URL = "http://images.cocodataset.org/zips/train2014.zip"
TRAIN2014_ZIP_BYTES = 13_510_573_713
TRAIN2014_SHA256 = "ede4087e640bddba550e090eae701092534b554b42b05ac33f0300b984b31775"
TRAIN2014_MD5 = "0da8c0bd3d6becc4dcb32757491aca88"
TRAIN2014_IMAGES = 82_783
TRAIN2014_EXTRACTED_BYTES = 13_500_000_000   # approximate: JPEGs do not compress in a zip
FOLDER_NAME = "train2014"
_GB = 1e9


class CocoWarning(UserWarning):
    """A COCO folder that does not hold the expected 82,783 images (training still works)."""


def count_images(folder):
    """Number of photo files (by extension, not hidden) directly in `folder`; fast on 82k files."""
    with os.scandir(folder) as it:
        return sum(1 for e in it if not e.name.startswith(".")
                   and os.path.splitext(e.name)[1].lower() in IMAGE_EXTENSIONS
                   and e.is_file())


def _checked(folder):
    """Return `folder` after warning if its image count differs from COCO train2014's."""
    n = count_images(folder)
    if n == 0:
        raise FileNotFoundError(f"{folder}: holds no images; expected the {TRAIN2014_IMAGES:,} "
                                f"JPEGs of COCO {FOLDER_NAME}")
    if n != TRAIN2014_IMAGES:
        warnings.warn(f"{folder}: holds {n:,} images, COCO {FOLDER_NAME} has "
                      f"{TRAIN2014_IMAGES:,}; training uses the images that are there",
                      CocoWarning, stacklevel=3)
    return folder


def _has_images(folder):
    return folder.is_dir() and count_images(folder) > 0


def _cache_root():
    return paths.cache_dir() / "coco"


def _extract_zip(zip_path, root, progress=True):
    """Extract the train2014/ entries of a zip into `root`; return `root / "train2014"`."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            members = [n for n in zf.namelist() if n.startswith(FOLDER_NAME + "/")]
    except zipfile.BadZipFile as e:
        raise ValueError(f"{zip_path}: not a readable zip file ({e})") from e
    if not any(not n.endswith("/") for n in members):
        raise ValueError(f"{zip_path}: holds no files inside a {FOLDER_NAME}/ folder; expected a "
                         f"zip laid out like the official {TRAIN2014_URL}")
    dl.safe_extract_zip(zip_path, root, members=members, progress=progress)
    return root / FOLDER_NAME


def _user_copy(data_dir, progress=True):
    """Resolve a copy given by the user, read-only: the JPEG folder, its parent, or the zip."""
    p = Path(data_dir).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"{p}: does not exist; give the folder of COCO {FOLDER_NAME} "
                                f"JPEGs, the folder holding {FOLDER_NAME}/, or {FOLDER_NAME}.zip")
    if p.is_file():
        if p.suffix.lower() != ".zip":
            raise ValueError(f"{p}: is a file but not a .zip; give the folder of COCO "
                             f"{FOLDER_NAME} JPEGs or {FOLDER_NAME}.zip")
        if p.stat().st_size != TRAIN2014_ZIP_BYTES:
            warnings.warn(f"{p}: is {p.stat().st_size:,} bytes, the official {FOLDER_NAME}.zip is "
                          f"{TRAIN2014_ZIP_BYTES:,}", CocoWarning, stacklevel=3)
        root = _cache_root()
        print(f"extracting {p} into {root} (your zip is left as it is)")
        return _checked(_extract_zip(p, root, progress))
    if _has_images(p):
        return _checked(p)
    if _has_images(p / FOLDER_NAME):
        return _checked(p / FOLDER_NAME)
    if (p / f"{FOLDER_NAME}.zip").is_file():
        return _user_copy(p / f"{FOLDER_NAME}.zip", progress)
    raise FileNotFoundError(f"{p}: holds no images, no {FOLDER_NAME}/ folder with images and no "
                            f"{FOLDER_NAME}.zip")


def space_needed(root=None):
    """Bytes still to be written under `root` (default the cache) to download and extract COCO."""
    root = Path(root) if root is not None else _cache_root()
    zip_path = root / f"{FOLDER_NAME}.zip"
    part = Path(str(zip_path) + ".part")
    have = zip_path.stat().st_size if zip_path.is_file() else (
        part.stat().st_size if part.is_file() else 0)
    return max(TRAIN2014_ZIP_BYTES - have, 0) + TRAIN2014_EXTRACTED_BYTES


def coco_train2014(data_dir=None, download=True, progress=True):
    """Return the folder of the MS-COCO 2014 train JPEGs, downloading them if asked; notebook 02.

    `data_dir`: your own copy, used read-only: the folder of JPEGs, the folder holding
    `train2014/`, or `train2014.zip` (extracted into the cache, the zip left untouched). Without
    it, the cache `paths.cache_dir() / "coco"` (ALBUM_CACHE_DIR moves it) is used; if it holds no
    complete copy and `download` is true, the official zip (13.5 GB) is downloaded there
    (resumable: run again after an interruption), its size and SHA-256 checked, and extracted
    (about 13.5 GB more; the free space is checked first). Afterwards the zip may be deleted. A
    count other than 82,783 images gives a CocoWarning. Raises FileNotFoundError naming the paths
    looked at when nothing is found and `download` is false.
    """
    if data_dir is not None:
        return _user_copy(data_dir, progress)
    root = _cache_root()
    folder = root / FOLDER_NAME
    zip_path = root / f"{FOLDER_NAME}.zip"
    marker = dl.extraction_marker(root, zip_path)
    if marker.is_file():
        if _has_images(folder):
            return _checked(folder)
        marker.unlink()                     # the images were deleted: extract them again
    if folder.is_dir() and count_images(folder) == TRAIN2014_IMAGES and not zip_path.exists():
        return folder                       # a complete copy put there by hand
    if zip_path.is_file() and (not download or zip_path.stat().st_size == TRAIN2014_ZIP_BYTES):
        if zip_path.stat().st_size != TRAIN2014_ZIP_BYTES:
            warnings.warn(f"{zip_path}: is {zip_path.stat().st_size:,} bytes, the official zip is "
                          f"{TRAIN2014_ZIP_BYTES:,}; using it since download=False",
                          CocoWarning, stacklevel=2)
        return _checked(_extract_zip(zip_path, root, progress))
    if not download:
        if _has_images(folder):
            warnings.warn(f"{folder}: extraction was not finished (no {marker.name}); using the "
                          "images that are there since download=False", CocoWarning, stacklevel=2)
            return _checked(folder)
        raise FileNotFoundError(
            f"COCO {FOLDER_NAME} not found: looked for {folder} and {zip_path}; pass "
            f"download=True to download it ({TRAIN2014_ZIP_BYTES / _GB:.1f} GB), or data_dir= "
            f"your own copy (the {FOLDER_NAME} folder, its parent, or {FOLDER_NAME}.zip)")
    root.mkdir(parents=True, exist_ok=True)
    needed = space_needed(root)
    free = shutil.disk_usage(root).free
    print(f"COCO {FOLDER_NAME}: the zip is {TRAIN2014_ZIP_BYTES / _GB:.1f} GB and the extracted "
          f"images about {TRAIN2014_EXTRACTED_BYTES / _GB:.1f} GB; {needed / _GB:.1f} GB still "
          f"needed in {root}, {free / _GB:.1f} GB free")
    if needed > free:
        raise OSError(f"not enough disk space in {root} for COCO {FOLDER_NAME}: "
                      f"{needed / _GB:.1f} GB needed, {free / _GB:.1f} GB free; free some space, "
                      "set ALBUM_CACHE_DIR to a bigger disk, or pass data_dir= an existing copy")
    dl.download(TRAIN2014_URL, zip_path, sha256=TRAIN2014_SHA256, size=TRAIN2014_ZIP_BYTES,
                progress=progress)
    folder = _checked(_extract_zip(zip_path, root, progress))
    print(f"COCO {FOLDER_NAME} is ready in {folder}; you may delete {zip_path} to free "
          f"{TRAIN2014_ZIP_BYTES / _GB:.1f} GB")
    return folder
