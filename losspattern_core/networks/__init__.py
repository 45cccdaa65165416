"""Networks as JSON layer lists (``spec``, ``families``) built as plain torch (``layers``)."""

from __future__ import annotations

import math

import torch
from torch import nn

from .init import initialise
from .layers import ACTIVATIONS, LAYER_TYPES, Residual, Sine, build, make_activation
from .spec import FAMILIES, NetworkSpec


def build_network(spec: NetworkSpec, seed: int = 0,
                  generator: torch.Generator | None = None) -> nn.Sequential:
    """Build and initialise any family: PyTorch's default init, and SIREN's for sine MLPs
    (the layer after the pattern units reads coordinates in [0, 1): U(-c, c); later layers
    U(+-sqrt(6/n)) keep sin(x) unit-scale). One local generator draws every number: pass
    ``generator`` to continue its stream afterwards (a caller's own re-initialisation)."""
    model, gen = initialise(spec.layers(), seed, generator)
    if spec.family == "mlp" and spec.activation == "sin":
        linears = [m for m in model if isinstance(m, nn.Linear)]
        with torch.no_grad():
            linears[1].weight.uniform_(-spec.siren_first, spec.siren_first, generator=gen)
            for lin in linears[2:]:
                bound = math.sqrt(6 / lin.in_features)
                lin.weight.uniform_(-bound, bound, generator=gen)
    return model


def build_mlp(spec: NetworkSpec, seed: int = 0,
              generator: torch.Generator | None = None) -> nn.Sequential:
    """``build_network`` for an MLP spec (kept for the callers that build MLPs by name)."""
    return build_network(spec, seed, generator)


def as_input(X, spec: NetworkSpec) -> torch.Tensor:
    """Rows of flat features (N, d) as the network's input: (N, C, H, W) for the conv
    families (the bundle's ``input_shape``), unchanged for an MLP."""
    X = torch.as_tensor(X)
    if spec.family == "mlp" or not spec.input_shape:
        return X
    return X.reshape(len(X), *spec.input_shape)


def linear_indices(model: nn.Sequential) -> list[int]:
    return [i for i, m in enumerate(model) if isinstance(m, nn.Linear)]


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


__all__ = ["ACTIVATIONS", "FAMILIES", "LAYER_TYPES", "NetworkSpec", "Residual", "Sine",
           "as_input", "build", "build_mlp", "build_network", "linear_indices",
           "make_activation", "parameter_count"]
