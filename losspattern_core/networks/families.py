"""Layer lists of the three families (see ``spec.py``) and the checks that they fit the data."""

from __future__ import annotations

from losspattern_core.errors import ConfigError

from .spec import NetworkSpec

MAX_CHANNELS = 1024
STEM_POOL_FROM = 16   # resnet: images at least this size get a MaxPool 2 after the stem


def _act(spec: NetworkSpec, w0: float = 1.0) -> dict:
    act = {"type": "activation", "name": spec.activation}
    if spec.activation == "sin":
        act["w0"] = w0
    return act


def mlp_layers(spec: NetworkSpec) -> list[dict]:
    """For ``sin`` the first activation uses w0 = 1 (injective on [0, 1], so the pattern
    coordinates pass through unscrambled) and the next one w0 = ``sine_w0`` (SIREN)."""
    first = spec.first_width or spec.width
    widths = [spec.in_features, first] + [spec.width] * (spec.depth - 1)
    out: list[dict] = []
    for i in range(spec.depth):
        out.append({"type": "linear", "in": widths[i], "out": widths[i + 1]})
        out.append(_act(spec, spec.sine_w0 if i == 1 else 1.0))
    out.append({"type": "linear", "in": widths[-1], "out": spec.outputs})
    return out


def _conv(cin: int, cout: int, kernel: int = 3, stride: int = 1, padding: int = 1) -> dict:
    return {"type": "conv2d", "in": cin, "out": cout, "kernel": kernel, "stride": stride,
            "padding": padding, "groups": 1}


def _bn(c: int) -> dict:
    return {"type": "batchnorm2d", "features": c, "eps": 1e-5}


def cnn_layers(spec: NetworkSpec) -> list[dict]:
    cin = spec.input_shape[0]
    out: list[dict] = []
    for i, c in enumerate(spec.channels):
        out.append(_conv(cin, c))
        if spec.batchnorm:
            out.append(_bn(c))
        out.append(_act(spec, spec.sine_w0 if i == 1 else 1.0))
        if spec.maxpool:
            out.append({"type": "maxpool2d", "kernel": 2, "stride": 2})
        cin = c
    out += [{"type": "adaptive_avgpool2d", "out": [4, 4]}, {"type": "flatten"},
            {"type": "linear", "in": cin * 16, "out": spec.hidden}, _act(spec),
            {"type": "linear", "in": spec.hidden, "out": spec.outputs}]
    return out


def resnet_layers(spec: NetworkSpec) -> list[dict]:
    w = spec.width
    out: list[dict] = [_conv(spec.input_shape[0], w), _bn(w), _act(spec)]
    if min(spec.input_shape[1:]) >= STEM_POOL_FROM:   # ResNet's stem pool: 28x28 -> 14x14
        out.append({"type": "maxpool2d", "kernel": 2, "stride": 2})
    for b in range(spec.blocks):
        down = b > 0 and b % 2 == 0          # every second block doubles width, halves size
        wout, stride = (2 * w, 2) if down else (w, 1)
        body = [_conv(w, wout, stride=stride), _bn(wout), _act(spec, spec.sine_w0),
                _conv(wout, wout), _bn(wout)]
        shortcut = [_conv(w, wout, kernel=1, stride=stride, padding=0), _bn(wout)] if down else []
        out += [{"type": "residual", "body": body, "shortcut": shortcut}, _act(spec)]
        w = wout
    out += [{"type": "adaptive_avgpool2d", "out": [1, 1]}, {"type": "flatten"},
            {"type": "linear", "in": w, "out": spec.outputs}]
    return out


def check_image_network(spec: NetworkSpec) -> None:
    """The conv families need image-shaped data and enough pixels for their pooling."""
    shape = spec.input_shape
    if not shape or len(shape) != 3:
        raise ConfigError(f"the {spec.family} family needs image-shaped data (C, H, W); this "
                          f"dataset has {spec.in_features} flat features. Use --arch mlp, or a "
                          "dataset with images (digits, fashion-mnist, an .npz with X (N, H, W))")
    c, h, w = shape
    if spec.family == "cnn":
        if not spec.channels or any(not 1 <= ch <= MAX_CHANNELS for ch in spec.channels):
            raise ConfigError(f"--channels must be 1..{MAX_CHANNELS} each, got {spec.channels}")
        if spec.maxpool:
            fits = 0
            while min(h, w) >> (fits + 1) >= 1:
                fits += 1
            if len(spec.channels) > fits:
                raise ConfigError(f"{len(spec.channels)} blocks with MaxPool 2 need images of at "
                                  f"least {2 ** len(spec.channels)} pixels a side; these are "
                                  f"{h}x{w}: use at most {fits} blocks (e.g. --channels "
                                  f"{','.join(str(x) for x in spec.channels[:fits])}) or "
                                  "--no-maxpool")
        if not 1 <= spec.hidden <= 8192:
            raise ConfigError(f"hidden width {spec.hidden} must be in 1..8192")
    else:
        if not 1 <= spec.blocks <= 16 or not 1 <= spec.width <= MAX_CHANNELS:
            raise ConfigError(f"resnet needs 1..16 blocks and width 1..{MAX_CHANNELS}, got "
                              f"blocks {spec.blocks}, width {spec.width}")
        downs = sum(1 for b in range(spec.blocks) if b > 0 and b % 2 == 0)
        downs += 1 if min(h, w) >= STEM_POOL_FROM else 0
        if min(h, w) >> downs < 1:
            raise ConfigError(f"{spec.blocks} residual blocks halve the image {downs} times; "
                              f"{h}x{w} images allow at most {min(h, w).bit_length() - 1}")
