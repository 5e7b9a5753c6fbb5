"""Make the bundled sample data: data/album/, data/holdout/ and data/styles/.

    python scripts/make_sample_data.py [--styles-from /work/shared/styles] [--data-dir data]

The album and hold-out photos come from the scikit-image and scikit-learn wheels (no download);
the style paintings from a folder of the six originals. Every output is re-encoded as JPEG
(quality 90, sRGB, no metadata), shrunk but never enlarged, and written whole or not at all.
Re-running it replaces the generated files; it never touches the sources.
"""

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from albumlib import fileio, images  # noqa: E402
from albumlib.style.styles import STYLES  # noqa: E402

QUALITY = 90
ALBUM_MAX_SIDE = 640
STYLE_MAX_SIDE = 1024


def skimage_file(name):
    """Path of a file shipped inside the scikit-image wheel."""
    import skimage

    return Path(skimage.__file__).parent / "data" / name


def sklearn_file(name):
    """Path of a file shipped inside the scikit-learn wheel."""
    import sklearn

    return Path(sklearn.__file__).parent / "datasets" / "images" / name


def versions():
    """Versions of the packages the photos were taken from."""
    import skimage
    import sklearn

    return f"scikit-image {skimage.__version__}, scikit-learn {sklearn.__version__}"


SKIMAGE = "scikit-image (`skimage.data.{func}()`, file `skimage/data/{file}`)"
SKLEARN = ("scikit-learn (`sklearn.datasets.load_sample_image('{file}')`, "
           "file `sklearn/datasets/images/{file}`)")
CC0 = "CC0 1.0 (public-domain dedication), https://creativecommons.org/publicdomain/zero/1.0/"
CC_BY_2 = "CC BY 2.0, https://creativecommons.org/licenses/by/2.0/"

# (output name, source path function, source file, shipped-by text, subject, author/origin, licence)
ALBUM = [
    ("01_astronaut.jpg", skimage_file, "astronaut.png",
     SKIMAGE.format(func="astronaut", file="astronaut.png"),
     "Astronaut Eileen Collins (portrait)",
     "NASA; from the NASA Great Images database, https://flic.kr/p/r9qvLn",
     "Public domain (\"No known copyright restrictions, released into the public domain.\")"),
    ("02_rocket.jpg", skimage_file, "rocket.jpg", SKIMAGE.format(func="rocket", file="rocket.jpg"),
     "Launch of DSCOVR on a Falcon 9, Cape Canaveral, 2015",
     "SpaceX, https://www.flickr.com/photos/spacexphotos/16511594820/",
     "Public domain (released by SpaceX into the public domain, "
     "http://arstechnica.com/tech-policy/2015/03/"
     "elon-musk-puts-spacex-photos-into-the-public-domain/)"),
    ("03_china.jpg", sklearn_file, "china.jpg", SKLEARN.format(file="china.jpg"),
     "Chinese temple roof",
     "danielbuechele (Flickr), https://www.flickr.com/photos/danielbuechele/6061409035/; "
     "retrieved 21 August 2011 by Robert Layton",
     CC_BY_2),
    ("04_flower.jpg", sklearn_file, "flower.jpg", SKLEARN.format(file="flower.jpg"),
     "Flower close-up",
     "vultilion (Flickr), https://www.flickr.com/photos/vultilion/6056698931/; "
     "retrieved 21 August 2011 by Robert Layton (see the note below)",
     CC_BY_2),
    ("05_coffee.jpg", skimage_file, "coffee.png", SKIMAGE.format(func="coffee", file="coffee.png"),
     "Coffee cup (courtesy of Pikolo Espresso Bar)",
     "Rachel Michetti",
     CC0 + " (\"No copyright restrictions. CC0 by the photographer\")"),
    ("06_chelsea.jpg", skimage_file, "chelsea.png",
     SKIMAGE.format(func="chelsea", file="chelsea.png"),
     "Chelsea the cat",
     "Stefan van der Walt",
     CC0 + " (\"No copyright restrictions. CC0 by the photographer\")"),
]

HOLDOUT = [
    ("hubble_deep_field.jpg", skimage_file, "hubble_deep_field.jpg",
     SKIMAGE.format(func="hubble_deep_field", file="hubble_deep_field.jpg"),
     "Hubble eXtreme Deep Field (colour)",
     "NASA, from HubbleSite, http://hubblesite.org/newscenter/archive/releases/2012/37/image/a/",
     "Public domain (\"captured by NASA and may be freely used in the public domain\", "
     "http://www.nasa.gov/audience/formedia/features/MP_Photo_Guidelines.html)"),
    ("camera.jpg", skimage_file, "camera.png", SKIMAGE.format(func="camera", file="camera.png"),
     "A photographer with a camera (black and white)",
     "Lav Varshney",
     CC0 + " (\"No copyright restrictions. CC0 by the photographer\")"),
]

EXCLUDED = """\
Left out on purpose: `skimage.data.stereo_motorcycle()` (Middlebury 2014 stereo benchmark; no
licence is stated in scikit-image), and the non-photographs (`immunohistochemistry`, `retina`,
`colorwheel`, `logo`)."""


def to_srgb(pixels, icc):
    """Convert float RGB pixels tagged with ICC profile `icc` to sRGB (sRGB is returned as is)."""
    src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    if "srgb" in ImageCms.getProfileDescription(src).lower():
        return pixels
    im = Image.fromarray(images.to_uint8(pixels))
    im = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"), outputMode="RGB")
    return images.to_float32(np.asarray(im))


def export(src, dst, max_side):
    """Re-encode `src` as a JPEG at `dst`, long side <= max_side; grey photos stay grey."""
    with Image.open(src) as im:
        grey = im.mode in ("L", "1", "I;16", "I")
        icc = im.info.get("icc_profile")
    pixels = images.load_image(src, max_side=max_side)  # EXIF-rotated, alpha on white
    if icc and not grey:
        pixels = to_srgb(pixels, icc)
    if grey:
        pixels = pixels[..., 0]
    images.save_image(pixels, dst, quality=QUALITY, overwrite=True)
    with Image.open(dst) as out:
        return out.size, dst.stat().st_size


def write_text(path, text):
    """Write a text file whole or not at all."""
    fileio.atomic_write_bytes(path, text.encode())


def write_photos(folder, entries, title, intro):
    """Export `entries` into `folder` and write its ATTRIBUTION.md; return the total bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    rows, total = [], 0
    for name, where, file, shipped, subject, author, licence in entries:
        (w, h), size = export(where(file), folder / name, ALBUM_MAX_SIDE)
        total += size
        rows.append(f"| {name} | {subject} | {author} | {licence} | {shipped} | {w}x{h}, "
                    f"{size / 1000:.0f} kB |")
        print(f"  {folder.name}/{name}: {w}x{h}, {size / 1000:.0f} kB")
    text = f"""# {title}

{intro}

Made by `scripts/make_sample_data.py` from the sample images shipped inside the Python packages
({versions()}); the licences and credits below are the ones those packages give (scikit-image:
the docstrings in `skimage/data/_fetchers.py`; scikit-learn: `sklearn/datasets/images/README.txt`).
Changes: re-encoded as JPEG quality {QUALITY}, shrunk to at most {ALBUM_MAX_SIDE} px on the long
side (never enlarged), metadata removed.

| file | subject | author / origin | licence | shipped in | size |
|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n"
    if any(e[2] == "flower.jpg" for e in entries):
        text += """
Note on 04_flower.jpg: scikit-learn's README credits it with the line "Some rights reserved by
danielbuechele" (copied from the china.jpg entry) but links the photographer page
https://www.flickr.com/photos/vultilion/ and the photo page
https://www.flickr.com/photos/vultilion/6056698931/; the photographer is the Flickr user vultilion.

CC BY 2.0 requires that you keep this credit and the licence link when you share these two
photos or works made from them (for example a film that shows them), and say that they were changed.
"""
    text += "\n" + EXCLUDED + "\n"
    write_text(folder / "ATTRIBUTION.md", text)
    return total


def write_styles(src_dir, folder):
    """Export the six paintings, copy their ATTRIBUTION.md with a note; return the total bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    total, lines = 0, []
    for _, (file, *_rest) in STYLES.items():
        with Image.open(src_dir / file) as im:
            before = im.size
        (w, h), size = export(src_dir / file, folder / file, STYLE_MAX_SIDE)
        total += size
        lines.append(f"| {file} | {before[0]}x{before[1]} | {w}x{h} | {size / 1000:.0f} kB |")
        print(f"  styles/{file}: {before[0]}x{before[1]} -> {w}x{h}, {size / 1000:.0f} kB")
    original = (src_dir / "ATTRIBUTION.md").read_text()
    note = f"""
## In this project

Made by `scripts/make_sample_data.py`: each painting was shrunk so that its long side is at most
{STYLE_MAX_SIDE} px (never enlarged), converted to sRGB and re-encoded as JPEG quality {QUALITY}
without metadata. File names are unchanged. (The sizes given above are those of the originals.)

| file | original | here | size |
|---|---|---|---|
""" + "\n".join(lines) + "\n"
    write_text(folder / "ATTRIBUTION.md", original.rstrip() + "\n" + note)
    return total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO / "data")
    parser.add_argument("--styles-from", type=Path, default=Path("/work/shared/styles"),
                        help="folder with the six original paintings and their ATTRIBUTION.md")
    args = parser.parse_args(argv)
    data = args.data_dir
    album = write_photos(data / "album", ALBUM, "Sample album",
                         "Six photographs for the course's demo film, in film order.")
    holdout = write_photos(data / "holdout", HOLDOUT, "Hold-out photos",
                           "Photos kept out of the sample album: use them to show what the "
                           "trained networks do with pictures they never saw.")
    if args.styles_from.is_dir():
        styles = write_styles(args.styles_from, data / "styles")
    elif (data / "styles" / "ATTRIBUTION.md").is_file():
        print(f"  {args.styles_from} not found: data/styles left as it is")
        styles = sum(p.stat().st_size for p in (data / "styles").glob("*.jpg"))
    else:
        sys.exit(f"{args.styles_from}: folder of original paintings not found (--styles-from)")
    print(f"album {album / 1e6:.2f} MB, holdout {holdout / 1e6:.2f} MB, "
          f"styles {styles / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
