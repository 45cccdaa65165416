"""An unmoved average pool and flatten before a Linear, folded into the Linear.

The cnn ends in AdaptiveAvgPool2d(4, 4) -> Flatten -> Linear(64 * 16, 128) on 3 x 3 maps:
the pool (an upsampling average, here) and the flatten are linear maps, so together with the
Linear they are one Linear on the pool's input, W' = W M with M the pool-and-flatten matrix, and
each direction's delta folds the same way (dW' = dW M, linear in W). Run per point that saves
the pool's pass, the flatten's copy out of channels-last and, where the pool's input is smaller
than its output (576 against 1024 inputs for the cnn), part of the product. Folded only where
the pool's input is no larger than the Linear's (for ResNet's global pool it would be larger)
and only for the general structure (the structure analyses read the modules as they are).
The pool's input is read in its own memory order (channels-last: H, W, C), so no copy is made.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import nn

from .modules import ModuleNet, trace_shapes

POOLS = (nn.AdaptiveAvgPool2d, nn.AvgPool2d)


class FlattenInMemoryOrder(nn.Module):
    """(N, C, H, W) -> (N, C * H * W) in the order the elements lie in memory (channels-last:
    H, W, C): a view where ``flatten`` would copy."""

    def __init__(self, channels_last: bool):
        super().__init__()
        self.channels_last = channels_last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            x = x.permute(0, 2, 3, 1)
        return x.reshape(len(x), -1)


def _pool_matrix(pool: nn.Module, flat: nn.Module, shape: tuple, channels_last: bool,
                 like: torch.Tensor) -> torch.Tensor:
    """(inputs, outputs): row r is pool + flatten applied to the r-th basis input, the inputs
    numbered in memory order."""
    c, h, w = shape
    n = c * h * w
    eye = torch.eye(n, dtype=like.dtype, device=like.device)
    basis = (eye.view(n, h, w, c).permute(0, 3, 1, 2) if channels_last
             else eye.view(n, c, h, w))
    return flat(pool(basis))


def fold_pool_into_linear(net: ModuleNet) -> ModuleNet:
    """``net`` with every unmoved (avg pool, Flatten, Linear) run folded into the Linear
    (the pool becomes an Identity, the Flatten a view; indices and deltas' names stay), or
    ``net`` itself when there is none worth folding."""
    mods, deltas = list(net.mods), dict(net.deltas)
    device = None
    for i in range(len(mods) - 2):
        pool, flat, lin = mods[i:i + 3]
        shape = net.shapes[i]
        if (not isinstance(pool, POOLS) or not isinstance(flat, nn.Flatten)
                or not isinstance(lin, nn.Linear) or i in deltas or i + 1 in deltas
                or len(shape) != 3 or math.prod(shape) > lin.in_features
                or set(deltas.get(i + 2, {})) - {"weight", "bias"}):
            continue
        with torch.no_grad():
            m = _pool_matrix(pool, flat, shape, net.channels_last, lin.weight)   # (in', in)
            folded = nn.Linear(m.shape[0], lin.out_features, bias=lin.bias is not None,
                               device=lin.weight.device, dtype=lin.weight.dtype)
            folded.weight.copy_(lin.weight @ m.T)
            if lin.bias is not None:
                folded.bias.copy_(lin.bias)
            folded.requires_grad_(False)
            device = lin.weight.device
        if "weight" in deltas.get(i + 2, {}):
            d = dict(deltas[i + 2])
            d["weight"] = d["weight"] @ m.T
            deltas[i + 2] = d
        mods[i], mods[i + 1], mods[i + 2] = (nn.Identity(),
                                             FlattenInMemoryOrder(net.channels_last), folded)
    if device is None:
        return net
    shapes, in_shapes, widest = trace_shapes(mods, net.shapes[0], device)
    return dataclasses.replace(net, mods=mods, deltas=deltas, shapes=shapes,
                               in_shapes=in_shapes, widest=widest)
