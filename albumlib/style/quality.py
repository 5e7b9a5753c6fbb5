"""The quality yardstick of Johnson et al. (2016, Fig. 5): a fast network against Gatys' optimisation.

Both are judged by the network's own training objective (fast_style.PerceptualLoss): the network
is as good as N Gatys iterations on a photo when its output's loss is at or below the loss of
Gatys' optimisation of that same objective after N iterations (taught in notebook 02; the table
for the bundled networks is made by benchmarks/bench_fast_quality.py).
"""

from pathlib import Path

import numpy as np

from albumlib.style import fast_style, gatys, style_nets


def objective_for(network, default_size=256):
    """The PerceptualLoss a trained network was trained with (its stored weights); notebook 02.

    `network`: a file, a bundled name, or a style of a multi-style network ("wave",
    "FILE:wave"): its own style weight (info["style_weights"]), style layer weights
    (info["style_layer_weights"]) and painting.
    """
    choice = style_nets.find(network)
    meta = style_nets.info(choice.path)
    weights = dict(meta.get("loss_weights") or {})
    style = meta.get("style") or choice.path.stem   # no info: the file is named after it
    if choice.mix:
        if len(choice.mix) != 1:
            raise ValueError(f"{network}: a mix of styles has no one training objective")
        style = choice.mix[0][0]
        names = style_nets.style_names(choice.path)
        files = meta.get("style_file")
        if isinstance(files, list) and len(files) == len(names):   # the paintings trained on
            style = files[names.index(style)]
        per_style = meta.get("style_weights") or {}
        if choice.mix[0][0] in per_style:
            weights["style"] = per_style[choice.mix[0][0]]
    layer_weights = meta.get("style_layer_weights")
    if isinstance(layer_weights, dict):           # one row per style of a multi-style network
        layer_weights = layer_weights.get(choice.mix[0][0]) if choice.mix else None
    return fast_style.PerceptualLoss(style, content_weight=weights.get("content"),
                                     style_weight=weights.get("style"), tv_weight=weights.get("tv"),
                                     style_layer_weights=layer_weights,
                                     style_size=meta.get("style_size", default_size))


def held_out(network):
    """True where the sample album was not trained on by `network` (its info's data folder)."""
    meta = style_nets.info(style_nets.find(network).path)
    return Path(str(meta.get("data_dir", "album"))).name != "album"


def score(loss, photo, image):
    """Total perceptual loss of `image` as a stylisation of `photo`, a float; notebook 02."""
    return float(loss(photo[None], image[None])["total"])


def gatys_curve(loss, photo, iterations, optimizer="lbfgs", progress=False, init="content"):
    """{N: loss} of Gatys' optimisation of `loss`'s objective after each N in `iterations`; nb 02.

    Same content and style layers, weights and style image as `loss`; starts from the photo
    (init="content") or from white noise (init="noise", as in Gatys' paper).
    Every image is scored by `loss` itself, so the numbers compare directly with `score`.
    Where L-BFGS converges before N, the loss of its final image is reported for N.
    progress: a progress bar over the iterations (notebook 02's long cell).
    """
    wanted = set(int(n) for n in iterations)
    scores = {}

    def callback(step, history, image):
        if step in wanted:
            scores[step] = score(loss, photo, image)

    w = loss.weights
    result = gatys.stylize(photo, loss.style_image, content_weight=w["content"], style_weight=w["style"],
                  tv_weight=w["tv"], content_layers=tuple(loss.content_layers),
                  style_layers=tuple(loss.style_layers), style_layer_weights=loss.style_layer_weights,
                  steps=max(wanted), image_size=max(photo.shape[:2]), optimizer=optimizer,
                  init=init, progress=progress, callback=callback, callback_every=1)
    final = None
    for n in wanted - set(scores):  # L-BFGS stopped early (converged): its last image stands
        final = score(loss, photo, result.image) if final is None else final
        scores[n] = final
    return dict(sorted(scores.items()))


def first_reach(curve, target):
    """Smallest N of `curve` at which Gatys' loss is at or below `target`, else None; notebook 02."""
    hits = [n for n in sorted(curve) if curve[n] <= target]
    return hits[0] if hits else None


# --------------------------------------------------------------------------- how much painting, how much photo

DISTANCE_CONTENT_LAYER = "block4_conv2"          # notebook 01's content layer: objects and layout
DISTANCE_STYLE_LAYERS = fast_style.STYLE_LAYERS


def distance_extractor(weights="auto"):
    """The VGG19 features of painting_distances, built once (notebook 02)."""
    from albumlib.style import vgg
    return vgg.feature_extractor((DISTANCE_CONTENT_LAYER,) + tuple(DISTANCE_STYLE_LAYERS),
                                 weights=weights)


def painting_distances(image, photo, painting, extractor=None):
    """How far a repainted photo is from the photo and from the painting, by VGG19 (notebook 02).

    content: mean squared block4_conv2 difference to the photo, as a share of the painting's own
    (the painting resized to the photo's shape): 0 keeps the photo's objects exactly, 1 is as far
    from them as the painting itself. style: at each of block1_conv1 ... block5_conv1 the squared
    Gram difference to the painting as a share of the photo's own, averaged over the five layers:
    0 is the painting's colour and texture statistics, 1 is no more painterly than the photo. (Each
    layer counts alike: summed unscaled, block4_conv1's Grams, 100-1000x the others', outweighed
    the colours and brush strokes of blocks 1-3, and a tinted photo passed for a painting.) A judge
    independent of any network's training objective (other layers, no weights), for comparing
    networks and tools.
    """
    from albumlib import images
    from albumlib.style import losses
    extractor = extractor or distance_extractor()
    photo = images.as_rgb(photo)
    image = images.resize_to(images.as_rgb(image), photo.shape[1], photo.shape[0])
    art = images.as_rgb(painting)
    art_as_photo = images.resize_to(art, photo.shape[1], photo.shape[0])
    feats = {name: extractor(x[None]) for name, x in
             (("image", image), ("photo", photo), ("art_as_photo", art_as_photo), ("art", art))}

    def content(a, b):
        diff = np.asarray(feats[a][DISTANCE_CONTENT_LAYER]) - np.asarray(feats[b][DISTANCE_CONTENT_LAYER])
        return float(np.mean(np.square(diff)))

    def style(a, b, layer):
        return float(np.sum(np.square(np.asarray(losses.gram_matrix(feats[a][layer]))
                                      - np.asarray(losses.gram_matrix(feats[b][layer])))))

    shares = [style("image", "art", n) / max(style("photo", "art", n), 1e-12)
              for n in DISTANCE_STYLE_LAYERS]
    return {"content": content("image", "photo") / max(content("art_as_photo", "photo"), 1e-12),
            "style": float(np.mean(shares))}


# --------------------------------------------------------------------------- colours from nowhere

OFF_PALETTE_TOLERANCE = 0.2     # RGB distance (0-1 scale): further than this from every colour


def off_palette(image, photo, painting, tolerance=OFF_PALETTE_TOLERANCE, samples=20000, seed=0):
    """Share of a repainted photo's pixels whose colour is in neither the painting nor the photo:
    the flat black or red "droplets" a normalising network can paint (notebook 02).

    A pixel counts when its RGB colour is further than `tolerance` from every colour of both
    (up to `samples` pixels of each, drawn at random). A good repainting scores near 0; the
    measure catches what the VGG19 distances average away.
    """
    from scipy.spatial import cKDTree
    from albumlib import images
    rng = np.random.default_rng(seed)

    def colours(a, n):
        px = images.to_float32(images.as_rgb(a)).reshape(-1, 3)
        return px if len(px) <= n else px[rng.choice(len(px), n, replace=False)]
    palette = cKDTree(np.concatenate([colours(painting, samples), colours(photo, samples)]))
    pixels = images.to_float32(images.as_rgb(image)).reshape(-1, 3)
    distance, _ = palette.query(pixels, k=1, distance_upper_bound=tolerance)
    return float(np.mean(~np.isfinite(distance)))


def dark_holes(image, photo, black=0.06, lit=0.25, size=9):
    """Share of a repainted photo's pixels that are black (every channel below `black`) where the
    photo is not dark (its mean brightness over `size` px above `lit`): the black droplets a
    normalising network can paint, which off_palette misses when black is a painting's colour too
    (notebook 02)."""
    from scipy.ndimage import uniform_filter
    from albumlib import images
    photo = images.to_float32(images.as_rgb(photo))
    image = images.resize_to(images.to_float32(images.as_rgb(image)), photo.shape[1], photo.shape[0])
    lit_photo = uniform_filter(photo.mean(-1), size=size, mode="nearest") > lit
    return float(np.mean((image.max(-1) < black) & lit_photo))
