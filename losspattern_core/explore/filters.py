"""Random filter-normalised directions (Li et al. 2018, "Visualizing the Loss Landscape of
Neural Nets"), with the conventions of tomgoldstein/loss-landscape's ``net_plotter.py``:

* one Gaussian tensor per parameter (``torch.randn``, drawn in ``named_parameters`` order from
  one generator seeded with ``seed``; direction i is the i-th draw, so the z directions of a
  seed are fixed and direction 1 of a z = 2 request equals the z = 1 request);
* every tensor with 2 or more dimensions is split into filters along its first dimension (a
  Linear weight's rows = output neurons; a Conv weight's output channels) and each filter d_f
  is rescaled to the norm of the same filter of the network: d_f * ||w_f|| / (||d_f|| + 1e-10);
* 1-D tensors (biases, BatchNorm weights and biases) are set to ZERO by default
  (``ignore_biasbn=True``, loss-landscape's ``--xignore biasbn``). With ``ignore_biasbn=False``
  they follow loss-landscape's other branch: the direction copies the parameter itself
  (``d.copy_(w)``), which moves each 1-D parameter by alpha times its own value.
"""

from __future__ import annotations

import torch
from torch import nn

from losspattern_core.errors import ConfigError
from losspattern_core.surface import Direction

EPS = 1e-10   # loss-landscape's guard in d * ||w|| / (||d|| + eps)


def normalize_filters(d: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``d`` with each filter (slice along dim 0) rescaled to the norm of ``w``'s filter."""
    d2, w2 = d.reshape(len(d), -1), w.reshape(len(w), -1)
    scale = w2.norm(dim=1, keepdim=True) / (d2.norm(dim=1, keepdim=True) + EPS)
    return (d2 * scale).view_as(d)


def filter_normalized_direction(model: nn.Module, *, seed: int = 0, ignore_biasbn: bool = True,
                                generator: torch.Generator | None = None) -> Direction:
    """One random filter-normalised direction at ``model``'s parameters (see module doc).

    ``generator`` (CPU) continues an existing stream; otherwise one is seeded with ``seed``.
    """
    gen = generator or torch.Generator().manual_seed(int(seed))
    tensors = {}
    for name, p in model.named_parameters():
        w = p.detach().to(device="cpu", dtype=torch.float32)
        d = torch.randn(w.shape, generator=gen, dtype=torch.float32)
        if d.ndim <= 1:
            d = torch.zeros_like(w) if ignore_biasbn else w.clone()
        else:
            d = normalize_filters(d, w)
        tensors[name] = d.to(device=p.device, dtype=p.dtype)
    if not tensors:
        raise ConfigError("the network has no parameters")
    return Direction(tensors=tensors)


def filter_normalized_directions(model: nn.Module, z: int = 2, *, seed: int = 0,
                                 ignore_biasbn: bool = True) -> list[Direction]:
    """z random filter-normalised directions from one seeded stream (z = 1, 2, 3, ...)."""
    if int(z) < 1:
        raise ConfigError(f"z must be >= 1, got {z}")
    gen = torch.Generator().manual_seed(int(seed))
    return [filter_normalized_direction(model, ignore_biasbn=ignore_biasbn, generator=gen)
            for _ in range(int(z))]
