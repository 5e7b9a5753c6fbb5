"""Training the music model: learns, holds songs out, checkpoints, resumes exactly, guards NaN."""

import json

import numpy as np
import pytest

from albumlib import audio
from albumlib.music import report as music, dataset as music_data, report_train as music_train
from albumlib.music.report import MusicConfig
from pyrun import run_python

SR = 8000
SMALL = MusicConfig(kind="rfft", block_size=128, seq_len=4, dense_in=16, hidden=16, sr=SR)


@pytest.fixture(scope="module")
def songs(tmp_path_factory):
    """Four 1.5 s songs: tones repeating every 128-sample block, a little noise, each its own."""
    folder = tmp_path_factory.mktemp("music")
    t = np.arange(int(1.5 * SR)) / SR
    for i, (freq, amp) in enumerate([(250, 0.3), (375, 0.5), (500, 0.4), (625, 0.6)]):
        x = amp * np.sin(2 * np.pi * freq * t)
        x += 0.005 * np.random.default_rng(i).normal(size=t.size)
        audio.save_wav(folder / f"song{i}.wav", x, SR)
    return folder


def tiny_config(out_dir, songs, **kw):
    base = dict(out_dir=str(out_dir), music_dir=str(songs), dataset_dir=str(out_dir / "ds"),
                music=SMALL, epochs=4, batch_size=16, learning_rate=1e-2, checkpoint_every=2,
                val_fraction=0.25, seed=1)
    base.update(kw)
    return music_train.TrainConfig(**base)


def test_training_lowers_the_loss_and_writes_everything(tmp_path, songs):
    config = tiny_config(tmp_path, songs, epochs=8, checkpoint_every=4, free_run_steps=2)
    result = music_train.train(config, progress=False)
    h = result.history
    assert h["epoch"] == list(range(1, 9)) and result.resumed_from == 0
    assert h["train"][-1] < 0.3 * h["train"][0]           # it learns the repeating tones
    assert all(np.isfinite(h["val"])) and all(np.isfinite(h["val_free"]))
    assert len(result.plan.val_songs) == 1 and len(result.plan.train_songs) == 3
    for name in ("checkpoint.npz", "history.json", "loss_curve.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "history.json").read_text()) == h
    assert not [p for p in tmp_path.rglob(".*")]      # no temporary files anywhere
    _, epoch, history, meta, _ = music_train.read_checkpoint(tmp_path / "checkpoint.npz")
    assert epoch == 8 and history == h and meta["val_songs"] == result.plan.val_songs

    bundle = music.load_bundle(result.bundle_dir)
    assert bundle.config == SMALL and bundle.info["epochs"] == 8
    assert bundle.info["val_songs"] == result.plan.val_songs
    assert {s["song"] for s in bundle.info["seeds"]} <= set(result.plan.train_songs)
    assert bundle.seeds.shape == (4, SMALL.seq_len, SMALL.n_features)
    for kw in ({}, {"noise": 0.5, "seed": 3}):
        np.testing.assert_array_equal(music.generate(result.model, bundle.seeds[0], 5, **kw),
                                      music.generate(bundle.model, bundle.seeds[0], 5, **kw))
    signal = music.compose(bundle, 1.0, seed=1)
    assert signal.size == SR and np.all(np.abs(signal) <= 1)

    again = music_train.train(config, progress=False)      # already done: nothing trained
    assert again.resumed_from == 8 and again.history == h


def test_training_prints_an_estimate_first(tmp_path, songs, capsys):
    music_train.train(tiny_config(tmp_path, songs, epochs=2), progress=False)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("estimate: about")]
    assert len(lines) == 1 and "2 epochs of" in lines[0], lines


def test_resume_after_a_crash_matches_an_uninterrupted_run(tmp_path, songs, capsys):
    straight = music_train.train(tiny_config(tmp_path / "a", songs), progress=False)

    def crash(epoch, history):
        if epoch == 3:
            raise KeyboardInterrupt("simulated crash after epoch 3")

    with pytest.raises(KeyboardInterrupt):
        music_train.train(tiny_config(tmp_path / "b", songs), progress=False, on_epoch=crash)
    assert music_train.read_checkpoint(tmp_path / "b" / "checkpoint.npz")[1] == 2
    assert not (tmp_path / "b" / "bundle").exists()
    capsys.readouterr()
    resumed = music_train.train(tiny_config(tmp_path / "b", songs), progress=False)
    assert resumed.resumed_from == 2
    ckpt = tmp_path / "b" / "checkpoint.npz"
    assert f"resuming from {ckpt} at epoch 2 of 4" in capsys.readouterr().out
    assert resumed.history["epoch"] == [1, 2, 3, 4]
    np.testing.assert_allclose(resumed.history["train"], straight.history["train"], rtol=1e-6)
    np.testing.assert_allclose(resumed.history["val"], straight.history["val"], rtol=1e-6)
    for a, b in zip(straight.model.variables, resumed.model.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)


def test_nan_guard_stops_and_keeps_the_last_good_checkpoint(tmp_path, songs):
    music_train.train(tiny_config(tmp_path, songs, epochs=2), progress=False)
    ckpt = tmp_path / "checkpoint.npz"
    before = ckpt.read_bytes(), (tmp_path / "bundle" / "arrays.npz").read_bytes()
    with pytest.raises(FloatingPointError, match=r"loss became (nan|inf).*epoch 3.*"
                                                 r"last good checkpoint .* \(epoch 2\)"):
        music_train.train(tiny_config(tmp_path, songs, epochs=6, learning_rate=1e30),
                          progress=False)
    assert (ckpt.read_bytes(), (tmp_path / "bundle" / "arrays.npz").read_bytes()) == before
    state = music_train.read_checkpoint(ckpt)[0]
    assert all(np.all(np.isfinite(a)) for a in state.weights + state.optimizer
               if a.dtype.kind == "f")
    assert not [p for p in tmp_path.rglob(".*")]


def test_nan_guard_before_any_checkpoint(tmp_path, songs):
    with pytest.raises(FloatingPointError, match="no checkpoint had been written"):
        music_train.train(tiny_config(tmp_path, songs, epochs=3, checkpoint_every=5,
                                      learning_rate=1e30), progress=False)
    assert not (tmp_path / "checkpoint.npz").exists() and not (tmp_path / "bundle").exists()


def test_validation_songs_are_never_trained_on(tmp_path, songs, monkeypatch):
    calls = []
    original = music_train._window_batches

    def recording(source, names, index, order, batch_size, length, scaler, role="train",
                  **kw):
        for batch in original(source, names, index, order, batch_size, length, scaler, role,
                              **kw):
            calls.append((role, sorted({names[s] for s, _ in index[order]})))
            yield batch

    monkeypatch.setattr(music_train, "_window_batches", recording)
    cfg = SMALL.replace(normalise="per_bin")
    result = music_train.train(tiny_config(tmp_path, songs, epochs=1, music=cfg,
                                           free_run_steps=2), progress=False)
    plan = result.plan
    assert plan.val_songs and not set(plan.val_songs) & set(plan.train_songs)
    assert sorted(plan.train_songs + plan.val_songs) == [f"song{i}.wav" for i in range(4)]
    trained = {n for role, names in calls if role == "train" for n in names}
    validated = {n for role, names in calls if role == "val" for n in names}
    assert trained == set(plan.train_songs) and validated == set(plan.val_songs)
    # the scaler saw the training songs only
    ds = tmp_path / "ds"
    train_only = music_data.scaler_from_manifest(ds, "per_bin", songs=plan.train_songs)
    everything = music_data.scaler_from_manifest(ds, "per_bin")
    np.testing.assert_allclose(plan.scaler.mean, train_only.mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(plan.scaler.std, train_only.std, rtol=1e-5, atol=1e-6)
    assert not np.allclose(plan.scaler.mean, everything.mean, rtol=1e-3)
    assert music.load_bundle(result.bundle_dir).info["train_songs"] == plan.train_songs


def test_ola_per_bin_variant_trains_and_composes(tmp_path, songs):
    cfg = SMALL.replace(framing="ola", normalise="per_bin", kind="fft")
    result = music_train.train(tiny_config(tmp_path, songs, epochs=2, music=cfg),
                               progress=False)
    assert all(np.isfinite(result.history["train"] + result.history["val"]))
    manifest = music_data.load_manifest(tmp_path / "ds")
    assert manifest["settings"]["block_size"] == cfg.hop
    assert len(list((tmp_path / "features").glob("*.npy"))) == 4
    source = result.plan.source
    name = result.plan.train_songs[0]
    signal = audio.load_audio(songs / name, sr=SR)
    np.testing.assert_allclose(source.features(name), music.audio_to_features(signal, cfg),
                               atol=1e-4)
    bundle = music.load_bundle(result.bundle_dir)
    assert bundle.config == cfg and bundle.scaler.method == "per_bin"
    signal = music.compose(bundle, 0.75, seed=0, noise=0.1, stateful=True)
    assert signal.size == 6000 and np.all(np.isfinite(signal))


def test_song_and_length_limits(tmp_path, songs):
    plan = music_train.prepare_data(tiny_config(tmp_path, songs, songs_limit=3,
                                                max_seconds=0.5))
    assert sorted(plan.train_songs + plan.val_songs) == ["song0.wav", "song1.wav", "song2.wav"]
    assert sorted(music_data.load_manifest(plan.dataset_dir)["songs"]) == [
        "song0.wav", "song1.wav", "song2.wav"]  # the others were not decoded
    steps = int(np.ceil(0.5 * SR / SMALL.hop))
    assert plan.source.features(plan.train_songs[0]).shape == (steps, SMALL.n_features)
    assert len(plan.train_index) == 2 * (steps - SMALL.seq_len)


def test_resume_refuses_another_model_and_names_a_corrupt_checkpoint(tmp_path, songs):
    music_train.train(tiny_config(tmp_path, songs, epochs=1), progress=False)
    with pytest.raises(ValueError, match="another out_dir"):
        music_train.train(tiny_config(tmp_path, songs, music=SMALL.replace(hidden=8)),
                          progress=False)
    (tmp_path / "checkpoint.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="checkpoint.npz"):
        music_train.train(tiny_config(tmp_path, songs), progress=False)


def test_config_dict_round_trip(tmp_path, songs):
    config = tiny_config(tmp_path, songs)
    again = music_train.TrainConfig(**json.loads(json.dumps(config.to_dict())))
    assert again == config and isinstance(again.music, MusicConfig)
    with pytest.raises(ValueError, match="batch_size"):
        tiny_config(tmp_path, songs, batch_size=0)


def test_mirrored_strategy_on_two_cpu_replicas_matches_one_device(tmp_path, songs):
    """Gradients are normalised by the global batch, so two replicas train like one device;
    a last batch of one sequence (270 in batches of 269) joins the previous one, so that no
    replica gets an empty batch."""
    done = run_python(f"""
        import json
        from pathlib import Path
        from test_music_train import tiny_config
        from albumlib.music import report_train as music_train
        out, songs = Path({str(tmp_path)!r}), Path({str(songs)!r})
        uneven = music_train.train(tiny_config(out / "m", songs, epochs=2, batch_size=17),
                                   strategy=strategy, progress=False)
        tail = music_train.train(tiny_config(out / "t", songs, epochs=1, batch_size=269),
                                 strategy=strategy, progress=False)
        print("HISTORY", json.dumps([uneven.history, tail.history]))
    """, two_cpu_replicas=True)
    assert done.returncode == 0 and "HISTORY" in done.stdout, done.stderr[-3000:]
    mirrored, tail = json.loads(done.stdout.split("HISTORY", 1)[1])
    assert np.all(np.isfinite(tail["train"] + tail["val"]))
    single = music_train.train(tiny_config(tmp_path / "s", songs, epochs=2, batch_size=17),
                               progress=False).history
    np.testing.assert_allclose(mirrored["train"], single["train"], rtol=1e-4)
    np.testing.assert_allclose(mirrored["val"], single["val"], rtol=1e-4)
    assert music_train._batch_starts(270, 269, 2) == [0, 270]
    assert music_train._batch_starts(270, 269, 1) == [0, 269, 270]
    assert music_train._batch_starts(5, 8, 2) == [0, 5]
