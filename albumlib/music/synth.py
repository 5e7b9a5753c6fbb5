"""A small numpy synthesiser: notes (onset, duration, MIDI pitch, velocity) to a mono signal.

Additive synthesis (a sum of harmonics, each with its own amplitude and decay) shaped by an ADSR
envelope, with a spectral tilt standing in for a subtractive low-pass filter. It renders the bundled
sample music (scripts/render_sample_music.py) and needs nothing but numpy. Taught in notebook 03.
"""

import math

import numpy as np

SAMPLE_RATE = 44100

# Each timbre: harmonic amplitudes a_k (k = 1, 2, ...); the decay rate of harmonic k in 1/s,
# (base + per_k * k) * (1 + f / 1000 Hz), so high notes and high harmonics die away sooner; a
# low-pass "cutoff" in Hz that tilts the spectrum; an ADSR envelope (attack, decay, release in
# seconds, sustain as a level); inharmonicity B (harmonic k sounds at k f sqrt(1 + B k^2), as a
# stiff piano string does); vibrato (depth as a fraction of f, rate in Hz, delay in seconds).
INSTRUMENTS = {
    "organ": dict(amps=(1.0, 0.6, 0.35, 0.25, 0.12, 0.15, 0.0, 0.1), fade=(0.0, 0.0),
                  cutoff=6000.0, attack=0.02, decay=0.06, sustain=0.85, release=0.07,
                  inharmonicity=0.0, vibrato=(0.0, 0.0, 0.0)),
    "piano": dict(amps=tuple(1.0 / k ** 1.2 for k in range(1, 13)), fade=(0.8, 0.35),
                  cutoff=4000.0, attack=0.005, decay=0.0, sustain=1.0, release=0.06,
                  inharmonicity=1e-4, vibrato=(0.0, 0.0, 0.0)),
    "pluck": dict(amps=tuple(math.sin(math.pi * k * 0.13) / k for k in range(1, 16)),
                  fade=(1.2, 0.5), cutoff=7000.0, attack=0.004, decay=0.0, sustain=1.0,
                  release=0.05, inharmonicity=0.0, vibrato=(0.0, 0.0, 0.0)),
    "strings": dict(amps=tuple(1.0 / k for k in range(1, 13)), fade=(0.0, 0.0), cutoff=3000.0,
                    attack=0.06, decay=0.1, sustain=0.9, release=0.1, inharmonicity=0.0,
                    vibrato=(0.004, 5.5, 0.15)),
}


def midi_to_hz(pitch):
    """Frequency in Hz of a MIDI pitch (69 = A4 = 440 Hz, 60 = middle C); notebook 03."""
    hz = 440.0 * 2.0 ** ((np.asarray(pitch, np.float64) - 69.0) / 12.0)
    return float(hz) if hz.ndim == 0 else hz


def adsr(n, sr=SAMPLE_RATE, attack=0.01, decay=0.05, sustain=0.8, release=0.05):
    """ADSR envelope of n samples, exactly 0 at both ends (release inside the n); notebook 03."""
    n = int(n)
    a, d, r = (max(int(round(s * sr)), 1) for s in (attack, decay, release))
    if a + d + r > n:  # a short note: shrink the three ramps in proportion
        scale = n / (a + d + r)
        a, r = int(a * scale), int(r * scale)
        d = n - a - r
    env = np.concatenate([
        np.linspace(0.0, 1.0, a, endpoint=False),      # attack from silence
        np.linspace(1.0, sustain, d, endpoint=False),  # decay to the sustain level
        np.full(n - a - d - r, float(sustain)),        # sustain
    ])
    level = env[-1] if len(env) else 0.0
    env = np.concatenate([env, np.linspace(level, 0.0, r)])  # release, ending at exactly 0
    if n:
        env[0] = env[-1] = 0.0
    return env


def note_wave(freq, duration, sr=SAMPLE_RATE, instrument="organ", velocity=1.0, seed=0):
    """One note of `instrument` (see INSTRUMENTS): round(duration * sr) samples; notebook 03."""
    if instrument not in INSTRUMENTS:
        raise ValueError(f"unknown instrument {instrument!r}; choose one of {sorted(INSTRUMENTS)}")
    if not 0.0 <= velocity <= 1.0:
        raise ValueError(f"velocity must be in [0, 1], got {velocity}")
    spec = INSTRUMENTS[instrument]
    n = int(round(duration * sr))
    if n <= 0:
        return np.zeros(0, np.float32)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sr
    depth, rate, delay = spec["vibrato"]
    if depth:  # vibrato fades in after `delay`; integrate the instantaneous frequency
        ramp = np.clip((t - delay) / 0.2, 0.0, 1.0)
        wobble = np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi))
        phase = 2 * np.pi * np.cumsum(freq * (1.0 + depth * ramp * wobble)) / sr
    else:
        phase = 2 * np.pi * freq * t
    base, per_k = spec["fade"]
    wave = np.zeros(n)
    norm = 0.0
    for k, amp in enumerate(spec["amps"], start=1):
        stretch = k * math.sqrt(1.0 + spec["inharmonicity"] * k * k)
        if amp == 0.0 or stretch * freq * (1 + depth) >= 0.45 * sr:  # keep below Nyquist
            continue
        amp = amp / (1.0 + (stretch * freq / spec["cutoff"]) ** 2)  # low-pass tilt
        partial = np.sin(stretch * phase + rng.uniform(0, 2 * np.pi))
        if base or per_k:
            partial *= np.exp(-t * (base + per_k * k) * (1.0 + freq / 1000.0))
        wave += amp * partial
        norm += amp * amp
    if norm > 0:
        wave /= math.sqrt(norm)  # comparable loudness across timbres and pitches
    env = adsr(n, sr, spec["attack"], spec["decay"], spec["sustain"], spec["release"])
    return (velocity * env * wave).astype(np.float32)


def render_notes(notes, sr=SAMPLE_RATE, instrument="organ", instruments=None, peak_dbfs=-1.0,
                 tail=0.5, fade=0.05, legato=0.03, seed=0):
    """Mix notes (onset s, duration s, MIDI pitch, velocity 0-1[, part]) to mono; notebook 03.

    The signal lasts round((last note end + tail) * sr) samples; each note sounds `legato` seconds
    past its written end so that its release overlaps the next note. `instruments` maps a part to
    an instrument name (parts it does not name, and notes without a part, use `instrument`). The
    result is peak-normalised to `peak_dbfs` and faded to 0 over its last `fade` seconds. Each
    note's random phases come from a generator seeded by (seed, note index): the same call gives
    the same signal.
    """
    notes = [tuple(note) for note in notes]
    end = max((float(nt[0]) + float(nt[1]) for nt in notes), default=0.0)
    n = int(round((end + tail) * sr))
    out = np.zeros(n)
    for i, nt in enumerate(notes):
        onset, duration, pitch, velocity = (float(x) for x in nt[:4])
        if onset < 0 or duration < 0:
            raise ValueError(f"note {i}: onset and duration must be >= 0, got {nt}")
        part = nt[4] if len(nt) > 4 else None
        name = instruments.get(part, instrument) if instruments else instrument
        start = int(round(onset * sr))
        wave = note_wave(midi_to_hz(pitch), duration + legato, sr, name, velocity, seed=[seed, i])
        stop = min(start + len(wave), n)
        if stop > start:
            out[start:stop] += wave[:stop - start]
    m = min(int(round(fade * sr)), n)
    if m > 0:
        out[n - m:] *= 0.5 * (1.0 + np.cos(np.linspace(0.0, np.pi, m)))
    peak = np.abs(out).max() if n else 0.0
    if peak > 0:
        out *= 10.0 ** (peak_dbfs / 20.0) / peak
    return out.astype(np.float32)
