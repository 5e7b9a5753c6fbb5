"""A trained transform network run in plain numpy: the CLI's first photos without TensorFlow.

`python -m albumlib stylize photo.jpg --style wave` on a few photos spent most of its time
starting TensorFlow (importing it and Keras, building the model, tracing it: 5-6 s before the
first pixel). The networks are small (the bundled paintings.npz has 126 k weights), so this module
runs the same .npz files with numpy instead: one forward pass of
albumlib.style.fast_style.build_transform_net, layer for layer, each convolution an im2col (a
strided view of the padded image, copied in bands of rows to bound the memory) and one float32
matmul. It imports no Keras and no TensorFlow; the files are read by albumlib.style.style_nets'
keras-free readers (read_npz, read_pair), the same code the Keras loader uses.

Not covered (raise Unsupported, a ValueError; the Keras path runs them): "transpose" networks
(Conv2DTranspose upsampling) and .keras archives (also as a learnt style's base).

    net = numpy_net.load_choice(style_nets.find("wave=0.7,udnie=0.3"))
    out = net(photos)           # (B, H, W, 3) float32 in [0, 1] -> the same shape, like the model
"""

import numpy as np

from albumlib.style import style_nets

# fast_style's values, repeated here so that this module needs no Keras (a test checks them).
SIZE_MULTIPLE = 4       # two stride-2 convolutions: the network works on multiples of 4
MIN_SIDE = 5            # smaller images cannot be reflection-padded by the 9x9 convolutions
IN_EPSILON = 1e-5
UPSAMPLE_MODES = ("resize", "transpose")
DEFAULT_FILTERS = (32, 64, 128)

IM2COL_BYTES = 16 * 1024 * 1024     # the im2col copy is made in bands of rows of at most this
# Throughput of this module's forward pass, in convolution FLOPs (fast_style.count_flops' measure)
# per second, measured on 2 busy CPU cores (load 2-5) with the bundled network at 512 and 1024 px:
# 10-14 GFLOP/s. For `estimated_seconds` (the CLI's choice of engine): a rough guide, no promise.
FLOPS_PER_SECOND = 10e9


class Unsupported(ValueError):
    """A network file that only the Keras path runs (a transpose network, a .keras archive)."""


# --------------------------------------------------------------------------- layers


def _reflect_edges(padded, pad):
    """Fill the `pad`-wide border of an (H, W, C) buffer by mirroring its inside, in place."""
    ph, pw = pad
    h, w = padded.shape[0] - 2 * ph, padded.shape[1] - 2 * pw
    for i in range(1, ph + 1):                  # rows first, then columns (which fills corners)
        padded[ph - i] = padded[ph + i]
        padded[ph + h - 1 + i] = padded[ph + h - 1 - i]
    for j in range(1, pw + 1):
        padded[:, pw - j] = padded[:, pw + j]
        padded[:, pw + w - 1 + j] = padded[:, pw + w - 1 - j]
    return padded


def reflection_pad(x, pad):
    """The numpy twin of fast_style.ReflectionPad2D on one (H, W, C) image (the CLI's photos)."""
    h, w, c = x.shape
    padded = np.empty((h + 2 * pad, w + 2 * pad, c), np.float32)
    padded[pad:pad + h, pad:pad + w] = x
    return _reflect_edges(padded, (pad, pad))


def pad_to_multiple(x, multiple=SIZE_MULTIPLE):
    """The numpy twin of fast_style.PadToMultiple: reflect-pad bottom and right (one image)."""
    h, w = x.shape[:2]
    return np.pad(x, ((0, -h % multiple), (0, -w % multiple), (0, 0)), mode="reflect")


def conv2d(x, kernel, bias, stride=1):
    """The numpy twin of a "valid" keras Conv2D with bias: im2col + matmul in bands of rows."""
    k, _, c_in, c_out = kernel.shape
    x = np.ascontiguousarray(x, dtype=np.float32)
    h_out = (x.shape[0] - k) // stride + 1
    w_out = (x.shape[1] - k) // stride + 1
    s_row, s_col, s_chan = x.strides
    # (h_out, w_out, k, k * c_in): one kernel row of a patch is k * c_in contiguous floats, in the
    # (kx, channel) order of the kernel's own (k, k, c_in, c_out) layout
    patches = np.lib.stride_tricks.as_strided(
        x, shape=(h_out, w_out, k, k * c_in),
        strides=(stride * s_row, stride * s_col, s_row, s_chan), writeable=False)
    weights = kernel.reshape(k * k * c_in, c_out)
    out = np.empty((h_out, w_out, c_out), np.float32)
    rows = max(1, IM2COL_BYTES // (4 * w_out * k * k * c_in))
    for top in range(0, h_out, rows):
        band = patches[top:top + rows].reshape(-1, k * k * c_in)      # the im2col copy
        np.matmul(band, weights, out=out[top:top + rows].reshape(-1, c_out))
    out += bias
    return out


# Which of a 3x3 kernel's rows (or columns) fall on each of two neighbouring pixels of the small
# image, for the even and the odd output rows (columns) of a nearest-neighbour doubling.
_DOUBLED_TAPS = (np.array([[1, 0, 0], [0, 1, 1]], np.float32),    # even: pixels i - 1, i
                 np.array([[1, 1, 0], [0, 0, 1]], np.float32))    # odd: pixels i, i + 1


def upsample_conv(x, kernel, bias):
    """The numpy twin of UpSampling2D(2, "nearest"), ReflectionPad2D(1) and a 3x3 Conv2D, at the
    small image's resolution: each of the four output pixel parities is a 2x2 convolution of
    the small image with the kernel taps summed (4/9 of the work, no doubled image in memory)."""
    h, w, _ = x.shape
    if kernel.shape[:2] != (3, 3):
        raise ValueError(f"upsampling convolutions are 3x3, got {kernel.shape[:2]}")
    # a 1-pixel reflection of the doubled image repeats its edge pixels: the small one's edge
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)), mode="edge")
    out = np.empty((h, 2, w, 2, kernel.shape[3]), np.float32)
    for dy, rows in enumerate(_DOUBLED_TAPS):
        for dx, cols in enumerate(_DOUBLED_TAPS):
            taps = np.einsum("ay,bx,yxio->abio", rows, cols, kernel).astype(np.float32)
            out[:, dy, :, dx] = conv2d(padded[dy:dy + h + 1, dx:dx + w + 1], taps, bias)
    return out.reshape(2 * h, 2 * w, -1)


def _channel_means(flat, lane=256):
    """Per-channel means of (N, C) values: float32 sums down lanes of `lane` pixels (vectorised
    and accurate: each lane sums N / lane values), then float64 totals."""
    n, c = flat.shape
    full = n - n % lane
    lanes = flat[:full].reshape(-1, lane * c).sum(axis=0, dtype=np.float32)
    totals = lanes.reshape(lane, c).sum(axis=0, dtype=np.float64)
    return (totals + flat[full:].sum(axis=0, dtype=np.float64)) / n


def instance_normalize(x, gamma, beta, epsilon=IN_EPSILON):
    """The numpy twin of fast_style.instance_normalize on one (H, W, C) image, in place."""
    flat = x.reshape(-1, x.shape[-1])
    mean = _channel_means(flat)
    centered = flat - mean.astype(np.float32)
    variance = _channel_means(np.square(centered, out=centered))
    del centered
    # y = (x - mean) / sqrt(variance + epsilon) * gamma + beta as one multiply-add per channel
    a = gamma / np.sqrt(variance + epsilon)
    b = beta - mean * a
    x *= a.astype(np.float32)
    x += b.astype(np.float32)
    return x


def relu(x):
    """The numpy twin of keras.layers.ReLU, in place."""
    return np.maximum(x, 0.0, out=x)


def sigmoid(x):
    """The numpy twin of the to_rgb sigmoid, in place."""
    np.negative(x, out=x)
    with np.errstate(over="ignore"):         # exp(large) = inf -> 1 / inf = 0, as it should
        np.exp(x, out=x)
    x += 1.0
    return np.reciprocal(x, out=x)


def conv_layer(x, params, name, stride=1, norm_relu=True, upsample=False):
    """The numpy twin of fast_style.conv_layer (pad, conv, IN, ReLU), for the CLI's first photo;
    upsample: nearest x2 first (upsample_conv)."""
    kernel, bias = params.convs[name]
    if upsample:
        x = upsample_conv(x, kernel, bias)
    else:
        x = conv2d(reflection_pad(x, kernel.shape[0] // 2), kernel, bias, stride)
    if norm_relu:
        x = relu(instance_normalize(x, *params.norms[name]))
    return x


def residual_block(x, params, name):
    """The numpy twin of fast_style.residual_block (conv-IN-ReLU-conv-IN plus the input)."""
    y = conv_layer(x, params, f"{name}_a")
    kernel, bias = params.convs[f"{name}_b"]
    y = instance_normalize(conv2d(reflection_pad(y, 1), kernel, bias), *params.norms[f"{name}_b"])
    y += x
    return y


def upsample_layer(x, params, name):
    """The numpy twin of fast_style.upsample_layer's "resize" mode (nearest x2, conv, IN, ReLU)."""
    return conv_layer(x, params, name, upsample=True)


def transform(params, photo):
    """The numpy twin of build_transform_net's model on one (H, W, 3) photo -> (H, W, 3)."""
    h, w = photo.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ValueError(f"image is {w}x{h} pixels; the transform net needs at least {MIN_SIDE} "
                         f"on each side")
    x = pad_to_multiple(np.asarray(photo, np.float32))
    x = conv_layer(x, params, "conv_in")
    x = conv_layer(x, params, "down1", stride=2)
    x = conv_layer(x, params, "down2", stride=2)
    for i in range(params.residual_blocks):
        x = residual_block(x, params, f"res{i + 1}")
    x = upsample_layer(x, params, "up1")
    x = upsample_layer(x, params, "up2")
    x = conv_layer(x, params, "conv_out", norm_relu=False)
    return sigmoid(x)[:h, :w]          # CropToMatch


# --------------------------------------------------------------------------- the network


def layer_plan(architecture):
    """[(layer, k, c_in, c_out, stride, normed)] of a transform net's convolutions in the order of
    its weights (model.weights), from the architecture stored in its file."""
    upsample = architecture.get("upsample", "resize")
    if upsample not in UPSAMPLE_MODES:
        raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, not {upsample!r}")
    if upsample != "resize":
        raise Unsupported(f"the numpy path runs only \"resize\" networks, not {upsample!r} ones; "
                          "use the Keras path (stylize --engine keras)")
    f1, f2, f3 = (int(f) for f in architecture.get("filters", DEFAULT_FILTERS))
    k = int(architecture.get("outer_kernel", 9))
    plan = [("conv_in", k, 3, f1, 1, True), ("down1", 3, f1, f2, 2, True),
            ("down2", 3, f2, f3, 2, True)]
    for i in range(int(architecture.get("residual_blocks", 5))):
        plan += [(f"res{i + 1}_a", 3, f3, f3, 1, True), (f"res{i + 1}_b", 3, f3, f3, 1, True)]
    plan += [("up1", 3, f3, f2, 1, True), ("up2", 3, f2, f1, 1, True),
             ("conv_out", k, f1, 3, 1, False)]
    return plan


def _weight_names(plan, n_styles):
    """[(variable path, shape)] of the Keras model's weights, in model.weights order."""
    names = []
    for layer, k, c_in, c_out, _, normed in plan:
        names += [(f"{layer}_conv/kernel", (k, k, c_in, c_out)), (f"{layer}_conv/bias", (c_out,))]
        if normed:
            shape = (c_out,) if n_styles is None else (n_styles, c_out)
            names += [(f"{layer}_in/scale", shape), (f"{layer}_in/offset", shape)]
    return names


class NumpyNet:
    """A transform network's weights and its numpy forward pass: net(batch) as the Keras model's
    call (photo batch -> repainted batch); a multi-style one needs a style vector (`bind`)."""

    def __init__(self, name, architecture, convs, norms, vector=None):
        """convs: {layer: (kernel, bias)}; norms: {layer: (scale, offset)}, (n_styles, C) rows
        for a multi-style network; vector: its (n_styles,) style weights (None: not chosen)."""
        self.name = name
        self.architecture = dict(architecture)
        self.plan = layer_plan(self.architecture)
        self.residual_blocks = int(self.architecture.get("residual_blocks", 5))
        self.convs = convs
        self.raw_norms = norms
        n = self.architecture.get("n_styles")
        self.n_styles = None if n is None else int(n)
        self.vector = None if vector is None else np.asarray(vector, np.float32).ravel()
        if self.n_styles is None:
            self.norms = norms
        elif self.vector is not None:
            if self.vector.shape != (self.n_styles,):
                raise ValueError(f"{name}: a style vector of {self.n_styles} weights is needed, "
                                 f"got {self.vector.shape[0]}")
            # gamma = mix @ scale, beta = mix @ offset (fast_style.conditional_instance_normalize)
            self.norms = {layer: (self.vector @ scale, self.vector @ offset)
                          for layer, (scale, offset) in norms.items()}
        else:
            self.norms = None

    def bind(self, vector, name=None):
        """This multi-style network with its style weights fixed to `vector` (style_nets.bind)."""
        if self.n_styles is None:
            raise ValueError(f"{self.name}: a one-style network takes no style vector")
        return NumpyNet(name or self.name, self.architecture, self.convs, self.raw_norms, vector)

    def __call__(self, batch):
        """Repaint a float32 (B, H, W, 3) batch in [0, 1] -> float32 (B, H, W, 3) in (0, 1)."""
        if self.norms is None:
            raise ValueError(f"{self.name}: holds {self.n_styles} styles; bind a style vector "
                             "first (numpy_net.load_choice)")
        batch = np.asarray(batch, np.float32)
        if batch.ndim != 4 or batch.shape[-1] != 3:
            raise ValueError(f"expected a (B, H, W, 3) batch of RGB photos, got {batch.shape}")
        return np.stack([transform(self, photo) for photo in batch]) if len(batch) else \
            np.zeros(batch.shape, np.float32)

    def flops(self, height, width):
        """Convolution FLOPs of one H x W photo (2 per multiply-add; fast_style.count_flops')."""
        h, w = height + (-height) % SIZE_MULTIPLE, width + (-width) % SIZE_MULTIPLE
        total, scale = 0, 1
        for layer, k, c_in, c_out, stride, _ in self.plan:
            if layer.startswith("up"):
                scale //= 2
            scale *= stride
            total += 2 * (h // scale) * (w // scale) * k * k * c_in * c_out
        return total

    def estimated_seconds(self, sizes):
        """Rough time of repainting photos of these (H, W) sizes here (FLOPS_PER_SECOND)."""
        return sum(self.flops(h, w) for h, w in sizes) / FLOPS_PER_SECOND


def _from_weights(path, meta, weights):
    """A NumpyNet of the weights read from an .npz network file, checked against its settings."""
    architecture = meta.get("architecture") or {}
    try:
        plan = layer_plan(architecture)
        n_styles = architecture.get("n_styles")
        expected = _weight_names(plan, None if n_styles is None else int(n_styles))
    except Unsupported as err:
        raise Unsupported(f"{path}: {err}") from None
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path}: invalid network settings {architecture} ({err})") from err
    names = meta.get("names")
    if names is None:                   # (the weights are in model.weights order anyway)
        names = [name for name, _ in expected]
    names = ["/".join(str(n).split("/")[-2:]) for n in names]        # "layer/variable"
    found = dict(zip(names, weights))
    fits = len(names) == len(weights) and set(found) == {n for n, _ in expected} and \
        all(found[n].shape == shape for n, shape in expected)
    style_nets.check_weights(path, weights, fits, len(expected))
    convs = {layer: (found[f"{layer}_conv/kernel"], found[f"{layer}_conv/bias"])
             for layer, *_ in plan}
    norms = {layer: (found[f"{layer}_in/scale"], found[f"{layer}_in/offset"])
             for layer, *rest in plan if rest[-1]}
    return NumpyNet(meta.get("name") or "transform_net", architecture, convs, norms)


def _with_pair(path, base, meta, rows):
    """The base network with a learnt style's (gamma, beta) rows appended (style_nets' pair)."""
    if base.n_styles is None or set(meta["layers"]) != {f"{l}_in" for l in base.raw_norms} \
            or len(meta["layers"]) != len(rows):
        raise ValueError(f"{path}: its learnt rows do not fit its base network; the file is "
                         "damaged")
    by_layer = dict(zip(meta["layers"], rows))
    norms = {}
    for layer, (scale, offset) in base.raw_norms.items():
        new_scale, new_offset = (np.asarray(r, np.float32) for r in by_layer[f"{layer}_in"])
        norms[layer] = (np.concatenate([scale, new_scale[None]]),
                        np.concatenate([offset, new_offset[None]]))
    architecture = {**base.architecture, "n_styles": base.n_styles + 1}
    return NumpyNet(f"{base.name}_{meta['style']}", architecture, base.convs, norms)


def load(path):
    """The numpy twin of style_nets.load: an .npz network, a learnt style's file (its base with
    the style appended) or a bundled name -> NumpyNet. Unsupported for .keras archives and
    transpose networks; FileNotFoundError / ValueError as style_nets.load."""
    path = style_nets.network_file(path)
    if style_nets.is_pair(path):
        meta, rows, _ = style_nets.read_pair(path)
        return _with_pair(path, load(style_nets.pair_base(path, meta)), meta, rows)
    if path.suffix.lower() != ".npz":
        raise Unsupported(f"{path}: the numpy path reads .npz network files only; use the Keras "
                          "path (stylize --engine keras) for .keras archives")
    meta, weights, _ = style_nets.read_npz(path)
    return _from_weights(path, meta, weights)


def load_choice(choice):
    """The numpy twin of style_nets.load_choice: a StyleChoice -> a NumpyNet bound to its mix."""
    net = load(choice.path)
    if net.n_styles is None:
        return net
    return net.bind(style_nets.choice_vector(choice), name=choice.label)
