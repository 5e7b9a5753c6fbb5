"""Photos + a soundtrack -> a film that plays in browsers and phones: `make_video` (notebook 06).

The steps, each in its module: the options and the output are checked first (`canvas`,
`encode.film_path`), the photos (`frames.usable_photos`); the music is decoded when beat sync or
loudnorm need it whole (`soundtrack`), its onsets found (`beats`); the film is planned frame by
frame (`timeline`), its frames rendered one at a time (`frames`, `kenburns`), the soundtrack
written to a WAV file (`soundtrack`), and both encoded, checked and moved into place (`encode`).
"""

import dataclasses
from pathlib import Path

from albumlib import fileio
from albumlib.dsp import round_half_up
from albumlib.ffmpeg import MediaInfo
from albumlib.film import beats, encode
from albumlib.film.canvas import FITS, canvas_size
from albumlib.film.encode import AUDIO_SR
from albumlib.film.frames import TRANSITIONS, iter_frames, usable_photos
from albumlib.film.kenburns import KEN_BURNS_ZOOM
from albumlib.film.soundtrack import (LOUDNESS, music_samples, music_signal, soundtrack,
                                      write_soundtrack)
from albumlib.film.timeline import Timeline, plan_timeline


@dataclasses.dataclass
class VideoResult:
    """What `make_video` wrote."""

    path: Path
    codec: str
    duration: float
    n_frames: int
    fps: float
    size: tuple
    timeline: Timeline
    info: MediaInfo = None
    skipped: int = 0
    notes: list = dataclasses.field(default_factory=list)

    def show(self, embed=True, width=640):
        """The film as an IPython Video (embedded as base64 by default: fine for short films)."""
        from IPython.display import Video

        return Video(str(self.path), embed=embed, width=width)


def make_video(photos, audio, out_path, *, seconds_per_photo=1.0, fit_to_audio=False,
               size="720p", fps=30, fit="letterbox", transition="crossfade",
               transition_seconds=0.3, ken_burns=False, beat_sync=False, fade_seconds=1.0,
               normalise_loudness=True, overwrite=False, progress=True, crf=20,
               codec="auto", preset="veryfast", zoom=KEN_BURNS_ZOOM, seed=0, morph=None):
    """Make a film of `photos` with `audio` as its soundtrack; returns a `VideoResult`; notebook 06.

    photos: a folder, or a list of paths and/or arrays (H, W[, 3|4], float in [0, 1] or uint8),
        or (path, image) pairs; unreadable ones are skipped with a SkippedImageWarning.
    audio: a music file, a (signal, sample_rate) pair, or None for a silent film.
    out_path: .mp4 (H.264 + AAC; .webm if only VP9 is available, with a CodecFallbackWarning)
        or .webm. Written whole or not at all; an existing file is kept unless overwrite=True.
    seconds_per_photo / fit_to_audio: each photo's slot, or the music's length shared equally.
    size: "720p", "1080p", "480p", "portrait", "square", "WxH" or (w, h), even.
    fit: "letterbox" (black bars) or "blur" (a blurred copy of the photo behind it).
    transition / transition_seconds: "crossfade" centred on each cut (not shortening the film),
        "none", or "morph": a crossfade during which both photos' style morphs from the first
        photo's to the second's, given `morph(k)` (see `frames._Morphs`; album.make_album
        makes it).
    ken_burns: a slow linear zoom and pan on each photo (zoom up to `zoom`, seeded by `seed`).
    beat_sync: move each cut to the nearest onset of the music (slots within 0.5x-2x).
    fade_seconds: audio fade in at the start and out where the music ends.
    normalise_loudness: True / "rms" (numpy gated RMS), "loudnorm" (ffmpeg EBU R128) or False.
    crf, preset: x264 quality (lower is better, 18-23 usual) and speed preset. "veryfast", not
        x264's "medium": on photo films at CRF 20 it measured the same quality (PSNR against
        the planned frames 37.90 against 38.06 dB with crossfades, 37.27 against 37.54 with
        Ken Burns) and size (2.13 against 2.15 MB; 1.07 against 1.23) for half or less of the
        encoder's CPU time (benchmarks/RESULTS.md, issue 6).
    """
    size = canvas_size(size)
    normalise = _check_options(fit, transition, crf, normalise_loudness, audio, fit_to_audio,
                               beat_sync)
    path, chosen, notes = encode.film_path(out_path, codec, overwrite)
    items, n_given = usable_photos(photos)

    # a music file is streamed (read in pieces, twice: memory stays flat with the film's
    # length) unless beat sync or loudnorm need the whole signal
    stream = isinstance(audio, (str, Path)) and not beat_sync and normalise != "loudnorm"
    music = music_signal(audio) if audio is not None and not stream else None
    timeline = _plan(len(items), audio, music, seconds_per_photo,
                     transition_seconds if transition != "none" else 0.0, fps,
                     fit_to_audio=fit_to_audio, beat_sync=beat_sync)
    kept = timeline.kept_frames(moving=ken_burns)  # a still photo is sent once
    frames = iter_frames(items, timeline, size, fit=fit, ken_burns=ken_burns, zoom=zoom,
                         seed=seed, frames=kept, morph=morph if transition == "morph" else None)
    with fileio.temp_dir("film") as work:
        n_samples = round_half_up(timeline.duration * AUDIO_SR)
        wav = _soundtrack_wav(audio if stream else None, music, n_samples, work,
                              fade_seconds=fade_seconds, normalise=normalise)
        del music
        info = encode.encode_and_check(frames, timeline, size, wav, path, chosen, crf, preset,
                                       progress, kept)
    return VideoResult(path=path, codec=chosen.name, duration=timeline.duration,
                       n_frames=timeline.n_frames, fps=timeline.fps, size=size,
                       timeline=timeline, info=info, skipped=n_given - len(items), notes=notes)


def _check_options(fit, transition, crf, normalise_loudness, audio, fit_to_audio, beat_sync):
    """make_video's options checked before any work; the loudness normalisation ("rms",
    "loudnorm" or None); notebook 06."""
    if fit not in FITS:
        raise ValueError(f"fit must be one of {', '.join(FITS)}, got {fit!r}")
    if transition not in TRANSITIONS:
        raise ValueError(f"transition must be one of {', '.join(TRANSITIONS)}, "
                         f"got {transition!r}")
    if not 0 <= int(crf) <= 51:
        raise ValueError(f"crf must be in 0..51, got {crf!r}")
    normalise = {True: "rms", False: None, None: None}.get(normalise_loudness, normalise_loudness)
    if normalise not in (None, *LOUDNESS):
        raise ValueError(f"normalise_loudness must be True, False, 'rms' or 'loudnorm', "
                         f"got {normalise_loudness!r}")
    if audio is None and (fit_to_audio or beat_sync):
        raise ValueError("fit_to_audio and beat_sync need an audio track")
    return normalise


def _plan(n_photos, audio, music, seconds_per_photo, transition_seconds, fps, *, fit_to_audio,
          beat_sync):
    """The film's `Timeline`: slots of seconds_per_photo, or the music's length shared
    (fit_to_audio), cut on the music's onsets (beat_sync); notebook 06."""
    onsets = None
    if beat_sync:
        onsets = beats.detect_onsets(music, AUDIO_SR)
    music_seconds = None
    if fit_to_audio:
        music_seconds = (music.size if music is not None else music_samples(audio)) / AUDIO_SR
    return plan_timeline(n_photos, seconds_per_photo, transition_seconds, fps,
                         audio_seconds=music_seconds, onsets=onsets)


def _soundtrack_wav(stream, music, n_samples, work, *, fade_seconds, normalise):
    """The soundtrack as a WAV file in folder `work`, from a music file streamed in pieces
    (`stream`) or the decoded `music`; None for a silent film; notebook 06."""
    if stream is not None:
        return write_soundtrack(stream, n_samples, Path(work) / "soundtrack.wav",
                                fade_seconds=fade_seconds, normalise=normalise)
    if music is None:
        return None
    from scipy.io import wavfile

    track = soundtrack(music, n_samples, fade_seconds=fade_seconds, normalise=normalise,
                       folder=work)
    wav = Path(work) / "soundtrack.wav"
    wavfile.write(wav, AUDIO_SR, track)
    return wav
