"""Directions in parameter space, the point theta_0 + sum_i alpha_i theta_i, and the directions'
per-layer deltas that the evaluator works from."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from losspattern_core.errors import ConfigError

# per Sequential index of a moved Linear: (dW per direction, db per direction), None = unmoved
LayerDeltas = dict[int, tuple[list, list]]


@dataclass(frozen=True)
class Direction:
    """A direction in parameter space.

    Axis-aligned: ``param``/``index``/``scale`` (one scalar moves, as in the theorems).
    Dense: ``tensors`` maps parameter names to full-size tensors.
    """

    param: str | None = None
    index: int = 0
    scale: float = 1.0
    tensors: dict = field(default=None, repr=False)

    def delta(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """This direction as {parameter name: tensor}, on each parameter's device and dtype."""
        params = dict(model.named_parameters())
        if self.tensors is not None:
            unknown = set(self.tensors) - set(params)
            if unknown:
                raise ConfigError(f"direction names unknown parameters {sorted(unknown)}")
            out = {k: torch.as_tensor(v).detach().to(params[k]) for k, v in self.tensors.items()}
            for k, t in out.items():
                if t.shape != params[k].shape:
                    raise ConfigError(f"direction tensor for {k} has shape {tuple(t.shape)}; "
                                      f"the parameter has {tuple(params[k].shape)}")
            return out
        if self.param not in params:
            raise ConfigError(f"direction names unknown parameter {self.param!r}")
        p = params[self.param]
        if not 0 <= self.index < p.numel():
            raise ConfigError(f"direction index {self.index} outside {self.param} "
                              f"({p.numel()} entries)")
        d = torch.zeros_like(p).view(-1)
        d[self.index] = self.scale
        return {self.param: d.view_as(p).detach()}

    def to_json(self) -> dict:
        """The axis-aligned direction as JSON (dense directions are stored as tensors)."""
        if self.tensors is not None:
            raise ConfigError("dense directions are stored as tensors, not JSON")
        return {"param": self.param, "index": int(self.index), "scale": float(self.scale)}


def random_direction(model: nn.Module, seed: int = 0, params: list[str] | None = None,
                     normalization: str | None = "filter") -> Direction:
    """A dense Gaussian direction over ``params`` (default: every parameter).

    ``filter`` normalisation (Li et al. 2018): each row of a weight matrix (one unit's filter)
    is scaled to the norm of the same row of theta_0; a bias vector to the norm of theta_0's.
    """
    gen = torch.Generator().manual_seed(int(seed))
    tensors = {}
    for name, p in model.named_parameters():
        if params is not None and name not in params:
            continue
        ref = p.detach().cpu()
        d = torch.randn(ref.shape, generator=gen, dtype=torch.float32)
        if normalization == "filter":
            if d.ndim >= 2:
                ref2, d2 = ref.reshape(len(ref), -1), d.reshape(len(d), -1)
                d = (d2 * (ref2.norm(dim=1, keepdim=True)
                           / d2.norm(dim=1, keepdim=True).clamp(min=1e-12))).view_as(ref)
            else:
                d = d * (ref.norm() / d.norm().clamp(min=1e-12))
        elif normalization is not None:
            raise ConfigError(f"unknown normalization {normalization!r}: use 'filter' or None")
        tensors[name] = d.to(p.device)
    if not tensors:
        raise ConfigError("random_direction: no parameter selected")
    return Direction(tensors=tensors)


def params_at(model: nn.Module, directions: list[Direction], alpha) -> dict[str, torch.Tensor]:
    """theta_0 + sum_i alpha_i theta_i as a parameter dict (for torch.func.functional_call)."""
    params = {k: v.detach().clone() for k, v in model.named_parameters()}
    for a, d in zip(alpha, directions, strict=True):
        for k, t in d.delta(model).items():
            params[k] += float(a) * t
    return params


def linear_deltas(model: nn.Sequential, directions: list[Direction],
                  device: torch.device) -> LayerDeltas:
    """Per Sequential index of a moved Linear: (dW list, db list) on ``device``, None where a
    direction leaves that tensor alone.

    An all-zero delta counts as unmoved, so a dense direction that leaves a layer alone does not
    cost that layer a per-point product. Moving anything but a Linear layer is an error (the
    evaluator would otherwise ignore it).
    """
    if not isinstance(model, nn.Sequential):
        raise ConfigError(f"the evaluator needs an nn.Sequential, got {type(model).__name__}")
    deltas = [d.delta(model) for d in directions]
    known = {f"{i}.{n}" for i, m in enumerate(model) if isinstance(m, nn.Linear)
             for n, _ in m.named_parameters()}
    for dl in deltas:
        if set(dl) - known:
            raise ConfigError(f"directions move {sorted(set(dl) - known)}, not a Linear layer")

    def moved(t):
        return None if t is None or not bool(torch.any(t != 0)) else t.to(device)

    out: LayerDeltas = {}
    for i, mod in enumerate(model):
        if not isinstance(mod, nn.Linear):
            continue
        if mod.bias is None:
            raise ConfigError(f"layer {i} is a Linear without bias; the evaluator needs biases")
        dws = [moved(dl.get(f"{i}.weight")) for dl in deltas]
        dbs = [moved(dl.get(f"{i}.bias")) for dl in deltas]
        if any(t is not None for t in dws + dbs):
            out[i] = (dws, dbs)
    return out


def stack_deltas(ts: list, like: torch.Tensor) -> torch.Tensor:
    """(z, *like.shape): the directions' deltas of one tensor, zeros where unmoved."""
    return torch.stack([torch.zeros_like(like) if t is None else t for t in ts])
