"""Which channels can depend on the sample (x) and which on the point (alpha), proved from exact
zeros in the weights, module by module: the family path's separability test.

Masks are per channel (dim 0 of a sample's activation: conv channels, or a flat layer's units).
A channel of an affine module (Linear, Conv) depends on what its inputs with a nonzero weight
(or weight delta) depend on, and on alpha when a direction moves its weights or bias. BatchNorm
in eval mode, activations, pooling and Dropout act on each channel alone; Flatten repeats each
channel over its positions; a residual block is the union of its body and shortcut; LayerNorm
mixes every channel. Any other module, or a shape this walk cannot follow, ends the proof
(``None``): the general path is used then.
"""

from __future__ import annotations

import torch
from torch import nn

from losspattern_core.networks import Residual

from .layers import ELEMENTWISE
from .modules import ModuleNet, is_affine, sub_deltas

Masks = tuple[torch.Tensor, torch.Tensor]     # (dx, da): bool per channel

# modules acting on each channel alone, with no parameter a direction could move
PER_CHANNEL = (*ELEMENTWISE, nn.Dropout, nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d,
               nn.AvgPool2d, nn.AvgPool3d, nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d,
               nn.AdaptiveAvgPool3d, nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d,
               nn.AdaptiveMaxPool3d)


def _moved(deltas: dict, names: tuple[str, ...], channels: int) -> torch.Tensor:
    """(channels,) bool: channels whose parameters ``names`` some direction moves (dim 0)."""
    out = torch.zeros(channels, dtype=torch.bool)
    for n in names:
        d = deltas.get(n)
        if d is not None:
            out |= (d != 0).reshape(d.shape[0], d.shape[1], -1).any(2).any(0).cpu()
    return out


def _affine(mod: nn.Module, masks: Masks, deltas: dict, in_shape: tuple) -> Masks | None:
    dx, da = masks
    w = mod.weight
    flat_ok = len(in_shape) == 1 if isinstance(mod, nn.Linear) else len(in_shape) >= 2
    if not flat_ok or in_shape[0] != len(dx):
        return None
    nz = w != 0
    if "weight" in deltas:
        nz = nz | (deltas["weight"] != 0).any(0)
    reads = nz.reshape(w.shape[0], w.shape[1], -1).any(2).cpu()      # (out, in / groups)
    groups = getattr(mod, "groups", 1)
    if groups > 1:      # block diagonal: output group g reads input group g only
        out, per_in = reads.shape
        full = torch.zeros(groups, out // groups, groups, per_in, dtype=torch.bool)
        idx = torch.arange(groups)
        full[idx, :, idx, :] = reads.view(groups, out // groups, per_in)
        reads = full.view(out, groups * per_in)
    moved = _moved(deltas, ("weight", "bias"), w.shape[0])
    return (reads & dx).any(1), (reads & da).any(1) | moved


def propagate(mod: nn.Module, masks: Masks, deltas: dict, net: ModuleNet) -> Masks | None:
    """The masks after ``mod`` (deltas named inside it), or None where the walk cannot prove
    which channel depends on what."""
    dx, da = masks
    if isinstance(mod, nn.Sequential):
        for i, child in enumerate(mod):
            masks = propagate(child, masks, sub_deltas(deltas, str(i)), net)
            if masks is None:
                return None
        return masks
    if isinstance(mod, Residual):
        body = propagate(mod.body, masks, sub_deltas(deltas, "body"), net)
        short = propagate(mod.shortcut, masks, sub_deltas(deltas, "shortcut"), net)
        if body is None or short is None or body[0].shape != short[0].shape:
            return None
        return body[0] | short[0], body[1] | short[1]
    in_shape = net.in_shapes.get(id(mod))
    if in_shape is None:                 # not reached by the trace
        return None
    if is_affine(mod):
        return _affine(mod, masks, deltas, in_shape)
    if isinstance(mod, nn.modules.batchnorm._BatchNorm):
        if in_shape[0] != len(dx):
            return None
        return dx, da | _moved(deltas, ("weight", "bias"), len(da))
    if isinstance(mod, PER_CHANNEL) and not deltas:
        return dx, da
    if isinstance(mod, nn.Flatten):
        if mod.start_dim != 1 or mod.end_dim != -1 or in_shape[0] != len(dx):
            return None
        rep = int(torch.tensor(in_shape[1:]).prod()) if len(in_shape) > 1 else 1
        return dx.repeat_interleave(rep), da.repeat_interleave(rep)
    if isinstance(mod, nn.LayerNorm):     # mixes every channel of a sample
        if in_shape[0] != len(dx):
            return None
        moved = bool(deltas)
        return (torch.full_like(dx, bool(dx.any())),
                torch.full_like(da, bool(da.any()) or moved))
    return None


def separable_columns(net: ModuleNet) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(alpha features, x features) entering the output Linear when the exact zeros make
    logits(alpha, x) = c(x) + g(alpha), else None.

    The split is exact when no feature the output layer reads depends on both, and no direction
    moves the output weight of an x-dependent feature. A single nonzero coupling weight anywhere
    makes a feature depend on both, and this returns None."""
    first, last = net.first, len(net.mods) - 1
    out = net.mods[last]
    if not isinstance(out, nn.Linear) or len(net.shapes[last]) != 1:
        return None
    channels = net.shapes[first][0]
    masks: Masks | None = (torch.ones(channels, dtype=torch.bool),
                           torch.zeros(channels, dtype=torch.bool))
    for i in range(first, last):
        masks = propagate(net.mods[i], masks, net.deltas.get(i, {}), net)
        if masks is None:
            return None
    dx, da = masks
    if len(dx) != out.in_features:
        return None
    nzd = torch.zeros_like(out.weight, dtype=torch.bool)
    if "weight" in net.deltas.get(last, {}):
        nzd = (net.deltas[last]["weight"] != 0).any(0)
    rel = ((out.weight != 0) | nzd).any(0).cpu()      # features the output layer reads
    if bool((rel & dx & da).any()) or bool((nzd.any(0).cpu() & dx).any()):
        return None
    return torch.nonzero(rel & da).view(-1), torch.nonzero(rel & ~da).view(-1)
