"""Reference solutions of notebook 01's exercises, and the answers they give (data/exercises/01.npz).

    python scripts/make_exercises_01.py

The notebook loads each exercise's inputs with `exercises.stored("01", name)` and compares the
learner's answer with the stored `expected` value (`exercises.check("01", name, answer)` prints
PASS or FAIL), CS231n style: the solutions live here, not in the notebook. They are plain numpy,
written from the definitions, so they do not lean on the library they check;
tests/test_exercises_01.py checks that they reproduce the stored answers and that albumlib's
losses agree with them. Run this script again after changing an exercise.

Exercises (name: what the learner writes):
- gram:          the normalised Gram matrix of one (H, W, C) feature map, shape (C, C).
- tv:            the corrected total-variation loss (beta = 2.5) of one (H, W, C) image.
- gradient_step: one step of the pixel optimisation, plain gradient descent with the network
                 replaced by the identity: L(x) = sum (x - target)^2 + tv_weight * TV(x),
                 x <- clip(x - learning_rate * dL/dx, 0, 1).
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 2015        # the year of Gatys et al.'s paper


def solution_gram(f):
    """Exercise gram: F^T F / (H W C), with F the (H*W, C) matrix of the positions' feature vectors."""
    h, w, c = f.shape
    flat = np.asarray(f, np.float64).reshape(h * w, c)
    return flat.T @ flat / (h * w * c)


def _tv_terms(x):
    """The differences down and right of every pixel (i < H-1, j < W-1), and their squared sum."""
    x = np.asarray(x, np.float64)
    down = x[1:, :-1] - x[:-1, :-1]
    right = x[:-1, 1:] - x[:-1, :-1]
    return down, right, down ** 2 + right ** 2


def solution_tv(x, beta=2.5):
    """Exercise tv: sum over pixels of ((x[i+1,j]-x[i,j])^2 + (x[i,j+1]-x[i,j])^2)^(beta/2)."""
    return float(np.sum(_tv_terms(x)[2] ** (beta / 2)))


def tv_gradient(x, beta=2.5):
    """d TV / d x by hand: each term s^(beta/2) pulls on a pixel and its two neighbours."""
    down, right, s = _tv_terms(x)
    g = (beta / 2) * s ** (beta / 2 - 1)            # d s^(beta/2) / d s  (finite at s = 0 for beta >= 2)
    grad = np.zeros(np.shape(x), np.float64)
    grad[1:, :-1] += g * 2 * down                   # the pixel below
    grad[:-1, 1:] += g * 2 * right                  # the pixel on the right
    grad[:-1, :-1] -= g * 2 * (down + right)        # the pixel itself
    return grad


def solution_gradient_step(image, target, tv_weight, learning_rate):
    """Exercise gradient_step: x - lr * (2 (x - target) + tv_weight * dTV/dx), clipped to [0, 1]."""
    x = np.asarray(image, np.float64)
    grad = 2 * (x - np.asarray(target, np.float64)) + tv_weight * tv_gradient(x)
    return np.clip(x - learning_rate * grad, 0.0, 1.0)


def answers(seed=SEED):
    """{exercise: {input name: array, ..., "expected": answer}} for data/exercises/01.npz."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(6, 5, 4)).astype(np.float32)
    image = rng.uniform(size=(6, 7, 3)).astype(np.float32)
    start = rng.uniform(size=(8, 8, 3)).astype(np.float32)
    target = rng.uniform(-0.5, 1.5, size=(8, 8, 3)).astype(np.float32)   # some pixels leave [0, 1]
    tv_weight, learning_rate = np.float32(0.5), np.float32(0.25)
    return {
        "gram": {"features": features, "expected": solution_gram(features)},
        "tv": {"image": image, "beta": np.float32(2.5), "expected": solution_tv(image, 2.5)},
        "gradient_step": {"image": start, "target": target, "tv_weight": tv_weight,
                          "learning_rate": learning_rate,
                          "expected": solution_gradient_step(start, target, tv_weight, learning_rate)},
    }


def main():
    """Write data/exercises/01.npz and say what it holds."""
    from albumlib import exercises
    exercises.save_and_report("01", answers())


if __name__ == "__main__":
    main()
