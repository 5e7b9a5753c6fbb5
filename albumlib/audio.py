"""Reading, writing and FFT-block encoding of music: mono float32 signals in [-1, 1].

The report's representation (notebook 03): decode to mono at 44,100 Hz, cut into blocks of 44,100
samples (the last zero-padded), FFT each block and concatenate real and imaginary parts (88,200
features per block), scale to [-1, 1], and make sequences of 10 blocks whose label is the input
shifted by one block. Decoding uses the ffmpeg binary of the imageio-ffmpeg wheel (every format,
streamed) or scipy for WAV files, as the report did. numpy and scipy only: no TensorFlow here.

Every function leaves its inputs alone; `save_wav` and `save_mp3` write whole files or nothing
and refuse to replace an existing file unless asked to.
"""

import dataclasses
import functools
import math
import re
import struct
import subprocess
import tempfile
import warnings
from pathlib import Path

import numpy as np

from . import fileio

AUDIO_EXTENSIONS = (".mp3", ".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac",
                    ".aif", ".aiff", ".wma")
WAV_EXTENSIONS = (".wav", ".wave")
BACKENDS = ("auto", "ffmpeg", "scipy")
KINDS = ("fft", "rfft")
SCALE_METHODS = ("global", "per_bin")
_AU_HEADER = struct.Struct(">4s5I")  # Sun AU: magic, data offset, size, encoding, rate, channels
_AU_FLOAT32 = 6


class AudioError(ValueError):
    """A file that cannot be used as music; the message names file and problem; notebook 03."""

    def __init__(self, path, problem):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class SkippedAudioWarning(UserWarning):
    """Warned by `iter_audio_folder` and the dataset builder for each file skipped; notebook 03."""


# ---------------------------------------------------------------------------------------------
# ffmpeg
# ---------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def ffmpeg_exe():
    """Return the path of the ffmpeg binary shipped by the imageio-ffmpeg wheel; notebook 03."""
    try:
        import imageio_ffmpeg
    except ImportError as e:
        raise RuntimeError("decoding music needs the imageio-ffmpeg package: "
                           "`pip install imageio-ffmpeg`") from e
    return imageio_ffmpeg.get_ffmpeg_exe()


def _ffmpeg_problem(stderr, default="ffmpeg could not decode it"):
    """Turn ffmpeg's stderr into a short problem description for an AudioError."""
    text = stderr.decode("utf-8", "replace").strip() if isinstance(stderr, bytes) else stderr
    if "matches no streams" in text:
        return "no audio stream (not an audio file?)"
    text = re.sub(r"\[[^\]@]* @ 0x[0-9a-fA-F]+\] *", "", text)  # "[in#0 @ 0x55...]" prefixes
    lines = list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))
    return f"{default}: {' | '.join(lines[:2])}" if lines else default


def _checked_file(path):
    """Return `path` as an absolute Path, or raise if it is missing, a folder or empty."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(path, "is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(path, "empty file (0 bytes)")
    return path.absolute()  # absolute: a name starting with "-" can never look like an option


def _decode_command(path, sr):
    """ffmpeg arguments that decode the first audio stream of `path` to Sun AU float32 on stdout."""
    return [ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-i", str(path),
            "-map", "0:a:0", "-vn", "-sn", "-dn", "-map_metadata", "-1", "-fflags", "+bitexact",
            "-c:a", "pcm_f32be", "-ar", str(int(sr)), "-f", "au", "-"]


def _read_exactly(stream, n):
    """Read `n` bytes, or fewer only at the end of the stream."""
    parts, got = [], 0
    while got < n:
        part = stream.read(n - got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _read_au_header(stream, path):
    """Parse the AU header ffmpeg writes; return the channel count (the stream is left at data)."""
    head = _read_exactly(stream, _AU_HEADER.size)
    if len(head) < _AU_HEADER.size:
        return None  # ffmpeg failed before writing anything; its stderr says why
    magic, offset, _, encoding, _, channels = _AU_HEADER.unpack(head)
    if magic != b".snd" or encoding != _AU_FLOAT32 or channels < 1:
        raise AudioError(path, f"unexpected decoder output (AU header {head!r})")
    _read_exactly(stream, offset - _AU_HEADER.size)
    return channels


def _to_mono(frames, channels):
    """Mean of the channels of interleaved big-endian float32 frames, clipped to [-1, 1]."""
    x = np.frombuffer(frames, dtype=">f4", count=len(frames) // 4 // channels * channels)
    x = x.reshape(-1, channels).astype(np.float32)
    mono = x[:, 0] if channels == 1 else x.mean(axis=1, dtype=np.float64).astype(np.float32)
    return np.clip(np.nan_to_num(mono, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)


def iter_audio_chunks(path, sr=44100, chunk_samples=44100 * 64):
    """Yield a file's mono float32 samples at `sr` in chunks of `chunk_samples`; notebook 03.

    Decodes with ffmpeg in a stream, so memory stays bounded by one chunk whatever the length of
    the file. Channels are averaged (as scipy's downmix). Raises AudioError naming the file when
    ffmpeg cannot decode it or it holds no samples; a consumer that stops early stops ffmpeg.
    """
    path = _checked_file(path)
    if int(chunk_samples) < 1:
        raise ValueError(f"chunk_samples must be positive, got {chunk_samples!r}")
    total, finished = 0, False
    with tempfile.TemporaryFile() as err:  # a file, not a pipe: ffmpeg can never block on it
        proc = subprocess.Popen(_decode_command(path, sr), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=err)
        try:
            channels = _read_au_header(proc.stdout, path)
            while channels:
                frames = _read_exactly(proc.stdout, int(chunk_samples) * channels * 4)
                if len(frames) < channels * 4:
                    break
                chunk = _to_mono(frames, channels)
                total += chunk.size
                yield chunk
            finished = True
        finally:
            proc.stdout.close()
            if not finished:
                proc.kill()  # the consumer stopped early, or reading failed
            proc.wait()
        if proc.returncode != 0 or channels is None:
            err.seek(0)
            raise AudioError(path, _ffmpeg_problem(err.read()))
    if total == 0:
        raise AudioError(path, "no audio samples (a file of zero length)")


def _load_ffmpeg(path, sr):
    """Decode a whole file with ffmpeg to mono float32 at `sr`."""
    chunks = list(iter_audio_chunks(path, sr))
    return chunks[0] if len(chunks) == 1 else np.concatenate(chunks)


# ---------------------------------------------------------------------------------------------
# scipy (WAV, as the report reads it)
# ---------------------------------------------------------------------------------------------

def pcm_to_float(data):
    """PCM samples -> float64 in [-1, 1] (int16 / 32768, uint8 centred on 128); notebook 03."""
    a = np.asarray(data)
    if a.dtype == np.uint8:
        return (a.astype(np.float64) - 128.0) / 128.0
    if np.issubdtype(a.dtype, np.signedinteger):
        return a.astype(np.float64) / float(-np.iinfo(a.dtype).min)  # 24-bit arrives as int32
    if np.issubdtype(a.dtype, np.floating):
        return np.nan_to_num(a.astype(np.float64), nan=0.0, posinf=1.0, neginf=-1.0)
    raise ValueError(f"unsupported sample type {a.dtype}")


def resample(signal, sr_from, sr_to):
    """Resample a signal with scipy's polyphase filter (`resample_poly`); notebook 03."""
    from scipy.signal import resample_poly

    sr_from, sr_to = int(sr_from), int(sr_to)
    if sr_from == sr_to:
        return np.asarray(signal)
    g = math.gcd(sr_from, sr_to)
    return resample_poly(np.asarray(signal, dtype=np.float64), sr_to // g, sr_from // g)


def _load_scipy(path, sr):
    """Read a WAV file with scipy, average its channels and resample to `sr`."""
    from scipy.io import wavfile

    path = _checked_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wavfile.WavFileWarning)  # unknown chunks: harmless
            rate, data = wavfile.read(path)
    except (ValueError, OSError, EOFError, struct.error) as e:
        raise AudioError(path, f"not a WAV file scipy can read ({e})") from e
    try:
        x = pcm_to_float(data)
    except ValueError as e:
        raise AudioError(path, str(e)) from e
    if x.ndim == 2:
        x = x.mean(axis=1)
    if x.size == 0:
        raise AudioError(path, "no audio samples (a file of zero length)")
    x = resample(x, rate, sr)
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def load_audio(path, sr=44100, backend="auto"):
    """Read a music file as mono float32 in [-1, 1] at `sr` Hz; notebook 03.

    mp3, ogg/vorbis, opus, flac, m4a/aac, wav and more, any channel count (averaged) and rate.
    backend: "ffmpeg" (every format), "scipy" (WAV only, the report's reader, resampled with
    `resample_poly`) or "auto" (scipy for .wav, ffmpeg otherwise or when scipy cannot read it).
    Raises AudioError (a ValueError) naming the file for empty, corrupt or non-audio files.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if int(sr) < 1:
        raise ValueError(f"sr must be a positive sample rate, got {sr!r}")
    is_wav = Path(path).suffix.lower() in WAV_EXTENSIONS
    if backend == "scipy" or (backend == "auto" and is_wav):
        try:
            return _load_scipy(path, sr)
        except AudioError as e:
            if backend == "scipy" or e.problem.startswith(("empty", "no audio", "is a folder")):
                raise
    return _load_ffmpeg(path, sr)


# ---------------------------------------------------------------------------------------------
# Folders
# ---------------------------------------------------------------------------------------------

def list_audio(folder, recursive=False):
    """Return the audio files of `folder` by extension, in natural name order; notebook 03."""
    from .images import _natural_key

    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: music folder does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: is not a folder")
    found = folder.rglob("*") if recursive else folder.iterdir()
    songs = [p for p in found
             if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    return sorted(songs, key=lambda p: _natural_key(p.relative_to(folder)))


def iter_audio_folder(folder, sr=44100, recursive=False, backend="auto", progress=None):
    """Yield (path, signal) per readable audio file, skipping the rest with a warning; notebook 03.

    Raises FileNotFoundError for a missing folder and AudioError when no file could be read.
    """
    from tqdm.auto import tqdm

    paths = list_audio(folder, recursive=recursive)
    if progress is None:
        progress = len(paths) > 5
    loaded = 0
    for path in tqdm(paths, desc="decoding music", unit="song", disable=not progress):
        try:
            signal = load_audio(path, sr=sr, backend=backend)
        except (AudioError, OSError) as e:
            warnings.warn(f"skipping {path}: {getattr(e, 'problem', e)}", SkippedAudioWarning,
                          stacklevel=2)
            continue
        loaded += 1
        yield path, signal
    if not loaded:
        problem = (f"none of its {len(paths)} audio files could be read (see the warnings)"
                   if paths else f"no audio files found (looked for {', '.join(AUDIO_EXTENSIONS)})")
        raise AudioError(folder, problem)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def _checked_output(path, suffixes, overwrite):
    """Return `path` as a Path after refusing wrong extensions, folders and existing files."""
    path = Path(path)
    if path.suffix.lower() not in suffixes:
        raise ValueError(f"{path}: expected a file name ending in {' or '.join(suffixes)}")
    if path.is_dir():
        raise IsADirectoryError(f"{path}: is a folder")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists; pass overwrite=True to replace it, or "
                              f"save to albumlib.fileio.unique_path(path) instead")
    return path


def _as_signal(signal):
    """Return a float32 (n,) or (n, channels) signal, NaN-free and clipped to [-1, 1]."""
    x = np.asarray(signal, dtype=np.float32)
    if x.ndim not in (1, 2) or x.shape[0] == 0:
        raise ValueError(f"expected a signal of shape (n,) or (n, channels), got {x.shape}")
    return np.clip(np.nan_to_num(x, nan=0.0), -1.0, 1.0)


def save_wav(path, signal, sr, overwrite=False):
    """Write a signal in [-1, 1] as 16-bit WAV (clipped) whole or not at all; notebook 05."""
    from scipy.io import wavfile

    path = _checked_output(path, WAV_EXTENSIONS, overwrite)
    pcm = np.rint(_as_signal(signal) * 32767).astype(np.int16)
    with fileio.atomic_path(path) as tmp:
        wavfile.write(tmp, int(sr), pcm)
    return path


def save_mp3(path, signal, sr, bitrate="128k", overwrite=False):
    """Encode a signal in [-1, 1] as mp3 (libmp3lame) whole or not at all; notebook 05."""
    path = _checked_output(path, (".mp3",), overwrite)
    x = _as_signal(signal)
    channels = 1 if x.ndim == 1 else x.shape[1]
    with fileio.atomic_path(path) as tmp:
        cmd = [ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-y",
               "-f", "f32le", "-ar", str(int(sr)), "-ac", str(channels), "-i", "pipe:0",
               "-c:a", "libmp3lame", "-b:a", str(bitrate), "-f", "mp3", str(tmp.absolute())]
        done = subprocess.run(cmd, input=x.astype("<f4").tobytes(), capture_output=True)
        if done.returncode != 0:
            raise AudioError(path, _ffmpeg_problem(done.stderr, "ffmpeg could not encode it"))
    return path


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


def to_fft_blocks(signal, block_size=44100, kind="fft"):
    """Signal -> float32 (n_blocks, features): FFT per block, real then imaginary; notebook 03."""
    features = n_features(block_size, kind)
    blocks = to_blocks(signal, block_size)
    spectra = np.fft.fft(blocks, axis=1) if kind == "fft" else np.fft.rfft(blocks, axis=1)
    out = np.empty((blocks.shape[0], features), dtype=np.float32)
    out[:, :features // 2] = spectra.real
    out[:, features // 2:] = spectra.imag
    return out


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

