"""The network as the evaluator sees it: detached copies of its layers on the target device.

The caller's model is never moved or written to (it may be shared with a GUI thread): every
Linear becomes an ``Affine`` holding copies of its weight and bias on the evaluation device, and
a parameter-free activation module is used as it is.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from losspattern_core.networks import Sine

# activations the structure detection may look through (they act on each unit alone)
ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.GELU, nn.Sigmoid, nn.SiLU, nn.LeakyReLU, nn.ELU, nn.Softplus,
               nn.Identity, Sine)


@dataclass(frozen=True, eq=False)
class Affine:
    """A detached copy of one ``nn.Linear``: x -> x W^T + b (the same ``F.linear`` call)."""

    weight: torch.Tensor   # (out, in)
    bias: torch.Tensor     # (out,)

    @property
    def in_features(self) -> int:
        return self.weight.shape[1]

    @property
    def out_features(self) -> int:
        return self.weight.shape[0]

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        return F.linear(h, self.weight, self.bias)


def detach_layers(model: nn.Sequential, device: torch.device) -> list:
    """One entry per module of ``model``: an ``Affine`` copy for each Linear, the module itself
    when it holds no state and is in eval mode, else an eval-mode deep copy on ``device`` (never
    the caller's module, whose training flag is left alone: evaluation is always in eval mode,
    so Dropout is off and normalisation uses its running statistics)."""
    layers: list = []
    for mod in model:
        if isinstance(mod, nn.Linear):
            layers.append(Affine(mod.weight.detach().to(device, copy=True),
                                 mod.bias.detach().to(device, copy=True)))
        elif next(mod.parameters(), None) is None and next(mod.buffers(), None) is None:
            training = any(m.training for m in mod.modules())
            layers.append(copy.deepcopy(mod).eval() if training else mod)
        else:
            layers.append(copy.deepcopy(mod).to(device).eval())
    return layers


def run_layers(layers: list, X: torch.Tensor, block: int = 8192) -> torch.Tensor:
    """``layers`` applied in order to every row of X, ``block`` rows at a time."""
    def forward(h):
        for layer in layers:
            h = layer(h)
        return h

    if not len(X):
        return forward(X)
    return torch.cat([forward(X[s:s + block]) for s in range(0, len(X), block)])


def act_(mod: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """An activation on h (..., width), in place where that gives the same numbers as
    ``mod(h)``. Callers only pass tensors they own (fresh results of this tile)."""
    if isinstance(mod, nn.ReLU):
        return h.relu_()
    if isinstance(mod, nn.Tanh):
        return h.tanh_()
    if isinstance(mod, Sine):
        return (h.mul_(mod.w0) if mod.w0 != 1.0 else h).sin_()
    if isinstance(mod, nn.Identity):
        return h
    if isinstance(mod, ELEMENTWISE):
        return mod(h)
    # any other module acts on one sample's row (e.g. PReLU's per-unit slopes read dim 1)
    return mod(h.reshape(-1, h.shape[-1])).view(*h.shape[:-1], -1)
