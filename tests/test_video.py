"""Tests of albumlib.film (and albumlib.ffmpeg): timeline, layouts, Ken Burns, beat snapping,
encoding and its checks."""

import dataclasses
import re
import subprocess
import tracemalloc
import warnings

import numpy as np
import pytest
from PIL import Image
from scipy.io import wavfile

from albumlib import ffmpeg
from albumlib.film import assemble, canvas, encode, frames, kenburns, soundtrack, timeline
from albumlib.film.options import Cut
from albumlib.images import ImageError, SkippedImageWarning

SR = 44100
SMALL = (160, 90)
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def solid(rgb, h=60, w=80):
    a = np.zeros((h, w, 3), np.uint8)
    a[:] = rgb
    return a


def sine(seconds, sr=SR, freq=440.0, amp=0.3):
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(round(seconds * sr))) / sr)
            ).astype(np.float32)


def decode_frames(path, size=SMALL, fps=None):
    """All frames of a film as uint8 RGB (n, h, w, 3), decoded by the bundled ffmpeg, as a
    player shows them at `fps` (default: the film's nominal rate): each frame until the next."""
    fps = fps or ffmpeg.probe(path).fps
    cmd = [ffmpeg.ffmpeg_exe(), "-nostdin", "-v", "error", "-i", str(path.absolute()),
           "-vf", f"fps={float(fps)!r}", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, size[1], size[0], 3)


def leftovers(folder):
    """Temporary files left beside the outputs."""
    return [p.name for p in folder.iterdir() if ".tmp" in p.name]


# --- canvas ------------------------------------------------------------------------------------

def test_canvas_presets_are_even():
    for name, (w, h) in canvas.PRESETS.items():
        assert canvas.canvas_size(name) == (w, h)
        assert w % 2 == 0 and h % 2 == 0
    assert canvas.canvas_size("720p") == (1280, 720)
    assert canvas.canvas_size("portrait") == (720, 1280)
    assert canvas.canvas_size("square") == (1080, 1080)
    assert canvas.canvas_size("640x360") == (640, 360)
    assert canvas.canvas_size((320, 240)) == (320, 240)
    for bad in ("641x360", (7, 8), "huge", "0x0"):
        with pytest.raises(ValueError):
            canvas.canvas_size(bad)


# --- timeline ----------------------------------------------------------------------------------

def test_timeline_crossfade_arithmetic():
    tl = timeline.plan_timeline(3, seconds_per_photo=1.0, transition_seconds=0.3, fps=5)
    assert tl.boundaries == (0, 5, 10, 15) and tl.n_frames == 15
    assert tl.duration == 3.0  # n * d: the crossfades sit inside the slots
    assert tl.transition_frames == 2  # 1.5 frames, rounded half up
    assert tl.transition(0) == (4, 6) and tl.transition(1) == (9, 11)
    assert tl.visible(0) == (0, 6) and tl.visible(1) == (4, 11) and tl.visible(2) == (9, 15)
    assert tl.sources(3) == ((0, 1.0),)
    assert np.allclose(tl.sources(4), ((0, 2 / 3), (1, 1 / 3)))
    assert np.allclose(tl.sources(5), ((0, 1 / 3), (1, 2 / 3)))
    assert tl.sources(6) == ((1, 1.0),)
    for i in range(tl.n_frames):
        assert sum(w for _, w in tl.sources(i)) == pytest.approx(1.0)
    with pytest.raises(IndexError):
        tl.sources(15)


def test_timeline_frame_exact_without_drift():
    n, d, fps = 100, 1.01, 24
    tl = timeline.plan_timeline(n, d, 0.25, fps)
    assert tl.n_frames == round(n * d * fps)
    b = np.array(tl.boundaries)
    assert np.all(np.abs(b - np.arange(n + 1) * d * fps) <= 0.5)  # never more than half a frame
    assert set(np.diff(b)) <= {24, 25}
    assert tl.transition_frames == 6


def test_timeline_fitted_to_audio_and_hard_cuts():
    tl = timeline.plan_timeline(4, transition_seconds=0.0, fps=30, audio_seconds=10.01)
    assert tl.n_frames == 300 and tl.boundaries == (0, 75, 150, 225, 300)
    assert tl.transition_frames == 0
    assert all(len(tl.sources(i)) == 1 for i in range(tl.n_frames))
    one = timeline.plan_timeline(1, 2.0, 0.5, 10)
    assert one.boundaries == (0, 20) and one.transition_frames == 0


def test_timeline_shortens_crossfades_that_do_not_fit():
    with pytest.warns(timeline.TimelineWarning, match="shortened"):
        tl = timeline.plan_timeline(3, seconds_per_photo=0.2, transition_seconds=0.5, fps=10)
    assert tl.transition_frames == 1  # slots of 2 frames: every photo alone for >= 1 frame
    with pytest.raises(ValueError, match="need at least 5 frames"):
        timeline.plan_timeline(5, seconds_per_photo=0.05, fps=10)
    with pytest.raises(ValueError):
        timeline.plan_timeline(0)


def test_beat_snapping_moves_cuts_to_onsets_within_limits():
    onsets = [0.3, 0.9, 2.2, 2.95, 3.5]
    tl = timeline.plan_timeline(4, 1.0, 0.2, 30, onsets=onsets)
    assert tl.boundaries == (0, 27, 66, 89, 120)  # 0.3 s would make a slot under 0.5 d
    rng = np.random.default_rng(0)
    for _ in range(50):
        n = int(rng.integers(2, 12))
        times = np.sort(rng.uniform(0, n * 1.0, size=int(rng.integers(0, 40))))
        tl = timeline.plan_timeline(n, 1.0, 0.3, 30, onsets=times)
        slots = np.diff(tl.boundaries)
        assert tl.n_frames == 30 * n
        assert slots.min() >= 15 and slots.max() <= 60
    jittered = np.arange(1, 10) + rng.uniform(-0.2, 0.2, size=9)   # one onset near each cut
    tl = timeline.plan_timeline(10, 1.0, 0.3, 30, onsets=jittered)
    np.testing.assert_array_equal(tl.boundaries[1:-1], np.floor(jittered * 30 + 0.5))


def test_click_track_cuts_land_within_a_frame():
    from albumlib import beats
    from test_beats import click_track

    clicks = [1.1, 1.93, 3.05]
    x = click_track(clicks, 4.0)
    tl = timeline.plan_timeline(4, 1.0, 0.3, 30, audio_seconds=4.0,
                                onsets=beats.detect_onsets(x, SR))
    assert np.max(np.abs(np.array(tl.boundaries[1:-1]) / 30 - clicks)) <= 1 / 30


# --- layouts -----------------------------------------------------------------------------------

def test_letterbox_layout_pixels():
    square = canvas.layout_photo(solid(RED, 100, 100), SMALL, fit="letterbox")
    assert square.shape == (90, 160, 3) and square.dtype == np.uint8
    assert (square[:, :34] == 0).all() and (square[:, -34:] == 0).all()  # bars: (160 - 90) / 2
    assert (square[:, 36:124] == RED).all()
    wide = canvas.layout_photo(solid(GREEN, 50, 200), SMALL)
    assert (wide[:25] == 0).all() and (wide[-25:] == 0).all()  # 160x40 centred
    assert (wide[27:63] == GREEN).all()
    portrait = canvas.layout_photo(solid(BLUE, 80, 40), (100, 100))
    assert (portrait[:, :24] == 0).all() and (portrait[:, 26:74] == BLUE).all()


def test_blur_layout_fills_the_bars_with_the_photo():
    card = solid(RED, 100, 100)
    card[:, 50:] = BLUE
    out = canvas.layout_photo(card, SMALL, fit="blur")
    assert (np.abs(out[:, 36:76].astype(int) - RED) <= 2).all()          # the photo itself
    assert (np.abs(out[:, 84:124].astype(int) - BLUE) <= 2).all()
    left, right = out[:, :30].reshape(-1, 3).mean(0), out[:, -30:].reshape(-1, 3).mean(0)
    assert left[0] > 100 and left[2] < 40      # darkened red behind the left bar
    assert right[2] > 100 and right[0] < 40    # darkened blue behind the right bar
    assert out.max() <= 255 and out[:, :30].max() < 200


def test_exif_orientation_and_odd_inputs(tmp_path):
    stored = solid(RED, 20, 40)                 # 40 wide, 20 high as stored
    exif = Image.Exif()
    exif[0x0112] = 6                            # displayed rotated: 20 wide, 40 high
    path = tmp_path / "rotated.jpg"
    Image.fromarray(stored).save(path, quality=95, exif=exif.tobytes())
    tl = timeline.plan_timeline(1, 1.0, 0.0, 1)
    frame = next(frames.iter_frames([path], tl, (100, 100)))
    assert frame[:, :20].max() < 10 and frame[:, 80:].max() < 10  # bars left and right: upright
    assert np.abs(frame[50, 50].astype(int) - RED).max() < 12
    grey = np.full((10, 10), 0.5, np.float32)
    rgba = np.zeros((10, 10, 4), np.float32)    # fully transparent: white
    assert (canvas.layout_photo(grey, (10, 10)) == 128).all()
    assert (canvas.layout_photo(rgba, (10, 10)) == 255).all()


def test_letterbox_of_a_file_matches_the_float_layout(tmp_path):
    """The 8-bit fast path for files: the same picture as layout_photo(load_image(path))."""
    from albumlib import images
    rng = np.random.default_rng(0)
    smooth = (np.linspace(0, 1, 300)[None, :, None] * np.linspace(0.2, 1, 200)[:, None, None]
              * np.array([1.0, 0.6, 0.3]))
    photo = (smooth * 255 + rng.normal(0, 3, smooth.shape)).clip(0, 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6                                   # shown upright: 200 wide, 300 high
    jpeg, png16, rgba = tmp_path / "p.jpg", tmp_path / "deep.png", tmp_path / "alpha.png"
    Image.fromarray(photo).save(jpeg, quality=95, exif=exif.tobytes())
    Image.fromarray((smooth[..., 0] * 65535).astype(np.uint16)).save(png16)
    alpha = np.dstack([photo, np.full(photo.shape[:2], 128, np.uint8)])
    Image.fromarray(alpha, "RGBA").save(rgba)
    for path in (jpeg, png16, rgba):
        for size in ((160, 90), (640, 360)):               # down and up
            fast = canvas.letterbox_file(path, size)
            slow = canvas.layout_photo(images.load_image(path, max_side=max(size)), size)
            assert fast.shape == slow.shape == (size[1], size[0], 3) and fast.dtype == np.uint8
            diff = np.abs(fast.astype(int) - slow.astype(int))
            assert diff.mean() < 1.5 and np.percentile(diff, 99) < 12, (path.name, size)
    tall = canvas.letterbox_file(jpeg, (160, 90))
    assert tall[:, :40].max() < 10 and tall[:, 120:].max() < 10  # upright: bars left and right


# --- Ken Burns ---------------------------------------------------------------------------------

def test_ken_burns_windows_move_linearly_inside_the_canvas():
    tl = timeline.plan_timeline(4, 2.0, 0.5, 30)
    for k in range(4):
        first, end = tl.visible(k)
        w = np.array([kenburns.ken_burns_window(k, tl.progress(k, i), SMALL) for i in
                      range(first, end)])
        assert np.abs(np.diff(w, n=2, axis=0)).max() < 1e-9   # constant velocity: no jitter
        centre = w[:, :2] + w[:, 2:] / 2
        step = np.diff(centre, axis=0)
        assert np.abs(step - step[0]).max() < 1e-9
        assert (w[:, 0] >= -1e-9).all() and (w[:, 1] >= -1e-9).all()
        assert (w[:, 0] + w[:, 2] <= SMALL[0] + 1e-9).all()
        assert (w[:, 1] + w[:, 3] <= SMALL[1] + 1e-9).all()
        assert np.isclose(w[:, 2] / w[:, 3], SMALL[0] / SMALL[1]).all()   # no distortion
        assert w[:, 2].min() == pytest.approx(SMALL[0] / kenburns.KEN_BURNS_ZOOM)
    assert kenburns.ken_burns_window(2, 0.5, SMALL, seed=1) == kenburns.ken_burns_window(
        2, 0.5, SMALL, seed=1)


def test_ken_burns_rendering_is_subpixel_accurate():
    size, cx, cy = (160, 90), 70.3, 41.7
    ss = kenburns.supersample(size)
    yy, xx = np.mgrid[0:ss[1], 0:ss[0]]
    sx, sy = ss[0] / size[0], ss[1] / size[1]
    blob = np.exp(-(((xx + 0.5) / sx - cx) ** 2 + ((yy + 0.5) / sy - cy) ** 2) / (2 * 4.0 ** 2))
    canvas = np.repeat((blob * 255)[..., None], 3, axis=2).astype(np.float32)
    tl = timeline.plan_timeline(1, 2.0, 0.0, 30)
    errors = []
    for i in range(tl.n_frames):
        x0, y0, w, h = kenburns.ken_burns_window(0, tl.progress(0, i), size)
        frame = kenburns.render_frame(tl, i, {0: canvas}, size, ken_burns=True)
        m = frame[..., 0].astype(float)
        gy, gx = np.mgrid[0:size[1], 0:size[0]] + 0.5
        got = np.array([(m * gx).sum() / m.sum(), (m * gy).sum() / m.sum()])
        want = np.array([(cx - x0) * size[0] / w, (cy - y0) * size[1] / h])
        errors.append(got - want)
    errors = np.array(errors)
    assert np.abs(errors).max() < 0.05            # whole-pixel cropping would be off by ~0.5
    assert np.abs(np.diff(errors, n=2, axis=0)).max() < 0.03


def test_warp_identity_and_half_pixel_shift():
    a = np.random.default_rng(0).integers(0, 255, (20, 30, 3)).astype(np.uint8)
    np.testing.assert_allclose(kenburns.warp_window(a, (0, 0, 30, 20), (30, 20)), a, atol=1e-4)
    shifted = kenburns.warp_window(a, (0.5, 0, 30, 20), (30, 20))
    np.testing.assert_allclose(shifted[:, :-1], (a[:, :-1] / 2 + a[:, 1:] / 2), atol=1e-3)


# --- audio -------------------------------------------------------------------------------------

def test_soundtrack_length_fades_and_normalisation():
    music = sine(2.0, amp=0.05)
    track = soundtrack.soundtrack(music, 3 * SR, fade_seconds=0.5, normalise="rms")
    assert track.shape == (3 * SR,) and track.dtype == np.float32
    assert (track[2 * SR:] == 0).all()                          # padded with silence
    assert abs(track[0]) < 0.01 and abs(track[2 * SR - 1]) < 0.01   # faded in and out
    body = track[SR // 2:3 * SR // 2]
    assert 20 * np.log10(np.sqrt(np.mean(body ** 2))) == pytest.approx(-16.0, abs=0.2)
    cut = soundtrack.soundtrack(sine(5.0), SR, fade_seconds=0.1, normalise=None)
    assert cut.shape == (SR,) and abs(cut[-1]) < 0.01
    peaky = np.zeros(SR, np.float32)
    peaky[::1000] = 0.9
    loud = soundtrack.normalise_rms(peaky + sine(1.0, amp=0.001))
    assert np.abs(loud).max() == pytest.approx(10 ** (-1 / 20), rel=1e-4)  # peak ceiling wins
    assert (soundtrack.normalise_rms(np.zeros(100)) == 0).all()


@pytest.mark.parametrize("film_seconds, fade, normalise", [(12.0, 1.0, "rms"),
                                                         (20.0, 0.5, None),
                                                         (15.5, 30.0, "rms")])
def test_streamed_soundtrack_is_the_in_memory_one_bit_for_bit(tmp_path, film_seconds, fade,
                                                             normalise):
    """A music file is read in pieces (twice), never whole: the same samples as soundtrack()."""
    t = np.arange(int(15.5 * 22050)) / 22050           # 15.5 s: three pieces of 6.4 s
    left = 0.3 * np.sin(2 * np.pi * 330 * t) * (t < 9)  # a silent stretch at the end (gated)
    song = tmp_path / "song.wav"
    wavfile.write(song, 22050, np.stack([left, 0.2 * np.sin(2 * np.pi * 220 * t)], axis=1)
                  .astype(np.float32))
    n = int(film_seconds * encode.AUDIO_SR)
    expected = soundtrack.soundtrack(soundtrack.music_signal(song), n, fade_seconds=fade,
                                     normalise=normalise)
    wav = soundtrack.write_soundtrack(song, n, tmp_path / "track.wav", fade_seconds=fade,
                                      normalise=normalise)
    rate, got = wavfile.read(wav)
    assert rate == encode.AUDIO_SR and got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)
    assert soundtrack.music_samples(song) == soundtrack.music_signal(song).size


def test_streamed_soundtrack_memory_does_not_grow_with_the_music(tmp_path):
    peaks = {}
    for seconds in (30, 120):                            # 5.3 and 21 MB as float32
        song = tmp_path / f"song{seconds}.wav"
        t = np.arange(seconds * 8000) / 8000
        wavfile.write(song, 8000, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))
        n = seconds * encode.AUDIO_SR
        tracemalloc.start()
        try:
            soundtrack.write_soundtrack(song, n, tmp_path / f"track{seconds}.wav")
            peaks[seconds] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert (tmp_path / f"track{seconds}.wav").stat().st_size == 4 * n + 58
    assert peaks[120] < 1.2 * peaks[30] + 1e6 and peaks[120] < 4 * 120 * encode.AUDIO_SR / 2


def test_loudnorm_keeps_length_and_rate():
    track = soundtrack.soundtrack(sine(1.5, amp=0.02), 2 * SR, fade_seconds=0.2,
                                  normalise="loudnorm")
    assert track.shape == (2 * SR,)
    assert np.sqrt(np.mean(track[SR // 4:SR] ** 2)) > 0.05   # made louder


# --- encoding ----------------------------------------------------------------------------------

def test_available_encoders_cached():
    have = ffmpeg.available_encoders()
    assert ffmpeg.available_encoders() is have
    assert "aac" in have and any(c in have for c in encode.FALLBACK_ORDER)


def test_small_encode_decodes_as_planned(tmp_path):
    photos = [solid(RED), solid(GREEN, 40, 100), solid(BLUE, 90, 30)]
    out = tmp_path / "film.mp4"
    result = assemble.make_video(photos, (sine(2.0, sr=22050), 22050), out,
                                 Cut(size=SMALL, fps=5, transition="none"), progress=False)
    assert result.path == out and out.is_file() and result.codec == "libx264"
    assert result.n_frames == 15 and result.duration == 3.0
    info = ffmpeg.probe(out)
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p"
    assert info.color.startswith("tv, bt709")
    assert info.audio_codec == "aac" and info.sample_rate == 44100
    assert (info.width, info.height, info.n_frames) == (160, 90, 15)
    assert info.video_seconds == pytest.approx(3.0) and info.audio_seconds == pytest.approx(3.0)
    assert ffmpeg.probe_duration(out) == pytest.approx((3.0, 3.0))
    assert all(s in info.text for s in ("h264", "yuv420p", "aac", "44100 Hz"))
    data = out.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")           # faststart
    frames = decode_frames(out)
    assert frames.shape[0] == 15
    for k, rgb in enumerate((RED, GREEN, BLUE)):               # BT.709 in and out
        assert np.abs(frames[5 * k + 2, 45, 80].astype(int) - rgb).max() <= 12
    assert not leftovers(tmp_path)


def test_crossfade_ken_burns_blur_and_fit_to_audio_encode(tmp_path):
    song = tmp_path / "song.wav"
    wavfile.write(song, SR, sine(2.2))
    photos = [solid(RED), solid(BLUE), solid(GREEN)]
    result = assemble.make_video(photos, song, tmp_path / "fit.mp4",
                                 Cut(size=SMALL, fps=10, fit_to_audio=True, ken_burns=True,
                                     fit="blur", transition_seconds=0.3), progress=False)
    assert result.n_frames == 22 and result.timeline.boundaries == (0, 7, 15, 22)
    assert result.info.audio_seconds == pytest.approx(2.2, abs=0.1)
    frames = decode_frames(result.path)
    assert frames.shape[0] == 22
    mid = frames[7, 45, 80].astype(int)                       # halfway through the crossfade
    assert mid[0] > 60 and mid[2] > 60 and mid[1] < 40


def test_still_frames_are_sent_once():
    tl = timeline.plan_timeline(3, seconds_per_photo=1.0, transition_seconds=0.3, fps=10)
    assert tl.boundaries == (0, 10, 20, 30) and tl.transition_frames == 3
    # photo 0 alone from 0, crossfade 9-11, photo 1 alone from 12, crossfade 19-21, photo 2
    # alone from 22 to the end (29, kept so that the film lasts to its end)
    assert tl.kept_frames() == [0, 9, 10, 11, 12, 19, 20, 21, 22, 29]
    assert tl.kept_frames(moving=True) == list(range(30))
    cut = timeline.plan_timeline(2, seconds_per_photo=1.0, transition_seconds=0.0, fps=5)
    assert cut.kept_frames() == [0, 5, 9]
    assert timeline.plan_timeline(1, 0.2, 0.0, fps=5).kept_frames() == [0]


def test_iter_frames_crossfades_match_render_frame():
    """iter_frames mixes a crossfade as a + (b - a) w from arrays made once per pair."""
    rng = np.random.default_rng(3)
    photos = [rng.integers(0, 256, (90, 160, 3), dtype=np.uint8) for _ in range(3)]
    tl = timeline.plan_timeline(3, seconds_per_photo=1.0, transition_seconds=0.5, fps=10)
    canvases = {k: canvas.layout_photo(p, SMALL) for k, p in enumerate(photos)}
    for i, frame in zip(tl.kept_frames(), frames.iter_frames(photos, tl, SMALL,
                                                           frames=tl.kept_frames())):
        reference = kenburns.render_frame(tl, i, canvases, SMALL)
        assert frame.dtype == np.uint8 and np.abs(frame.astype(int) - reference).max() <= 1
        if len(tl.sources(i)) == 1:
            assert np.array_equal(frame, reference)


def test_pts_expression_maps_frames_sent_to_their_place():
    kept = [0, 9, 10, 11, 12, 19, 20, 21, 22, 29]
    expr = encode.pts_expression(kept)
    assert expr == "((N+8*gte(N,1))+(6*gte(N,5)+6*gte(N,9)))"
    gte = lambda a, b: int(a >= b)  # noqa: E731 - ffmpeg's gte()
    assert [eval(expr, {"gte": gte, "N": n}) for n in range(len(kept))] == kept
    assert encode.pts_expression([0, 1, 2]) == "N"


def test_a_long_album_encodes(tmp_path):
    """120 photos: the timestamp expression has 121 terms (a plain sum of 100 fails in ffmpeg)."""
    photos = [solid((10 * (k % 25), 100, 255 - 10 * (k % 25)), 12, 20) for k in range(120)]
    result = assemble.make_video(photos, None, tmp_path / "long.mp4",
                                 Cut(size=(32, 18), fps=5, seconds_per_photo=0.6,
                                     transition_seconds=0.2), progress=False)
    assert result.info.n_frames == result.timeline.n_frames == 360
    assert result.info.n_coded == len(result.timeline.kept_frames()) < 360
    # the last frame is a keyframe, last in decoding order too: a decoder shows it for one frame
    assert decode_frames(result.path, size=(32, 18)).shape[0] == 360


def test_crossfade_film_sends_a_third_of_its_frames_and_shows_them_all(tmp_path):
    photos = [solid(RED), solid(GREEN), solid(BLUE)]
    result = assemble.make_video(photos, (sine(3.0), SR), tmp_path / "film.mp4",
                                 Cut(size=SMALL, fps=10, transition_seconds=0.3), progress=False)
    tl = result.timeline
    assert result.info.n_frames == tl.n_frames == 30 and result.info.fps == pytest.approx(10)
    assert result.info.n_coded == len(tl.kept_frames()) == 10
    assert result.info.video_seconds == pytest.approx(3.0)
    shown = decode_frames(result.path)  # as a player shows it: every planned frame, in place
    planned = np.stack(list(frames.iter_frames(photos, tl, SMALL)))
    assert shown.shape == planned.shape
    assert np.abs(shown.astype(int) - planned.astype(int)).mean(axis=(1, 2, 3)).max() < 4


def test_awkward_names_are_safe(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    photo = tmp_path / "-leading dash 'quote' \"double\" ü 北.png"
    Image.fromarray(solid(RED)).save(photo)
    song = tmp_path / "-song 'x' é.wav"
    wavfile.write(song, SR, sine(1.0))
    name = "-my 'film' \"ü\" 北 $(echo) ; rm.mp4"
    result = assemble.make_video([photo, solid(GREEN)], song, name, Cut(size=SMALL, fps=5),
                                 progress=False)
    assert (tmp_path / name).is_file() and result.path.name == name
    assert result.info.n_frames == 10


def test_failure_leaves_nothing_and_keeps_existing_files(tmp_path, monkeypatch):
    photos = [solid(RED), solid(BLUE)]
    existing = tmp_path / "keep.mp4"
    existing.write_bytes(b"user data")
    with pytest.raises(FileExistsError):
        assemble.make_video(photos, None, existing, Cut(size=SMALL, fps=5), progress=False)
    assert existing.read_bytes() == b"user data"

    bogus = dataclasses.replace(encode.CODECS["libx264"], encoder="no_such_encoder")
    monkeypatch.setitem(encode.CODECS, "libx264", bogus)
    monkeypatch.setattr(ffmpeg, "available_encoders",
                        lambda: frozenset({"no_such_encoder", "aac", "libopus"}))
    with pytest.raises(encode.VideoError, match="no_such_encoder"):
        assemble.make_video(photos, (sine(2.0), SR), existing, Cut(size=SMALL, fps=5),
                            overwrite=True, progress=False)
    assert existing.read_bytes() == b"user data"
    with pytest.raises(encode.VideoError):
        assemble.make_video(photos, None, tmp_path / "new.mp4", Cut(size=SMALL, fps=5),
                            progress=False)
    assert not (tmp_path / "new.mp4").exists() and not leftovers(tmp_path)


def test_verification_failure_leaves_nothing(tmp_path, monkeypatch):
    real_probe = ffmpeg.probe

    def short_probe(path):
        info = real_probe(path)
        info.n_frames -= 3
        info.video_seconds -= 3 / 5
        return info

    monkeypatch.setattr(ffmpeg, "probe", short_probe)
    out = tmp_path / "short.mp4"
    with pytest.raises(encode.VideoError, match=r"7 video frames, 1\.400 s instead of 10 \(2\.000 s\)"):
        assemble.make_video([solid(RED), solid(BLUE)], None, out, Cut(size=SMALL, fps=5),
                            progress=False)
    assert not out.exists() and not leftovers(tmp_path)


def test_overwrite_replaces(tmp_path):
    out = tmp_path / "film.mp4"
    out.write_bytes(b"old")
    assemble.make_video([solid(RED)], None, out, Cut(size=SMALL, fps=5), overwrite=True,
                        progress=False)
    assert out.read_bytes()[4:8] == b"ftyp"


def test_falls_back_to_webm(tmp_path, monkeypatch):
    monkeypatch.setattr(ffmpeg, "available_encoders",
                        lambda: frozenset({"libvpx-vp9", "libopus", "aac", "mpeg4"}))
    with pytest.warns(encode.CodecFallbackWarning, match="WebM"):
        result = assemble.make_video([solid(RED), solid(GREEN), solid(BLUE)], (sine(3.0), SR),
                                     tmp_path / "film.mp4", Cut(size=SMALL, fps=5), progress=False)
    assert result.path == tmp_path / "film.webm" and result.codec == "libvpx-vp9"
    assert not (tmp_path / "film.mp4").exists()
    assert any("WebM" in n for n in result.notes)
    info = result.info
    assert (info.video_codec, info.pix_fmt, info.audio_codec) == ("vp9", "yuv420p", "opus")
    assert info.n_frames == 15 and info.audio_seconds == pytest.approx(3.0, abs=0.2)


def test_falls_back_to_openh264(tmp_path, monkeypatch):
    if "libopenh264" not in ffmpeg.available_encoders():
        pytest.skip("this ffmpeg has no libopenh264")
    monkeypatch.setattr(ffmpeg, "available_encoders",
                        lambda: frozenset({"libopenh264", "libvpx-vp9", "libopus", "aac"}))
    with pytest.warns(encode.CodecFallbackWarning, match="libopenh264"):
        result = assemble.make_video([solid(RED)], (sine(1.0), SR), tmp_path / "f.mp4",
                                     Cut(size=SMALL, fps=5), progress=False)
    assert result.path.suffix == ".mp4" and result.info.video_codec == "h264"
    monkeypatch.setattr(ffmpeg, "available_encoders", lambda: frozenset({"mpeg4", "aac"}))
    with pytest.raises(encode.VideoError, match="none of the encoders"):
        assemble.make_video([solid(RED)], None, tmp_path / "g.mp4", Cut(size=SMALL),
                            progress=False)


# --- photos ------------------------------------------------------------------------------------

def test_unreadable_photos_are_skipped(tmp_path):
    good = tmp_path / "good.png"
    Image.fromarray(solid(RED)).save(good)
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image")
    truncated = tmp_path / "truncated.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), np.uint8)).save(
        truncated, quality=95)
    truncated.write_bytes(truncated.read_bytes()[:2000])
    with pytest.warns(SkippedImageWarning) as caught:
        result = assemble.make_video(tmp_path, None, tmp_path / "out" / "f.mp4",
                                     Cut(size=SMALL, fps=5), progress=False)
    text = " ".join(str(w.message) for w in caught)
    assert "empty.jpg" in text and "text.png" in text and "truncated.jpg" in text
    assert result.skipped == 2 and result.n_frames == 10   # good + truncated (header is fine)
    with pytest.raises(ImageError, match="none of the 2"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SkippedImageWarning)
            frames.check_photos([tmp_path / "empty.jpg", tmp_path / "missing.png"])
    with pytest.raises(ValueError):
        assemble.make_video([solid(RED)], None, tmp_path / "x.avi", Cut(size=SMALL),
                            progress=False)
    with pytest.raises(ValueError, match="audio"):
        assemble.make_video([solid(RED)], None, tmp_path / "y.mp4", Cut(fit_to_audio=True),
                            progress=False)


def test_memory_stays_bounded_for_large_albums(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for k in range(200):
        p = tmp_path / f"p{k:03d}.png"
        Image.fromarray(rng.integers(0, 255, (48, 64, 3), np.uint8)).save(p)
        paths.append(p)

    def peak(photos):
        tl = timeline.plan_timeline(len(photos), 0.6, 0.2, 5)
        tracemalloc.start()
        try:
            n = sum(1 for _ in frames.iter_frames(photos, tl, SMALL, fit="blur"))
            return n, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(paths[:2])                               # imports and caches: not part of the peak
    n20, peak20 = peak(paths[:20])
    n200, peak200 = peak(paths)
    assert (n20, n200) == (60, 600)
    frame = SMALL[0] * SMALL[1] * 3
    assert peak200 < 1.25 * peak20 + 100_000      # independent of the album size
    assert peak200 < 60 * frame                   # a few canvases and float temporaries

    song = sine(60.0)                             # 10.6 MB as float32
    tracemalloc.start()
    try:
        with pytest.warns(timeline.TimelineWarning):  # 1-frame slots: no room for crossfades
            result = assemble.make_video(paths, (song, SR), tmp_path / "big.mp4",
                                         Cut(size=SMALL, fps=5, seconds_per_photo=0.2),
                                         progress=False)
        _, big_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.n_frames == 200 and result.info.n_frames == 200
    assert big_peak < 2.5 * song.nbytes + 2e6   # a copy of the song and the 40 s soundtrack


def test_probe_of_a_film_with_irregular_timestamps_keeps_ffmpegs_rate(tmp_path):
    """A phone's variable-rate video: no common frame period, so the rate ffmpeg reports."""
    out = tmp_path / "irregular.mp4"
    subprocess.run([ffmpeg.ffmpeg_exe(), "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "color=c=red:s=64x36:r=30:d=1", "-vf", "setpts='(N*N*0.0123457+N*0.0091)/TB'",
                    "-fps_mode", "passthrough", "-video_track_timescale", "90000",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out)], check=True)
    info = ffmpeg.probe(out)
    assert info.n_coded == 30 and info.video_seconds > 1.0
    reported = float(re.search(r"([\d.]+) fps", info.text).group(1))
    assert info.fps == reported < 480
