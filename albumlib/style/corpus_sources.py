"""The photo corpus' selection, as data: the Debian packages, the photos taken from each.

With the sizes and thresholds a build uses (changing them rebuilds the corpus) and the corpus'
warning and error.
"""

import dataclasses
import fnmatch
import hashlib
import json

MIN_SIDE = 256                        # a photo's short side, in pixels, at least (training crops)
MAX_SIDE = 1024                       # the long side of a written photo, at most
QUALITY = 92                          # JPEG quality of the written photos
SIGNATURE_SIDE = 32                   # near-duplicates: 32x32 grey gradient signatures ...
CROP_MARGINS = (0.0, 0.05, 0.1, 0.15) # ... compared over crops taking 0-15% off each side
NEAR_DUPLICATE = 0.88                 # this alike or more: a copy of an album/hold-out photo
CORPUS_DUPLICATE = 0.95               # whole pictures this alike: one photo twice in the corpus


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


def selection_key(sources):
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


def matches_any(path, patterns):
    """True if `path` matches any of the globs `patterns` (see path_matches)."""
    return any(path_matches(path, p) for p in patterns)
