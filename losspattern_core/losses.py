"""Per-class losses l(p, k), the implicit activation sigma(p) = sum_k pi_k l(p, k), and the one
factorised cross-entropy of separable logits c(x) + g(alpha)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from losspattern_core.errors import ConfigError

LOSSES = ("cross_entropy", "mse")


def per_class_loss(logits: torch.Tensor, loss: str) -> torch.Tensor:
    """l(p, k) for every class k: (..., K) -> (..., K)."""
    if loss == "cross_entropy":
        return -F.log_softmax(logits, dim=-1)
    if loss == "mse":
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


# --- cross-entropy of separable logits c(x) + g(alpha) -------------------------------------------
#
# When logits(alpha, x_i) = c_i + g_alpha (Theorem 2's block structure), the log-sum-exp over
# classes factorises: sum_k exp(c_ik + g_ak) = e^{cmax_i + gmax_a} sum_k exp(c_ik - cmax_i)
# exp(g_ak - gmax_a), a (points x K)(K x rows) matrix product. The (points x rows x K) tensor of
# logits is never formed. This is the one implementation: the exact surface evaluator and
# Theorem 2's training loss both use it.

# S below this is too close to the dtype's underflow for log S to be accurate: exact path instead
_FACTORISED_FLOOR = {torch.float32: 1e-30, torch.float64: 1e-300}


@dataclass(frozen=True, eq=False)
class SeparableRows:
    """The sample side c(x) of separable logits, prepared once for many points.

    Rows may stand for several samples: ``counts[i, k]`` is how many samples of class k row i
    stands for. Shapes: U rows, H heads, K classes.
    """

    c: torch.Tensor          # (U, H, K)
    cmax: torch.Tensor       # (U, H)
    ec_t: torch.Tensor       # (H, K, U) exp(c - cmax), transposed for the product
    counts: torch.Tensor     # (U, K) float64
    counts_mm: torch.Tensor  # (U, K) counts in c's dtype (for the product with log S)
    class_n: torch.Tensor    # (K,) float64: samples per class
    const: torch.Tensor      # (H, K) float64: sum_i counts_ik (cmax_ih - c_ihk)


def separable_rows(c: torch.Tensor, counts: torch.Tensor) -> SeparableRows:
    """Prepare c (U, H, K) with label counts (U, K) for ``separable_cross_entropy_sums``."""
    counts = counts.double()
    cmax = c.amax(2)
    ec_t = (c - cmax.unsqueeze(2)).exp_().permute(1, 2, 0).contiguous()
    const = torch.einsum("uk,uhk->hk", counts, cmax.double().unsqueeze(2) - c.double())
    return SeparableRows(c, cmax, ec_t, counts, counts.to(c.dtype), counts.sum(0), const)


def separable_cross_entropy_sums(rows: SeparableRows, g: torch.Tensor,
                                 rows_per_tile: int | None = None) -> torch.Tensor:
    """Per-class cross-entropy sums of logits c_i + g_a, float64 (P, H, K):
    out[a, h, k] = sum_i counts_ik CE(c_ih + g_ah, k), for g (P, H, K) in c's dtype.

    Rows are taken ``rows_per_tile`` at a time (all at once by default). Where the factorised
    sum underflows the dtype (logits hundreds of nats apart), that tile is computed with an
    exact float64 log-sum-exp instead. Differentiable in g and c (no in-place op on either).
    """
    H, u = g.shape[1], rows.c.shape[0]
    step = u if rows_per_tile is None else max(1, rows_per_tile)
    floor = _FACTORISED_FLOOR.get(g.dtype, 1e-30)
    gd = g.double()
    gmax = g.amax(2)                                                        # (P, H)
    eg = (g - gmax.unsqueeze(2)).exp_()                                     # (P, H, K)
    out = rows.const.unsqueeze(0) + rows.class_n * (gmax.double().unsqueeze(2) - gd)
    for h in range(H):
        for r0 in range(0, u, step):
            r1 = min(u, r0 + step)
            S = eg[:, h] @ rows.ec_t[h, :, r0:r1]                           # (P, rows)
            if bool(S.amin() > floor):
                out[:, h] += (S.log() @ rows.counts_mm[r0:r1]).double()
                continue
            lg = rows.c[r0:r1, h].double().unsqueeze(0) + gd[:, h].unsqueeze(1)
            log_s = (torch.logsumexp(lg, 2) - rows.cmax[r0:r1, h].double().unsqueeze(0)
                     - gmax[:, h].double().unsqueeze(1))
            out[:, h] += log_s @ rows.counts[r0:r1]
    return out


def mean_cross_entropy_separable(logits_c: torch.Tensor, y: torch.Tensor,
                                 g: torch.Tensor) -> torch.Tensor:
    """mean_i CE(c_i + g_a, y_i) for every row a of g: c (N, K), y (N,), g (A, K) -> (A,),
    float64, differentiable in g and c.

    The same factorised kernel as the exact surface evaluator (``separable_cross_entropy_sums``
    with one-hot counts), in float64; equal to the direct formula up to float64 rounding.
    """
    c, g = logits_c.double(), g.double()
    counts = F.one_hot(y.long(), c.shape[1]).double()
    sums = separable_cross_entropy_sums(separable_rows(c.unsqueeze(1), counts), g.unsqueeze(1))
    return sums.sum((1, 2)) / len(y)
