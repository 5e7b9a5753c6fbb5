"""Measuring generated music offline on a CPU, with numpy and scipy only (taught in notebook 05).

Signals are mono float arrays in [-1, 1] (as `albumlib.audio.load_audio` returns them). Definitions:

- frames           STFT frames of n_fft samples every hop samples, not centred (a signal shorter
                   than n_fft is zero-padded to one frame), Hann window. The power spectrum of a
                   frame is |rfft(w x)|^2 / sum(w^2), so white noise of variance s^2 has power s^2
                   in every bin and the values do not depend on n_fft.
- dBFS             20 log10(RMS); a full-scale sine is -3 dBFS, digital silence is floored at -120.
- silence fraction share of the duration in frames of `frame` samples whose RMS is below
                   threshold_db dBFS (the last, shorter frame weighs by its length).
- clipping rate    share of samples with |x| >= level.
- click ratio      mean |x[b] - x[b-1]| over the block boundaries b = k * block_size, divided by
                   the median of the non-zero |x[i] - x[i-1]| (1e-7 when there are none, so
                   silence gives 1, not NaN). About 1 for continuous audio, >> 1 where blocks do
                   not join.
- spectral flatness per frame exp(mean_k ln(P_k + a)) / (mean_k P_k + a) over all n_fft/2 + 1 bins
                   of the power spectrum P, a = 1e-10 (geometric over arithmetic mean, in [0, 1]);
                   `spectral_flatness` is its mean over the frames that are not silent (0 when every
                   frame is). White noise gives exp(-gamma) = 0.56 with this estimator, a tone ~0.
- mel filterbank   HTK mel scale, mel = 2595 log10(1 + f / 700), triangles normalised to unit sum,
                   so that each band is a weighted mean of the power spectrum (a density in bands).
- frame features   per frame: log-mel bands in dB (10 log10 max(band, 1e-10)), MFCC = the first
                   13 of the orthonormal DCT-II of those dB values, spectral centroid in kHz,
                   flatness in dB.
- Frechet distance ||mu_a - mu_b||^2 + Tr(Sa + Sb - 2 sqrt(Sa Sb)) between Gaussians fitted to
                   two sets of frame features (the FAD formula with hand-made features instead of
                   VGGish; eps I is added to both covariances). 0 for identical sets; the dB
                   features make it large (1e3 to 1e5 between pieces): compare, do not read alone.
- copy score       median over generated blocks of the distance to the nearest training block,
                   divided by the same median for held-out real blocks. A block is described by
                   its mel amplitude spectrum (square root of the mean mel-band power over its
                   frames) scaled to unit RMS, which ignores loudness and faint added noise;
                   blocks are compared by the RMS over bands of their difference. About 0 for
                   a verbatim copy of training audio, about 1 for new music as far from the training
                   set as unseen real music is; training blocks start every block_size / 4 samples
                   so that copies not aligned with the training blocks are still found.
- loop score       from the self-similarity matrix S (cosine similarity of log-mel frames, dB
                   limited to 80 dB below the peak and centred on their mean over time): with m(L)
                   the mean of the diagonal of S at lag L, and t the mean of S over all lags in
                   [min_lag, max_lag], (max_L m(L) - t) / (1 - t). About 1 for a clip repeated
                   throughout, about 0 for noise and for signals that never change (silence).
- onset rate       note onsets a second by albumlib.beats.detect_onsets (spectral flux, peak
                   picking); a signal's very start is no onset. onset coverage: the share of
                   whole seconds that hold at least one.
- novelty          per whole second the mean magnitude spectrum (4096-sample frames, hop 1024);
                   1 - cosine similarity of consecutive seconds, averaged over the pairs whose
                   seconds both sound (mean power >= -50 dBFS); 0 when there is no such pair.
- chroma change    per whole second the pitch-class profile of that spectrum (power of the bins
                   55 Hz - 5 kHz summed by nearest pitch class, normalised to sum 1); half the L1
                   distance of consecutive seconds' profiles, averaged like novelty: 0 when the
                   pitches stay, 1 when all change. A drone scores about 0 on all four; a piano
                   scale of one note a second 0.9 onsets a second, coverage 1, novelty 0.59,
                   chroma change 0.84 (the bundled pieces: 1.3-1.5, 0.8, 0.23-0.33, 0.36-0.42).
"""

import math

import numpy as np

from albumlib import dsp

AMIN = 1e-10        # power floor: -100 dB
_DIFF_FLOOR = 1e-7  # smallest "typical sample step" of click_ratio


def _as_mono(signal, name="signal"):
    """Return `signal` as a non-empty 1-D float64 array, NaN replaced by 0 and inf by +-1."""
    if np.ndim(signal) != 1:  # (n, channels) is refused: the metrics measure mono signals
        raise ValueError(f"{name}: expected a mono signal of shape (n,), got {np.shape(signal)}")
    x = dsp.as_mono(signal, np.float64, name)
    if x.size == 0:
        raise ValueError(f"{name}: empty signal")
    return np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=-1.0)


def _as_list(signals, name):
    """A signal or a list of signals -> a list of 1-D float64 signals."""
    if isinstance(signals, np.ndarray) and signals.ndim == 1:
        signals = [signals]
    out = [_as_mono(s, name) for s in signals]
    if not out:
        raise ValueError(f"{name}: no signals given")
    return out


def _db(power):
    """10 log10 of a power, floored at AMIN (-100 dB)."""
    return 10.0 * np.log10(np.maximum(power, AMIN))


def _unit_rows(feats):
    """Rows divided by their norm; rows of (almost) zero norm stay zero."""
    norms = np.linalg.norm(feats, axis=1, keepdims=True)
    return np.where(norms > 1e-9, feats / np.maximum(norms, 1e-9), 0.0)


# ---------------------------------------------------------------------------------------------
# Level, silence, clipping, clicks
# ---------------------------------------------------------------------------------------------

def rms_dbfs(signal):
    """Level of a signal: 20 log10(RMS), floored at -120 dBFS; notebook 05."""
    x = _as_mono(signal)
    rms = math.sqrt(float(np.mean(x * x)))
    return 20.0 * math.log10(max(rms, 1e-6))


def silence_fraction(signal, sr, frame=2048, threshold_db=-50.0):
    """Share of the duration in frames of `frame` samples below threshold_db dBFS RMS; nb 05."""
    x = _as_mono(signal)
    frame = int(frame)
    if frame < 1:
        raise ValueError(f"frame must be positive, got {frame}")
    ms = dsp.block_mean_squares(x, frame)
    lengths = np.full(ms.size, frame)
    lengths[-1] = x.size - frame * (ms.size - 1)
    silent = ms < 10.0 ** (threshold_db / 10.0)
    return float(np.sum(lengths[silent]) / x.size)


def clipping_rate(signal, level=0.999):
    """Share of samples at or beyond |level| (clipped, or about to be); notebook 05."""
    x = _as_mono(signal)
    return float(np.mean(np.abs(x) >= level))


def click_ratio(signal, block_size=44100):
    """Mean |jump| at block edges / median non-zero |sample step|; ~1 if continuous; nb 05."""
    x = _as_mono(signal)
    block_size = int(block_size)
    if block_size < 2:
        raise ValueError(f"block_size must be at least 2, got {block_size}")
    bounds = np.arange(block_size, x.size, block_size)
    if bounds.size == 0:
        raise ValueError(f"click_ratio needs more than one block of {block_size} samples, "
                         f"got {x.size} samples")
    steps = np.abs(np.diff(x))
    jumps = steps[bounds - 1]
    moving = steps[steps > 0]
    typical = max(float(np.median(moving)), _DIFF_FLOOR) if moving.size else _DIFF_FLOOR
    return float(max(float(jumps.mean()), _DIFF_FLOOR) / typical)


# ---------------------------------------------------------------------------------------------
# Spectra and frame features
# ---------------------------------------------------------------------------------------------

def _power_chunks(x, n_fft=2048, hop=512):
    """Yield (power spectra (frames, n_fft//2+1), frame mean squares) in chunks of frames."""
    n_fft = int(n_fft)
    if x.size < n_fft:  # zero-padded to one frame (dsp.frames checks n_fft and hop)
        x = np.concatenate([x, np.zeros(n_fft - x.size)])
    window = dsp.hann(n_fft)
    norm = float(np.sum(window * window))
    for chunk, power in dsp.stft_chunks(x, n_fft, hop, window, power=True):
        yield power / norm, np.mean(chunk * chunk, axis=1)


def _flatness(power):
    """Per-frame spectral flatness of power spectra (frames, bins)."""
    geometric = np.exp(np.mean(np.log(power + AMIN), axis=1))
    return geometric / (np.mean(power, axis=1) + AMIN)


def spectral_flatness(signal, sr, n_fft=2048, hop=512, threshold_db=-50.0):
    """Mean over non-silent frames of geometric / arithmetic mean power (0 if all silent); nb 05."""
    del sr  # the ratio does not depend on it; kept for a uniform signature
    x = _as_mono(signal)
    total, count = 0.0, 0
    floor = 10.0 ** (threshold_db / 10.0)
    for power, ms in _power_chunks(x, n_fft, hop):
        keep = ms >= floor
        total += float(_flatness(power[keep]).sum())
        count += int(keep.sum())
    return total / count if count else 0.0


def hz_to_mel(hz):
    """HTK mel scale: 2595 log10(1 + f / 700); notebook 05."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel):
    """Inverse of `hz_to_mel`: 700 (10^(mel / 2595) - 1); notebook 05."""
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(sr, n_fft, n_mels=40, fmin=0.0, fmax=None):
    """(n_mels, n_fft//2+1) HTK-mel triangles, each row summing to 1; notebook 05.

    Band m rises from edge m to its centre m + 1 and falls to edge m + 2, with n_mels + 2 edges
    equally spaced in mel from fmin to fmax (default sr / 2). A band narrower than the bin spacing,
    which would catch no bin, takes the bin nearest its centre instead.
    """
    fmax = sr / 2.0 if fmax is None else float(fmax)
    if not 0.0 <= fmin < fmax <= sr / 2.0 + 1e-9:
        raise ValueError(f"need 0 <= fmin < fmax <= sr / 2, got fmin={fmin}, fmax={fmax}, sr={sr}")
    if int(n_mels) < 1:
        raise ValueError(f"n_mels must be positive, got {n_mels}")
    freqs = np.fft.rfftfreq(int(n_fft), 1.0 / sr)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), int(n_mels) + 2))
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    bank = np.maximum(0.0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    empty = bank.sum(axis=1) == 0
    bank[empty, np.argmin(np.abs(freqs[None, :] - mid[empty]), axis=1)] = 1.0
    return bank / bank.sum(axis=1, keepdims=True)


def feature_names(n_mels=40, n_mfcc=13):
    """Names of the columns of `frame_features`; notebook 05."""
    return ([f"logmel_{i}" for i in range(n_mels)] + [f"mfcc_{i}" for i in range(n_mfcc)]
            + ["centroid_khz", "flatness_db"])


def _mel_power(x, sr, n_fft=2048, hop=512, n_mels=40):
    """(n_frames, n_mels) mel-band powers (not yet in dB)."""
    bank = mel_filterbank(sr, n_fft, n_mels).T
    return np.concatenate([power @ bank for power, _ in _power_chunks(x, n_fft, hop)])


def frame_features(signal, sr, n_fft=2048, hop=512, n_mels=40, n_mfcc=13):
    """(n_frames, n_mels + n_mfcc + 2): log-mel dB, MFCC, centroid kHz, flatness dB; notebook 05."""
    from scipy.fft import dct

    x = _as_mono(signal)
    if not 1 <= int(n_mfcc) <= int(n_mels):
        raise ValueError(f"need 1 <= n_mfcc <= n_mels, got n_mfcc={n_mfcc}, n_mels={n_mels}")
    bank = mel_filterbank(sr, n_fft, n_mels).T
    freqs_khz = np.fft.rfftfreq(int(n_fft), 1.0 / sr) / 1000.0
    rows = []
    for power, _ in _power_chunks(x, n_fft, hop):
        log_mel = _db(power @ bank)
        mfcc = dct(log_mel, type=2, norm="ortho", axis=1)[:, :int(n_mfcc)]
        total = power.sum(axis=1)
        centroid = (power @ freqs_khz) / np.maximum(total, AMIN)
        flat = 10.0 * np.log10(np.maximum(_flatness(power), AMIN))
        rows.append(np.column_stack([log_mel, mfcc, centroid, flat]))
    return np.concatenate(rows)


# ---------------------------------------------------------------------------------------------
# Frechet distance
# ---------------------------------------------------------------------------------------------

def gaussian_frechet(mu_a, cov_a, mu_b, cov_b, eps=1e-6):
    """||mu_a - mu_b||^2 + Tr(Sa + Sb - 2 sqrt(Sa Sb)), eps I added to both; notebook 05."""
    from scipy.linalg import sqrtm

    mu_a, mu_b = (np.atleast_1d(np.asarray(m, np.float64)) for m in (mu_a, mu_b))
    cov_a, cov_b = (np.atleast_2d(np.asarray(c, np.float64)) for c in (cov_a, cov_b))
    d = mu_a.size
    if mu_b.shape != (d,) or cov_a.shape != (d, d) or cov_b.shape != (d, d):
        raise ValueError(f"shapes do not match: mu {mu_a.shape} {mu_b.shape}, "
                         f"cov {cov_a.shape} {cov_b.shape}")
    offset = eps * np.eye(d)
    cov_a, cov_b = cov_a + offset, cov_b + offset
    root = sqrtm(cov_a @ cov_b)
    if not np.all(np.isfinite(root)):
        raise FloatingPointError("sqrtm of the covariance product is not finite; raise eps")
    trace_root = float(np.real(np.trace(root)))  # discard tiny imaginary parts from rounding
    diff = mu_a - mu_b
    value = float(diff @ diff) + float(np.trace(cov_a) + np.trace(cov_b)) - 2.0 * trace_root
    return max(value, 0.0)


def _gaussian(feats, name):
    """Mean and covariance (ddof 1) of a (n, d) feature matrix with n >= 2."""
    f = np.asarray(feats, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"{name}: expected features of shape (n >= 2, d), got {f.shape}")
    return f.mean(axis=0), np.cov(f, rowvar=False).reshape(f.shape[1], f.shape[1])


def frechet_distance(feats_a, feats_b, eps=1e-6):
    """Frechet distance of Gaussians fitted to two (n, d) feature sets (the FAD formula); nb 05."""
    mu_a, cov_a = _gaussian(feats_a, "feats_a")
    mu_b, cov_b = _gaussian(feats_b, "feats_b")
    return gaussian_frechet(mu_a, cov_a, mu_b, cov_b, eps)


def frechet_audio_distance(generated, reference, sr, **features):
    """Frechet distance of `frame_features` of generated vs reference signal(s); notebook 05."""
    gen = np.concatenate([frame_features(s, sr, **features)
                          for s in _as_list(generated, "generated")])
    ref = np.concatenate([frame_features(s, sr, **features)
                          for s in _as_list(reference, "reference")])
    return frechet_distance(gen, ref)


# ---------------------------------------------------------------------------------------------
# Copy score
# ---------------------------------------------------------------------------------------------

def block_features(signal, sr, block_size=44100, hop=None, n_fft=2048, n_mels=40):
    """(blocks, n_mels) mel amplitude spectra at unit RMS, and each block's mean square; nb 05.

    A block's mel amplitude is the square root of its mean mel-band power over its frames; it is
    scaled to unit RMS over the bands (silence stays 0), so loudness does not matter and faint
    noise in empty bands hardly does. Blocks of block_size samples start every `hop` samples
    (default block_size) and lie inside the signal (a signal shorter than one block is one block).
    Frames are taken every block_size // 100 samples, so blocks starting at multiples of that
    share their frames exactly.
    """
    x = _as_mono(signal)
    block_size = int(block_size)
    hop = block_size if hop is None else int(hop)
    if block_size < 1 or hop < 1:
        raise ValueError(f"block_size and hop must be positive, got {block_size}, {hop}")
    frame_hop = max(1, block_size // 100)
    mel = _mel_power(x, sr, n_fft, frame_hop, n_mels)
    n_frames = mel.shape[0]
    starts = np.arange(0, max(x.size - block_size, 0) + 1, hop)
    first = np.minimum(-(-starts // frame_hop), n_frames - 1)
    last = np.clip((starts + block_size - n_fft) // frame_hop, first, n_frames - 1)
    cum = np.concatenate([np.zeros((1, n_mels)), np.cumsum(mel, axis=0)])
    amp = np.sqrt(np.maximum(cum[last + 1] - cum[first], 0.0) / (last - first + 1)[:, None])
    feats = _unit_rows(amp) * math.sqrt(n_mels)  # unit RMS over bands; silence stays 0
    cum_sq = np.concatenate([[0.0], np.cumsum(x * x)])
    ends = np.minimum(starts + block_size, x.size)
    return feats, (cum_sq[ends] - cum_sq[starts]) / (ends - starts)


def _nearest(queries, pool, chunk=1024):
    """RMS (over dimensions) difference from each query row to its nearest pool row."""
    pool_sq = np.sum(pool * pool, axis=1)
    out = np.empty(queries.shape[0])
    for start in range(0, queries.shape[0], chunk):
        q = queries[start:start + chunk]
        d2 = np.sum(q * q, axis=1)[:, None] + pool_sq[None, :] - 2.0 * q @ pool.T
        out[start:start + chunk] = np.sqrt(np.maximum(d2.min(axis=1), 0.0) / pool.shape[1])
    return out


def copy_distances(generated, training, heldout, sr, block_size=44100, train_hop=None,
                   threshold_db=-50.0):
    """Nearest-training-block distances of generated and of held-out blocks; notebook 05.

    Returns (generated_distances, heldout_distances). Training and held-out blocks whose RMS is
    below threshold_db dBFS are left out (silence is no fingerprint of a piece); generated blocks
    are all kept, so a silent generated block lies far from every training block.
    """
    train_hop = int(block_size) // 4 if train_hop is None else int(train_hop)
    floor = 10.0 ** (threshold_db / 10.0)

    def stacked(signals, name, hop, drop_silent):
        feats = []
        for s in _as_list(signals, name):
            f, ms = block_features(s, sr, block_size, hop)
            feats.append(f[ms >= floor] if drop_silent else f)
        f = np.concatenate(feats)
        if f.shape[0] == 0:
            raise ValueError(f"{name}: every block is silent (below {threshold_db} dBFS)")
        return f

    pool = stacked(training, "training", train_hop, True)
    gen = stacked(generated, "generated", block_size, False)
    held = stacked(heldout, "heldout", block_size, True)
    return _nearest(gen, pool), _nearest(held, pool)


def copy_score(generated, training, heldout, sr, block_size=44100, train_hop=None):
    """Median generated / median held-out nearest-training-block distance: 0 = copy; notebook 05."""
    gen, held = copy_distances(generated, training, heldout, sr, block_size, train_hop)
    baseline = float(np.median(held))
    if baseline <= 1e-4:  # rounding leaves ~1e-7 where blocks are identical
        raise ValueError("the held-out blocks are copies of training blocks (distance ~0): "
                         "choose held-out music that is not in the training set")
    return float(np.median(gen)) / baseline


# ---------------------------------------------------------------------------------------------
# Self-similarity and loops
# ---------------------------------------------------------------------------------------------

def _ssm_frames(signal, sr, n_fft=2048, hop=1024, n_mels=40, top_db=80.0):
    """Unit-norm rows of log-mel dB (at most top_db below the peak) centred over time."""
    log_mel = _db(_mel_power(_as_mono(signal), sr, n_fft, hop, n_mels))
    log_mel = np.maximum(log_mel, log_mel.max() - top_db)
    return log_mel - log_mel.mean(axis=0)


def self_similarity(signal, sr, hop=1024, max_frames=2000):
    """(S, seconds per row): cosine similarity of centred log-mel frames, for plots; notebook 05.

    Consecutive frames are averaged when there are more than max_frames, so S stays small.
    """
    feats = _ssm_frames(signal, sr, hop=hop)
    pool = max(1, -(-feats.shape[0] // int(max_frames)))
    if pool > 1:
        n = feats.shape[0] // pool * pool
        feats = feats[:n].reshape(-1, pool, feats.shape[1]).mean(axis=1)
    u = _unit_rows(feats)
    return (u @ u.T).astype(np.float32), pool * int(hop) / sr


def lag_profile(signal, sr, hop=1024):
    """(lags in s, mean of the self-similarity diagonal at each lag), lags 0 to n-1; notebook 05."""
    u = _unit_rows(_ssm_frames(signal, sr, hop=hop))
    n = u.shape[0]
    size = 1 << int(math.ceil(math.log2(2 * n)))
    spectrum = np.fft.rfft(u, n=size, axis=0)
    sums = np.fft.irfft(np.sum(spectrum.real ** 2 + spectrum.imag ** 2, axis=1), n=size)[:n]
    return np.arange(n) * int(hop) / sr, sums / (n - np.arange(n))


def loop_score(signal, sr, min_lag=1.0, max_lag=None, hop=1024):
    """(max over lags of the diagonal mean - typical) / (1 - typical): ~1 looped; notebook 05.

    Lags run from min_lag to max_lag seconds (default half the duration, so that each diagonal
    covers at least half the signal); "typical" is the mean similarity over those lags.
    """
    lags, means = lag_profile(signal, sr, hop)
    n = lags.size
    max_lag = lags[-1] / 2.0 if max_lag is None else float(max_lag)
    pick = (lags >= float(min_lag)) & (lags <= max_lag)
    if not pick.any():
        raise ValueError(f"no lag between {min_lag} s and {max_lag:.3f} s: the signal "
                         f"({n * hop / sr:.2f} s) is too short")
    counts = n - np.arange(n)[pick]
    typical = float(np.sum(means[pick] * counts) / np.sum(counts))
    if typical >= 1.0 - 1e-9:
        return 0.0
    return float(np.clip((means[pick].max() - typical) / (1.0 - typical), 0.0, 1.0))


# ---------------------------------------------------------------------------------------------
# Does it move? Onsets, novelty and pitch change from second to second (a drone fails them all)
# ---------------------------------------------------------------------------------------------

def onset_rate(signal, sr):
    """Note onsets a second (albumlib.beats.detect_onsets); a drone about 0; notebook 05."""
    from albumlib import beats
    x = _as_mono(signal)
    return len(beats.detect_onsets(x, sr)) / (x.size / sr)


def _coverage(onsets, seconds):
    """Share of `seconds` whole seconds holding at least one of the onset times."""
    if seconds == 0:
        return 0.0
    hit = np.unique(np.floor(onsets).astype(int))
    return float(np.sum(hit < seconds)) / seconds


def onset_coverage(signal, sr):
    """Share of the whole seconds that hold at least one onset; notebook 05."""
    from albumlib import beats
    x = _as_mono(signal)
    return _coverage(beats.detect_onsets(x, sr), x.size // int(sr))


def _second_spectra(x, sr, n_fft=4096, threshold_db=-50.0):
    """Per whole second: mean magnitude spectrum (seconds, bins) and whether it sounds."""
    sr = int(sr)
    seconds = x.size // sr
    if not seconds:
        return np.zeros((0, n_fft // 2 + 1)), np.zeros(0, bool)
    spectra, sounding = [], []
    for k in range(seconds):
        power, ms = zip(*_power_chunks(x[k * sr:(k + 1) * sr], n_fft, n_fft // 4))
        power, ms = np.concatenate(power), np.concatenate(ms)
        spectra.append(np.sqrt(power.mean(axis=0)))
        sounding.append(10 * math.log10(max(float(ms.mean()), AMIN)) >= threshold_db)
    return np.asarray(spectra), np.asarray(sounding, bool)


def _pairs_mean(values, sounding):
    """Mean of a per-pair value over consecutive seconds that both sound (0 if none)."""
    keep = sounding[1:] & sounding[:-1]
    return float(np.mean(values[keep])) if keep.any() else 0.0


def _novelty(spectra, sounding):
    """spectral_novelty of per-second spectra (_second_spectra)."""
    if len(spectra) < 2:
        return 0.0
    unit = spectra / np.maximum(np.linalg.norm(spectra, axis=1, keepdims=True), AMIN)
    return _pairs_mean(1.0 - np.sum(unit[1:] * unit[:-1], axis=1), sounding)


def spectral_novelty(signal, sr):
    """Mean over consecutive sounding seconds of 1 - cosine similarity of their magnitude
    spectra: about 0 for a drone, 0.2-0.35 for the bundled pieces; notebook 05."""
    return _novelty(*_second_spectra(_as_mono(signal), sr))


def chroma(spectra, sr, n_fft=4096, fmin=55.0, fmax=5000.0):
    """Pitch-class profiles (rows, 12; C = 0) of magnitude spectra, each summing to 1; nb 05."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    band = (freqs >= fmin) & (freqs <= fmax)
    classes = np.round(12 * np.log2(freqs[band] / 440.0) + 69).astype(int) % 12
    power = np.asarray(spectra)[:, band] ** 2
    profile = np.stack([power[:, classes == c].sum(axis=1) for c in range(12)], axis=1)
    return profile / np.maximum(profile.sum(axis=1, keepdims=True), AMIN)


def _chroma_change(spectra, sounding, sr):
    """chroma_change of per-second spectra (_second_spectra)."""
    if len(spectra) < 2:
        return 0.0
    c = chroma(spectra, sr)
    return _pairs_mean(0.5 * np.abs(c[1:] - c[:-1]).sum(axis=1), sounding)


def chroma_change(signal, sr):
    """Mean over consecutive sounding seconds of half the L1 distance of their pitch-class
    profiles: 0 when the pitches stay, 1 when they all change; notebook 05."""
    return _chroma_change(*_second_spectra(_as_mono(signal), sr), sr)


def movement(x, sr):
    """onset_rate, onset_coverage, spectral_novelty and chroma_change of a mono signal, its
    onsets and per-second spectra computed once (evaluate's); notebook 05."""
    from albumlib import beats
    onsets = beats.detect_onsets(x, sr)
    spectra, sounding = _second_spectra(x, sr)
    return {"onset_rate": len(onsets) / (x.size / sr),
            "onset_coverage": _coverage(onsets, x.size // int(sr)),
            "spectral_novelty": _novelty(spectra, sounding),
            "chroma_change": _chroma_change(spectra, sounding, sr)}


# ---------------------------------------------------------------------------------------------
# All at once
# ---------------------------------------------------------------------------------------------

def evaluate(generated, sr, training=None, heldout=None, reference=None, block_size=44100,
             min_lag=1.0):
    """Dict of every metric whose inputs are given (and that the length allows); notebook 05.

    Always: duration_s, rms_dbfs, silence_fraction, clipping_rate, spectral_flatness, and what
    a drone fails: onset_rate, onset_coverage, spectral_novelty, chroma_change; click_ratio
    when there are two blocks or more, loop_score when the signal lasts 2 * min_lag + 0.2 s, fad
    with a reference and copy_score with both training and held-out audio.
    """
    x = _as_mono(generated, "generated")
    out = {"duration_s": x.size / sr, "rms_dbfs": rms_dbfs(x),
           "silence_fraction": silence_fraction(x, sr), "clipping_rate": clipping_rate(x),
           "spectral_flatness": spectral_flatness(x, sr), **movement(x, sr)}
    if x.size > block_size:
        out["click_ratio"] = click_ratio(x, block_size)
    if x.size >= (2 * min_lag + 0.2) * sr:  # some lag >= min_lag below half the duration
        out["loop_score"] = loop_score(x, sr, min_lag=min_lag)
    if reference is not None:
        out["fad"] = frechet_audio_distance(x, reference, sr)
    if training is not None and heldout is not None:
        out["copy_score"] = copy_score(x, training, heldout, sr, block_size)
    return out


def _cell(value):
    """A table cell: floats to 3 significant digits, missing values as a dash."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def metrics_table(rows):
    """Markdown table of {row name: {metric: value}}, metrics in order of appearance; nb 05."""
    columns = list(dict.fromkeys(key for metrics in rows.values() for key in metrics))
    lines = ["| | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, metrics in rows.items():
        lines.append(f"| {name} | " + " | ".join(_cell(metrics.get(c)) for c in columns) + " |")
    return "\n".join(lines)
