"""Notebook 06's exercises (and its appendix's): the stored answers, the reference solutions and
the library agree."""

import datetime

import numpy as np
import pytest

from albumlib import exercises
from albumlib.film import canvas, capture, events, timeline
from scripts_loader import load_script

NAMES = ("frames", "xfade", "crossfade", "weights", "events", "bytes", "yuv420")


@pytest.fixture(scope="module")
def ref():
    return load_script("make_exercises_06")


def test_the_stored_answers_are_the_reference_solutions(ref):
    made = ref.answers()
    assert set(made) == set(NAMES)
    assert exercises.mismatches("06", made) == []


def test_the_reference_solutions_solve_the_stored_inputs(ref, capsys):
    s = {name: exercises.stored("06", name) for name in NAMES}
    assert exercises.check("06", "frames", ref.solution_frames(int(s["frames"]["n"]), float(s["frames"]["d"]), int(s["frames"]["fps"])))
    assert exercises.check("06", "xfade", ref.solution_xfade(s["xfade"]["clips"], float(s["xfade"]["t"])))
    c = s["crossfade"]
    assert exercises.check("06", "crossfade", ref.solution_crossfade(float(c["d"]), int(c["fps"]), float(c["fade"]), int(c["k"])))
    assert exercises.check("06", "weights", np.concatenate([ref.solution_weights(int(t)) for t in s["weights"]["lengths"]]))
    assert exercises.check("06", "events", ref.solution_events(list(s["events"]["hours"]), float(s["events"]["gap"])))
    b = s["bytes"]
    assert exercises.check("06", "bytes", ref.solution_bytes(int(b["width"]), int(b["height"]), int(b["fps"])))
    assert exercises.check("06", "yuv420", [ref.solution_yuv420(*size) for size in s["yuv420"]["sizes"]])
    assert capsys.readouterr().out.count("PASS") == len(NAMES)


def test_the_library_agrees_with_the_stored_answers(capsys):
    f = exercises.stored("06", "frames")
    tl = timeline.plan_timeline(int(f["n"]), float(f["d"]), 0.5, int(f["fps"]))
    assert exercises.check("06", "frames", (tl.n_frames, tl.boundaries[-2]))
    c = exercises.stored("06", "crossfade")
    k = int(c["k"])
    tl = timeline.plan_timeline(6, float(c["d"]), float(c["fade"]), int(c["fps"]))
    first = tl.transition(k - 1)[0]
    assert exercises.check("06", "crossfade", (first, tl.transition_frames, dict(tl.sources(first))[k]))
    w = exercises.stored("06", "weights")
    got = []
    for frames in w["lengths"]:
        tl = timeline.plan_timeline(2, 10.0, int(frames) / 10.0, 10)
        start, end = tl.transition(0)
        got += [dict(tl.sources(i))[1] for i in range(start, end)]
    assert exercises.check("06", "weights", got)
    e = exercises.stored("06", "events")
    t0 = datetime.datetime(2024, 7, 5)
    dated = [(f"p{i}.jpg", capture.Taken(t0 + datetime.timedelta(hours=float(h)), "DateTimeOriginal"))
             for i, h in enumerate(e["hours"])]
    assert exercises.check("06", "events", [len(ev.photos) for ev in events.split_events(dated, float(e["gap"]))])
    y = exercises.stored("06", "yuv420")
    accepted = []
    for width, height in y["sizes"]:
        try:
            canvas.canvas_size((int(width), int(height)))
            accepted.append(1)
        except ValueError:
            accepted.append(0)
    assert exercises.check("06", "yuv420", accepted)
    assert "FAIL" not in capsys.readouterr().out


def test_the_event_exercise_has_a_gap_of_exactly_the_limit():
    e = exercises.stored("06", "events")
    assert float(e["gap"]) in np.diff(e["hours"]).tolist()
