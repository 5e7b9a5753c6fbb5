"""Notebook 01's exercises: the stored answers, the reference solutions and the library agree."""


import numpy as np
import pytest
import tensorflow as tf

from albumlib import exercises
from scripts_loader import load_script
from albumlib.style import losses

NAMES = ("gram", "tv", "gradient_step")


@pytest.fixture(scope="module")
def ref():
    return load_script("make_exercises_01")


def test_the_stored_answers_are_the_reference_solutions(ref):
    made = ref.answers()
    assert set(made) == set(NAMES)
    assert exercises.mismatches("01", made) == []


def test_the_reference_solutions_solve_the_stored_inputs(ref, capsys):
    gram, tv, step = (exercises.stored("01", n) for n in NAMES)
    assert exercises.check("01", "gram", ref.solution_gram(gram["features"]))
    assert exercises.check("01", "tv", ref.solution_tv(tv["image"], float(tv["beta"])))
    assert exercises.check("01", "gradient_step", ref.solution_gradient_step(
        step["image"], step["target"], float(step["tv_weight"]), float(step["learning_rate"])))
    assert capsys.readouterr().out.count("PASS") == 3


def test_the_library_agrees_with_the_stored_answers(capsys):
    gram, tv = exercises.stored("01", "gram"), exercises.stored("01", "tv")
    assert exercises.check("01", "gram", np.asarray(losses.gram_matrix(gram["features"])))
    assert exercises.check("01", "tv", float(losses.total_variation_loss(tv["image"], beta=float(tv["beta"]))))
    # The way a learner would do one step: float32, the library's losses and a GradientTape.
    step = exercises.stored("01", "gradient_step")
    x = tf.Variable(step["image"])
    with tf.GradientTape() as tape:
        loss = (losses.content_loss(x, step["target"])
                + float(step["tv_weight"]) * losses.total_variation_loss(x))
    moved = tf.clip_by_value(x - float(step["learning_rate"]) * tape.gradient(loss, x), 0.0, 1.0)
    assert exercises.check("01", "gradient_step", moved.numpy())
    assert "FAIL" not in capsys.readouterr().out


def test_the_step_exercise_is_not_trivial(ref):
    step = exercises.stored("01", "gradient_step")
    moved, start, target = step["expected"], step["image"], step["target"]
    lr, tv_weight = float(step["learning_rate"]), float(step["tv_weight"])
    assert 0.0 <= moved.min() and moved.max() <= 1.0
    assert ((moved == 0.0) | (moved == 1.0)).any(), "some pixels should reach the clip"
    assert np.abs(moved - start).mean() > 0.01
    # Forgetting the TV term, or the clip, must fail.
    no_tv = np.clip(start - lr * 2 * (start - target), 0, 1)
    no_clip = start - lr * (2 * (start - target) + tv_weight * ref.tv_gradient(start))
    assert exercises.rel_error(no_tv, moved) > 1e-2 and exercises.rel_error(no_clip, moved) > 1e-2


def test_the_hand_written_tv_gradient_is_the_tapes(ref):
    x = exercises.stored("01", "tv")["image"]
    v = tf.Variable(x.astype(np.float64))
    with tf.GradientTape() as tape:
        loss = losses.total_variation_loss(v)
    np.testing.assert_allclose(ref.tv_gradient(x), tape.gradient(loss, v).numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name, wrong", [
    ("gram", lambda s: s["expected"] * (s["features"].shape[0] * s["features"].shape[1])),  # no / (H*W)
    ("tv", lambda s: s["expected"] * 1.01),
    ("gradient_step", lambda s: s["image"]),                                              # did not move
])
def test_a_wrong_answer_fails(name, wrong, capsys):
    assert not exercises.check("01", name, wrong(exercises.stored("01", name)))
    assert f"{name}: FAIL" in capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_an_unanswered_exercise_says_so(name, capsys):
    assert not exercises.check("01", name, None)
    assert "not answered yet" in capsys.readouterr().out


def test_the_report_tv_bug_fails(ref, capsys):
    """The report's slicing (every row against row 1) is exactly what the tv exercise must catch."""
    x = exercises.stored("01", "tv")["image"].astype(np.float64)
    down = x[:-1, :-1] - x[1:2, :-1]
    right = x[:-1, :-1] - x[:-1, 1:2]
    assert not exercises.check("01", "tv", np.sum((down ** 2 + right ** 2) ** 1.25))
