"""Signal plumbing shared by the music measures and the film (numpy only, no phase of its own).

Mono signals, Hann windows, STFT frames and spectra in chunks of frames (memory bounded however
long the signal), mean squares of blocks of samples, a gated RMS fed in pieces, and rounding half
up (for frame and sample counts). Used by `albumlib.beats` (onset envelope) and
`albumlib.music.metrics` (spectra, silence), with which notebooks 03 and 05 measure music, and by
`albumlib.film.soundtrack`, which normalises the soundtrack with `GatedRms` in notebook 06.
"""

import math

import numpy as np


def round_half_up(x):
    """Round half up (Python's round() rounds half to even, which makes timelines uneven);
    frame and sample counts of the film, notebook 06."""
    return int(math.floor(x + 0.5))


def as_mono(signal, dtype=np.float32, name="signal"):
    """Signal (n,) or (n, channels) as a 1-D `dtype` array (channel mean); no copy if already."""
    x = np.asarray(signal, dtype=dtype)
    if x.ndim == 2:
        x = x.mean(axis=1, dtype=dtype)
    if x.ndim != 1:
        raise ValueError(f"{name}: expected a signal of shape (n,) or (n, channels), got {x.shape}")
    return x


def hann(n, periodic=True):
    """Hann window of n float64 points: periodic (for spectra) or symmetric (np.hanning)."""
    return np.hanning(n + 1)[:-1] if periodic else np.hanning(n)


def frames(x, n_fft, hop):
    """(1 + (len(x) - n_fft) // hop, n_fft) strided view of 1-D x: frames of n_fft every hop."""
    n_fft, hop = int(n_fft), int(hop)
    if n_fft < 2 or hop < 1:
        raise ValueError(f"need n_fft >= 2 and hop >= 1, got n_fft={n_fft}, hop={hop}")
    if np.ndim(x) != 1 or len(x) < n_fft:
        raise ValueError(f"need a 1-D signal of at least n_fft={n_fft} samples, got shape "
                         f"{np.shape(x)}")
    return np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]


def stft(x, n_fft, hop, window, power=False):
    """rfft of each `frames` of x times window, (frames, n_fft//2+1); |X|^2 when `power`."""
    spectra = np.fft.rfft(frames(x, n_fft, hop) * window, axis=1)
    return spectra.real ** 2 + spectra.imag ** 2 if power else spectra


def stft_chunks(x, n_fft, hop, window, chunk=2048, power=False):
    """Yield (frames, their `stft`) for each run of `chunk` frames of x: O(chunk n_fft) memory."""
    n_fft, hop, chunk = int(n_fft), int(hop), int(chunk)
    n = len(frames(x, n_fft, hop))
    for start in range(0, n, chunk):
        part = x[start * hop:(min(n, start + chunk) - 1) * hop + n_fft]
        yield frames(part, n_fft, hop), stft(part, n_fft, hop, window, power)


def block_mean_squares(x, block, tail=True):
    """Mean square of each run of `block` samples of 1-D x, float64; a last shorter run counts
    when `tail` or when it is all of x."""
    x, block = np.asarray(x, dtype=np.float64), int(block)
    if block < 1 or x.ndim != 1:
        raise ValueError(f"need a 1-D signal and block >= 1, got shape {x.shape}, block {block}")
    if not tail and x.size >= block:
        x = x[:x.size // block * block]
    starts = np.arange(0, x.size, block)
    return np.add.reduceat(x * x, starts) / np.diff(np.append(starts, x.size))


class GatedRms:
    """Running gated mean square and peak of a signal added in pieces (whole blocks each)."""

    def __init__(self, block, gate_dbfs=-50.0):
        self.block, self.gate = int(block), 10 ** (gate_dbfs / 10)
        self.total, self.count, self.peak = 0.0, 0, 0.0

    def add(self, piece):
        """Add the next piece (a trailing part of less than a block counts only for the peak,
        unless it is the whole piece); blocks quieter than gate_dbfs are silence."""
        part = np.asarray(piece, dtype=np.float64)
        if part.size == 0:
            return
        self.peak = max(self.peak, float(np.abs(part).max()))
        ms = block_mean_squares(part, self.block, tail=False)
        loud = ms[ms > self.gate]
        self.total += float(loud.sum())
        self.count += loud.size

    def gain(self, target_dbfs, peak_dbfs):
        """The gain that brings the gated RMS to target_dbfs, the peak to at most peak_dbfs."""
        if self.count == 0 or self.peak == 0:
            return 1.0
        return min(10 ** (target_dbfs / 20) / math.sqrt(self.total / self.count),
                   10 ** (peak_dbfs / 20) / self.peak)
