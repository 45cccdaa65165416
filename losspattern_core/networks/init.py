"""Initialisation from a generator local to the call (the global RNG is neither seeded nor
drawn from), so a run cancelled on one thread cannot shift the next run's numbers."""

from __future__ import annotations

import math

import torch
from torch import nn

from .layers import build


def default_init(mod: nn.Module, gen: torch.Generator) -> None:
    """``reset_parameters`` of Linear/Conv2d drawn from ``gen`` (the same numbers the global
    RNG seeded alike would give); norms start at weight 1, bias 0, running mean 0, var 1."""
    if isinstance(mod, (nn.Linear, nn.Conv2d)):
        nn.init.kaiming_uniform_(mod.weight, a=math.sqrt(5), generator=gen)
        if mod.bias is not None:
            fan_in = mod.weight[0].numel()
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            nn.init.uniform_(mod.bias, -bound, bound, generator=gen)
    elif isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
        mod.reset_parameters()
    elif isinstance(mod, nn.LayerNorm):
        mod.reset_parameters()


def initialise(layers: list[dict], seed: int, generator: torch.Generator | None = None,
               ) -> tuple[nn.Sequential, torch.Generator]:
    """Build ``layers`` on CPU with PyTorch's default init from a local generator (``generator``
    if given, else one seeded with ``seed``); returns the generator too, so a caller's own
    re-initialisation continues the same stream."""
    gen = generator if generator is not None else torch.Generator().manual_seed(int(seed))
    model = build(layers, device="meta").to_empty(device="cpu")
    with torch.no_grad():
        for mod in model.modules():
            default_init(mod, gen)
    return model, gen
