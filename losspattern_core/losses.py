"""Per-class losses l(p, k) and the implicit activation sigma(p) = sum_k pi_k l(p, k)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from losspattern_core.errors import ConfigError

LOSSES = ("cross_entropy", "mse")


def per_class_loss(logits: torch.Tensor, loss: str) -> torch.Tensor:
    """l(p, k) for every class k: (..., K) -> (..., K)."""
    if loss == "cross_entropy":
        return -F.log_softmax(logits, dim=-1)
    if loss == "mse":
        k = logits.shape[-1]
        sq = (logits**2).sum(-1, keepdim=True)
        return sq - 2 * logits + 1.0  # ||p - e_k||^2, summed over classes
    raise ConfigError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")


def sigma(logits: torch.Tensor, marginal: torch.Tensor, loss: str) -> torch.Tensor:
    """Loss of one constant prediction p over a dataset with label marginal pi."""
    return (per_class_loss(logits, loss) * marginal).sum(-1)


def floor(marginal, loss: str) -> float:
    """The smallest value sigma can take: H(pi) for cross-entropy, 1 - ||pi||^2 for MSE."""
    pi = torch.as_tensor(marginal, dtype=torch.float64)
    if loss == "cross_entropy":
        nz = pi[pi > 0]
        return float(-(nz * nz.log()).sum())
    if loss == "mse":
        return float(1.0 - (pi**2).sum())
    raise ConfigError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")
