"""Linear interpolation between two networks of one architecture (Goodfellow, Vinyals & Saxe
2015, "Qualitatively characterizing neural network optimization problems").

theta(alpha) = theta_A + alpha (theta_B - theta_A): the origin is network A (alpha = 0), B is
at alpha = 1, and the default range [-0.5, 1.5] looks beyond both ends. The direction moves
parameters only; buffers (BatchNorm running statistics) stay A's along the whole line.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from losspattern_core.errors import ConfigError
from losspattern_core.surface import Direction

DEFAULT_RANGE = (-0.5, 1.5)

State = Mapping[str, torch.Tensor]


@dataclass
class Interpolation:
    """``origin``: a copy of the network at theta_A; ``direction``: theta_B - theta_A."""

    origin: nn.Module
    direction: Direction
    alpha_range: tuple[float, float] = DEFAULT_RANGE

    def alphas(self, points: int) -> np.ndarray:
        """``points`` evenly spaced alphas over ``alpha_range``, shaped (points, 1) for
        ``evaluate_points``."""
        if points < 2:
            raise ConfigError(f"need at least 2 points on the line, got {points}")
        return np.linspace(*self.alpha_range, int(points)).reshape(-1, 1)


def first_mismatch(a: State, b: State, names: tuple[str, str] = ("first", "second")
                   ) -> str | None:
    """A sentence naming the first entry where two state dicts differ in keys or shapes
    (None when they agree); ``names`` say what a and b are."""
    na, nb = names
    for k, t in a.items():
        if k not in b:
            return f"parameter {k!r} of the {na} network is missing from the {nb}"
        sa, sb = tuple(torch.as_tensor(t).shape), tuple(torch.as_tensor(b[k]).shape)
        if sa != sb:
            return f"parameter {k!r} has shape {sa} in the {na} network and {sb} in the {nb}"
    for k in b:
        if k not in a:
            return f"parameter {k!r} of the {nb} network is missing from the {na}"
    return None


def _state(x: nn.Module | State) -> dict[str, torch.Tensor]:
    if isinstance(x, nn.Module):
        return {k: v.detach() for k, v in x.state_dict().items()}
    if isinstance(x, Mapping):
        return {k: torch.as_tensor(v).detach() for k, v in x.items()}
    raise ConfigError(f"expected a network or a state_dict, got {type(x).__name__}")


def interpolation(a: nn.Module | State, b: nn.Module | State, *,
                  template: nn.Module | None = None,
                  alpha_range: tuple[float, float] = DEFAULT_RANGE) -> Interpolation:
    """The line from network ``a`` to network ``b`` (modules or state_dicts).

    ``template`` gives the architecture when both are state_dicts (default: ``a`` if it is a
    module, else ``b``). Networks whose state_dicts differ in keys or shapes are refused with
    the first mismatching parameter named. Neither network is changed.
    """
    if template is None:
        template = a if isinstance(a, nn.Module) else b if isinstance(b, nn.Module) else None
    if template is None:
        raise ConfigError("two state_dicts need a template network (template=) for the "
                          "architecture")
    sa, sb = _state(a), _state(b)
    why = first_mismatch(sa, sb) or first_mismatch(_state(template), sa, ("template", "first"))
    if why:
        raise ConfigError(f"the two networks are not the same architecture: {why}")
    lo, hi = (float(v) for v in alpha_range)
    if not lo < hi:
        raise ConfigError(f"alpha range must have low < high, got {alpha_range}")
    origin = copy.deepcopy(template)
    origin.load_state_dict(sa)     # copies A's values into the copy's own tensors
    tensors = {}
    for k, p in origin.named_parameters():
        if not torch.is_floating_point(p):
            continue
        tensors[k] = (sb[k].to(p) - sa[k].to(p)).detach()
    return Interpolation(origin, Direction(tensors=tensors), (lo, hi))
