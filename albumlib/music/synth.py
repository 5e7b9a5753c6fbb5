"""A small numpy synthesiser: notes (onset, duration, MIDI pitch, velocity) to a mono signal.

Additive synthesis (a sum of harmonics, each with its own amplitude and decay) shaped by an ADSR
envelope, with a spectral tilt standing in for a subtractive low-pass filter. It renders the bundled
sample music (scripts/render_sample_music.py) and needs nothing but numpy. Taught in notebook 03.

Notebook 05 adds instruments for a film soundtrack, modelled rather than additive-with-ADSR, whose
attacks stay audible under a film (beat-synced cuts land on onsets): "grand" (hammer noise,
two-stage decay, beating unison strings, damper), "bass" (28-55), "harp", "celesta" and "pad" (a
quiet, slowly swelling string pad). Their velocity sets brightness as well as level. It also adds
streaming (`iter_render`: fixed gain per note and a memoryless soft limiter, so that any chunk size
gives the same signal and nothing clips), per-part gains (`part_gains`, `balance_parts`) and an
optional SoundFont path (`render_soundfont`, with tinysoundfont, not a project dependency).
"""

import heapq
import importlib.util
import itertools
import collections
import math
import os
from pathlib import Path

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

# Notebook 05: modelled instruments. Each partial k sounds at ratio_k * f * sqrt(1 + B ratio_k^2)
# (ratios default to k = 1, 2, ...; B = inharmonicity * (f / 261.6 Hz) ** inharm_slope) with
# amplitude amps[k] tilted by a low-pass at cutoff * soft_cutoff ** (1 - velocity) Hz (a softer
# note is darker, not only quieter). Its envelope decays in two stages: a fraction w of it at
# the "fast" rate, the rest at the "slow" one, each (rate 1/s at 261.6 Hz for k = 1, growth per
# ratio) times (f / 261.6 Hz) ** pitch_decay, so higher notes and higher partials die away sooner.
# "beat" (depth, cents) lets each partial beat as three unison strings detuned by about +-cents
# do (struck in phase); "chorus" (cents, amplitude) adds detuned copies of every partial.
# "attack" is a raised-cosine rise (s); "swell" (level, seconds) lets a pad rise quickly to
# `level`, then swell to full as 1 - exp(-3 t / seconds); "release" (seconds, rate 1/s) is the
# damper at the note's end (inside its duration, as in `adsr`). "noise" (level, centre Hz,
# bandwidth as a fraction of the centre, decay s) is the hammer or finger transient, band-passed
# noise of a few ms; "thump" (level, Hz, decay s) a low knock of the key or the body. "gain" sets
# the instrument's level in a mix (the pad sits under the others).
_GRAND_AMPS = tuple(abs(math.sin(math.pi * k / 8.5)) / (math.sin(math.pi / 8.5) * k ** 1.4)
                    for k in range(1, 41))
_HARP_AMPS = tuple(abs(math.sin(math.pi * k * 0.3)) / (math.sin(math.pi * 0.3) * k)
                   for k in range(1, 21))
_MODEL = dict(ratios=None, inharmonicity=0.0, inharm_slope=0.0, cutoff=5000.0, soft_cutoff=0.2,
              fast=(0.0, 0.0, 0.0), slow=(0.0, 0.0), pitch_decay=0.0, beat=(0.0, 0.0),
              chorus=((), 0.0), attack=0.002, swell=(1.0, 0.0), release=(0.05, 40.0),
              noise=(0.0, 1000.0, 1.0, 0.002), thump=(0.0, 80.0, 0.01), vibrato=(0.0, 0.0, 0.0),
              max_hz=12000.0, gain=1.0)
MODELLED = {
    "grand": dict(_MODEL, amps=_GRAND_AMPS, inharmonicity=4e-4, inharm_slope=1.0, cutoff=4500.0,
                  soft_cutoff=0.15, fast=(0.8, 6.0, 0.3), slow=(0.35, 0.5), pitch_decay=0.6,
                  beat=(0.2, 1.0), attack=0.003, release=(0.09, 35.0),
                  noise=(0.3, 2500.0, 1.0, 0.002), thump=(0.15, 90.0, 0.012)),
    "bass": dict(_MODEL, amps=(1.0, 0.75, 0.5, 0.35, 0.22, 0.14, 0.08, 0.05, 0.03, 0.02),
                 inharmonicity=5e-5, cutoff=600.0, soft_cutoff=0.2, fast=(0.35, 4.0, 0.4),
                 slow=(0.9, 0.35), pitch_decay=0.3, attack=0.003, release=(0.05, 60.0),
                 noise=(0.15, 900.0, 1.0, 0.003)),
    "harp": dict(_MODEL, amps=_HARP_AMPS, inharmonicity=1e-4, cutoff=6000.0, soft_cutoff=0.25,
                 fast=(0.4, 3.0, 0.6), slow=(0.6, 0.4), pitch_decay=0.8, attack=0.002,
                 release=(0.12, 25.0), noise=(0.12, 3000.0, 1.0, 0.0015)),
    "celesta": dict(_MODEL, amps=(1.0, 0.15, 0.35, 0.25, 0.2, 0.08),
                    ratios=(1.0, 2.0, 2.756, 4.0, 5.404, 8.933), cutoff=3000.0, soft_cutoff=0.2,
                    fast=(0.5, 8.0, 0.8), slow=(0.7, 0.5), pitch_decay=0.5, attack=0.002,
                    release=(0.08, 40.0), noise=(0.1, 5000.0, 1.0, 0.001)),
    "pad": dict(_MODEL, amps=tuple(1.0 / k ** 1.2 for k in range(1, 11)), cutoff=1500.0,
                soft_cutoff=0.3, slow=(0.05, 0.05), chorus=((-11.0, -5.0, 4.0, 10.0), 0.4),
                attack=0.015, swell=(0.35, 0.4), release=(0.3, 8.0), vibrato=(0.003, 5.0, 0.3),
                gain=0.35),
}
INSTRUMENTS.update(MODELLED)
C4_HZ = 261.6256  # middle C, the reference pitch of the modelled decay rates


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
    if instrument in MODELLED:  # notebook 05's instruments
        return modelled_note(freq, n, sr, spec, velocity, rng)
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
                 tail=0.5, fade=0.05, legato=0.03, seed=0, part_gains=None):
    """Mix notes (onset s, duration s, MIDI pitch, velocity 0-1[, part]) to mono; notebook 03.

    The signal lasts round((last note end + tail) * sr) samples; each note sounds `legato` seconds
    past its written end so that its release overlaps the next note. `instruments` maps a part to
    an instrument name (parts it does not name, and notes without a part, use `instrument`). The
    result is peak-normalised to `peak_dbfs` and faded to 0 over its last `fade` seconds. Each
    note's random phases come from a generator seeded by (seed, note index): the same call gives
    the same signal. `part_gains` ({part: dB}, notebook 05; see `balance_parts`) sets the balance
    of the parts before the normalisation.
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
        if part_gains and part in part_gains:
            wave = wave * np.float32(part_gain(part, part_gains))
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


# Notebook 05: modelled instruments, streaming, per-part gains and an optional SoundFont path.

def partial_table(freq, sr, spec, velocity, rng):
    """Frequency, amplitude, decay rates and beating of a modelled note's partials; notebook 05.

    Returns a dict of float64 arrays, one entry per partial (chorus copies included); partials
    above `max_hz` or 0.45 sr, or 50 dB below the strongest, are left out.
    """
    amps = np.asarray(spec["amps"], np.float64)
    ratios = np.asarray(spec["ratios"] or np.arange(1, len(amps) + 1), np.float64)
    b = spec["inharmonicity"] * (freq / C4_HZ) ** spec["inharm_slope"]
    stretch = ratios * np.sqrt(1.0 + b * ratios ** 2)
    cents, side = spec["chorus"]
    detune = np.concatenate([[1.0], 2.0 ** (np.asarray(cents, np.float64) / 1200.0)])
    voice = np.concatenate([[1.0], np.full(len(cents), side)])
    f = (freq * detune[:, None] * stretch[None, :]).ravel()
    a = (voice[:, None] * amps[None, :]).ravel()
    r = np.tile(ratios, len(detune))
    cutoff = spec["cutoff"] * spec["soft_cutoff"] ** (1.0 - velocity)
    a = a / (1.0 + (f / cutoff) ** 2)  # the low-pass tilt: a softer note is darker
    keep = (f * (1.0 + spec["vibrato"][0]) < min(0.45 * sr, spec["max_hz"])) & (a > 0)
    keep &= a >= 10 ** (-50 / 20) * a[keep].max(initial=0.0)
    f, a, r = f[keep], a[keep], r[keep]
    scale = (freq / C4_HZ) ** spec["pitch_decay"]
    w, fast, fast_k = spec["fast"]
    slow, slow_k = spec["slow"]
    depth, beat_cents = spec["beat"]
    m = len(f)
    beat_hz = f * (2.0 ** (beat_cents * rng.uniform(0.5, 1.5, m) / 1200.0) - 1.0)
    return dict(f=f, a=a / max(math.sqrt(float(np.sum(a * a))), 1e-12), w=w,
                fast=fast * (1.0 + fast_k * (r - 1.0)) * scale,
                slow=slow * (1.0 + slow_k * (r - 1.0)) * scale, depth=depth, beat_hz=beat_hz,
                phase=rng.uniform(0.0, 1.0, m), beat_phase=np.zeros(m))  # strings struck in phase


def sum_partials(table, t, warp=None):
    """Sum of the table's partials at times t (s; warped times for vibrato); notebook 05.

    The inner loop of the modelled instruments, in float32: each partial's phase at the block's
    first sample is taken modulo one cycle in float64, so the float32 phases within a short block
    stay exact to about 1e-4 rad however long the note. Returns float64 of t's length.
    """
    tau = t if warp is None else warp

    def cycles(hz, first, times):  # float32 cycles in [0, 1) of sinusoids at hz
        base = hz * times[0] + first
        c = hz.astype(np.float32)[:, None] * (times - times[0]).astype(np.float32)[None, :]
        c += (base - np.floor(base)).astype(np.float32)[:, None]
        c -= np.floor(c)
        c *= np.float32(2.0 * np.pi)
        return c

    x = np.sin(cycles(table["f"], table["phase"], tau))
    t32 = t.astype(np.float32)[None, :]
    env = np.exp(-table["slow"].astype(np.float32)[:, None] * t32)
    if table["w"]:
        fast = np.exp(-table["fast"].astype(np.float32)[:, None] * t32)
        env = np.float32(table["w"]) * fast + np.float32(1.0 - table["w"]) * env
    if table["depth"]:
        beat = np.cos(cycles(table["beat_hz"], table["beat_phase"], t))
        env *= np.float32(1.0 - table["depth"]) + np.float32(table["depth"]) * beat
    x *= env
    x *= table["a"].astype(np.float32)[:, None]
    return x.sum(axis=0, dtype=np.float64)


def note_envelope(n, sr, spec):
    """Attack (raised cosine), swell and the damper's release, 0 at both ends; notebook 05."""
    t = np.arange(n) / sr
    attack = max(spec["attack"], 1.0 / sr)
    release, rate = spec["release"]
    if attack + release > n / sr:  # a short note: shrink both in proportion
        shrink = n / sr / (attack + release)
        attack, release = attack * shrink, release * shrink
    env = 0.5 - 0.5 * np.cos(np.pi * np.clip(t / attack, 0.0, 1.0))
    level, swell = spec["swell"]
    if swell > 0:  # steepest at the start, so the swell adds no onset of its own
        env *= level + (1.0 - level) * -np.expm1(-3.0 * t / swell)
    off = n / sr - release  # the damper falls on the strings
    after = np.clip(t - off, 0.0, None)
    env *= np.exp(-rate * after) * np.clip(1.0 - after / max(release, 1.0 / sr), 0.0, 1.0)
    env[0] = env[-1] = 0.0
    return env


def transient(n, sr, spec, velocity, rng):
    """The hammer or finger noise (band-passed, a few ms) plus a low knock; notebook 05."""
    level, centre, width, decay = spec["noise"]
    knock, knock_hz, knock_decay = spec["thump"]
    m = min(n, int(round((spec["attack"] + 8 * max(decay, knock_decay)) * sr)))
    out = np.zeros(n)
    if m < 2:
        return out
    t = np.arange(m) / sr
    rise = 0.5 - 0.5 * np.cos(np.pi * np.clip(t / max(spec["attack"], 1.0 / sr), 0.0, 1.0))
    fall = np.exp(-np.clip(t - spec["attack"], 0.0, None) / max(decay, 1e-4))
    noise = rng.standard_normal(m)
    if level:
        hz = np.fft.rfftfreq(m, 1.0 / sr)
        fc = centre * (0.5 + 0.5 * velocity)  # a harder hit is brighter
        band = np.fft.irfft(np.fft.rfft(noise) / (1.0 + ((hz - fc) / (width * fc)) ** 2), m)
        out[:m] += level * velocity * rise * fall * band / max(np.abs(band).max(), 1e-12)
    if knock:
        fall = np.exp(-np.clip(t - spec["attack"], 0.0, None) / knock_decay)
        out[:m] += knock * rise * fall * np.sin(2 * np.pi * knock_hz * t)
    return out


def modelled_note(freq, n, sr, spec, velocity, rng, block=2048):
    """One note of a modelled instrument (MODELLED): n samples, float32; notebook 05.

    The partials are summed `block` samples at a time, so a long held note needs little more
    memory than its own samples. The level is velocity * gain (the partials' amplitudes are
    normalised to unit energy).
    """
    table = partial_table(freq, sr, spec, velocity, rng)
    depth, rate, delay = spec["vibrato"]
    vib_phase = rng.uniform(0, 2 * np.pi)
    wave = np.zeros(n)
    for start in range(0, n, block):
        t = np.arange(start, min(start + block, n)) / sr
        warp = None
        if depth:  # time warped so that the frequency is f (1 + depth ramp sin(...))
            ramp = np.clip((t - delay) / 0.2, 0.0, 1.0)
            warp = t - ramp * depth / (2 * np.pi * rate) * np.cos(2 * np.pi * rate * t + vib_phase)
        wave[start:start + len(t)] = sum_partials(table, t, warp)
    wave += transient(n, sr, spec, velocity, rng)
    wave *= note_envelope(n, sr, spec)
    return (spec["gain"] * velocity * wave).astype(np.float32)


def soft_limit(x, knee=0.6, ceiling=0.99):
    """Memoryless soft limiter: x below `knee`, tanh-shaped towards `ceiling` above; notebook 05.

    Continuous with slope 1 at the knee, so quiet passages pass untouched and a peak can never
    exceed `ceiling`. Sample by sample, so a stream limited in chunks of any size is the same.
    """
    x = np.asarray(x, np.float64)
    mag = np.abs(x)
    over = mag > knee
    if not over.any():
        return x.copy()
    y = x.copy()
    room = ceiling - knee
    y[over] = np.sign(x[over]) * (knee + room * np.tanh((mag[over] - knee) / room))
    return y


def _checked_note(nt, index, previous_onset=None):
    """(onset, duration, pitch, velocity, part) of a note, validated; notebook 05."""
    nt = tuple(nt)
    onset, duration, pitch, velocity = (float(x) for x in nt[:4])
    if onset < 0 or duration < 0:
        raise ValueError(f"note {index}: onset and duration must be >= 0, got {nt}")
    if previous_onset is not None and onset < previous_onset:
        raise ValueError(f"note {index}: streaming needs notes sorted by onset, but this one "
                         f"starts at {onset} s, before the previous note ({previous_onset} s); "
                         "sort them, or use render_notes")
    return onset, duration, pitch, velocity, (nt[4] if len(nt) > 4 else None)


def part_gain(part, part_gains):
    """Linear gain of a part from `part_gains` ({part: dB}; 1.0 if it is not named); notebook 05."""
    if not part_gains or part not in part_gains:
        return 1.0
    return 10.0 ** (float(part_gains[part]) / 20.0)


def balance_parts(notes, lead=None, lead_db=3.0, max_db=12.0):
    """{part: dB} that evens out the parts' loudness, the `lead` part `lead_db` above; notebook 05.

    A part's loudness is estimated from its notes alone: sum(velocity^2 * duration) over the
    time it spans (chords and busy lines weigh more). Each part gets the gain that brings it to the
    parts' mean, within +-max_db. Pass the result as render_notes or iter_render's `part_gains`.
    """
    power, first, last = {}, {}, {}
    for i, nt in enumerate(notes):
        onset, duration, _, velocity, part = _checked_note(nt, i)
        power[part] = power.get(part, 0.0) + velocity * velocity * max(duration, 1e-3)
        first[part] = min(first.get(part, onset), onset)
        last[part] = max(last.get(part, 0.0), onset + duration)
    level = {p: 10 * math.log10(max(power[p] / max(last[p] - first[p], 1e-3), 1e-12))
             for p in power}
    if not level:
        return {}
    mean = sum(level.values()) / len(level)
    gains = {p: float(np.clip(mean - v, -max_db, max_db)) for p, v in level.items()}
    if lead in gains:
        gains[lead] += lead_db
    return gains


def _stream_voices(notes, sr, instrument, instruments, seed, gain, part_gains, legato,
                   cache_notes=0):
    """(first sample, float64 wave, written end s) of each note, in onset order; notebook 05.

    With cache_notes > 0, a note's wave depends only on (instrument, pitch, length, velocity,
    seed) and the last cache_notes distinct ones are kept, so a repeated note is rendered once.
    """
    previous, cache = None, collections.OrderedDict()
    for i, nt in enumerate(notes):
        onset, duration, pitch, velocity, part = _checked_note(nt, i, previous)
        previous = onset
        name = instruments.get(part, instrument) if instruments else instrument
        key = (name, float(pitch), int(round((duration + legato) * sr)), round(velocity, 3))
        wave = cache.get(key) if cache_notes else None
        if wave is None:
            note_seed = [seed, i] if not cache_notes else \
                [seed, int(round(pitch * 100)), key[2], int(round(velocity * 1000))]
            wave = note_wave(midi_to_hz(pitch), duration + legato, sr, name, velocity,
                             seed=note_seed).astype(np.float32)
            if cache_notes:
                cache[key] = wave
                if len(cache) > cache_notes:
                    cache.popitem(last=False)
        elif cache_notes:
            cache.move_to_end(key)
        scale = gain * part_gain(part, part_gains)
        yield int(round(onset * sr)), wave.astype(np.float64) * scale, onset + duration


def iter_render(notes, sr=SAMPLE_RATE, chunk_seconds=10.0, instrument="organ", instruments=None,
                seed=0, level_dbfs=-15.0, part_gains=None, legato=0.03, tail=0.5, knee=0.6,
                ceiling=0.99, cache_notes=0):
    """Render notes sorted by onset as consecutive float32 chunks (a generator); notebook 05.

    Notes (onset s, duration s, MIDI pitch, velocity 0-1[, part]) may come from any iterable, a
    lazy one included: only the notes sounding in the current chunk are held, and each chunk
    adds the notes that start in it and carries their tails into the next. A note starting
    before the one before it raises ValueError when it is reached. Chunks hold round(chunk_seconds
    * sr) samples (the last may be shorter); the stream ends `tail` seconds after the last
    written note end, or when the last note's sound ends if that is later.

    The peak of the whole cannot be known in advance, so nothing is normalised: each note is
    scaled by a fixed gain, velocity * 10 ** (level_dbfs / 20) (times its part's gain in dB from
    `part_gains`): one note at velocity 1 peaks near level_dbfs, so the default -15 dBFS leaves
    room for about six loud voices. The mix then goes through `soft_limit` (untouched below
    `knee`, never above `ceiling`), which works sample by sample: the chunks joined are the same
    signal, bit for bit, whatever the chunk size. Same notes and seed, same signal (see
    `render_stream`; the notes are seeded as in `render_notes`, with the same legato).
    cache_notes > 0 renders a note met again (same instrument, pitch, length and velocity) from
    a cache of that many notes instead (its random phases then come from the note, not its
    index): music on a grid repeats its notes, and this is several times faster.
    """
    size = int(round(chunk_seconds * sr))
    if size < 1:
        raise ValueError(f"chunk_seconds must give at least one sample, got {chunk_seconds}")
    voices = _stream_voices(notes, sr, instrument, instruments, seed, 10.0 ** (level_dbfs / 20.0),
                            part_gains, legato, cache_notes)
    upcoming, active, pos, end = next(voices, None), [], 0, int(round(tail * sr))
    while True:
        stop = pos + size
        while upcoming is not None and upcoming[0] < stop:  # the notes starting in this chunk
            start, wave, written_end = upcoming
            active.append((start, wave))
            end = max(end, int(round((written_end + tail) * sr)), start + len(wave))
            upcoming = next(voices, None)
        if upcoming is None:
            stop = min(stop, end)
        if stop <= pos:
            return
        out = np.zeros(stop - pos)
        for start, wave in active:
            lo, hi = max(start, pos), min(start + len(wave), stop)
            if hi > lo:
                out[lo - pos:hi - pos] += wave[lo - start:hi - start]
        active = [(start, wave) for start, wave in active if start + len(wave) > stop]
        yield soft_limit(out, knee, ceiling).astype(np.float32)
        pos = stop


def render_stream(notes, sr=SAMPLE_RATE, chunk_seconds=10.0, **kwargs):
    """The chunks of `iter_render` joined into one float32 signal (short pieces); notebook 05."""
    chunks = list(iter_render(notes, sr, chunk_seconds, **kwargs))
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


# General MIDI programs (0-based) near each of our instruments, for the SoundFont path.
GM_PROGRAMS = {"grand": 0, "piano": 1, "celesta": 8, "organ": 19, "pluck": 24, "bass": 33,
               "harp": 46, "strings": 48, "pad": 89}
SOUNDFONT_PATHS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/soundfonts/default.sf2",
                   "/usr/share/soundfonts/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2")
_SOUNDFONT_BLOCK = 4096  # tinysoundfont renders on this fixed grid, whatever the chunk size
_TSF_INSTALL = ("the SoundFont path needs tinysoundfont (MIT; not a project dependency): "
                "pip install --no-deps tinysoundfont  (its pyaudio dependency is for live "
                "playback only)")


def find_soundfont():
    """A General MIDI SoundFont (.sf2) on this machine, or None; notebook 05.

    Looks at $ALBUM_SOUNDFONT, then the TimGM6mb.sf2 inside an installed pretty_midi package
    (found without importing it), then common Debian paths (SOUNDFONT_PATHS). A path that is not
    a file is passed over.
    """
    candidates = [os.environ.get("ALBUM_SOUNDFONT", "")]
    spec = importlib.util.find_spec("pretty_midi")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidates.append(os.path.join(folder, "TimGM6mb.sf2"))
    for path in candidates + list(SOUNDFONT_PATHS):
        if path and Path(path).is_file():
            return Path(path)
    return None


def soundfont_available(sf2_path=None):
    """Whether tinysoundfont imports and a SoundFont (sf2_path or found) exists; notebook 05."""
    if importlib.util.find_spec("tinysoundfont") is None:
        return False
    path = sf2_path or find_soundfont()
    return path is not None and Path(path).is_file()


def _tinysoundfont():
    """Import tinysoundfont lazily, or raise ImportError saying how to install it; notebook 05."""
    try:
        import tinysoundfont
    except ImportError as err:
        raise ImportError(_TSF_INSTALL) from err
    return tinysoundfont


def _soundfont_synth(tsf, sf2_path, sr, gain_db):
    """A tinysoundfont Synth with the SoundFont loaded: (synth, SoundFont id); notebook 05."""
    path = sf2_path or find_soundfont()
    if path is None or not Path(path).is_file():
        raise FileNotFoundError(f"no SoundFont at {path!r}: pass sf2_path, or set ALBUM_SOUNDFONT "
                                "to a General MIDI .sf2 file")
    synth = tsf.Synth(gain=gain_db, samplerate=int(sr))
    return synth, synth.sfload(str(path))


def _soundfont_events(notes, sr):
    """(sample, "on"/"off", part, key, velocity 1-127) in time order, note-offs first; notebook 05.

    Lazy: the notes are read as the events are consumed, and must come sorted by onset.
    """
    offs, previous = [], None
    for i, nt in enumerate(notes):
        onset, duration, pitch, velocity, part = _checked_note(nt, i, previous)
        previous, start = onset, int(round(onset * sr))
        while offs and offs[0][0] <= start:
            sample, _, off_part, off_key = heapq.heappop(offs)
            yield sample, "off", off_part, off_key, 0
        key = int(round(pitch))
        yield start, "on", part, key, max(1, min(127, int(round(velocity * 127))))
        heapq.heappush(offs, (int(round((onset + duration) * sr)), i, part, key))
    while offs:
        sample, _, off_part, off_key = heapq.heappop(offs)
        yield sample, "off", off_part, off_key, 0


def _program_number(value):
    """A GM program (0-127) from a number or an instrument name of GM_PROGRAMS; notebook 05."""
    number = GM_PROGRAMS.get(value, value) if isinstance(value, str) else value
    if not isinstance(number, (int, np.integer)) or not 0 <= number <= 127:
        raise ValueError(f"a GM program is 0-127 or one of {sorted(GM_PROGRAMS)}, got {value!r}")
    return int(number)


def _soundfont_blocks(notes, sr, sf2_path, programs, program, gain_db, tail):
    """Mono float64 blocks from tinysoundfont, cut at events and on a fixed grid; notebook 05.

    Each part gets a MIDI channel of its own (9, the drums, is skipped), set to its program. A
    note-off is sent when the last sounding note of that key in that channel ends.
    """
    tsf = _tinysoundfont()
    synth, sfid = _soundfont_synth(tsf, sf2_path, sr, gain_db)
    free, channels, held = [c for c in range(16) if c != 9], {}, {}
    pos, end = 0, int(round(tail * sr))
    for sample, kind, part, key, velocity in itertools.chain(
            _soundfont_events(notes, sr), [(None, "end", None, 0, 0)]):
        target = end if sample is None else sample
        while pos < target:  # render up to the event, on the fixed grid
            stop = min(target, (pos // _SOUNDFONT_BLOCK + 1) * _SOUNDFONT_BLOCK)
            stereo = np.frombuffer(synth.generate_simple(stop - pos), np.float32)
            yield stereo.reshape(-1, 2).mean(axis=1, dtype=np.float64)
            pos = stop
        if sample is None:
            return
        if part not in channels:
            if not free:
                raise ValueError("the SoundFont path plays at most 15 parts (MIDI channels)")
            channels[part] = free.pop(0)
            number = _program_number((programs or {}).get(part, program))
            synth.program_select(channels[part], sfid, 0, number)
        chan = channels[part]
        count = held.get((chan, key), 0) + (1 if kind == "on" else -1)
        held[(chan, key)] = count
        if kind == "on":
            synth.noteon(chan, key, velocity)
        elif count == 0:
            synth.noteoff(chan, key)
        end = max(end, sample + int(round(tail * sr)))


def _rechunk(blocks, size):
    """Regroup arrays into consecutive ones of `size` samples (the last shorter); notebook 05."""
    pending, have = [], 0
    for block in blocks:
        pending.append(block)
        have += len(block)
        while have >= size:
            joined = np.concatenate(pending)
            yield joined[:size]
            pending, have = [joined[size:]], have - size
    if have:
        yield np.concatenate(pending)


def iter_render_soundfont(notes, sf2_path=None, sr=SAMPLE_RATE, chunk_seconds=10.0,
                          programs=None, program=0, gain_db=-8.0, tail=1.0, knee=0.6,
                          ceiling=0.99):
    """Render notes sorted by onset with a SoundFont (tinysoundfont), chunk by chunk; notebook 05.

    `programs` maps a part to a General MIDI program (0-127, or an instrument name of
    GM_PROGRAMS such as "grand" or "bass"); other parts play `program`. Velocity 0-1 becomes MIDI
    1-127; the synthesiser's stereo output is averaged to mono, scaled by `gain_db` (no
    normalisation; the default -8 dB puts TimGM6mb.sf2 near `iter_render`'s level) and
    soft-limited as in `iter_render`. tinysoundfont renders on a fixed grid of
    blocks cut at the note events, whatever the chunk size, so the chunks joined are the same
    signal for any chunk_seconds. The stream ends `tail` seconds after the last note-off.
    Needs `pip install --no-deps tinysoundfont` (ImportError otherwise) and a SoundFont
    (sf2_path, or `find_soundfont()`).
    """
    size = int(round(chunk_seconds * sr))
    if size < 1:
        raise ValueError(f"chunk_seconds must give at least one sample, got {chunk_seconds}")
    blocks = _soundfont_blocks(notes, sr, sf2_path, programs, program, gain_db, tail)
    for chunk in _rechunk(blocks, size):
        yield soft_limit(chunk, knee, ceiling).astype(np.float32)


def render_soundfont(notes, sf2_path=None, sr=SAMPLE_RATE, programs=None, **kwargs):
    """Render notes with a SoundFont in one go: `iter_render_soundfont` joined; notebook 05."""
    chunks = list(iter_render_soundfont(notes, sf2_path, sr, programs=programs, **kwargs))
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
