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


def answers_path(notebook):
    """The stored answers of a notebook's exercises, data/exercises/<notebook>.npz; notebook 01."""
    from albumlib import paths
    return paths.data_path("exercises", f"{notebook}.npz")


def stored(notebook, name):
    """{key: array} stored for one exercise: its inputs and its `expected` answer; notebook 01."""
    prefix = f"{name}/"
    with np.load(answers_path(notebook), allow_pickle=False) as npz:
        found = {k[len(prefix):]: npz[k] for k in npz.files if k.startswith(prefix)}
    if not found:
        raise KeyError(f"no stored answer for exercise {name!r} of notebook {notebook}")
    return found


def check(notebook, name, got, tol=1e-4):
    """Print PASS or FAIL comparing an answer with the stored one; notebooks 01 and 02."""
    return check_close(name, got, stored(notebook, name)["expected"], tol=tol)


def save_answers(notebook, answers):
    """Write {exercise: {key: array}} as data/exercises/<notebook>.npz (scripts/make_exercises.py)."""
    from albumlib.fileio import atomic_path
    flat = {f"{name}/{key}": np.asarray(value) for name, parts in answers.items()
            for key, value in parts.items()}
    path = answers_path(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **flat)
    return path


def mismatches(notebook, answers, rtol=1e-12):
    """The `exercise/key` entries whose stored values differ from `answers` (tests of the scripts)."""
    out = []
    for name, parts in answers.items():
        stored = stored_or_empty(notebook, name)
        for key in sorted(set(parts) | set(stored)):
            if key not in stored or key not in parts or not np.allclose(
                    stored[key], parts[key], rtol=rtol, atol=0):
                out.append(f"{name}/{key}")
    return out


def stored_or_empty(notebook, name):
    """stored(), or {} when the exercise has no stored answer."""
    try:
        return stored(notebook, name)
    except KeyError:
        return {}


def save_and_report(notebook, answers):
    """save_answers, then print what each exercise holds (scripts/make_exercises_NN.py's main)."""
    path = save_answers(notebook, answers)
    for name, parts in answers.items():
        print(f"{name}: " + ", ".join(f"{k} {np.shape(v)}" for k, v in parts.items()))
    print("wrote", path)
    return path
