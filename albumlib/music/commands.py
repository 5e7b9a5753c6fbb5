"""The music commands of `python -m albumlib`: train-music and compose (issue 13).

    python -m albumlib train-music MUSIC_DIR --out MODEL_DIR [--steps N]
    python -m albumlib compose [--model MODEL_DIR|notes|report] --seconds N -o OUT.wav|.mp3
                               [--seed N] [--temperature T]
"""

from pathlib import Path

from albumlib import cli

MODEL_HELP = ("a model folder made by train-music (or by albumlib.music.report_train), or a "
              "bundled model by name: 'notes' (the note model, the default) or 'report' (the "
              "report's FFT-block model)")


def add_parsers(sub):
    """Add train-music and compose to the subcommands; returns {name: function}."""
    train = sub.add_parser("train-music", help="learn from a folder of your music (MIDI or "
                           "audio files) and write a note model that composes like it")
    train.add_argument("music_dir", metavar="MUSIC_DIR", help="a folder of MIDI files or "
                       "recordings (mp3, wav, flac, ogg, m4a, ...), searched recursively")
    train.add_argument("--out", required=True, metavar="MODEL_DIR",
                       help="the model folder (created; a run stopped early resumes there)")
    how = train.add_argument_group("training")
    how.add_argument("--steps", type=cli.positive_int, default=600,
                     help="adaptation steps (default 600, a few minutes on a 2-core CPU)")
    how.add_argument("--base", default=None, metavar="DIR",
                     help="a note model to adapt (default: the bundled one)")
    how.add_argument("--seed", type=int, default=0,
                     help="seed of the training windows (default 0)")
    compose = sub.add_parser("compose", help="compose music with a model into a WAV or MP3 file")
    compose.add_argument("--model", default=None, help=MODEL_HELP)
    compose.add_argument("--seconds", type=cli.positive_float, default=30.0,
                         help="length in seconds (default 30)")
    compose.add_argument("-o", "--output", required=True, metavar="OUT",
                         help="the file to write, .wav or .mp3 (never replaced unless "
                              "--overwrite)")
    compose.add_argument("--seed", type=int, default=0, help="which composition (default 0)")
    compose.add_argument("--temperature", type=cli.positive_float, default=0.8,
                         help="higher is bolder, lower is safer (note models; default 0.8)")
    compose.add_argument("--soundfont", default=None, metavar="SF2",
                         help="render with this SoundFont (needs `pip install --no-deps "
                              "tinysoundfont`); 'auto' finds an installed one (ALBUM_SOUNDFONT, "
                              "pretty_midi's, Debian's); default: the built-in synthesiser")
    compose.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    return {"train-music": cmd_train_music, "compose": cmd_compose}


def cmd_train_music(args):
    """train-music: read the folder, adapt the note model, write it."""
    from albumlib.music import learn
    options = learn.LearnOptions(steps=args.steps, base=args.base, seed=args.seed)
    out = learn.learn(args.music_dir, args.out, options)
    print(f"wrote the note model to {out}; compose with: python -m albumlib compose "
          f"--model {out} --seconds 30 -o music.mp3")
    return 0


def cmd_compose(args):
    """compose: load the model, compose, write the file."""
    from albumlib.music import soundtrack
    out = Path(args.output)
    if out.suffix.lower() not in (".wav", ".wave", ".mp3"):
        raise SystemExit(f"error: {out}: the output must end in .wav or .mp3")
    soundfont = args.soundfont
    if soundfont == "auto":
        from albumlib.music import synth
        soundfont = synth.find_soundfont()
        if soundfont is None:
            raise SystemExit("error: --soundfont auto: no SoundFont found (set ALBUM_SOUNDFONT "
                             "to an .sf2 file)")
    bundle = soundtrack.load_model(args.model)
    path = soundtrack.compose(bundle, args.seconds, seed=args.seed,
                              temperature=args.temperature, out=out, overwrite=args.overwrite,
                              soundfont=soundfont)
    print(f"wrote {args.seconds:g} s of music to {path}")
    return 0
