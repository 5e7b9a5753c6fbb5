"""The six bundled style paintings (public domain; see data/styles/ATTRIBUTION.md)."""

from pathlib import Path

from .. import images, paths

# name -> (file in data/styles, title, artist, year)
STYLES = {
    "starry_night": ("starry_night.jpg", "The Starry Night", "Vincent van Gogh", "1889"),
    "wave": ("wave.jpg", "The Great Wave off Kanagawa", "Katsushika Hokusai", "c. 1831"),
    "the_scream": ("the_scream.jpg", "The Scream", "Edvard Munch", "1893"),
    "composition_vii": ("composition_vii.jpg", "Composition VII", "Wassily Kandinsky", "1913"),
    "udnie": ("udnie.jpg", "Udnie (Young American Girl, The Dance)", "Francis Picabia", "1913"),
    "shipwreck_of_the_minotaur": ("shipwreck_of_the_minotaur.jpg",
                                  "The Shipwreck of the Minotaur", "J. M. W. Turner", "c. 1810"),
}


def list_styles():
    """Return the names of the bundled styles, e.g. 'starry_night'; taught in notebook 01."""
    return list(STYLES)


def style_key(name):
    """'Starry Night', 'starry-night' and 'starry_night.jpg' all have the key 'starry_night'."""
    key = name.strip().lower()
    if key.endswith((".jpg", ".jpeg")):
        key = key.rsplit(".", 1)[0]
    return key.replace("-", "_").replace(" ", "_")


def style_path(name):
    """Return the file of a bundled style, or `name` if it is an existing file; notebook 01."""
    if isinstance(name, str) and style_key(name) in STYLES:
        return paths.data_path("styles", STYLES[style_key(name)][0])
    candidate = Path(name)
    if candidate.is_file():
        return candidate
    available = ", ".join(STYLES)
    raise ValueError(f"{str(name)!r} is neither a bundled style nor an existing file; "
                     f"bundled styles: {available}")


def style_info(name):
    """Return (title, artist, year) of a bundled style, for captions; notebook 01."""
    key = style_key(name)
    if key not in STYLES:
        raise ValueError(f"{name!r} is not a bundled style; bundled styles: {', '.join(STYLES)}")
    return STYLES[key][1:]


def load_style(name, max_side=None):
    """Load a bundled style (or any image file) as float32 RGB in [0, 1]; taught in notebook 01."""
    return images.load_image(style_path(name), max_side=max_side)


def as_style_image(style, max_side=None):
    """A bundled style name, an image path or an RGB array -> float32 RGB in [0, 1]; notebook 01."""
    if isinstance(style, str) and not Path(style).exists():
        return load_style(style, max_side=max_side)
    return images.as_rgb(style, max_side, "style image")
