"""Per-point statistics beside the loss sums: sum of loss^2 and the count of correct samples.

The evaluator's kernels (``kernels``, ``family_kernels``, ``separable``) fill an optional
float64 accumulator ``stats`` of shape (P, heads, 2) when one is passed: ``stats[..., 0]`` the
sum over samples of the per-sample loss squared, ``stats[..., 1]`` the number of samples whose
logits' arg-max (torch's first maximum) is the label. Rows standing for several samples weigh
by their label counts. Without ``stats`` the kernels run exactly as before.

``PointStatistics`` is what ``evaluate.point_statistics`` returns: additive sums over a split
(or a block of it), from which the mean loss, mean loss^2 and accuracy follow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from losspattern_core.losses import per_class_loss


@dataclass
class PointStatistics:
    """Sums over ``n`` samples per point and head: ``sums`` (P, heads, 3) float64 holds the
    loss, the loss squared and the number of correctly classified samples."""

    sums: np.ndarray
    n: int

    @property
    def loss(self) -> np.ndarray:
        """Mean loss (P, heads): ``evaluate_points``' total, bit for bit."""
        return self.sums[..., 0] / self.n

    @property
    def loss_sq(self) -> np.ndarray:
        """Mean of the per-sample loss squared (P, heads)."""
        return self.sums[..., 1] / self.n

    @property
    def acc(self) -> np.ndarray:
        """Share of samples whose arg-max logit is the label (P, heads)."""
        return self.sums[..., 2] / self.n


def first_max_mask(lg: torch.Tensor, dim: int, mx: torch.Tensor | None = None) -> torch.Tensor:
    """Boolean mask of the first maximum along ``dim`` (as ``argmax`` picks it), ``mx`` the
    maxima (keepdim) if known.

    ``argmax`` along a strided class axis (the MLP kernels' transposed logits, rows innermost)
    is ~25x slower than ``amax`` there; ``lg == max`` is the same mask wherever no two classes
    tie for the maximum, so ``argmax`` runs only when some do."""
    mx = lg.amax(dim, keepdim=True) if mx is None else mx
    eq = lg == mx
    count = torch.uint8 if lg.shape[dim] < 256 else torch.int32
    if bool((eq.sum(dim, dtype=count) > 1).any()):      # a tie: the first maximum wins
        return torch.zeros_like(eq).scatter_(dim, lg.argmax(dim, keepdim=True), True)
    return eq


def add_row_statistics(stats: torch.Tensor, ell: torch.Tensor, logits: torch.Tensor,
                       counts: torch.Tensor) -> None:
    """stats (p, H, 2) += sums over rows, from per-class losses ``ell`` and ``logits``, both
    (p, rows, H, K), and the rows' label counts ``counts`` (rows, K) float64."""
    w = counts.unsqueeze(0).unsqueeze(2)                                       # (1, u, 1, K)
    stats[..., 0] += (ell.double().square() * w).sum((1, 3))
    pred = logits.argmax(3, keepdim=True)                                     # (p, u, H, 1)
    stats[..., 1] += w.expand(*logits.shape).gather(3, pred).squeeze(3).sum(1)


def separable_statistics(rows, g: torch.Tensor, loss: str, stats: torch.Tensor,
                         budget: int) -> None:
    """stats (p, H, 2) += loss^2 and correct counts of logits c(x) + g(alpha).

    The factorised cross-entropy gives no per-sample loss, so here c_i + g_a is formed per
    sample in tiles of rows: O(P N K) work, ``budget`` floats per tile. ``rows`` is a
    ``losses.SeparableRows`` (c (U, H, K), counts (U, K)), g (p, H, K)."""
    c, u = rows.c, rows.c.shape[0]
    p, heads, classes = g.shape
    step = max(1, budget // max(1, p * heads * classes))
    for r0 in range(0, u, step):
        r1 = min(u, r0 + step)
        logits = c[r0:r1].unsqueeze(0) + g.unsqueeze(1)                       # (p, u, H, K)
        add_row_statistics(stats, per_class_loss(logits, loss), logits, rows.counts[r0:r1])
