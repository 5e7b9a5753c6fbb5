"""Training the fast network: it learns, checkpoints atomically, resumes exactly, distributes."""

import json

import numpy as np
import pytest

from albumlib import paths
from albumlib.style import fast_train
from pyrun import run_python


def tiny_config(out_dir, **kw):
    base = dict(style="starry_night", data_dir=str(paths.data_path("album")), out_dir=str(out_dir),
                steps=4, crop=32, batch_size=2, checkpoint_every=2, filters=(8, 16, 16),
                residual_blocks=1, style_size=64, seed=1)
    base.update(kw)
    return fast_train.TrainConfig(**base)


def test_training_lowers_the_loss_and_writes_checkpoint(tmp_path):
    result = fast_train.train(tiny_config(tmp_path, steps=30, checkpoint_every=10,
                                          learning_rate=1e-2), progress=False)
    h = result.history
    assert h["step"] == list(range(1, 31)) and result.resumed_from == 0
    assert np.mean(h["total"][-5:]) < np.mean(h["total"][:5])
    for name in ("checkpoint.npz", "history.json", "loss_curve.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "history.json").read_text())["step"][-1] == 30
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]   # no temporary files


def test_training_prints_an_estimate_timed_on_its_first_steps(tmp_path, capsys):
    fast_train.train(tiny_config(tmp_path, steps=5), progress=False)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("estimate: about")]
    assert len(lines) == 1 and "for 5 steps at" in lines[0] and "measured on steps 2-3" in lines[0]


def test_resume_matches_an_uninterrupted_run(tmp_path, capsys):
    straight = fast_train.train(tiny_config(tmp_path / "a"), progress=False)
    fast_train.train(tiny_config(tmp_path / "b", steps=2), progress=False)
    resumed = fast_train.train(tiny_config(tmp_path / "b"), progress=False)
    assert resumed.resumed_from == 2 and "resuming" in capsys.readouterr().out
    assert resumed.history["step"] == [1, 2, 3, 4]
    np.testing.assert_allclose(resumed.history["total"], straight.history["total"], rtol=1e-4)
    for a, b in zip(straight.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_resume_after_a_hard_kill(tmp_path):
    done = run_python(f"""
        import os
        from test_fast_train import tiny_config
        from albumlib.style import fast_train

        def die(step, history):
            if step == 2:
                os._exit(17)          # killed right after the step-2 checkpoint

        fast_train.train(tiny_config({str(tmp_path)!r}, steps=6), progress=False, on_checkpoint=die)
    """)
    assert done.returncode == 17, done.stderr[-2000:]
    resumed = fast_train.train(tiny_config(tmp_path, steps=6), progress=False)
    assert resumed.resumed_from == 2 and resumed.history["step"] == list(range(1, 7))


def test_corrupt_checkpoint_is_named(tmp_path):
    (tmp_path / "checkpoint.npz").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="checkpoint.npz"):
        fast_train.train(tiny_config(tmp_path), progress=False)


def test_mirrored_strategy_on_two_cpu_replicas_and_mixed_precision(tmp_path):
    done = run_python(f"""
        from test_fast_train import tiny_config
        from albumlib.style import fast_train
        r = fast_train.train(tiny_config({str(tmp_path / 'm')!r}, steps=2), strategy=strategy, progress=False)
        assert all(v == v for v in r.history["total"]), r.history
        r = fast_train.train(tiny_config({str(tmp_path / 'p')!r}, steps=2, mixed_precision=True), progress=False)
        assert all(v == v for v in r.history["total"]), r.history
        print("OK", r.history["total"])
    """, two_cpu_replicas=True, env={"ALBUM_PROFILE": "smoke"})
    assert done.returncode == 0 and "OK" in done.stdout, done.stderr[-3000:]


def test_the_taught_step_is_the_step_train_runs():
    """notebook 02's train_step, run by hand, moves the weights as train's compiled step does."""
    import keras
    import tensorflow as tf
    from albumlib.style import fast_style, image_data, styles

    loss_fn = fast_style.MultiStylePerceptualLoss(
        [styles.load_style(s, max_side=64) for s in ("starry_night", "wave")], weights="embedded")
    batch = next(iter(image_data.training_dataset(paths.data_path("album"), crop=32, batch_size=2, seed=0)))
    runs = []
    for compiled in (False, True):
        keras.utils.set_random_seed(0)
        model = fast_style.build_transform_net(filters=(4, 8, 8), residual_blocks=1, n_styles=2)
        start = model.get_weights()
        optimizer = keras.optimizers.SGD(learning_rate=1e-7)     # a move proportional to the gradient
        if compiled:
            step = fast_train._train_step(model, optimizer, loss_fn, tf.distribute.get_strategy(),
                                          n_styles=2)
            terms = step(batch, tf.constant(1))
        else:
            terms = fast_train.train_step(model, optimizer, loss_fn, batch, 1, n_styles=2)
        moves = [after - before for after, before in zip(model.get_weights(), start)]
        runs.append((model, moves, {k: float(v) for k, v in terms.items()}))
    (eager, eager_moves, eager_terms), (_, compiled_moves, compiled_terms) = runs
    assert eager_terms == pytest.approx(compiled_terms, rel=1e-4)
    largest = max(float(np.abs(m).max()) for m in eager_moves)
    assert largest > 0
    for a, b in zip(eager_moves, compiled_moves):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3 * largest)
    # the step moved the trained style's (gamma, beta) rows, and only those
    cin = next(l for l in eager.layers if isinstance(l, fast_style.ConditionalInstanceNormalization))
    scale = np.asarray(cin.scale)
    assert np.all(scale[0] == 1.0) and np.any(scale[1] != 1.0)
