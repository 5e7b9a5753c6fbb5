"""Onsets of music: a spectral-flux onset-strength envelope and peak picking (notebook 06).

Used by `albumlib.film.assemble` to cut photos on the music (``make_video(..., beat_sync=True)``)
and by `albumlib.music.metrics` to measure music; numpy and scipy only. The envelope is the
half-wave rectified frame-to-frame increase of the log-compressed STFT magnitude (spectral flux),
computed in blocks of frames so memory stays bounded for long songs. Onsets are local maxima of
that envelope that stand out from its moving median by a fraction of the largest such excess.
"""

import numpy as np

from albumlib import dsp

DEFAULT_HOP = 512      # 11.6 ms at 44.1 kHz: finer than one video frame at 30 or 60 fps
DEFAULT_N_FFT = 1024   # 23 ms window: short enough to place a click within a hop or two


def _segment(x, first, length):
    """x[first:first + length], with x extended by its odd mirror image before 0 and by zeros
    after its end (so that a signal's start is no onset), as float32 without NaN or inf."""
    seg = np.zeros(length, dtype=np.float32)
    lo, hi = max(first, 0), min(first + length, x.size)
    if hi > lo:
        seg[lo - first:hi - first] = x[lo:hi]
    if first < 0 and x.size > 1:
        k = np.arange(first, min(0, first + length))          # negative positions
        inside = -k < x.size
        seg[k[inside] - first] = 2 * x[0] - x[-k[inside]]
    return np.nan_to_num(seg, copy=False, nan=0.0, posinf=0.0, neginf=0.0)


def onset_strength(signal, sr, hop=DEFAULT_HOP, n_fft=DEFAULT_N_FFT, compression=1.0,
                   block_frames=2048):
    """Spectral-flux onset envelope: returns (envelope float32 (m,), times in seconds (m,)).

    Frame j is centred on sample j * hop, so `times[j] = j * hop / sr`; the signal is extended
    by its odd mirror image at its start (so the start itself is no onset) and by zeros at its
    end. envelope[j] = sum over bins of max(0, log1p(c|X_j|) - log1p(c|X_{j-1}|)), envelope[0] = 0.
    Frames are processed `block_frames` at a time: beyond the signal itself, memory is
    O(block_frames * n_fft) whatever its length.
    """
    x = dsp.as_mono(signal)
    sr, hop, n_fft = int(sr), int(hop), int(n_fft)
    if sr < 1 or hop < 1 or n_fft < 2 or int(block_frames) < 1:
        raise ValueError(f"need sr, hop, block_frames >= 1 and n_fft >= 2, got {sr}, {hop}, "
                         f"{block_frames}, {n_fft}")
    n_frames = x.size // hop + 1 if x.size else 0
    env = np.zeros(n_frames, dtype=np.float32)
    if n_frames == 0:
        return env, np.zeros(0)
    half = n_fft // 2
    window = dsp.hann(n_fft, periodic=False).astype(np.float32)
    previous = None
    for start in range(0, n_frames, int(block_frames)):
        stop = min(n_frames, start + int(block_frames))
        seg = _segment(x, start * hop - half, (stop - start - 1) * hop + n_fft)
        spectra = dsp.stft(seg, n_fft, hop, window)
        logmag = np.log1p(np.float32(compression) * np.abs(spectra))
        logmag = logmag.astype(np.float32)
        if previous is None:
            previous = logmag[:1]
        diff = np.diff(np.concatenate([previous, logmag]), axis=0)
        env[start:stop] = np.maximum(diff, 0.0).sum(axis=1)
        previous = logmag[-1:]
    env[0] = 0.0
    return env, np.arange(n_frames) * (hop / sr)


def pick_peaks(envelope, times, min_interval=0.1, threshold=0.1, spread=5.0,
               median_seconds=0.5):
    """Times of the envelope's peaks that stand out from its moving median; ascending seconds.

    A peak counts when its excess (envelope - moving median over `median_seconds`) reaches both
    `threshold` times the largest excess of the whole envelope and `spread` robust standard
    deviations (1.4826 x median absolute deviation) of the excess; of peaks closer than
    `min_interval` seconds the strongest is kept. A silent envelope gives no peaks.
    """
    from scipy.ndimage import median_filter
    from scipy.signal import find_peaks

    env = np.asarray(envelope, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    if env.shape != times.shape or env.ndim != 1:
        raise ValueError(f"envelope and times must be 1-D of one length, got {env.shape}, "
                         f"{times.shape}")
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    if env.size < 3:
        return np.zeros(0)
    step = float(times[1] - times[0])
    size = max(3, int(round(median_seconds / step)) | 1)
    excess = env - median_filter(env, size=size, mode="nearest")
    top = float(excess.max())
    if top <= 1e-6:
        return np.zeros(0)
    distance = max(1, int(round(min_interval / step)))
    mad = 1.4826 * float(np.median(np.abs(excess - np.median(excess))))
    height = max(threshold * top, spread * mad)
    peaks, _ = find_peaks(excess, height=height, distance=distance)
    return times[peaks]


def detect_onsets(signal, sr, hop=DEFAULT_HOP, n_fft=DEFAULT_N_FFT, min_interval=0.1,
                  threshold=0.1, spread=5.0):
    """Onset times (seconds, ascending float64) of a mono or multichannel signal; notebook 06.

    A click, drum hit or note start is placed within about one hop (12 ms at 44.1 kHz). Silence
    gives an empty array.
    """
    env, times = onset_strength(signal, sr, hop=hop, n_fft=n_fft)
    return pick_peaks(env, times, min_interval=min_interval, threshold=threshold,
                      spread=spread)
