"""The style commands of `python -m albumlib`: gatys-demo, gatys, styles, stylize, train-style.

    python -m albumlib gatys PHOTO_OR_FOLDER... --style starry_night -o OUT
    python -m albumlib stylize PHOTOS --style NAME|NETWORK.npz -o OUT [--strength F]
    python -m albumlib train-style --style NAME|PAINTING --data-dir DIR|--corpus|--coco --out DIR

`gatys-demo` and `gatys` repaint photos with Gatys' optimisation (notebook 01); `train-style`
trains a fast style network for one painting or several (notebook 02) and `stylize` repaints
whole albums with it; `styles` lists the bundled paintings.
"""

import dataclasses
import sys
import time
from pathlib import Path

from albumlib import cli


def add_parsers(sub):
    """Add gatys-demo, gatys, styles, stylize and train-style; returns {name: function}."""
    demo = sub.add_parser("gatys-demo", help="repaint the bundled sample album with Gatys' "
                                             "method into outputs/gatys-demo (a contact sheet)")
    demo.add_argument("-o", "--output", default="outputs/gatys-demo",
                      help="output folder (default: outputs/gatys-demo)")
    demo.add_argument("--limit", type=int, default=None, help="number of photos (default: profile's)")
    _add_gatys_options(demo)

    gatys = sub.add_parser("gatys", help="repaint photos in a painting's style by optimisation (Gatys et al.)")
    gatys.add_argument("inputs", nargs="+", help="photo files or album folders")
    gatys.add_argument("-s", "--style", action="append", required=True,
                       help="bundled style name or image path; repeat to blend several")
    gatys.add_argument("--blend", type=float, nargs="+", default=None, help="blend weights, one per --style")
    gatys.add_argument("-o", "--output", required=True, help="output folder (created if missing)")
    gatys.add_argument("--overwrite", action="store_true", help="replace existing output files")
    _add_gatys_options(gatys)

    sub.add_parser("styles", help="list the bundled styles")
    _add_stylize_parser(sub)
    _add_train_style_parser(sub)
    return {"gatys-demo": cmd_gatys_demo, "gatys": cmd_gatys, "styles": cmd_styles,
            "stylize": cmd_stylize, "train-style": cmd_train_style}


# `stylize --engine auto` runs numpy_net while its estimated time for all the photos stays below
# this. Measured on 2 busy CPU cores (load 2-5), bundled network: TensorFlow's start-up (imports,
# model, trace) costs ~4.5 s a run; a 512 px photo takes 0.53 s in numpy, 0.13 s in Keras
# (bfloat16), so numpy pays off up to ~6 s of numpy work. 3 s leaves room for the estimate's
# error and for machines where TensorFlow's convolutions gain more from many cores.
NUMPY_SECONDS = 3.0


def _add_gatys_options(p):
    """Options shared by the gatys and demo commands."""
    p.add_argument("--size", type=int, default=None, help="long side of the output in pixels (default: profile's)")
    p.add_argument("--steps", type=int, default=None, help="optimisation steps per photo (default: profile's)")
    p.add_argument("--optimizer", choices=("adam", "lbfgs"), default=None, help="optimiser (default: adam)")
    p.add_argument("--style-weight", type=float, default=None, help="weight of the style loss")
    p.add_argument("--content-weight", type=float, default=None, help="weight of the content loss")
    p.add_argument("--tv-weight", type=float, default=None, help="weight of the total-variation loss")
    p.add_argument("--preserve-color", action="store_true", help="keep the photo's colours (luminance-only transfer)")
    p.add_argument("--init", choices=("content", "noise"), default="content", help="start from the photo or from noise")
    p.add_argument("--weights", default="auto", help="VGG19 weights: auto, imagenet, or a file path")


def _add_stylize_parser(sub):
    """`stylize`: repaint photos and albums with a trained fast style network."""
    p = sub.add_parser("stylize", help="repaint photos with a trained fast style network "
                                       "(one network pass per photo)",
                       description="Repaint photos and album folders with a fast style network "
                                   "trained by `train-style`. Writes <photo>_<style>.jpg files; "
                                   "never replaces existing files unless --overwrite.")
    p.add_argument("photos", nargs="+", metavar="PHOTOS", help="photo files or album folders")
    p.add_argument("-s", "--style", required=True, metavar="NAME|PATH",
                   help="bundled network name (data/fast_styles) or a .npz/.keras network file")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output folder (created if missing)")
    p.add_argument("--max-side", type=cli.positive_int, default=None, metavar="N",
                   help="shrink photos so that their long side is at most N pixels first "
                        "(bounds the memory big photos need; default: full size)")
    p.add_argument("--batch-size", type=cli.positive_int, default=4, metavar="N",
                   help="photos of the same size run together, up to N per network call "
                        "(default: 4)")
    p.add_argument("--strength", type=cli.unit_float, default=1.0, metavar="F",
                   help="style strength: 1 fully repainted, 0 the original photo (default: 1)")
    p.add_argument("--preserve-color", action="store_true",
                   help="keep the photos' colours (luminance-only transfer)")
    p.add_argument("--suffix", default=None,
                   help="text after the photo's name in output names (default: _<style>)")
    p.add_argument("--engine", choices=("auto", "numpy", "keras"), default="auto",
                   help="numpy: run the network in plain numpy, without starting TensorFlow "
                        "(quicker for a few photos; .npz networks with resize upsampling); "
                        "keras: TensorFlow (quicker for many photos; any network); auto "
                        f"(default): numpy when it needs under ~{NUMPY_SECONDS:g} s for all the "
                        "photos, else keras")
    p.add_argument("--precision", choices=("auto", "float32", "bfloat16", "float16"),
                   default="auto", help="arithmetic of the network, keras engine only (numpy "
                                        "computes in float32): auto (default) uses bfloat16 "
                                        "where this CPU convolves faster in it (AMX), float16 on "
                                        "a GPU, else float32")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _add_train_style_parser(sub):
    """`train-style`: train (or resume training) a fast style network for one painting."""
    from albumlib.style.fast_train import TrainConfig
    d = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    p = sub.add_parser("train-style", help="train a fast style network for one painting "
                                           "(resumes from the checkpoint in --out)",
                       description="Train Johnson et al.'s transform network for one style on a "
                                   "folder of photos (MS-COCO train2014 for real results), then "
                                   "export it as OUT/<style>.npz and OUT/<style>.keras. Run it "
                                   "again with the same --out to resume (also with more --steps).")
    p.add_argument("--style", required=True, action="append", metavar="NAME|PATH",
                   help="bundled style name (see `python -m albumlib styles`) or an image path; "
                        "repeat it to train one network for all the styles given (conditional "
                        "instance norm; choose or mix them by name afterwards)")
    p.add_argument("--base", default=None, metavar="NAME|FILE",
                   help="learn a new painting in minutes: train only its (gamma, beta) on top of "
                        "this multi-style network (a bundled name or a file), and write them alone "
                        "as OUT/<name>.npz (a few kB), usable with --style OUT/<name>.npz")
    p.add_argument("--name", default=None, metavar="NAME",
                   help="file name of the exported network (default: the style's name, or "
                        "'paintings' for several styles)")
    _add_train_style_data(p)
    p.add_argument("--out", required=True, metavar="DIR",
                   help="folder for checkpoint, history, loss curve and the exported network")
    p.add_argument("--steps", type=cli.positive_int, default=d["steps"], metavar="N",
                   help=f"total optimisation steps (batches), counting resumed ones "
                        f"(default: {d['steps']})")
    p.add_argument("--crop", type=cli.positive_int, default=d["crop"], metavar="N",
                   help=f"side of the square training crops in pixels (default: {d['crop']})")
    p.add_argument("--batch-size", type=cli.positive_int, default=d["batch_size"], metavar="N",
                   help=f"photos per step, split over the GPUs with --multi-gpu "
                        f"(default: {d['batch_size']})")
    p.add_argument("--lr", type=float, default=d["learning_rate"], metavar="F",
                   help=f"Adam learning rate (default: {d['learning_rate']:g})")
    p.add_argument("--checkpoint-every", type=cli.positive_int, default=d["checkpoint_every"],
                   metavar="N", help=f"write a checkpoint every N steps "
                                     f"(default: {d['checkpoint_every']})")
    p.add_argument("--style-weight", type=float, default=None, metavar="F",
                   help="weight of the style loss; higher for a stronger look "
                        "(default: fast_style.DEFAULT_WEIGHTS, 1.5e-5)")
    p.add_argument("--precision", choices=("auto", "float32", "bfloat16", "float16"),
                   default="auto",
                   help="arithmetic of the training step (weights stay float32): auto measures "
                        "this machine and picks bfloat16 on CPUs that run it faster (AMX, "
                        "AVX512-BF16: 2-4x), float16 on GPUs, else float32 (default: auto)")
    p.add_argument("--style-weights", type=float, nargs="+", default=None, metavar="F",
                   help="one style weight per --style, in order (several styles: each painting "
                        "wants its own; default: --style-weight for all)")
    p.add_argument("--mixed-precision", action="store_true",
                   help="the same as --precision float16 (kept for old scripts)")
    p.add_argument("--multi-gpu", action="store_true",
                   help="spread each batch over all visible GPUs (tf.distribute.MirroredStrategy)")
    _add_train_style_advanced(p.add_argument_group("advanced options"), d)


def _add_train_style_data(p):
    """train-style's training photos: --data-dir, --corpus or --coco (one of them)."""
    data = p.add_mutually_exclusive_group(required=True)
    data.add_argument("--data-dir", metavar="DIR",
                      help="folder of training photos (e.g. your copy of COCO train2014)")
    data.add_argument("--corpus", action="store_true",
                      help="train on the offline photo corpus (278 licence-clean photos from "
                           "Debian packages, built into the cache on first use: "
                           "scripts/build_photo_corpus.py)")
    data.add_argument("--coco", action="store_true",
                      help="train on MS-COCO train2014, downloaded into the cache on first use "
                           "(13.5 GB, plus as much again extracted)")


def _add_train_style_advanced(adv, d):
    """train-style's advanced options (loss weights, network shape, seed, VGG weights); `d`:
    TrainConfig's defaults."""
    adv.add_argument("--content-weight", type=float, default=None, metavar="F",
                     help="weight of the content loss (default: 1)")
    adv.add_argument("--style-layers", choices=("equal", "balanced"), default=None,
                     help="weights of the five style layers: 1/5 each (block4_conv1 then decides "
                          "the style alone), or balanced on the training photos so that colours "
                          "and fine strokes count alike (default: balanced with --base, as the "
                          "bundled network was trained; else equal, which the default style "
                          "weight was chosen for)")
    adv.add_argument("--tv-weight", type=float, default=None, metavar="F",
                     help="weight of the total-variation loss (default: 3e5)")
    adv.add_argument("--style-size", type=cli.positive_int, default=d["style_size"], metavar="N",
                     help=f"long side of the style image for its Gram matrices "
                          f"(default: {d['style_size']})")
    adv.add_argument("--filters", type=cli.positive_int, nargs=3, default=list(d["filters"]),
                     metavar=("F1", "F2", "F3"),
                     help="widths of the transform network (default: 32 64 128; smaller nets "
                          "train faster and look rougher)")
    adv.add_argument("--residual-blocks", type=int, default=d["residual_blocks"], metavar="N",
                     help=f"residual blocks of the transform network "
                          f"(default: {d['residual_blocks']})")
    adv.add_argument("--outer-kernel", type=int, default=d["outer_kernel"], metavar="K",
                     help="size of the first and last convolutions (default: 9, Johnson's; 3 is "
                          "cheaper at full resolution)")
    adv.add_argument("--upsample", choices=("resize", "transpose"), default=d["upsample"],
                     help="upsampling layers: resize-convolution or transposed convolution "
                          f"(default: {d['upsample']})")
    adv.add_argument("--seed", type=int, default=d["seed"],
                     help=f"random seed of the initial network and the data order "
                          f"(default: {d['seed']})")
    adv.add_argument("--weights", default=d["weights"],
                     help="VGG19 weights of the loss: auto, imagenet, embedded or a file path "
                          f"(default: {d['weights']})")
    adv.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _gatys_kwargs(args):
    """The stylize() keyword arguments from parsed options."""
    return dict(image_size=args.size, steps=args.steps, optimizer=args.optimizer,
                style_weight=args.style_weight, content_weight=args.content_weight,
                tv_weight=args.tv_weight, preserve_color=args.preserve_color, init=args.init,
                weights=args.weights)


def _collect_photos(inputs):
    """Expand files and folders into (path, array) pairs; unreadable photos are skipped with a warning."""
    from albumlib import images
    photos = []
    for item in map(Path, inputs):
        if item.is_dir():
            photos.extend(images.load_album(item))
        else:
            try:
                photos.append((item, images.load_image(item)))
            except (images.ImageError, OSError) as err:
                print(f"warning: skipping {item}: {err}", file=sys.stderr)
    if not photos:
        raise SystemExit(f"error: no readable photo in {', '.join(map(str, inputs))}")
    return photos


def _repaint(photos, styles_for_photo, out_dir, kwargs, overwrite, blend=None):
    """Repaint each photo and save it as <photo>_<style>.jpg in out_dir; returns the written paths."""
    from albumlib import images
    from albumlib.style import gatys
    from albumlib.fileio import unique_path
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for i, (path, array) in enumerate(photos):
        style = styles_for_photo(i)
        label = "+".join(Path(str(s)).stem for s in (style if isinstance(style, list) else [style]))
        target = out_dir / f"{Path(path).stem}_{label}.jpg"
        if target.exists() and not overwrite:
            target = unique_path(target)
        start = time.perf_counter()
        result = gatys.stylize(array, style, blend_weights=blend, **kwargs)
        images.save_image(result.image, target, overwrite=True)
        print(f"[{i + 1}/{len(photos)}] {Path(path).name} + {label} -> {target} "
              f"({time.perf_counter() - start:.1f} s, final loss {result.history['total'][-1]:.4g})")
        written.append(target)
    return written


def cmd_gatys_demo(args):
    """Repaint the bundled sample album, one bundled style per photo, with Gatys' method."""
    from albumlib import images, paths
    from albumlib.style import styles
    from albumlib.profiles import get_profile
    profile = get_profile()
    cli.check_output_folder(args.output)
    cli.import_tensorflow(args)
    limit = profile.album_limit if args.limit is None else args.limit
    photos = images.load_album(paths.data_path("album"), limit=limit or None)
    names = styles.list_styles()
    kwargs = _gatys_kwargs(args)
    kwargs["steps"] = profile.demo_steps if args.steps is None else args.steps
    print(f"profile {profile.name}: repainting {len(photos)} photos with Gatys' method "
          f"({kwargs['steps']} steps each) into {args.output}")
    start = time.perf_counter()
    written = _repaint(photos, lambda i: names[i % len(names)], args.output, kwargs, overwrite=True)
    sheet = images.save_image(contact_sheet([a for _, a in photos], [images.load_image(p) for p in written]),
                              Path(args.output) / "contact_sheet.jpg", overwrite=True)
    print(f"done in {time.perf_counter() - start:.0f} s; side by side: {sheet}")
    return 0


def contact_sheet(originals, repainted, height=160):
    """One image: each original above its repainted version, side by side (the demo's summary)."""
    from albumlib.film import album
    return album.contact_sheet(originals, repainted, height=height)


def cmd_gatys(args):
    """Repaint the given photos in the given style(s)."""
    cli.check_output_folder(args.output)
    cli.import_tensorflow(args)
    photos = _collect_photos(args.inputs)
    style = args.style if len(args.style) > 1 else args.style[0]
    _repaint(photos, lambda i: style, args.output, _gatys_kwargs(args), args.overwrite, blend=args.blend)
    return 0


def cmd_styles(args):
    """Print the bundled styles."""
    from albumlib.style import styles
    for name in styles.list_styles():
        print(name)
    return 0


def _numpy_is_quicker(net, args):
    """True when numpy_net's estimated time for all the photos stays below NUMPY_SECONDS."""
    from albumlib.style import stylize
    seconds = 0.0
    for size in stylize.photo_sizes(args.photos, args.max_side):
        seconds += net.estimated_seconds([size])
        if seconds > NUMPY_SECONDS:
            return False
    return True


def _stylize_network(args, choice):
    """(network, engine) for `stylize --engine`: numpy_net's network (no TensorFlow) or the
    Keras model; auto takes numpy for a few photos and a network it runs, else Keras."""
    if args.engine != "keras":
        from albumlib.style import numpy_net
        try:
            net = numpy_net.load_choice(choice)
        except numpy_net.Unsupported:
            if args.engine == "numpy":
                raise
        else:
            if args.engine == "numpy" or _numpy_is_quicker(net, args):
                return net, "numpy"
    cli.import_tensorflow(args)
    from albumlib.style import style_nets
    return style_nets.load_choice(choice, precision=args.precision), "keras"


def cmd_stylize(args):
    """Repaint photos and albums with a trained fast style network."""
    cli.check_output_folder(args.output)
    from albumlib import images
    from albumlib.style import style_nets, stylize
    try:
        choice = style_nets.find(args.style)
        model, engine = _stylize_network(args, choice)
    except (ValueError, OSError) as err:
        raise SystemExit(f"error: {err}") from None
    start = time.perf_counter()
    try:
        written = stylize.stylize_album(
            args.photos, model, args.output, max_side=args.max_side, batch_size=args.batch_size,
            strength=args.strength, preserve_color=args.preserve_color,
            suffix=f"_{choice.label}" if args.suffix is None else args.suffix,
            overwrite=args.overwrite, progress=not args.no_progress)
    except (images.ImageError, FileNotFoundError) as err:
        raise SystemExit(f"error: {err}") from None
    for target in written:
        print(f"-> {target}")
    print(f"repainted {len(written)} photo(s) with {choice.label} ({choice.path.name}) in "
          f"{time.perf_counter() - start:.1f} s into {args.output} ({engine} engine)")
    return 0


def _style_stem(style):
    """'starry_night' -> 'starry_night', 'paintings/my cat.jpg' -> 'my cat' (export names)."""
    from albumlib.style import styles
    key = styles.style_key(style)
    return key if key in styles.STYLES else Path(style).stem


def cmd_train_style(args):
    """Train (or resume) a fast style network, then export it into the out folder."""
    from albumlib.style import fast_train
    names = _train_names(args)
    chosen = args.style[0] if len(args.style) == 1 else list(args.style)
    cli.check_output_folder(args.out, "the checkpoint and the trained network")
    base = _base_network(args)
    _check_resumable(args, chosen, base)
    cli.import_tensorflow(args)
    data_dir = _training_photos(args)
    strategy = _strategy(args)
    config, loss_weights = _train_config(args, chosen, names, base, data_dir)
    from albumlib.style import image_data
    n_images = image_data.dataset_size(data_dir)
    if base:
        print(f"learning {names[0]} on top of {base}: only its (gamma, beta) are trained")
    print(f"training a fast network for {', '.join(args.style)} on {n_images:,} photos in {data_dir}: "
          f"{args.steps} steps of {args.batch_size} crops of {args.crop} px into {args.out}")
    start = time.perf_counter()
    try:
        result = fast_train.train(config, strategy=strategy, progress=not args.no_progress)
    except fast_train.CheckpointError as err:
        raise SystemExit(f"error: {err}") from None
    wall = time.perf_counter() - start
    info = _train_info(args, names, config, result, dict(
        data_dir=data_dir, images=n_images, loss_weights=loss_weights, wall=wall,
        replicas=strategy.num_replicas_in_sync if strategy is not None else 1))
    return _export_network(args, names, base, result, info, wall)


def _train_names(args):
    """The names of train-style's styles (words and underscores where they choose and mix
    styles), after checking the styles and their weights (SystemExit)."""
    from albumlib.style import styles
    try:
        for style in args.style:
            styles.style_path(style)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    names = [_style_stem(s) for s in args.style]
    if len(names) > 1 or args.base:     # names that choose and mix styles: words and underscores
        names = ["_".join("".join(c if c.isalnum() else " " for c in n.lower()).split()) or "style"
                 for n in names]
    if len(set(names)) < len(names):
        raise SystemExit(f"error: two styles have the same name ({', '.join(names)}): rename one")
    if args.style_weights is not None and len(args.style_weights) != len(names):
        raise SystemExit(f"error: --style-weights gives {len(args.style_weights)} weights for "
                         f"{len(names)} styles: give one per --style")
    if args.base and len(names) > 1:
        raise SystemExit("error: --base learns one new painting at a time: give one --style")
    return names


def _base_network(args):
    """--base as a file path (None without it); the network's shape is then the base's (set on
    args)."""
    if not args.base:
        return None
    from albumlib.style import fast_train
    cli.import_tensorflow(args)
    from albumlib.style import style_nets
    try:
        base = str(style_nets.resolve(args.base))
        arch = fast_train.base_architecture(base)
    except (ValueError, OSError) as err:
        raise SystemExit(f"error: {err}") from None
    args.filters, args.residual_blocks = list(arch["filters"]), arch["residual_blocks"]
    args.upsample = arch["upsample"]
    args.outer_kernel = arch.get("outer_kernel", 9)
    return base


def _check_resumable(args, chosen, base):
    """A checkpoint in --out must be of this network (SystemExit naming what differs)."""
    from albumlib.style import fast_train
    try:
        fast_train.check_checkpoint(Path(args.out) / fast_train.CHECKPOINT,
                                    fast_train.TrainConfig(
                                        style=chosen, data_dir="", out_dir=args.out,
                                        filters=tuple(args.filters), upsample=args.upsample,
                                        residual_blocks=args.residual_blocks, base=base,
                                        outer_kernel=args.outer_kernel))
    except fast_train.CheckpointError as err:
        raise SystemExit(f"error: {err}") from None


def _training_photos(args):
    """The folder of training photos: COCO (downloaded), the photo corpus (built) or --data-dir."""
    if args.coco:
        from albumlib.style import coco
        return coco.coco_train2014()
    if args.corpus:
        from albumlib.style import photo_corpus
        try:
            return photo_corpus.corpus_dir(build=True)
        except (OSError, RuntimeError) as err:
            raise SystemExit(f"error: the photo corpus: {err}") from None
    data_dir = Path(args.data_dir)
    if not data_dir.is_dir():
        raise SystemExit(f"error: {data_dir}: no such folder of training photos")
    return data_dir


def _strategy(args):
    """tf.distribute.MirroredStrategy with --multi-gpu (said), else None."""
    if not args.multi_gpu:
        return None
    import tensorflow as tf
    strategy = tf.distribute.MirroredStrategy()
    print(f"multi-GPU: {strategy.num_replicas_in_sync} replica(s), "
          f"{args.batch_size / strategy.num_replicas_in_sync:g} photos each per step")
    return strategy


def _train_config(args, chosen, names, base, data_dir):
    """(fast_train.TrainConfig, the loss weights given) of train-style's options."""
    from albumlib.style import fast_train
    if args.style_weights and len(names) == 1:       # one style: its weight is the style weight
        args.style_weight = args.style_weights[0]
    loss_weights = {k: v for k, v in (("content", args.content_weight),
                                      ("style", args.style_weight),
                                      ("tv", args.tv_weight)) if v is not None}
    config = fast_train.TrainConfig(
        style=chosen, data_dir=str(data_dir), out_dir=args.out, steps=args.steps,
        crop=args.crop, batch_size=args.batch_size, learning_rate=args.lr,
        checkpoint_every=args.checkpoint_every, seed=args.seed, upsample=args.upsample,
        filters=tuple(args.filters), residual_blocks=args.residual_blocks,
        outer_kernel=args.outer_kernel, mixed_precision=args.mixed_precision, precision=args.precision,
        style_weights=tuple(args.style_weights) if args.style_weights and len(names) > 1 else None,
        style_size=args.style_size,
        loss_weights=loss_weights or None, weights=args.weights, base=base)
    if (args.style_layers or ("balanced" if base else "equal")) == "balanced":
        config = dataclasses.replace(config, style_layer_weights=fast_train.balanced_layer_weights(config))
    return config, loss_weights


def _train_info(args, names, config, result, run):
    """The exported network's info: styles, data, settings, losses and times of the run
    (`run`: data_dir, images, loss_weights, wall, replicas)."""
    from albumlib.style import fast_style, fast_train, styles
    history = result.history
    info = {
        "style": args.style[0] if len(args.style) == 1 else names,
        "style_file": [str(styles.style_path(s)) for s in args.style] if len(names) > 1
        else str(styles.style_path(args.style[0])),
        "steps": history["step"][-1] if history["step"] else result.resumed_from,
        "data_dir": str(run["data_dir"]),
        "images": run["images"],
        "crop": args.crop,
        "batch_size": args.batch_size,
        "learning_rate": args.lr,
        "loss_weights": {**fast_style.DEFAULT_WEIGHTS, **run["loss_weights"]},
        "style_size": args.style_size,
        "mixed_precision": bool(args.mixed_precision),
        "precision": fast_train.resolve_precision(config),
        "replicas": run["replicas"],
        "resumed_from": result.resumed_from,
        "train_seconds": round(float(sum(history["seconds"])), 3),
        "wall_seconds": round(run["wall"], 3),
        "final_losses": {k: history[k][-1] for k in ("total", "content", "style", "tv")
                         if history.get(k)},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    if len(names) > 1:
        info["styles"] = names          # the names that choose and mix them
        if args.style_weights:
            info["style_weights"] = dict(zip(names, args.style_weights))
    if config.style_layer_weights is not None:     # one row, or a row per style (quality reads it)
        rows = config.style_layer_weights
        info["style_layer_weights"] = dict(zip(names, rows)) if config.styles is not None else rows
    return info


def _export_network(args, names, base, result, info, wall):
    """Write the trained network (or, with --base, the new painting's parameters alone) into
    --out and say how to use it; 0."""
    from albumlib.style import style_nets
    steps_done = info["steps"]
    name = args.name or (names[0] if len(names) == 1 else "paintings")
    if base:
        learnt = style_nets.export_style(result.model, args.out, name, base, info=info)
        print(f"trained to step {steps_done} in {wall:.0f} s; wrote {learnt} "
              f"({learnt.stat().st_size / 1000:.0f} kB); repaint photos with:\n"
              f"  python -m albumlib stylize PHOTOS --style {learnt} -o OUT\n"
              f"  python -m albumlib make-album PHOTOS --style {learnt}:{names[0]}=0.7,"
              f"{style_nets.style_names(base)[0]}=0.3 -o film.mp4")
        return 0
    written = style_nets.export(result.model, args.out, name, info=info)
    losses = ", ".join(f"{k} {v:.4g}" for k, v in info["final_losses"].items())
    print(f"trained to step {steps_done} in {wall:.0f} s ({losses})")
    print(f"exported {written['npz']} and {written['keras']}; repaint photos with:\n"
          f"  python -m albumlib stylize PHOTOS --style {written['npz']} -o OUT")
    if len(names) > 1:
        print(f"  (copy it into data/fast_styles to choose its styles by name: --style {names[0]}, "
              f"or mix them: --style {names[0]}=0.7,{names[1]}=0.3)")
    return 0
