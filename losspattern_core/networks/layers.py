"""Layer lists (the bundle's ``network.layers``, bundle-format.md) built as plain torch modules.

Every network LossPattern makes or reads is an ``nn.Sequential`` of these items; the only
non-``torch.nn`` modules are ``Sine`` (sin(w0 x)) and ``Residual`` (body(x) + shortcut(x)),
two-liners the bundle's README script defines again.
"""

from __future__ import annotations

import torch
from torch import nn

from losspattern_core.errors import BundleError

ACTIVATIONS = ("relu", "tanh", "gelu", "sin")
_ALL_ACTIVATIONS = ACTIVATIONS + ("sigmoid", "silu")
LAYER_TYPES = ("linear", "conv2d", "batchnorm2d", "batchnorm1d", "layernorm", "maxpool2d",
               "avgpool2d", "adaptive_avgpool2d", "flatten", "activation", "residual")


class Sine(nn.Module):
    """sin(w0 * x): the SIREN activation; w0 is stored in the bundle's layer list."""

    def __init__(self, w0: float = 1.0):
        super().__init__()
        self.w0 = float(w0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.w0 * x)

    def extra_repr(self) -> str:
        return f"w0={self.w0:g}"


class Residual(nn.Module):
    """y = body(x) + shortcut(x); an empty shortcut is the identity."""

    def __init__(self, body: nn.Sequential, shortcut: nn.Sequential):
        super().__init__()
        self.body, self.shortcut = body, shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.shortcut(x)


def make_activation(spec: dict) -> nn.Module:
    name = spec.get("name")
    simple = {"relu": nn.ReLU, "tanh": nn.Tanh, "gelu": nn.GELU, "sigmoid": nn.Sigmoid,
              "silu": nn.SiLU}
    if name in simple:
        return simple[name]()
    if name == "sin":
        return Sine(float(spec.get("w0", 1.0)))
    raise BundleError(f"unknown activation {name!r}; known: {', '.join(_ALL_ACTIVATIONS)}")


def _pair(v) -> int | tuple[int, int]:
    return tuple(int(a) for a in v) if isinstance(v, (list, tuple)) else int(v)


def make_layer(spec: dict, where: str, device=None) -> nn.Module:
    """One module from one layer item; ``where`` names it in errors ("layer 3")."""
    kind = spec.get("type")
    if kind == "linear":
        return nn.Linear(int(spec["in"]), int(spec["out"]), device=device)
    if kind == "conv2d":
        return nn.Conv2d(int(spec["in"]), int(spec["out"]), _pair(spec["kernel"]),
                         stride=_pair(spec.get("stride", 1)), padding=_pair(spec.get("padding", 0)),
                         groups=int(spec.get("groups", 1)), device=device)
    if kind in ("batchnorm2d", "batchnorm1d"):
        cls = nn.BatchNorm2d if kind == "batchnorm2d" else nn.BatchNorm1d
        return cls(int(spec["features"]), eps=float(spec.get("eps", 1e-5)), device=device)
    if kind == "layernorm":
        return nn.LayerNorm([int(s) for s in spec["shape"]], eps=float(spec.get("eps", 1e-5)),
                            device=device)
    if kind in ("maxpool2d", "avgpool2d"):
        cls = nn.MaxPool2d if kind == "maxpool2d" else nn.AvgPool2d
        return cls(_pair(spec["kernel"]), stride=_pair(spec.get("stride", spec["kernel"])))
    if kind == "adaptive_avgpool2d":
        return nn.AdaptiveAvgPool2d(_pair(spec["out"]))
    if kind == "flatten":
        return nn.Flatten()
    if kind == "activation":
        return make_activation(spec)
    if kind == "residual":
        return Residual(build(spec.get("body", []), f"{where}.body", device),
                        build(spec.get("shortcut", []), f"{where}.shortcut", device))
    raise BundleError(f"{where}: unknown layer type {kind!r} (known: {', '.join(LAYER_TYPES)})")


def build(layers: list[dict], where: str = "layer", device=None) -> nn.Sequential:
    """The module tree a layer list describes. With ``device="meta"`` no memory is allocated
    and no random number is drawn (``init.initialise`` then fills it from its own generator)."""
    mods = []
    for i, spec in enumerate(layers):
        if not isinstance(spec, dict):
            raise BundleError(f"{where} {i}: expected an object, got {type(spec).__name__}")
        mods.append(make_layer(spec, f"{where} {i}", device))
    return nn.Sequential(*mods)
