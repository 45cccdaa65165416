"""Parameter layouts: named parameter tensors <-> one flat vector, trajectories of flat points,
and copies of a network at given parameters (the caller's model is never changed)."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from losspattern_core.errors import ConfigError


@dataclass(frozen=True)
class ParamLayout:
    """The order, shapes and sizes of named parameters in a flat vector."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, model: nn.Module, names: Sequence[str] | None = None) -> ParamLayout:
        """The layout of ``model``'s parameters (all of them, in ``named_parameters`` order)."""
        params = dict(model.named_parameters())
        names = list(params) if names is None else list(names)
        unknown = [n for n in names if n not in params]
        if unknown:
            raise ConfigError(f"the network has no parameter {unknown[0]!r}")
        if not names:
            raise ConfigError("no parameter selected")
        return cls(tuple(names), tuple(tuple(params[n].shape) for n in names))

    @property
    def sizes(self) -> list[int]:
        return [int(torch.Size(s).numel()) for s in self.shapes]

    @property
    def size(self) -> int:
        """Total number of scalars."""
        return sum(self.sizes)

    def flatten(self, tensors: Mapping[str, torch.Tensor], dtype=torch.float32,
                device: str | torch.device = "cpu") -> torch.Tensor:
        """Concatenate ``tensors[name]`` for every name of the layout into one vector."""
        missing = [n for n in self.names if n not in tensors]
        if missing:
            raise ConfigError(f"parameter {missing[0]!r} is missing")
        parts = []
        for n, s in zip(self.names, self.shapes, strict=True):
            t = torch.as_tensor(tensors[n]).detach()
            if tuple(t.shape) != s:
                raise ConfigError(f"parameter {n!r} has shape {tuple(t.shape)}, expected {s}")
            parts.append(t.reshape(-1).to(device=device, dtype=dtype))
        return torch.cat(parts)

    def unflatten(self, vec: torch.Tensor) -> dict[str, torch.Tensor]:
        """Split a flat vector back into {name: tensor of its shape} (views of ``vec``)."""
        if vec.ndim != 1 or vec.numel() != self.size:
            raise ConfigError(f"a flat vector of {self.size} entries is needed, got "
                              f"{tuple(vec.shape)}")
        out, pos = {}, 0
        for n, s, k in zip(self.names, self.shapes, self.sizes, strict=True):
            out[n] = vec[pos:pos + k].view(s)
            pos += k
        return out


@dataclass
class Trajectory:
    """Snapshots of the parameters during training: ``points[t]`` is the flat vector at
    ``steps[t]`` (float32, CPU). The last point is the end of training."""

    layout: ParamLayout
    steps: list[int]
    points: torch.Tensor      # (T, D) float32 on the CPU

    def __post_init__(self) -> None:
        if self.points.ndim != 2 or self.points.shape[1] != self.layout.size:
            raise ConfigError(f"trajectory points must be (T, {self.layout.size}), got "
                              f"{tuple(self.points.shape)}")
        if len(self.steps) != len(self.points):
            raise ConfigError(f"{len(self.steps)} steps for {len(self.points)} snapshots")

    def __len__(self) -> int:
        return len(self.points)

    def params(self, t: int) -> dict[str, torch.Tensor]:
        """Snapshot ``t`` as {name: tensor}."""
        return self.layout.unflatten(self.points[t])

    @classmethod
    def from_states(cls, states: Sequence[Mapping[str, torch.Tensor]],
                    model: nn.Module, steps: Sequence[int] | None = None) -> Trajectory:
        """A trajectory from parameter dicts or state_dicts of ``model``'s architecture."""
        if len(states) < 2:
            raise ConfigError("a trajectory needs at least two snapshots")
        layout = ParamLayout.of(model)
        points = torch.stack([layout.flatten(s) for s in states])
        return cls(layout, list(range(len(states)) if steps is None else steps), points)


def param_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """Detached copies of every parameter (the caller's tensors are never handed out)."""
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def model_at(model: nn.Module, params: Mapping[str, torch.Tensor]) -> nn.Module:
    """A deep copy of ``model`` with ``params`` written into it (``model`` is unchanged).

    Parameters not named in ``params`` keep ``model``'s values; buffers are copied.
    """
    net = copy.deepcopy(model)
    own = dict(net.named_parameters())
    unknown = [k for k in params if k not in own]
    if unknown:
        raise ConfigError(f"the network has no parameter {unknown[0]!r}")
    with torch.no_grad():
        for k, v in params.items():
            t = torch.as_tensor(v)
            if t.shape != own[k].shape:
                raise ConfigError(f"parameter {k!r} has shape {tuple(t.shape)}; the network's "
                                  f"has {tuple(own[k].shape)}")
            own[k].copy_(t)
    return net
