"""Reference solutions of notebook 02's exercises, and the answers they give (data/exercises/02.npz).

    python scripts/make_exercises_02.py

The notebook loads each exercise's inputs with `exercises.stored("02", name)` and compares the
learner's answer with the stored `expected` value (`exercises.check("02", name, answer)` prints
PASS or FAIL), CS231n style: the solutions live here, not in the notebook. They are plain numpy,
written from the definitions, so they do not lean on the library they check;
tests/test_exercises_02.py checks that they reproduce the stored answers and that albumlib's
layers agree with them. Run this script again after changing an exercise.

Exercises (name: what the learner writes):
- instance_norm:   instance normalisation of a (B, H, W, C) batch with a learnt (gamma, beta):
                   each image's channels normalised over H, W (population variance, + epsilon).
- style_pair:      conditional instance norm's (gamma, beta) for a batch of style weights
                   (B, n_styles), one-hot or a mix, from the (n_styles, C) rows of scale and
                   offset; the answer is np.stack([gamma, beta]), shape (2, B, C).
- residual_params: the parameters of one residual block with C channels in and out (two 3x3
                   convolutions with biases, two instance norms), for each C in `channels`.

The inputs keep every output well away from zero (offsets of a few units), so that float32
answers pass exercises.check's relative-error test while a slip (the wrong axes, the sample
variance, scale and offset swapped) fails it.
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 2017        # the year of Dumoulin, Shlens and Kudlur's conditional instance norm


def solution_instance_norm(x, gamma, beta, epsilon=1e-5):
    """Exercise instance_norm: (x - mean_hw) / sqrt(var_hw + epsilon) * gamma + beta."""
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)             # the population variance (ddof=0)
    return (x - mean) / np.sqrt(var + epsilon) * np.asarray(gamma, np.float64) \
        + np.asarray(beta, np.float64)


def solution_style_pair(style, scale, offset):
    """Exercise style_pair: gamma = style @ scale, beta = style @ offset, each (B, C)."""
    style = np.asarray(style, np.float64)
    return style @ np.asarray(scale, np.float64), style @ np.asarray(offset, np.float64)


def solution_residual_params(c):
    """Exercise residual_params: two convs of 9 C^2 weights + C biases, two norms of 2 C: 18 C^2 + 6 C."""
    return 2 * (9 * c * c + c) + 2 * (2 * c)


def answers(seed=SEED):
    """{exercise: {input name: array, ..., "expected": answer}} for data/exercises/02.npz."""
    rng = np.random.default_rng(seed)
    # very different means and spreads per image and channel: normalising over the wrong axes shows
    x = (rng.normal(size=(2, 5, 6, 3)) * rng.uniform(0.2, 8.0, (2, 1, 1, 3))
         + rng.uniform(-20, 20, (2, 1, 1, 3))).astype(np.float32)
    gamma = rng.uniform(0.5, 1.0, 3).astype(np.float32)
    beta = rng.uniform(6.0, 8.0, 3).astype(np.float32)
    epsilon = np.float32(1e-5)
    scale = rng.uniform(0.5, 1.5, (3, 4)).astype(np.float32)      # 3 styles, 4 channels
    offset = rng.uniform(0.5, 2.0, (3, 4)).astype(np.float32)
    style = np.array([[0.0, 1.0, 0.0],                            # the second style alone
                      [0.7, 0.0, 0.3]], np.float32)               # 70 % first, 30 % third
    channels = np.array([16, 64, 128], np.int64)
    return {
        "instance_norm": {"x": x, "gamma": gamma, "beta": beta, "epsilon": epsilon,
                          "expected": solution_instance_norm(x, gamma, beta, float(epsilon))},
        "style_pair": {"style": style, "scale": scale, "offset": offset,
                       "expected": np.stack(solution_style_pair(style, scale, offset))},
        "residual_params": {"channels": channels,
                            "expected": np.array([solution_residual_params(int(c))
                                                  for c in channels], np.int64)},
    }


def main():
    """Write data/exercises/02.npz and say what it holds."""
    from albumlib import exercises
    exercises.save_and_report("02", answers())


if __name__ == "__main__":
    main()
