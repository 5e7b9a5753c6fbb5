"""Downloads (resume, retry, checksums), safe zip/tar extraction and the COCO locator.

Everything runs offline: a loopback HTTP server (127.0.0.1, a random port, a daemon thread shut
down after each test) serves a temporary folder, with Range support written here.
"""

import hashlib
import io
import re
import socket
import stat
import tarfile
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from albumlib import download as dl
from albumlib.style import coco
from albumlib.download import ChecksumError, DownloadError, UnsafeArchiveError

PAYLOAD = np.random.default_rng(7).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
SHA = hashlib.sha256(PAYLOAD).hexdigest()
MD5 = hashlib.md5(PAYLOAD).hexdigest()


# --- a loopback HTTP server ----------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    """GET with optional Range; the server object carries the knobs and the request log."""

    protocol_version = "HTTP/1.1"
    timeout = 10                                  # a stuck client cannot hold a thread for long

    def log_message(self, *args):
        pass

    def do_GET(self):
        srv = self.server
        rng = self.headers.get("Range")
        srv.requests.append((self.path, rng))
        if self.path in srv.redirects:
            self.send_response(302)
            self.send_header("Location", srv.redirects[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if srv.fail_codes:
            self.send_error(srv.fail_codes.pop(0))
            return
        file = srv.root / self.path.lstrip("/")
        if not file.is_file():
            self.send_error(404)
            return
        data = file.read_bytes()
        start, status = 0, 200
        if rng and not srv.ignore_range:
            m = re.fullmatch(r"bytes=(\d+)-", rng)
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
            if srv.wrong_range:                   # answer with a range that was not asked for
                start = 0
        body = data[start:]
        self.send_response(status)
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if srv.cut_after:                         # drop the connection part way through the body
            n = srv.cut_after.pop(0)
            self.wfile.write(body[:n])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    (root / "file.bin").write_bytes(PAYLOAD)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.root, httpd.requests, httpd.ignore_range = root, [], False
    httpd.cut_after, httpd.fail_codes, httpd.redirects = [], [], {}
    httpd.wrong_range = False
    httpd.url = lambda name="file.bin": f"http://127.0.0.1:{httpd.server_address[1]}/{name}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch):
    monkeypatch.setattr(dl, "RETRY_BACKOFF_S", 0.0)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)


def part_of(dest):
    return Path(str(dest) + ".part")


# --- download -----------------------------------------------------------------------------------

def test_full_download_verified(server, tmp_path):
    dest = tmp_path / "out" / "file.bin"
    got = dl.download(server.url(), dest, sha256=SHA, md5=MD5, size=len(PAYLOAD), progress=False,
                      chunk=65536)
    assert got == dest and dest.read_bytes() == PAYLOAD
    assert not part_of(dest).exists()
    assert server.requests == [("/file.bin", None)]


def test_resume_sends_a_range_request(server, tmp_path):
    dest = tmp_path / "file.bin"
    part_of(dest).write_bytes(PAYLOAD[:123_457])
    dl.download(server.url(), dest, sha256=SHA, size=len(PAYLOAD), progress=False)
    assert server.requests == [("/file.bin", "bytes=123457-")]
    assert dest.read_bytes() == PAYLOAD and not part_of(dest).exists()


def test_complete_part_file_is_only_verified(server, tmp_path):
    dest = tmp_path / "file.bin"
    part_of(dest).write_bytes(PAYLOAD)
    dl.download(server.url(), dest, sha256=SHA, size=len(PAYLOAD), progress=False)
    assert server.requests == [] and dest.read_bytes() == PAYLOAD
    # Without a known size the server is asked and its 416 says the .part is complete.
    dest.unlink()
    part_of(dest).write_bytes(PAYLOAD)
    dl.download(server.url(), dest, sha256=SHA, progress=False)
    assert server.requests == [("/file.bin", f"bytes={len(PAYLOAD)}-")]
    assert dest.read_bytes() == PAYLOAD


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    server.ignore_range = True
    dest = tmp_path / "file.bin"
    part_of(dest).write_bytes(b"X" * 5000)        # wrong bytes: they must not survive
    dl.download(server.url(), dest, sha256=SHA, size=len(PAYLOAD), progress=False)
    assert server.requests == [("/file.bin", "bytes=5000-")]
    assert dest.read_bytes() == PAYLOAD


def test_wrong_range_answer_or_oversized_part_restarts_from_zero(server, tmp_path):
    server.wrong_range = True
    dest = tmp_path / "file.bin"
    part_of(dest).write_bytes(PAYLOAD[:1000])
    dl.download(server.url(), dest, sha256=SHA, progress=False)
    assert server.requests == [("/file.bin", "bytes=1000-"), ("/file.bin", None)]
    assert dest.read_bytes() == PAYLOAD
    server.requests.clear()
    dest.unlink()
    part_of(dest).write_bytes(PAYLOAD + b"extra")
    dl.download(server.url(), dest, sha256=SHA, size=len(PAYLOAD), progress=False)
    assert server.requests == [("/file.bin", None)] and dest.read_bytes() == PAYLOAD


def test_dropped_connection_is_retried_and_resumed(server, tmp_path):
    server.cut_after = [100_000]
    dest = tmp_path / "file.bin"
    dl.download(server.url(), dest, sha256=SHA, size=len(PAYLOAD), progress=False, chunk=8192,
                timeout=5)
    assert server.requests == [("/file.bin", None), ("/file.bin", "bytes=100000-")]
    assert dest.read_bytes() == PAYLOAD


def test_server_errors_are_retried_then_given_up(server, tmp_path):
    server.fail_codes = [503]
    dest = tmp_path / "file.bin"
    dl.download(server.url(), dest, sha256=SHA, progress=False)
    assert len(server.requests) == 2 and dest.read_bytes() == PAYLOAD
    server.requests.clear()
    server.fail_codes = [503] * 5
    with pytest.raises(DownloadError, match="3 attempts"):
        dl.download(server.url(), tmp_path / "again.bin", progress=False, retries=2)
    assert len(server.requests) == 3


def test_http_404_is_not_retried(server, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        dl.download(server.url("missing.bin"), tmp_path / "m.bin", progress=False)
    assert len(server.requests) == 1
    assert not (tmp_path / "m.bin").exists()


def test_connection_refused_is_retried(tmp_path):
    with socket.socket() as s:                    # a port that nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.monotonic()
    with pytest.raises(DownloadError, match="2 attempts"):
        dl.download(f"http://127.0.0.1:{port}/x", tmp_path / "x", progress=False, retries=1,
                    timeout=2)
    assert time.monotonic() - t < 10


def test_checksum_mismatch_names_file_and_values(server, tmp_path):
    dest = tmp_path / "file.bin"
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as info:
        dl.download(server.url(), dest, sha256=wrong, progress=False)
    message = str(info.value)
    assert "file.bin" in message and wrong in message and SHA in message
    assert not dest.exists() and not part_of(dest).exists()
    with pytest.raises(ChecksumError, match=MD5):
        dl.download(server.url(), dest, md5="f" * 32, progress=False)
    assert not dest.exists() and not part_of(dest).exists()


def test_size_mismatch(server, tmp_path):
    dest = tmp_path / "file.bin"
    with pytest.raises(ChecksumError, match="size") as info:
        dl.download(server.url(), dest, size=len(PAYLOAD) + 1, progress=False)
    assert f"{len(PAYLOAD):,}" in str(info.value)
    assert not dest.exists() and not part_of(dest).exists()


def test_existing_verified_file_is_reused_without_a_request(server, tmp_path):
    dest = tmp_path / "file.bin"
    dest.write_bytes(PAYLOAD)
    before = dest.stat().st_mtime_ns
    assert dl.download(server.url(), dest, sha256=SHA, size=len(PAYLOAD), progress=False) == dest
    assert server.requests == [] and dest.stat().st_mtime_ns == before
    # A corrupt existing file is downloaded again, with a warning.
    dest.write_bytes(b"corrupt")
    with pytest.warns(UserWarning, match="downloading it again"):
        dl.download(server.url(), dest, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD and len(server.requests) == 1


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x.zip",
                                 "data:text/plain,hello", "/etc/passwd", "http:///nohost"])
def test_refuses_non_http_urls(url, tmp_path):
    dest = tmp_path / "x"
    with pytest.raises(ValueError, match="http"):
        dl.download(url, dest, progress=False)
    assert not dest.exists() and not part_of(dest).exists()


def test_redirect_to_file_url_is_refused(server, tmp_path):
    server.redirects["/sneaky"] = "file:///etc/passwd"
    server.redirects["/fine"] = "/file.bin"
    with pytest.raises((ValueError, DownloadError)):
        dl.download(server.url("sneaky"), tmp_path / "s", progress=False)
    assert not (tmp_path / "s").exists()
    dl.download(server.url("fine"), tmp_path / "f", sha256=SHA, progress=False)
    assert (tmp_path / "f").read_bytes() == PAYLOAD


def test_bad_checksum_argument(tmp_path):
    with pytest.raises(ValueError, match="sha256"):
        dl.download("http://127.0.0.1:1/x", tmp_path / "x", sha256="abc", progress=False)


# --- safe extraction ----------------------------------------------------------------------------

def snapshot(folder):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_ino)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def make_zip(path, entries):
    """entries: [(name, bytes)] or [(ZipInfo, bytes)]."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return path


def symlink_info(name):
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


GOOD = [("top/a.txt", b"alpha"), ("top/sub/b.bin", b"\x00" * 5000), ("c.txt", b"")]


@pytest.mark.parametrize("bad", ["../evil.txt", "top/../../evil.txt", "/tmp/evil.txt",
                                 "C:/evil.txt", "..\\evil.txt", "top\\..\\..\\evil.txt"])
def test_zip_refuses_escaping_names(tmp_path, bad):
    archive = make_zip(tmp_path / "a.zip", GOOD + [(bad, b"evil")])
    dest = tmp_path / "deep" / "dest"
    before = snapshot(tmp_path)
    with pytest.raises(UnsafeArchiveError) as info:
        dl.safe_extract_zip(archive, dest, progress=False)
    assert repr(bad) in str(info.value)
    assert snapshot(tmp_path) == before          # nothing written anywhere, not even good entries
    assert not dest.exists()


def test_zip_refuses_symlink_entries(tmp_path):
    archive = make_zip(tmp_path / "a.zip", GOOD + [(symlink_info("top/link"), b"/etc/passwd")])
    with pytest.raises(UnsafeArchiveError, match="'top/link'.*symbolic link"):
        dl.safe_extract_zip(archive, tmp_path / "dest", progress=False)
    assert not (tmp_path / "dest").exists()


def test_zip_refuses_to_write_through_an_existing_symlink(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "top").symlink_to(outside)
    archive = make_zip(tmp_path / "a.zip", GOOD)
    with pytest.raises(UnsafeArchiveError, match="outside"):
        dl.safe_extract_zip(archive, dest, progress=False)
    assert list(outside.iterdir()) == []


def test_zip_extracts_and_resumes(tmp_path):
    archive = make_zip(tmp_path / "a.zip", GOOD + [("emptydir/", b"")])
    dest = tmp_path / "dest"
    assert dl.safe_extract_zip(archive, dest, progress=False) == dest
    for name, data in GOOD:
        assert (dest / name).read_bytes() == data
    assert (dest / "emptydir").is_dir()
    marker = dl.extraction_marker(dest, archive)
    assert marker.is_file()
    files = snapshot(dest)
    # Again: a no-op (the marker matches).
    dl.safe_extract_zip(archive, dest, progress=False)
    assert snapshot(dest) == files
    # Without the marker and with one file missing: only that file is written again.
    marker.unlink()
    (dest / "top" / "a.txt").unlink()
    dl.safe_extract_zip(archive, dest, progress=False)
    after = snapshot(dest)
    assert after[dest / "top" / "a.txt"][0] == b"alpha"
    assert after[dest / "top" / "sub" / "b.bin"] == files[dest / "top" / "sub" / "b.bin"]
    assert marker.is_file()
    # No temporary files are left behind.
    assert not [p for p in dest.rglob("*") if ".tmp" in p.name]


def test_zip_members_and_corrupt_data(tmp_path):
    archive = make_zip(tmp_path / "a.zip", GOOD)
    dest = tmp_path / "dest"
    dl.safe_extract_zip(archive, dest, members=["top/a.txt"], progress=False)
    assert sorted(p.name for p in dest.rglob("*") if p.is_file()) == [".a.zip.extracted", "a.txt"]
    with pytest.raises(KeyError, match="nope"):
        dl.safe_extract_zip(archive, dest, members=["nope"], progress=False)
    # A corrupted byte in the data fails the CRC check and leaves no file that looks complete.
    raw = bytearray(make_zip(tmp_path / "b.zip", [("x.bin", b"\x01" * 1000)]).read_bytes())
    at = raw.index(b"\x01" * 1000)
    raw[at + 10] ^= 0xFF
    (tmp_path / "b.zip").write_bytes(bytes(raw))
    with pytest.raises(zipfile.BadZipFile):
        dl.safe_extract_zip(tmp_path / "b.zip", tmp_path / "d2", progress=False)
    assert [p for p in (tmp_path / "d2").iterdir()] == []


def make_tar(path, files=(), members=()):
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for info in members:
            tf.addfile(info)
    return path


def tar_link(name, target, kind):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


@pytest.mark.parametrize("bad", [
    ("../evil.txt", None), ("/tmp/evil.txt", None), ("a\\..\\..\\evil", None),
    ("link", tarfile.SYMTYPE), ("hard", tarfile.LNKTYPE), ("fifo", tarfile.FIFOTYPE)])
def test_tar_refuses_unsafe_entries(tmp_path, bad):
    name, kind = bad
    if kind is None:
        archive = make_tar(tmp_path / "a.tgz", GOOD + [(name, b"evil")])
    else:
        info = tar_link(name, "/etc/passwd" if kind != tarfile.LNKTYPE else "top/a.txt", kind)
        archive = make_tar(tmp_path / "a.tgz", GOOD, [info])
    before = snapshot(tmp_path)
    with pytest.raises(UnsafeArchiveError) as info:
        dl.safe_extract_tar(archive, tmp_path / "dest", progress=False)
    assert repr(name) in str(info.value)
    assert snapshot(tmp_path) == before and not (tmp_path / "dest").exists()


def test_tar_extracts_and_reextraction_is_a_no_op(tmp_path):
    archive = make_tar(tmp_path / "a.tar.gz", GOOD)
    dest = tmp_path / "dest"
    dl.safe_extract_tar(archive, dest, progress=False)
    for name, data in GOOD:
        assert (dest / name).read_bytes() == data
    files = snapshot(dest)
    dl.safe_extract_tar(archive, dest, progress=False)
    assert snapshot(dest) == files
    marker = dl.extraction_marker(dest, archive)
    marker.unlink()
    dl.safe_extract_tar(archive, dest, progress=False)   # resumable path: nothing to rewrite
    after = snapshot(dest)
    assert marker.is_file()
    assert {p: v for p, v in after.items() if p != marker} == {
        p: v for p, v in files.items() if p != marker}


# --- COCO ---------------------------------------------------------------------------------------

def tiny_jpegs(folder, n=3):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        a = np.full((8, 10, 3), 40 * i, np.uint8)
        Image.fromarray(a).save(folder / f"COCO_train2014_{i:012d}.jpg")
    return folder


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("ALBUM_CACHE_DIR", str(root))

    def no_network(*args, **kwargs):
        raise AssertionError("the network must not be used here")

    monkeypatch.setattr(coco.dl, "download", no_network)
    return root


def test_coco_user_folder_is_used_untouched(tmp_path, cache):
    folder = tiny_jpegs(tmp_path / "mine" / "train2014")
    before = snapshot(tmp_path / "mine")
    with pytest.warns(coco.CocoWarning, match="82,783"):
        assert coco.coco_train2014(data_dir=folder) == folder
    with pytest.warns(coco.CocoWarning):
        assert coco.coco_train2014(data_dir=tmp_path / "mine") == folder   # the parent works too
    assert snapshot(tmp_path / "mine") == before
    assert not (cache / "coco").exists()


def test_coco_user_zip_is_extracted_into_the_cache(tmp_path, cache):
    src = tiny_jpegs(tmp_path / "src" / "train2014")
    archive = make_zip(tmp_path / "train2014.zip",
                       [(f"train2014/{p.name}", p.read_bytes()) for p in sorted(src.iterdir())])
    zip_before = (archive.read_bytes(), archive.stat().st_mtime_ns)
    with pytest.warns(coco.CocoWarning):
        folder = coco.coco_train2014(data_dir=archive, progress=False)
    assert folder == cache / "coco" / "train2014"
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in src.iterdir())
    assert (archive.read_bytes(), archive.stat().st_mtime_ns) == zip_before
    # Later calls find the extracted copy, even without data_dir and without the zip.
    with pytest.warns(coco.CocoWarning):
        assert coco.coco_train2014(download=False) == folder


def test_coco_cached_zip_and_download_path(tmp_path, cache, monkeypatch, capsys):
    src = tiny_jpegs(tmp_path / "src" / "train2014")
    entries = [(f"train2014/{p.name}", p.read_bytes()) for p in sorted(src.iterdir())]
    calls = []

    def fake_download(url, dest, **kw):
        calls.append((url, kw["sha256"], kw["size"]))
        make_zip(dest, entries)
        return dest

    monkeypatch.setattr(coco.dl, "download", fake_download)
    monkeypatch.setattr(coco.shutil, "disk_usage", lambda p: type("U", (), {"free": 10 ** 12})())
    with pytest.warns(coco.CocoWarning):
        folder = coco.coco_train2014(progress=False)
    assert calls == [(coco.TRAIN2014_URL, coco.TRAIN2014_SHA256, coco.TRAIN2014_ZIP_BYTES)]
    assert len(list(folder.iterdir())) == 3
    out = capsys.readouterr().out
    assert "13.5 GB" in out and "free" in out


def test_coco_checks_free_space_first(cache, monkeypatch):
    monkeypatch.setattr(coco.shutil, "disk_usage", lambda p: type("U", (), {"free": 10 ** 9})())
    with pytest.raises(OSError, match="not enough disk space.*GB needed"):
        coco.coco_train2014(progress=False)


def test_coco_nothing_there_without_download(tmp_path, cache):
    with pytest.raises(FileNotFoundError, match="download=True") as info:
        coco.coco_train2014(download=False)
    assert str(cache / "coco" / "train2014") in str(info.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        coco.coco_train2014(data_dir=tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no train2014"):
        coco.coco_train2014(data_dir=tmp_path / "empty")


def test_coco_constants():
    assert coco.TRAIN2014_URL == "http://images.cocodataset.org/zips/train2014.zip"
    assert coco.TRAIN2014_ZIP_BYTES == 13_510_573_713 and coco.TRAIN2014_IMAGES == 82_783
    assert re.fullmatch("[0-9a-f]{64}", coco.TRAIN2014_SHA256)
