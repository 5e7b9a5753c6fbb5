"""One network, several styles (conditional instance norm): build, save, choose by name, mix."""

import numpy as np
import pytest

from albumlib import cli, paths
from albumlib.film import album, repaint
from albumlib.style import fast_style, style_nets, stylize

NAMES = ["starry_night", "wave", "udnie"]
TINY = dict(filters=(4, 8, 8), residual_blocks=1)


@pytest.fixture(scope="module")
def multi():
    """A tiny three-style network whose styles differ (random, distinct gamma and beta)."""
    model = fast_style.build_transform_net(n_styles=3, name="paintings", **TINY)
    rng = np.random.default_rng(0)
    for layer in model.layers:
        if isinstance(layer, fast_style.ConditionalInstanceNormalization):
            layer.scale.assign(rng.uniform(0.5, 1.5, layer.scale.shape).astype("float32"))
            layer.offset.assign(rng.normal(0, 0.5, layer.offset.shape).astype("float32"))
    return model


@pytest.fixture
def bundled(multi, tmp_path, monkeypatch):
    """The network exported as the only bundled one, paintings.npz, holding NAMES."""
    style_nets.export(multi, tmp_path, "paintings", info={"styles": NAMES}, formats=("npz",))
    monkeypatch.setattr(style_nets, "bundled_dir", lambda: tmp_path)
    return tmp_path / "paintings.npz"


def photo(h=20, w=28, seed=1):
    return np.random.default_rng(seed).random((h, w, 3)).astype(np.float32)


def test_conditional_norm_picks_and_mixes_the_pairs(multi):
    x = photo()[None]
    one_hot = np.eye(3, dtype=np.float32)
    outs = [np.asarray(multi([x, one_hot[i:i + 1]])) for i in range(3)]
    assert outs[0].shape == (1, 20, 28, 3)
    assert np.abs(outs[0] - outs[1]).max() > 1e-3                     # the styles differ
    batch = np.asarray(multi([np.concatenate([x, x]), one_hot[[2, 0]]]))
    np.testing.assert_allclose(batch[0], outs[2][0], atol=1e-5)        # per image in a batch
    np.testing.assert_allclose(batch[1], outs[0][0], atol=1e-5)
    # a one-hot mix is exactly that style; the layer's formula for a mix is the mixed pair
    layer = next(l for l in multi.layers if isinstance(l, fast_style.ConditionalInstanceNormalization))
    feats = np.random.default_rng(2).normal(size=(1, 5, 6, layer.scale.shape[1])).astype(np.float32)
    mix = np.array([[0.25, 0.75, 0.0]], np.float32)
    got = np.asarray(layer([feats, mix]))
    norm = (feats - feats.mean((1, 2), keepdims=True)) / np.sqrt(feats.var((1, 2), keepdims=True) + 1e-5)
    gamma = mix @ np.asarray(layer.scale)
    beta = mix @ np.asarray(layer.offset)
    np.testing.assert_allclose(got, norm * gamma + beta, atol=1e-4)


def test_config_and_flops(multi):
    assert fast_style.transform_net_config(multi)["n_styles"] == 3
    assert fast_style.n_styles_of(fast_style.build_transform_net(**TINY)) is None
    one = fast_style.build_transform_net(**TINY)
    assert fast_style.count_flops(multi, 64, 64) == fast_style.count_flops(one, 64, 64)
    extra = multi.count_params() - one.count_params()
    channels = sum(l.scale.shape[1] for l in multi.layers
                   if isinstance(l, fast_style.ConditionalInstanceNormalization))
    assert extra == 2 * channels * 2             # two more (gamma, beta) rows than one style has
    with pytest.raises(ValueError, match="n_styles"):
        fast_style.build_transform_net(n_styles=0, **TINY)


def test_export_and_load_round_trip_keep_styles(multi, tmp_path):
    written = style_nets.export(multi, tmp_path, "p", info={"styles": NAMES})
    for path in written.values():
        model = style_nets.load(path)
        assert fast_style.n_styles_of(model) == 3 and style_nets.style_names(path) == NAMES
        x, s = photo()[None], np.eye(3, dtype=np.float32)[1:2]
        np.testing.assert_allclose(np.asarray(model([x, s])), np.asarray(multi([x, s])), atol=3e-3)


def test_parse_mix():
    assert style_nets.parse_mix("wave") == [("wave", 1.0)]
    assert style_nets.parse_mix("Wave=3, The Scream=1") == [("wave", 0.75), ("the_scream", 0.25)]
    for bad in ("wave=x", "wave=-1", "wave=0", "wave,,udnie", "wave=nan"):
        with pytest.raises(ValueError):
            style_nets.parse_mix(bad)


def test_find_names_mixes_and_errors(bundled):
    choice = style_nets.find("wave")
    assert choice == style_nets.StyleChoice("wave", bundled, (("wave", 1.0),))
    mix = style_nets.find("wave=0.7,udnie=0.3")
    assert mix.label == "wave70+udnie30" and mix.path == bundled
    assert mix.mix == (("wave", 0.7), ("udnie", 0.3))
    with pytest.raises(ValueError, match="'nope'.*not in a bundled multi-style|neither a bundled"):
        style_nets.find("nope")
    with pytest.raises(ValueError, match="the_scream not in a bundled multi-style network"):
        style_nets.find("wave=0.5,the_scream=0.5")
    whole = style_nets.find("paintings")              # the file's own name: which style?
    with pytest.raises(ValueError, match="holds 3 styles.*choose one"):
        style_nets.load_choice(whole)


def test_a_bound_mix_is_the_mixed_network(multi, bundled):
    x = photo()[None]
    bound = style_nets.load_choice(style_nets.find("wave=0.7,udnie=0.3"))
    expected = np.asarray(multi([x, np.array([[0.0, 0.7, 0.3]], np.float32)]))
    np.testing.assert_allclose(np.asarray(bound(x)), expected, atol=3e-3)   # float16 file
    single = style_nets.load_choice(style_nets.find("udnie"))
    np.testing.assert_allclose(np.asarray(single(x)),
                               np.asarray(multi([x, np.eye(3, dtype=np.float32)[2:3]])), atol=3e-3)
    # bound models run through the same batched path as one-style networks, any batch size
    out = stylize.stylize_images(bound, [photo(), photo(24, 16, seed=3)], batch_size=2)
    assert [o.shape for o in out] == [(20, 28, 3), (24, 16, 3)]


def test_album_and_cli_take_names_and_mixes(bundled, tmp_path):
    resolved = repaint.resolve_styles(["wave", "wave=0.5,starry_night=0.5", "none"])
    assert [label for label, _, _ in resolved] == ["wave", "wave50+starry_night50", "none"]
    out = tmp_path / "out"
    assert cli.main(["stylize", str(paths.data_path("holdout")), "--style", "udnie=0.6,wave=0.4",
                     "-o", str(out), "--max-side", "48", "--no-progress"]) == 0
    assert all(p.stem.endswith("_udnie60+wave40") for p in out.iterdir())
    assert len(list(out.iterdir())) == len(list(paths.data_path("holdout").glob("*.jpg")))


def test_a_trained_file_takes_its_style_names_after_a_colon(multi, tmp_path):
    path = style_nets.export(multi, tmp_path, "mine", info={"styles": NAMES}, formats=("npz",))["npz"]
    choice = style_nets.find(f"{path}:wave=1,starry_night=3")
    assert choice.path == path and choice.mix == (("wave", 0.25), ("starry_night", 0.75))
    assert choice.label == "wave25+starry_night75"
    with pytest.raises(ValueError, match="'the_scream' is not in this network"):
        style_nets.find(f"{path}:the_scream")


def test_training_one_network_for_three_styles_and_resuming(tmp_path, capsys):
    from albumlib.style import fast_train
    config = fast_train.TrainConfig(style=NAMES, data_dir=str(paths.data_path("album")),
                                    out_dir=str(tmp_path), steps=6, crop=32, batch_size=2,
                                    checkpoint_every=3, style_size=64, seed=1,
                                    style_weights=(1e-5, 2e-5, 3e-5), **TINY)
    # each style once per round of three steps, in a seeded order
    order = [fast_train.style_of_step(config, s) for s in range(1, 7)]
    assert sorted(order[:3]) == sorted(order[3:]) == [0, 1, 2]
    half = fast_train.train(dataclasses_replace(config, steps=3), progress=False)
    assert half.history["style_index"] == order[:3]
    result = fast_train.train(config, progress=False)
    assert "resuming" in capsys.readouterr().out and result.history["style_index"] == order
    assert fast_style.n_styles_of(result.model) == 3
    straight = fast_train.train(dataclasses_replace(config, out_dir=str(tmp_path / "b")),
                                progress=False)
    np.testing.assert_allclose(result.history["total"], straight.history["total"], rtol=1e-4)
    # a checkpoint of three styles is not resumed as a one-style run
    with pytest.raises(fast_train.CheckpointError, match="3 styles"):
        fast_train.check_checkpoint(tmp_path / fast_train.CHECKPOINT,
                                    dataclasses_replace(config, style="wave"))


def test_cli_trains_several_styles_into_one_file(tmp_path):
    out = tmp_path / "net"
    assert cli.main(["train-style", "--style", "wave", "--style", "udnie", "--data-dir",
                     str(paths.data_path("album")), "--out", str(out), "--steps", "2",
                     "--crop", "32", "--batch-size", "2", "--filters", "4", "8", "8",
                     "--residual-blocks", "1", "--no-progress"]) == 0
    assert style_nets.style_names(out / "paintings.npz") == ["wave", "udnie"]
    shot = cli.main(["stylize", str(paths.data_path("holdout", "camera.jpg")), "--style",
                     f"{out / 'paintings.npz'}:udnie", "-o", str(tmp_path / "o"), "--max-side", "40",
                     "--no-progress"])
    assert shot == 0 and [p.name for p in (tmp_path / "o").iterdir()] == ["camera_udnie.jpg"]


def dataclasses_replace(config, **changes):
    import dataclasses
    return dataclasses.replace(config, **changes)


def test_a_new_painting_learns_only_its_pair_on_a_base(multi, bundled, tmp_path, capsys):
    from albumlib.style import fast_train
    painting = tmp_path / "my painting.png"
    from PIL import Image
    Image.fromarray((np.random.default_rng(5).random((40, 60, 3)) * 255).astype(np.uint8)).save(painting)
    assert cli.main(["train-style", "--style", str(painting), "--base", "paintings", "--data-dir",
                     str(paths.data_path("album")), "--out", str(tmp_path / "o"), "--steps", "3",
                     "--crop", "32", "--batch-size", "2", "--lr", "0.05", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "only its (gamma, beta)" in out
    learnt = tmp_path / "o" / "my_painting.npz"
    assert learnt.stat().st_size < 50_000 and not (tmp_path / "o" / "my_painting.keras").exists()
    # on a base the style layers are balanced by default, as the bundled network was trained
    assert len(style_nets.info(learnt)["style_layer_weights"]["my_painting"]) == 5
    assert style_nets.style_names(learnt) == NAMES + ["my_painting"]
    model = style_nets.load(learnt)
    x = photo()[None]
    base_rows = np.eye(4, dtype=np.float32)[:3]
    for i in range(3):      # the base's styles are untouched
        np.testing.assert_allclose(np.asarray(model([x, base_rows[i:i + 1]])),
                                   np.asarray(multi([x, np.eye(3, dtype=np.float32)[i:i + 1]])),
                                   atol=3e-3)
    mine = np.asarray(model([x, np.eye(4, dtype=np.float32)[3:]]))
    assert np.abs(mine - np.asarray(multi([x, np.full((1, 3), 1 / 3, np.float32)]))).max() > 1e-4
    # the new style by file, alone or mixed with the base's styles
    assert style_nets.find(str(learnt)).label == "my_painting"
    mixed = style_nets.find(f"{learnt}:my_painting=0.5,wave=0.5")
    out = np.asarray(style_nets.load_choice(mixed)(x))
    np.testing.assert_allclose(out, np.asarray(model([x, np.array([[0, 0.5, 0, 0.5]], np.float32)])),
                               atol=1e-5)
    # a resumed run checks that its checkpoint was learnt on the same base
    trained = fast_train.TrainConfig(style=str(painting), data_dir="", out_dir="", base=str(bundled))
    assert fast_train.network_settings(trained)["base"] == "paintings.npz"


def test_a_new_style_can_start_from_one_of_the_base_styles(multi, bundled):
    from albumlib.style import fast_train
    x = photo()[None]
    base = style_nets.load(bundled)                   # as stored (float16 weights)
    for start, expected in (("udnie", base([x, np.eye(3, dtype=np.float32)[2:]])),
                            (None, base([x, np.full((1, 3), 1 / 3, np.float32)]))):
        one = fast_style.build_transform_net(n_styles=1, **TINY)
        fast_train.start_from_base(one, bundled, start)
        np.testing.assert_allclose(np.asarray(one([x, np.ones((1, 1), np.float32)])),
                                   np.asarray(expected), atol=1e-5)
        assert all(not layer.trainable for layer in one.layers
                   if not isinstance(layer, fast_style.ConditionalInstanceNormalization) and layer.weights)
    with pytest.raises(ValueError, match="no style 'monet' to start from.*starry_night, wave, udnie"):
        fast_train.start_from_base(fast_style.build_transform_net(n_styles=1, **TINY), bundled, "monet")


def test_a_learnt_style_names_a_missing_or_changed_base(multi, bundled, tmp_path):
    one = fast_style.build_transform_net(n_styles=1, **TINY)
    path = style_nets.export_style(one, tmp_path / "mine", "x", base=bundled)
    assert style_nets.style_names(path) == NAMES + ["x"]
    style_nets.export(multi, bundled.parent, "paintings", info={"styles": ["a", "b", "c"]},
                      formats=("npz",))                     # the base was retrained since
    with pytest.raises(ValueError, match="learnt on the network paintings.npz.*learnt again"):
        style_nets.load(path)


# --- morphing from one photo's style into the next one's ----------------------------------------

def test_frames_of_a_morph_show_the_nearest_level():
    from albumlib.film.frames import iter_frames
    from albumlib.film.timeline import plan_timeline
    timeline = plan_timeline(2, 1.0, transition_seconds=0.3, fps=30)
    start, end = timeline.transition(0)
    photos = [np.zeros((18, 32, 3), np.uint8), np.full((18, 32, 3), 255, np.uint8)]
    levels = [(0.25, np.full((18, 32, 3), 40, np.uint8), np.full((18, 32, 3), 80, np.uint8)),
              (0.75, np.full((18, 32, 3), 120, np.uint8), np.full((18, 32, 3), 160, np.uint8))]
    asked = []

    def morph(k):
        asked.append(k)
        return levels

    frames = list(iter_frames(photos, timeline, (32, 18), morph=morph))
    assert asked == [0]                                   # made once, when the transition came
    for i in range(start, end):
        w = timeline.sources(i)[1][1]
        _, a, b = min(levels, key=lambda level: abs(level[0] - w))
        expected = (1 - w) * a[0, 0, 0] + w * b[0, 0, 0]
        assert abs(int(frames[i][9, 16, 0]) - expected) <= 1, (i, w)
    assert frames[0].max() == 0 and frames[-1].min() == 255   # the photos themselves elsewhere
    plain = list(iter_frames(photos, timeline, (32, 18), morph=lambda k: None))
    crossfade = list(iter_frames(photos, timeline, (32, 18)))
    assert all(np.array_equal(x, y) for x, y in zip(plain, crossfade))


def test_a_film_morphs_between_styles_of_one_network(bundled, tmp_path, monkeypatch):
    from albumlib.film import assemble, frames
    from albumlib.film.options import Cut, Paint, Play
    seen = []
    real = assemble.iter_frames

    def spy(*args, morph=None, **kwargs):
        seen.append(morph)
        return real(*args, morph=morph, **kwargs)
    monkeypatch.setattr(assemble, "iter_frames", spy)
    photos = sorted(paths.data_path("album").glob("*.jpg"))[:3]
    result = album.make_album(photos, tmp_path / "f.mp4",
                              Paint(style=["wave", "udnie", "none"], max_side=48),
                              Play(music="none"), Cut(transition="morph", size="96x64"),
                              progress=False, verbose=False)
    assert result.path.exists() and abs(result.duration - 3.0) < 0.05
    morph = seen[0]
    levels = morph(0)
    assert [u for u, _, _ in levels] == [(i + 0.5) / frames.MORPH_LEVELS
                                         for i in range(frames.MORPH_LEVELS)]
    first, last = levels[0][1], levels[-1][1]
    assert first.shape[2] == 3 and np.abs(first.astype(int) - last.astype(int)).mean() > 0.5
    assert morph(1) is None                              # udnie -> none: a crossfade
    assert any("1 of 2 transitions crossfade" in n for n in result.notes)


def test_the_demo_morphs_when_its_styles_share_a_network(bundled):
    assert style_nets.list_bundled_styles() == NAMES
    assert album.demo_styles() == ["starry_night", "wave", "udnie"]
    assert album.demo_transition(album.demo_styles()) == "morph"
    assert album.demo_transition(["wave", "none"]) == "crossfade"


def test_the_bundle_is_one_network_for_the_six_paintings_and_the_demo_morphs():
    from albumlib.style import styles
    assert style_nets.list_bundled() == ["paintings"]
    assert album.demo_styles() == styles.list_styles()
    assert album.demo_transition(album.demo_styles()) == "morph"


def test_the_demo_crossfades_between_one_style_networks(tmp_path):
    files = []
    for name in ("a", "b"):
        net = fast_style.build_transform_net(**TINY)
        files.append(str(style_nets.export(net, tmp_path, name, formats=("npz",))["npz"]))
    assert album.demo_transition(files) == "crossfade"


def test_train_style_takes_the_corpus_and_a_precision(tmp_path, monkeypatch):
    from albumlib.style import fast_train, photo_corpus
    seen = {}

    def fake_train(config, strategy=None, progress=True):
        seen["config"] = config
        net = fast_style.build_transform_net(**TINY)
        history = {"step": [1], "total": [1.0], "content": [1.0], "style": [1.0], "tv": [1.0],
                   "seconds": [0.1]}
        return fast_train.TrainResult(net, history, tmp_path / "o", 0)
    monkeypatch.setattr(fast_train, "train", fake_train)
    monkeypatch.setattr(photo_corpus, "corpus_dir", lambda build=False: paths.data_path("album"))
    assert cli.main(["train-style", "--style", "wave", "--corpus", "--out", str(tmp_path / "o"),
                     "--steps", "1", "--precision", "bfloat16", "--no-progress"]) == 0
    config = seen["config"]
    assert config.data_dir == str(paths.data_path("album")) and config.precision == "bfloat16"
    assert fast_train.resolve_precision(config) == "bfloat16"
    assert style_nets.info(tmp_path / "o" / "wave.npz")["precision"] == "bfloat16"
    assert fast_train.resolve_precision(dataclasses_replace(config, mixed_precision=True)) == "float16"
    assert fast_train.resolve_precision(dataclasses_replace(config, precision="auto")) in \
        ("float32", "bfloat16")
    with pytest.raises(ValueError, match="precision must be"):
        fast_train.resolve_precision(dataclasses_replace(config, precision="int8"))


def test_per_style_weights_reach_the_file_and_the_yardstick(tmp_path, monkeypatch):
    from albumlib.style import quality
    out = tmp_path / "net"
    assert cli.main(["train-style", "--style", "wave", "--style", "udnie", "--style-weights", "2e-5",
                     "7e-5", "--data-dir", str(paths.data_path("album")), "--out", str(out),
                     "--steps", "1", "--crop", "32", "--batch-size", "2", "--filters", "4", "8", "8",
                     "--residual-blocks", "1", "--no-progress"]) == 0
    path = out / "paintings.npz"
    assert style_nets.info(path)["style_weights"] == {"wave": 2e-5, "udnie": 7e-5}
    loss = quality.objective_for(f"{path}:udnie")
    assert loss.weights["style"] == 7e-5
    from albumlib.style import styles
    assert loss.style_image.shape == styles.as_style_image("udnie", 256).shape
    assert not quality.held_out(f"{path}:udnie")          # trained on the album
    with pytest.raises(ValueError, match="a mix of styles"):
        quality.objective_for(f"{path}:udnie=0.5,wave=0.5")
    with pytest.raises(SystemExit, match="2 weights for 3 styles"):
        cli.main(["train-style", "--style", "wave", "--style", "udnie", "--style", "the_scream",
                  "--style-weights", "1e-5", "2e-5", "--data-dir", "x", "--out", str(out)])


def test_outer_kernel_three_is_smaller_and_survives_a_round_trip(tmp_path):
    from albumlib.style import fast_train
    net = fast_style.build_transform_net(filters=(16, 32, 32), residual_blocks=2, n_styles=2,
                                         outer_kernel=3)
    config = fast_style.transform_net_config(net)
    assert config["outer_kernel"] == 3 and "outer_kernel" not in \
        fast_style.transform_net_config(fast_style.build_transform_net(**TINY))
    k9 = dict(filters=(16, 32, 32), residual_blocks=2)
    assert fast_style.count_flops({**k9, "outer_kernel": 3}, 512, 512) < \
        0.8 * fast_style.count_flops(k9, 512, 512)
    path = style_nets.export(net, tmp_path, "k3", info={"styles": ["a", "b"]}, formats=("npz",))["npz"]
    loaded = style_nets.load(path)
    assert fast_style.transform_net_config(loaded) == config
    x = photo()[None]
    s = np.eye(2, dtype=np.float32)[1:]
    np.testing.assert_allclose(np.asarray(loaded([x, s])), np.asarray(net([x, s])), atol=3e-3)
    with pytest.raises(ValueError, match="odd"):
        fast_style.build_transform_net(outer_kernel=4)
    settings = fast_train.network_settings(fast_train.TrainConfig(
        style=["a", "b"], data_dir="", out_dir="", outer_kernel=3))
    assert settings["outer_kernel"] == 3


def test_reduced_precision_repaints_like_float32(tmp_path):
    """stylize --precision: the network rebuilt under bfloat16 gives the float32 picture to within
    a few uint8 levels on average, with the same weights (auto picks by measuring this CPU)."""
    from albumlib.style import fast_style, style_nets
    import keras
    keras.utils.set_random_seed(3)
    net = fast_style.build_transform_net(filters=(8, 8, 8), residual_blocks=1)
    fast = style_nets.in_precision(net, "bfloat16")
    assert fast is not net and fast.compute_dtype == "bfloat16"
    assert style_nets.in_precision(net, "float32") is net
    photo = np.random.default_rng(0).random((1, 32, 40, 3), np.float32)
    a, b = np.asarray(net(photo)), np.asarray(fast(photo))
    assert b.dtype == np.float32 and a.shape == b.shape
    assert np.abs(a - b).mean() < 3 / 255
    assert style_nets.in_precision(net, "auto") is not None
    with pytest.raises(ValueError, match="precision"):
        style_nets.in_precision(net, "int8")


def test_balanced_layer_weights_make_every_layer_add_alike():
    """Per style, each style layer adds the same to the photos' style term, the total unchanged."""
    from albumlib import images
    from albumlib.style import styles
    photos = np.stack([images.resize_to(images.load_image(p, max_side=48), 48, 48)
                       for p in sorted(paths.data_path("album").glob("0[1-3]*.jpg"))])
    loss = fast_style.MultiStylePerceptualLoss(
        [styles.load_style(s, max_side=48) for s in ("starry_night", "wave")], weights="embedded")
    distances = np.asarray(loss.style_distances(photos))
    assert distances.shape == (2, 5) and distances[:, 3].min() > 20 * distances[:, 0].max()
    table = np.asarray(fast_style.balanced_layer_weights(distances))
    shares = table * distances
    np.testing.assert_allclose(shares, shares[:, :1].repeat(5, axis=1), rtol=1e-9)
    np.testing.assert_allclose(shares.sum(axis=1), distances.mean(axis=1), rtol=1e-9)
    # the loss picks each style's own row: its style term on the photos is that same total
    balanced = fast_style.MultiStylePerceptualLoss(
        [styles.load_style(s, max_side=48) for s in ("starry_night", "wave")], weights="embedded",
        style_layer_weights=table.tolist())
    for index in (0, 1):
        got = float(balanced(photos, photos, index)["style"])
        assert got == pytest.approx(float(shares[index].sum()), rel=1e-3)
    with pytest.raises(ValueError, match="shape"):
        fast_style.MultiStylePerceptualLoss(["wave", "udnie"], style_size=32, weights="embedded",
                                            style_layer_weights=[[1.0] * 5])


def test_objective_reads_a_styles_layer_weights(multi, tmp_path):
    """quality.objective_for judges a style by the layer weights it was trained with."""
    from albumlib.style import quality
    rows = {name: [float(i + 1)] * 5 for i, name in enumerate(NAMES)}
    path = style_nets.export(multi, tmp_path, "paintings", formats=("npz",),
                             info={"styles": NAMES, "style": NAMES, "style_layer_weights": rows,
                                   "style_size": 32})["npz"]
    assert quality.objective_for(f"{path}:wave").style_layer_weights == [2.0] * 5
    plain = style_nets.export(multi, tmp_path / "b", "paintings", formats=("npz",),
                              info={"styles": NAMES, "style": NAMES, "style_size": 32})["npz"]
    assert quality.objective_for(f"{plain}:wave").style_layer_weights == [0.2] * 5


@pytest.mark.parametrize("styles_given", [["wave", "udnie"], ["wave"]])
def test_balanced_style_layers_reach_the_file_and_the_yardstick(tmp_path, styles_given):
    """train-style --style-layers balanced: per-style rows (one row for one style) in the file's
    info, and the yardstick's objective uses them."""
    from albumlib.style import quality
    out = tmp_path / "net"
    given = [a for s in styles_given for a in ("--style", s)]
    assert cli.main(["train-style", *given, "--style-layers", "balanced", "--data-dir",
                     str(paths.data_path("album")), "--out", str(out), "--steps", "1", "--crop",
                     "32", "--batch-size", "2", "--filters", "4", "8", "8", "--residual-blocks",
                     "1", "--no-progress"]) == 0
    path = out / ("paintings.npz" if len(styles_given) > 1 else "wave.npz")
    rows = style_nets.info(path)["style_layer_weights"]
    row = rows["wave"] if len(styles_given) > 1 else rows
    assert len(row) == 5 and row[3] < 0.2 < row[0]       # block4_conv1 down, block1_conv1 up
    network = f"{path}:wave" if len(styles_given) > 1 else str(path)
    assert quality.objective_for(network).style_layer_weights == pytest.approx(row)
