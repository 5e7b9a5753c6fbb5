"""Self-checks for the notebooks' exercises (CS231n style: compare with a stored answer)."""

import numpy as np


def rel_error(got, expected):
    """Largest relative error between two arrays, guarded against division by zero; notebook 01."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    return float(np.max(np.abs(got - expected) / np.maximum(1e-8, np.abs(got) + np.abs(expected))))


def check_close(name, got, expected, tol=1e-4):
    """Print PASS or FAIL for an exercise answer and return whether it passed; notebook 01."""
    if got is None:
        print(f"{name}: not answered yet")
        return False
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape != expected.shape:
        print(f"{name}: FAIL (shape {got.shape}, expected {expected.shape})")
        return False
    err = rel_error(got, expected)
    ok = err < tol
    print(f"{name}: {'PASS' if ok else 'FAIL'} (relative error {err:.2e})")
    return ok
