"""Gatys et al.'s neural style transfer: optimise the pixels of an image (taught in notebook 01).

The image x minimises  a * content(x) + b * style(x) + c * TV(x), where the content term compares
VGG19 features of x and the photo at the content layers, the style term compares Gram matrices of x
and of the painting(s) at the style layers, and TV smooths the result (see albumlib.style.losses).

Notebook 01 writes `make_loss_fn` (the weighted sum of the three losses) and `gatys_adam` (Adam
on the pixels) in `#@save albumlib.style.gatys` cells, and `stylize` runs exactly that code
(scripts/notebook_code.py, tests/test_notebook_code.py); around it `stylize` adds the options,
the blend of several paintings, L-BFGS, colour preservation and the progress bar.

The losses are keras.ops code; only `gatys_adam` and `_value_and_grad` are backend-specific
(TensorFlow's GradientTape), since Keras 3 has no backend-neutral gradient function.
"""

import dataclasses
import time

import keras
import numpy as np
import tensorflow as tf

from albumlib import images
from albumlib.style import color, losses
from albumlib.style.styles import as_style_image
from albumlib.profiles import get_profile

CONTENT_LAYERS = ("block4_conv2",)
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
DEFAULT_WEIGHTS = {"content": 1.0, "style": 3e-4, "tv": 3e6}


@dataclasses.dataclass
class GatysResult:
    """What `stylize` returns: the repainted image (H, W, 3) in [0, 1] and its loss history."""

    image: np.ndarray
    history: dict           # per step: total, content, style, tv losses and seconds
    seconds: float
    settings: dict

    @property
    def seconds_per_step(self):
        """Mean wall time of one optimisation step."""
        return self.seconds / max(1, len(self.history["total"]))


def _blend_grams(extractor, style_images, blend_weights, layers):
    """Target Grams: the blend-weighted mean of each style image's Gram matrices; notebook 01."""
    if blend_weights is None:
        blend_weights = [1.0] * len(style_images)
    if len(blend_weights) != len(style_images) or min(blend_weights) < 0 or sum(blend_weights) <= 0:
        raise ValueError(f"need one non-negative blend weight per style image, got {blend_weights}")
    total = float(sum(blend_weights))
    targets = {name: 0.0 for name in layers}
    for image, weight in zip(style_images, blend_weights):
        feats = extractor(image[None])
        for name in layers:
            targets[name] = targets[name] + (weight / total) * losses.gram_matrix(feats[name])[0]
    return targets


def make_loss_fn(extractor, content_image, target_grams, content_layers, style_layers, weights,
                 style_layer_weights=None):
    """Return loss(image) -> (total, content, style, tv) for a batch of one image; taught in notebook 01."""
    content_targets = extractor(content_image[None])

    def loss_fn(image):
        feats = extractor(image)
        c = sum(losses.content_loss(feats[n], content_targets[n], reduction="mean")
                for n in content_layers) / len(content_layers)
        s = losses.style_loss([feats[n] for n in style_layers], [target_grams[n] for n in style_layers],
                              style_layer_weights)
        tv = losses.total_variation_loss(image) / (image.shape[1] * image.shape[2])   # per pixel
        total = weights["content"] * c + weights["style"] * s + weights["tv"] * tv
        return total, c, s, tv

    return loss_fn


def gatys_adam(loss_fn, image, steps, learning_rate=0.02, on_step=None):
    """Adam on the pixels of an (H, W, 3) image, kept in [0, 1]; returns the image; taught in notebook 01."""
    pixels = tf.Variable(image[None])            # what we optimise: a batch of one image
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=0.99, epsilon=0.1)

    @tf.function                                 # compiled once, then fast
    def step():
        with tf.GradientTape() as tape:
            terms = loss_fn(pixels)              # (total, content, style, tv)
        optimizer.apply_gradients([(tape.gradient(terms[0], pixels), pixels)])
        pixels.assign(tf.clip_by_value(pixels, 0.0, 1.0))
        return terms

    for i in range(steps):
        terms = step()
        if on_step is not None:                  # on_step(i, terms, get_image): history, plots
            on_step(i, terms, lambda: pixels.numpy()[0])
    return pixels.numpy()[0]


def _value_and_grad(loss_fn):
    """Compile image -> ((total, content, style, tv), d total / d image) with TensorFlow (L-BFGS)."""

    @tf.function(reduce_retracing=True)
    def step(image):
        with tf.GradientTape() as tape:
            tape.watch(image)
            terms = loss_fn(image)
        return terms, tape.gradient(terms[0], image)

    return step


def _run_lbfgs(value_and_grad, x0, steps, on_step):
    """L-BFGS-B from scipy on the pixels, with bounds [0, 1] (jcjohnson/neural-style's default)."""
    import scipy.optimize
    shape = (1,) + x0.shape
    state = {"i": 0, "terms": None}

    def fun(flat):
        terms, grad = value_and_grad(tf.constant(flat.reshape(shape), tf.float32))
        state["terms"] = terms
        return float(terms[0]), grad.numpy().astype(np.float64).ravel()

    def callback(xk):
        on_step(state["i"], state["terms"], lambda: xk.reshape(x0.shape).astype(np.float32))
        state["i"] += 1

    result = scipy.optimize.minimize(
        fun, x0.astype(np.float64).ravel(), jac=True, method="L-BFGS-B",
        bounds=[(0.0, 1.0)] * x0.size, callback=callback,
        options={"maxiter": steps, "maxfun": int(steps * 1.25) + 5})
    return result.x.reshape(x0.shape).astype(np.float32)


def stylize(content, styles, *, blend_weights=None, content_weight=None, style_weight=None,
            tv_weight=None, content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS,
            style_layer_weights=None, steps=None, image_size=None, style_scale=1.0, init="content",
            optimizer=None, learning_rate=0.02, preserve_color=False, seed=0, weights="auto",
            progress=True, callback=None, callback_every=10):
    """Repaint `content` in the style of `styles` by optimisation; returns a GatysResult; notebook 01.

    content: path or RGB array. styles: one or a list of bundled style names, paths or arrays,
    mixed by `blend_weights`. Unset sizes and step counts come from the active profile.
    callback(step, history, image) is called every `callback_every` steps (live plots).
    """
    from albumlib.style import vgg
    profile = get_profile()
    steps = profile.gatys_steps if steps is None else int(steps)
    image_size = profile.image_size if image_size is None else int(image_size)
    optimizer = (optimizer or profile.gatys_optimizer).lower()
    if optimizer not in ("adam", "lbfgs"):
        raise ValueError(f"optimizer must be 'adam' or 'lbfgs', not {optimizer!r}")
    if init not in ("content", "noise"):
        raise ValueError(f"init must be 'content' or 'noise', not {init!r}")
    weights_ = {"content": DEFAULT_WEIGHTS["content"] if content_weight is None else content_weight,
                "style": DEFAULT_WEIGHTS["style"] if style_weight is None else style_weight,
                "tv": DEFAULT_WEIGHTS["tv"] if tv_weight is None else tv_weight}

    photo = images.as_rgb(content, image_size, "content image")
    style_images = _style_images(styles, photo, image_size, style_scale, preserve_color)

    extractor = vgg.feature_extractor(tuple(dict.fromkeys(content_layers + style_layers)), weights=weights)
    targets = _blend_grams(extractor, style_images, blend_weights, style_layers)
    loss_fn = make_loss_fn(extractor, photo, targets, content_layers, style_layers, weights_,
                           style_layer_weights)

    rng = np.random.default_rng(seed)
    x0 = photo.copy() if init == "content" else rng.uniform(0, 1, photo.shape).astype(np.float32)
    history = {"total": [], "content": [], "style": [], "tv": [], "seconds": []}
    bar = _progress(steps, progress)
    clock = [time.perf_counter()]
    on_step = _step_recorder(history, bar, clock, steps, callback, callback_every)
    start = clock[0] = time.perf_counter()
    try:
        if optimizer == "adam":
            out = gatys_adam(loss_fn, x0, steps, learning_rate, on_step)
        else:
            out = _run_lbfgs(_value_and_grad(loss_fn), x0, steps, on_step)
    finally:
        bar.close()
    seconds = time.perf_counter() - start
    if preserve_color:
        out = color.transfer_luminance(out, photo)
    settings = dict(steps=steps, image_size=image_size, optimizer=optimizer, init=init,
                    weights=weights_, content_layers=tuple(content_layers),
                    style_layers=tuple(style_layers), preserve_color=preserve_color,
                    learning_rate=learning_rate, weights_source=getattr(extractor, "weights_source", None))
    return GatysResult(image=np.clip(out, 0.0, 1.0), history=history, seconds=seconds, settings=settings)


def _style_images(styles, photo, image_size, style_scale, preserve_color):
    """The style images at `style_scale` of the image size (luminance matched to `photo`)."""
    style_list = styles if isinstance(styles, (list, tuple)) else [styles]
    style_images = [as_style_image(s, max(16, int(round(image_size * style_scale))))
                    for s in style_list]
    if preserve_color:
        style_images = [color.match_luminance(s, photo) for s in style_images]
    return style_images


def _step_recorder(history, bar, clock, steps, callback, callback_every):
    """The optimisers' on_step(i, terms, get_image): history, seconds since `clock[0]`, callback."""
    def on_step(i, terms, get_image):
        for key, value in zip(("total", "content", "style", "tv"), terms):
            history[key].append(float(value))
        now = time.perf_counter()
        history["seconds"].append(now - clock[0])
        clock[0] = now
        bar.update(1)
        bar.set_postfix(loss=f"{history['total'][-1]:.4g}", refresh=False)
        if callback is not None and ((i + 1) % callback_every == 0 or i + 1 == steps):
            callback(i + 1, history, get_image())

    return on_step


def _progress(total, enabled):
    """A tqdm progress bar (notebook-aware) for the optimisation steps."""
    from tqdm.auto import tqdm
    return tqdm(total=total, desc="Gatys", unit="step", disable=not enabled, leave=False)
