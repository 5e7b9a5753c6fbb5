"""Tests of albumlib.images (reading and writing photos) and of the bundled sample data."""

import os
import warnings

import numpy as np
import pytest
from PIL import Image, ImageFile

from albumlib import fileio, images
from albumlib.images import ImageError, SkippedImageWarning, load_image

RED, GREEN, BLUE, YELLOW = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)


def blocks(h=16, w=24):
    """A uint8 RGB test card: four solid quadrants (red, green / blue, yellow)."""
    a = np.zeros((h, w, 3), np.uint8)
    a[: h // 2, : w // 2] = RED
    a[: h // 2, w // 2:] = GREEN
    a[h // 2:, : w // 2] = BLUE
    a[h // 2:, w // 2:] = YELLOW
    return a


def near(pixel, rgb255, tol=0.04):
    """True if a float pixel is within `tol` of an 8-bit colour, channel by channel."""
    return np.allclose(pixel, np.array(rgb255) / 255, atol=tol)


def snapshot(folder):
    """Bytes and mtimes of every file under `folder`."""
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in files}


# --- formats -----------------------------------------------------------------------------------

@pytest.mark.parametrize("ext,fmt", [(".png", "PNG"), (".bmp", "BMP"), (".tif", "TIFF"),
                                     (".tiff", "TIFF")])
def test_lossless_formats_exact(tmp_path, ext, fmt):
    a = blocks()
    path = tmp_path / f"card{ext}"
    Image.fromarray(a).save(path, format=fmt)
    out = load_image(path)
    assert out.dtype == np.float32 and out.shape == (16, 24, 3)
    np.testing.assert_array_equal(out, a.astype(np.float32) / 255)


@pytest.mark.parametrize("ext,fmt", [(".jpg", "JPEG"), (".jpeg", "JPEG"), (".webp", "WEBP")])
def test_lossy_formats_close(tmp_path, ext, fmt):
    a = blocks(64, 96)
    path = tmp_path / f"card{ext}"
    Image.fromarray(a).save(path, format=fmt, quality=95)
    out = load_image(path)
    assert out.shape == (64, 96, 3) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert near(out[8, 8], RED) and near(out[8, 80], GREEN)
    assert near(out[56, 8], BLUE) and near(out[56, 80], YELLOW)


def test_gif_animated_gives_first_frame(tmp_path):
    path = tmp_path / "anim.gif"
    first = Image.fromarray(blocks())
    second = Image.new("RGB", first.size, (0, 0, 0))
    first.save(path, save_all=True, append_images=[second], duration=100, loop=0)
    with Image.open(path) as im:
        assert im.n_frames == 2
    out = load_image(path)
    np.testing.assert_array_equal(out, blocks().astype(np.float32) / 255)


def test_multipage_tiff_gives_first_page(tmp_path):
    path = tmp_path / "pages.tif"
    Image.fromarray(blocks()).save(path, save_all=True,
                                   append_images=[Image.new("RGB", (24, 16), (9, 9, 9))])
    np.testing.assert_array_equal(load_image(path), blocks().astype(np.float32) / 255)


# --- EXIF orientation --------------------------------------------------------------------------

def test_exif_orientation_6_rotates_clockwise(tmp_path):
    stored = np.zeros((40, 80, 3), np.uint8)     # landscape as stored by the camera
    stored[...] = GREEN
    stored[:16, :16] = RED                       # marker in the stored top-left corner
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6                             # "rotate 90 degrees clockwise to display"
    Image.fromarray(stored).save(path, quality=95, exif=exif.tobytes())
    out = load_image(path)
    assert out.shape == (80, 40, 3)              # now portrait
    assert near(out[5, 34], RED, 0.08)           # top-left went to top-right
    assert near(out[5, 5], GREEN, 0.08)
    assert near(out[74, 34], GREEN, 0.08)
    assert near(out[74, 5], GREEN, 0.08)


def test_exif_orientation_with_max_side(tmp_path):
    path = tmp_path / "rotated_big.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.new("RGB", (400, 200), RED).save(path, exif=exif.tobytes())
    out = load_image(path, max_side=100)
    assert out.shape == (100, 50, 3)
    assert near(out[50, 25], RED)


# --- HEIC/HEIF (pillow-heif) -------------------------------------------------------------------

def save_heic(path, array, orientation=None, date=None):
    """Write a HEIC with pillow-heif, with an EXIF orientation and DateTimeOriginal if given."""
    import pillow_heif     # a dependency of albumlib: a missing reader fails these tests

    pillow_heif.register_heif_opener()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if date:
        exif.get_ifd(0x8769)[0x9003] = date
    options = {"exif": exif.tobytes()} if orientation or date else {}
    Image.fromarray(array).save(path, format="HEIF", quality=95, **options)
    return path


def test_heic_reads_like_other_photos(tmp_path):
    a = blocks(48, 64)
    save_heic(tmp_path / "IMG_2.heic", a)
    save_heic(tmp_path / "IMG_10.HEIF", a)
    Image.fromarray(a).save(tmp_path / "IMG_3.jpg", quality=95)
    out = load_image(tmp_path / "IMG_2.heic")
    assert out.shape == (48, 64, 3) and out.dtype == np.float32
    assert near(out[4, 4], RED) and near(out[4, 60], GREEN)
    assert near(out[44, 4], BLUE) and near(out[44, 60], YELLOW)
    assert load_image(tmp_path / "IMG_2.heic", max_side=32).shape == (24, 32, 3)
    with images.open_checked(tmp_path / "IMG_10.HEIF") as im:
        assert im.format == "HEIF"
    names = [p.name for p in images.list_album(tmp_path)]
    assert names == ["IMG_2.heic", "IMG_3.jpg", "IMG_10.HEIF"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", SkippedImageWarning)
        assert [p.name for p, _ in images.iter_album(tmp_path)] == names


@pytest.mark.parametrize("orientation,shape,corners", [
    # corners of the upright photo: top-left, top-right, bottom-left, bottom-right
    (3, (48, 64, 3), (YELLOW, BLUE, GREEN, RED)),      # turned 180 degrees
    (6, (64, 48, 3), (BLUE, RED, YELLOW, GREEN)),      # turned 90 degrees clockwise
])
def test_heic_exif_orientation_as_for_jpeg(tmp_path, orientation, shape, corners):
    a = blocks(48, 64)                                 # as stored by the camera
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(a).save(tmp_path / "p.jpg", quality=95, exif=exif.tobytes())
    heic = save_heic(tmp_path / "p.heic", a, orientation=orientation)
    for path in (tmp_path / "p.jpg", heic):
        out = load_image(path)
        assert out.shape == shape, path.name           # turned once, not twice, not never
        h, w = shape[:2]
        got = (out[3, 3], out[3, w - 4], out[h - 4, 3], out[h - 4, w - 4])
        assert all(near(px, rgb) for px, rgb in zip(got, corners)), (path.name, got)
        assert images.decode_upright(path).size == (w, h)
    # pillow-heif: libheif turns the pixels (irot), and the EXIF tag then reads 1
    with images.open_checked(heic) as im:
        assert im.size == (shape[1], shape[0]) and im.getexif().get(0x0112, 1) == 1


def test_heic_is_not_turned_twice_if_the_exif_tag_survives(tmp_path, monkeypatch):
    import pillow_heif

    heic = save_heic(tmp_path / "p.heic", blocks(48, 64), orientation=6)
    stale = Image.Exif()
    stale[0x0112] = 6      # as a reader would give it that left the tag after applying irot
    monkeypatch.setattr(pillow_heif.HeifImageFile, "getexif", lambda self: stale)
    with images.open_checked(heic) as im:
        assert im.getexif()[0x0112] == 6
    out = load_image(heic)
    assert out.shape == (64, 48, 3) and near(out[3, 3], BLUE) and near(out[3, 44], RED)


def test_heic_exif_date_is_read(tmp_path):
    from albumlib.film.capture import capture_time

    heic = save_heic(tmp_path / "p.heic", blocks(48, 64), orientation=6,
                     date="2024:07:01 14:05:06")
    taken = capture_time(heic)
    assert (taken.time.isoformat(), taken.source) == ("2024-07-01T14:05:06", "DateTimeOriginal")


def run_python(script):
    """Run `script` in a fresh Python (no HEIF reader registered yet) from the repository root."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    run = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return dict(line.split(" ", 1) for line in run.stdout.splitlines())


def test_importing_images_registers_the_heic_reader(tmp_path):
    heic = save_heic(tmp_path / "p.heic", blocks(48, 64))
    out = run_python(f"""
from albumlib import images
print("SHAPE", images.load_image({str(heic)!r}).shape, images.HEIF_READER)
""")
    assert out["SHAPE"] == "(48, 64, 3) True"


def test_heic_without_pillow_heif_is_a_clear_error(tmp_path):
    album = tmp_path / "album"
    album.mkdir()
    save_heic(album / "IMG_1.heic", blocks(48, 64))
    Image.fromarray(blocks()).save(album / "IMG_2.png")
    out = run_python(f"""
import sys, warnings
sys.modules["pillow_heif"] = None          # as if it were not installed
from albumlib import images
assert not images.HEIF_READER
try:
    images.load_image({str(album / "IMG_1.heic")!r})
except images.ImageError as e:
    print("ERROR", e)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print("LOADED", [p.name for p, _ in images.load_album({str(album)!r})])
print("WARNED", [str(w.message) for w in caught])
""")
    assert "IMG_1.heic" in out["ERROR"] and "pip install pillow-heif" in out["ERROR"]
    assert out["LOADED"] == "['IMG_2.png']"
    assert "IMG_1.heic" in out["WARNED"] and "pip install pillow-heif" in out["WARNED"]


# --- colour modes ------------------------------------------------------------------------------

def test_grayscale_L(tmp_path):
    g = np.array([[0, 64, 128, 255]], np.uint8).repeat(3, axis=0)
    path = tmp_path / "gray.png"
    Image.fromarray(g, mode="L").save(path)
    out = load_image(path)
    assert out.shape == (3, 4, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], g / np.float32(255))


def test_palette_without_transparency(tmp_path):
    im = Image.new("P", (3, 1))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (253 * 3))
    im.putdata([0, 1, 2])
    path = tmp_path / "palette.png"
    im.save(path)
    out = load_image(path)
    np.testing.assert_array_equal(out[0], np.array([RED, GREEN, BLUE]) / np.float32(255))


@pytest.mark.parametrize("ext", [".png", ".gif"])
def test_palette_with_transparency_is_white(tmp_path, ext):
    im = Image.new("P", (3, 1))
    im.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0] * (253 * 3))
    im.putdata([0, 1, 2])
    path = tmp_path / f"palette_t{ext}"
    im.save(path, transparency=0)               # index 0 (red) is fully transparent
    out = load_image(path)
    np.testing.assert_allclose(out[0, 0], [1, 1, 1])
    np.testing.assert_allclose(out[0, 1], np.array(GREEN) / 255)
    np.testing.assert_allclose(out[0, 2], np.array(BLUE) / 255)


def test_rgba_composited_on_white(tmp_path):
    a = np.array([[[255, 0, 0, 0], [0, 0, 255, 255], [0, 0, 0, 128]]], np.uint8)
    path = tmp_path / "rgba.png"
    Image.fromarray(a, mode="RGBA").save(path)
    out = load_image(path)
    assert out.shape == (1, 3, 3)
    np.testing.assert_allclose(out[0, 0], [1, 1, 1])                 # transparent red -> white
    np.testing.assert_allclose(out[0, 1], [0, 0, 1])                 # opaque blue stays blue
    np.testing.assert_allclose(out[0, 2], [127 / 255] * 3, atol=1.5 / 255)  # half black -> grey


def test_la_composited_on_white(tmp_path):
    a = np.array([[[0, 0], [0, 255], [200, 255]]], np.uint8)
    path = tmp_path / "la.png"
    Image.fromarray(a, mode="LA").save(path)
    out = load_image(path)
    np.testing.assert_allclose(out[0, :, 0], [1.0, 0.0, 200 / 255], atol=1e-6)


def test_cmyk(tmp_path):
    cmyk = np.array([[[0, 0, 0, 0], [255, 0, 0, 0], [0, 0, 0, 255], [0, 255, 255, 0]]], np.uint8)
    path = tmp_path / "cmyk.tif"
    Image.fromarray(cmyk, mode="CMYK").save(path)
    out = load_image(path)
    np.testing.assert_allclose(out[0], [[1, 1, 1], [0, 1, 1], [0, 0, 0], [1, 0, 0]], atol=1e-6)
    jpg = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (32, 32), (0, 255, 255, 0)).save(jpg, quality=95)
    assert near(load_image(jpg)[16, 16], RED, 0.05)


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_16bit_grayscale_scaled_not_clipped(tmp_path, ext):
    g = np.array([[0, 1000, 32768, 65535]], np.uint16)
    path = tmp_path / f"deep{ext}"
    Image.fromarray(g).save(path)
    with Image.open(path) as im:
        assert im.mode.startswith("I")
    out = load_image(path)
    assert out.dtype == np.float32 and out.shape == (1, 4, 3)
    np.testing.assert_allclose(out[0, :, 1], [0.0, 1000 / 65535, 32768 / 65535, 1.0], atol=1e-6)
    assert abs(out[0, 2, 0] - 0.5) < 1e-3


def test_32bit_int_and_float_tiff(tmp_path):
    i_path, f_path = tmp_path / "int.tif", tmp_path / "float.tif"
    Image.fromarray(np.array([[0, 65535]], np.int32), mode="I").save(i_path)
    Image.fromarray(np.array([[0.0, 0.25, 1.0]], np.float32), mode="F").save(f_path)
    np.testing.assert_allclose(load_image(i_path)[0, :, 0], [0, 1], atol=1e-6)
    np.testing.assert_allclose(load_image(f_path)[0, :, 2], [0, 0.25, 1], atol=1e-6)


# --- resizing while loading --------------------------------------------------------------------

def test_max_side_keeps_aspect_and_never_upscales(tmp_path):
    path = tmp_path / "wide.png"
    Image.fromarray(blocks(50, 100)).save(path)
    assert load_image(path, max_side=40).shape == (20, 40, 3)
    assert load_image(path, max_side=400).shape == (50, 100, 3)
    assert load_image(path, max_side=200, upscale=True).shape == (100, 200, 3)
    small = load_image(path, max_side=40)
    assert near(small[2, 2], RED, 0.02) and near(small[17, 37], YELLOW, 0.02)


def test_large_jpeg_max_side(tmp_path):
    path = tmp_path / "big.jpg"
    Image.fromarray(blocks(800, 1200)).save(path, quality=90)
    out = load_image(path, max_side=150)
    assert out.shape == (100, 150, 3)
    assert near(out[10, 10], RED) and near(out[90, 140], YELLOW)


# --- broken files ------------------------------------------------------------------------------

def make_bad_files(folder):
    """Write an empty .jpg, a truncated .jpg and a text file named .jpg; return their paths."""
    empty = folder / "empty.jpg"
    empty.write_bytes(b"")
    full = folder / "_full.tmp"
    Image.fromarray(blocks(64, 64)).save(full, format="JPEG")
    data = full.read_bytes()
    full.unlink()
    truncated = folder / "truncated.jpg"
    truncated.write_bytes(data[: len(data) // 2])
    text = folder / "notes.jpg"
    text.write_text("these are not pixels\n")
    return empty, truncated, text


def test_broken_files_raise_image_error(tmp_path):
    empty, truncated, text = make_bad_files(tmp_path)
    for path, word in [(empty, "empty"), (truncated, "truncated"), (text, "not an image")]:
        with pytest.raises(ImageError) as info:
            load_image(path)
        assert path.name in str(info.value) and word in str(info.value)
        assert isinstance(info.value, ValueError) and info.value.path == path
    with pytest.raises(ImageError, match="truncated"):
        load_image(truncated, max_side=16)       # the reduced-scale decode must also notice
    with pytest.raises(FileNotFoundError):
        load_image(tmp_path / "missing.jpg")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


# --- albums ------------------------------------------------------------------------------------

@pytest.fixture
def album(tmp_path):
    folder = tmp_path / "album"
    folder.mkdir()
    Image.fromarray(blocks()).save(folder / "img10.PNG")
    Image.fromarray(blocks()).save(folder / "img2.jpg", quality=95)
    make_bad_files(folder)
    (folder / "readme.txt").write_text("not a photo")
    Image.fromarray(blocks()).save(folder / ".hidden.jpg")
    (folder / "sub").mkdir()
    Image.fromarray(blocks()).save(folder / "sub" / "inner.png")
    return folder


def test_list_album(album):
    names = [p.name for p in images.list_album(album)]
    assert names == ["empty.jpg", "img2.jpg", "img10.PNG", "notes.jpg", "truncated.jpg"]
    deep = [p.relative_to(album).as_posix() for p in images.list_album(album, recursive=True)]
    assert "sub/inner.png" in deep and len(deep) == 6


def test_load_album_skips_bad_files_and_leaves_inputs_alone(album):
    before = snapshot(album)
    with pytest.warns(SkippedImageWarning) as record:
        photos = images.load_album(album)
    assert [p.name for p, _ in photos] == ["img2.jpg", "img10.PNG"]
    assert all(a.shape == (16, 24, 3) and a.dtype == np.float32 for _, a in photos)
    messages = [str(w.message) for w in record if issubclass(w.category, SkippedImageWarning)]
    assert len(messages) == 3
    for name, word in [("empty.jpg", "empty"), ("truncated.jpg", "truncated"),
                       ("notes.jpg", "not an image")]:
        assert any(name in m and word in m for m in messages), (name, messages)
    assert snapshot(album) == before


def test_load_album_limit_and_max_side(album):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImageWarning)
        assert len(images.load_album(album, limit=1)) == 1
        assert len(images.load_album(album, limit=0)) == 2      # 0 means all (profiles use it)
        (_, a), _ = images.load_album(album, max_side=12)
    assert a.shape == (8, 12, 3)


def test_load_album_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        images.load_album(tmp_path / "nowhere")
    (tmp_path / "empty_album").mkdir()
    with pytest.raises(ImageError, match="no photo files"):
        images.load_album(tmp_path / "empty_album")
    bad = tmp_path / "bad_album"
    bad.mkdir()
    make_bad_files(bad)
    with pytest.warns(SkippedImageWarning), pytest.raises(ImageError, match="none of its 3"):
        images.load_album(bad)


# --- saving ------------------------------------------------------------------------------------

@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp"])
def test_save_round_trip(tmp_path, ext):
    a = blocks(32, 48).astype(np.float32) / 255
    copy = a.copy()
    path = images.save_image(a, tmp_path / f"out{ext}")
    np.testing.assert_array_equal(a, copy)                   # input untouched
    out = load_image(path)
    if ext == ".png":
        np.testing.assert_array_equal(out, a)
    else:
        assert near(out[4, 4], RED) and near(out[28, 44], YELLOW)
    assert [p.name for p in tmp_path.iterdir()] == [f"out{ext}"]  # no temporary left


def test_save_clips_and_accepts_uint8_gray_and_batch(tmp_path):
    a = np.array([[[-0.5, 0.5, 1.5]]], np.float32)
    out = load_image(images.save_image(a, tmp_path / "clip.png"))
    np.testing.assert_allclose(out[0, 0], [0, 128 / 255, 1])
    g = np.array([[0, 255]], np.uint8)
    out = load_image(images.save_image(g, tmp_path / "g.png"))
    np.testing.assert_allclose(out[0, :, 0], [0, 1])
    batch = blocks()[None].astype(np.float32) / 255
    assert load_image(images.save_image(batch, tmp_path / "b.png")).shape == (16, 24, 3)


def test_save_refuses_to_overwrite(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.fromarray(blocks()).save(path)
    original = path.read_bytes()
    with pytest.raises(FileExistsError, match="photo.jpg"):
        images.save_image(np.zeros((4, 4, 3)), path)
    assert path.read_bytes() == original
    fresh = images.save_image(np.zeros((4, 4, 3)), fileio.unique_path(path))
    assert fresh.name == "photo-1.jpg" and path.read_bytes() == original
    images.save_image(np.ones((4, 4, 3)), path, overwrite=True)
    assert near(load_image(path)[0, 0], (255, 255, 255), 0.01)


def test_save_rejects_unknown_extension(tmp_path):
    with pytest.raises(ValueError, match=".gif"):
        images.save_image(np.zeros((4, 4, 3)), tmp_path / "x.gif")


@pytest.mark.parametrize("existing", [False, True])
def test_save_is_atomic(tmp_path, monkeypatch, existing):
    path = tmp_path / "out.png"
    if existing:
        Image.fromarray(blocks()).save(path)
    before = snapshot(tmp_path)
    real_save = Image.Image.save

    def failing_save(self, fp, *args, **kwargs):
        real_save(self, fp, *args, **kwargs)
        with open(fp, "r+b") as f:                       # leave a half-written file behind
            f.truncate(os.path.getsize(fp) // 2)
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        images.save_image(np.zeros((64, 64, 3)), path, overwrite=True)
    assert snapshot(tmp_path) == before                  # nothing new, nothing partial


# --- array helpers -----------------------------------------------------------------------------

def test_to_uint8_and_to_float32():
    f = np.array([[[0.0, 0.5, 1.0]]], np.float32)
    np.testing.assert_array_equal(images.to_uint8(f), [[[0, 128, 255]]])
    u = np.array([[[0, 51, 255]]], np.uint8)
    np.testing.assert_allclose(images.to_float32(u), [[[0, 0.2, 1]]], atol=1e-7)
    assert images.to_uint8(u) is not u


def test_resize_and_crop_helpers():
    a = blocks(40, 80).astype(np.float32) / 255
    assert images.resize_max_side(a, 20).shape == (10, 20, 3)
    assert images.resize_max_side(a, 200).shape == (40, 80, 3)
    sq = images.center_crop_square(a)
    assert sq.shape == (40, 40, 3) and near(sq[0, 0], RED, 1e-6) and near(sq[0, -1], GREEN, 1e-6)
    assert images.center_crop_square(a, size=16).shape == (16, 16, 3)
    padded = images.fit_to_frame(a, 80, 80, mode="pad", fill=0.0)
    assert padded.shape == (80, 80, 3)
    assert padded[5, 40].sum() == 0 and near(padded[25, 5], RED, 0.02)
    cropped = images.fit_to_frame(a, 40, 80, mode="crop")
    assert cropped.shape == (80, 40, 3) and near(cropped[5, 5], RED, 0.02)
    out = images.resize_to(a, 8, 4)
    assert out.shape == (4, 8, 3) and 0 <= out.min() and out.max() <= 1


# --- bundled data ------------------------------------------------------------------------------

def test_bundled_album_and_styles_load():
    from albumlib import paths
    from albumlib.style import styles

    photos = images.list_album(paths.data_path("album"))
    assert 6 <= len(photos) <= 8
    assert (paths.data_path("album") / "ATTRIBUTION.md").is_file()
    small = load_image(photos[0], max_side=64)
    assert max(small.shape[:2]) == 64 and small.std() > 0.05
    assert len(styles.list_styles()) == 6
    assert styles.style_path("starry_night").is_file()
    assert max(styles.load_style("wave", max_side=32).shape[:2]) == 32
    with pytest.raises(ValueError, match="starry_night"):
        styles.style_path("mona_lisa")


def test_as_rgb_has_one_alpha_policy_for_arrays_and_files(tmp_path):
    """Grey repeats, RGBA composites on white, as load_image does for a transparent PNG."""
    from PIL import Image as PILImage
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :3, 3] = 255            # left half opaque red-ish, right half transparent
    path = tmp_path / "a.png"
    PILImage.fromarray(rgba, "RGBA").save(path)
    from_array, from_file = images.as_rgb(rgba), images.as_rgb(path)
    np.testing.assert_allclose(from_array, from_file, atol=1 / 255)
    assert np.allclose(from_array[:, 3:], 1.0) and np.allclose(from_array[:, 0], [200 / 255, 0, 0])
    grey = images.as_rgb(np.full((3, 5), 0.25, np.float32))
    assert grey.shape == (3, 5, 3) and np.allclose(grey, 0.25)
    with pytest.raises(ValueError, match=r"\(H, W, 4\)"):
        images.as_rgb(np.zeros((3, 5, 2)))
