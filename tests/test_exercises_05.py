"""Notebook 05's exercises (and its appendix's): the stored answers, the reference solutions and
the library agree."""

import numpy as np
import pytest

from albumlib import exercises
from albumlib.music import metrics, report, symbolic
from scripts_loader import load_script

NAMES = ("probabilities", "sample", "click_ratio", "silence", "ola_seconds")


@pytest.fixture(scope="module")
def ref():
    return load_script("make_exercises_05")


def test_the_stored_answers_are_the_reference_solutions(ref):
    made = ref.answers()
    assert set(made) == set(NAMES)
    assert exercises.mismatches("05", made) == []


def _draws(sample, s):
    rng = np.random.default_rng(int(s["seed"]))
    return [sample(s["logits"], s["mask"], float(s["temperature"]), rng) for _ in range(int(s["n"]))]


def test_the_reference_solutions_solve_the_stored_inputs(ref, capsys):
    p = exercises.stored("05", "probabilities")
    assert exercises.check("05", "probabilities",
                           [ref.solution_probabilities(p["logits"], p["mask"], t) for t in p["temperatures"]])
    assert exercises.check("05", "sample", _draws(ref.solution_sample, exercises.stored("05", "sample")))
    c = exercises.stored("05", "click_ratio")
    assert exercises.check("05", "click_ratio", ref.solution_click_ratio(ref.click_signal(int(c["block"]), int(c["sr"])), int(c["block"])))
    assert exercises.check("05", "silence", ref.solution_silence(ref.half_silent_signal(int(exercises.stored("05", "silence")["sr"]))))
    o = exercises.stored("05", "ola_seconds")
    assert exercises.check("05", "ola_seconds", ref.solution_ola_seconds(*(int(o[k]) for k in ("n_frames", "frame", "hop", "sr"))))
    assert capsys.readouterr().out.count("PASS") == len(NAMES)


def test_the_library_agrees_with_the_stored_answers(ref, capsys):
    assert exercises.check("05", "sample", _draws(symbolic.sample_token, exercises.stored("05", "sample")))
    c = exercises.stored("05", "click_ratio")
    assert exercises.check("05", "click_ratio", metrics.click_ratio(ref.click_signal(), int(c["block"])))
    sr = int(exercises.stored("05", "silence")["sr"])
    assert exercises.check("05", "silence", metrics.silence_fraction(ref.half_silent_signal(sr), sr))
    o = exercises.stored("05", "ola_seconds")
    frames = np.random.default_rng(0).standard_normal((int(o["n_frames"]), int(o["frame"])))
    assert exercises.check("05", "ola_seconds", (frames.size / int(o["sr"]),
                                                 report.overlap_add(frames, int(o["hop"])).size / int(o["sr"])))
    assert "FAIL" not in capsys.readouterr().out


def test_the_sampling_exercise_is_not_trivial():
    s = exercises.stored("05", "sample")
    drawn = s["expected"]
    assert s["mask"][drawn].all(), "a masked token was drawn"
    assert len(set(drawn.tolist())) >= 4, "the draws should vary"
    assert not s["mask"][np.argmax(s["logits"])], "the most likely token is masked"
    p = exercises.stored("05", "probabilities")["expected"]
    assert np.allclose(p.sum(axis=1), 1) and (np.diff(p.max(axis=1)) < 0).all()   # flatter when hotter


def _unmasked(s, t):
    z = np.exp(s["logits"] / t - (s["logits"] / t).max())
    return z / z.sum()


@pytest.mark.parametrize("name, wrong", [
    ("probabilities", lambda s: [_unmasked(s, t) for t in s["temperatures"]]),                    # no mask
    ("probabilities", lambda s: [np.where(s["mask"], _unmasked(s, 1.0), 0) / np.where(s["mask"], _unmasked(s, 1.0), 0).sum()
                                 for _ in s["temperatures"]]),                                     # no temperature
    ("sample", lambda s: [int(np.argmax(np.where(s["mask"], s["logits"], -np.inf)))] * int(s["n"])),  # greedy
    ("click_ratio", lambda s: np.float64(1.0)),
    ("silence", lambda s: np.float64(0.5)),
    ("ola_seconds", lambda s: np.array([100 * 4096 / 44_100, 100 * 2048 / 44_100])),
])
def test_a_wrong_answer_fails(name, wrong, capsys):
    assert not exercises.check("05", name, wrong(exercises.stored("05", name)))
    assert f"{name}: FAIL" in capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_an_unanswered_exercise_says_so(name, capsys):
    assert not exercises.check("05", name, None)
    assert "not answered yet" in capsys.readouterr().out
