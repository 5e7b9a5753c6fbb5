"""The run profiles are read in one place and validated; `full` is only ever chosen explicitly."""

import pytest

from albumlib import profiles


def test_explicit_profile(monkeypatch):
    monkeypatch.setenv("ALBUM_PROFILE", "smoke")
    assert profiles.get_profile().name == "smoke"
    monkeypatch.setenv("ALBUM_PROFILE", " CPU ")
    assert profiles.profile_name() == "cpu"
    for name in profiles.PROFILE_NAMES:
        monkeypatch.setenv("ALBUM_PROFILE", name)
        assert profiles.get_profile().name == name


def test_default_is_gpu_with_a_gpu_and_cpu_without(monkeypatch):
    monkeypatch.delenv("ALBUM_PROFILE", raising=False)
    monkeypatch.setattr(profiles, "gpu_present", lambda: False)
    assert profiles.profile_name() == "cpu"
    monkeypatch.setattr(profiles, "gpu_present", lambda: True)
    assert profiles.profile_name() == "gpu"
    monkeypatch.setenv("ALBUM_PROFILE", "  ")                 # empty: automatic, as unset
    assert profiles.profile_name() == "gpu"


def test_full_is_never_the_default(monkeypatch):
    for gpu in (False, True):
        monkeypatch.setattr(profiles, "gpu_present", lambda gpu=gpu: gpu)
        monkeypatch.delenv("ALBUM_PROFILE", raising=False)
        assert profiles.profile_name() != "full"
        assert profiles.get_profile().fast_data == "album"    # no COCO download
    monkeypatch.setenv("ALBUM_PROFILE", "full")
    assert profiles.get_profile().fast_data == "coco"


@pytest.mark.parametrize("name", ["huge", "gpu2", "smoke,cpu", "FULL!"])
def test_unknown_profile_is_a_clear_error(monkeypatch, name):
    monkeypatch.setenv("ALBUM_PROFILE", name)
    with pytest.raises(ValueError, match="smoke, cpu, gpu, full"):
        profiles.get_profile()
    with pytest.raises(ValueError, match="smoke, cpu, gpu, full"):
        profiles.describe_profile()


def test_profiles_grow_from_smoke_to_full():
    s, c, g, f = (profiles.PROFILES[n] for n in profiles.PROFILE_NAMES)
    assert s.image_size < c.image_size < g.image_size <= f.image_size
    assert s.gatys_steps < c.gatys_steps < g.gatys_steps < f.gatys_steps
    assert s.fast_steps < c.fast_steps < g.fast_steps < f.fast_steps
    assert s.music_block_size < c.music_block_size < g.music_block_size < f.music_block_size
    assert s.music_epochs < c.music_epochs < g.music_epochs < f.music_epochs


def test_notebook_02_trains_a_few_paintings_in_one_network():
    """At least two paintings (mixes and morphs need two), at most the six bundled ones."""
    from albumlib.style import styles
    counts = [profiles.PROFILES[n].fast_styles for n in profiles.PROFILE_NAMES]
    assert counts == sorted(counts) and 2 <= counts[0] and counts[-1] <= len(styles.list_styles())
    for name in ("smoke", "cpu", "gpu", "full"):          # every painting gets some steps
        p = profiles.PROFILES[name]
        assert p.fast_steps >= 2 * p.fast_styles


def test_only_full_is_sized_for_hours():
    """The bounded profiles stay far from the report's sizes (the 15-minute reasoning in profiles.py)."""
    full = profiles.PROFILES["full"]
    for name in ("smoke", "cpu", "gpu"):
        p = profiles.PROFILES[name]
        assert p.fast_data == "album" and p.fast_steps <= 2000 < full.fast_steps
        assert p.music_epochs <= 30 < full.music_epochs
        assert p.music_block_size < full.music_block_size


def test_description_says_what_why_and_how_to_change(monkeypatch):
    monkeypatch.delenv("ALBUM_PROFILE", raising=False)
    monkeypatch.setattr(profiles, "gpu_present", lambda: True)
    text = profiles.describe_profile()
    assert text.startswith("profile gpu (automatic: a GPU is visible)")
    assert all(f'"{n}"' in text for n in profiles.PROFILE_NAMES)
    assert "first cell" in text and "Restart & Run all" in text and "hours" in text
    monkeypatch.setattr(profiles, "gpu_present", lambda: False)
    assert profiles.describe_profile().startswith("profile cpu (automatic: no GPU visible)")
    monkeypatch.setenv("ALBUM_PROFILE", "Smoke")
    assert profiles.describe_profile().startswith("profile smoke (ALBUM_PROFILE=smoke)")
    monkeypatch.setenv("ALBUM_PROFILE", "full")             # asked for, but no GPU: said so
    assert "no GPU is visible" in profiles.describe_profile().splitlines()[0]


def test_duration_text():
    assert profiles.duration_text(0.05) == "0.05 s"
    assert profiles.duration_text(42) == "42 s"
    assert profiles.duration_text(150) == "2.5 min"
    assert profiles.duration_text(1500) == "25 min"
    assert profiles.duration_text(3 * 3600) == "3 h"


def test_estimate_line_and_the_bound(monkeypatch):
    monkeypatch.setenv("ALBUM_PROFILE", "smoke")
    line = profiles.estimate(0.02, 3, how="measured on steps 2-3")
    assert line == "estimate: about 0.06 s for 3 steps at 0.02 s/step (profile smoke; measured on steps 2-3)"
    assert "1 epoch at" in profiles.estimate(5, 1, "epoch")
    assert profiles.estimate(0.5, 10, first=20).startswith(                # 20 s + 9 x 0.5 s
        "estimate: about 24 s for 10 steps at 0.5 s/step after a first step of 20 s")
    monkeypatch.setenv("ALBUM_PROFILE", "gpu")
    assert "more than the ~15 min" not in profiles.estimate(0.2, 2000)     # 6.7 min
    assert "more than the ~15 min a cell of profile gpu" in profiles.estimate(2.8, 2000)
    monkeypatch.setenv("ALBUM_PROFILE", "full")                            # hours, as asked
    assert "more than" not in profiles.estimate(0.2, 41_392)


def test_print_estimate_once_skips_the_first_step(capsys, monkeypatch):
    monkeypatch.setenv("ALBUM_PROFILE", "cpu")
    callback = profiles.print_estimate_once(200, after=3)
    history = {"seconds": []}
    for step, seconds in enumerate([5.0, 0.5, 0.7, 0.6, 0.6, 0.6], start=1):
        history["seconds"].append(seconds)
        callback(step, history, None)
    out = capsys.readouterr().out.splitlines()
    assert out == ["estimate: about 2.1 min for 200 steps at 0.6 s/step after a first step of 5 s "
                   "(profile cpu; measured on steps 2-3)"]
    tiny = profiles.print_estimate_once(1)                    # a single step: its own time
    tiny(1, {"seconds": [0.25]})
    assert "0.25 s/step" in capsys.readouterr().out
