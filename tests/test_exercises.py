"""The notebooks' self-check helpers say FAIL when they should."""

import numpy as np

from albumlib import exercises


def test_check_close(capsys):
    assert exercises.check_close("a", np.ones(3), np.ones(3))
    assert not exercises.check_close("b", np.ones(3) * 1.1, np.ones(3))
    assert not exercises.check_close("c", np.ones(2), np.ones(3))
    assert not exercises.check_close("d", None, np.ones(3))
    out = capsys.readouterr().out
    assert "a: PASS" in out and "b: FAIL" in out and "shape" in out and "not answered" in out


def test_rel_error_zero_safe():
    assert exercises.rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_stored_answers_round_trip_and_fail_on_a_wrong_answer(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ALBUM_DATA_DIR", str(tmp_path))
    exercises.save_answers("99", {"gram": {"x": np.arange(4.0), "expected": np.eye(2)}})
    assert set(exercises.stored("99", "gram")) == {"x", "expected"}
    assert exercises.check("99", "gram", np.eye(2))
    assert not exercises.check("99", "gram", 2 * np.eye(2))
    assert "gram: PASS" in capsys.readouterr().out


def test_mismatches_name_what_differs_from_the_stored_answers(tmp_path, monkeypatch):
    monkeypatch.setenv("ALBUM_DATA_DIR", str(tmp_path))
    exercises.save_answers("98", {"a": {"x": np.ones(2), "expected": np.zeros(2)}})
    assert exercises.mismatches("98", {"a": {"x": np.ones(2), "expected": np.zeros(2)}}) == []
    assert exercises.mismatches("98", {"a": {"x": np.ones(2), "expected": np.ones(2)}}) == ["a/expected"]
    assert exercises.mismatches("98", {"a": {"x": np.ones(2)}, "b": {"y": 1}}) == ["a/expected", "b/y"]
