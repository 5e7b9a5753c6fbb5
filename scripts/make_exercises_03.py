"""Reference solutions of notebook 03's exercises, and the answers they give (data/exercises/03.npz).

    python scripts/make_exercises_03.py

The notebooks load each exercise's inputs with `exercises.stored("03", name)` and compare the
learner's answer with the stored `expected` value (`exercises.check("03", name, answer)` prints
PASS or FAIL; whole-number answers with tol=EXACT), CS231n style: the solutions live here, not in the notebooks. They are plain numpy,
written from the definitions, so they do not lean on the library they check;
tests/test_exercises_03.py checks that they reproduce the stored answers and that albumlib agrees
with them. Run this script again after changing an exercise.

Exercises (name: what the learner writes; where):
- gruv_features: the features of one 0.25 s block (11,025 samples) in the report's layout (real
                 and imaginary parts of the full FFT) and with `rfft`: (2 N, 2 (N // 2 + 1)) =
                 (22,050, 11,026). Notebook 03.
- hermitian:     is_hermitian(spectrum): X_{N-k} = conj(X_k) for k = 1..N-1 and Im X_0 = 0, with
                 a tolerance relative to the largest magnitude. Reverse X_1..X_{N-1} and compare
                 with their conjugates; check Im X_0 too. Four spectra: a real block of even
                 length (yes), a complex block (no), a real block of odd length (yes), and a real
                 block's spectrum whose X_0 was given an imaginary part (no). Notebook 03.
- global_scale:  the report's global scaling of some blocks: x / max|x| (an all-zero array stays
                 as it is: divide by 1). Notebook 03.
- alias:         the frequency at which a 30 kHz tone sampled at 44.1 kHz sounds: |30,000 -
                 44,100| = 14,100 Hz, folded back below the 22,050 Hz Nyquist frequency.
                 Appendix 03a (sampling).
- hour_bytes:    the bytes of float32 features of one hour in whole 1 s blocks, report layout and
                 rfft: 3600 x 88,200 x 4 = 1,270,080,000 and 3600 x 44,102 x 4 = 635,068,800
                 (against about 58 MB for the same hour as a 128 kbit/s MP3). Appendix 03a
                 (the dataset on disk).
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 1965        # the year of Cooley and Tukey's FFT paper
EXACT = 1e-12      # the check's tolerance for whole numbers: an off-by-one must fail


def solution_gruv_features(block_size):
    """Exercise gruv_features: (2 N, 2 (N // 2 + 1)) features for blocks of N samples."""
    return 2 * block_size, 2 * (block_size // 2 + 1)


def solution_hermitian(spectrum, rtol=1e-6):
    """Exercise hermitian: Im X_0 ~ 0 and X_{N-k} ~ conj(X_k), within rtol * max |X|."""
    s = np.asarray(spectrum)
    tol = rtol * max(np.abs(s).max(), 1e-30)
    return bool(abs(s[0].imag) <= tol and np.allclose(s[1:][::-1], np.conj(s[1:]), rtol=0, atol=tol))


def solution_global_scale(blocks):
    """Exercise global_scale: the blocks over their largest magnitude, or over 1 for silence."""
    blocks = np.asarray(blocks, np.float64)
    return blocks / (np.abs(blocks).max() or 1.0)


def solution_alias(tone_hz, sr):
    """Exercise alias: the tone folded back into 0..sr/2."""
    f = float(tone_hz) % sr
    return min(f, sr - f)


def solution_hour_bytes(seconds, sr, itemsize):
    """Exercise hour_bytes: whole blocks x features x bytes, for fft and rfft features."""
    fft, rfft = solution_gruv_features(int(sr))        # blocks of one second: N = sr samples
    return int(seconds) * fft * itemsize, int(seconds) * rfft * itemsize


def answers(seed=SEED):
    """{exercise: {input name: array, ..., "expected": answer}} for data/exercises/03.npz."""
    rng = np.random.default_rng(seed)
    real_even = rng.standard_normal(64)
    spectra = [np.fft.fft(real_even),
               np.fft.fft(real_even + 1j * rng.standard_normal(64)),
               np.fft.fft(rng.standard_normal(63))]
    spectra.append(spectra[0] + np.array([0.5j * np.abs(spectra[0]).max()] + [0] * 63))
    blocks = (rng.standard_normal((5, 8)) * rng.uniform(1, 300, (5, 1))).astype(np.float32)
    blocks[2, 5] = -1.5 * np.abs(blocks).max()            # the largest magnitude is negative
    hermitian = {f"spectrum_{i}": s for i, s in enumerate(spectra)}
    hermitian["expected"] = np.array([float(solution_hermitian(s)) for s in spectra])
    return {
        "gruv_features": {"block_size": np.int64(11_025),
                          "expected": np.array(solution_gruv_features(11_025), np.int64)},
        "hermitian": hermitian,
        "global_scale": {"blocks": blocks, "expected": solution_global_scale(blocks)},
        "alias": {"tone_hz": np.float64(30_000), "sr": np.int64(44_100),
                  "expected": np.float64(solution_alias(30_000, 44_100))},
        "hour_bytes": {"seconds": np.int64(3600), "sr": np.int64(44_100), "itemsize": np.int64(4),
                       "expected": np.array(solution_hour_bytes(3600, 44_100, 4), np.int64)},
    }


def main():
    """Write data/exercises/03.npz and say what it holds."""
    from albumlib import exercises
    exercises.save_and_report("03", answers())


if __name__ == "__main__":
    main()
