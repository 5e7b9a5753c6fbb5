"""The film's sound: music loudness-normalised, cut to the film's length and faded (notebook 06).

Sections 7 and 8 of the notebook. Decoded to mono float32 at 44.1 kHz, loudness-normalised (gated
RMS to -16 dBFS with a -1 dBFS peak ceiling in numpy, or ffmpeg `loudnorm` followed by
`aresample=44100`), then trimmed or padded with silence to exactly the film's length, faded in at
the start and out where the music (or the film) ends. A music file can be streamed to a WAV file in
pieces (`write_soundtrack`), so memory stays flat however long the film; the encoder then reads it
with an explicit `-t` (never `-shortest`).
"""

import tempfile
from pathlib import Path

import numpy as np

from albumlib import dsp, ffmpeg
from albumlib.dsp import round_half_up
from albumlib.film.encode import AUDIO_SR, VideoError

LOUDNESS = ("rms", "loudnorm")
RMS_TARGET_DBFS = -16.0     # gated RMS target of the "rms" normalisation
PEAK_CEILING_DBFS = -1.0    # the "rms" normalisation never raises a peak above this
LOUDNORM = "loudnorm=I=-16:TP=-1.5:LRA=11"


def music_signal(audio):
    """A mono float32 signal at 44.1 kHz from a path or a (signal, sr) pair; notebook 06."""
    from albumlib.audio import AudioError, iter_audio_chunks, resample

    if isinstance(audio, (str, Path)):
        # Streamed through ffmpeg for every format (WAV too): memory is twice the decoded song
        # at most (the chunks, then one array), where a float64 WAV read would take six times.
        chunks = list(iter_audio_chunks(audio, sr=AUDIO_SR, chunk_samples=AUDIO_SR * 16))
        if not chunks:
            raise AudioError(audio, "no audio samples")
        out = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
        del chunks
        return out
    try:
        signal, sr = audio
        sr = int(sr)
    except (TypeError, ValueError):
        raise ValueError("audio must be a file path or a (signal, sample_rate) pair") from None
    x = np.asarray(signal)
    if x.ndim == 2:  # (n, channels), or (channels, n) when that is clearly the layout
        x = x.mean(axis=0 if x.shape[0] <= 8 < x.shape[1] else 1, dtype=np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"audio signal must have shape (n,) or (n, channels), got {x.shape}")
    if sr < 1:
        raise ValueError(f"sample rate must be positive, got {sr}")
    if sr != AUDIO_SR:
        x = resample(x, sr, AUDIO_SR)
    x = np.array(x, dtype=np.float32)  # one copy: the caller's array is never changed
    if not np.isfinite(x).all():
        np.nan_to_num(x, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
    return np.clip(x, -1.0, 1.0, out=x)


_RMS_BLOCK = AUDIO_SR * 4 // 10   # 400 ms blocks of the gated RMS
_RMS_STEP = _RMS_BLOCK * 16       # samples looked at in one piece (no float64 copy of a song)


def _rms_gain(x, target_dbfs=RMS_TARGET_DBFS, peak_dbfs=PEAK_CEILING_DBFS):
    """Gain that brings the gated RMS of `x` to target_dbfs, its peak to at most peak_dbfs."""
    rms = dsp.GatedRms(_RMS_BLOCK)
    for start in range(0, x.size, _RMS_STEP):
        rms.add(x[start:start + _RMS_STEP])
    return rms.gain(target_dbfs, peak_dbfs)


def normalise_rms(signal, target_dbfs=RMS_TARGET_DBFS, peak_dbfs=PEAK_CEILING_DBFS):
    """Scale a signal so its gated RMS is `target_dbfs`, its peak at most `peak_dbfs` (float32).

    Gated: 400 ms blocks quieter than -50 dBFS (silence) do not count. A pure gain, so fades
    and dynamics are kept; silence is returned unchanged.
    """
    x = np.asarray(signal, dtype=np.float32)
    return x * np.float32(_rms_gain(x, target_dbfs, peak_dbfs))


def _loudnorm(signal, folder):
    """EBU R128 normalisation with ffmpeg `loudnorm`, then `aresample=44100` (module notes)."""
    from scipy.io import wavfile

    src, dst = Path(folder) / "music-in.wav", Path(folder) / "music-norm.wav"
    wavfile.write(src, AUDIO_SR, np.asarray(signal, dtype=np.float32))
    rc, err = ffmpeg.run_to_file([ffmpeg.ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error",
                                  "-y", "-i", str(src), "-af", f"{LOUDNORM},aresample={AUDIO_SR}",
                                  "-c:a", "pcm_f32le", "-f", "wav", str(dst)])
    if rc != 0:
        raise VideoError(f"ffmpeg loudnorm failed:\n{ffmpeg.stderr_tail(err)}")
    _, y = wavfile.read(dst)
    src.unlink()
    dst.unlink()
    y = np.asarray(y, dtype=np.float32).reshape(len(y), -1).mean(axis=1)
    out = np.zeros(len(signal), dtype=np.float32)  # loudnorm keeps the length; be sure anyway
    out[:min(len(y), len(out))] = y[:len(out)]
    return np.clip(out, -1.0, 1.0)


def _fade_curve(n):
    """n gains rising smoothly from near 0 to near 1 (raised cosine)."""
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)).astype(np.float32)


def soundtrack(music, n_samples, fade_seconds=1.0, normalise="rms", folder=None):
    """The film's audio: exactly `n_samples` mono float32 samples at 44.1 kHz; notebook 06.

    `music` (mono float32 at 44.1 kHz) is cut to n_samples or padded with silence, normalised
    ("rms", "loudnorm" or None; over the music only), and faded in at the start and out over the
    last `fade_seconds` of the music (at most half of it). Works in place on one new array.
    """
    if normalise not in (None, False, *LOUDNESS):
        raise ValueError(f"normalise must be one of {', '.join(LOUDNESS)} or None, "
                         f"got {normalise!r}")
    n_samples = int(n_samples)
    out = np.zeros(n_samples, dtype=np.float32)
    m = min(len(music), n_samples)
    out[:m] = music[:m]
    body = out[:m]
    if normalise == "rms":
        body *= np.float32(_rms_gain(body))
    elif normalise == "loudnorm" and m:
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            body[:] = _loudnorm(body, tmp)
    fade = min(round_half_up(max(0.0, fade_seconds) * AUDIO_SR), m // 2)
    if fade:
        curve = _fade_curve(fade)
        body[:fade] *= curve
        body[m - fade:] *= curve[::-1]
    np.clip(out, -1.0, 1.0, out=out)
    return out


def _music_pieces(path, n_samples=None):
    """The first n_samples (None: all) of a music file, mono float32 at 44.1 kHz, in pieces of
    _RMS_STEP samples."""
    from albumlib.audio import iter_audio_chunks

    pos = 0
    for chunk in iter_audio_chunks(path, sr=AUDIO_SR, chunk_samples=_RMS_STEP):
        if n_samples is not None and pos >= n_samples:
            break
        piece = chunk if n_samples is None else chunk[:n_samples - pos]
        pos += piece.size
        yield piece


def music_samples(path):
    """The length in samples at 44.1 kHz of a music file, decoded in pieces (nothing kept)."""
    from albumlib.audio import AudioError

    n = sum(piece.size for piece in _music_pieces(path))
    if n == 0:
        raise AudioError(path, "no audio samples")
    return n


def _wav_float32_header(n_samples, sr=AUDIO_SR):
    """The header of a mono IEEE-float32 WAV file of n_samples samples."""
    import struct

    data = 4 * int(n_samples)
    fmt = struct.pack("<HHIIHHH", 3, 1, sr, 4 * sr, 4, 32, 0)  # float, mono, cbSize 0
    return (b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 12 + 8 + data) + b"WAVE"
            + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"fact" + struct.pack("<II", 4, int(n_samples))
            + b"data" + struct.pack("<I", data))


def write_soundtrack(path, n_samples, wav, fade_seconds=1.0, normalise="rms"):
    """`soundtrack(music of file path, ...)` written to a float32 WAV, the file read twice in
    pieces and never held whole, so memory stays flat however long the film; notebook 06.

    Pass 1 measures the length (and the gated RMS), pass 2 applies the gain and the fades. The
    same samples as `soundtrack`, bit for bit. normalise: "rms" or None (loudnorm needs the
    whole signal: use `soundtrack`).
    """
    from albumlib.audio import AudioError

    if normalise not in (None, "rms"):
        raise ValueError(f"write_soundtrack normalises with 'rms' or None, got {normalise!r}")
    n_samples, rms, m = int(n_samples), dsp.GatedRms(_RMS_BLOCK), 0
    for piece in _music_pieces(path, n_samples):
        m += piece.size
        if normalise == "rms":
            rms.add(piece)
    if m == 0:
        raise AudioError(path, "no audio samples")
    gain = np.float32(rms.gain(RMS_TARGET_DBFS, PEAK_CEILING_DBFS) if normalise == "rms" else 1.0)
    fade = min(round_half_up(max(0.0, fade_seconds) * AUDIO_SR), m // 2)
    curve = _fade_curve(fade)
    with open(wav, "wb") as f:
        f.write(_wav_float32_header(n_samples))
        pos = 0
        for piece in _music_pieces(path, m):
            x = piece * gain if normalise == "rms" else piece.copy()
            end = pos + x.size
            if pos < fade:                      # fade in over [0, fade)
                x[:fade - pos] *= curve[pos:min(fade, end)]
            if end > m - fade:                  # fade out over [m - fade, m)
                first = max(pos, m - fade)
                x[first - pos:] *= curve[::-1][first - (m - fade):end - (m - fade)]
            np.clip(x, -1.0, 1.0, out=x)
            f.write(x.astype("<f4", copy=False).tobytes())
            pos = end
        if pos != m:
            raise AudioError(path, "the file changed while it was read")
        silence = np.zeros(min(_RMS_STEP, n_samples - m), dtype="<f4")
        for start in range(m, n_samples, _RMS_STEP):
            f.write(silence[:min(_RMS_STEP, n_samples - start)].tobytes())
    return Path(wav)
