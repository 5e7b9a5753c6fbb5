"""Pre-train the bundled note model on the bundled corpus of public-domain scores (issue 13).

    python scripts/pretrain_note_model.py [--steps 1500] [--work checkpoints/note_model]
                                          [--export data/note_model]

Trains albumlib.music.symbolic's LSTM on data/music_corpus (Bach chorales and folk songs from the
music21 corpus, albumlib.music.corpus) with albumlib.music.note_train, resuming from
WORK/checkpoint.npz when one is there, then writes the note model to --export (note_model.npz
and note_model.json, with the corpus's median tempo and the training history).
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from albumlib.music import corpus, note_bundle, note_train, symbolic  # noqa: E402


def main(argv=None):
    """Train, then export; prints the validation loss and the time taken."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--work", default=str(ROOT / "checkpoints" / "note_model"))
    p.add_argument("--export", default=str(ROOT / "data" / "note_model"))
    p.add_argument("--collections", default=None, help="comma-separated corpus collections")
    args = p.parse_args(argv)
    pieces = corpus.load_corpus(args.collections.split(",") if args.collections else None)
    print(f"{len(pieces)} pieces, {sum(len(q.notes) for q in pieces)} notes")
    config = note_train.NoteTrainConfig(out_dir=args.work, steps=args.steps,
                                        batch_size=args.batch_size)
    t0 = time.perf_counter()
    model, history = note_train.train(pieces, config)
    print(f"trained to step {args.steps} in {time.perf_counter() - t0:.0f} s this run; "
          f"validation loss {history['val_loss'][-1]}")
    bpm = float(np.median([q.bpm for q in pieces]))
    info = {"trained_on": "data/music_corpus (music21 corpus: public-domain scores)",
            "pieces": len(pieces), "steps": args.steps, "history": history,
            "seconds": float(sum(history["seconds"][-1:]))}
    note_bundle.save(args.export, model.get_weights(), config.model, bpm, symbolic.Rules(),
                     {}, info)
    print(f"wrote {args.export}")


if __name__ == "__main__":
    main()
