"""FFT-block features of a music collection, streamed to disk, and tf.data pipelines over them.

`build_dataset` decodes song after song, in chunks of blocks, and appends each song's FFT blocks
to a float32 `.npy` shard of its own, so a collection far larger than memory can be used; a JSON
manifest records each song (size, mtime, blocks, shard) and the running statistics that the
scalers need. Running it again processes only new or changed songs. `sequence_dataset` reads the
shards through memory maps and yields normalised (x, y) batches that never cross songs.

Layout of `out_dir` (which belongs to albumlib: it must be new, empty or built here before):
    manifest.json                  settings, songs, global statistics
    bin_sum.npy, bin_sumsq.npy     float64 per-feature sum and sum of squares over all blocks
    shards/<song>-<hash>.npy       float32 (n_blocks, features) FFT blocks of one song
    shards/<song>-<hash>.stats.npy float64 (2, features): that song's sum and sum of squares
"""

import collections
import concurrent.futures
import contextlib
import dataclasses
import functools
import hashlib
import json
import math
import re
import struct
import time
import warnings
from pathlib import Path

import numpy as np

from .. import audio, fileio
from ..audio import AudioError, SkippedAudioWarning
from . import fft_blocks
from .fft_blocks import BlockStats

MANIFEST = "manifest.json"
SHARDS = "shards"
SUM_FILE, SUMSQ_FILE = "bin_sum.npy", "bin_sumsq.npy"
FORMAT_VERSION = 1
# How the blocks are transformed (`fft_blocks.to_fft_blocks`: float32 since the benchmark of issue 4;
# before, float64, and no such setting): a folder built otherwise is rebuilt, not mixed.
FFT_DTYPE = "float32"
_NPY_HEADER_BYTES = 128  # fixed, so the real shape can be written once the song is decoded
_WRITE_BLOCKS = 8  # blocks transformed, then written by a thread while the next are transformed
# While building, the manifest is rewritten after a song at most this often (seconds), and when
# the build stops on an exception: replacing a file on ext4 waits for the data written before
# it (the shards), which costs 5-8 ms per song on short songs (benchmarks/bench_audio.py)
_MANIFEST_EVERY_S = 2.0


@dataclasses.dataclass
class BuildReport:
    """What `build_dataset` did: song names processed, unchanged, removed, skipped; notebook 03."""

    out_dir: Path
    processed: list
    unchanged: list
    removed: list
    skipped: list      # (name, problem) of unreadable files
    too_short: list    # songs with fewer than seq_len + 1 blocks: no training sequence
    manifest: dict

    def __str__(self):
        def names(items, limit=5):
            shown = ", ".join(items[:limit]) + (f", ... (+{len(items) - limit})"
                                               if len(items) > limit else "")
            return f" ({shown})" if items else ""

        total = self.manifest["global"]["n_blocks"]
        return (f"{self.out_dir}: {len(self.manifest['songs'])} songs, {total} blocks; "
                f"processed {len(self.processed)}{names(self.processed)}, "
                f"unchanged {len(self.unchanged)}{names(self.unchanged)}, "
                f"removed {len(self.removed)}{names(self.removed)}, "
                f"skipped {len(self.skipped)}{names([n for n, _ in self.skipped])}, "
                f"too short {len(self.too_short)}{names(self.too_short)}")


# ---------------------------------------------------------------------------------------------
# Shards
# ---------------------------------------------------------------------------------------------

def _npy_header(n_rows, n_cols):
    """A float32 C-order .npy header of exactly _NPY_HEADER_BYTES bytes (format 1.0)."""
    body = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({n_rows}, {n_cols}), }}"
    size = _NPY_HEADER_BYTES - 10
    if len(body) >= size:
        raise ValueError(f"shape ({n_rows}, {n_cols}) too large for the shard header")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", size) + body.encode("latin1").ljust(
        size - 1) + b"\n"


def _save_npy(path, array):
    """np.save whole or not at all."""
    with fileio.atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)


def _write_song(path, shard_path, stats_path, settings, chunk_blocks, reader=None):
    """Decode one song in chunks into a shard and its stats file; return its manifest fields.

    `reader`: an `audio.ChunkReader` of the song already started (the builder starts the next
    song's while this one is processed); by default one is started here. It is closed here.
    Each chunk is transformed a few blocks at a time (blocks and statistics in one pass, while
    they are in cache), and a thread writes each group to the shard while the next is computed.
    """
    block_size, kind, sr = settings["block_size"], settings["kind"], settings["sr"]
    features = settings["n_features"]
    stats = fft_blocks.SpectrumStats(block_size, kind)
    n_samples, group = 0, _WRITE_BLOCKS * block_size
    if reader is None:
        reader = audio.ChunkReader(path, sr, chunk_blocks * block_size)
    with reader, fileio.atomic_path(shard_path) as tmp:
        with open(tmp, "wb") as f:
            with _BackgroundWriter(f) as writer:
                writer.write(_npy_header(0, features))
                for chunk in reader:
                    for first in range(0, chunk.size, group):
                        blocks = fft_blocks.fft_blocks_with_stats(chunk[first:first + group], block_size, kind,
                                                   stats)
                        writer.write(np.ascontiguousarray(blocks, dtype="<f4").data)
                    n_samples += chunk.size
            f.seek(0)
            f.write(_npy_header(stats.n, features))
    stats = stats.block_stats()
    _save_npy(stats_path, np.stack([stats.total, stats.total_sq]))
    return {"n_samples": n_samples, "duration_s": round(n_samples / sr, 3),
            "n_blocks": stats.n, "max_abs": stats.max_abs}


class _BackgroundWriter:
    """Write buffers to a file in a thread, one at a time, while the caller computes the next.

    `write` waits for the previous write first (so at most two buffers are alive); leaving the
    `with` block waits for the last one. A failed write raises from the next call or the exit.
    """

    def __init__(self, file):
        self._file, self._pending = file, None
        self._pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="shard writer")

    def write(self, data):
        self.wait()
        self._pending = self._pool.submit(self._file.write, data)

    def wait(self):
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.wait()
        finally:
            self._pool.shutdown(wait=True)


def _shard_stem(name, size, mtime_ns, settings):
    """A readable, unique file stem for one version of one song under given settings."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).stem)[:40].strip("._-") or "song"
    key = json.dumps([name, size, mtime_ns, settings], sort_keys=True).encode("utf-8")
    return f"{slug}-{hashlib.sha256(key).hexdigest()[:16]}"


def _song_files(out_dir, entry):
    """The shard and stats paths of a manifest entry."""
    shards = Path(out_dir) / SHARDS
    return shards / entry["shard"], shards / entry["stats"]


def _song_stats(out_dir, entry):
    """BlockStats of one song, read from its stats file."""
    sums = np.load(_song_files(out_dir, entry)[1], allow_pickle=False)
    return BlockStats(entry["n_blocks"], entry["max_abs"], sums[0], sums[1])


# ---------------------------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------------------------

def load_manifest(out_dir):
    """Read the manifest.json written by `build_dataset`; notebook 03."""
    path = Path(out_dir) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no feature manifest; run build_dataset first")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: not a valid manifest ({e})") from e
    if manifest.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path}: manifest version {manifest.get('version')!r}, expected "
                         f"{FORMAT_VERSION}; rebuild into a new folder")
    return manifest


def _write_manifest(out_dir, manifest):
    """Write the manifest whole or not at all."""
    text = json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True)
    fileio.atomic_write_bytes(Path(out_dir) / MANIFEST, text.encode("utf-8"))


def _prepare_out_dir(out_dir, music_folder):
    """Create `out_dir`, refusing a folder of other files (never mix with user files)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"{out_dir}: is not a folder")
    if out_dir.resolve() == Path(music_folder).resolve():
        raise ValueError(f"{out_dir}: the feature folder must differ from the music folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MANIFEST).is_file():
        raise FileExistsError(f"{out_dir}: holds files but no {MANIFEST}; give build_dataset "
                              f"a new or empty folder so that no other file is touched")
    (out_dir / SHARDS).mkdir(parents=True, exist_ok=True)
    return out_dir


def _global_stats(out_dir, songs, n_features):
    """Sum the per-song statistics in name order (same result however the songs were added)."""
    stats = BlockStats(0, 0.0, np.zeros(n_features), np.zeros(n_features))
    for name in sorted(songs):
        stats = stats + _song_stats(out_dir, songs[name])
    return stats


def _finish_manifest(out_dir, manifest):
    """Recompute and write the global statistics, then the manifest."""
    stats = _global_stats(out_dir, manifest["songs"], manifest["settings"]["n_features"])
    _save_npy(Path(out_dir) / SUM_FILE, stats.total)
    _save_npy(Path(out_dir) / SUMSQ_FILE, stats.total_sq)
    manifest["global"] = {"n_blocks": stats.n, "max_abs": stats.max_abs,
                          "sum": SUM_FILE, "sumsq": SUMSQ_FILE}
    manifest["complete"] = True
    _write_manifest(out_dir, manifest)


def _remove_unreferenced(out_dir, songs):
    """Delete shard files (ours, in shards/) that no manifest entry refers to."""
    keep = {name for entry in songs.values() for name in (entry["shard"], entry["stats"])}
    for p in (Path(out_dir) / SHARDS).glob("*.npy"):
        if p.name not in keep:
            p.unlink(missing_ok=True)
    for p in (Path(out_dir) / SHARDS).glob(".*.tmp.npy"):  # left by an interrupted build
        p.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# Building
# ---------------------------------------------------------------------------------------------

def _start_manifest(out_dir, music_folder, settings):
    """A manifest holding the previous one's songs if its settings match, else none."""
    old = load_manifest(out_dir) if (Path(out_dir) / MANIFEST).is_file() else None
    manifest = {"version": FORMAT_VERSION, "settings": settings,
                "music_folder": str(Path(music_folder).absolute()), "songs": {},
                "global": {"n_blocks": 0, "max_abs": 0.0, "sum": SUM_FILE, "sumsq": SUMSQ_FILE},
                "complete": False}
    if old is not None and old.get("settings") == settings:
        manifest["songs"] = dict(old["songs"])
    elif old is not None:
        warnings.warn(f"{out_dir}: settings changed from {old.get('settings')} to {settings}; "
                      f"rebuilding every song", UserWarning, stacklevel=3)
    return manifest


def _unchanged(out_dir, entry, stat):
    """True if a manifest entry still describes the file (same size and mtime, files present)."""
    return (entry is not None and entry["size"] == stat.st_size
            and entry["mtime_ns"] == stat.st_mtime_ns
            and all(p.is_file() for p in _song_files(out_dir, entry)))


def _build_song(out_dir, path, name, stat, settings, chunk_blocks, reader, songs, report):
    """Write one new or changed song (or skip it with a warning) and update `songs`."""
    stem = _shard_stem(name, stat.st_size, stat.st_mtime_ns, settings)
    entry = {"name": name, "path": str(path.absolute()), "size": stat.st_size,
             "mtime_ns": stat.st_mtime_ns, "shard": f"{stem}.npy", "stats": f"{stem}.stats.npy"}
    try:
        entry.update(_write_song(path, *_song_files(out_dir, entry), settings, chunk_blocks,
                                 reader))
    except (AudioError, OSError) as e:
        problem = getattr(e, "problem", str(e))
        warnings.warn(f"skipping {path}: {problem}", SkippedAudioWarning, stacklevel=3)
        report.skipped.append((name, problem))
        songs.pop(name, None)
        return
    previous, songs[name] = songs.get(name), entry
    report.processed.append(name)
    for old_file in set(_song_files(out_dir, previous) if previous else ()) - set(
            _song_files(out_dir, entry)):
        old_file.unlink(missing_ok=True)


def _audio_paths(music_folder, recursive, limit):
    """The audio files of `music_folder` to build from (the first `limit` if > 0), or AudioError."""
    if int(limit) < 0:
        raise ValueError(f"limit must be 0 (all files) or more, got {limit!r}")
    paths = audio.list_audio(music_folder, recursive=recursive)
    if int(limit):
        paths = paths[:int(limit)]
    if not paths:
        raise AudioError(music_folder, f"no audio files found (looked for "
                                       f"{', '.join(audio.AUDIO_EXTENSIONS)})")
    return paths


def _songs_to_build(out_dir, paths, names, songs, report):
    """[(path, name, stat)] of the songs to decode; unchanged ones go to `report.unchanged`."""
    todo = []
    for path, name in zip(paths, names):
        stat = path.stat()
        if _unchanged(out_dir, songs.get(name), stat):
            report.unchanged.append(name)
        else:
            todo.append((path, name, stat))
    return todo


def _build_songs(out_dir, todo, settings, chunk_blocks, decode_ahead, manifest, report, progress):
    """Decode and write the songs of `todo`, the next `decode_ahead` decoding ahead; resumable."""
    from tqdm.auto import tqdm

    songs = manifest["songs"]
    start = functools.partial(audio.ChunkReader, sr=settings["sr"],
                              chunk_samples=chunk_blocks * settings["block_size"])
    readers = collections.deque()  # the current song's reader, then those started ahead
    written = time.monotonic()  # when the manifest was last written
    try:
        with tqdm(todo, desc="music features", unit="song", disable=not progress) as bar:
            for i, (path, name, stat) in enumerate(bar):
                bar.set_postfix_str(name[-30:], refresh=False)
                # ffmpeg decodes the next songs while this one is transformed and written
                while len(readers) < 1 + decode_ahead and i + len(readers) < len(todo):
                    readers.append(start(todo[i + len(readers)][0]))
                reader = readers[0]
                try:
                    _build_song(out_dir, path, name, stat, settings, chunk_blocks, reader,
                                songs, report)
                finally:
                    readers.popleft().close()
                if time.monotonic() - written >= _MANIFEST_EVERY_S:  # a killed build resumes
                    _write_manifest(out_dir, manifest)
                    written = time.monotonic()
    except BaseException:
        with contextlib.suppress(OSError):  # an interrupted build resumes after the last song
            _write_manifest(out_dir, manifest)
        raise
    finally:
        while readers:
            readers.popleft().close()  # an interrupted build leaves no ffmpeg running


def build_dataset(music_folder, out_dir, block_size=44100, kind="fft", seq_len=10, sr=44100,
                  recursive=False, chunk_blocks=64, decode_ahead=2, limit=0, progress=None,
                  verbose=True):
    """Decode a music folder into FFT-block shards and a manifest, incrementally; notebook 03.

    Songs are decoded in chunks of `chunk_blocks` blocks while the current song is transformed
    and written, the decoders of the next `decode_ahead` songs running at the same time (ffmpeg
    decodes mp3 on one core: two decoders and the transform keep two cores busy). Memory stays
    bounded whatever the collection's length: about (1 + decode_ahead) * 4 * chunk_blocks *
    block_size * 4 bytes of decoded samples (135 MB with the defaults, twice that for stereo)
    plus the transform's buffers.
    Unchanged files (same size and mtime) are not decoded again; removed ones are dropped;
    unreadable ones are skipped with a SkippedAudioWarning. `limit` > 0 builds from the first
    `limit` audio files of the folder only (natural name order, as `audio.list_audio`; songs
    of an earlier build beyond them are dropped). Returns a BuildReport (printed when
    `verbose`).
    """
    if int(chunk_blocks) < 1:
        raise ValueError(f"chunk_blocks must be positive, got {chunk_blocks!r}")
    if int(decode_ahead) < 0:
        raise ValueError(f"decode_ahead must be 0 or more, got {decode_ahead!r}")
    settings = {"sr": int(sr), "block_size": int(block_size), "kind": kind,
                "n_features": fft_blocks.n_features(block_size, kind), "fft_dtype": FFT_DTYPE}
    music_folder = Path(music_folder)
    paths = _audio_paths(music_folder, recursive, limit)
    out_dir = _prepare_out_dir(out_dir, music_folder)
    manifest = _start_manifest(out_dir, music_folder, settings)
    songs = manifest["songs"]
    names = [p.relative_to(music_folder).as_posix() for p in paths]
    report = BuildReport(out_dir, [], [], sorted(set(songs) - set(names)), [], [], manifest)
    for name in report.removed:
        del songs[name]
    _write_manifest(out_dir, manifest)
    _remove_unreferenced(out_dir, songs)
    if progress is None:
        progress = len(paths) > 1
    todo = _songs_to_build(out_dir, paths, names, songs, report)
    _build_songs(out_dir, todo, settings, int(chunk_blocks), int(decode_ahead), manifest, report,
                 progress)
    report.too_short = sorted(n for n, e in songs.items() if e["n_blocks"] < seq_len + 1)
    manifest["seq_len"] = int(seq_len)
    _finish_manifest(out_dir, manifest)
    _remove_unreferenced(out_dir, songs)
    if not songs:
        raise AudioError(music_folder, f"none of its {len(paths)} audio files could be read "
                                       f"(see the warnings)")
    if verbose:
        print(report)
    return report


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def _select(manifest, songs):
    """The manifest entries of `songs` (default: all), in name order."""
    entries = manifest["songs"]
    if songs is None:
        return [entries[n] for n in sorted(entries)]
    if isinstance(songs, str):
        songs = [songs]
    missing = [n for n in songs if n not in entries]
    if missing:
        raise KeyError(f"songs not in the manifest: {', '.join(map(str, missing[:5]))}")
    return [entries[n] for n in sorted(set(songs))]


def scaler_from_manifest(out_dir, method="global", songs=None, std_floor=1e-4):
    """The audio Scaler of all (or the given) songs from the stored statistics; notebook 03."""
    manifest = load_manifest(out_dir)
    features = manifest["settings"]["n_features"]
    if songs is None:
        g = manifest["global"]
        stats = BlockStats(g["n_blocks"], g["max_abs"],
                           np.load(Path(out_dir) / g["sum"], allow_pickle=False),
                           np.load(Path(out_dir) / g["sumsq"], allow_pickle=False))
    else:
        stats = _global_stats(out_dir, {e["name"]: e for e in _select(manifest, songs)},
                              features)
    return fft_blocks.scaler_from_stats(stats, method, std_floor)


def load_song_blocks(out_dir, name):
    """A read-only memory map of one song's (n_blocks, features) FFT blocks; notebook 05."""
    entry = _select(load_manifest(out_dir), [name])[0]
    return np.load(_song_files(out_dir, entry)[0], mmap_mode="r", allow_pickle=False)


def split_songs(manifest, val_fraction=0.2, seed=0):
    """Split song names into (train, validation) lists, whole songs each; notebook 04."""
    if not isinstance(manifest, dict):
        manifest = load_manifest(manifest)
    names = sorted(manifest["songs"])
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}")
    n_val = min(len(names) - 1, max(1, round(len(names) * val_fraction))) if val_fraction else 0
    if val_fraction and n_val < 1:
        raise ValueError(f"cannot hold out a song from a collection of {len(names)}")
    order = np.random.default_rng(seed).permutation(len(names))
    val = sorted(names[i] for i in order[:n_val])
    return [n for n in names if n not in set(val)], val


def sequence_index(manifest, songs=None, seq_len=10):
    """int64 rows (song number, first block) of every sequence inside one song; notebook 04."""
    rows = [np.stack([np.full(e["n_blocks"] - seq_len, i), np.arange(e["n_blocks"] - seq_len)],
                     axis=1)
            for i, e in enumerate(_select(manifest, songs)) if e["n_blocks"] > seq_len]
    return np.concatenate(rows).astype(np.int64) if rows else np.zeros((0, 2), np.int64)


def _batches(out_dir, entries, index, batch_size, seq_len, scaler, shuffle, rng,
             drop_remainder):
    """A generator function of normalised (x, y) numpy batches (a new order each call)."""
    @functools.lru_cache(maxsize=16)
    def shard(i):
        return np.load(_song_files(out_dir, entries[i])[0], mmap_mode="r", allow_pickle=False)

    def generate():
        order = rng.permutation(len(index)) if shuffle else np.arange(len(index))
        stop = len(order) - len(order) % batch_size if drop_remainder else len(order)
        for first in range(0, stop, batch_size):
            rows = index[order[first:first + batch_size]]
            windows = np.stack([shard(s)[start:start + seq_len + 1] for s, start in rows])
            yield scaler.transform(windows[:, :-1]), scaler.transform(windows[:, 1:])

    return generate


def sequence_dataset(out_dir, batch_size, seq_len=10, shuffle=True, songs=None,
                     normalise="global", seed=0, scaler=None, drop_remainder=False):
    """tf.data.Dataset of normalised (x, y) float32 batches read from the shards; notebook 04.

    x: (batch, seq_len, features), y: x shifted by one block; no sequence crosses two songs.
    `songs` picks a subset (see `split_songs`); the scaler defaults to the statistics of the
    whole collection ("global": the report's [-1, 1], "per_bin", or None for raw features):
    pass `scaler=scaler_from_manifest(out_dir, songs=train)` to keep held-out songs unseen.
    """
    import tensorflow as tf

    manifest = load_manifest(out_dir)
    entries = _select(manifest, songs)
    index = sequence_index(manifest, songs, seq_len)
    if len(index) == 0:
        raise ValueError(f"{out_dir}: no selected song has the seq_len + 1 = {seq_len + 1} "
                         f"blocks one sequence needs")
    if scaler is None and normalise not in (None, "none"):
        scaler = scaler_from_manifest(out_dir, normalise)
    scaler = scaler or fft_blocks.Scaler("global", scale=1.0)
    n = len(index) // batch_size if drop_remainder else math.ceil(len(index) / batch_size)
    if n == 0:
        raise ValueError(f"{len(index)} sequences make no full batch of {batch_size}")
    generate = _batches(out_dir, entries, index, int(batch_size), int(seq_len), scaler,
                        shuffle, np.random.default_rng(seed), drop_remainder)
    spec = tf.TensorSpec((None, seq_len, manifest["settings"]["n_features"]), tf.float32)
    ds = tf.data.Dataset.from_generator(generate, output_signature=(spec, spec))
    return ds.apply(tf.data.experimental.assert_cardinality(n))
