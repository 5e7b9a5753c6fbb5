"""Notebook 03's exercises (and its appendix's): the stored answers, the reference solutions and
the library agree."""

import numpy as np
import pytest

from albumlib import exercises
from albumlib.music import fft_blocks
from scripts_loader import load_script

NAMES = ("gruv_features", "hermitian", "global_scale", "alias", "hour_bytes")
WHOLE = ("gruv_features", "hour_bytes")          # checked with tol=EXACT in the notebooks


@pytest.fixture(scope="module")
def ref():
    return load_script("make_exercises_03")


def _spectra(stored):
    return [stored[f"spectrum_{i}"] for i in range(len(stored["expected"]))]


def test_the_stored_answers_are_the_reference_solutions(ref):
    made = ref.answers()
    assert set(made) == set(NAMES)
    assert exercises.mismatches("03", made) == []


def test_the_reference_solutions_solve_the_stored_inputs(ref, capsys):
    s = {n: exercises.stored("03", n) for n in NAMES}
    assert exercises.check("03", "gruv_features", ref.solution_gruv_features(int(s["gruv_features"]["block_size"])))
    assert exercises.check("03", "hermitian", [float(ref.solution_hermitian(x)) for x in _spectra(s["hermitian"])])
    assert exercises.check("03", "global_scale", ref.solution_global_scale(s["global_scale"]["blocks"]))
    assert exercises.check("03", "alias", ref.solution_alias(float(s["alias"]["tone_hz"]), int(s["alias"]["sr"])))
    h = s["hour_bytes"]
    assert exercises.check("03", "hour_bytes", ref.solution_hour_bytes(int(h["seconds"]), int(h["sr"]), int(h["itemsize"])))
    assert capsys.readouterr().out.count("PASS") == len(NAMES)


def test_the_library_agrees_with_the_stored_answers(capsys):
    g = exercises.stored("03", "gruv_features")
    n = int(g["block_size"])
    assert exercises.check("03", "gruv_features", (fft_blocks.n_features(n, "fft"), fft_blocks.n_features(n, "rfft")))
    blocks = exercises.stored("03", "global_scale")["blocks"]
    assert exercises.check("03", "global_scale", fft_blocks.fit_scale(blocks).transform(blocks))
    a = exercises.stored("03", "alias")
    sr = int(a["sr"])
    tone = np.sin(2 * np.pi * float(a["tone_hz"]) * np.arange(sr) / sr)     # 1 s: bin k is k Hz
    assert exercises.check("03", "alias", float(np.argmax(np.abs(np.fft.rfft(tone)))))
    h = exercises.stored("03", "hour_bytes")
    assert exercises.check("03", "hour_bytes", [int(h["seconds"]) * fft_blocks.n_features(int(h["sr"]), k) * int(h["itemsize"])
                                                for k in ("fft", "rfft")])
    assert "FAIL" not in capsys.readouterr().out


def test_the_hermitian_cases_are_what_they_claim():
    s = exercises.stored("03", "hermitian")
    spectra = _spectra(s)
    assert [len(x) for x in spectra] == [64, 64, 63, 64]
    assert np.allclose(np.fft.ifft(spectra[0]).imag, 0) and np.allclose(np.fft.ifft(spectra[2]).imag, 0)
    assert not np.allclose(np.fft.ifft(spectra[1]).imag, 0)
    assert np.allclose(spectra[3][1:], spectra[0][1:]) and spectra[3][0].imag != 0   # only X_0 spoilt
    assert list(s["expected"]) == [1.0, 0.0, 1.0, 0.0]


@pytest.mark.parametrize("name, wrong", [
    ("gruv_features", lambda s: np.array([2 * 11_025, 11_025])),                     # rfft: N // 2 pairs, not N // 2 + 1
    ("hermitian", lambda s: [1.0, 0.0, 1.0, 1.0]),                                   # forgot Im X_0
    ("global_scale", lambda s: s["blocks"] / np.max(s["blocks"])),                   # max, not max |x|
    ("alias", lambda s: np.float64(30_000 - 22_050)),
    ("hour_bytes", lambda s: np.array([3600 * 88_200, 3600 * 44_102])),              # forgot 4 bytes
])
def test_a_wrong_answer_fails(ref, name, wrong, capsys):
    tol = ref.EXACT if name in WHOLE else 1e-4          # as the notebooks check them
    assert not exercises.check("03", name, wrong(exercises.stored("03", name)), tol=tol)
    assert f"{name}: FAIL" in capsys.readouterr().out


@pytest.mark.parametrize("name", NAMES)
def test_an_unanswered_exercise_says_so(name, capsys):
    assert not exercises.check("03", name, None)
    assert "not answered yet" in capsys.readouterr().out
