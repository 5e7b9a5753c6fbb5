"""Perceptual losses of neural style transfer, in keras.ops (taught in notebook 01).

Definitions (x and y are feature maps of shape (H, W, C) or (B, H, W, C)):

- Gram matrix      G = F^T F, with F the (H*W, C) matrix of the features, divided by H*W*C when
                   normalised, so that its size does not depend on the image size.
- content loss     sum (x - y)^2  (the report's definition; `reduction="mean"` divides by the size).
- style loss       sum over layers l of w_l * sum (G_l(x) - A_l)^2, with A_l the style's Gram.
- total variation  sum over i < H-1, j < W-1 of ((x[i+1,j]-x[i,j])^2 + (x[i,j+1]-x[i,j])^2)^(beta/2).

Notebook 01 writes gram_matrix, content_loss, style_layer_loss, style_loss and
total_variation_loss in `#@save albumlib.style.losses` cells: they must stay identical to the
notebook's (scripts/notebook_code.py, tests/test_notebook_code.py). `check_features` and
`layer_lists` are the bookkeeping they share.
"""

from keras import ops


def check_features(x):
    """x as a tensor of shape (H, W, C) or (B, H, W, C), else a ValueError; used by the losses."""
    x = ops.convert_to_tensor(x)
    if len(x.shape) not in (3, 4):
        raise ValueError(f"expected features of shape (H, W, C) or (B, H, W, C), got {x.shape}")
    return x


def layer_lists(generated, target_grams, layer_weights=None):
    """Lists (features, target Grams, weights) from lists or {layer: ...} dicts; weights 1/L by default."""
    if isinstance(generated, dict):
        names = list(generated)
        generated = [generated[n] for n in names]
        target_grams = [target_grams[n] for n in names]
        if isinstance(layer_weights, dict):
            layer_weights = [layer_weights[n] for n in names]
    if len(generated) != len(target_grams):
        raise ValueError(f"{len(generated)} feature maps but {len(target_grams)} target Grams")
    if layer_weights is None:
        layer_weights = [1.0 / len(generated)] * len(generated)
    if len(layer_weights) != len(generated):
        raise ValueError(f"{len(layer_weights)} layer weights for {len(generated)} layers")
    return list(generated), list(target_grams), list(layer_weights)


def gram_matrix(features, normalize=True):
    """Gram matrix F^T F of (H, W, C) or (B, H, W, C) features, / (H*W*C); taught in notebook 01."""
    x = check_features(features)
    if x.dtype not in ("float32", "float64"):
        x = ops.cast(x, "float32")                    # e.g. float16 features of a mixed-precision net
    channels = x.shape[-1]
    flat = ops.reshape(x, ops.shape(x)[:-3] + (-1, channels))     # F: one row per position, (H*W, C)
    gram = ops.matmul(ops.swapaxes(flat, -1, -2), flat)           # F^T F: (C, C)
    if normalize:
        positions = ops.cast(ops.shape(flat)[-2], gram.dtype)
        gram = gram / (positions * channels)
    return gram


def content_loss(generated, target, reduction="sum"):
    """Sum (or mean) of squared differences between two feature maps; taught in notebook 01."""
    diff = ops.square(ops.convert_to_tensor(generated) - ops.convert_to_tensor(target))
    if reduction == "sum":
        return ops.sum(diff)
    if reduction == "mean":
        return ops.mean(diff)
    raise ValueError(f"reduction must be 'sum' or 'mean', not {reduction!r}")


def style_layer_loss(generated, target_gram, normalize=True):
    """Squared distance between the Gram of `generated` and a target Gram; taught in notebook 01."""
    return ops.sum(ops.square(gram_matrix(generated, normalize) - target_gram))


def style_loss(generated, target_grams, layer_weights=None, normalize=True):
    """Weighted sum over layers of style_layer_loss (lists, or dicts by layer); taught in notebook 01."""
    generated, target_grams, layer_weights = layer_lists(generated, target_grams, layer_weights)
    total = 0.0
    for feats, gram, weight in zip(generated, target_grams, layer_weights):
        total = total + weight * style_layer_loss(feats, gram, normalize)
    return total


def total_variation_loss(x, beta=2.5):
    """Sum over pixels of ((x[i+1,j]-x[i,j])^2 + (x[i,j+1]-x[i,j])^2)^(beta/2); taught in notebook 01."""
    x = check_features(x)
    down = x[..., 1:, :-1, :] - x[..., :-1, :-1, :]     # x[i+1, j] - x[i, j]
    right = x[..., :-1, 1:, :] - x[..., :-1, :-1, :]    # x[i, j+1] - x[i, j]
    squared = ops.square(down) + ops.square(right)
    if beta == 2:
        return ops.sum(squared)
    if beta < 2:        # the gradient of s^(beta/2) at s = 0 is infinite for beta < 2: keep it finite
        squared = squared + 1e-12
    return ops.sum(ops.power(squared, beta / 2.0))
