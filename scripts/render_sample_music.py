"""Render the bundled sample music, data/music/*.mp3, from public-domain scores.

    pip install -r scripts/requirements-render.txt    # music21 (and its corpus), once
    python scripts/render_sample_music.py [--data-dir data] [--bitrate 80k]

Each piece is read from the score corpus inside the music21 wheel (no download), turned into notes
(onset and duration in seconds at a fixed tempo, MIDI pitch, velocity, part), rendered by
albumlib.music.synth and encoded as MP3 (mono, 44.1 kHz) with the ffmpeg binary of imageio-ffmpeg. Every
file is written whole or not at all, then decoded again to print its duration and peak. The script
also writes data/music/ATTRIBUTION.md. music21 is needed only here: albumlib never imports it.
"""

import argparse
import bisect
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from albumlib import fileio  # noqa: E402
from albumlib.music import synth  # noqa: E402

SR = 44100
MAX_TOTAL_BYTES = 5_000_000
MIN_SECONDS = 20.0  # the music model cuts songs into 1 s blocks: at least 20 of them per song
FERMATA_HOLD = 1.0  # quarter notes added at each fermata

BACH = "Johann Sebastian Bach (1685-1750)"
CPE = "Carl Philipp Emanuel Bach (1714-1788)"
HAYDN = "Joseph Haydn (1732-1809)"
MOZART = "Wolfgang Amadeus Mozart (1756-1791)"
BEETHOVEN = "Ludwig van Beethoven (1770-1827)"

# (output file, music21 corpus path, title, composer, instrument of each part in score order,
#  tempo in quarter notes per minute, longest excerpt in seconds (cut at a bar line))
PIECES = [
    ("01_bach_bwv66-6_organ.mp3", "bach/bwv66.6.mxl",
     "Chorale \"Alleluja! Des solln wir alle froh sein\", from Cantata BWV 66", BACH,
     ["organ"] * 4, 72, 60),
    ("02_bach_bwv4-8_strings.mp3", "bach/bwv4.8.mxl",
     "Chorale \"Wir essen und leben wohl\", from Cantata BWV 4 \"Christ lag in Todes Banden\"",
     BACH, ["strings"] * 4, 76, 60),
    ("03_bach_bwv269_piano.mp3", "bach/bwv269.mxl",
     "Chorale \"Aus meines Herzens Grunde\", BWV 269", BACH, ["piano"] * 4, 84, 60),
    ("04_bach_bwv1-6_pluck.mp3", "bach/bwv1.6.mxl",
     "Chorale \"Wie bin ich doch so herzlich froh\", from Cantata BWV 1 "
     "\"Wie schön leuchtet der Morgenstern\" (with the second horn part)", BACH,
     ["strings", "pluck", "pluck", "pluck", "pluck"], 80, 48),
    ("05_mozart_k545_piano.mp3", "mozart/k545/movement1_exposition.mxl",
     "Piano Sonata in C major, K. 545, first movement (Allegro), bars 1-12",
     MOZART, ["piano", "piano"], 116, 60),
    ("06_haydn_op74no1_menuetto_strings.mp3", "haydn/opus74no1/movement3.mxl",
     "String Quartet in C major, Op. 74 No. 1 (Hob. III:72), third movement (Menuetto), opening",
     HAYDN, ["strings", "strings", "strings", "pluck"], 138, 42),
    ("07_mozart_k80_adagio_organ.mp3", "mozart/k80/movement1.mxl",
     "String Quartet No. 1 in G major, K. 80, first movement (Adagio), opening", MOZART,
     ["organ"] * 4, 56, 42),
    ("08_cpebach_h186_pluck.mp3", "cpebach/h186.mxl",
     "Keyboard Sonata in A major, H. 186 (Wq. 55/4), second movement (Poco adagio), opening", CPE,
     ["pluck", "pluck"], 60, 42),
    ("09_beethoven_op18no1_strings.mp3", "beethoven/opus18no1/movement1.mxl",
     "String Quartet in F major, Op. 18 No. 1, first movement (Allegro con brio), opening",
     BEETHOVEN, ["strings"] * 4, 168, 40),
]

LEFT_OUT = """\
Left out on purpose: the Essen folk songs of the corpus (`essenFolksong/license.txt`: permission for
non-commercial use only), the scores that carry a Creative Commons licence of their own (for
example `corelli/opus3no1/1grave.xml`, CC BY; `beach/prayer_of_a_tired_child.musicxml`, CC BY-SA),
and the scores taken from sources that state no licence (for example `joplin/maple_leaf_rag.mxl`,
from a musescore.com user's page, and the ABC tune books)."""


def need_music21():
    """Import music21, or stop with the command that installs it."""
    try:
        import music21  # noqa: F401
    except ImportError:
        sys.exit("music21 is needed to re-render the sample music:\n"
                 "    pip install -r scripts/requirements-render.txt")
    return music21


def score_text(path):
    """The text of a score file: the MusicXML inside an .mxl archive, or the file itself."""
    path = Path(path)
    if path.suffix == ".mxl":
        with zipfile.ZipFile(path) as z:
            name = next(n for n in z.namelist()
                        if n.endswith((".xml", ".musicxml")) and not n.startswith("META-INF"))
            return z.read(name).decode("utf-8", "replace")
    return path.read_text("utf-8", "replace")


def encoding_info(path):
    """The encoding software, date and rights statement written inside a MusicXML file."""
    text = score_text(path)

    def found(tag):
        return [m.strip() for m in re.findall(rf"<{tag}>([^<]*)</{tag}>", text) if m.strip()]

    return {"software": found("software"), "date": found("encoding-date"),
            "rights": found("rights")}


def score_notes(score, bpm, max_seconds):
    """(onset s, duration s, MIDI pitch, velocity, part) of every note, cut at a bar line."""
    from music21 import expressions, stream

    raw, fermata_ends, bar_starts = [], set(), set()
    for index, part in enumerate(score.parts):
        tied = part.stripTies()  # a tied chain becomes one long note
        if index == 0:
            bars = tied.getElementsByClass(stream.Measure)
            bar_starts = {round(float(m.offset), 4) for m in bars}
        for n in tied.flatten().notes:
            ql, onset = float(n.quarterLength), float(n.offset)
            if ql <= 0:  # grace notes
                continue
            if any(isinstance(e, expressions.Fermata) for e in n.expressions):
                fermata_ends.add(round(onset + ql, 4))
            for p in n.pitches:
                raw.append((onset, onset + ql, p.midi, index))
    ends = sorted(fermata_ends)
    spq = 60.0 / bpm

    def seconds(q):
        return spq * (q + FERMATA_HOLD * bisect.bisect_right(ends, q + 1e-6))

    last = max(end for _, end, _, _ in raw)
    cut = last
    if seconds(last) > max_seconds:
        cut = max(b for b in bar_starts if b > 0 and seconds(b) <= max_seconds)
    notes = []
    for onset, end, pitch, part in sorted(raw):
        if onset >= cut:
            continue
        velocity = (0.8 if part == 0 else 0.65) * (1.0 if round(onset, 4) in bar_starts else 0.88)
        start = seconds(onset)
        notes.append((start, seconds(min(end, cut)) - start, pitch, velocity, part))
    return notes


def encode_mp3(signal, path, bitrate, tags):
    """Encode a float32 mono signal as an MP3 file (written whole or not at all)."""
    import imageio_ffmpeg

    meta = [arg for key, value in tags.items() for arg in ("-metadata", f"{key}={value}")]
    with fileio.atomic_path(path) as tmp:
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
               "-f", "f32le", "-ar", str(SR), "-ac", "1", "-i", "pipe:0",
               "-map_metadata", "-1", *meta, "-codec:a", "libmp3lame", "-b:a", bitrate,
               "-ar", str(SR), "-ac", "1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
               "-f", "mp3", str(tmp)]
        subprocess.run(cmd, input=np.asarray(signal, "<f4").tobytes(), check=True,
                       capture_output=True)


def decode(path):
    """Decode an audio file to float32 mono 44.1 kHz with the ffmpeg binary."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-i", str(path),
           "-f", "f32le", "-ac", "1", "-ar", str(SR), "pipe:1"]
    return np.frombuffer(subprocess.run(cmd, check=True, capture_output=True).stdout, "<f4")


def write_attribution(folder, rows, music21_version, bitrate):
    """Write data/music/ATTRIBUTION.md."""
    table = "\n".join(rows)
    header = ("| file | piece | composer | score (music21 corpus) | encoding (as written in the "
              "file) | timbre | tempo (quarter notes a minute) | duration | size |")
    text = f"""# Sample music

Short pieces of public-domain music, the default training set of the `smoke` and `cpu` profiles,
so that the soundtrack pipeline starts from real MP3 files with no download.

Made by `scripts/render_sample_music.py` (`pip install -r scripts/requirements-render.txt`, then
`python scripts/render_sample_music.py`): each score was read from the corpus shipped inside the
music21 {music21_version} wheel, played at the fixed tempo below (a quarter note more at each
fermata, no repeats, cut at a bar line), rendered by the project's own numpy synthesiser
(`albumlib/music/synth.py`: additive harmonics, ADSR envelopes, seeded phases) and encoded by ffmpeg's
libmp3lame at {bitrate.removesuffix('k')} kbit/s, mono, 44.1 kHz. No recording or sample of
anyone's performance is used: the audio holds only the notes of the scores.

{header}
|---|---|---|---|---|---|---|---|---|
{table}

## Licences

- **The music.** All the compositions are in the public domain: they were written between about
  1707 (BWV 4) and 1800 (Op. 18 No. 1), and their composers died between 1750 and 1827.
- **The score encodings.** They are the MusicXML files of the music21 corpus (music21 by Michael
  Scott Asato Cuthbert and contributors, https://github.com/cuthbertLab/music21; the software is
  BSD-3-Clause). The corpus files are not under music21's BSD licence: `music21/corpus/license.txt`
  says the music21 creators assume no copyright or change in licensing for the corpus, that the
  encodings are distributed with the permission of the encoders, that some may not be used
  commercially or have other restrictions ("please see the licenses embedded in individual
  compositions or directories"), and that to the best of its authors' knowledge each piece is out
  of copyright in the United States or licensed for use. None of the {len(rows)} files used here
  embeds a licence or rights statement, and no directory of theirs has a licence file (the script
  checks both and would quote a rights statement in the encoding column).
  `music21/corpus/chorales.py` credits Margaret Greentree (formerly of jsbchorales.net) with
  compiling the corpus's chorales.
- **These MP3 files.** They reproduce no part of the encodings but the notes (pitch, onset,
  duration) of public-domain compositions, performed by this repository's code; they are
  distributed with this repository under its licence (MIT). Credit the composers as above.

{LEFT_OUT}
"""
    fileio.atomic_write_bytes(folder / "ATTRIBUTION.md", text.encode())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO / "data")
    parser.add_argument("--bitrate", default="80k", help="MP3 bit rate (libmp3lame -b:a)")
    parser.add_argument("--only", nargs="*", help="render only these output files (names)")
    args = parser.parse_args(argv)
    music21 = need_music21()
    from music21 import corpus

    folder = args.data_dir / "music"
    folder.mkdir(parents=True, exist_ok=True)
    rows, problems = [], []
    for name, where, title, composer, timbres, bpm, max_seconds in PIECES:
        dst = folder / name
        source = Path(corpus.getWork(where))
        info = encoding_info(source)
        if info["rights"]:
            problems.append(f"{name}: {where} states rights {info['rights']}: check them")
        root = Path(corpus.__file__).parent
        licences = [p for d in source.parents if root in d.parents for p in d.glob("licen*")]
        if licences:
            problems.append(f"{name}: {where} has a licence file of its own: {licences}")
        if not args.only or name in args.only:
            score = corpus.parse(where)
            if len(score.parts) != len(timbres):
                sys.exit(f"{where}: {len(score.parts)} parts, but {len(timbres)} timbres listed")
            notes = score_notes(score, bpm, max_seconds)
            signal = synth.render_notes(notes, SR, instruments=dict(enumerate(timbres)),
                                        tail=1.0, fade=0.3, seed=0)
            encode_mp3(signal, dst, args.bitrate, {
                "title": title, "artist": composer.split(" (")[0],
                "comment": f"music21 corpus {where}; rendered by albumlib.music.synth"})
        if not dst.is_file():
            sys.exit(f"{dst} is missing: render it too (drop --only)")
        audio = decode(dst)
        seconds, peak = len(audio) / SR, float(np.abs(audio).max())
        rms_db = 20 * np.log10(np.sqrt(np.mean(audio.astype(np.float64) ** 2)) + 1e-12)
        clipped = float(np.mean(np.abs(audio) >= 0.999))
        size = dst.stat().st_size
        print(f"  music/{name}: {seconds:.1f} s, peak {20 * np.log10(peak + 1e-12):.1f} dBFS, "
              f"RMS {rms_db:.1f} dBFS, clipped {clipped:.1e}, {size / 1000:.0f} kB")
        if seconds < MIN_SECONDS or peak < 0.1 or clipped > 1e-4:
            problems.append(f"{name}: {seconds:.1f} s, peak {peak:.3f}, clipped {clipped:.1e}")
        encoded = ", ".join(info["software"] + info["date"]) or "not stated"
        rights = "; rights: " + "; ".join(info["rights"]) if info["rights"] else ""
        rows.append(f"| {name} | {title} | {composer} | `{where}` | {encoded}{rights} | "
                    f"{', '.join(dict.fromkeys(timbres))} | {bpm} | {seconds:.1f} s | "
                    f"{size / 1000:.0f} kB |")
    write_attribution(folder, rows, music21.__version__, args.bitrate)
    names = {p[0] for p in PIECES}
    stray = sorted(p.name for p in folder.glob("*.mp3") if p.name not in names)
    if stray:
        problems.append(f"files not made by this script (remove them?): {stray}")
    total = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    print(f"music {total / 1e6:.2f} MB in {len(names)} pieces")
    if total > MAX_TOTAL_BYTES:
        problems.append(f"data/music is {total / 1e6:.2f} MB, more than {MAX_TOTAL_BYTES / 1e6} MB")
    if problems:
        sys.exit("\n".join(["problems:"] + problems))


if __name__ == "__main__":
    main()
