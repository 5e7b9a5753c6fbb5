"""Tests of albumlib.music.report: the report's model, framing, generation, bundles, compose."""

import json

import keras
import numpy as np
import pytest

from albumlib import audio
from albumlib.music import fft_blocks, report as music
from albumlib.music.report import MusicConfig

SR = 8000
TINY = MusicConfig(kind="rfft", block_size=64, seq_len=4, dense_in=8, hidden=8, sr=SR)


def tiny_model(config=TINY, seed=0):
    keras.utils.set_random_seed(seed)
    return music.build_model(config)


def random_seed_sequence(config=TINY, seed=0):
    return np.random.default_rng(seed).normal(
        scale=0.3, size=(config.seq_len, config.n_features)).astype(np.float32)


def tiny_bundle(tmp_path, config=TINY, scaler=None, name="bundle", **kw):
    model = tiny_model(config)
    scaler = scaler or fft_blocks.Scaler("global", scale=20.0)
    seeds = np.stack([random_seed_sequence(config, s) for s in range(3)])
    path = music.save_bundle(tmp_path / name, model, config, scaler, seeds, {"note": "test"},
                             **kw)
    return model, scaler, seeds, path


# --- the report's model ------------------------------------------------------------------------

def test_report_parameter_count_is_92_5_million():
    assert music.report_model_parameters() == 92_504_712
    assert music.report_model_parameters(88200, 512) == (88200 * 512 + 512) + 4 * (
        512 * 512 + 512 * 512 + 512) + (512 * 88200 + 88200)
    assert music.model_parameters(MusicConfig()) == 92_504_712


@pytest.mark.parametrize("features, hidden, dense_in", [(10, 4, 4), (258, 16, 8), (100, 8, 32),
                                                        (6, 3, 5)])
def test_parameter_formula_equals_count_params(features, hidden, dense_in):
    model = music._assemble(3, features, dense_in, hidden, 0.0, "m")
    assert model.count_params() == music.report_model_parameters(features, hidden, dense_in)


def test_model_parameters_of_configs():
    for cfg in (TINY, TINY.replace(kind="fft"), TINY.replace(framing="ola", hidden=12),
                TINY.replace(dropout=0.2, dense_in=5)):
        assert music.build_model(cfg, compile=False).count_params() == music.model_parameters(cfg)


def test_report_model_layers_shapes_and_training_setup():
    """Built once at full size (92.5 M parameters, about 1.5 s and 0.4 GB here)."""
    model = music.build_report_model()
    try:
        assert model.count_params() == 92_504_712
        assert model.input_shape == (None, 10, 88200)
        assert [layer.name for layer in model.layers] == ["blocks", "dense_in", "lstm",
                                                          "dense_out"]
        dense_in, lstm, dense_out = model.layers[1:]
        assert isinstance(dense_in, keras.layers.TimeDistributed)
        assert isinstance(dense_in.layer, keras.layers.Dense) and dense_in.layer.units == 512
        assert isinstance(lstm, keras.layers.LSTM) and lstm.units == 512
        assert lstm.return_sequences
        assert isinstance(dense_out.layer, keras.layers.Dense)
        assert dense_out.layer.units == 88200
        assert dense_in.output.shape == (None, 10, 512) and lstm.output.shape == (None, 10, 512)
        assert model.output_shape == (None, 10, 88200)
        assert [layer.count_params() for layer in model.layers[1:]] == [45_158_912, 2_099_200,
                                                                        45_246_600]
        assert dense_in.layer.activation.__name__ == "linear"
        assert dense_out.layer.activation.__name__ == "linear"
        assert isinstance(model.optimizer, keras.optimizers.RMSprop)
        assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)
        assert model.loss == "mse"
    finally:
        del model
        keras.backend.clear_session()


def test_build_model_default_is_the_report_architecture():
    small = MusicConfig(block_size=16, dense_in=8, hidden=8, seq_len=3)
    model = music.build_model(small)
    assert model.input_shape == (None, 3, 32) and model.output_shape == (None, 3, 32)
    assert [layer.name for layer in model.layers[1:]] == ["dense_in", "lstm", "dense_out"]
    with_dropout = music.build_model(small.replace(dropout=0.3))
    assert [layer.name for layer in with_dropout.layers[1:]] == [
        "dense_in", "dropout_in", "lstm", "dropout_out", "dense_out"]


# --- configuration -----------------------------------------------------------------------------

def test_config_defaults_json_round_trip_and_validation():
    report = MusicConfig()
    assert (report.kind, report.framing, report.block_size, report.normalise, report.seq_len,
            report.dense_in, report.hidden, report.sr) == ("fft", "blocks", 44100, "global", 10,
                                                           512, 512, 44100)
    assert report.n_features == 88200 and report.hop == 44100 and report.step_seconds == 1.0
    ola = MusicConfig(framing="ola", kind="rfft", block_size=1024, normalise="per_bin")
    assert ola.hop == 512 and ola.n_features == 2 * 513 and ola.dataset_block_size == 512
    for cfg in (report, ola, TINY):
        assert MusicConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    for bad in (dict(kind="dct"), dict(framing="stft"), dict(normalise="minmax"),
                dict(block_size=0), dict(hidden=2.5), dict(dropout=1.0),
                dict(framing="ola", block_size=101)):
        with pytest.raises(ValueError):
            MusicConfig(**bad)
    with pytest.raises(ValueError, match="unknown"):
        MusicConfig.from_dict({"kind": "fft", "colour": "red"})


# --- framing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("frame, hop", [(256, 128), (256, 64), (64, 32), (10, 5), (6, 2)])
@pytest.mark.parametrize("length", [1, 5, 63, 64, 65, 1000, 1031])
def test_ola_round_trip_is_exact(frame, hop, length):
    x = np.random.default_rng(length).normal(size=length)
    frames = music.frames_ola(x, frame, hop)
    assert frames.shape[1] == frame
    joined = music.overlap_add(frames, hop)
    assert joined.size >= length and joined.size == music.ola_length(len(frames), frame, hop)
    np.testing.assert_allclose(joined[:length], x, atol=1e-12)
    np.testing.assert_allclose(joined[length:], 0, atol=1e-12)
    np.testing.assert_allclose(music.overlap_add(frames, hop, length=length), x, atol=1e-12)


def test_ola_window_is_cola_and_frames_are_windowed():
    w = music.ola_window(8)
    np.testing.assert_allclose(w[:4] ** 2 + w[4:] ** 2, 1.0)
    frames = music.frames_ola(np.ones(40), 8, 4)
    np.testing.assert_allclose(frames[3], w)          # an interior frame of a constant signal
    np.testing.assert_allclose(frames[0][:4], 0)      # the front padding
    with pytest.raises(ValueError, match="hop"):
        music.frames_ola(np.ones(40), 8, 3)
    with pytest.raises(ValueError, match="hop"):
        music.overlap_add(np.ones((3, 8)), 8)


@pytest.mark.parametrize("framing", ["blocks", "ola"])
@pytest.mark.parametrize("kind", ["fft", "rfft"])
def test_features_round_trip(framing, kind):
    cfg = TINY.replace(framing=framing, kind=kind)
    x = np.random.default_rng(0).uniform(-0.5, 0.5, size=1000)
    feats = music.audio_to_features(x, cfg)
    assert feats.dtype == np.float32 and feats.shape[1] == cfg.n_features
    assert feats.shape[0] == music.n_samples_to_steps(x.size, cfg)
    back = music.features_to_audio(feats, cfg, length=x.size)
    np.testing.assert_allclose(back, x, atol=1e-5)
    if framing == "blocks":                   # exactly the report's FFT blocks
        np.testing.assert_array_equal(feats, fft_blocks.to_fft_blocks(x, cfg.block_size, kind))


def test_blocks_to_audio_denormalises_clips_and_is_float32():
    cfg = TINY.replace(kind="fft", block_size=16)
    x = np.linspace(-0.5, 0.5, 64)
    scaler = fft_blocks.fit_scale(music.audio_to_features(x, cfg))
    normalised = scaler.transform(music.audio_to_features(x, cfg))
    y = music.blocks_to_audio(normalised, cfg, scaler)
    assert y.dtype == np.float32 and y.size == 64
    np.testing.assert_allclose(y, x, atol=1e-5)
    loud = music.blocks_to_audio(normalised * 10, cfg, scaler, length=50)
    assert loud.size == 50 and loud.max() == 1.0 and loud.min() == -1.0
    nan = normalised.copy()
    nan[0, 0] = np.nan
    assert np.all(np.isfinite(music.blocks_to_audio(nan, cfg, scaler)))


# --- generation --------------------------------------------------------------------------------

def test_generate_is_the_report_loop():
    model = tiny_model()
    seed = random_seed_sequence()
    out = music.generate(model, seed, 3)
    assert out.shape == (3, TINY.n_features) and out.dtype == np.float32
    first = np.asarray(model.predict_on_batch(seed[None]))[0, -1]
    np.testing.assert_allclose(out[0], first, rtol=1e-5, atol=1e-6)
    window = np.concatenate([seed[1:], out[:1]])
    second = np.asarray(model.predict_on_batch(window[None]))[0, -1]
    np.testing.assert_allclose(out[1], second, rtol=1e-5, atol=1e-6)
    # a longer seed: its last seq_len blocks are used
    longer = np.concatenate([random_seed_sequence(seed=5), seed])
    np.testing.assert_array_equal(music.generate(model, longer, 3), out)
    assert music.generate(model, seed, 0).shape == (0, TINY.n_features)
    with pytest.raises(ValueError, match="seed"):
        music.generate(model, seed[:2], 3)


def test_generate_is_deterministic_for_a_seed_and_noise_varies_it():
    model = tiny_model()
    seed = random_seed_sequence()
    plain = music.generate(model, seed, 4)
    np.testing.assert_array_equal(plain, music.generate(model, seed, 4, seed=9))
    noisy = music.generate(model, seed, 4, noise=0.2, seed=1)
    np.testing.assert_array_equal(noisy, music.generate(model, seed, 4, noise=0.2, seed=1))
    assert not np.allclose(noisy, plain)
    assert not np.allclose(noisy, music.generate(model, seed, 4, noise=0.2, seed=2))
    scaled = music.generate(model, seed, 4, noise=0.2, seed=1,
                            feature_std=np.full(TINY.n_features, 1e-9))
    np.testing.assert_allclose(scaled, plain, atol=1e-5)


def test_stateful_generation_starts_like_the_sliding_one():
    model = tiny_model()
    seed = random_seed_sequence()
    sliding = music.generate(model, seed, 5)
    stateful = music.generate(model, seed, 5, stateful=True)
    assert stateful.shape == sliding.shape
    np.testing.assert_allclose(stateful[0], sliding[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(stateful, music.generate(model, seed, 5, stateful=True))
    noisy = music.generate(model, seed, 5, stateful=True, noise=0.5, seed=3)
    np.testing.assert_array_equal(noisy, music.generate(model, seed, 5, stateful=True, noise=0.5,
                                                        seed=3))
    assert not np.allclose(noisy, stateful)


# --- bundles -----------------------------------------------------------------------------------

def test_bundle_round_trip_generates_the_same(tmp_path):
    cfg = TINY.replace(normalise="per_bin")
    rng = np.random.default_rng(0)
    scaler = fft_blocks.Scaler("per_bin", mean=rng.normal(size=cfg.n_features).astype(np.float32),
                          std=rng.uniform(1, 2, size=cfg.n_features).astype(np.float32))
    std = rng.uniform(0.5, 1, size=cfg.n_features).astype(np.float32)
    model, scaler, seeds, path = tiny_bundle(tmp_path, cfg, scaler, feature_std=std)
    assert sorted(p.name for p in path.iterdir()) == ["arrays.npz", "bundle.json"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    b = music.load_bundle(path)
    assert b.config == cfg and b.info == {"note": "test"} and b.path == path
    assert b.scaler.method == "per_bin"
    np.testing.assert_array_equal(b.scaler.mean, scaler.mean)
    np.testing.assert_array_equal(b.scaler.std, scaler.std)
    np.testing.assert_array_equal(b.feature_std, std)
    assert b.seeds.shape == seeds.shape and b.seeds.dtype == np.float32
    np.testing.assert_allclose(b.seeds, seeds, atol=1e-3)
    for a, c in zip(model.get_weights(), b.model.get_weights()):
        np.testing.assert_array_equal(a, c)
    for kw in ({}, {"noise": 0.3, "seed": 4}, {"stateful": True}):
        np.testing.assert_array_equal(music.generate(model, b.seeds[1], 3, **kw),
                                      music.generate(b.model, b.seeds[1], 3, **kw))
    meta = json.loads((path / "bundle.json").read_text())
    assert meta["parameters"] == model.count_params() and meta["weights_dtype"] == "float32"


def test_bundle_float16_weights_and_overwrite_rules(tmp_path):
    model, _, _, path = tiny_bundle(tmp_path, name="b32")
    _, _, _, half = tiny_bundle(tmp_path, name="b16", weights_dtype="float16")
    assert (half / "arrays.npz").stat().st_size < (path / "arrays.npz").stat().st_size
    b = music.load_bundle(half)
    for a, c in zip(model.get_weights(), b.model.get_weights()):
        np.testing.assert_allclose(a, c, atol=1e-3)
    before = (path / "arrays.npz").read_bytes()
    with pytest.raises(FileExistsError, match="overwrite"):
        tiny_bundle(tmp_path, name="b32")
    assert (path / "arrays.npz").read_bytes() == before
    other = tiny_model(seed=3)
    music.save_bundle(path, other, TINY, fft_blocks.Scaler("global", scale=2.0),
                      random_seed_sequence(), overwrite=True)
    assert music.load_bundle(path).scaler.scale == 2.0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="other files"):
        music.save_bundle(mine, model, TINY, fft_blocks.Scaler("global"), random_seed_sequence(),
                          overwrite=True)
    assert (mine / "notes.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="seeds"):
        music.save_bundle(tmp_path / "x", model, TINY, fft_blocks.Scaler("global"), np.zeros((2, 3)))


def test_load_bundle_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="bundle"):
        music.load_bundle(tmp_path / "nothing")
    _, _, _, path = tiny_bundle(tmp_path)
    (path / "bundle.json").write_text("{not json")
    with pytest.raises(ValueError, match="bundle.json"):
        music.load_bundle(path)
    _, _, _, path = tiny_bundle(tmp_path, name="other")
    meta = json.loads((path / "bundle.json").read_text())
    meta["config"]["hidden"] = 9
    (path / "bundle.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="shapes"):
        music.load_bundle(path)


# --- compose -----------------------------------------------------------------------------------

@pytest.mark.parametrize("framing", ["blocks", "ola"])
def test_compose_length_files_and_no_overwrite(tmp_path, framing):
    cfg = TINY.replace(framing=framing)
    _, _, _, path = tiny_bundle(tmp_path, cfg)
    wav, mp3 = tmp_path / "song.wav", tmp_path / "song.mp3"
    signal = music.compose(path, 1.3, seed=2, out_wav=wav, out_mp3=mp3, noise=0.1)
    assert signal.dtype == np.float32 and signal.size == round(1.3 * SR)
    assert np.all(np.abs(signal) <= 1.0) and np.all(np.isfinite(signal))
    back = audio.load_audio(wav, sr=SR)
    assert back.size == signal.size
    np.testing.assert_allclose(back, signal, atol=1 / 32767 + 1e-6)
    assert mp3.stat().st_size > 0
    np.testing.assert_array_equal(signal, music.compose(path, 1.3, seed=2, noise=0.1))
    for kw in ({"out_wav": wav}, {"out_mp3": mp3}, {"out_wav": tmp_path / "new.wav",
                                                   "out_mp3": mp3}):
        before = {p: p.read_bytes() for p in (wav, mp3)}
        with pytest.raises(FileExistsError):
            music.compose(path, 1.0, **kw)
        assert {p: p.read_bytes() for p in (wav, mp3)} == before
    assert not (tmp_path / "new.wav").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_compose_default_noise_is_the_bundles_measured_choice(tmp_path):
    model, scaler, seeds, path = tiny_bundle(tmp_path)
    plain = music.load_bundle(path)
    assert "generation_noise" not in plain.info
    np.testing.assert_array_equal(music.compose(plain, 0.5, seed=3),
                                  music.compose(plain, 0.5, seed=3, noise=0))
    noisy_path = music.save_bundle(tmp_path / "noisy", model, TINY, scaler, seeds,
                                   {"generation_noise": 0.2})
    noisy = music.load_bundle(noisy_path)
    by_default = music.compose(noisy, 0.5, seed=3)
    np.testing.assert_array_equal(by_default, music.compose(plain, 0.5, seed=3, noise=0.2))
    assert not np.allclose(by_default, music.compose(plain, 0.5, seed=3))
    np.testing.assert_array_equal(music.compose(noisy, 0.5, seed=3, noise=0),
                                  music.compose(plain, 0.5, seed=3))
    assert music.load_bundle().info["generation_noise"] == 0.3  # measured: benchmarks/RESULTS.md


def test_compose_seed_sources(tmp_path):
    model, scaler, seeds, path = tiny_bundle(tmp_path)
    bundle = music.load_bundle(path)
    by_index = music.compose(bundle, 0.5, seed_source=1)
    expected = music.blocks_to_audio(
        music.generate(model, bundle.seeds[1], music.n_samples_to_steps(4000, TINY)), TINY,
        scaler, length=4000)
    np.testing.assert_allclose(by_index, expected, atol=1e-6)
    np.testing.assert_array_equal(music.compose(bundle, 0.5, seed_source=bundle.seeds[1]),
                                  by_index)
    song = tmp_path / "seed.wav"
    audio.save_wav(song, 0.3 * np.sin(np.arange(SR) * 0.05), SR)
    from_file = music.compose(bundle, 0.5, seed_source=song)
    assert from_file.size == 4000 and not np.allclose(from_file, by_index)
    with_seed = music.compose(bundle, 0.5, seed_source=1, include_seed=True)
    np.testing.assert_allclose(
        with_seed[:TINY.seq_len * TINY.block_size],
        music.blocks_to_audio(bundle.seeds[1], TINY, scaler), atol=1e-6)
    with pytest.raises(ValueError, match="seconds"):
        music.compose(bundle, 0)


@pytest.mark.parametrize("framing", ["blocks", "ola"])
def test_composing_a_block_at_a_time_gives_the_same_music(tmp_path, framing):
    import dataclasses
    config = dataclasses.replace(TINY, framing=framing)
    bundle = music.load_bundle(tiny_bundle(tmp_path, config)[3])
    whole = music.compose(bundle, 0.5, seed=4, noise=0.2)
    parts = list(music.iter_compose(bundle, 0.5, seed=4, noise=0.2))
    np.testing.assert_allclose(np.concatenate(parts), whole, atol=1e-6)
    assert max(len(p) for p in parts) <= config.block_size     # one block's samples at a time
    blocks = music.generate(bundle.model, bundle.seeds[0], 6, noise=0.1, seed=1)
    np.testing.assert_array_equal(
        np.stack(list(music.iter_generate(bundle.model, bundle.seeds[0], 6, noise=0.1,
                                          seed=1))), blocks)
