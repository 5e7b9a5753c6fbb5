"""Reference solutions of notebook 06's exercises, and the answers they give (data/exercises/06.npz).

    python scripts/make_exercises_06.py

The notebook loads each exercise's inputs with `exercises.stored("06", name)` and compares the
learner's answer with the stored `expected` value (`exercises.check("06", name, answer)` prints
PASS or FAIL), CS231n style: the solutions live here, not in the notebook. They are plain Python,
written from the definitions in notebook 06, so they do not lean on the library they check;
tests/test_exercises_06.py checks that they reproduce the stored answers and that albumlib.film
agrees with them. Run this script again after changing an exercise.

Exercises (name: what the learner writes; where):
- frames:          7 photos of 2.5 s at 24 fps: the film's frames, round(n d f), and the first
                   frame of the last photo's slot, round((n - 1) d f). Notebook 06.
- xfade:           ffmpeg's xfade overlaps clips: for clips of 3, 4, 2.5 and 3 s and crossfades
                   of T = 0.5 s, offset_k = L_1 + ... + L_k - k T (k = 1, 2, 3) and the film's
                   length, sum L - 3 T. Notebook 06.
- crossfade:       six photos of 2 s at 30 fps, crossfades of 0.5 s: the crossfade from photo 2
                   to photo 3 begins at b_3 - floor(T / 2) with b_3 = round(3 d f) and
                   T = round(0.5 f) frames; photo 3's weight on its first frame is 1 / (T + 1).
                   Notebook 06.
- weights:         the crossfade weights w_j = (j + 1) / (T + 1), j = 0 .. T - 1, for each T of
                   `lengths`, one after the other. Notebook 06.
- events:          capture times (hours, ascending) split wherever two consecutive photos are
                   more than `gap` hours apart (exactly `gap` does not split): the number of
                   photos of each event. Notebook 06.
- bytes:           a raw 720p RGB frame (W H 3 bytes), a second of them at 30 fps, and one
                   yuv420p frame (a full luma plane and two quarter chroma planes, W H 3 / 2).
                   Appendix 06a.
- yuv420:          for each (width, height) of `sizes`: 1 when yuv420p can hold it (both even,
                   one chroma sample per 2 x 2 block), else 0. Appendix 06a.
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def solution_frames(n, d, fps):
    """Exercise frames: (frames in the film, first frame of the last photo's slot)."""
    return round(n * d * fps), round((n - 1) * d * fps)


def solution_xfade(clips, t):
    """Exercise xfade: the offsets of xfade's crossfades and the overlapped film's length."""
    ends = np.cumsum(clips)
    return (*(ends[k - 1] - k * t for k in range(1, len(clips))), ends[-1] - (len(clips) - 1) * t)


def solution_crossfade(d, fps, fade, k):
    """Exercise crossfade: (first frame, frames, photo k's weight there) of the cut into photo k."""
    frames = int(np.floor(fade * fps + 0.5))
    cut = int(np.floor(k * d * fps + 0.5))
    return cut - frames // 2, frames, 1 / (frames + 1)


def solution_weights(frames):
    """Exercise weights: the incoming photo's weight on each frame of a crossfade of `frames`."""
    return [(j + 1) / (frames + 1) for j in range(frames)]


def solution_events(hours, gap):
    """Exercise events: the sizes of the groups that gaps of more than `gap` hours separate."""
    sizes = [1]
    for before, after in zip(hours[:-1], hours[1:]):
        if after - before > gap:
            sizes.append(1)
        else:
            sizes[-1] += 1
    return sizes


def solution_bytes(width, height, fps):
    """Exercise bytes: (RGB frame, a second of RGB frames, a yuv420p frame) in bytes."""
    return width * height * 3, fps * width * height * 3, width * height * 3 // 2


def solution_yuv420(width, height):
    """Exercise yuv420: 1 when both sides are even, else 0."""
    return int(width % 2 == 0 and height % 2 == 0)


def event_hours():
    """Capture times of a made-up weekend (hours from Friday 0:00), with an exact 8 h gap."""
    return np.array([18.0, 18.2, 18.25, 19.5,            # Friday evening
                     33.0, 33.1, 34.0, 36.5, 37.0, 39.0,   # Saturday (13.5 h after Friday's last)
                     47.0,                                # 8.0 h later: the same event
                     60.0, 60.5])                         # Sunday morning


def answers():
    """{exercise: {input name: array, ..., "expected": answer}} for data/exercises/06.npz."""
    lengths = np.array([1, 4, 15])
    sizes = np.array([(1280, 720), (1281, 720), (1280, 721), (854, 480), (853, 480),
                      (720, 1280), (2, 2)])
    return {
        "frames": {"n": np.int64(7), "d": np.float64(2.5), "fps": np.int64(24),
                   "expected": np.array(solution_frames(7, 2.5, 24), np.float64)},
        "xfade": {"clips": np.array([3.0, 4.0, 2.5, 3.0]), "t": np.float64(0.5),
                  "expected": np.array(solution_xfade([3.0, 4.0, 2.5, 3.0], 0.5))},
        "crossfade": {"d": np.float64(2.0), "fps": np.int64(30), "fade": np.float64(0.5),
                      "k": np.int64(3), "expected": np.array(solution_crossfade(2.0, 30, 0.5, 3))},
        "weights": {"lengths": lengths,
                    "expected": np.concatenate([solution_weights(int(t)) for t in lengths])},
        "events": {"hours": event_hours(), "gap": np.float64(8.0),
                   "expected": np.array(solution_events(list(event_hours()), 8.0), np.float64)},
        "bytes": {"width": np.int64(1280), "height": np.int64(720), "fps": np.int64(30),
                  "expected": np.array(solution_bytes(1280, 720, 30), np.float64)},
        "yuv420": {"sizes": sizes,
                   "expected": np.array([solution_yuv420(*s) for s in sizes], np.float64)},
    }


def main():
    """Write data/exercises/06.npz and say what it holds."""
    from albumlib import exercises
    exercises.save_and_report("06", answers())


if __name__ == "__main__":
    main()
