"""FFT blocks, the report's representation of music, their scaling and sequences (notebook 03).

Cut a mono signal (albumlib.audio) into blocks of 44,100 samples (the last zero-padded), FFT each
block and concatenate real and imaginary parts (88,200 features per block), scale to [-1, 1], and
make sequences of 10 blocks whose label is the input shifted by one block. numpy and scipy only:
no TensorFlow here. Every function leaves its inputs alone.
"""

import dataclasses

import numpy as np

KINDS = ("fft", "rfft")
SCALE_METHODS = ("global", "per_bin")


# ---------------------------------------------------------------------------------------------
# FFT blocks: the report's representation
# ---------------------------------------------------------------------------------------------

def n_features(block_size=44100, kind="fft"):
    """Features per block: 2 * block_size (fft), 2 * (block_size // 2 + 1) (rfft); notebook 03."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return 2 * int(block_size) if kind == "fft" else 2 * (int(block_size) // 2 + 1)


def to_blocks(signal, block_size=44100):
    """Cut a 1-D signal into float64 rows of `block_size` samples, last zero-padded; notebook 03."""
    x = np.asarray(signal)
    if x.ndim != 1:
        raise ValueError(f"expected a mono signal of shape (n,), got {x.shape}")
    if int(block_size) < 1:
        raise ValueError(f"block_size must be positive, got {block_size!r}")
    n_blocks = -(-x.size // int(block_size))
    padded = np.zeros(n_blocks * int(block_size), dtype=np.float64)
    padded[:x.size] = x
    return padded.reshape(n_blocks, int(block_size))


_FFT_GROUP = 8  # blocks per scipy.fft call: their float32 spectra stay in the CPU's cache


def fft_blocks_with_stats(signal, block_size, kind, stats=None):
    """FFT blocks of a 1-D signal (see `to_fft_blocks`), computed a few blocks at a time.

    Each group of blocks is transformed in float32 by `scipy.fft.rfft` (all cores) and written
    straight into the preallocated output; for "fft" the upper half of each spectrum is filled
    in by Hermitian symmetry (X[n - k] = conj X[k] for a real block: the same numbers). With
    `stats` (a `SpectrumStats`), the statistics of each group are added while it is in cache.
    """
    import scipy.fft

    features = n_features(block_size, kind)
    x = np.asarray(signal)
    if x.ndim != 1:
        raise ValueError(f"expected a mono signal of shape (n,), got {x.shape}")
    if int(block_size) < 1:
        raise ValueError(f"block_size must be positive, got {block_size!r}")
    n = int(block_size)
    half, m = n // 2 + 1, n - (n // 2 + 1)   # rfft bins; bins mirrored
    imag = n if kind == "fft" else half      # first column of the imaginary parts
    n_blocks, n_full = -(-x.size // n), x.size // n
    out = np.empty((n_blocks, features), dtype=np.float32)
    full = x[:n_full * n].reshape(n_full, n) if x.dtype == np.float32 else None
    for first in range(0, n_blocks, _FFT_GROUP):
        stop = min(first + _FFT_GROUP, n_blocks)
        if full is not None and stop <= n_full:
            blocks = full[first:stop]  # a view: no copy
        else:
            blocks = np.zeros((stop - first, n), dtype=np.float32)
            piece = x[first * n:stop * n]
            blocks.reshape(-1)[:piece.size] = piece
        spectra = scipy.fft.rfft(blocks, axis=1, workers=-1)  # complex64 (rows, half)
        rows = out[first:stop]
        rows[:, :half], rows[:, imag:imag + half] = spectra.real, spectra.imag
        if kind == "fft" and m > 0:  # bins half..n-1: the conjugates of bins m..1
            rows[:, half:n] = spectra.real[:, m:0:-1]
            np.negative(spectra.imag[:, m:0:-1], out=rows[:, n + half:])
        if stats is not None:
            stats.add(spectra)
    return out


class SpectrumStats:
    """Running BlockStats of FFT blocks, summed in float64 from their rfft halves only.

    The mirrored half of an "fft" block holds the same numbers (imaginary parts negated), so
    its sums are the same sums (negated): `block_stats()` mirrors them, exactly.
    """

    def __init__(self, block_size, kind):
        self.block_size, self.kind = int(block_size), kind
        half = self.block_size // 2 + 1
        self.n, self.max_abs = 0, 0.0
        self.total, self.total_sq = np.zeros(2 * half), np.zeros(2 * half)  # re0, im0, re1, ...
        self._wide = np.empty((0, 2 * half))

    def add(self, spectra):
        """Add the blocks whose rfft spectra (complex64, (rows, half)) are given."""
        parts = spectra.view(np.float32)  # (rows, 2 * half), no copy
        if self._wide.shape[0] < parts.shape[0]:
            self._wide = np.empty(parts.shape)
        wide = self._wide[:parts.shape[0]]
        np.copyto(wide, parts)
        self.total += wide.sum(axis=0)
        np.multiply(wide, wide, out=wide)
        self.total_sq += wide.sum(axis=0)
        if parts.size:
            self.max_abs = max(self.max_abs, float(parts.max()), -float(parts.min()))
        self.n += parts.shape[0]

    def block_stats(self):
        """BlockStats of all the blocks added, laid out as the features."""
        n = self.block_size
        half, m = n // 2 + 1, n - (n // 2 + 1)
        imag = n if self.kind == "fft" else half
        sums = []
        for t, sign in ((self.total, -1.0), (self.total_sq, 1.0)):  # mirrored imag: negated
            re, im, s = t[0::2], t[1::2], np.empty(n_features(n, self.kind))
            s[:half], s[imag:imag + half] = re, im
            if self.kind == "fft" and m > 0:
                s[half:n], s[n + half:] = re[m:0:-1], sign * im[m:0:-1]
            sums.append(s)
        return BlockStats(self.n, self.max_abs, *sums)


def to_fft_blocks(signal, block_size=44100, kind="fft"):
    """Signal -> float32 (n_blocks, features): FFT per block, real then imaginary; notebook 03.

    Blocks as `to_blocks` cuts them (the last zero-padded), transformed in float32 precision.
    """
    return fft_blocks_with_stats(signal, block_size, kind)


def from_fft_blocks(blocks, kind="fft", length=None, block_size=None):
    """Invert `to_fft_blocks`: real part of each inverse FFT, joined, cut to `length`; notebook 05.

    A predicted spectrum need not be Hermitian, so its inverse FFT is complex: the real part is
    taken on purpose. For "rfft" give `block_size` when it is odd (default 2 * (bins - 1)).
    """
    b = np.asarray(blocks, dtype=np.float32)
    if b.ndim != 2 or b.shape[1] % 2:
        raise ValueError(f"expected FFT blocks of shape (n_blocks, even features), got {b.shape}")
    half = b.shape[1] // 2
    spectra = b[:, :half].astype(np.float64) + 1j * b[:, half:].astype(np.float64)
    if kind == "fft":
        signal = np.fft.ifft(spectra, axis=1).real
    elif kind == "rfft":
        n = int(block_size) if block_size else 2 * (half - 1)
        if n // 2 + 1 != half:
            raise ValueError(f"block_size {n} does not give {half} rfft bins")
        signal = np.fft.irfft(spectra, n=n, axis=1)
    else:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    signal = signal.reshape(-1).astype(np.float32)
    return signal if length is None else signal[:int(length)]


# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class BlockStats:
    """Sums that define a scaler: block count, max |x|, per-feature sum and sum of squares."""

    n: int
    max_abs: float
    total: np.ndarray      # float64 (features,)
    total_sq: np.ndarray   # float64 (features,)

    @classmethod
    def of(cls, blocks):
        """Statistics of an array of blocks (n_blocks, features), summed in float64."""
        b = np.asarray(blocks)
        if b.ndim != 2:
            raise ValueError(f"expected blocks of shape (n_blocks, features), got {b.shape}")
        b64 = b.astype(np.float64)
        return cls(b.shape[0], float(np.abs(b).max()) if b.size else 0.0,
                   b64.sum(axis=0), np.square(b64).sum(axis=0))

    def __add__(self, other):
        return BlockStats(self.n + other.n, max(self.max_abs, other.max_abs),
                          self.total + other.total, self.total_sq + other.total_sq)


@dataclasses.dataclass
class Scaler:
    """Invertible scaling: "global" x / max|x| (the report) or "per_bin" (x - mean) / std."""

    method: str
    scale: float = 1.0
    mean: np.ndarray = None
    std: np.ndarray = None

    def transform(self, blocks):
        """Scale blocks (any leading shape, features last) to float32; notebook 03."""
        x = np.asarray(blocks, dtype=np.float32)
        if self.method == "global":
            return x / np.float32(self.scale)
        return ((x - self.mean) / self.std).astype(np.float32)

    def inverse(self, scaled):
        """Undo `transform` (float32); notebook 05."""
        x = np.asarray(scaled, dtype=np.float32)
        if self.method == "global":
            return x * np.float32(self.scale)
        return (x * self.std + self.mean).astype(np.float32)

    def to_dict(self):
        """A JSON-ready dict (no pickle); notebook 04."""
        d = {"method": self.method, "scale": float(self.scale)}
        if self.method == "per_bin":
            d.update(mean=self.mean.tolist(), std=self.std.tolist())
        return d

    @classmethod
    def from_dict(cls, d):
        """Rebuild a Scaler from `to_dict`'s output; notebook 05."""
        if d.get("method") not in SCALE_METHODS:
            raise ValueError(f"unknown scaler method {d.get('method')!r}")
        if d["method"] == "global":
            return cls("global", scale=float(d["scale"]))
        return cls("per_bin", mean=np.asarray(d["mean"], dtype=np.float32),
                   std=np.asarray(d["std"], dtype=np.float32))


def scaler_from_stats(stats, method="global", std_floor=1e-4):
    """Scaler from BlockStats; per-bin stds below std_floor * max std are raised; notebook 03."""
    if method not in SCALE_METHODS:
        raise ValueError(f"method must be one of {', '.join(SCALE_METHODS)}, got {method!r}")
    if stats.n < 1:
        raise ValueError("cannot fit a scaler to zero blocks")
    if method == "global":
        return Scaler("global", scale=stats.max_abs if stats.max_abs > 0 else 1.0)
    mean = stats.total / stats.n
    std = np.sqrt(np.maximum(stats.total_sq / stats.n - mean * mean, 0.0))
    floor = std_floor * std.max()
    std = np.where(std > floor, std, floor) if floor > 0 else np.ones_like(std)
    return Scaler("per_bin", mean=mean.astype(np.float32), std=std.astype(np.float32))


def fit_scale(blocks, method="global", std_floor=1e-4):
    """Fit a Scaler: "global" [-1, 1] by max |x| (silence: scale 1) or "per_bin"; notebook 03."""
    return scaler_from_stats(BlockStats.of(blocks), method, std_floor)


# ---------------------------------------------------------------------------------------------
# Sequences
# ---------------------------------------------------------------------------------------------

def make_sequences(blocks, seq_len=10):
    """x[i] = blocks[i:i+seq_len], y[i] = blocks[i+1:i+seq_len+1] (read-only views); notebook 03."""
    b = np.asarray(blocks)
    if b.ndim != 2:
        raise ValueError(f"expected blocks of shape (n_blocks, features), got {b.shape}")
    if int(seq_len) < 1:
        raise ValueError(f"seq_len must be positive, got {seq_len!r}")
    if b.shape[0] < seq_len + 1:
        raise ValueError(f"need at least seq_len + 1 = {seq_len + 1} blocks to make one sequence "
                         f"and its label, got {b.shape[0]}")
    windows = np.lib.stride_tricks.sliding_window_view(b, (seq_len, b.shape[1]))[:, 0]
    return windows[:-1], windows[1:]

