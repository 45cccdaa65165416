"""Plain ``torch.nn.Sequential`` MLPs, described by a JSON-able layer list (bundle format)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from losspattern_core.errors import BundleError, ConfigError

ACTIVATIONS = ("relu", "tanh", "gelu", "sin")


class Sine(nn.Module):
    """sin(w0 * x): the SIREN activation; w0 is stored in the bundle's layer list."""

    def __init__(self, w0: float = 1.0):
        super().__init__()
        self.w0 = float(w0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.w0 * x)

    def extra_repr(self) -> str:
        return f"w0={self.w0:g}"


def make_activation(spec: dict) -> nn.Module:
    name = spec.get("name")
    if name == "relu":
        return nn.ReLU()
    if name == "tanh":
        return nn.Tanh()
    if name == "gelu":
        return nn.GELU()
    if name == "sin":
        return Sine(float(spec.get("w0", 1.0)))
    raise BundleError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}")


@dataclass(frozen=True)
class NetworkSpec:
    """depth = number of hidden layers (>= 2: the first carries the pattern, the rest fit it)."""

    in_features: int
    classes: int
    depth: int = 3
    width: int = 128
    activation: str = "sin"
    heads: int = 1
    first_width: int | None = None  # defaults to width
    sine_w0: float = 30.0
    siren_first: float = 2.0

    def validate(self, z: int) -> None:
        if self.activation not in ACTIVATIONS:
            raise ConfigError(f"unknown activation {self.activation!r}; choose from "
                              f"{', '.join(ACTIVATIONS)}")
        if not 2 <= self.depth <= 16:
            raise ConfigError(f"depth {self.depth}: need 2..16 hidden layers (one carries the "
                              "pattern, at least one more approximates it)")
        if not 1 <= self.width <= 8192:
            raise ConfigError(f"width {self.width} must be in 1..8192")
        if (self.first_width or self.width) < z:
            raise ConfigError(f"first-layer width {self.first_width or self.width} must be >= "
                              f"z = {z} (one unit per pattern direction)")
        if self.heads < 1 or self.classes < 2:
            raise ConfigError("need heads >= 1 and classes >= 2")

    def layers(self) -> list[dict]:
        """The bundle's ``network.layers`` list.

        For ``sin`` the first activation uses w0 = 1 (injective on [0, 1], so the pattern
        coordinates pass through unscrambled) and the next one w0 = ``sine_w0`` (SIREN).
        """
        first = self.first_width or self.width
        widths = [self.in_features, first] + [self.width] * (self.depth - 1)
        out: list[dict] = []
        for i in range(self.depth):
            out.append({"type": "linear", "in": widths[i], "out": widths[i + 1]})
            act = {"type": "activation", "name": self.activation}
            if self.activation == "sin":
                act["w0"] = self.sine_w0 if i == 1 else 1.0
            out.append(act)
        out.append({"type": "linear", "in": widths[-1], "out": self.heads * self.classes})
        return out


def build(layers: list[dict], device: str | torch.device | None = None) -> nn.Sequential:
    """The module tree a layer list describes. With ``device="meta"`` no memory is allocated
    and no random number is drawn (``build_mlp`` then initialises it from its own generator)."""
    mods: list[nn.Module] = []
    for i, spec in enumerate(layers):
        kind = spec.get("type")
        if kind == "linear":
            mods.append(nn.Linear(int(spec["in"]), int(spec["out"]), device=device))
        elif kind == "activation":
            mods.append(make_activation(spec))
        else:
            raise BundleError(f"layer {i}: unknown type {kind!r} (expected linear or activation)")
    return nn.Sequential(*mods)


def _default_init(lin: nn.Linear, gen: torch.Generator) -> None:
    """``nn.Linear.reset_parameters`` drawn from ``gen`` (same numbers as the global RNG
    seeded alike would give)."""
    nn.init.kaiming_uniform_(lin.weight, a=math.sqrt(5), generator=gen)
    bound = 1 / math.sqrt(lin.in_features) if lin.in_features > 0 else 0.0
    nn.init.uniform_(lin.bias, -bound, bound, generator=gen)


def build_mlp(spec: NetworkSpec, seed: int = 0) -> nn.Sequential:
    """Build and initialise: default PyTorch init, SIREN init for sine networks.

    Every random number comes from a generator local to this call (the global RNG is neither
    seeded nor drawn from), so a run cancelled on one thread cannot shift the next run's init.
    """
    gen = torch.Generator().manual_seed(int(seed))
    model = build(spec.layers(), device="meta").to_empty(device="cpu")
    linears = [m for m in model if isinstance(m, nn.Linear)]
    with torch.no_grad():
        for lin in linears:
            _default_init(lin, gen)
        if spec.activation == "sin":
            # SIREN: the layer feeding sin(w0 x) sees the pattern coordinates (first-layer
            # units in [0, 1)) and gets U(-c, c); later layers U(+-sqrt(6/n)) keep sin(x)
            # unit-scale.
            linears[1].weight.uniform_(-spec.siren_first, spec.siren_first, generator=gen)
            for lin in linears[2:]:
                bound = math.sqrt(6 / lin.in_features)
                lin.weight.uniform_(-bound, bound, generator=gen)
    return model


def linear_indices(model: nn.Sequential) -> list[int]:
    return [i for i, m in enumerate(model) if isinstance(m, nn.Linear)]
