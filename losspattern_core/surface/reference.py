"""The reference: the network's outputs and loss at a point, computed the plain way.

``naive_surface`` writes theta_0 + sum alpha_i theta_i into a copy of the model and runs the whole
split, one point at a time; the evaluator is tested against it.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from losspattern_core.losses import per_class_loss

from .directions import Direction, params_at


def outputs_at(model: nn.Module, directions: list[Direction], X, alpha) -> torch.Tensor:
    """The network's outputs on every sample of X at one point, on the model's device (no
    mutation)."""
    device = next(model.parameters()).device
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32, device=device)
    with torch.no_grad():
        return torch.func.functional_call(model, params_at(model, directions, alpha), (X,))


def naive_surface(model: nn.Module, directions: list[Direction], X, y, alphas, *,
                  classes: int, heads: int = 1, loss: str = "cross_entropy") -> np.ndarray:
    """Reference loop: write each point's weights into a copy and run the whole split."""
    net = copy.deepcopy(model)
    base = {k: v.detach().clone() for k, v in net.named_parameters()}
    deltas = [d.delta(net) for d in directions]
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32, device=next(net.parameters()).device)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long, device=X.device)
    out = np.empty((len(alphas), heads))
    with torch.no_grad():
        params = dict(net.named_parameters())
        for j, alpha in enumerate(np.asarray(alphas)):
            for k, p in params.items():
                p.copy_(base[k])
            for a, dl in zip(alpha, deltas, strict=True):
                for k, t in dl.items():
                    params[k].add_(float(a) * t)
            logits = net(X).reshape(len(y), heads, classes)
            ell = per_class_loss(logits, loss)
            out[j] = ell.gather(2, y.view(-1, 1, 1).expand(-1, heads, 1)).mean(0).squeeze(-1) \
                .cpu().numpy()
    return out
