"""benchmarks/bench_video.py: the synthetic inputs, moviepy's schedule against our timeline, the
film check, the child processes and the command line, on a few tiny films.

No timings are asserted. The moviepy reference is run where moviepy is installed (it is not a
project dependency; see benchmarks/requirements-nodeps.txt); everything else runs without it.
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_video as bench  # noqa: E402
from albumlib import audio  # noqa: E402
from albumlib.film.encode import AUDIO_SR  # noqa: E402
from albumlib.film.timeline import plan_timeline  # noqa: E402

HAS_MOVIEPY = importlib.util.find_spec("moviepy") is not None
SMALL = (320, 180)
SETTINGS = {"seconds_per_photo": 1.0, "transition_seconds": 0.3, "fps": 30.0, "crf": 20,
            "preset": "ultrafast"}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Three synthetic photos and a soundtrack of their film's length (3 s)."""
    folder = tmp_path_factory.mktemp("inputs")
    photos = bench.make_photos(folder / "photos", 3, seed=1)
    return photos, bench.make_soundtrack(folder / "soundtrack.wav", 3.0)


def good_info(seconds=3.0, size=SMALL):
    return {"duration": seconds, "video_codec": "h264", "pix_fmt": "yuv420p",
            "width": size[0], "height": size[1], "fps": 30.0, "n_frames": round(seconds * 30),
            "video_seconds": seconds, "audio_codec": "aac", "sample_rate": 44100,
            "channels": "mono", "audio_seconds": seconds}


def test_photos_are_jpegs_of_varied_shapes(tmp_path):
    paths = bench.make_photos(tmp_path, 6, seed=3)
    assert [p.name for p in paths] == [f"photo_{k:04d}.jpg" for k in range(6)]
    assert sorted(tmp_path.iterdir()) == paths
    sizes = []
    for p in paths:
        with Image.open(p) as im:
            assert im.format == "JPEG" and im.mode == "RGB"
            sizes.append(im.size)
    assert sizes[:5] == list(bench.PHOTO_SHAPES) and sizes[5] == bench.PHOTO_SHAPES[0]
    assert any(w < h for w, h in sizes) and any(w > h for w, h in sizes)
    assert len({round(w / h, 2) for w, h in sizes}) >= 4
    # not flat colour: each photo has detail, and they differ from one another
    first, sixth = (np.asarray(Image.open(p), dtype=np.float32) for p in (paths[0], paths[5]))
    assert first.std() > 20 and np.abs(first - sixth).mean() > 10


def test_photos_are_repeatable():
    assert np.array_equal(bench.make_photo(64, 48, [0, 2]), bench.make_photo(64, 48, [0, 2]))
    assert not np.array_equal(bench.make_photo(64, 48, [0, 2]), bench.make_photo(64, 48, [0, 3]))


def test_soundtrack_has_the_requested_length(tmp_path):
    path = bench.make_soundtrack(tmp_path / "s.wav", 2.5, chunk_seconds=1)  # 3 chunks
    signal = audio.load_audio(path, sr=AUDIO_SR)
    assert signal.size == round(2.5 * AUDIO_SR)
    assert 0.1 < np.abs(signal).max() < 1.0 and np.abs(signal).mean() > 0.03
    # the chunks join without a jump (the tone is continuous across 1 s)
    k = AUDIO_SR
    assert abs(signal[k] - signal[k - 1]) < 0.05


@pytest.mark.parametrize("n, seconds, transition", [(5, 1.0, 0.3), (4, 1.0, 0.2),
                                                     (3, 0.5, 0.0), (2, 1.3, 0.5), (1, 2, 0.3)])
def test_moviepy_schedule_blends_the_frames_of_our_timeline(n, seconds, transition):
    """moviepy shows clip k on frame i when start <= i / fps < end, its fade-in mask being
    min(1, (i / fps - start) / fade); later clips are composited over earlier ones. That must
    give every frame the photos and weights of our Timeline."""
    timeline = plan_timeline(n, seconds, transition, 30)
    schedule = bench.moviepy_schedule(timeline)
    assert schedule[0][0] == 0 and schedule[-1][1] == pytest.approx(timeline.duration)
    for i in range(timeline.n_frames):
        t = i / timeline.fps
        weights = {}
        for k, (start, end, fade) in enumerate(schedule):
            if start <= t < end:
                alpha = 1.0 if fade is None else min(1.0, (t - start) / fade)
                weights = {j: w * (1 - alpha) for j, w in weights.items()}
                weights[k] = alpha
        ours = dict(timeline.sources(i))
        got = {k: w for k, w in weights.items() if w > 1e-9}
        assert got.keys() == ours.keys(), f"frame {i}"
        assert got == pytest.approx(ours, abs=1e-9), f"frame {i}"


def test_film_check_accepts_the_plan_and_refuses_the_rest():
    timeline = plan_timeline(3, 1.0, 0.3, 30)
    assert bench.check_film(good_info(), timeline, SMALL) == good_info()
    # within TOLERANCE_FRAMES frames (AAC may add a few samples)
    bench.check_film({**good_info(), "audio_seconds": 3.0 + 1.9 / 30}, timeline, SMALL)
    with pytest.raises(bench.FilmCheckError, match=r"video lasts 2\.000 s instead of 3\.000"):
        bench.check_film({**good_info(), "video_seconds": 2.0}, timeline, SMALL, who="test")
    with pytest.raises(bench.FilmCheckError, match=r"audio lasts 3\.100 s"):
        bench.check_film({**good_info(), "audio_seconds": 3.1}, timeline, SMALL)
    with pytest.raises(bench.FilmCheckError, match="no readable audio stream"):
        bench.check_film({**good_info(), "audio_seconds": None, "audio_codec": None},
                         timeline, SMALL)
    with pytest.raises(bench.FilmCheckError, match="size 640x360 instead of 320x180"):
        bench.check_film(good_info(size=(640, 360)), timeline, SMALL)
    with pytest.raises(bench.FilmCheckError, match="yuv444p"):
        bench.check_film({**good_info(), "pix_fmt": "yuv444p"}, timeline, SMALL)


def test_our_child_makes_the_planned_film(inputs, tmp_path):
    photos, wav = inputs
    spec = {"mode": "ours", "photos": [str(p) for p in photos], "wav": str(wav),
            "out": str(tmp_path / "ours.mp4"), "size": list(SMALL), "warmup_wav": None,
            **SETTINGS}
    result = bench.run_child(spec)
    info = bench.check_film(result["info"], plan_timeline(3, 1.0, 0.3, 30), SMALL)
    assert info["n_frames"] == 90 and info["channels"] == "mono"
    assert result["seconds"] > 0 and result["process_seconds"] > result["seconds"]
    assert result["peak_rss"] >= result["ready_rss"] > 0
    assert result["ffmpeg_peak_rss"] > 0 and result["cpu_children"] > 0
    assert result["film_bytes"] == (tmp_path / "ours.mp4").stat().st_size
    assert not result["tensorflow_loaded"]


@pytest.mark.skipif(not HAS_MOVIEPY, reason="moviepy is a benchmark-only dependency")
def test_moviepy_child_makes_the_planned_film(inputs, tmp_path):
    photos, wav = inputs
    spec = {"mode": "moviepy", "photos": [str(p) for p in photos], "wav": str(wav),
            "out": str(tmp_path / "films" / "moviepy.mp4"), "size": list(SMALL),
            "warmup_wav": str(wav), **SETTINGS}
    (tmp_path / "films").mkdir()
    result = bench.run_child(spec)
    info = bench.check_film(result["info"], plan_timeline(3, 1.0, 0.3, 30), SMALL)
    assert info["n_frames"] == 90 and info["pix_fmt"] == "yuv420p"
    assert result["ffmpeg_peak_rss"] > 0
    # the warm-up film and moviepy's temporary audio file are gone
    assert [p.name for p in (tmp_path / "films").iterdir()] == ["moviepy.mp4"]


@pytest.mark.skipif(not HAS_MOVIEPY, reason="moviepy is a benchmark-only dependency")
def test_moviepy_film_shows_the_same_frames_as_ours(inputs, tmp_path):
    """Decoded, the two films differ by a few levels (resampling, colour matrix), crossfades
    included; a shifted crossfade would differ by far more on its frames."""
    import imageio_ffmpeg

    photos, wav = inputs
    for maker in ("ours", "moviepy"):
        bench.MAKERS[maker](photos, wav, tmp_path / f"{maker}.mp4", SMALL, SETTINGS)

    def frames(path):
        reader = imageio_ffmpeg.read_frames(str(path))
        next(reader)
        return np.stack([np.frombuffer(f, np.uint8) for f in reader]).astype(np.float32)

    ours, theirs = frames(tmp_path / "ours.mp4"), frames(tmp_path / "moviepy.mp4")
    assert ours.shape == theirs.shape == (90, SMALL[0] * SMALL[1] * 3)
    per_frame = np.abs(ours - theirs).mean(axis=1)
    assert per_frame.max() < 6, per_frame.round(1)


def test_child_failure_is_reported():
    with pytest.raises(RuntimeError, match="unknown mode"):
        bench.run_child({"mode": "no such mode"})


def test_exit_text_names_the_signal():
    assert bench._exit_text(1) == "exit status 1"
    assert bench._exit_text(-9) == "killed by SIGKILL (out of memory?)"


def test_ours_runs_end_to_end_and_cleans_up(tmp_path, capsys):
    status = bench.main(["--no-moviepy", "--no-demo", "--photos", "3", "--scale-photos", "4",
                         "--size", "320x180", "--repeats", "1", "--preset", "ultrafast",
                         "--tmp-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("machine: ") and "load average at the start" in out
    row = next(line for line in out.splitlines() if line.startswith("| ours | `assemble."))
    assert row.split("|")[3].strip() == "3.000 / 3.000 / 3.000 (mono)"
    assert "| moviepy |" not in out and "Goal (>=" not in out
    assert "| ours | 3 | 3 |" in out and "| ours | 4 | 4 |" in out
    assert "Memory as the album grows (ours): Python peak x" in out
    assert "The demo" not in out
    assert list(tmp_path.iterdir()) == []


def test_demo_part_writes_into_the_temporary_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ALBUM_PROFILE", "smoke")  # a tiny film in seconds
    args = bench.parse_args(["--no-moviepy", "--scale-photos", "0"])
    result = bench.demo(args, tmp_path)
    out = capsys.readouterr().out
    assert result["profile"] == "smoke" and result["process_seconds"] > result["seconds"] > 0
    assert result["peak_rss"] > 0 and result["ffmpeg_peak_rss"] > 0
    assert (tmp_path / "demo" / "album.mp4").is_file()
    assert "| `python -m albumlib demo` | smoke |" in out
    assert bench.demo_argv(tmp_path / "x")[:3] == ["demo", "-o", str(tmp_path / "x")]


def test_missing_moviepy_gives_a_clear_message(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(bench.importlib.util, "find_spec",
                        lambda name, *a: None if name == "moviepy" else real(name, *a))
    assert bench.main(["--photos", "3", "--scale-photos", "0", "--no-demo"]) == 2
    err = capsys.readouterr().err
    assert "moviepy is not installed" in err
    assert "pip install --no-deps -r benchmarks/requirements-nodeps.txt" in err and "--no-moviepy" in err


def test_module_imports_without_moviepy():
    code = ("import sys; sys.modules['moviepy'] = None; "  # any import of moviepy now fails
            f"sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import bench_video as b; "
            "print(b.parse_args(['--no-moviepy']).canvas)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1280, 720)"


@pytest.mark.parametrize("argv", [["--repeats", "0"], ["--photos", "0"],
                                  ["--scale-photos", "-1"],
                                  ["--photos", "10", "--scale-photos", "10"],
                                  ["--size", "321x180"], ["--size", "huge"],
                                  ["--no-moviepy", "--moviepy-scale"],
                                  ["--scale-photos", "0", "--moviepy-scale"],
                                  ["--crf", "52"], ["--fps", "0"],
                                  ["--photos", "5", "--seconds-per-photo", "0.01"]])
def test_bad_arguments_are_refused(argv):
    with pytest.raises(SystemExit):
        bench.parse_args(argv)


def test_defaults_are_the_issue_settings():
    args = bench.parse_args([])
    assert (args.photos, args.scale_photos, args.repeats) == (100, 1000, 3)
    assert args.canvas == (1280, 720) and (args.fps, args.crf, args.preset) == (30, 20, "veryfast")
    timeline = bench.plan(args.photos, args)
    assert timeline.duration == 100.0 and timeline.transition_frames == 9


def test_disk_estimate_and_check(tmp_path):
    needed = bench.bytes_needed(1000, 1000.0, (1280, 720))
    assert 1.5e9 < needed < 5e9  # 1,000 JPEGs, a 1,000-s WAV and two 720p films
    assert bench.check_free_disk(tmp_path, 1e9, free=5e9) == 5e9
    with pytest.raises(OSError, match="GB free.*fewer --scale-photos"):
        bench.check_free_disk(tmp_path, 5e9, free=5e9)


def test_locked_version_and_pillow_warning(tmp_path, monkeypatch):
    lock = tmp_path / f"py{sys.version_info[0]}.{sys.version_info[1]}.txt"
    lock.write_text("numpy==2.4.6\npillow==13.0.0 ; python_version >= '3.10'\n")
    assert bench.locked_version("Pillow", tmp_path) == "13.0.0"
    assert bench.locked_version("moviepy", tmp_path) is None
    assert bench.locked_version("pillow", tmp_path / "none") is None
    monkeypatch.setattr(bench, "locked_version", lambda name: "0.0.1")
    assert "the lock has 0.0.1" in bench.pillow_warning()
    monkeypatch.setattr(bench, "locked_version", lambda name: None)
    assert bench.pillow_warning() is None
