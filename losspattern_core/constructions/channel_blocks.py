"""Theorem 2's block structure for any family: an alpha block and an x block of channels/units
that meet only in the output layer, so logits(alpha, x) = c(x) + g(alpha) exactly.

Layer 0's first z channels (units) are the pattern channels: their weights are zero, their
biases are alpha. Every later layer with channels splits its outputs into an alpha part (the
first ``round(out * ALPHA_SHARE)``, at least 1) and an x part; a weight entry that would couple
the two parts is zero at theta_0 and its gradient is masked, so Adam never moves it (zero
gradient -> zero moments -> zero update). The output layer reads both parts; its bias belongs to
the x block (the classifier). ``check`` proves the zeros after training.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from losspattern_core.errors import ConfigError, ConstructionError
from losspattern_core.networks import Residual

ALPHA_SHARE = 0.25   # conv families: a quarter of each later layer draws the pattern



@dataclass
class ChannelBlocks:
    """Per parameter name: a bool mask of its alpha-block and x-block entries (the rest must
    stay exactly zero)."""

    alpha: dict[str, torch.Tensor] = field(default_factory=dict)
    x: dict[str, torch.Tensor] = field(default_factory=dict)

    def coupling(self, name: str) -> torch.Tensor:
        return ~(self.alpha[name] | self.x[name])


def _split(n: int) -> torch.Tensor:
    """Which of n output channels belong to the alpha block."""
    k = min(n - 1, max(1, round(n * ALPHA_SHARE)))
    return torch.arange(n) < k


def _mark(blocks: ChannelBlocks, name: str, a_out, a_in, shape) -> None:
    """Weight (out, in, ...) or vector (out,) masks from the channel partitions."""
    if a_in is None:
        a, x = a_out.clone(), ~a_out
    else:
        a = a_out[:, None] & a_in[None, :]
        x = (~a_out)[:, None] & (~a_in)[None, :]
        a, x = (m.view(*m.shape, *([1] * (len(shape) - 2))).expand(shape) for m in (a, x))
    blocks.alpha[name], blocks.x[name] = a.contiguous(), x.contiguous()


def _walk(seq: nn.Sequential, prefix: str, part: torch.Tensor | None, spatial: list,
          blocks: ChannelBlocks, z: int, last: nn.Module) -> torch.Tensor | None:
    """Assign masks layer by layer; ``part`` is the alpha partition of the current channels
    (None before layer 0). ``spatial`` yields each Flatten's features per channel."""
    for i, mod in enumerate(seq):
        name = f"{prefix}{i}"
        if isinstance(mod, (nn.Conv2d, nn.Linear)):
            out = mod.out_channels if isinstance(mod, nn.Conv2d) else mod.out_features
            if part is None:   # layer 0: pattern channels read nothing, their bias is alpha
                a_out = torch.arange(out) < z
                w_shape = mod.weight.shape
                blocks.alpha[f"{name}.weight"] = torch.zeros(w_shape, dtype=torch.bool)
                blocks.x[f"{name}.weight"] = (~a_out).view(-1, *[1] * (len(w_shape) - 1)
                                                          ).expand(w_shape).clone()
                blocks.alpha[f"{name}.bias"] = torch.zeros(out, dtype=torch.bool)
                blocks.x[f"{name}.bias"] = ~a_out
            elif mod is last:                       # the output layer reads both blocks
                shape = mod.weight.shape
                blocks.alpha[f"{name}.weight"] = part[None, :].expand(shape).clone()
                blocks.x[f"{name}.weight"] = (~part)[None, :].expand(shape).clone()
                blocks.alpha[f"{name}.bias"] = torch.zeros(out, dtype=torch.bool)
                blocks.x[f"{name}.bias"] = torch.ones(out, dtype=torch.bool)
                continue
            else:
                a_out = _split(out)
                _mark(blocks, f"{name}.weight", a_out, part, mod.weight.shape)
                _mark(blocks, f"{name}.bias", a_out, None, mod.bias.shape)
            part = a_out
        elif isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            for p in ("weight", "bias"):
                _mark(blocks, f"{name}.{p}", part, None, getattr(mod, p).shape)
        elif isinstance(mod, nn.Flatten):
            part = part.repeat_interleave(spatial.pop(0))
        elif isinstance(mod, Residual):
            a_body = _walk(mod.body, f"{name}.body.", part, spatial, blocks, z, last)
            a_short = _walk(mod.shortcut, f"{name}.shortcut.", part, spatial, blocks, z, last)
            if not torch.equal(a_body, a_short):
                raise ConfigError("Theorem 2 on this residual network would couple the pattern "
                                  "and classifier channels through a shortcut")
            part = a_body
        elif isinstance(mod, nn.LayerNorm):
            raise ConfigError("Theorem 2 cannot keep the blocks apart through a LayerNorm")
    return part


def channel_blocks(model: nn.Sequential, input_shape, z: int) -> ChannelBlocks:
    """The masks for ``model`` (any family built by ``networks``)."""
    spatial: list[int] = []
    hooks = [m.register_forward_hook(lambda m, i, o: spatial.append(int(i[0][0, 0].numel())))
             for m in model.modules() if isinstance(m, nn.Flatten)]
    try:
        with torch.no_grad():
            model(torch.zeros((1, *input_shape), device=next(model.parameters()).device))
    finally:
        for h in hooks:
            h.remove()
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    blocks = ChannelBlocks()
    _walk(model, "", None, spatial, blocks, z, last)
    return blocks


def zero_coupling(model: nn.Module, blocks: ChannelBlocks) -> None:
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name in blocks.alpha:
            params[name][blocks.coupling(name).to(params[name].device)] = 0.0


def mask_gradients(model: nn.Module, blocks: ChannelBlocks, which: str) -> list:
    """Gradient hooks that keep only ``which`` ("alpha" or "x") block entries trainable;
    returns the handles (remove them after the phase)."""
    masks = blocks.alpha if which == "alpha" else blocks.x
    handles = []
    for name, p in model.named_parameters():
        keep = masks.get(name)
        keep = (keep.to(p.device).to(p.dtype) if keep is not None
                else torch.zeros_like(p))   # parameters outside any block never train
        handles.append(p.register_hook(lambda g, keep=keep: g * keep))
    return handles


def check(model: nn.Module, blocks: ChannelBlocks) -> None:
    """Raise naming the parameter if an entry that must be zero is not (after training)."""
    params = dict(model.named_parameters())
    for name in blocks.alpha:
        nonzero = int(torch.count_nonzero(params[name].detach().cpu()[blocks.coupling(name)]))
        if nonzero:
            raise ConstructionError(f"Theorem 2's structure broke: {name} has {nonzero} nonzero "
                                    "coupling entries after training (they must be exactly 0)")
