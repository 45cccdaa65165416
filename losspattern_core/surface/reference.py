"""The reference: the network's outputs and loss at a point, computed the plain way.

``naive_surface`` writes theta_0 + sum alpha_i theta_i into a copy of the model and runs the whole
split through it, one point at a time; the evaluator is tested against it. Both evaluate the
network in eval mode (BatchNorm with its running statistics), whatever mode the caller's is in.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from losspattern_core.losses import per_class_loss

from .directions import Direction, params_at

# samples per forward pass of the reference (a conv network's activations on a whole
# 70 000-image split would not fit in memory); smaller splits run in one pass
NAIVE_CHUNK = 4096


def _as_input(X, device) -> torch.Tensor:
    if isinstance(X, torch.Tensor):
        return X.detach().to(device, torch.float32)
    return torch.as_tensor(np.asarray(X), dtype=torch.float32, device=device)


def _eval_model(model: nn.Module) -> nn.Module:
    """``model`` itself when every module is in eval mode, else an eval-mode deep copy (the
    caller's training flags and BatchNorm statistics are never touched)."""
    if any(m.training for m in model.modules()):
        return copy.deepcopy(model).eval()
    return model


def outputs_at(model: nn.Module, directions: list[Direction], X, alpha) -> torch.Tensor:
    """The network's outputs (eval mode) on every sample of X at one point, on the model's
    device (no mutation)."""
    device = next(model.parameters()).device
    X = _as_input(X, device)
    net = _eval_model(model)
    with torch.no_grad():
        return torch.func.functional_call(net, params_at(net, directions, alpha), (X,))


def naive_surface(model: nn.Module, directions: list[Direction], X, y, alphas, *,
                  classes: int, heads: int = 1, loss: str = "cross_entropy") -> np.ndarray:
    """Reference loop: write each point's weights into an eval-mode copy and run the whole split
    (``NAIVE_CHUNK`` samples per pass)."""
    net = copy.deepcopy(model).eval()
    base = {k: v.detach().clone() for k, v in net.named_parameters()}
    deltas = [d.delta(net) for d in directions]
    X = _as_input(X, next(net.parameters()).device)
    y = torch.as_tensor(np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y),
                        dtype=torch.long, device=X.device)
    out = np.empty((len(alphas), heads))
    with torch.no_grad():
        params = dict(net.named_parameters())
        for j, alpha in enumerate(np.asarray(alphas)):
            for k, p in params.items():
                p.copy_(base[k])
            for a, dl in zip(alpha, deltas, strict=True):
                for k, t in dl.items():
                    params[k].add_(float(a) * t)
            ell = []
            for s in range(0, len(y), NAIVE_CHUNK):
                logits = net(X[s:s + NAIVE_CHUNK]).reshape(-1, heads, classes)
                lab = y[s:s + NAIVE_CHUNK].view(-1, 1, 1).expand(-1, heads, 1)
                ell.append(per_class_loss(logits, loss).gather(2, lab))
            out[j] = torch.cat(ell).mean(0).squeeze(-1).cpu().numpy()
    return out
