"""Reading, writing and streaming music: mono float32 signals in [-1, 1] (notebook 03).

Decode to mono at any sample rate (the report: 44,100 Hz), whole or in chunks; write WAV and MP3
files whole or a chunk at a time. The report's FFT blocks built on these signals live in
albumlib.music.fft_blocks. Decoding uses the ffmpeg binary of the imageio-ffmpeg wheel (every
format, streamed; found and run by albumlib.ffmpeg) or scipy for WAV files, as the report did.
numpy and scipy only: no TensorFlow here.

Every function leaves its inputs alone; `save_wav` and `save_mp3` write whole files or nothing
and refuse to replace an existing file unless asked to.
"""

import contextlib
import math
import os
import queue
import struct
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np

from . import ffmpeg, fileio

AUDIO_EXTENSIONS = (".mp3", ".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".aac",
                    ".aif", ".aiff", ".wma")
WAV_EXTENSIONS = (".wav", ".wave")
BACKENDS = ("auto", "ffmpeg", "scipy")
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
# Decoding with ffmpeg (albumlib.ffmpeg finds and runs it)
# ---------------------------------------------------------------------------------------------

def check_readable(path):
    """Return `path` as an absolute Path, or raise if it is missing, a folder or empty."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(path, "is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(path, "empty file (0 bytes)")
    return path.absolute()  # absolute: a name starting with "-" can never look like an option


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


def _readinto_full(stream, buffer):
    """Fill `buffer` from a raw stream; return the bytes read (fewer only at the end)."""
    view, got = memoryview(buffer), 0
    while got < len(view):
        n = stream.readinto(view[got:])
        if not n:
            break
        got += n
    return got


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
    """Mean of the channels of interleaved big-endian float32 frames, clipped to [-1, 1].

    One pass for mono and stereo (byte swap, mean and clip in the same ufunc calls); the mean
    of two channels in float32, (a + b) * 0.5, is the float64 mean rounded to float32.
    """
    x = np.frombuffer(frames, dtype=">f4", count=len(frames) // 4 // channels * channels)
    x = x.reshape(-1, channels)
    mono = np.empty(x.shape[0], dtype=np.float32)
    if channels == 1:
        np.clip(x[:, 0], -1.0, 1.0, out=mono)
    else:
        if channels == 2:
            np.add(x[:, 0], x[:, 1], out=mono)
            mono *= np.float32(0.5)
        else:
            mono[:] = x.mean(axis=1, dtype=np.float64)
        np.clip(mono, -1.0, 1.0, out=mono)
    if mono.size and np.isnan(mono.max()):  # clip keeps NaN (and maps +-inf to +-1)
        np.nan_to_num(mono, copy=False, nan=0.0)
    return mono


class _Decoder:
    """One ffmpeg process that decodes a file to AU float32 on a pipe, its stderr in a file.

    Starting it starts ffmpeg at once. A problem found before (missing file, folder, empty
    file) is kept in `error`, for the reader to raise, so that a decoder can start early.
    """

    def __init__(self, path, sr, fast=True):
        self.path, self.proc, self.error = Path(path), None, None
        self.fast = bool(fast) and ffmpeg.ffmpeg_major() >= 7
        self._err = tempfile.TemporaryFile()  # a file, not a pipe: ffmpeg never blocks on it
        try:
            self.path = check_readable(path)
            with open(self.path, "rb") as source:  # ffmpeg's stdin (see ffmpeg.decode_command)
                self.proc = subprocess.Popen(ffmpeg.decode_command(self.path, sr, self.fast),
                                             stdin=source, stdout=subprocess.PIPE,
                                             stderr=self._err, bufsize=0)
        except (AudioError, OSError) as e:
            self.error = e
            self._err.close()

    @property
    def stdout(self):
        return self.proc.stdout

    def failed(self):
        """After the output ended: did ffmpeg fail, or (fast command) report any error?"""
        self.proc.wait()
        return self.proc.returncode != 0 or (
            self.fast and os.fstat(self._err.fileno()).st_size > 0)

    def finish(self, channels):
        """After the output ended: raise AudioError if ffmpeg failed."""
        self.proc.wait()
        if self.proc.returncode != 0 or channels is None:
            self._err.seek(0)
            raise AudioError(self.path, ffmpeg.stderr_problem(self._err.read()))

    def kill(self):
        """Stop ffmpeg if it still runs (the consumer stopped early, or reading failed)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()

    def close(self):
        """Stop ffmpeg if it still runs, and release the pipe and the stderr file."""
        self.kill()
        if self.proc is not None:
            self.proc.wait()
            self.proc.stdout.close()
        self._err.close()


class _Samples:
    """A file's decoded samples (AU float32 data) as one byte stream, ffmpeg started at once.

    It reads the fast command's output (see `ffmpeg.decode_command`); if that one reports any error
    (a damaged frame stops it), the plain command takes over: its output, which is the same up
    to there, is read from the byte where the fast one stopped. Errors are raised by `start`
    and the reads: AudioError naming the file, with the plain command's explanation.
    """

    def __init__(self, path, sr):
        self.sr, self.channels, self._pos, self._killed = sr, None, 0, False
        self._decoder = _Decoder(path, sr)
        self.path = self._decoder.path

    def start(self):
        """Read the AU header; return the channel count."""
        if self._decoder.error is not None:
            raise self._decoder.error
        self.channels = _read_au_header(self._decoder.stdout, self.path)
        if self.channels is None:
            self._at_end()  # the plain command takes over, or AudioError
        return self.channels

    def _at_end(self):
        """The current decoder's output ended: switch to the plain one (True) or finish."""
        if self._killed:
            return False
        if self._decoder.fast and self._decoder.failed():
            self._decoder.close()
            self._decoder = _Decoder(self.path, self.sr, fast=False)
            if self._decoder.error is not None:
                raise self._decoder.error
            channels = _read_au_header(self._decoder.stdout, self.path)
            if channels is None:
                self._decoder.finish(None)  # raises
            if self.channels not in (None, channels):
                raise AudioError(self.path, "the decoder's channel count changed")
            self.channels = channels
            skip, scratch = self._pos, bytearray(min(self._pos, 1 << 20))
            while skip:
                n = _readinto_full(self._decoder.stdout, memoryview(scratch)[:min(skip, 1 << 20)])
                if not n:
                    break
                skip -= n
            return True
        self._decoder.finish(self.channels)
        return False

    def readinto(self, buffer):
        """Fill `buffer` (fewer bytes only at the end of the samples); return the count."""
        view, got = memoryview(buffer), 0
        while got < len(view):
            n = _readinto_full(self._decoder.stdout, view[got:])
            got += n
            self._pos += n
            if got < len(view) and not self._at_end():
                break
        return got

    def read_all(self):
        """All the remaining bytes."""
        data = self._decoder.stdout.read()  # grows in place until ffmpeg ends
        self._pos += len(data)
        while self._at_end():
            rest = self._decoder.stdout.read()
            self._pos += len(rest)
            data += rest
        return data

    def kill(self):
        """Stop decoding (from any thread): ffmpeg is killed, and no other one started."""
        self._killed = True
        self._decoder.kill()

    def close(self):
        self.kill()
        self._decoder.close()


_END = object()  # the reader thread's last item


class ChunkReader:
    """Mono float32 chunks of a file, decoded by ffmpeg, read `ahead` chunks in advance.

    A thread drains ffmpeg's pipe into a queue of at most `ahead` chunks (reading releases the
    GIL), so ffmpeg decodes the next chunk while the consumer works on the previous one, and a
    reader made before its turn (the dataset builder's next songs) decodes while the current
    song is processed. Memory: at most `ahead` + 2 chunks of raw samples. Iterate once; close()
    (or leaving the `with` block) stops ffmpeg and the thread, also in the middle of a file.
    """

    def __init__(self, path, sr=44100, chunk_samples=44100 * 64, ahead=2):
        if int(chunk_samples) < 1:
            raise ValueError(f"chunk_samples must be positive, got {chunk_samples!r}")
        self.chunk_samples = int(chunk_samples)
        self._samples = _Samples(path, sr)
        self.path = self._samples.path
        self._queue = queue.Queue(maxsize=max(1, int(ahead)))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True,
                                        name=f"ffmpeg reader {self.path.name}")
        self._thread.start()

    def _drain(self):
        """The thread: the channel count, then raw chunks, then _END (or an exception)."""
        try:
            channels = self._samples.start()
            self._queue.put(channels)
            size = self.chunk_samples * channels * 4
            while not self._stop.is_set():
                buffer = bytearray(size)
                n = self._samples.readinto(buffer)
                if n:
                    self._queue.put(memoryview(buffer)[:n])
                if n < size:
                    break
        except Exception as e:  # noqa: BLE001 - handed to the consumer, which raises it
            self._queue.put(e)
        finally:
            self._queue.put(_END)

    def __iter__(self):
        if self._stop.is_set():
            raise ValueError(f"{self.path}: this reader was closed")
        channels, total = self._get(), 0
        while True:
            item = self._get()
            if item is _END:
                break
            chunk = _to_mono(item, channels)
            del item
            if chunk.size:
                total += chunk.size
                yield chunk
        if total == 0:
            raise AudioError(self.path, "no audio samples (a file of zero length)")

    def _get(self):
        item = self._queue.get()
        if isinstance(item, Exception):
            raise item
        return item

    def close(self):
        """Stop ffmpeg and the reader thread (at once, even in the middle of the file)."""
        self._stop.set()
        while self._thread.is_alive():
            self._samples.kill()  # the pipe's writer is gone: the thread's read returns
            with contextlib.suppress(queue.Empty):  # unblock a put into a full queue
                while True:
                    self._queue.get_nowait()
            self._thread.join(0.01)
        self._samples.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def iter_audio_chunks(path, sr=44100, chunk_samples=44100 * 64):
    """Yield a file's mono float32 samples at `sr` in chunks of `chunk_samples`; notebook 03.

    Decodes with ffmpeg in a stream, so memory stays bounded by a few chunks whatever the
    length of the file; a thread reads ahead while the consumer works. Channels are averaged
    (as scipy's downmix). Raises AudioError naming the file when ffmpeg cannot decode it or it
    holds no samples; a consumer that stops early stops ffmpeg.
    """
    with ChunkReader(path, sr, chunk_samples) as reader:
        yield from reader


def _load_ffmpeg(path, sr):
    """Decode a whole file with ffmpeg to mono float32 at `sr` (one read, no thread)."""
    samples = _Samples(path, sr)
    try:
        channels = samples.start()
        data = samples.read_all()
    finally:
        samples.close()
    signal = _to_mono(data, channels)
    if signal.size == 0:
        raise AudioError(samples.path, "no audio samples (a file of zero length)")
    return signal


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

    path = check_readable(path)
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
    from .images import natural_key

    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"{folder}: music folder does not exist")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: is not a folder")
    found = folder.rglob("*") if recursive else folder.iterdir()
    songs = [p for p in found
             if p.suffix.lower() in AUDIO_EXTENSIONS and p.is_file()
             and not any(part.startswith(".") for part in p.relative_to(folder).parts)]
    return sorted(songs, key=lambda p: natural_key(p.relative_to(folder)))


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

def check_output(path, suffixes, overwrite):
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

    path = check_output(path, WAV_EXTENSIONS, overwrite)
    with fileio.atomic_path(path) as tmp:
        wavfile.write(tmp, int(sr), _pcm16(signal))
    return path


def save_mp3(path, signal, sr, bitrate="128k", overwrite=False):
    """Encode a signal in [-1, 1] as mp3 (libmp3lame) whole or not at all; notebook 05."""
    path = check_output(path, (".mp3",), overwrite)
    x = _as_signal(signal)
    channels = 1 if x.ndim == 1 else x.shape[1]
    with fileio.atomic_path(path) as tmp:
        cmd = [ffmpeg.ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-y",
               "-f", "f32le", "-ar", str(int(sr)), "-ac", str(channels), "-i", "pipe:0",
               "-c:a", "libmp3lame", "-b:a", str(bitrate), "-f", "mp3", str(tmp.absolute())]
        done = subprocess.run(cmd, input=x.astype("<f4").tobytes(), capture_output=True)
        if done.returncode != 0:
            raise AudioError(path, ffmpeg.stderr_problem(done.stderr,
                                                         "ffmpeg could not encode it"))
    return path


def _pcm16(signal):
    """A float signal in [-1, 1] as little-endian 16-bit PCM (clipped, NaN as 0)."""
    return np.rint(_as_signal(signal) * 32767).astype("<i2")


def exact_length(chunks, n_samples):
    """The chunks cut, or followed by silence, to exactly n_samples in all (a generator);
    notebook 05."""
    done = 0
    for chunk in chunks:
        chunk = chunk[:max(int(n_samples) - done, 0)]
        done += len(chunk)
        if len(chunk):
            yield chunk
    if done < n_samples:
        yield np.zeros(int(n_samples) - done, np.float32)


def save_wav_stream(path, chunks, sr, overwrite=False):
    """Write float chunks as one 16-bit mono WAV whole or not at all, a chunk in memory at a
    time; returns (path, samples written); notebook 05."""
    import wave

    path = check_output(path, WAV_EXTENSIONS, overwrite)
    n = 0
    with fileio.atomic_path(path) as tmp:
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(int(sr))
            for chunk in chunks:
                if len(chunk):
                    w.writeframes(_pcm16(chunk).tobytes())
                    n += len(chunk)
    return path, n


def save_mp3_stream(path, chunks, sr, bitrate="128k", overwrite=False):
    """Encode float chunks as one mono mp3 whole or not at all, piping each chunk to ffmpeg as
    it comes; returns (path, samples written); notebook 05."""
    path = check_output(path, (".mp3",), overwrite)
    n = 0
    with fileio.atomic_path(path) as tmp, tempfile.TemporaryFile() as err:
        cmd = [ffmpeg.ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-y",
               "-f", "s16le", "-ar", str(int(sr)), "-ac", "1", "-i", "pipe:0",
               "-c:a", "libmp3lame", "-b:a", str(bitrate), "-f", "mp3", str(tmp.absolute())]
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        try:
            for chunk in chunks:
                if len(chunk):
                    proc.stdin.write(_pcm16(chunk).tobytes())
                    n += len(chunk)
        except BrokenPipeError:
            pass
        finally:
            proc.stdin.close()
            code = proc.wait()
        if code != 0:
            err.seek(0)
            raise AudioError(path, ffmpeg.stderr_problem(err.read(), "ffmpeg could not encode it"))
    return path, n


def save_stream(path, chunks, sr, overwrite=False):
    """save_wav_stream or save_mp3_stream, by the file's extension; notebook 05."""
    if Path(path).suffix.lower() == ".mp3":
        return save_mp3_stream(path, chunks, sr, overwrite=overwrite)
    return save_wav_stream(path, chunks, sr, overwrite=overwrite)
