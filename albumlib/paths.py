"""Where the bundled data lives, in a source checkout and in an installed wheel."""

import os
from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir():
    """Return the bundled data folder (ALBUM_DATA_DIR overrides it); taught in notebook 01's setup."""
    override = os.environ.get("ALBUM_DATA_DIR")
    if override:
        return Path(override)
    for candidate in (_PKG / "data", _PKG.parent / "data"):
        if (candidate / "styles").is_dir():
            return candidate
    raise FileNotFoundError(
        f"albumlib's data folder was not found next to {_PKG}; "
        "clone the repository or set ALBUM_DATA_DIR to its data/ folder")


def data_path(*parts):
    """Return a path inside the bundled data folder."""
    return data_dir().joinpath(*parts)


def cache_dir():
    """Return the folder for downloads and caches (ALBUM_CACHE_DIR, default ~/.cache/albumlib)."""
    base = os.environ.get("ALBUM_CACHE_DIR") or Path.home() / ".cache" / "albumlib"
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path
