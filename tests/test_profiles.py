"""The run profiles are read in one place and validated."""

import pytest

from albumlib import profiles


def test_explicit_profile(monkeypatch):
    monkeypatch.setenv("ALBUM_PROFILE", "smoke")
    assert profiles.get_profile().name == "smoke"
    monkeypatch.setenv("ALBUM_PROFILE", " CPU ")
    assert profiles.profile_name() == "cpu"


def test_default_depends_on_gpu(monkeypatch):
    monkeypatch.delenv("ALBUM_PROFILE", raising=False)
    monkeypatch.setattr(profiles, "gpu_present", lambda: False)
    assert profiles.profile_name() == "cpu"
    monkeypatch.setattr(profiles, "gpu_present", lambda: True)
    assert profiles.profile_name() == "full"


def test_unknown_profile_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("ALBUM_PROFILE", "huge")
    with pytest.raises(ValueError, match="smoke, cpu, full"):
        profiles.get_profile()


def test_profiles_grow_from_smoke_to_full():
    s, c, f = (profiles.PROFILES[n] for n in profiles.PROFILE_NAMES)
    assert s.image_size < c.image_size < f.image_size
    assert s.gatys_steps < c.gatys_steps < f.gatys_steps
