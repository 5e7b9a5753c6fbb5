"""Repainting albums with a fast network: sizes, batches, bad files, no overwrites; the CLI."""

import warnings

import numpy as np
import pytest

from albumlib import cli, images, paths
from albumlib.style import color, fast_style, style_nets, stylize

TINY = ["--filters", "8", "16", "16", "--residual-blocks", "1", "--style-size", "64"]


@pytest.fixture(scope="module")
def net():
    """A tiny transform net with random weights (its output is far from the photo)."""
    model = fast_style.build_transform_net(filters=(8, 16, 16), residual_blocks=1,
                                           name="tiny")
    rng = np.random.default_rng(0)          # seeded weights: the same network on every run
    weights = []
    for w in model.get_weights():
        if w.ndim == 4:                      # kernels: Glorot normal
            std = np.sqrt(2.0 / (w.shape[0] * w.shape[1] * (w.shape[2] + w.shape[3])))
            weights.append(rng.normal(0, std, w.shape).astype(np.float32))
        else:                                # IN scales 1, offsets and biases 0, plus noise
            weights.append((w + rng.normal(0, 0.2, w.shape)).astype(np.float32))
    model.set_weights(weights)
    return model


def smooth_photo(h, w, seed):
    """A colourful, smooth photo (JPEG keeps it well)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    phase = rng.random(3) * 6
    return np.stack([0.5 + 0.4 * np.sin(3 * x + 2 * y + p) for p in phase], -1).astype(np.float32)


@pytest.fixture
def album(tmp_path):
    folder = tmp_path / "my album ü"
    folder.mkdir()
    images.save_image(smooth_photo(40, 60, 1), folder / "a.png")
    images.save_image(smooth_photo(40, 60, 2), folder / "café au lait é.png")
    images.save_image(smooth_photo(50, 50, 3), folder / "square photo.jpg")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    (folder / "notes.txt").write_text("not a photo")
    return folder


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


EXPECTED = {"a_tiny.jpg": (40, 60), "café au lait é_tiny.jpg": (40, 60),
            "square photo_tiny.jpg": (50, 50)}


def test_album_of_mixed_sizes(net, album, tmp_path, monkeypatch):
    calls = []
    run_batch = stylize._run_batch

    def counting(model, batch):
        calls.append(batch.shape)
        return run_batch(model, batch)

    monkeypatch.setattr(stylize, "_run_batch", counting)
    before = snapshot(album)
    out = tmp_path / "new folder" / "out"
    with pytest.warns(images.SkippedImageWarning, match="broken.jpg"):
        written = stylize.stylize_album(album, net, out, progress=False)
    assert [p.name for p in written] == sorted(EXPECTED)          # album order
    for path in written:
        assert images.load_image(path).shape[:2] == EXPECTED[path.name]
    assert sorted(calls) == [(1, 50, 50, 3), (2, 40, 60, 3)]     # the two 40x60 photos together
    assert snapshot(album) == before                               # inputs untouched
    assert sorted(p.name for p in out.iterdir()) == sorted(EXPECTED)   # no temporary files

    # A second run never replaces the first outputs.
    first = snapshot(out)
    with pytest.warns(images.SkippedImageWarning):
        again = stylize.stylize_album(album, net, out, progress=False)
    assert [p.name for p in again] == ["a_tiny-1.jpg", "café au lait é_tiny-1.jpg",
                                       "square photo_tiny-1.jpg"]
    assert {k: v for k, v in snapshot(out).items() if k in first} == first
    # ... unless asked to.
    with pytest.warns(images.SkippedImageWarning):
        replaced = stylize.stylize_album(album, net, out, progress=False, overwrite=True)
    assert [p.name for p in replaced] == sorted(EXPECTED) and len(list(out.iterdir())) == 6
    assert snapshot(album) == before


def test_batch_size_and_big_photos(net, album, tmp_path, monkeypatch):
    calls = []
    run_batch = stylize._run_batch
    monkeypatch.setattr(stylize, "_run_batch",
                        lambda model, batch: calls.append(batch.shape) or run_batch(model, batch))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", images.SkippedImageWarning)
        stylize.stylize_album(album, net, tmp_path / "b1", batch_size=1, progress=False)
        assert [c[0] for c in calls] == [1, 1, 1]
        calls.clear()
        monkeypatch.setattr(stylize, "MAX_BATCH_PIXELS", 3000)     # a 40x60 photo fills it
        stylize.stylize_album(album, net, tmp_path / "b2", batch_size=8, progress=False)
        assert [c[0] for c in calls] == [1, 1, 1]
    assert stylize.plan_batches([(4, 6), (5, 5), (4, 6), (4, 6)], 2) == [[0, 2], [3], [1]]


def test_max_side_suffix_and_single_files(net, album, tmp_path):
    out = tmp_path / "out"
    written = stylize.stylize_album([album / "a.png", album / "square photo.jpg", album / "a.png"],
                                    net, out, max_side=30, suffix="-film", progress=False)
    assert [p.name for p in written] == ["a-film.jpg", "square photo-film.jpg"]   # a.png once
    assert [images.load_image(p).shape[:2] for p in written] == [(20, 30), (30, 30)]


def test_strength_zero_gives_the_photo_and_preserve_color_keeps_chroma(net, album, tmp_path):
    photo = images.load_image(album / "a.png")
    kw = dict(progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", images.SkippedImageWarning)
        plain = stylize.stylize_album(album, net, tmp_path / "plain", **kw)[0]
        same = stylize.stylize_album(album, net, tmp_path / "zero", strength=0.0, **kw)[0]
        kept = stylize.stylize_album(album, net, tmp_path / "kept", preserve_color=True, **kw)[0]
    plain, same, kept = (images.load_image(p) for p in (plain, same, kept))
    assert np.abs(same - photo).mean() < 0.01 and np.abs(same - photo).max() < 0.1   # JPEG only
    assert np.abs(plain - photo).mean() > 0.05                     # the net does change it

    def chroma(x):
        return color.rgb_to_yiq(x)[..., 1:]

    kept_error = np.abs(chroma(kept) - chroma(photo)).mean()
    plain_error = np.abs(chroma(plain) - chroma(photo)).mean()
    # (not 0: colours out of the RGB cube are clipped, and JPEG halves the chroma resolution)
    assert kept_error < 0.03 and kept_error < plain_error / 5
    assert np.abs(color.luminance(kept) - color.luminance(plain)).mean() < 0.02   # repainted


def test_stylize_images_batches_like_single_calls(net):
    photos = [smooth_photo(40, 60, 1), smooth_photo(33, 21, 2),
              (smooth_photo(40, 60, 3) * 255).astype(np.uint8)]
    together = stylize.stylize_images(net, photos, batch_size=4)
    alone = [stylize.stylize_images(net, [p], batch_size=1)[0] for p in photos]
    assert [o.shape for o in together] == [(40, 60, 3), (33, 21, 3), (40, 60, 3)]
    for a, b in zip(together, alone):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, atol=1e-5)
    np.testing.assert_allclose(together[0], fast_style.stylize_array(net, photos[0]), atol=1e-5)
    # one trace serves every batch size and photo size
    assert stylize._compiled(net).experimental_get_tracing_count() == 1
    half = stylize.stylize_images(net, photos[:1], strength=0.5)[0]
    np.testing.assert_allclose(half, (together[0] + photos[0]) / 2, atol=1e-5)
    with pytest.raises(ValueError, match="strength"):
        stylize.stylize_images(net, photos, strength=1.5)
    with pytest.raises(ValueError, match="batch_size"):
        stylize.stylize_images(net, photos, batch_size=0)
    with pytest.raises(ValueError, match="at least 5"):
        stylize.stylize_images(net, [np.zeros((3, 9, 3), np.float32)])


def test_empty_or_unreadable_album_is_an_error(net, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(images.ImageError, match="empty.*no photo files"):
        stylize.stylize_album(empty, net, tmp_path / "out", progress=False)
    (empty / "bad.jpg").write_bytes(b"")
    with pytest.warns(images.SkippedImageWarning, match="bad.jpg"):
        with pytest.raises(images.ImageError, match="none of its 1 photo files"):
            stylize.stylize_album(empty, net, tmp_path / "out", progress=False)
    with pytest.raises(FileNotFoundError, match="missing"):
        stylize.stylize_album(tmp_path / "missing", net, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_style_by_file_and_bundled_name(net, album, tmp_path, monkeypatch):
    npz = style_nets.export(net, tmp_path / "nets", "my style")["npz"]
    with pytest.warns(images.SkippedImageWarning):
        written = stylize.stylize_album(album, npz, tmp_path / "o1", progress=False)
    assert written[0].name == "a_my style.jpg"
    monkeypatch.setenv("ALBUM_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(ValueError, match="no trained networks are bundled yet"):
        stylize.stylize_album(album, "wave", tmp_path / "o2", progress=False)
    style_nets.export(net, style_nets.bundled_dir(), "wave")
    with pytest.warns(images.SkippedImageWarning):
        written = stylize.stylize_album(album, "wave", tmp_path / "o2", progress=False)
    assert [p.name for p in written][:1] == ["a_wave.jpg"]


# --------------------------------------------------------------------------- command line


def test_cli_stylize(net, album, tmp_path, capsys):
    npz = style_nets.export(net, tmp_path / "nets", "starry_night")["npz"]
    before = snapshot(album)
    out = tmp_path / "out put"
    with pytest.warns(images.SkippedImageWarning, match="broken.jpg"):
        assert cli.main(["stylize", str(album), "--style", str(npz), "-o", str(out),
                         "--max-side", "30", "--batch-size", "2", "--strength", "0.8",
                         "--preserve-color", "--no-progress"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["a_starry_night.jpg", "café au lait é_starry_night.jpg",
                     "square photo_starry_night.jpg"]
    assert images.load_image(out / "a_starry_night.jpg").shape == (20, 30, 3)
    assert "repainted 3 photo(s)" in capsys.readouterr().out
    assert snapshot(album) == before
    with pytest.raises(SystemExit, match="'nope'.*bundled networks: .*starry_night"):
        cli.main(["stylize", str(album), "--style", "nope", "-o", str(out)])
    with pytest.raises(SystemExit):
        cli.main(["stylize", str(album), "--style", str(npz), "-o", str(out), "--strength", "2"])


def test_cli_train_style_exports_and_resumes(tmp_path, capsys):
    out = tmp_path / "net out"
    base = ["train-style", "--style", "starry_night", "--data-dir", str(paths.data_path("album")),
            "--out", str(out), "--crop", "32", "--batch-size", "2", "--checkpoint-every", "2",
            "--no-progress"] + TINY
    assert cli.main(base + ["--steps", "2"]) == 0
    assert {"checkpoint.npz", "history.json", "starry_night.npz",
            "starry_night.keras"} <= {p.name for p in out.iterdir()}
    first = style_nets.info(out / "starry_night.npz")
    assert first["steps"] == 2 and first["images"] == 6 and first["style"] == "starry_night"
    assert set(first["final_losses"]) == {"total", "content", "style", "tv"}
    assert first["wall_seconds"] > 0 and first["resumed_from"] == 0
    assert "resuming" not in capsys.readouterr().out

    assert cli.main(base + ["--steps", "3", "--style-weight", "1e-4"]) == 0
    assert "resuming from" in capsys.readouterr().out
    info = style_nets.info(out / "starry_night.keras")
    assert info["steps"] == 3 and info["resumed_from"] == 2
    assert info["loss_weights"]["style"] == 1e-4
    model = style_nets.load(out / "starry_night.npz")
    assert fast_style.transform_net_config(model)["filters"] == (8, 16, 16)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]     # no temporary files


def test_cli_train_style_options_reach_the_config(net, tmp_path, monkeypatch, capsys):
    import tensorflow as tf
    from albumlib.style import coco, fast_train
    seen = {}

    def fake_train(config, strategy=None, progress=True):
        seen.update(config=config, strategy=strategy)
        history = {"step": [7], "total": [1.0], "content": [2.0], "style": [3.0], "tv": [4.0],
                   "seconds": [0.5]}
        return fast_train.TrainResult(net, history, tmp_path / "o", 0)

    monkeypatch.setattr(fast_train, "train", fake_train)
    monkeypatch.setattr(coco, "coco_train2014", lambda: paths.data_path("album"))
    assert cli.main(["train-style", "--style", "The Scream", "--coco", "--out", str(tmp_path / "o"),
                     "--steps", "7", "--crop", "64", "--batch-size", "8", "--lr", "0.002",
                     "--checkpoint-every", "3", "--style-weight", "5e-4", "--mixed-precision",
                     "--multi-gpu", "--no-progress"]) == 0
    config = seen["config"]
    assert (config.steps, config.crop, config.batch_size, config.learning_rate,
            config.checkpoint_every) == (7, 64, 8, 0.002, 3)
    assert config.loss_weights == {"style": 5e-4} and config.mixed_precision
    assert config.data_dir == str(paths.data_path("album")) and config.filters == (32, 64, 128)
    assert isinstance(seen["strategy"], tf.distribute.MirroredStrategy)
    info = style_nets.info(tmp_path / "o" / "the_scream.npz")          # named after the style
    assert info["final_losses"] == {"total": 1.0, "content": 2.0, "style": 3.0, "tv": 4.0}
    assert info["steps"] == 7 and info["train_seconds"] == 0.5 and info["mixed_precision"]
    assert "replica" in capsys.readouterr().out
    with pytest.raises(SystemExit):                 # --coco and --data-dir exclude each other
        cli.main(["train-style", "--style", "wave", "--coco", "--data-dir", "x", "--out", "o"])
    with pytest.raises(SystemExit, match="neither a bundled style"):
        cli.main(["train-style", "--style", "nope", "--data-dir", str(tmp_path), "--out", "o"])


def test_many_networks_in_one_process_trace_without_tensorflow_warnings():
    """A film in six styles traces six functions; TensorFlow's retracing warning is dropped."""
    import logging

    class Keep(logging.Handler):
        def __init__(self):
            super().__init__()
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    keep, logger = Keep(), logging.getLogger("tensorflow")
    logger.addHandler(keep)
    try:
        batch = np.random.default_rng(0).random((1, 24, 32, 3)).astype(np.float32)
        for i in range(7):
            model = fast_style.build_transform_net(filters=(4, 8, 8), residual_blocks=1,
                                                   name=f"n{i}")
            assert stylize._run_batch(model, batch).shape == (1, 24, 32, 3)
        logger.warning("a warning of someone else's")
    finally:
        logger.removeHandler(keep)
    assert not [m for m in keep.messages if "retracing" in m]
    assert keep.messages == ["a warning of someone else's"]  # the filter is gone after the call
    record = logging.LogRecord("tensorflow", logging.WARNING, __file__, 1,
                               "5 out of the last 5 calls to <f> triggered tf.function retracing."
                               " Tracing is expensive", None, None)
    assert not stylize._OneTracePerNetwork().filter(record)
