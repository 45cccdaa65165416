"""The plane of the multi-point optimisation: a trainable origin, right and up vectors and a
scale, as their ``MaskModel`` with ``parametrization_type: up_orthogonal`` (their main one).

Every vector is a full flat weight vector of the base network (``torch.cat`` of its parameters
in ``named_parameters`` order). origin, right_param and up_param start as three fresh default
initialisations of the network; the scale starts at 0.1. Then

    right = right_param - origin
    up    = Gram-Schmidt(up_param against right), rescaled to |right| (in float64, as theirs)
    w(i, j) = origin + scale * (i' * up + j' * right),  i' = i - H // 2,  j' = j - W // 2

for the cell in row i (from the top) and column j of an H x W icon.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from losspattern_core.networks import NetworkSpec, build_network
from losspattern_core.surface import Direction


def orthogonalize(v1: torch.Tensor, v2: torch.Tensor) -> torch.Tensor:
    """v2 made orthogonal to v1 (Gram-Schmidt) and rescaled to |v1|; computed in float64
    and returned in v1's dtype (their ``orthogonalize(..., adjust_len_to_v1=True)``)."""
    a, b = v1.double(), v2.double()
    r = b - a * (torch.dot(b, a) / a.norm().pow(2))
    return (r * (a.norm() / r.norm())).to(v1.dtype)


def plane_seeds(seed: int) -> list[int]:
    """Three independent initialisation seeds (origin, right_param, up_param) from one."""
    return [int(s) for s in np.random.SeedSequence(int(seed)).generate_state(3)]


class Plane(nn.Module):
    """origin, right_param, up_param (flat weight vectors) and the scalar scale."""

    def __init__(self, spec: NetworkSpec, seed: int = 0, scale: float = 0.1) -> None:
        super().__init__()
        nets = [build_network(spec, seed=s) for s in plane_seeds(seed)]
        named = list(nets[0].named_parameters())
        self.names = [k for k, _ in named]
        self.shapes = [tuple(p.shape) for _, p in named]
        self.numels = [p.numel() for _, p in named]

        def flat(net: nn.Module) -> torch.Tensor:
            return torch.cat([p.detach().reshape(-1) for p in net.parameters()]).clone()
        self.origin = nn.Parameter(flat(nets[0]))
        self.right_param = nn.Parameter(flat(nets[1]))
        self.up_param = nn.Parameter(flat(nets[2]))
        self.scale = nn.Parameter(torch.tensor(float(scale)))
        self.buffers_of_origin = {k: b.detach().clone() for k, b in nets[0].named_buffers()}

    @property
    def right(self) -> torch.Tensor:
        return self.right_param - self.origin

    @property
    def up(self) -> torch.Tensor:
        return orthogonalize(self.right, self.up_param)

    def cell_vectors(self, cells: torch.Tensor) -> torch.Tensor:
        """(n, P) weight vectors of centred cells (n, 2) = (i', j'), differentiable."""
        c = cells.to(self.origin.device, self.origin.dtype)
        return self.origin + self.scale * (c[:, :1] * self.up + c[:, 1:] * self.right)

    def unflatten(self, vectors: torch.Tensor) -> dict[str, torch.Tensor]:
        """(n, P) flat vectors -> {name: (n, *shape)} views (or (P,) -> {name: shape})."""
        lead = vectors.shape[:-1]
        parts = torch.split(vectors, self.numels, dim=-1)
        return {k: t.reshape(*lead, *s) for k, t, s in zip(self.names, parts, self.shapes,
                                                           strict=True)}

    def origin_state(self) -> dict[str, torch.Tensor]:
        """The origin network's state_dict (parameters and buffers), detached copies."""
        with torch.no_grad():
            state = {k: v.clone() for k, v in self.unflatten(self.origin.detach()).items()}
        state.update({k: b.clone().to(self.origin.device)
                      for k, b in self.buffers_of_origin.items()})
        return state

    def directions(self) -> list[Direction]:
        """The plane in our convention: direction 1 = scale * right (alpha_1 = j'), direction
        2 = -scale * up (alpha_2 = -i'), so that direction 2 points up in the icon (their row
        index grows downwards). The weights at every cell are exactly theirs."""
        with torch.no_grad():
            s = self.scale.detach()
            right = self.unflatten((s * self.right).detach().clone())
            up = self.unflatten((-s * self.up).detach().clone())
        return [Direction(tensors=right), Direction(tensors=up)]


def alpha_range(height: int, width: int) -> list[list[float]]:
    """The grid range of ``Plane.directions`` in which grid point (a, b) of an H x W grid
    (H = W = G) is exactly the cell in row H - 1 - b, column a."""
    return [[float(-(width // 2)), float(width - 1 - width // 2)],
            [float(height // 2 - (height - 1)), float(height // 2)]]


def cell_of_grid_point(a: int, b: int, height: int) -> tuple[int, int]:
    """(row, column) of the icon cell at grid point (a, b)."""
    return height - 1 - b, a
