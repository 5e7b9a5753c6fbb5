"""Notebook 04's exercises (and its appendix's): the stored answers, the reference solutions and
the library agree."""

import numpy as np
import pytest

from albumlib import exercises
from albumlib.music import report, tokens as tk
from scripts_loader import load_script

NAMES = ("encode", "decode", "rfft_params", "sequences")
WHOLE = ("encode", "rfft_params", "sequences")   # checked with tol=EXACT in the notebooks


@pytest.fixture(scope="module")
def ref():
    return load_script("make_exercises_04")


def test_the_stored_answers_are_the_reference_solutions(ref):
    made = ref.answers()
    assert set(made) == set(NAMES)
    assert exercises.mismatches("04", made) == []


def test_the_restated_token_layout_is_the_librarys(ref):
    assert (ref.BOS, ref.EOS, ref.SHIFT0, ref.MAX_SHIFT) == (tk.BOS, tk.EOS, tk.SHIFT0, tk.MAX_SHIFT)
    assert (ref.NOTE0, ref.LOW, ref.HIGH, ref.DUR0, ref.MAX_DUR) == (tk.NOTE0, tk.LOW, tk.HIGH, tk.DUR0, tk.MAX_DUR)


def test_the_reference_solutions_solve_the_stored_inputs(ref, capsys):
    s = {n: exercises.stored("04", n) for n in NAMES}
    assert exercises.check("04", "encode", ref.solution_encode(s["encode"]["notes"]))
    assert exercises.check("04", "decode", ref.solution_decode(s["decode"]["tokens"]))
    assert exercises.check("04", "rfft_params", ref.solution_rfft_params(int(s["rfft_params"]["features"])))
    q = s["sequences"]
    assert exercises.check("04", "sequences", ref.solution_sequences(float(q["seconds"]), int(q["songs"]), int(q["batch"])))
    assert capsys.readouterr().out.count("PASS") == len(NAMES)


def test_the_library_agrees_with_the_stored_answers(capsys):
    assert exercises.check("04", "encode", tk.encode(exercises.stored("04", "encode")["notes"]))
    assert exercises.check("04", "decode", tk.decode(exercises.stored("04", "decode")["tokens"])[:, :3])
    assert exercises.check("04", "rfft_params", report.model_parameters(report.MusicConfig(kind="rfft")))
    assert "FAIL" not in capsys.readouterr().out


def test_the_phrases_hold_what_the_exercises_promise():
    e = exercises.stored("04", "encode")
    notes, tokens = e["notes"], e["expected"]
    assert not np.all(np.diff(notes[:, 0]) >= 0), "the phrase is given out of order"
    assert (notes[:, 1] * 4 > tk.MAX_DUR).any(), "a note longer than two bars"
    assert list(tokens).count(tk.SHIFT0 + tk.MAX_SHIFT - 1) >= 1, "a rest longer than a bar"
    d = exercises.stored("04", "decode")
    eos = list(d["tokens"]).index(tk.EOS)
    assert eos < len(d["tokens"]) - 1, "tokens after EOS"
    assert len(tk.decode(d["tokens"][eos + 1:])) == 1        # ... which would make a note


def test_the_live_solutions_of_the_appendix(ref):
    assert ref.solution_slot_bytes(10) == (40, 80)
    y = np.arange(6.0).reshape(1, 2, 3)
    assert ref.solution_zero_loss([(None, y), (None, -y)]) == pytest.approx(np.mean(y ** 2))


@pytest.mark.parametrize("name, wrong", [
    ("encode", lambda s: np.concatenate([[tk.BOS], tk.encode(np.sort(s["notes"], axis=0))[1:]])),   # columns mixed
    ("encode", lambda s: s["expected"][s["expected"] != tk.SHIFT0 + tk.MAX_SHIFT - 1]),             # one shift
    ("decode", lambda s: tk.decode(np.append(s["tokens"][s["tokens"] != tk.EOS], tk.EOS))[:, :3]),  # past EOS
    ("rfft_params", lambda s: s["expected"] - 512),                                  # a bias forgotten
    ("sequences", lambda s: np.array([195, 220])),
])
def test_a_wrong_answer_fails(ref, name, wrong, capsys):
    tol = ref.EXACT if name in WHOLE else 1e-4          # as the notebooks check them
    assert not exercises.check("04", name, wrong(exercises.stored("04", name)), tol=tol)
    assert f"{name}: FAIL" in capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_an_unanswered_exercise_says_so(name, capsys):
    assert not exercises.check("04", name, None)
    assert "not answered yet" in capsys.readouterr().out
