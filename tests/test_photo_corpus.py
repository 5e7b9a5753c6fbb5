"""The offline photo corpus from Debian packages: .deb/.rcc reading, selection, checks, manifest.

Everything runs offline and without apt: the tests build small fake .deb files here (an ar archive
with debian-binary, control.tar.xz and data.tar.xz holding generated photos, a fake Qt .rcc with
WebP images and a credits README, a copyright file) and point the builder at them.
"""

import hashlib
import importlib.util
import io
import json
import shutil
import struct
import subprocess
import tarfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from albumlib import paths
from albumlib.style import corpus_debs, corpus_fetch, corpus_sources
from albumlib.style import photo_corpus as pc
from albumlib.style.corpus_debs import ar_members, read_control, read_package
from albumlib.style.corpus_fetch import fetch_debs
from albumlib.style.corpus_licences import copyright_licence, parse_copyright, photo_licence
from albumlib.style.corpus_manifest import (ATTRIBUTION, LICENSES, MANIFEST_TSV,
                                            default_debs_folder, default_folder, load_manifest)
from albumlib.style.corpus_photos import (PhotoPrint, Rejected, nearest, output_size, prepare_photo,
                                          protected_prints)
from albumlib.style.corpus_rcc import rcc_entries, rcc_names, rcc_notices, rcc_webps
from albumlib.style.corpus_sources import (MAX_SIDE, MIN_SIDE, NEAR_DUPLICATE, CorpusError,
                                           CorpusWarning, Source, matches_any, packages,
                                           path_matches)

ROOT = Path(__file__).resolve().parents[1]


# --- fake photos, .rcc files and .deb packages ---------------------------------------------------

def smooth_photo(seed, width, height):
    """A smooth random colour picture (photo-like: large soft shapes, no pixel noise)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    return Image.fromarray(small).resize((width, height), Image.BICUBIC)


def encoded(image, fmt="JPEG", **kw):
    out = io.BytesIO()
    image.save(out, fmt, **kw)
    return out.getvalue()


def make_rcc(files, version=3):
    """A Qt resource file holding `files` {name: bytes} in one folder "res" (names, tree, data)."""
    names, name_offsets = b"", {}
    for name in ["res", *files]:
        name_offsets[name] = len(names)
        utf16 = name.encode("utf-16-be")
        names += struct.pack(">HI", len(name), 0) + utf16
    data, data_offsets = b"", {}
    for name, payload in files.items():
        data_offsets[name] = len(data)
        data += struct.pack(">I", len(payload)) + payload
    extra = b"\0" * 8 if version >= 2 else b""
    tree = struct.pack(">IHII", 0, 2, 1, 1) + extra                       # root: one child
    tree += struct.pack(">IHII", name_offsets["res"], 2, len(files), 2) + extra
    for name in files:
        tree += struct.pack(">IHHHI", name_offsets[name], 0, 0, 0, data_offsets[name]) + extra
    header_len = 24 if version >= 3 else 20
    data_start = header_len
    names_start = data_start + len(data)
    tree_start = names_start + len(names)
    header = b"qres" + struct.pack(">IIII", version, tree_start, data_start, names_start)
    if version >= 3:
        header += struct.pack(">I", 0)
    return header + data + names + tree


def tar_bytes(entries, compression="xz"):
    """A tar (compressed) of entries (name, bytes | None for a folder | ("link", target))."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode=f"w:{compression}" if compression else "w",
                      format=tarfile.GNU_FORMAT) as tf:
        for name, payload in entries:
            info = tarfile.TarInfo(name)
            if payload is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(info)
            elif isinstance(payload, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, payload[1]
                tf.addfile(info)
            else:
                info.size, info.mode = len(payload), 0o644
                tf.addfile(info, io.BytesIO(payload))
    return out.getvalue()


def ar_archive(members):
    """An ar archive (the container of a .deb) of [(name, bytes)]."""
    out = b"!<arch>\n"
    for name, payload in members:
        out += (f"{name:<16}{0:<12}{0:<6}{0:<6}{'100644':<8}{len(payload):<10}`\n").encode()
        out += payload + (b"\n" if len(payload) % 2 else b"")
    return out


def make_deb(folder, package, version, files, data_compression="xz", raw_data_tar=None):
    """Write PACKAGE_VERSION_all.deb into `folder` with `files` {path: bytes | link} under ./."""
    control = (f"Package: {package}\nVersion: {version}\nArchitecture: all\n"
               "Maintainer: Test <test@example.org>\nDescription: test package\n").encode()
    entries, folders = [], set()
    for path in sorted(files):
        parts = path.split("/")
        for i in range(1, len(parts)):
            folder_name = "./" + "/".join(parts[:i]) + "/"
            if folder_name not in folders and not path.startswith(("/", "..")):
                folders.add(folder_name)
                entries.append((folder_name, None))
        entries.append((path if path.startswith(("/", "..")) else "./" + path, files[path]))
    data = raw_data_tar if raw_data_tar is not None else tar_bytes(entries, data_compression)
    ext = {"xz": ".xz", "gz": ".gz", None: ""}.get(data_compression, "." + str(data_compression))
    deb = Path(folder) / f"{package}_{version}_all.deb"
    deb.write_bytes(ar_archive([("debian-binary", b"2.0\n"),
                                ("control.tar.xz", tar_bytes([("./control", control)])),
                                (f"data.tar{ext}", data)]))
    return deb


COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: fake

Files: *
Copyright: 2024 Everyone
License: GPL-3+

Files: photos/*
Copyright: 2024 Ann Photographer
License: CC0-1.0

License: GPL-3+
 The full text.
"""

README = """Copyright: Jane Doe
License: CC-BY-SA 4.0
Source: https://commons.wikimedia.org/wiki/File:Tower.jpg
Files:
tower.webp

Copyright: Someone
License: Public domain
Comment: based on an original painting by Van Gogh, Public domain image.
Files: starry.webp
"""

PHOTOS = "usr/share/fake-photos/photos/"
RCC = "usr/share/fake-rcc/rcc/pictures.rcc"
WALL = "usr/share/wallpapers/Lake/contents/images/"

SOURCES = (
    Source("fake-photos", take=(PHOTOS + "*.jpg",), drop=(PHOTOS + "drawing.jpg",),
           licence="NOTE-LICENCE", content="test photos",
           rotate=((PHOTOS + "sideways.jpg", 90),)),
    Source("fake-rcc", take=(RCC,), drop=(RCC + "!/res/logo_*",), kind="rcc",
           licence="GPL-3+", content="test rcc"),
    Source("fake-wallpapers", take=(WALL + "*",), kind="largest", licence="LGPL",
           content="test wallpapers", licence_files=("usr/share/wallpapers/*/metadata.json",)),
)


@pytest.fixture(scope="module")
def protected(tmp_path_factory):
    """A stand-in album folder with one photo that must stay out of the corpus."""
    folder = tmp_path_factory.mktemp("protected") / "album"
    folder.mkdir()
    smooth_photo(100, 500, 400).save(folder / "01_secret.jpg", quality=95)
    return folder


@pytest.fixture(scope="module")
def debs(tmp_path_factory, protected):
    """A folder with the three fake .deb packages of SOURCES."""
    folder = tmp_path_factory.mktemp("debs")
    secret = Image.open(protected / "01_secret.jpg").convert("RGB")
    copy = secret.crop((25, 20, 475, 380)).resize((420, 336), Image.LANCZOS)   # cropped, smaller
    photos = {
        PHOTOS + "street.jpg": encoded(smooth_photo(1, 1600, 1200), quality=90),
        PHOTOS + "portrait.jpg": encoded(smooth_photo(2, 300, 450), quality=90),
        PHOTOS + "grey.jpg": encoded(smooth_photo(3, 400, 300).convert("L"), quality=90),
        PHOTOS + "sideways.jpg": encoded(smooth_photo(4, 500, 300), quality=90),
        PHOTOS + "drawing.jpg": encoded(smooth_photo(5, 400, 300), quality=90),
        PHOTOS + "tiny.jpg": encoded(smooth_photo(6, 300, 200), quality=90),
        PHOTOS + "album-copy.jpg": encoded(copy, quality=80),
        PHOTOS + "link.jpg": ("link", "street.jpg"),
        "usr/share/fake-photos/other/elsewhere.jpg": encoded(smooth_photo(7, 400, 300)),
        "../evil.jpg": encoded(smooth_photo(8, 400, 300)),
        "/usr/share/fake-photos/photos/absolute.jpg": encoded(smooth_photo(9, 400, 300)),
        "usr/share/doc/fake-photos/copyright": COPYRIGHT.encode(),
    }
    make_deb(folder, "fake-photos", "1.0-1", photos)
    rcc = make_rcc({
        "tower.webp": encoded(smooth_photo(10, 640, 480), "WEBP", quality=90),
        "sound.wav": b"RIFF" + struct.pack("<I", 12) + b"WAVEfmt \0\0\0\0",
        "starry.webp": encoded(smooth_photo(11, 500, 400), "WEBP", quality=90),
        "logo_small.webp": encoded(smooth_photo(12, 300, 300), "WEBP", quality=90),
        "icon.webp": encoded(smooth_photo(13, 64, 64), "WEBP", quality=90),
        "README": README.encode(),
    })
    make_deb(folder, "fake-rcc", "2.0-1", {RCC: rcc})       # no copyright file: the note's licence
    meta = json.dumps({"KPlugin": {"License": "LGPLv3", "Authors": [{"Name": "Risto"}]}})
    make_deb(folder, "fake-wallpapers", "3:1.0-1", {
        WALL + "2560x1600.jpg": encoded(smooth_photo(14, 2560, 1600), quality=95),
        WALL + "640x480.jpg": encoded(smooth_photo(15, 640, 480), quality=95),
        WALL + "1280x800.jpg": ("link", "2560x1600.jpg"),
        "usr/share/wallpapers/Lake/metadata.json": meta.encode()})
    return folder


@pytest.fixture()
def no_apt(monkeypatch):
    """No apt on this machine as far as the builder can tell (and a download is a failure)."""
    monkeypatch.setattr(corpus_fetch, "apt_index", lambda names: {})

    def download(name, folder, update, log):
        raise AssertionError(f"apt-get download {name} was called")
    monkeypatch.setattr(corpus_fetch, "_apt_download", download)


def build(out, debs, protected, **kw):
    """Build the fake corpus, return (folder, [warning messages])."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        folder = pc.build_corpus(out=out, debs=debs, sources=SOURCES, protected=[protected],
                                 min_photos=0, log=lambda *a: None, **kw)
    return folder, [str(w.message) for w in caught if issubclass(w.category, CorpusWarning)]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, debs, protected):
    """The fake corpus, built once: (folder, manifest, warnings)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(corpus_fetch, "apt_index", lambda names: {})
        folder, caught = build(tmp_path_factory.mktemp("cache") / "photo_corpus", debs, protected)
    return folder, load_manifest(folder), caught


def by_file(manifest):
    return {p["file"]: p for p in manifest["photos"]}


# --- the real selection --------------------------------------------------------------------------

def test_sources_follow_the_note():
    names = packages()
    assert names == ["gcompris-qt-data", "scratch", "mate-backgrounds",
                     "plasma-workspace-wallpapers", "lxqt-themes", "lomiri-wallpapers-16.04",
                     "lomiri-wallpapers-20.04", "kphotoalbum", "gnome-control-center-data"]
    src = {s.package: s for s in corpus_sources.SOURCES}
    for s in corpus_sources.SOURCES:
        assert s.take and s.licence and s.content and s.kind in ("files", "largest", "rcc")
    scratch = src["scratch"].drop
    for drawing in ("party-room", "room1", "room2", "room3", "spotlight-stage", "woods-and-bench",
                    "graffiti", "school2", "basketball-court2"):
        assert matches_any(f"usr/share/scratch/Media/Backgrounds/Indoors/{drawing}.jpg",
                           scratch)
    assert not matches_any("usr/share/scratch/Media/Backgrounds/Nature/lake.jpg", scratch)
    details = [d for d in src["gcompris-qt-data"].drop if "details.rcc!" in d]
    assert len(details) == 8
    assert matches_any("usr/share/gcompris-qt/rcc/details.rcc!/gcompris/src/activities/"
                       "details/resource/image/Gogh4_background.webp", details)
    assert len(src["plasma-workspace-wallpapers"].take) == 12
    assert len(src["lxqt-themes"].take) == 10
    assert dict(src["kphotoalbum"].rotate)["usr/share/kphotoalbum/demo/grand_canyon_1.jpg"] == 180


def test_path_matches_stays_in_one_folder():
    assert path_matches("a/b/c.jpg", "a/*/c.jpg")
    assert not path_matches("a/b/x/c.jpg", "a/*/c.jpg")
    assert not path_matches("a/b/c.jpg", "a/*")


# --- .deb and .rcc reading -----------------------------------------------------------------------

def test_deb_is_read_in_python(debs):
    deb = debs / "fake-photos_1.0-1_all.deb"
    assert [name for name, _, _ in ar_members(deb)] == ["debian-binary", "control.tar.xz",
                                                       "data.tar.xz"]
    assert read_control(deb)["Version"] == "1.0-1"
    with pytest.warns(CorpusWarning, match="refusing archive member"):
        files = read_package(deb, SOURCES[0])
    assert files.unpacked_with == "Python tarfile (xz)"
    assert sorted(Path(p).name for p in files.members) == [
        "album-copy.jpg", "drawing.jpg", "grey.jpg", "portrait.jpg", "sideways.jpg",
        "street.jpg", "tiny.jpg"]                    # no link, no other folder, no unsafe names
    assert "CC0-1.0" in files.copyright


def test_damaged_and_foreign_debs_are_refused(tmp_path, debs):
    deb = debs / "fake-photos_1.0-1_all.deb"
    cut = tmp_path / "cut.deb"
    cut.write_bytes(deb.read_bytes()[:-1000])
    with pytest.raises(ValueError, match="truncated"):
        ar_members(cut)
    (tmp_path / "text.deb").write_text("hello")
    with pytest.raises(ValueError, match="not a Debian package"):
        ar_members(tmp_path / "text.deb")
    with pytest.raises(CorpusError, match="is package 'fake-photos', expected 'fake-rcc'"):
        read_package(deb, SOURCES[1])


def test_unsafe_member_names_are_refused(tmp_path):
    raw = tar_bytes([("./usr/", None), ("../escape.jpg", b"x"), ("/etc/passwd", b"x"),
                     ("./usr/a/../../b.jpg", b"x"), ("./usr/ok.jpg", b"x")])
    make_deb(tmp_path, "evil", "1", {}, raw_data_tar=raw)
    source = Source("evil", take=("*", "*.jpg", "usr/*.jpg", "etc/*"), licence="x", content="x")
    with pytest.warns(CorpusWarning) as caught:
        files = read_package(tmp_path / "evil_1_all.deb", source)
    assert sorted(files.members) == ["usr/ok.jpg"]
    assert len([w for w in caught if "refusing archive member" in str(w.message)]) == 3
    assert not (tmp_path.parent / "escape.jpg").exists()


def test_rcc_webps_are_cut_out_by_their_riff_header():
    one = encoded(smooth_photo(1, 300, 300), "WEBP")
    two = encoded(smooth_photo(2, 320, 260), "WEBP")
    wave = b"RIFF" + struct.pack("<I", 4) + b"WAVE"
    blob = b"junk" + one + wave + b"\0\0more" + two + b"tail"
    found = rcc_webps(blob)
    assert [(i, len(data)) for i, _, data in found] == [(0, len(one)), (1, len(two))]
    assert Image.open(io.BytesIO(found[1][2])).size == (320, 260)
    assert rcc_names(blob) == {}                       # no name table: images by index only


def test_rcc_name_table_and_credits():
    tower = encoded(smooth_photo(1, 300, 300), "WEBP")
    for version in (1, 2, 3):
        rcc = make_rcc({"tower.webp": tower, "README": README.encode()}, version=version)
        names = rcc_names(rcc)
        (index, offset, data), = rcc_webps(rcc)
        assert names[offset] == "/res/tower.webp" and data == tower
    notices = rcc_notices(rcc, rcc_entries(rcc))
    licence, credit, where = notices["/res/tower.webp"]
    assert licence == "CC-BY-SA-4.0" and where == "/res/README"
    assert credit == "Jane Doe; https://commons.wikimedia.org/wiki/File:Tower.jpg"
    assert notices["/res/starry.webp"][0] == "public-domain"


def test_copyright_matching():
    stanzas = parse_copyright(COPYRIGHT + "\nFiles: 16.04/Bridge_by_Me.jpg\nCopyright: Me\n"
                              "License: CC-BY-4.0\n\nFiles: src/a/resource/sea1.jpg\n"
                              "Copyright: Sea\nLicense: CC0-1.0\n")
    licence = lambda path, **kw: copyright_licence(stanzas, path, **kw)[0]  # noqa: E731
    assert licence("usr/share/fake/photos/x.jpg") == "CC0-1.0"          # glob at the path's end
    assert licence("usr/share/backgrounds/Bridge_by_Me.jpg") == "CC-BY-4.0"   # the same file name
    assert licence("usr/share/other/x.jpg") == "GPL-3+"                 # only Files: *
    assert licence("/gcompris/src/a/resource/sea1.webp", converted=True) == "CC0-1.0"
    assert parse_copyright("Just some text\n\nLicense: GPL\n") is None


# --- photos --------------------------------------------------------------------------------------

def test_size_filter_and_output_size():
    with pytest.raises(Rejected, match="too small"):
        prepare_photo(encoded(smooth_photo(1, 300, 200)))              # 200 px short side
    jpeg, original, size, _ = prepare_photo(encoded(smooth_photo(1, 256, 256)))
    assert original == (256, 256) and size == (256, 256)               # never enlarged
    _, original, size, _ = prepare_photo(encoded(smooth_photo(1, 3000, 2000)))
    assert original == (3000, 2000) and size == (1024, 683)
    assert output_size(3000, 600) == (1280, 256)                    # the short side kept >= 256
    with pytest.raises(Rejected, match="8-bit photo"):
        prepare_photo(encoded(smooth_photo(1, 300, 300).convert("1"), "PNG"))
    with pytest.raises(Rejected, match="cannot be decoded"):
        prepare_photo(encoded(smooth_photo(1, 400, 300))[:2000])
    _, _, size, rgb = prepare_photo(encoded(smooth_photo(1, 500, 300)), rotate=90)
    assert size == (300, 500) and rgb.mode == "RGB"


def test_album_and_holdout_copies_are_recognised():
    refs = protected_prints()
    labels = [label for label, _ in refs]
    assert "album/01_astronaut.jpg" in labels and "holdout/camera.jpg" in labels
    assert len(labels) == len(list((ROOT / "data" / "album").glob("*.jpg"))) + \
        len(list((ROOT / "data" / "holdout").glob("*.jpg")))
    astronaut = Image.open(ROOT / "data" / "album" / "01_astronaut.jpg").convert("RGB")
    w, h = astronaut.size
    copies = {
        "smaller, recompressed": Image.open(io.BytesIO(encoded(
            astronaut.resize((w * 6 // 10, h * 6 // 10)), quality=60))),
        "cropped 8%": astronaut.crop((w // 12, h // 12, w - w // 12, h - h // 12)),
        "mirrored": astronaut.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        "brighter, less colour": Image.eval(astronaut, lambda v: min(255, int(v * 1.15))),
    }
    for what, copy in copies.items():
        score, label = nearest(refs, PhotoPrint(copy.convert("RGB")))
        assert label == "album/01_astronaut.jpg" and score >= NEAR_DUPLICATE, what
    other = smooth_photo(3, 640, 480)
    score, _ = nearest(refs, PhotoPrint(other))
    assert score < NEAR_DUPLICATE


# --- building ------------------------------------------------------------------------------------

def test_corpus_selection_drops_and_files(corpus):
    folder, manifest, caught = corpus
    files = sorted(p.name for p in folder.glob("*.jpg"))
    assert files == sorted(by_file(manifest))
    assert files == ["fake-photos__grey.jpg", "fake-photos__portrait.jpg",
                     "fake-photos__sideways.jpg", "fake-photos__street.jpg",
                     "fake-rcc__pictures-tower.jpg", "fake-wallpapers__Lake.jpg"]
    why = {Path(d["item"].split("!")[-1]).name: d["why"] for d in manifest["dropped"]}
    assert why["drawing.jpg"].startswith("drop list")
    assert why["tiny.jpg"].startswith("too small (300x200")
    assert why["album-copy.jpg"].startswith("near-duplicate of album/01_secret.jpg")
    assert why["logo_small.webp"].startswith("drop list")
    assert why["starry.webp"] == "its credits call it a painting"
    assert why["icon.webp"].startswith("too small")
    assert any("near-duplicate of album/01_secret.jpg" in w for w in caught)
    assert sum("refusing archive member" in w for w in caught) == 2


def test_photos_are_checked_rgb_jpegs(corpus):
    folder, manifest, _ = corpus
    for record in manifest["photos"]:
        with Image.open(folder / record["file"]) as im:
            assert im.format == "JPEG" and im.mode == "RGB"
            assert list(im.size) == record["size"]
            assert min(im.size) >= MIN_SIDE and max(im.size) <= MAX_SIDE
    photos = by_file(manifest)
    assert photos["fake-photos__street.jpg"]["original_size"] == [1600, 1200]
    assert photos["fake-photos__street.jpg"]["size"] == [1024, 768]
    assert photos["fake-photos__sideways.jpg"]["size"] == [300, 500]          # rotated 90
    assert photos["fake-photos__sideways.jpg"]["rotated"] == 90
    assert photos["fake-wallpapers__Lake.jpg"]["original_size"] == [2560, 1600]   # the largest


def test_manifest_fields(corpus):
    folder, manifest, _ = corpus
    photos = by_file(manifest)
    street = photos["fake-photos__street.jpg"]
    assert street["package"] == "fake-photos" and street["version"] == "1.0-1"
    assert street["path"] == PHOTOS + "street.jpg" and street["rcc_index"] is None
    assert street["licence"] == "CC0-1.0" and street["credit"] == "2024 Ann Photographer"
    assert street["licence_source"].startswith("usr/share/doc/fake-photos/copyright")
    assert street["sha256"] == hashlib.sha256((folder / street["file"]).read_bytes()).hexdigest()
    tower = photos["fake-rcc__pictures-tower.jpg"]
    assert tower["path"] == RCC and tower["rcc_name"] == "/res/tower.webp"
    assert tower["rcc_index"] == 0
    assert tower["licence"] == "CC-BY-SA-4.0" and tower["credit"].startswith("Jane Doe")
    lake = photos["fake-wallpapers__Lake.jpg"]
    assert (lake["licence"], lake["credit"]) == ("LGPLv3", "Risto")
    info = manifest["packages"]["fake-photos"]
    deb = manifest["packages"]["fake-rcc"]
    assert deb["version"] == "2.0-1" and deb["copyright_file"] is None
    assert manifest["packages"]["fake-wallpapers"]["version"] == "3:1.0-1"
    assert len(info["sha256"]) == 64 and info["unpacked_with"] == "Python tarfile (xz)"
    assert manifest["kept_out"] == ["album/01_secret.jpg"]
    tsv = (folder / MANIFEST_TSV).read_text().splitlines()
    assert tsv[0].split("\t")[:4] == ["file", "package", "version", "path"] and len(tsv) == 7
    attribution = (folder / ATTRIBUTION).read_text()
    assert "fake-rcc__pictures-tower.jpg | CC-BY-SA-4.0 | Jane Doe" in attribution
    assert (folder / LICENSES / "fake-photos.copyright").read_text() == COPYRIGHT
    assert (folder / LICENSES / "fake-wallpapers__usr_share_wallpapers_Lake_metadata.json"
         ).is_file()


def test_the_note_licence_when_the_package_says_nothing(tmp_path, debs, protected, no_apt):
    source = Source("fake-photos", take=(PHOTOS + "street.jpg",), licence="NOTE-LICENCE",
                    content="x")
    with pytest.warns(CorpusWarning, match="refusing archive member"):
        files = read_package(debs / "fake-photos_1.0-1_all.deb", source)
    files.copyright = "not machine-readable"
    licence, credit, where = photo_licence(source, files, PHOTOS + "street.jpg")
    assert licence == "NOTE-LICENCE" and "not machine-readable" in where


def test_rerun_reuses_the_corpus(corpus, debs, protected, monkeypatch, no_apt):
    folder, manifest, _ = corpus
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    monkeypatch.setattr(pc, "read_package", lambda *a: pytest.fail("a package was read again"))
    assert build(folder, debs, protected)[0] == folder
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert pc.corpus_problem(folder, SOURCES) is None
    assert "another selection" in pc.corpus_problem(folder, SOURCES[:2])   # a changed selection


def test_a_failure_midway_leaves_no_partial_corpus(tmp_path, debs, protected, monkeypatch,
                                                  no_apt):
    real, calls = prepare_photo, []

    def failing(data, rotate=0):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("disk on fire")
        return real(data, rotate)
    monkeypatch.setattr(pc, "prepare_photo", failing)
    out = tmp_path / "photo_corpus"
    with pytest.raises(RuntimeError, match="disk on fire"):
        build(out, debs, protected)
    assert list(tmp_path.iterdir()) == []                 # no corpus, no hidden staging folder
    monkeypatch.setattr(pc, "prepare_photo", real)
    build(out, debs, protected)
    manifest = load_manifest(out)
    calls.clear()
    monkeypatch.setattr(pc, "prepare_photo", failing)
    with pytest.raises(RuntimeError):
        build(out, debs, protected, force=True)           # a failed rebuild keeps the old corpus
    assert load_manifest(out) == manifest and pc.corpus_problem(out, SOURCES) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo_corpus"]


def test_a_folder_that_is_not_a_corpus_is_never_replaced(tmp_path, debs, protected, no_apt):
    mine = tmp_path / "Pictures"
    mine.mkdir()
    (mine / "holiday.jpg").write_bytes(b"precious")
    with pytest.raises(ValueError, match="is not a photo corpus"):
        build(mine, debs, protected)
    assert (mine / "holiday.jpg").read_bytes() == b"precious"
    (tmp_path / "empty").mkdir()
    assert build(tmp_path / "empty", debs, protected)[0] == tmp_path / "empty"


def test_stale_staging_folders_of_killed_builds_are_removed(tmp_path):
    out = tmp_path / "photo_corpus"
    dead = tmp_path / ".photo_corpus.p999999999-abcd.building"
    dead.mkdir()
    mine = pc._staging_dir(out)
    assert pc.remove_stale_builds(out) == [dead] and mine.is_dir()


# --- fetching ------------------------------------------------------------------------------------

def test_debs_are_reused_when_their_sha256_matches(tmp_path, debs, monkeypatch):
    folder = tmp_path / "debs"
    folder.mkdir()
    deb = shutil.copy(debs / "fake-rcc_2.0-1_all.deb", folder)
    good = hashlib.sha256(Path(deb).read_bytes()).hexdigest()
    monkeypatch.setattr(corpus_fetch, "apt_index", lambda names: {
        n: {"version": "2.0-1", "sha256": good, "size": 0} for n in names})
    downloads = []

    def download(name, into, update, log):
        downloads.append(name)
        shutil.copy(debs / "fake-rcc_2.0-1_all.deb", into)
    monkeypatch.setattr(corpus_fetch, "_apt_download", download)
    monkeypatch.setattr(shutil, "which", lambda cmd: f"/usr/bin/{cmd}")
    found = fetch_debs(["fake-rcc"], folder, log=lambda *a: None)
    assert downloads == [] and found["fake-rcc"][1] == good
    Path(deb).write_bytes(Path(deb).read_bytes()[:-10] + b"0123456789")   # damaged, same version
    with pytest.warns(CorpusWarning, match="damaged"):
        found = fetch_debs(["fake-rcc"], folder, log=lambda *a: None)
    assert downloads == ["fake-rcc"] and found["fake-rcc"][1] == good


def test_an_old_version_in_the_cache_is_replaced_by_the_current_one(tmp_path, debs,
                                                                      monkeypatch):
    folder = tmp_path / "debs"
    folder.mkdir()
    make_deb(folder, "fake-rcc", "1.9-1", {"usr/share/x.txt": b"old"})
    current = debs / "fake-rcc_2.0-1_all.deb"
    good = hashlib.sha256(current.read_bytes()).hexdigest()
    monkeypatch.setattr(corpus_fetch, "apt_index", lambda names: {
        n: {"version": "2.0-1", "sha256": good, "size": 0} for n in names})
    monkeypatch.setattr(shutil, "which", lambda cmd: f"/usr/bin/{cmd}")
    monkeypatch.setattr(corpus_fetch, "_apt_download", lambda name, into, update, log: shutil.copy(
        current, into))
    path, sha, version = fetch_debs(["fake-rcc"], folder, log=lambda *a: None)["fake-rcc"]
    assert (path.name, sha, version) == (current.name, good, "2.0-1")


def test_without_apt_the_last_manifest_checks_the_debs(tmp_path, debs, monkeypatch):
    folder = tmp_path / "debs"
    folder.mkdir()
    deb = Path(shutil.copy(debs / "fake-rcc_2.0-1_all.deb", folder))
    good = hashlib.sha256(deb.read_bytes()).hexdigest()
    monkeypatch.setattr(corpus_fetch, "apt_index", lambda names: {})
    monkeypatch.setattr(shutil, "which", lambda cmd: None)
    known = {"fake-rcc": {"version": "2.0-1", "sha256": good}}
    assert fetch_debs(["fake-rcc"], folder, known=known, log=lambda *a: None)["fake-rcc"] == (
        deb, good, "2.0-1")
    deb.write_bytes(deb.read_bytes()[:-10] + b"0123456789")
    with pytest.warns(CorpusWarning, match="damaged"), pytest.raises(CorpusError,
                                                                 match="by hand"):
        fetch_debs(["fake-rcc"], folder, known=known, log=lambda *a: None)
    assert not deb.exists()                                # the damaged copy is gone


def test_downloaded_debs_are_deleted_unless_kept(tmp_path, debs, protected, monkeypatch):
    monkeypatch.setenv("ALBUM_CACHE_DIR", str(tmp_path / "cache"))
    index = {p.name.split("_")[0]: {"version": read_control(p)["Version"],
                                 "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
             for p in debs.glob("*.deb")}
    monkeypatch.setattr(corpus_fetch, "apt_index", lambda names: {n: index[n] for n in names})
    monkeypatch.setattr(shutil, "which", lambda cmd: f"/usr/bin/{cmd}")
    monkeypatch.setattr(corpus_fetch, "_apt_download", lambda name, into, update, log: shutil.copy(
        next(debs.glob(f"{name}_*.deb")), into))
    build(None, None, protected, keep_debs=True)
    assert len(list(default_debs_folder().glob("*.deb"))) == 3
    assert pc.corpus_problem(default_folder(), SOURCES) is None
    build(None, None, protected, force=True)               # reuses them, then deletes them
    assert not default_debs_folder().exists()
    assert len(load_manifest()["photos"]) == 6


def test_without_apt_get_one_line_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_fetch, "apt_index", lambda names: {})
    monkeypatch.setattr(shutil, "which", lambda cmd: None)
    with pytest.raises(CorpusError) as err:
        fetch_debs(["scratch", "kphotoalbum"], tmp_path, log=lambda *a: None)
    message = str(err.value)
    assert "\n" not in message and "scratch, kphotoalbum" in message
    assert "by hand" in message and f"--debs {tmp_path}" in message


def test_zstd_data_tar(tmp_path, debs):
    if corpus_debs._zstd_reader(io.BytesIO(b"")) is None and not shutil.which("dpkg-deb"):
        pytest.skip("neither Python zstd support nor dpkg-deb here")
    if not shutil.which("zstd"):
        pytest.skip("no zstd command to make the test package")
    plain = tar_bytes([("./usr/", None), ("./usr/share/", None),
                       ("./usr/share/a.jpg", encoded(smooth_photo(1, 300, 300)))], None)
    packed = subprocess.run(["zstd", "-q", "-c"], input=plain, stdout=subprocess.PIPE,
                            check=True).stdout
    deb = make_deb(tmp_path, "zst", "1", {}, data_compression="zst", raw_data_tar=packed)
    files = read_package(deb, Source("zst", take=("usr/share/*.jpg",), licence="x",
                                     content="x"))
    assert list(files.members) == ["usr/share/a.jpg"]
    assert "zstd" in files.unpacked_with


# --- finding the corpus, the contact sheet, the command line -------------------------------------

def test_corpus_dir(tmp_path, monkeypatch, corpus):
    monkeypatch.setenv("ALBUM_CACHE_DIR", str(tmp_path / "cache"))
    assert default_folder() == tmp_path / "cache" / "photo_corpus"
    with pytest.raises(FileNotFoundError, match="build_photo_corpus.py"):
        pc.corpus_dir()
    folder = corpus[0]
    with pytest.raises(FileNotFoundError, match="another selection"):
        pc.corpus_dir(folder=folder)                  # built from the fake selection, not SOURCES
    monkeypatch.setattr(pc, "SOURCES", SOURCES)
    assert pc.corpus_dir(folder=folder) == folder
    assert paths.cache_dir() == tmp_path / "cache"


def test_contact_sheet(tmp_path, corpus):
    folder = corpus[0]
    sheet = pc.contact_sheet(folder, tmp_path / "sheet.png", columns=4, thumb=100)
    with Image.open(sheet) as im:
        assert im.size == (400, 2 * (100 + 14))
    with pytest.raises(ValueError, match="would be trained on"):
        pc.contact_sheet(folder, folder / "sheet.jpg")


def test_command_line(tmp_path, debs, protected, monkeypatch, capsys, no_apt):
    spec = importlib.util.spec_from_file_location("build_photo_corpus",
                                                  ROOT / "scripts" / "build_photo_corpus.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    real = pc.build_corpus
    monkeypatch.setattr(pc, "build_corpus", lambda **kw: real(
        sources=SOURCES, protected=[protected], min_photos=0, **kw))
    out = tmp_path / "corpus"
    assert script.main(["--out", str(out), "--debs", str(debs),
                        "--contact-sheet", str(tmp_path / "sheet.jpg")]) == 0
    text = capsys.readouterr().out
    assert "fake-photos" in text and "total" in text and "6 photos" in text
    assert (tmp_path / "sheet.jpg").is_file() and (debs / "fake-rcc_2.0-1_all.deb").is_file()
    def unavailable(name, folder, update, log):
        raise CorpusError(f"apt-get download {name} failed: E: Unable to locate package")
    monkeypatch.setattr(corpus_fetch, "_apt_download", unavailable)
    assert script.main(["--out", str(tmp_path / "other"), "--debs", str(tmp_path / "none")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: apt-get download fake-photos failed") and err.count("\n") == 1
    assert not (tmp_path / "other").exists()
