"""Tests of albumlib.film.album: the album film pipeline (repaint, music, film) and its checks."""

import dataclasses
import os

import numpy as np
import pytest
from PIL import Image

from albumlib import audio, ffmpeg, images
from albumlib.film import album, canvas, encode, repaint
from albumlib.film.options import Cut, Paint, Play
from albumlib.music import fft_blocks, report as music
from albumlib.music.report import MusicConfig

SIZE = "160x90"
FPS = 30
ODD = "my 'album' \"ü\" 写真"          # spaces, both quotes and non-ASCII characters


def make_photos(folder, n=3, size=(48, 32)):
    """n small photos of different colours (JPEG and PNG), in name order."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for k in range(n):
        a = np.zeros((size[1], size[0], 3), np.uint8)
        a[:] = rng.integers(0, 256, 3)
        a[: size[1] // 2, : size[0] // 2] = 255 - a[0, 0]
        p = folder / (f"photo {k} é.jpg" if k % 2 == 0 else f"photo {k} 'x'.png")
        Image.fromarray(a).save(p)
        paths.append(p)
    return paths


def make_wav(path, seconds=2.0, sr=22050):
    t = np.arange(int(seconds * sr)) / sr
    return audio.save_wav(path, 0.3 * np.sin(2 * np.pi * 440 * t), sr)


CUT = Cut(size=SIZE, seconds_per_photo=0.5)    # small, fast films
NONE = Paint(style="none")
SILENT = Play(music="none")


def check_film(path, n_photos, seconds_per_photo=0.5, audio_expected=True):
    info = ffmpeg.probe(path)
    assert (info.width, info.height) == (160, 90)
    assert info.video_codec in ("h264", "vp9")
    assert abs(info.video_seconds - n_photos * seconds_per_photo) <= 1 / FPS + 1e-9
    if audio_expected:
        assert abs(info.audio_seconds - n_photos * seconds_per_photo) <= 1 / FPS + 1e-9
    else:
        assert info.audio_codec is None
    return info


@pytest.fixture
def odd_album(tmp_path):
    folder = tmp_path / ODD
    make_photos(folder)
    return folder


@pytest.fixture
def wav(tmp_path):
    return make_wav(tmp_path / "music é 'x'.wav")


def test_odd_names_no_style_and_a_music_file(odd_album, wav, tmp_path, capsys):
    out = tmp_path / "new folder ü" / "deeper" / "film 'é'.mp4"      # missing folders
    result = album.make_album(odd_album, out, NONE, Play(music=wav), CUT, progress=False)
    assert result.path == out and out.is_file()
    check_film(out, 3)
    assert result.styles == ["none"] * 3
    assert [p.name for p in result.photos] == ["photo 0 é.jpg", "photo 1 'x'.png",
                                               "photo 2 é.jpg"]
    assert result.skipped == [] and result.notes == []
    assert str(wav) in result.music
    assert set(result.timings) == {"repaint", "music", "film", "total"}
    assert all(v >= 0 for v in result.timings.values())
    said = capsys.readouterr().out
    for phase in ("phase 1/3 repaint", "phase 2/3 music", "phase 3/3 film"):
        assert phase in said
    assert not list(out.parent.glob(".*"))          # no temporary files left beside the film


def test_a_bundled_style_at_a_small_max_side(odd_album, wav, tmp_path):
    work = tmp_path / "work ü"
    sheet = tmp_path / "sheet.jpg"
    result = album.make_album(odd_album, tmp_path / "film.mp4",
                              Paint(style=["wave", "none"], max_side=32), Play(music=wav), CUT,
                              work_dir=work, contact_sheet=sheet, progress=False)
    check_film(result.path, 3)
    assert result.styles == ["wave", "none", "wave"]                  # cycled over the photos
    assert [p.name for p in result.repainted] == ["photo 0 é_wave.jpg", "photo 2 é_wave.jpg"]
    painted = images.load_image(result.repainted[0])
    assert max(painted.shape[:2]) == 32
    original = images.load_image(odd_album / "photo 0 é.jpg", max_side=32)
    assert np.abs(painted - original).mean() > 0.02                   # it was repainted
    assert result.contact_sheet == sheet
    assert images.load_image(sheet).shape[0] == 2 * repaint.SHEET_HEIGHT


def test_an_empty_folder_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty ü"
    empty.mkdir()
    (empty / "notes.txt").write_text("not a photo")
    with pytest.raises(images.ImageError, match="empty ü.*no photo files"):
        album.make_album(empty, tmp_path / "film.mp4", NONE, SILENT, CUT, progress=False)
    assert not (tmp_path / "film.mp4").exists()
    with pytest.raises(FileNotFoundError, match="nowhere"):
        album.make_album(tmp_path / "nowhere", tmp_path / "film.mp4", cut=CUT, progress=False)


def test_no_readable_photo_is_a_clear_error(tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(b"not a jpeg")
    with pytest.warns(images.SkippedImageWarning, match="a.jpg"):
        with pytest.raises(images.ImageError, match="bad.*none of its 1 photo files"):
            album.make_album(folder, tmp_path / "film.mp4", NONE, SILENT, CUT, progress=False)
    assert not (tmp_path / "film.mp4").exists()


def test_an_unreadable_photo_is_skipped_with_a_warning(odd_album, tmp_path):
    (odd_album / "broken 'ü'.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    with pytest.warns(images.SkippedImageWarning, match="broken 'ü'.jpg"):
        result = album.make_album(odd_album, tmp_path / "film.mp4", NONE, SILENT, CUT,
                                  progress=False)
    check_film(result.path, 3, audio_expected=False)                  # a silent film
    assert [p.name for p, _ in result.skipped] == ["broken 'ü'.jpg"]
    assert len(result.photos) == 3


def test_an_existing_film_is_kept_unless_overwrite(odd_album, tmp_path, monkeypatch):
    out = tmp_path / "film.mp4"
    out.write_bytes(b"my precious film")

    def no_work(*a, **k):
        raise AssertionError("the existing file must be refused before any work")

    with monkeypatch.context() as m:
        m.setattr(repaint, "repaint_photos", no_work)
        with pytest.raises(album.OutputExistsError, match="overwrite=True"):
            album.make_album(odd_album, out, NONE, SILENT, CUT, progress=False)
        with pytest.raises(FileExistsError):                           # with no suffix too
            album.make_album(odd_album, tmp_path / "film", NONE, cut=CUT, progress=False)
        sheet = tmp_path / "sheet.jpg"
        sheet.write_bytes(b"my sheet")
        with pytest.raises(album.OutputExistsError, match="sheet.jpg"):  # a sheet, the same
            album.make_album(odd_album, tmp_path / "new.mp4", NONE, cut=CUT,
                             contact_sheet=sheet, progress=False)
    assert out.read_bytes() == b"my precious film"
    result = album.make_album(odd_album, out, NONE, SILENT, CUT, overwrite=True, progress=False)
    check_film(result.path, 3, audio_expected=False)


def test_output_path(tmp_path):
    assert album.output_path("x/film").name == "film.mp4"
    assert album.output_path("x/film.webm").suffix == ".webm"
    assert album.output_path("new folder/") == album.Path("new folder", "album.mp4")
    assert album.output_path(tmp_path) == tmp_path / "album.mp4"        # an existing folder
    with pytest.raises(ValueError, match=r"\.mp4"):
        album.output_path("film.avi")


def test_bad_options_fail_before_any_work(odd_album, tmp_path, monkeypatch):
    monkeypatch.setattr(repaint, "repaint_photos", lambda *a, **k: pytest.fail("worked"))
    out = tmp_path / "film.mp4"
    cases = [(lambda: (Paint(style="no such painting"), Play(), CUT), "neither a bundled"),
             (lambda: (NONE, Play(), Cut(size="161x90")), "Cut.size.*even"),
             (lambda: (NONE, Play(), Cut(seconds_per_photo=0)), "Cut.seconds_per_photo"),
             (lambda: (NONE, Play(), Cut(transition="wipe")), "Cut.transition"),
             (lambda: (NONE, SILENT, Cut(beat_sync=True)), "beat_sync needs music"),
             (lambda: (NONE, Play(), Cut(order="nope")), "Cut.order"),
             (lambda: (NONE, Play(model="m"), Cut(fit_to_audio=True)), "fit_to_audio needs"),
             (lambda: (NONE, Play(music="song.mp3", model="model"), CUT), "not both"),
             (lambda: (Paint(strength=1.5), Play(), CUT), "Paint.strength"),
             (lambda: (NONE, Play(temperature=0), CUT), "Play.temperature")]
    for groups, message in cases:
        with pytest.raises(ValueError, match=message):
            album.make_album(odd_album, out, *groups(), progress=False)
    with pytest.raises(TypeError, match="paint must be"):
        album.make_album(odd_album, out, "wave", progress=False)
    with pytest.raises(FileNotFoundError, match="missing.mp3"):
        album.make_album(odd_album, out, play=Play(music=tmp_path / "missing.mp3"), cut=CUT,
                         progress=False)
    with pytest.raises(FileNotFoundError, match="not a music model bundle"):
        album.make_album(odd_album, out, play=Play(model=tmp_path), cut=CUT, progress=False)
    assert not out.exists()


def test_option_groups_have_the_old_defaults_and_name_bad_fields():
    assert Paint() == Paint(style="starry_night", max_side=720, strength=1.0, preserve_color=False)
    assert Play() == Play(music=None, model=None, seed=0, temperature=0.8, loudness="rms",
                          fade_seconds=1.0)
    assert Cut() == Cut(seconds_per_photo=1.0, transition="crossfade", transition_seconds=0.3,
                        ken_burns=False, beat_sync=False, fit_to_audio=False, fit="letterbox",
                        size="720p", fps=30, codec="auto", crf=20, preset="veryfast",
                        order="time")
    assert Paint(style=["wave", "none"]).style == ("wave", "none")      # frozen: a tuple
    assert Paint(style=["wave", "none"]).repaints and not NONE.repaints
    assert Play(loudness=True).loudness == "rms" and Play(loudness=False).loudness is None
    assert Cut(size=[160, 90]).frame_size == (160, 90) and CUT.frame_size == (160, 90)
    assert hash(Cut()) == hash(Cut())
    with pytest.raises(dataclasses.FrozenInstanceError):
        CUT.fps = 10
    bad = [(lambda: Paint(style=[]), "Paint.style"), (lambda: Paint(max_side=0), "Paint.max_side"),
           (lambda: Paint(preserve_color="yes"), "Paint.preserve_color"),
           (lambda: Play(seed=0.5), "Play.seed"), (lambda: Play(loudness="loud"), "Play.loudness"),
           (lambda: Play(fade_seconds=-1), "Play.fade_seconds"),
           (lambda: Cut(fps=0), "Cut.fps"), (lambda: Cut(fps=float("nan")), "Cut.fps"),
           (lambda: Cut(crf=52), "Cut.crf"), (lambda: Cut(codec="h265"), "Cut.codec"),
           (lambda: Cut(preset="quick"), "Cut.preset"), (lambda: Cut(fit="crop"), "Cut.fit"),
           (lambda: Cut(transition_seconds=-0.1), "Cut.transition_seconds"),
           (lambda: Cut(ken_burns=1), "Cut.ken_burns"), (lambda: Cut(zoom=0.5), "Cut.zoom")]
    for make, field in bad:
        with pytest.raises(ValueError, match=field):
            make()


def test_photos_come_in_capture_order_or_name_order(tmp_path):
    folder = tmp_path / "trip"
    for name, minute in (("IMG_10.jpg", 1), ("IMG_2.jpg", 3), ("DSC_5.jpg", 2)):
        make_photos(folder, 1)[0].rename(folder / name)
        os.utime(folder / name, (1_700_000_000 + 60 * minute,) * 2)
    by_time = album.make_album(folder, tmp_path / "t.mp4", NONE, SILENT, CUT, progress=False)
    assert [p.name for p in by_time.photos] == ["IMG_10.jpg", "DSC_5.jpg", "IMG_2.jpg"]
    by_name = album.make_album(folder, tmp_path / "n.mp4", NONE, SILENT,
                               dataclasses.replace(CUT, order="name"), progress=False)
    assert [p.name for p in by_name.photos] == ["DSC_5.jpg", "IMG_2.jpg", "IMG_10.jpg"]


def test_a_title_card_comes_first_for_one_slot(odd_album, tmp_path):
    result = album.make_album(odd_album, tmp_path / "t.mp4", NONE, SILENT, CUT,
                              title="6 July 2024\nParis", progress=False)
    check_film(result.path, 4, audio_expected=False)
    assert result.title == "6 July 2024\nParis" and len(result.photos) == 3
    assert result.video.timeline.n_photos == 4


def test_without_a_music_model_a_sample_piece_plays_with_a_note(odd_album, tmp_path,
                                                                 monkeypatch, capsys):
    monkeypatch.setattr(album, "DEFAULT_MUSIC_MODEL", tmp_path / "no model here")
    result = album.make_album(odd_album, tmp_path / "film.mp4", NONE, Play(seed=4), CUT,
                              progress=False)
    check_film(result.path, 3)
    out = capsys.readouterr().out
    assert "note: the default music model could not be read" in out and "no model here" in out
    assert result.notes and "sample piece" in result.notes[0]
    assert "05_mozart_k545_piano.mp3" in result.music                # music_seed picks it


def test_sample_soundtrack_covers_long_films():
    signal, sr, used = album.sample_soundtrack(70.0, seed=8)
    assert sr == encode.AUDIO_SR and signal.dtype == np.float32
    assert signal.size >= 70 * sr
    assert [p.name[:2] for p in used] == ["09", "01"]                  # wraps around


TINY = MusicConfig(kind="rfft", block_size=256, seq_len=4, dense_in=8, hidden=8, sr=8000)


def tiny_bundle(path):
    import keras

    keras.utils.set_random_seed(0)
    model = music.build_model(TINY)
    seeds = np.random.default_rng(0).normal(scale=0.3, size=(2, TINY.seq_len, TINY.n_features))
    return music.save_bundle(path, model, TINY, fft_blocks.Scaler("global", scale=20.0),
                             seeds.astype(np.float32))


def test_a_music_model_composes_the_soundtrack(odd_album, tmp_path, monkeypatch):
    bundle = tiny_bundle(tmp_path / "model ü")
    work = tmp_path / "work"
    result = album.make_album(odd_album, tmp_path / "a.mp4", NONE, Play(model=bundle), CUT,
                              work_dir=work, progress=False)
    check_film(result.path, 3)
    assert "composed by the music model" in result.music and result.notes == []
    composed = audio.load_audio(result.soundtrack, sr=TINY.sr)
    assert composed.size == pytest.approx((1.5 + album.MUSIC_TAIL_SECONDS) * TINY.sr, abs=2)
    # The default model is album.DEFAULT_MUSIC_MODEL (the bundled note model).
    monkeypatch.setattr(album, "DEFAULT_MUSIC_MODEL", bundle)
    result = album.make_album(odd_album, tmp_path / "b.mp4", NONE, cut=CUT, progress=False)
    assert "default music model" in result.music and result.notes == []


def test_demo_settings_cover_every_profile():
    from albumlib.profiles import PROFILE_NAMES

    assert set(album.DEMO_SETTINGS) == set(PROFILE_NAMES)
    for settings in album.DEMO_SETTINGS.values():
        canvas.canvas_size(settings["size"])
    styles = album.demo_styles()
    assert styles[:2] == ["starry_night", "wave"]                     # the paintings' order


def test_the_bundled_note_model_composes_by_default(odd_album, tmp_path):
    work = tmp_path / "work"
    result = album.make_album(odd_album, tmp_path / "n.mp4", NONE, Play(seed=3), CUT,
                              work_dir=work, progress=False)
    check_film(result.path, 3)
    assert "composed by the default music model" in result.music and "note_model" in result.music
    composed = audio.load_audio(result.soundtrack, sr=44100)
    assert composed.size == pytest.approx((1.5 + album.MUSIC_TAIL_SECONDS) * 44100, abs=2)
    assert np.abs(composed).max() > 0.05                  # notes, not silence
    # The report's model is still there by name.
    result = album.make_album(odd_album, tmp_path / "r.mp4", NONE, Play(model="report"), CUT,
                              progress=False)
    assert "music_model" in result.music
