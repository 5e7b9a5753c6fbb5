"""Reference solutions of notebook 05's exercises, and the answers they give (data/exercises/05.npz).

    python scripts/make_exercises_05.py

The notebooks load each exercise's inputs with `exercises.stored("05", name)` and compare the
learner's answer with the stored `expected` value (`exercises.check("05", name, answer)` prints
PASS or FAIL), CS231n style: the solutions live here, not in the notebooks. They are plain numpy,
written from the definitions, so they do not lean on the library they check;
tests/test_exercises_05.py checks that they reproduce the stored answers and that albumlib agrees
with them. Run this script again after changing an exercise.

Exercises (name: what the learner writes; where):
- probabilities:  the sampler's distribution: softmax(logits / T) over the tokens the mask
                  allows, 0 for the others, for each temperature T of `temperatures` (one row
                  each). Subtract the largest allowed value before exp, so nothing overflows.
                  Notebook 05.
- sample:         one sampling step, drawn with `rng.choice(len(p), p=p)` from those
                  probabilities; called `n` times in a row on one np.random.default_rng(seed), it
                  must give the stored tokens (a masked token never comes up). Notebook 05.
- click_ratio:    a 440 Hz sine of amplitude 0.5 over 4 blocks of 1,024 samples, 0.3 added to the
                  second and fourth blocks: the mean |x[b] - x[b-1]| at the edges b = 1024, 2048,
                  3072 over the median of the non-zero |x[i] - x[i-1]|. Inside a block the sine's
                  steps vary and their median is the typical step; at each edge the jump is the
                  sine's step plus or minus 0.3, far larger: a click. Appendix 05a.
- silence:        one second of a 0.1-amplitude 220 Hz sine, then one second of zeros, in frames
                  of 2,048 samples (the last one shorter), a frame silent below -50 dBFS: the
                  sine's RMS is 0.1 / sqrt 2, -23 dBFS, not silent; zeros are. Its 44,100 samples
                  fill 21 whole frames; the 22nd holds its last 1,092 samples and 956 zeros and
                  is not silent either. The silent share is the length of the 22 all-zero frames
                  (the last one 136 samples long) over the duration, (88,200 - 22 x 2,048) /
                  88,200: not exactly 0.5, since the frame holding the edge is not silent.
                  Appendix 05a.
- ola_seconds:    N = 100 generated frames of 4,096 samples as seconds of audio: as blocks, N x
                  4,096 samples (9.29 s); overlap-added at hop h = 2,048, each new frame adds only
                  h samples and the first and last half frames, covered by one frame only, are
                  dropped: (N + 1) h - 4,096 = (N - 1) h samples (4.60 s): half as much music per
                  generated step, the price of joining without clicks. Appendix 05a.
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEED = 1948        # the year of Shannon's paper, which sampled English from n-gram statistics


def solution_probabilities(logits, mask, temperature):
    """Exercise probabilities: softmax of logits / T over the allowed tokens, 0 elsewhere."""
    z = np.asarray(logits, np.float64) / temperature
    z = np.where(mask, z - z[mask].max(), -np.inf)
    p = np.exp(z)
    return p / p.sum()


def solution_sample(logits, mask, temperature, rng):
    """Exercise sample: one token drawn from the masked, tempered softmax."""
    p = solution_probabilities(logits, mask, temperature)
    return int(rng.choice(len(p), p=p))


def solution_click_ratio(signal, block):
    """Exercise click_ratio: the mean jump at the block edges over the median non-zero step."""
    steps = np.abs(np.diff(np.asarray(signal, np.float64)))
    edges = np.arange(block, len(signal), block)
    return steps[edges - 1].mean() / np.median(steps[steps > 0])


def solution_silence(signal, frame=2048, threshold_db=-50.0):
    """Exercise silence: the share of the duration in frames whose level is below threshold_db."""
    x = np.asarray(signal, np.float64)
    starts = np.arange(0, x.size, frame)
    lengths = np.diff(np.append(starts, x.size))
    ms = np.array([np.mean(x[s:s + n] ** 2) for s, n in zip(starts, lengths)])
    return lengths[10 * np.log10(np.maximum(ms, 1e-30)) < threshold_db].sum() / x.size


def solution_ola_seconds(n_frames, frame, hop, sr):
    """Exercise ola_seconds: (seconds as blocks, seconds overlap-added)."""
    return n_frames * frame / sr, ((n_frames + 1) * hop - frame) / sr


def click_signal(block=1024, sr=44_100):
    """The click_ratio exercise's signal (built in the notebook the same way)."""
    made_up = 0.5 * np.sin(2 * np.pi * 440 * np.arange(4 * block) / sr)
    made_up[block:2 * block] += 0.3
    made_up[3 * block:] += 0.3
    return made_up


def half_silent_signal(sr=44_100):
    """The silence exercise's signal (built in the notebook the same way)."""
    return np.concatenate([0.1 * np.sin(2 * np.pi * 220 * np.arange(sr) / sr), np.zeros(sr)])


def answers(seed=SEED):
    """{exercise: {input name: array, ..., "expected": answer}} for data/exercises/05.npz."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0.0, 1.0, 12)
    mask = np.ones(12, bool)
    mask[[0, 3, int(np.argmax(logits))]] = False      # the most likely token is forbidden
    temperatures = np.array([0.5, 1.0, 2.0])
    n, sample_seed, temperature = 40, 7, 1.2
    draw = np.random.default_rng(sample_seed)
    tokens = [solution_sample(logits, mask, temperature, draw) for _ in range(n)]
    return {
        "probabilities": {"logits": logits, "mask": mask, "temperatures": temperatures,
                          "expected": np.stack([solution_probabilities(logits, mask, t)
                                                for t in temperatures])},
        "sample": {"logits": logits, "mask": mask, "temperature": np.float64(temperature),
                   "seed": np.int64(sample_seed), "n": np.int64(n),
                   "expected": np.array(tokens, np.int64)},
        "click_ratio": {"block": np.int64(1024), "sr": np.int64(44_100),
                        "expected": np.float64(solution_click_ratio(click_signal(), 1024))},
        "silence": {"sr": np.int64(44_100),
                    "expected": np.float64(solution_silence(half_silent_signal()))},
        "ola_seconds": {"n_frames": np.int64(100), "frame": np.int64(4096), "hop": np.int64(2048),
                        "sr": np.int64(44_100),
                        "expected": np.array(solution_ola_seconds(100, 4096, 2048, 44_100))},
    }


def main():
    """Write data/exercises/05.npz and say what it holds."""
    from albumlib import exercises
    exercises.save_and_report("05", answers())


if __name__ == "__main__":
    main()
