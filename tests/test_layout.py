"""albumlib reads by phase within the limits of issue 14: modules of at most about 700 lines,
functions of at most about 60, and no module using another module's private names."""

from scripts_loader import load_script


def test_albumlib_is_within_the_layout_limits():
    found = load_script("check_layout").problems()
    assert not found, "\n".join(found)


def test_the_checks_catch_what_they_look_for(tmp_path):
    layout = load_script("check_layout")
    source = tmp_path / "mod.py"
    body = "\n".join(f"    x{i} = {i}" for i in range(70))
    source.write_text("from albumlib.images import _secret\nfrom albumlib import audio\n\n\n"
                      f"def long_one():\n{body}\n    return audio._private()\n")
    assert layout.long_functions(source, 60) == [("long_one", 72)]
    assert [text for _, text in layout.private_reaches(source)] == [
        "from albumlib.images import _secret", "audio._private"]
