"""The tf.data training pipeline: shapes, determinism, exact resumption, bad and tiny photos."""

import os
import warnings

import numpy as np
import pytest
from PIL import Image

from albumlib import paths
from albumlib.style import image_data
from albumlib.images import ImageError, SkippedImageWarning

SIZES = [(40, 60), (20, 12), (64, 64), (50, 90), (33, 33), (70, 45)]   # (h, w); some < crop


@pytest.fixture(scope="module")
def album(tmp_path_factory):
    """Six small noise photos of assorted sizes (JPEG and PNG)."""
    folder = tmp_path_factory.mktemp("album")
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate(SIZES):
        a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        Image.fromarray(a).save(folder / f"img{i}.{'png' if i % 2 else 'jpg'}")
    return folder


@pytest.fixture(scope="module")
def album_with_bad_file(tmp_path_factory, album):
    folder = tmp_path_factory.mktemp("bad_album")
    for p in album.iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    (folder / "img2b_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    return folder


def batches(ds, n):
    return [b.numpy() for b in ds.take(n)]


def make(folder, **kw):
    kw.setdefault("crop", 32)
    kw.setdefault("batch_size", 4)
    return image_data.training_dataset(folder, **kw)


def test_shapes_and_value_range(album):
    out = batches(make(album, scale=(0.5, 1.5)), 4)
    assert len(out) == 4
    for b in out:
        assert b.shape == (4, 32, 32, 3) and b.dtype == np.float32
        assert 0.0 <= b.min() and b.max() <= 1.0
    assert np.std(np.stack(out)) > 0.1          # noise photos: not blank


def test_same_seed_same_batches_other_seed_other_batches(album):
    a = batches(make(album, seed=3, scale=(0.8, 1.4)), 5)
    b = batches(make(album, seed=3, scale=(0.8, 1.4)), 5)
    c = batches(make(album, seed=4, scale=(0.8, 1.4)), 5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not any(np.array_equal(x, y) for x, y in zip(a, c))
    # Consecutive epochs differ (new order and new crops) although the photos are the same.
    assert not np.array_equal(a[0], a[3])


@pytest.mark.parametrize("skip", [1, 3, 4])
def test_skip_batches_resumes_exactly(album, skip):
    # 6 photos in batches of 4: batches straddle epochs, so this covers the epoch boundary too.
    fresh = batches(make(album, seed=11, scale=(0.5, 1.5)), skip + 3)
    resumed = batches(make(album, seed=11, scale=(0.5, 1.5), skip_batches=skip), 3)
    for i in range(3):
        np.testing.assert_array_equal(resumed[i], fresh[skip + i])


@pytest.mark.parametrize("check_files", [True, False])
def test_corrupt_file_is_skipped_and_reported(album_with_bad_file, check_files):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = make(album_with_bad_file, batch_size=2, check_files=check_files)
        out = batches(ds, 8)                     # more than one epoch of 6 good photos
    assert len(out) == 8 and all(b.shape == (2, 32, 32, 3) for b in out)
    bad = [w for w in caught if issubclass(w.category, SkippedImageWarning)]
    assert len(bad) == 1 and "img2b_broken.jpg" in str(bad[0].message)   # warned about once
    report = ds.decode_report
    assert report.count == 1
    assert report.skipped and all("img2b_broken" in p for p in report.skipped)
    assert bool(report.excluded) == check_files


def test_check_files_does_not_change_the_batches_and_skip_is_exact(album_with_bad_file):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedImageWarning)
        a = batches(make(album_with_bad_file, seed=5, check_files=True), 6)
        b = batches(make(album_with_bad_file, seed=5, check_files=False), 6)
        c = batches(make(album_with_bad_file, seed=5, check_files=False, skip_batches=4), 2)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    np.testing.assert_array_equal(c[0], a[4])
    np.testing.assert_array_equal(c[1], a[5])


def test_one_epoch_without_repeat(album):
    out = batches(make(album, batch_size=4, repeat=False), 10)
    assert len(out) == 1                         # 6 photos -> one full batch, the rest dropped
    out = batches(make(album, batch_size=2, repeat=False, shuffle_buffer=0, flip=False), 10)
    assert len(out) == 3


def test_photos_smaller_than_the_crop(tmp_path):
    Image.fromarray(np.full((6, 9, 3), 200, np.uint8)).save(tmp_path / "tiny é 'x'.png")
    Image.fromarray(np.full((3, 3, 3), 50, np.uint8)).save(tmp_path / "tinier.png")
    for b in batches(make(tmp_path, crop=48, batch_size=2, scale=(0.5, 1.5)), 3):
        assert b.shape == (2, 48, 48, 3)
        for image in b:                          # flat colours stay flat once enlarged
            assert np.ptp(image) < 0.02
            assert np.isclose(image.mean(), 200 / 255, atol=0.02) or np.isclose(
                image.mean(), 50 / 255, atol=0.02)


def test_bundled_album_trains_the_cpu_profile(tmp_path):
    album = paths.data_path("album")
    ds = image_data.training_dataset(album, crop=64, batch_size=3, scale=(0.5, 1.5))
    (b,) = batches(ds, 1)
    assert b.shape == (3, 64, 64, 3) and ds.decode_report.count == 0
    assert image_data.dataset_size(album) == 6


def test_no_decodable_photo_is_an_error(tmp_path):
    (tmp_path / "a.jpg").write_bytes(b"nope")
    (tmp_path / "b.png").write_bytes(b"")
    for check in (True, False):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkippedImageWarning)
            with pytest.raises(ImageError, match="none of its 2"):
                make(tmp_path, check_files=check)
    with pytest.raises(ValueError, match="scale"):
        make(paths.data_path("album"), scale=(0, 1))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ImageError, match="no photos"):
        make(empty)


def test_unsupported_types_are_left_out_and_listing_is_cached(tmp_path):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "a.jpg")
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "b.tif")
    with pytest.warns(SkippedImageWarning, match="tif"):
        assert [p.name for p in image_data.list_files(tmp_path)] == ["a.jpg"]
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "c.png")   # folder changes
    with pytest.warns(SkippedImageWarning):
        assert [p.name for p in image_data.list_files(tmp_path)] == ["a.jpg", "c.png"]
    info = image_data.describe(tmp_path)
    assert info.images == 2 and info.other_photos == 1 and info.by_type == {".jpg": 1, ".png": 1}
    assert "2 photos" in str(info)


def test_big_folder_listing_is_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("ALBUM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(image_data, "DISK_CACHE_MIN_FILES", 3)
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("b.jpg", "a10.jpg", "a2.jpg"):
        (folder / name).write_bytes(b"")         # listing only: nothing is decoded
    names = [p.name for p in image_data.list_files(folder)]
    assert names == ["a2.jpg", "a10.jpg", "b.jpg"]
    assert len(list((tmp_path / "cache" / "filelists").glob("*.json"))) == 1
    # A new session (empty memory cache) reads the disk cache instead of listing again ...
    monkeypatch.setattr(image_data, "_LIST_CACHE", {})
    monkeypatch.setattr(image_data, "list_album", lambda *a, **k: pytest.fail("listed again"))
    assert [p.name for p in image_data.list_files(folder)] == names
    # ... until the folder changes.
    monkeypatch.undo()
    monkeypatch.setenv("ALBUM_CACHE_DIR", str(tmp_path / "cache"))
    (folder / "c.jpg").write_bytes(b"")
    os.utime(folder, ns=(folder.stat().st_atime_ns, folder.stat().st_mtime_ns + 1_000_000))
    assert [p.name for p in image_data.list_files(folder)] == names + ["c.jpg"]
