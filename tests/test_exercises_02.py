"""Notebook 02's exercises: the stored answers, the reference solutions and the library agree."""


import keras
import numpy as np
import pytest

from albumlib import exercises
from scripts_loader import load_script
from albumlib.style import fast_style

NAMES = ("instance_norm", "style_pair", "residual_params")


@pytest.fixture(scope="module")
def ref():
    return load_script("make_exercises_02")


def test_the_stored_answers_are_the_reference_solutions(ref):
    made = ref.answers()
    assert set(made) == set(NAMES)
    assert exercises.mismatches("02", made) == []


def test_the_reference_solutions_solve_the_stored_inputs(ref, capsys):
    norm, pair, params = (exercises.stored("02", n) for n in NAMES)
    assert exercises.check("02", "instance_norm", ref.solution_instance_norm(
        norm["x"], norm["gamma"], norm["beta"], float(norm["epsilon"])))
    assert exercises.check("02", "style_pair", np.stack(ref.solution_style_pair(
        pair["style"], pair["scale"], pair["offset"])))
    assert exercises.check("02", "residual_params",
                           [ref.solution_residual_params(int(c)) for c in params["channels"]])
    assert capsys.readouterr().out.count("PASS") == 3


def test_a_float32_numpy_answer_passes(capsys):
    """A learner's numpy on the stored float32 arrays computes in float32: that must pass too."""
    s = exercises.stored("02", "instance_norm")
    x = s["x"]
    y = (x - x.mean(axis=(1, 2), keepdims=True)) / np.sqrt(x.var(axis=(1, 2), keepdims=True)
                                                           + s["epsilon"]) * s["gamma"] + s["beta"]
    assert y.dtype == np.float32 and exercises.check("02", "instance_norm", y)


def test_the_library_agrees_with_the_stored_answers(capsys):
    s = exercises.stored("02", "instance_norm")
    eps = float(s["epsilon"])
    layer = fast_style.InstanceNormalization(epsilon=eps)
    layer.build(s["x"].shape)
    layer.scale.assign(s["gamma"])
    layer.offset.assign(s["beta"])
    assert exercises.check("02", "instance_norm", keras.ops.convert_to_numpy(layer(s["x"])))
    assert exercises.check("02", "instance_norm", keras.ops.convert_to_numpy(
        fast_style.instance_normalize(s["x"], s["gamma"], s["beta"], eps)))

    # conditional instance norm: the stored (gamma, beta) of each image, applied as plain IN
    p = exercises.stored("02", "style_pair")
    gamma, beta = p["expected"]
    x = s["x"][:, :, :, :1].repeat(4, axis=3) + np.arange(4, dtype=np.float32)
    layer = fast_style.ConditionalInstanceNormalization(n_styles=3)
    layer.build([x.shape, p["style"].shape])
    layer.scale.assign(p["scale"])
    layer.offset.assign(p["offset"])
    got = keras.ops.convert_to_numpy(layer([x, p["style"]]))
    for b in range(2):
        want = keras.ops.convert_to_numpy(fast_style.instance_normalize(
            x[b:b + 1], gamma[b].astype(np.float32), beta[b].astype(np.float32)))
        np.testing.assert_allclose(got[b:b + 1], want, rtol=1e-5, atol=1e-5)

    params = exercises.stored("02", "residual_params")
    built = []
    for c in params["channels"]:
        inp = keras.Input((None, None, int(c)))
        built.append(keras.Model(inp, fast_style.residual_block(inp, int(c), name=f"r{c}")).count_params())
    assert exercises.check("02", "residual_params", built)
    assert "FAIL" not in capsys.readouterr().out


def _normalised(x, axes, ddof=0):
    x = np.asarray(x, np.float64)
    return (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True, ddof=ddof) + 1e-5)


@pytest.mark.parametrize("name, wrong", [
    ("instance_norm", lambda s: _normalised(s["x"], (0, 1, 2)) * s["gamma"] + s["beta"]),    # batch norm
    ("instance_norm", lambda s: _normalised(s["x"], (1, 2, 3)) * s["gamma"] + s["beta"]),    # layer norm
    ("instance_norm", lambda s: _normalised(s["x"], (1, 2), ddof=1) * s["gamma"] + s["beta"]),  # sample var
    ("instance_norm", lambda s: _normalised(s["x"], (1, 2)) * s["beta"] + s["gamma"]),       # swapped
    ("style_pair", lambda s: np.stack([s["style"] @ s["offset"], s["style"] @ s["scale"]])),  # swapped
    ("style_pair", lambda s: np.stack([s["scale"][s["style"].argmax(1)],                      # no mixing
                                       s["offset"][s["style"].argmax(1)]])),
    ("residual_params", lambda s: 18 * s["channels"] ** 2),                                   # no biases, norms
])
def test_a_wrong_answer_fails(name, wrong, capsys):
    assert not exercises.check("02", name, wrong(exercises.stored("02", name)))
    assert f"{name}: FAIL" in capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_an_unanswered_exercise_says_so(name, capsys):
    assert not exercises.check("02", name, None)
    assert "not answered yet" in capsys.readouterr().out
