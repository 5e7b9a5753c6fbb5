"""Extract the bundled pre-training corpus, data/music_corpus/notes.npz, from music21's scores.

    pip install -r scripts/requirements-render.txt    # music21 (and its corpus), once
    python scripts/extract_music21_corpus.py [--data-dir data] [--jobs 2]

Every score is read from the corpus inside the music21 wheel (no download) and turned into notes
in beats: (onset in quarter notes, duration in quarter notes, MIDI pitch, velocity 0.8), ties
joined, grace notes dropped, repeats not expanded. Collections (see `sources`):

    chorale    Bach's four-part chorales (music21.corpus.chorales.Iterator: 371 numbers, 350
               files), the four voices
    classical  Mozart, Haydn and Beethoven movements (string quartets, one sonata), MusicXML
    madrigal   Monteverdi's madrigals, books 3-5, MusicXML
    folk       Essen folk songs: NOT bundled by default; their licence allows non-commercial use
               only (essenFolksong/license.txt). `--collections chorale,folk --out DIR` makes a
               private copy.

A score whose file embeds a rights or licence statement is left out, and so is one music21
cannot parse (both counted). Each piece's tempo is its first metronome mark (a written one, or a
playback tempo stored in the file other than 120, the notation programs' default), else the
collection's default. The output is written whole or not at all, with ATTRIBUTION.md (sources,
licences, counts, sha256). music21 is needed only here: albumlib never imports it. The
corpus is taught in notebook 04 (the symbolic model's data).
"""

import argparse
import collections
import concurrent.futures
import re
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))      # render_sample_music.score_text

from albumlib import fileio  # noqa: E402
from albumlib.music import corpus as album_corpus  # noqa: E402

VELOCITY = 0.8
PITCH_RANGE = (21, 108)                 # the piano's keys; notes outside are dropped (counted)
NOTATION_DEFAULT_BPM = 120.0            # a stored playback tempo of exactly this is no marking
DEFAULT_BPM = {"chorale": 100.0, "classical": 110.0, "madrigal": 100.0, "folk": 110.0}
BUNDLED = ("chorale", "classical", "madrigal")
FOLK_FILES = ("altdeu10", "altdeu20", "ballad10", "ballad20", "boehme10", "erk10", "fink0",
              "kinder0", "zuccal0")
SATB = ("soprano", "alto", "tenor", "bass")
MAX_BYTES = 3_000_000


def need_music21():
    """Import music21, or stop with the command that installs it."""
    try:
        import music21
    except ImportError:
        sys.exit("music21 is needed to extract the corpus:\n"
                 "    pip install -r scripts/requirements-render.txt")
    return music21


def corpus_root():
    """The folder of music21's corpus."""
    from music21 import corpus
    return Path(corpus.__file__).parent


def rights_statement(path):
    """The rights or licence lines written inside a score file ('' when there are none)."""
    from render_sample_music import score_text
    text = score_text(path)
    found = re.findall(r"<rights[^>]*>([^<]*)</rights>", text)
    found += re.findall(r"^(?:!!!YE[CM]:|%)(.*(?:copyright|licen[cs]e|rights).*)$", text,
                        re.M | re.I)
    return "; ".join(f.strip() for f in found if f.strip())


def sources(collection, folk_limit):
    """The (collection, corpus path, tune limit) tasks of one collection, in a fixed order."""
    from music21 import corpus
    from music21.corpus import chorales

    root = corpus_root()
    if collection == "chorale":
        names = chorales.Iterator(returnType="filename")    # 371, some of them twice
        files = dict.fromkeys(chorale_file(root, name) for name in names)
        return [(collection, where, None) for where in files]
    if collection in ("classical", "madrigal"):
        composers = (("mozart", "haydn", "beethoven") if collection == "classical"
                     else ("monteverdi",))
        paths = [p for c in composers for p in corpus.getComposer(c)
                 if p.suffix == ".mxl" and "_old" not in p.stem]
        return [(collection, str(p.relative_to(root)), None) for p in sorted(paths)]
    if collection == "folk":
        per_file = max(folk_limit // len(FOLK_FILES), 1)
        return [(collection, f"essenFolksong/{name}.abc", per_file) for name in FOLK_FILES]
    raise ValueError(f"unknown collection {collection!r}; choose from {', '.join(DEFAULT_BPM)}")


def chorale_file(root, name):
    """The corpus file of a chorale the Iterator names (MusicXML first; getWork takes prefixes)."""
    from music21 import corpus

    for suffix in (".mxl", ".xml", ".krn"):
        if (root / f"{name}{suffix}").is_file():
            return f"{name}{suffix}"
    found = corpus.getWork(name)        # bach/bwv18.5-l is stored as bach/bwv18.5-lz.mxl
    if isinstance(found, Path):
        return str(found.relative_to(root))
    raise FileNotFoundError(f"{name}: no single score file in {root} ({found})")


def score_tempo(score):
    """(quarter notes a minute, 'marking'|'playback') of the first tempo mark, or (None, None)."""
    from music21 import tempo

    for mark in score.recurse().getElementsByClass(tempo.MetronomeMark):
        bpm = mark.getQuarterBPM()
        if bpm is None or not 20 <= bpm <= 300:
            continue
        if mark.number is not None and not mark.numberImplicit:
            return float(bpm), "marking"
        if bpm != NOTATION_DEFAULT_BPM:
            return float(bpm), "playback"
    return None, None


def chosen_parts(score, collection):
    """The parts to read (a chorale's four voices when named so, else every part), and whether
    they are all of them."""
    parts = list(score.parts) or [score]
    if collection != "chorale":
        return parts, True
    voices = [p for p in parts if (p.partName or "").strip().lower().startswith(SATB)]
    return (voices, len(voices) == len(parts)) if len(voices) == 4 else (parts, True)


def part_rows(part):
    """(onset, duration, pitch) of a part's notes in quarter notes, tied notes joined.

    Joins ties itself (music21's stripTies takes seconds a movement): a note that starts where a
    tied note of its pitch ends lengthens it (whatever its own tie says: some files mark the
    middle of a chain 'start'). Grace notes (no duration) are dropped.
    """
    rows, tied = [], {}                         # tied: pitch -> row whose tie waits for its end
    for element in part.flatten().notes:
        length, onset = float(element.quarterLength), float(element.offset)
        if length <= 0:
            continue
        for note in (element.notes if element.isChord else [element]):
            pitch = note.pitch.midi
            tie = note.tie or (element.tie if element.isChord else None)
            held = tied.pop(pitch, None)
            if held is not None and abs(sum(rows[held][:2]) - onset) < 1e-6:
                rows[held][1] = onset + length - rows[held][0]
            else:
                rows.append([onset, length, pitch])
                held = len(rows) - 1
            if tie is not None and tie.type in ("start", "continue"):
                tied[pitch] = held
    return rows


def score_rows(score, collection):
    """Notes (onset, duration, pitch) of a score, sorted; and counts of those dropped."""
    parts, every = chosen_parts(score, collection)
    rows = [row for part in parts for row in part_rows(part)]
    table = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
    in_range = (table[:, 2] >= PITCH_RANGE[0]) & (table[:, 2] <= PITCH_RANGE[1])
    out_of_range = int((~in_range).sum())
    table = table[in_range]
    table = table[np.lexsort((-table[:, 1], table[:, 2], table[:, 0]))]
    first = np.ones(len(table), dtype=bool)     # unisons: the longest note at (onset, pitch)
    first[1:] = (table[1:, 0] != table[:-1, 0]) | (table[1:, 2] != table[:-1, 2])
    dropped = {"out of range": out_of_range, "unisons": int((~first).sum()),
               "parts left out": 0 if every else len(score.parts) - len(parts)}
    return table[first], dropped


def piece_record(score, collection, name):
    """A dict of one piece: name, collection, bpm, bpm source, notes, dropped-note counts."""
    bpm, source = score_tempo(score)
    table, dropped = score_rows(score, collection)
    return {"name": name, "collection": collection, "bpm": bpm or DEFAULT_BPM[collection],
            "bpm_source": source or "default", "notes": table, "dropped": dropped}


def extract(task):
    """Parse one corpus file (a score, or an opus of tunes); return (records, problems)."""
    from music21 import corpus

    collection, where, limit = task
    rights = rights_statement(corpus_root() / where)
    if rights:
        return [], [(where, f"rights statement: {rights[:120]}")]
    try:
        parsed = corpus.parse(where)
    except Exception as err:        # music21 raises many kinds; a bad score is skipped, counted
        return [], [(where, f"parse error: {type(err).__name__}: {err}"[:200])]
    name = where.rsplit(".", 1)[0]
    if limit is None:
        scores = [(name, parsed)]
    else:
        scores = [(f"{name}#{s.metadata.number or i + 1}", s)
                  for i, s in enumerate(parsed.scores[:limit])]
    records, problems = [], []
    for label, score in scores:
        try:
            record = piece_record(score, collection, label)
        except Exception as err:    # noqa: BLE001 (as above)
            problems.append((label, f"note error: {type(err).__name__}: {err}"[:200]))
            continue
        if len(record["notes"]):
            records.append(record)
        else:
            problems.append((label, "no notes"))
    return records, problems


def run_all(tasks, jobs):
    """Extract every task (in `jobs` processes); records and problems in task order."""
    with concurrent.futures.ProcessPoolExecutor(max(jobs, 1)) as pool:
        records, problems, start = [], [], time.time()
        for i, (task, (recs, probs)) in enumerate(zip(tasks, pool.map(extract, tasks,
                                                                      chunksize=4)), 1):
            records.extend(recs)
            problems.extend((task[0], *p) for p in probs)
            if i % 50 == 0 or i == len(tasks):
                print(f"  {i}/{len(tasks)} files, {len(records)} pieces, "
                      f"{time.time() - start:.0f} s", flush=True)
    return records, problems


def arrays(records):
    """The npz arrays of album_corpus.load_corpus from piece records."""
    notes = np.concatenate([r["notes"] for r in records])
    counts = [len(r["notes"]) for r in records]
    return {
        "onset": notes[:, 0].astype(np.float32),
        "duration": notes[:, 1].astype(np.float32),
        "pitch": notes[:, 2].astype(np.uint8),
        "velocity": np.full(len(notes), round(VELOCITY * 127), dtype=np.uint8),
        "offsets": np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64),
        "names": np.array([r["name"] for r in records], dtype=str),
        "bpm": np.array([r["bpm"] for r in records], dtype=np.float32),
        "collection": np.array([r["collection"] for r in records], dtype=str),
    }


def check_exact(records, data):
    """Stop when float32 storage changed a note by more than 1e-4 beats."""
    notes = np.concatenate([r["notes"] for r in records])
    worst = max(np.abs(data["onset"] - notes[:, 0]).max(),
                np.abs(data["duration"] - notes[:, 1]).max())
    if worst > 1e-4:
        sys.exit(f"float32 storage moved a note by {worst} beats")


def summary(records, problems):
    """Per collection: pieces, notes, skipped files, tempo sources, dropped notes."""
    stats = collections.defaultdict(lambda: collections.Counter())
    for r in records:
        s = stats[r["collection"]]
        s["pieces"] += 1
        s["notes"] += len(r["notes"])
        s.update(r["dropped"])
        s["chorales with parts left out"] += bool(r["dropped"]["parts left out"])
        s[f"bpm {r['bpm_source']}"] += 1
    for collection, _, why in problems:
        stats[collection]["rights" if why.startswith("rights") else "skipped"] += 1
    return stats


def attribution(stats, problems, collections_used, music21_version, sha, size, command):
    """The text of ATTRIBUTION.md."""
    rows = []
    for name in collections_used:
        s = stats[name]
        tempos = ", ".join(f"{s[f'bpm {k}']} {k}" for k in ("marking", "playback", "default")
                           if s[f"bpm {k}"])
        rows.append(f"| {name} | {s['pieces']} | {s['notes']} | {s['skipped']} | {s['rights']} "
                    f"| {tempos} | {DEFAULT_BPM[name]:g} |")
    total_pieces = sum(stats[n]["pieces"] for n in collections_used)
    total_notes = sum(stats[n]["notes"] for n in collections_used)
    skipped = "\n".join(f"- `{where}`: {why}" for _, where, why in problems) or "- none"
    parts_left = stats["chorale"]["parts left out"]
    chorales_left = stats["chorale"]["chorales with parts left out"]
    folk = ("\n- **The Essen folk songs (collection `folk`).** `essenFolksong/license.txt`: their "
            "legal status is unclear; Ewa Dahlig-Turek gave permission for non-commercial "
            "distribution and use in music21. This file is for non-commercial use only and must "
            "not be committed or redistributed with the MIT-licensed repository."
            if "folk" in collections_used else "")
    return f"""# Music corpus (notes in beats)

Public-domain scores as notes in beats, the symbolic model's pre-training data (notebook 04;
`albumlib.music.corpus.load_corpus`). Extracted from the corpus shipped inside the music21
{music21_version} wheel by

    {command}

Each note: onset and duration in quarter notes (ties joined, grace notes dropped, repeats not
expanded, unisons of two voices kept once), MIDI pitch {PITCH_RANGE[0]}-{PITCH_RANGE[1]} (others
dropped), velocity {VELOCITY} (stored as {round(VELOCITY * 127)}/127). A piece's tempo is its first
metronome mark (a written one, or a playback tempo stored in the file other than
{NOTATION_DEFAULT_BPM:g}, the notation programs' default), else the collection's default; a file
holding a whole quartet gets its first movement's tempo.

## Contents

| collection | pieces | notes | skipped (parse errors, no notes) | skipped (rights statement) | tempo from | default bpm |
|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Total: {total_pieces} pieces, {total_notes} notes.

Sources (paths inside `music21/corpus/`):

- `chorale`: the chorales that `music21.corpus.chorales.Iterator()` lists (`bach/*.mxl`; its
  numbers name some files twice), their four voices (Soprano, Alto, Tenor, Bass) where the score
  names them so ({parts_left} instrumental parts of {chorales_left} chorales left out);
- `classical`: `mozart/**/*.mxl`, `haydn/**/*.mxl`, `beethoven/**/*.mxl` (string quartets, and
  the exposition of the first movement of the Piano Sonata K. 545);
- `madrigal`: `monteverdi/*.mxl` (without `*_old.mxl`).

`notes.npz`: {size} bytes, sha256 `{sha}`.
Read it with `np.load(path, allow_pickle=False)`: `onset`, `duration` (float32 beats), `pitch`
(uint8), `velocity` (uint8, 0-127), `offsets` (int64, the index of each piece's first note),
`names` and `collection` (unicode), `bpm` (float32).

Skipped files:

{skipped}

## Licences

- **The music.** The compositions are in the public domain: their composers (Claudio Monteverdi,
  Johann Sebastian Bach, Joseph Haydn, Wolfgang Amadeus Mozart, Ludwig van Beethoven) died
  between 1643 and 1827.
- **The score encodings.** They are files of the music21 corpus (music21 by Michael Scott Asato
  Cuthbert and contributors, https://github.com/cuthbertLab/music21; the software is
  BSD-3-Clause). The corpus files are not under music21's BSD licence: `music21/corpus/license.txt`
  says the music21 creators assume no copyright or change in licensing for the corpus, that the
  encodings are distributed with the permission of the encoders, that some may not be used
  commercially or have other restrictions ("please see the licenses embedded in individual
  compositions or directories"), and that to the best of its authors' knowledge each piece is out
  of copyright in the United States or licensed for use. The script leaves out every file that
  embeds a rights or licence statement (listed above). `music21/corpus/chorales.py` credits
  Margaret Greentree (formerly of jsbchorales.net) with compiling the corpus's chorales.
- **This file.** It holds no part of the encodings but the notes (onset, duration, pitch) of
  public-domain compositions; it is distributed with this repository under its licence (MIT).
  Credit the composers as above.{folk}

Left out on purpose, as in `data/music/ATTRIBUTION.md`: the Essen folk songs (non-commercial use
only; `--collections chorale,classical,madrigal,folk --out DIR` makes a private copy), Palestrina
(`palestrina/*.krn`: "Copyright 2000, John Miller", a licence agreement required), the scores
with a Creative Commons licence of their own, and the ABC tune books (sources that state no
licence).
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO / "data")
    parser.add_argument("--out", type=Path, help="output folder (default DATA_DIR/music_corpus)")
    parser.add_argument("--collections", default=",".join(BUNDLED),
                        help=f"comma-separated, of {', '.join(DEFAULT_BPM)}")
    parser.add_argument("--folk-limit", type=int, default=400, help="Essen tunes at most")
    parser.add_argument("--jobs", type=int, default=2, help="parallel processes")
    parser.add_argument("--limit", type=int, help="files per collection at most (a quick try)")
    args = parser.parse_args(argv)
    music21 = need_music21()
    chosen = [c.strip() for c in args.collections.split(",") if c.strip()]
    out = args.out or args.data_dir / "music_corpus"
    if "folk" in chosen and out.resolve() == (REPO / "data" / "music_corpus").resolve():
        sys.exit("the Essen folk songs are for non-commercial use only: give --out a folder "
                 "outside the repository's data/music_corpus")
    tasks = [t for c in chosen for t in sources(c, args.folk_limit)[:args.limit]]
    print(f"{len(tasks)} files from music21 {music21.__version__}'s corpus", flush=True)
    records, problems = run_all(tasks, args.jobs)
    data = arrays(records)
    check_exact(records, data)
    path = out / album_corpus.NOTES_FILE
    with fileio.atomic_path(path) as tmp:
        np.savez_compressed(tmp, **data)
    stats = summary(records, problems)
    command = "python scripts/extract_music21_corpus.py" + (
        " " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    text = attribution(stats, problems, chosen, music21.__version__, fileio.sha256_file(path),
                       path.stat().st_size, command)
    fileio.atomic_write_bytes(out / "ATTRIBUTION.md", text.encode())
    for name in chosen:
        print(f"  {name}: {dict(stats[name])}")
    print(f"{path}: {path.stat().st_size / 1e6:.2f} MB, {len(records)} pieces, "
          f"{len(data['pitch'])} notes, {len(problems)} files skipped")
    if path.stat().st_size > MAX_BYTES:
        sys.exit(f"{path} is larger than {MAX_BYTES / 1e6} MB")


if __name__ == "__main__":
    main()
