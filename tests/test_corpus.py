"""The bundled music corpus (data/music_corpus): its loader, its contents, its ATTRIBUTION.md."""

import re

import numpy as np
import pytest

from albumlib import fileio, paths
from albumlib.music import corpus, midi, note_metrics
from scripts_loader import load_script


@pytest.fixture(scope="module")
def pieces():
    return corpus.load_corpus()


def attribution_counts():
    """{collection: (pieces, notes)}, the totals and the sha256 written in ATTRIBUTION.md."""
    text = paths.data_path(corpus.FOLDER, "ATTRIBUTION.md").read_text()
    rows = re.findall(r"^\| (\w+) \| (\d+) \| (\d+) \|", text, re.M)
    totals = re.search(r"Total: (\d+) pieces, (\d+) notes", text)
    sha = re.search(r"sha256 `([0-9a-f]{64})`", text).group(1)
    return {name: (int(p), int(n)) for name, p, n in rows}, tuple(map(int, totals.groups())), sha


def test_the_corpus_matches_its_attribution(pieces):
    counts, totals, sha = attribution_counts()
    assert fileio.sha256_file(corpus.corpus_file()) == sha
    assert corpus.collection_names() == list(counts) == ["chorale", "classical", "madrigal"]
    for name, (n_pieces, n_notes) in counts.items():
        chosen = corpus.load_corpus(name)
        assert len(chosen) == n_pieces and sum(len(p) for p in chosen) == n_notes, name
    assert (len(pieces), sum(len(p) for p in pieces)) == totals
    assert corpus.corpus_file().stat().st_size < 3_000_000


def test_the_arrays_need_no_pickles_and_have_the_documented_types():
    data = corpus.load_arrays()
    assert data["onset"].dtype == data["duration"].dtype == np.float32
    assert data["pitch"].dtype == data["velocity"].dtype == np.uint8
    assert data["names"].dtype.kind == data["collection"].dtype.kind == "U"
    assert data["offsets"][0] == 0 and np.all(np.diff(data["offsets"]) > 0)
    assert len(set(data["names"].tolist())) == len(data["names"])


def test_every_note_is_playable(pieces):
    assert all(isinstance(p, midi.Piece) and len(p) for p in pieces)
    table = np.concatenate([p.notes for p in pieces])
    assert table[:, 2].min() >= 21 and table[:, 2].max() <= 108
    assert np.all(table[:, 1] > 0) and np.all(table[:, 0] >= 0)
    assert np.all((table[:, 3] > 0) & (table[:, 3] <= 1))
    assert all(20 <= p.bpm <= 300 for p in pieces)
    for p in pieces[:20]:                               # sorted by onset, then pitch
        assert np.all(np.diff(p.notes[:, 0]) >= 0)


def test_the_chorales_are_in_four_voices():
    chorales = corpus.load_corpus(["chorale"])
    assert len(chorales) > 300 and all(p.name.startswith("bach/") for p in chorales)
    most = [note_metrics.polyphony(p.notes)[1] for p in chorales]    # in beats: exact
    assert np.mean(np.array(most) <= 4) > 0.95 and max(most) <= 5
    assert 3.0 < np.median([note_metrics.polyphony(p.notes)[0] for p in chorales]) <= 4.0


def test_load_corpus_refuses_unknown_collections():
    with pytest.raises(ValueError, match="folk.*chorale"):
        corpus.load_corpus(["chorale", "folk"])


def test_the_extraction_script_writes_what_the_loader_reads(tmp_path):
    script = load_script("extract_music21_corpus")
    records = [{"name": "a", "collection": "chorale", "bpm": 100.0, "bpm_source": "default",
                "notes": np.array([[0, 1, 60], [0, 2, 64], [1, 1 / 3, 67]], float),
                "dropped": {"unisons": 1, "out of range": 0, "parts left out": 0}},
               {"name": "b/c#2", "collection": "folk", "bpm": 84.0, "bpm_source": "marking",
                "notes": np.array([[0.5, 0.5, 72]], float),
                "dropped": {"unisons": 0, "out of range": 2, "parts left out": 0}}]
    data = script.arrays(records)
    np.savez_compressed(tmp_path / "notes.npz", **data)
    got = corpus.load_corpus(path=tmp_path / "notes.npz")
    assert [(p.name, p.bpm, len(p)) for p in got] == [("a", 100.0, 3), ("b/c#2", 84.0, 1)]
    np.testing.assert_allclose(got[0].notes[:, :3], records[0]["notes"], atol=1e-6)
    assert got[0].notes[0, 3] == pytest.approx(0.8, abs=1 / 127)
    assert [p.name for p in corpus.load_corpus("folk", path=tmp_path / "notes.npz")] == ["b/c#2"]
    stats = script.summary(records, [("folk", "x.abc", "parse error: bad")])
    text = script.attribution(stats, [("folk", "x.abc", "parse error: bad")], ["chorale", "folk"],
                              "0.0", "0" * 64, 123, "python scripts/extract_music21_corpus.py")
    assert "| chorale | 1 | 3 | 0 | 0 |" in text and "| folk | 1 | 1 | 1 | 0 |" in text
    assert "Total: 2 pieces, 4 notes." in text and "non-commercial use only" in text


def test_the_script_joins_ties_itself():
    music21 = pytest.importorskip("music21")
    script = load_script("extract_music21_corpus")
    part = music21.stream.Part()
    first = music21.note.Note("C4", quarterLength=1.5)
    second = music21.note.Note("C4", quarterLength=1)
    first.tie, second.tie = music21.tie.Tie("start"), music21.tie.Tie("stop")
    chord = music21.chord.Chord(["E4", "G4"], quarterLength=1)
    grace = music21.note.Note("D4").getGrace()
    for element in (first, second, grace, chord, music21.note.Note("C4", quarterLength=0.5)):
        part.append(element)
    assert script.part_rows(part) == [[0.0, 2.5, 60], [2.5, 1.0, 64], [2.5, 1.0, 67],
                                      [3.5, 0.5, 60]]


def test_the_script_finds_rights_statements(tmp_path):
    script = load_script("extract_music21_corpus")
    (tmp_path / "a.xml").write_text("<score><rights>CC-BY 2014</rights><note/></score>")
    (tmp_path / "b.krn").write_text("!!!YEC: Copyright 2000, Someone\n**kern\n4c\n")
    (tmp_path / "c.abc").write_text("X:1\nT:Tune\nK:C\nCDEF|\n")
    assert script.rights_statement(tmp_path / "a.xml") == "CC-BY 2014"
    assert "Copyright 2000" in script.rights_statement(tmp_path / "b.krn")
    assert script.rights_statement(tmp_path / "c.abc") == ""
