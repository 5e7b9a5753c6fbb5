"""Photos + a soundtrack -> a film that plays in browsers and phones: `make_video` (notebook 06).

The steps, each in its module: the options and the output are checked first (`options.Cut`,
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
from albumlib import beats
from albumlib.film import encode
from albumlib.film.encode import AUDIO_SR
from albumlib.film.frames import iter_frames, usable_photos
from albumlib.film.options import Cut
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


def make_video(photos, audio, out_path, cut=Cut(), *, fade_seconds=1.0, loudness="rms", seed=0,
               morph=None, overwrite=False, progress=True):
    """Make a film of `photos` with `audio` as its soundtrack; returns a `VideoResult`; notebook 06.

    photos: a folder (in name order), or a list of paths and/or arrays (H, W[, 3|4], float in
        [0, 1] or uint8), or (path, image) pairs, shown in the order given; unreadable ones are
        skipped with a SkippedImageWarning (`cut.order` is make_album's: it chooses the photos).
    audio: a music file, a (signal, sample_rate) pair, or None for a silent film.
    out_path: .mp4 (H.264 + AAC; .webm if only VP9 is available, with a CodecFallbackWarning)
        or .webm. Written whole or not at all; an existing file is kept unless overwrite=True.
    cut: how the film is cut and encoded (`albumlib.film.options.Cut`):
        seconds_per_photo / fit_to_audio: each photo's slot, or the music's length shared equally;
        size: "720p", "1080p", "480p", "portrait", "square", "WxH" or (w, h), even;
        fit: "letterbox" (black bars) or "blur" (a blurred copy of the photo behind it);
        transition / transition_seconds: "crossfade" centred on each cut (not shortening the
            film), "none", or "morph": a crossfade during which both photos' style morphs from
            the first photo's to the second's, given `morph(k)` (`frames._Morphs`; make_album
            makes it);
        ken_burns / zoom: a slow linear zoom and pan on each photo (up to `zoom`, seeded by
            `seed`); beat_sync: move each cut to the nearest onset of the music (slots within
            0.5x-2x);
        codec, crf, preset: "auto" or an encoder; x264 quality (lower is better, 18-23 usual)
            and speed preset. "veryfast", not x264's "medium": on photo films at CRF 20 it
            measured the same quality (PSNR against the planned frames 37.90 against 38.06 dB
            with crossfades, 37.27 against 37.54 with Ken Burns) and size (2.13 against 2.15 MB;
            1.07 against 1.23) for half or less of the encoder's CPU time (benchmarks/RESULTS.md,
            issue 6).
    fade_seconds: audio fade in at the start and out where the music ends.
    loudness: "rms" (numpy gated RMS; True too), "loudnorm" (ffmpeg EBU R128) or None (False).
    seed: the Ken Burns moves.
    """
    if not isinstance(cut, Cut):
        raise TypeError(f"cut must be an albumlib.film.options.Cut, got {type(cut).__name__}")
    size = cut.frame_size
    normalise = _check_options(loudness, audio, cut.fit_to_audio, cut.beat_sync)
    path, chosen, notes = encode.film_path(out_path, cut.codec, overwrite)
    items, n_given = usable_photos(photos)

    # a music file is streamed (read in pieces, twice: memory stays flat with the film's
    # length) unless beat sync or loudnorm need the whole signal
    stream = isinstance(audio, (str, Path)) and not cut.beat_sync and normalise != "loudnorm"
    music = music_signal(audio) if audio is not None and not stream else None
    timeline = _plan(len(items), audio, music, cut)
    kept = timeline.kept_frames(moving=cut.ken_burns)  # a still photo is sent once
    frames = iter_frames(items, timeline, size, fit=cut.fit, ken_burns=cut.ken_burns,
                         zoom=cut.zoom, seed=seed, frames=kept,
                         morph=morph if cut.transition == "morph" else None)
    with fileio.temp_dir("film") as work:
        n_samples = round_half_up(timeline.duration * AUDIO_SR)
        wav = _soundtrack_wav(audio if stream else None, music, n_samples, work,
                              fade_seconds=fade_seconds, normalise=normalise)
        del music
        info = encode.encode_and_check(frames, timeline, size, wav, path, chosen, cut.crf,
                                       cut.preset, progress, kept)
    return VideoResult(path=path, codec=chosen.name, duration=timeline.duration,
                       n_frames=timeline.n_frames, fps=timeline.fps, size=size,
                       timeline=timeline, info=info, skipped=n_given - len(items), notes=notes)


def _check_options(loudness, audio, fit_to_audio, beat_sync):
    """make_video's options checked before any work (the Cut checked itself); the loudness
    normalisation ("rms", "loudnorm" or None); notebook 06."""
    normalise = {True: "rms", False: None, None: None}.get(loudness, loudness)
    if normalise not in (None, *LOUDNESS):
        raise ValueError(f"loudness must be 'rms', 'loudnorm' or None (True, False), "
                         f"got {loudness!r}")
    if audio is None and (fit_to_audio or beat_sync):
        raise ValueError("fit_to_audio and beat_sync need an audio track")
    return normalise


def _plan(n_photos, audio, music, cut):
    """The film's `Timeline`: slots of cut.seconds_per_photo, or the music's length shared
    (fit_to_audio), cut on the music's onsets (beat_sync); notebook 06."""
    onsets = None
    if cut.beat_sync:
        onsets = beats.detect_onsets(music, AUDIO_SR)
    music_seconds = None
    if cut.fit_to_audio:
        music_seconds = (music.size if music is not None else music_samples(audio)) / AUDIO_SR
    transition_seconds = cut.transition_seconds if cut.transition != "none" else 0.0
    return plan_timeline(n_photos, cut.seconds_per_photo, transition_seconds, cut.fps,
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
