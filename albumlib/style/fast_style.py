"""Fast style transfer: Johnson et al.'s feed-forward transform network (taught in notebook 02).

Gatys' method (notebook 01) optimises the pixels of every photo, hundreds of VGG passes each.
Johnson, Alahi and Fei-Fei (2016) train a network once per style instead, with the same kind of loss
(their "perceptual loss"); afterwards one forward pass repaints a photo. Ulyanov et al. (2016)
showed that instance normalisation in place of batch normalisation makes the results much better.

The transform network (`build_transform_net`), for RGB images in [0, 1] of any size:

    pad (reflect) to a multiple of 4
    9x9 conv 32, stride 1  -> IN -> ReLU          full resolution
    3x3 conv 64, stride 2  -> IN -> ReLU          1/2
    3x3 conv 128, stride 2 -> IN -> ReLU          1/4
    5 residual blocks: 3x3 conv 128 -> IN -> ReLU -> 3x3 conv 128 -> IN, plus the input
    upsample x2 -> 3x3 conv 64 -> IN -> ReLU      1/2
    upsample x2 -> 3x3 conv 32 -> IN -> ReLU      full resolution
    9x9 conv 3 -> sigmoid                          RGB in (0, 1)
    crop back to the input's size

Every convolution is "valid" after an explicit reflection padding, so no zero borders enter the
network. Upsampling is nearest-neighbour resizing followed by a stride-1 convolution ("resize", the
default, as in pytorch/examples and magenta); "transpose" uses the report's fractionally strided
convolutions (Conv2DTranspose, stride 2), whose uneven kernel overlap paints checkerboard artefacts.

Output squashing: a sigmoid. Johnson scales a tanh to the pixel range; (tanh(z) + 1) / 2 equals
sigmoid(2 z), so both are the same family of functions and the sigmoid gives [0, 1] directly, which
is the range of our images and of vgg.feature_extractor's input.

The perceptual loss (`PerceptualLoss`) compares VGG19 features: content at block2_conv2 (Johnson's
relu2_2), style Grams at block1_conv1 ... block5_conv1 (notebook 01's STYLE_LAYERS), plus total
variation. All model and loss code is keras.layers / keras.ops, so it runs on any Keras backend.
"""

import keras
import numpy as np
from keras import ops

from albumlib import images
from albumlib.style import losses, styles

# VGG19 layers of the perceptual loss (see PerceptualLoss for the reasons).
CONTENT_LAYERS = ("block2_conv2",)
STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")
# Magnitudes measured at 256 px, style weight calibrated by eye on data/holdout (see PerceptualLoss).
DEFAULT_WEIGHTS = {"content": 1.0, "style": 1.5e-5, "tv": 3e5}

DEFAULT_FILTERS = (32, 64, 128)
UPSAMPLE_MODES = ("resize", "transpose")
SIZE_MULTIPLE = 4       # two stride-2 convolutions: the network works on multiples of 4
MIN_SIDE = 5            # smaller images cannot be reflection-padded by the 9x9 convolutions
IN_EPSILON = 1e-5


def _pair(value, what):
    """Return (a, b) from an int or a pair of ints (taught in notebook 02)."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"{what} must be an int or a pair of ints, got {value!r}")
        a, b = (int(v) for v in value)
    else:
        a = b = int(value)
    if a < 0 or b < 0:
        raise ValueError(f"{what} must be non-negative, got {value!r}")
    return a, b


# --------------------------------------------------------------------------- layers


@keras.saving.register_keras_serializable(package="albumlib")
class ReflectionPad2D(keras.layers.Layer):
    """Pad H and W by mirroring the image, edge pixel not repeated (taught in notebook 02).

    `pad` is an int or (rows, cols); each side gets that many pixels. It must be smaller than the
    image side (a reflection needs that many pixels to mirror).
    """

    def __init__(self, pad=1, **kwargs):
        """Remember the padding (taught in notebook 02)."""
        super().__init__(**kwargs)
        self.pad = _pair(pad, "pad")

    def call(self, inputs):
        """Mirror-pad the two spatial axes with ops.pad(mode="reflect") (taught in notebook 02)."""
        ph, pw = self.pad
        return ops.pad(inputs, [[0, 0], [ph, ph], [pw, pw], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        """Spatial sides grow by twice the padding; unknown sides stay unknown (notebook 02)."""
        b, h, w, c = input_shape
        ph, pw = self.pad
        return (b, None if h is None else h + 2 * ph, None if w is None else w + 2 * pw, c)

    def get_config(self):
        """Config for saving (taught in notebook 02)."""
        return {**super().get_config(), "pad": list(self.pad)}


def instance_normalize(x, gamma, beta, epsilon=IN_EPSILON):
    """Normalise each image's channels over H, W, then scale and shift (taught in notebook 02)."""
    mean, variance = ops.moments(x, axes=(1, 2), keepdims=True)     # per image and channel
    mean, variance = ops.cast(mean, "float32"), ops.cast(variance, "float32")  # even in float16
    # y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, folded into one multiply-add
    # x * a + b per channel: two passes over the full-size tensor instead of four.
    a = ops.rsqrt(variance + epsilon) * gamma
    b = beta - mean * a
    return x * ops.cast(a, x.dtype) + ops.cast(b, x.dtype)


def conditional_instance_normalize(x, style, scale, offset, epsilon=IN_EPSILON):
    """Instance norm with the (gamma, beta) of a style, or of a mix (taught in notebook 02)."""
    # style: (B, n_styles) weights, one-hot or a convex mix; scale, offset: (n_styles, C), a row
    # per style. style @ scale picks a row, or mixes the rows with the style's weights.
    style = ops.cast(style, "float32")
    gamma = ops.matmul(style, ops.cast(scale, "float32"))[:, None, None, :]    # (B, 1, 1, C)
    beta = ops.matmul(style, ops.cast(offset, "float32"))[:, None, None, :]
    return instance_normalize(x, gamma, beta, epsilon)


@keras.saving.register_keras_serializable(package="albumlib")
class InstanceNormalization(keras.layers.Layer):
    """Normalise each channel of each image over H, W, then scale and shift (taught in notebook 02).

    y = (x - mean_hw(x)) / sqrt(var_hw(x) + epsilon) * scale + offset, with a learnt scale (init 1)
    and offset (init 0) per channel (Ulyanov et al., 2016). Unlike batch norm it uses no batch
    statistics, so training and inference compute the same thing. It equals
    keras.layers.GroupNormalization(groups=-1, epsilon=1e-5) (one group per channel); we write it
    out because it is the formula notebook 02 teaches, and its name reads better in a summary.
    """

    def __init__(self, epsilon=IN_EPSILON, **kwargs):
        """Remember epsilon (taught in notebook 02)."""
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        """Create one scale and one offset per channel (taught in notebook 02)."""
        channels = input_shape[-1]
        if channels is None:
            raise ValueError("InstanceNormalization needs a known number of channels")
        self.scale = self.add_weight(shape=(channels,), initializer="ones", name="scale")
        self.offset = self.add_weight(shape=(channels,), initializer="zeros", name="offset")

    def call(self, inputs):
        """instance_normalize of (B, H, W, C) inputs with this layer's scale and offset (nb 02)."""
        return instance_normalize(inputs, ops.cast(self.scale, "float32"),
                                  ops.cast(self.offset, "float32"), self.epsilon)

    def compute_output_shape(self, input_shape):
        """Same shape in, same shape out (taught in notebook 02)."""
        return input_shape

    def get_config(self):
        """Config for saving (taught in notebook 02)."""
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="albumlib")
class ConditionalInstanceNormalization(keras.layers.Layer):
    """Instance norm with one (scale, offset) pair per style, picked or mixed per image (nb 02).

    Dumoulin, Shlens and Kudlur (2017): call([x, style]) with style (B, n_styles) weights, one-hot
    for one style or a convex mix; gamma = style @ scale and beta = style @ offset, then
    y = (x - mean_hw(x)) / sqrt(var_hw(x) + epsilon) * gamma + beta. Mixing the pairs mixes the
    styles, and a new style is a new pair learnt on top of the shared convolutions.
    """

    def __init__(self, n_styles, epsilon=IN_EPSILON, **kwargs):
        """Remember the number of styles and epsilon (taught in notebook 02)."""
        super().__init__(**kwargs)
        self.n_styles = int(n_styles)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        """Create a (n_styles, C) scale (ones) and offset (zeros) (taught in notebook 02)."""
        channels = input_shape[0][-1]
        if channels is None:
            raise ValueError("ConditionalInstanceNormalization needs a known number of channels")
        shape = (self.n_styles, channels)
        self.scale = self.add_weight(shape=shape, initializer="ones", name="scale")
        self.offset = self.add_weight(shape=shape, initializer="zeros", name="offset")

    def call(self, inputs):
        """conditional_instance_normalize of [x, style] with this layer's pairs (notebook 02)."""
        x, style = inputs
        return conditional_instance_normalize(x, style, self.scale, self.offset, self.epsilon)

    def compute_output_shape(self, input_shape):
        """x's shape (taught in notebook 02)."""
        return input_shape[0]

    def get_config(self):
        """Config for saving (taught in notebook 02)."""
        return {**super().get_config(), "n_styles": self.n_styles, "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="albumlib")
class PadToMultiple(keras.layers.Layer):
    """Reflect-pad the bottom and right so that H and W are multiples of `multiple` (notebook 02).

    The sizes are read with ops.shape at run time, so one model takes photos of any size, also
    inside a compiled graph where the sides are unknown until the data arrives.
    """

    def __init__(self, multiple=SIZE_MULTIPLE, **kwargs):
        """Remember the multiple (taught in notebook 02)."""
        super().__init__(**kwargs)
        self.multiple = int(multiple)

    def call(self, inputs):
        """Pad by (-side) mod multiple rows and columns (taught in notebook 02)."""
        shape = ops.shape(inputs)
        ph, pw = (-shape[1]) % self.multiple, (-shape[2]) % self.multiple
        return ops.pad(inputs, [[0, 0], [0, ph], [0, pw], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        """Known sides round up to the multiple; unknown sides stay unknown (notebook 02)."""
        b, h, w, c = input_shape
        up = lambda side: None if side is None else side + (-side) % self.multiple  # noqa: E731
        return (b, up(h), up(w), c)

    def get_config(self):
        """Config for saving (taught in notebook 02)."""
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="albumlib")
class CropToMatch(keras.layers.Layer):
    """Crop [x, reference] to x's top-left H x W, H, W the reference's (taught in notebook 02)."""

    def call(self, inputs):
        """Undo PadToMultiple: keep the first H rows and W columns (taught in notebook 02)."""
        x, reference = inputs
        shape = ops.shape(reference)
        return x[:, :shape[1], :shape[2], :]

    def compute_output_shape(self, input_shape):
        """The reference's H and W with x's batch and channels (taught in notebook 02)."""
        x_shape, ref_shape = input_shape
        return (x_shape[0], ref_shape[1], ref_shape[2], x_shape[3])


@keras.saving.register_keras_serializable(package="albumlib")
class StyleMix(keras.layers.Layer):
    """A constant (B, n_styles) style input for a multi-style network (style_nets.bind; nb 02)."""

    def __init__(self, vector, **kwargs):
        """Remember the mix's weights (a variable: `set_mix` changes them without a retrace)."""
        super().__init__(**kwargs)
        self.vector = [float(v) for v in np.ravel(vector)]
        self.mix = self.add_weight(shape=(len(self.vector),), trainable=False, name="mix",
                                   initializer=keras.initializers.Constant(self.vector))

    def call(self, photo):
        """The weights, once per photo of the batch."""
        return ops.repeat(ops.cast(self.mix, "float32")[None], ops.shape(photo)[0], axis=0)

    def compute_output_shape(self, input_shape):
        """(batch, n_styles)."""
        return (input_shape[0], len(self.vector))

    def get_config(self):
        """Config for saving."""
        return {**super().get_config(), "vector": self.vector}


# --------------------------------------------------------------------------- building blocks


def instance_norm(x, name, style=None):
    """Instance norm, or conditional instance norm given a style input (taught in notebook 02)."""
    if style is None:                               # one style: a learnt (gamma, beta)
        return InstanceNormalization(name=f"{name}_in")(x)
    n_styles = style.shape[-1]                      # several: a (gamma, beta) row per style
    return ConditionalInstanceNormalization(n_styles, name=f"{name}_in")([x, style])


def conv_layer(x, filters, kernel_size, stride=1, name="conv", norm_relu=True, style=None):
    """Reflect-pad, convolve ("valid"), then instance norm + ReLU if asked (taught in notebook 02).

    The conv keeps its bias, as in pytorch/examples (hence 1,679,235 parameters), although the
    instance norm that follows subtracts it again: it gets no gradient and stays at zero.
    """
    x = ReflectionPad2D(kernel_size // 2, name=f"{name}_pad")(x)
    x = keras.layers.Conv2D(filters, kernel_size, strides=stride, padding="valid",
                            name=f"{name}_conv")(x)
    if norm_relu:
        x = instance_norm(x, name, style)
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return x


def residual_block(x, filters=128, name="res", style=None):
    """3x3 conv - IN - ReLU - 3x3 conv - IN, plus the input (taught in notebook 02)."""
    y = conv_layer(x, filters, 3, name=f"{name}_a", style=style)       # pad, conv, IN, ReLU
    y = ReflectionPad2D(1, name=f"{name}_b_pad")(y)
    y = keras.layers.Conv2D(filters, 3, padding="valid", name=f"{name}_b_conv")(y)
    y = instance_norm(y, f"{name}_b", style)                           # no ReLU here
    return keras.layers.Add(name=f"{name}_add")([x, y])                # the shortcut: x + F(x)


def upsample_layer(x, filters, mode="resize", name="up", style=None):
    """Double H and W: resize-convolution or transposed convolution, then IN + ReLU (notebook 02).

    "resize": nearest-neighbour x2, reflect pad, 3x3 conv stride 1 - every output pixel sees the
    same number of kernel taps, so no checkerboard. "transpose": Conv2DTranspose 3x3 stride 2 (the
    report's fractionally strided convolution): even and odd output pixels receive different numbers
    of taps, which draws a checkerboard; its "same" padding is implicit zero padding.
    """
    if mode == "resize":
        x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_resize")(x)
        return conv_layer(x, filters, 3, name=name, style=style)
    if mode == "transpose":
        x = keras.layers.Conv2DTranspose(filters, 3, strides=2, padding="same",
                                         name=f"{name}_transpose")(x)
        x = instance_norm(x, name, style)
        return keras.layers.ReLU(name=f"{name}_relu")(x)
    raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, not {mode!r}")


def _check_config(upsample, filters, residual_blocks, n_styles=None, outer_kernel=9):
    """Validate and normalise the transform net's settings (taught in notebook 02)."""
    if int(outer_kernel) != outer_kernel or outer_kernel < 1 or outer_kernel % 2 == 0:
        raise ValueError(f"outer_kernel must be an odd number of pixels, got {outer_kernel!r}")
    if n_styles is not None and int(n_styles) < 1:
        raise ValueError(f"n_styles must be >= 1 (or None for a one-style network), got {n_styles!r}")
    if upsample not in UPSAMPLE_MODES:
        raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, not {upsample!r}")
    filters = tuple(int(f) for f in filters)
    if len(filters) != 3 or min(filters) < 1:
        raise ValueError(f"filters must be three positive channel counts, got {filters!r}")
    if int(residual_blocks) < 0:
        raise ValueError(f"residual_blocks must be >= 0, got {residual_blocks!r}")
    return upsample, filters, int(residual_blocks)


def build_transform_net(upsample="resize", filters=DEFAULT_FILTERS, residual_blocks=5,
                        name="transform_net", n_styles=None, outer_kernel=9):
    """Return the fully convolutional transform net: RGB [0,1] (B,H,W,3) -> same size (notebook 02).

    Any H, W >= MIN_SIDE: the input is reflect-padded to a multiple of 4 inside the model and the
    output cropped back, so a 37x53 photo comes out 37x53. About 1.68 M parameters by default.
    n_styles: a multi-style network (conditional instance norm) taking [photo, style weights of
    shape (B, n_styles)]; None: the one-style network taking the photo alone.
    outer_kernel: the first and last convolutions' size (Johnson: 9; 3 is cheaper at full
    resolution, benchmarks/RESULTS.md).
    """
    upsample, (f1, f2, f3), residual_blocks = _check_config(upsample, filters, residual_blocks,
                                                            n_styles, outer_kernel)
    k = int(outer_kernel)
    inputs = keras.Input(shape=(None, None, 3), name="photo")
    style = None if n_styles is None else keras.Input(shape=(int(n_styles),), name="style")
    x = PadToMultiple(SIZE_MULTIPLE, name="pad_to_multiple")(inputs)
    x = conv_layer(x, f1, k, name="conv_in", style=style)
    x = conv_layer(x, f2, 3, stride=2, name="down1", style=style)
    x = conv_layer(x, f3, 3, stride=2, name="down2", style=style)
    for i in range(residual_blocks):
        x = residual_block(x, f3, name=f"res{i + 1}", style=style)
    x = upsample_layer(x, f2, upsample, name="up1", style=style)
    x = upsample_layer(x, f1, upsample, name="up2", style=style)
    x = conv_layer(x, 3, k, name="conv_out", norm_relu=False)
    # float32 output even under a mixed_float16 policy (Keras' advice for the last layer)
    x = keras.layers.Activation("sigmoid", dtype="float32", name="to_rgb")(x)
    outputs = CropToMatch(dtype="float32", name="crop_to_input")([x, inputs])
    return keras.Model(inputs if style is None else [inputs, style], outputs, name=name)


def n_styles_of(model):
    """The number of styles of a multi-style network, None for a one-style one (notebook 02)."""
    for layer in model.layers:
        if isinstance(layer, ConditionalInstanceNormalization):
            return layer.n_styles
    return None


def transform_net_config(model):
    """Read (upsample, filters, residual_blocks) back from a built transform net (notebook 02)."""
    names = {layer.name: layer for layer in model.layers}
    try:
        filters = tuple(names[n].filters for n in ("conv_in_conv", "down1_conv", "down2_conv"))
    except KeyError:
        raise ValueError(f"{model.name} is not a network made by build_transform_net") from None
    blocks = sum(1 for n in names if n.startswith("res") and n.endswith("_add"))
    upsample = "transpose" if "up1_transpose" in names else "resize"
    config = {"upsample": upsample, "filters": filters, "residual_blocks": blocks}
    kernel = int(names["conv_in_conv"].kernel_size[0])
    if kernel != 9:                 # (Johnson's 9 is the default, left out of older files)
        config["outer_kernel"] = kernel
    if n_styles_of(model) is not None:
        config["n_styles"] = n_styles_of(model)
    return config


# --------------------------------------------------------------------------- FLOPs


def conv_plan(upsample="resize", filters=DEFAULT_FILTERS, residual_blocks=5, height=256, width=256,
              outer_kernel=9):
    """List (name, k, c_in, c_out, H, W) of each conv at the size its kernel sweeps (notebook 02).

    H x W is the grid the multiply-adds run over: the output grid for ordinary convolutions, the
    input grid for transposed ones (each input pixel scatters a k x k x c_out patch).
    """
    upsample, (f1, f2, f3), residual_blocks = _check_config(upsample, filters, residual_blocks,
                                                            outer_kernel=outer_kernel)
    k = int(outer_kernel)
    h = int(height) + (-int(height)) % SIZE_MULTIPLE
    w = int(width) + (-int(width)) % SIZE_MULTIPLE
    plan = [("conv_in", k, 3, f1, h, w), ("down1", 3, f1, f2, h // 2, w // 2),
            ("down2", 3, f2, f3, h // 4, w // 4)]
    for i in range(residual_blocks):
        plan += [(f"res{i + 1}_a", 3, f3, f3, h // 4, w // 4),
                 (f"res{i + 1}_b", 3, f3, f3, h // 4, w // 4)]
    if upsample == "resize":
        plan += [("up1", 3, f3, f2, h // 2, w // 2), ("up2", 3, f2, f1, h, w)]
    else:
        plan += [("up1", 3, f3, f2, h // 4, w // 4), ("up2", 3, f2, f1, h // 2, w // 2)]
    plan.append(("conv_out", k, f1, 3, h, w))
    return plan


def count_flops(model_or_config, height, width):
    """FLOPs of one forward pass of one H x W image: sum of 2*H*W*Cin*Cout*k*k over convs (nb 02).

    `model_or_config`: a model from build_transform_net, or a dict of its keyword arguments (missing
    ones take the defaults). Counts the convolutions only (a multiply-add is 2 FLOPs), at the
    padded size the network really computes; biases, norms, activations and resizes add < 1 %.
    """
    if isinstance(model_or_config, keras.Model):
        config = transform_net_config(model_or_config)
    else:
        config = dict(model_or_config or {})
        config.pop("name", None)
        config.pop("n_styles", None)        # the norms' pairs cost no convolution FLOPs
        unknown = set(config) - {"upsample", "filters", "residual_blocks", "outer_kernel"}
        if unknown:
            raise ValueError(f"unknown transform net settings {sorted(unknown)}")
    config.pop("n_styles", None)
    plan = conv_plan(height=height, width=width, **config)
    return int(sum(2 * h * w * cin * cout * k * k for _, k, cin, cout, h, w in plan))


# --------------------------------------------------------------------------- perceptual loss


def _layer_names(layers):
    """One layer name or several -> a tuple of names (taught in notebook 02)."""
    return (layers,) if isinstance(layers, str) else tuple(layers)


def _as_batch(images):
    """Add a batch axis to a single (H, W, 3) image (taught in notebook 02)."""
    x = ops.convert_to_tensor(images, dtype="float32")
    return ops.expand_dims(x, 0) if len(x.shape) == 3 else x


class PerceptualLoss:
    """Johnson's perceptual loss for one style: call(content_batch, stylized_batch) (notebook 02).

    loss_fn(content, stylized) -> {"total", "content", "style", "tv"} scalars, for batches
    (B, H, W, 3) of RGB in [0, 1] (the photos and the net's outputs for them), each term a mean
    over the batch:

    - content: mean squared difference of the VGG19 features at `content_layers` (mean over
      layers). Default block2_conv2 = Johnson's relu2_2 (pytorch/examples too): a feed-forward net
      must work for every photo, and a shallow content layer keeps edges and faces readable.
      block4_conv2 (notebook 01's choice) lets the style repaint more.
    - style: sum over `style_layers` of layer weight * sum (G(stylized) - G(style))^2, Grams
      normalised by H*W*C (albumlib.style.losses). Default block1_conv1 ... block5_conv1, notebook 01's
      layers (and lengstrom's VGG19 fast net), so Gatys' optimisation and the fast net are judged by
      the same style measure. The style Grams are computed once here and broadcast over the batch.
    - tv: total variation (beta 2.5) per pixel.

    Default weights: content 1, style 1.5e-5, tv 3e5. Magnitudes at 256 px (astronaut, china,
    chelsea from data/album; starry_night and the_scream; embedded VGG19): on notebook 01's Gatys
    result the raw terms are content 0.6-1.6e5, style 3.6-6.6e8, tv 0.014-0.054, and the photo
    itself scores a style term of 1.5e10-8e10. Balancing those Gatys numbers suggests style 2e-4,
    but a feed-forward net cannot fit each photo: trained on the sample album (500-600 steps) it collapsed to pure texture at 2e-4, still hid the faces at 5e-5, and at 1.5e-5 kept
    the photo readable under a clear Starry Night texture (judged on data/holdout; the net's style
    term ends near 5e9, ten times a Gatys result). Each style wants its own weight: raise it for a
    stronger look, lower it to keep more of the photo. tv 3e5 keeps TV at 5-13 % of the total.
    """

    def __init__(self, style_image, *, content_layers=CONTENT_LAYERS, style_layers=STYLE_LAYERS,
                 content_weight=None, style_weight=None, tv_weight=None, style_layer_weights=None,
                 style_size=None, tv_beta=2.5, weights="auto"):
        """Build the VGG19 feature extractors and the style's Gram matrices (taught in notebook 02).

        style_image: RGB array in [0, 1] (or uint8), an image path or a bundled style name;
        style_size: its long side in pixels (None: as given). weights: the VGG19 weights argument
        of albumlib.style.vgg ("auto", "imagenet", "embedded", a path).
        """
        from albumlib.style import vgg
        self.content_layers = _layer_names(content_layers)
        self.style_layers = _layer_names(style_layers)
        if not self.content_layers or not self.style_layers:
            raise ValueError("need at least one content layer and one style layer")
        given = {"content": content_weight, "style": style_weight, "tv": tv_weight}
        self.weights = {term: DEFAULT_WEIGHTS[term] if value is None else float(value)
                        for term, value in given.items()}
        if style_layer_weights is None:
            style_layer_weights = [1.0 / len(self.style_layers)] * len(self.style_layers)
        elif isinstance(style_layer_weights, dict):
            style_layer_weights = [style_layer_weights[n] for n in self.style_layers]
        if len(style_layer_weights) != len(self.style_layers):
            raise ValueError(f"{len(style_layer_weights)} style layer weights for "
                             f"{len(self.style_layers)} style layers")
        self.style_layer_weights = [float(w) for w in style_layer_weights]
        self.tv_beta = float(tv_beta)
        self.style_image = styles.as_style_image(style_image, style_size)
        # The photos only need features up to the content layers: a shorter, cheaper network.
        self.content_net = vgg.feature_extractor(self.content_layers, weights=weights)
        self.loss_net = vgg.feature_extractor(self.content_layers + self.style_layers,
                                              weights=weights)
        self.weights_source = getattr(self.loss_net, "weights_source", None)
        feats = self.loss_net(self.style_image[None])
        self.style_grams = {n: losses.gram_matrix(feats[n])[0] for n in self.style_layers}

    def content_term(self, content_features, stylized_features):
        """Mean over content layers of the mean squared feature difference (notebook 02)."""
        total = 0.0
        for name in self.content_layers:        # (float32: a reduced-precision net sums badly)
            target = ops.stop_gradient(ops.cast(content_features[name], "float32"))
            total = total + losses.content_loss(ops.cast(stylized_features[name], "float32"),
                                                target, reduction="mean")
        return total / len(self.content_layers)

    def style_term(self, stylized_features, grams=None, layer_weights=None):
        """Per-image style loss against the precomputed Grams, mean over the batch (notebook 02)."""
        grams = self.style_grams if grams is None else grams
        layer_weights = self.style_layer_weights if layer_weights is None else layer_weights
        batch = ops.cast(ops.shape(stylized_features[self.style_layers[0]])[0], "float32")
        total = losses.style_loss([stylized_features[n] for n in self.style_layers],
                                  [grams[n] for n in self.style_layers],
                                  [layer_weights[i] for i in range(len(self.style_layers))])
        return total / batch

    def layer_distances(self, photos, grams=None):
        """Each style layer's Gram distance from photos to the style, mean over them (nb 02a)."""
        grams = self.style_grams if grams is None else grams
        feats = self.loss_net(_as_batch(photos))
        batch = float(ops.shape(feats[self.style_layers[0]])[0])
        return [float(losses.style_layer_loss(ops.cast(feats[n], "float32"), grams[n])) / batch
                for n in self.style_layers]

    def tv_term(self, stylized):
        """Total variation per pixel and per image (taught in notebook 02)."""
        shape = ops.shape(stylized)
        pixels = ops.cast(shape[0] * shape[1] * shape[2], "float32")
        return losses.total_variation_loss(stylized, beta=self.tv_beta) / pixels

    def __call__(self, content_batch, stylized_batch):
        """Return {"total", "content", "style", "tv"} for photos and their stylisations (nb 02)."""
        return self.terms(content_batch, stylized_batch, self.style_grams, self.weights["style"])

    def terms(self, content_batch, stylized_batch, grams, style_weight, layer_weights=None):
        """The loss terms against the given style Grams, style weight and style layer weights
        (None: the loss's own) (notebook 02)."""
        content = _as_batch(content_batch)
        stylized = _as_batch(stylized_batch)
        content_features = self.content_net(content)
        stylized_features = self.loss_net(stylized)
        # (float32 sums even where the loss network computes in bfloat16 or float16)
        c = ops.cast(self.content_term(content_features, stylized_features), "float32")
        s = ops.cast(self.style_term(stylized_features, grams, layer_weights), "float32")
        tv = self.tv_term(stylized)
        w = self.weights
        total = w["content"] * c + style_weight * s + w["tv"] * tv
        return {"total": total, "content": c, "style": s, "tv": tv}


class MultiStylePerceptualLoss(PerceptualLoss):
    """The perceptual loss of N styles: call(content, stylized, style_index) (notebook 02).

    One VGG19 for all styles; the Grams of every style are stacked, and a training step picks
    the Grams (and the style weight: each style has its own) of the style it trains.
    """

    def __init__(self, style_images, *, style_weights=None, style_size=None,
                 style_layer_weights=None, **kwargs):
        """Build the loss network once and every style's Grams (taught in notebook 02).

        style_layer_weights: one weight per style layer for all styles, or one such row per style
        (a table, e.g. balanced_layer_weights of style_distances).
        """
        style_images = list(style_images)
        if not style_images:
            raise ValueError("need at least one style image")
        table = style_layer_weights is not None and not isinstance(style_layer_weights, dict) \
            and np.ndim(style_layer_weights) == 2
        super().__init__(style_images[0], style_size=style_size,
                         style_layer_weights=None if table else style_layer_weights, **kwargs)
        rows = np.asarray(style_layer_weights, np.float32) if table else \
            np.tile(np.asarray(self.style_layer_weights, np.float32), (len(style_images), 1))
        if rows.shape != (len(style_images), len(self.style_layers)):
            raise ValueError(f"style layer weights of shape {rows.shape} for {len(style_images)} "
                             f"styles and {len(self.style_layers)} style layers")
        self.layer_weight_table = ops.convert_to_tensor(rows)
        per_style = []
        for image in style_images:
            feats = self.loss_net(styles.as_style_image(image, style_size)[None])
            per_style.append({n: losses.gram_matrix(feats[n])[0] for n in self.style_layers})
        self.all_grams = {n: ops.stack([g[n] for g in per_style]) for n in self.style_layers}
        weights = [self.weights["style"]] * len(style_images) if style_weights is None \
            else [float(w) for w in style_weights]
        if len(weights) != len(style_images):
            raise ValueError(f"{len(weights)} style weights for {len(style_images)} styles")
        self.style_weights = ops.convert_to_tensor(np.asarray(weights, np.float32))
        self.n_styles = len(style_images)

    def __call__(self, content_batch, stylized_batch, style_index=0):
        """Return the loss terms for one style (an int or a scalar tensor) (notebook 02)."""
        grams = {n: ops.take(self.all_grams[n], style_index, axis=0) for n in self.style_layers}
        return self.terms(content_batch, stylized_batch, grams,
                          ops.take(self.style_weights, style_index),
                          ops.take(self.layer_weight_table, style_index, axis=0))

    def style_distances(self, photos):
        """layer_distances of photos for every style: a (styles, layers) list (notebook 02a)."""
        return [self.layer_distances(photos, {n: self.all_grams[n][i] for n in self.style_layers})
                for i in range(self.n_styles)]


def balanced_layer_weights(distances):
    """Weights making each style layer add alike, their total unchanged (notebook 02a)."""
    d = np.maximum(np.asarray(distances, np.float64), 1e-30)   # (layers,) or (styles, layers)
    return (d.mean(axis=-1, keepdims=True) / (d.shape[-1] * d)).tolist()


# --------------------------------------------------------------------------- inference


def stylize_array(model, image, max_side=None):
    """Run the transform net on one image (array or path) -> float32 RGB (H, W, 3) (notebook 02).

    max_side shrinks the image first (long side in pixels) - the way to bound memory on big photos.
    The output has the (shrunk) input's size.
    """
    array = images.as_rgb(image, max_side)
    if min(array.shape[:2]) < MIN_SIDE:
        raise ValueError(f"image is {array.shape[1]}x{array.shape[0]} pixels; the transform net "
                         f"needs at least {MIN_SIDE} on each side")
    out = model(array[None], training=False)
    return np.clip(ops.convert_to_numpy(out)[0], 0.0, 1.0).astype(np.float32)
