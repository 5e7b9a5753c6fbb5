"""The quality yardstick: a trained network's own objective, and Gatys' optimisation of it."""

import numpy as np
import pytest

from albumlib.style import fast_style, quality, style_nets


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A tiny network exported with the info the bundled ones carry (weights, style size)."""
    model = fast_style.build_transform_net(filters=(8, 16, 16), residual_blocks=1)
    info = {"style": "the_scream", "style_size": 48,
            "loss_weights": {"content": 2.0, "style": 3e-5, "tv": 1e5}}
    return style_nets.export(model, tmp_path_factory.mktemp("nets"), "tiny", info,
                             formats=("npz",))["npz"]


@pytest.fixture(scope="module")
def photo():
    from albumlib import images, paths
    return images.load_image(paths.data_path("holdout", "camera.jpg"), max_side=40)


def test_objective_uses_the_stored_weights_style_and_size(exported):
    loss = quality.objective_for(exported)
    assert loss.weights == {"content": 2.0, "style": 3e-5, "tv": 1e5}
    assert max(loss.style_image.shape[:2]) == 48
    assert tuple(loss.content_layers) == fast_style.CONTENT_LAYERS


def test_objective_falls_back_to_defaults_without_info(tmp_path):
    model = fast_style.build_transform_net(filters=(8, 16, 16), residual_blocks=1)
    path = style_nets.export(model, tmp_path, "starry_night", {}, formats=("npz",))["npz"]
    loss = quality.objective_for(path, default_size=32)
    assert loss.weights == fast_style.DEFAULT_WEIGHTS
    assert max(loss.style_image.shape[:2]) == 32


def test_score_is_the_loss_total_and_zero_content_for_the_photo(exported, photo):
    loss = quality.objective_for(exported)
    terms = loss(photo[None], photo[None])
    assert quality.score(loss, photo, photo) == pytest.approx(float(terms["total"]), rel=1e-6)
    assert float(terms["content"]) == pytest.approx(0.0, abs=1e-3)
    noisy = np.clip(photo + np.random.default_rng(0).normal(0, 0.2, photo.shape), 0, 1).astype(np.float32)
    assert quality.score(loss, photo, noisy) > quality.score(loss, photo, photo)


def test_gatys_curve_lowers_the_same_objective(exported, photo):
    loss = quality.objective_for(exported)
    start = quality.score(loss, photo, photo)     # Gatys starts from the photo
    curve = quality.gatys_curve(loss, photo, [3, 8])
    assert sorted(curve) == [3, 8]
    assert curve[8] <= curve[3] < start
    noise = quality.gatys_curve(loss, photo, [3], init="noise")     # Gatys' paper: from noise
    assert noise[3] > curve[3]         # far from the photo after 3 steps: a higher loss


def test_first_reach():
    curve = {50: 9.0, 100: 5.0, 300: 2.0}
    assert quality.first_reach(curve, 6.0) == 100
    assert quality.first_reach(curve, 9.0) == 50
    assert quality.first_reach(curve, 1.0) is None


def test_painting_distances_have_known_answers():
    """The photo itself: content 0, style 1; the painting itself: content 1, style far below."""
    from albumlib import images, paths
    from albumlib.style import styles
    extractor = quality.distance_extractor(weights="embedded")
    photo = images.load_image(paths.data_path("holdout", "camera.jpg"), max_side=64)
    painting = styles.as_style_image("wave", 64)
    same = quality.painting_distances(photo, photo, painting, extractor)
    assert same["content"] == 0.0 and abs(same["style"] - 1.0) < 1e-6
    art = images.resize_to(painting, photo.shape[1], photo.shape[0])
    itself = quality.painting_distances(art, photo, painting, extractor)
    assert abs(itself["content"] - 1.0) < 1e-6 and itself["style"] < 0.6   # (resized: not 0)
    halfway = quality.painting_distances(0.5 * photo + 0.5 * art, photo, painting, extractor)
    assert 0 < halfway["content"] < 1 and itself["style"] < halfway["style"] < 1


def test_off_palette_counts_colours_from_neither_painting_nor_photo():
    rng = np.random.default_rng(1)
    painting = np.stack([rng.uniform(0.0, 0.3, (64, 64)), rng.uniform(0.2, 0.5, (64, 64)),
                         rng.uniform(0.5, 0.9, (64, 64))], -1).astype(np.float32)     # blues
    photo = np.full((48, 60, 3), 0.6, np.float32)                                       # grey
    repainted = painting[:48, :60].copy()
    assert quality.off_palette(repainted, photo, painting) == 0.0
    yy, xx = np.mgrid[:48, :60]
    drop = (yy - 20) ** 2 + (xx - 30) ** 2 < 8 ** 2                                      # a red droplet
    repainted[drop] = (0.95, 0.05, 0.1)
    assert abs(quality.off_palette(repainted, photo, painting) - drop.mean()) < 1e-6
    repainted[drop] = 0.6                                                               # the photo's grey
    assert quality.off_palette(repainted, photo, painting) == 0.0
    assert quality.off_palette((repainted * 255).astype(np.uint8), photo, painting) == 0.0


def test_dark_holes_are_black_where_the_photo_is_lit():
    photo = np.full((40, 50, 3), 0.7, np.float32)
    photo[:, :10] = 0.02                                          # a dark margin in the photo
    repainted = np.full_like(photo, 0.5)
    repainted[:, :5] = 0.0                                        # black where the photo is dark: fine
    assert quality.dark_holes(repainted, photo) == 0.0
    repainted[20:26, 30:36] = 0.01                                # a black droplet on the lit part
    assert abs(quality.dark_holes(repainted, photo) - 36 / 2000) < 1e-9


def test_every_style_layer_counts_alike():
    """A picture with the painting's colours and strokes (blocks 1-3, 5) but the photo's block4
    statistics is mostly painted: 1/5 of the way back to the photo, not all of it, although
    block4's Gram matrices are 1000x the others' (the old summed measure called it a photo)."""
    rng = np.random.default_rng(0)
    layers = (quality.DISTANCE_CONTENT_LAYER,) + tuple(quality.DISTANCE_STYLE_LAYERS)
    scale = {n: 1000.0 if n == "block4_conv1" else 1.0 for n in layers}
    feats = {kind: {n: (rng.normal(size=(1, 4, 4, 3)) * scale[n]).astype(np.float32) for n in layers}
             for kind in ("photo", "art")}
    feats["image"] = {n: feats["photo" if n in ("block4_conv1", layers[0]) else "art"][n]
                      for n in layers}

    def extractor(batch):                     # which picture it is, by its grey level
        return feats[{2: "photo", 8: "art", 5: "image"}[round(float(batch.mean()) * 10)]]

    photo, art, image = (np.full((8, 8, 3), v, np.float32) for v in (0.2, 0.8, 0.5))
    d = quality.painting_distances(image, photo, art, extractor)
    assert d["content"] == 0.0
    assert abs(d["style"] - 0.2) < 1e-6
