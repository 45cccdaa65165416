"""What network a run builds: a family and its knobs, described as a JSON layer list.

Families (``family``):
  * ``mlp``: ``depth`` hidden Linear layers of ``width`` units (the input is flattened);
  * ``cnn``: the small VGG-like network of Skorokhodov & Burtsev (2019): per entry of
    ``channels`` a Conv3x3 (padding 1) [-> BatchNorm] -> activation [-> MaxPool 2], then
    AdaptiveAvgPool to 4x4 -> Linear(-> ``hidden``) -> activation -> Linear(-> outputs). Their
    Fashion-MNIST network is channels 8-32-64 without BatchNorm (153 402 parameters);
  * ``resnet``: a stem Conv3x3 -> BatchNorm -> activation (-> MaxPool 2 for images of 16
    pixels a side or more), then ``blocks`` residual blocks
    (conv-BN-act-conv-BN plus an identity or, where the width doubles with stride 2, a
    1x1-conv-BN shortcut; then activation), global average pool, Linear head.
In every family the first layer is the one the constructions zero (Theorem 1: all its weights;
Theorem 2: the weights into the z pattern units/channels), and direction i moves its bias i.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from losspattern_core.errors import ConfigError

from .layers import ACTIVATIONS

FAMILIES = ("mlp", "cnn", "resnet")


@dataclass(frozen=True)
class NetworkSpec:
    """depth = number of hidden layers of an MLP (>= 2: the first carries the pattern)."""

    in_features: int
    classes: int
    depth: int = 3
    width: int = 128
    activation: str = "sin"
    heads: int = 1
    first_width: int | None = None  # MLP: defaults to width
    sine_w0: float = 30.0
    siren_first: float = 2.0
    family: str = "mlp"
    input_shape: tuple[int, ...] | None = None   # (C, H, W) for cnn/resnet
    channels: tuple[int, ...] = (8, 32, 64)      # cnn
    batchnorm: bool = False                      # cnn (resnet always has it)
    maxpool: bool = True                         # cnn: MaxPool 2 after each block
    hidden: int = 128                            # cnn: the head's hidden width
    blocks: int = 2                              # resnet: residual blocks
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def outputs(self) -> int:
        return self.heads * self.classes

    @property
    def first_units(self) -> int:
        """Units (MLP) or channels (conv families) of the first layer."""
        if self.family == "mlp":
            return self.first_width or self.width
        return self.channels[0] if self.family == "cnn" else self.width

    def validate(self, z: int) -> None:
        """Refuse a network that cannot carry a z-dimensional pattern or take the data."""
        if self.family not in FAMILIES:
            raise ConfigError(f"unknown architecture {self.family!r}; choose from "
                              f"{', '.join(FAMILIES)}")
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {self.activation!r}; choose from "
                              f"{', '.join(ACTIVATIONS)}")
        if self.heads < 1 or self.classes < 2:
            raise ConfigError("need heads >= 1 and classes >= 2")
        if self.first_units < z:
            what = "units" if self.family == "mlp" else "channels"
            raise ConfigError(f"the first layer has {self.first_units} {what}; z = {z} needs at "
                              f"least {z} (one per pattern direction)")
        if self.family == "mlp":
            if not 2 <= self.depth <= 16:
                raise ConfigError(f"depth {self.depth}: need 2..16 hidden layers (one carries "
                                  "the pattern, at least one more approximates it)")
            if not 1 <= self.width <= 8192:
                raise ConfigError(f"width {self.width} must be in 1..8192")
            return
        from .families import check_image_network

        check_image_network(self)

    def layers(self) -> list[dict]:
        """The bundle's ``network.layers`` list for this family."""
        from .families import cnn_layers, mlp_layers, resnet_layers

        return {"mlp": mlp_layers, "cnn": cnn_layers, "resnet": resnet_layers}[self.family](self)

    def input_spec(self) -> list[int]:
        """The bundle's ``network.input_shape``: [C, H, W] or [D]."""
        if self.family == "mlp":
            return [self.in_features]
        return list(self.input_shape or ())
