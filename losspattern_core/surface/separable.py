"""The c(x) + g(alpha) kernel for separable networks (Theorem 2's block structure).

When exact zeros keep every unit the output layer reads either sample-only or point-only
(``structure.separable_columns``), logits(alpha, x) = c(x) + g(alpha): c (U, H*K) is computed
once at theta_0 and g on a single row per point (the alpha units never read an x unit, so any
row gives them exactly). Cross-entropy is the shared factorised kernel
(``losses.separable_cross_entropy_sums``); MSE is closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from losspattern_core.losses import (
    SeparableRows,
    separable_cross_entropy_sums,
    separable_rows,
)

from .directions import LayerDeltas
from .layers import Affine, run_layers
from .statistics import separable_statistics

_BLOCK = 8192   # rows per pass when computing c(x)


@dataclass(eq=False)
class Separable:
    """logits(alpha, x) = c(x) + g(alpha), found from exact zeros in the weights."""

    heads: int
    classes: int
    rows: SeparableRows        # c (U, H, K) with the split's label counts, for cross-entropy
    mse_a: torch.Tensor        # (H, K) float64: sum_i counts_ik |c_ih|^2
    mse_c: torch.Tensor        # (H, K, K) float64: counts^T c per head
    ops: list                  # hidden ops on one row: ("act", mod) | ("linear", Affine, dws, dbs)
    row0: torch.Tensor         # (1, in) the representative row entering the first moved layer
    out_w_alpha: torch.Tensor  # (out, n_alpha) output weights of the alpha units
    alpha_cols: torch.Tensor   # indices of the alpha units in the last hidden layer
    out_dw: list               # per direction: output-weight delta or None
    out_db: list               # per direction: output-bias delta or None
    x_units: int
    alpha_units: int
    prepare_flops: float

    def describe(self) -> str:
        return (f"logits = c(x) + g(alpha): {self.x_units} x units and {self.alpha_units} "
                f"alpha units feed the output layer")

    def g(self, alpha: torch.Tensor) -> torch.Tensor:
        """g(alpha) (P, H*K) for points alpha (P, z): the network on one row, alpha units only
        entering the output (per-point weights W + sum a_i dW_i as z + 1 shared products)."""
        h = self.row0.expand(len(alpha), -1)
        for op in self.ops:
            if op[0] == "act":
                h = op[1](h)
                continue
            _, mod, dws, dbs = op
            h = _moved_linear(h, mod.weight, mod.bias, dws, dbs, alpha)
        g = h[:, self.alpha_cols] @ self.out_w_alpha.T
        # output-weight deltas are zero on every x-dependent column (checked by the detection)
        return _add_deltas(g, h, self.out_dw, self.out_db, alpha)


def _moved_linear(h, weight, bias, dws, dbs, alpha):
    return _add_deltas(F.linear(h, weight, bias), h, dws, dbs, alpha)


def _add_deltas(out, h, dws, dbs, alpha):
    """out += sum_j alpha_j (h dW_j^T + db_j), in place, skipping unmoved tensors."""
    for j, (dw, db) in enumerate(zip(dws, dbs, strict=True)):
        if dw is not None:
            out += alpha[:, j:j + 1] * (h @ dw.T)
        if db is not None:
            out += alpha[:, j:j + 1] * db
    return out


def build_separable(layers: list, moved: LayerDeltas, first: int, a: torch.Tensor,
                    counts: torch.Tensor, classes: int,
                    cols: tuple[torch.Tensor, torch.Tensor]) -> Separable:
    """c(x) on the unique rows ``a`` (entering layer ``first``) and the ops that give g(alpha),
    for the alpha/x units ``cols`` found by ``structure.separable_columns``."""
    acols, xcols = cols
    last, hid = layers[-1], layers[first:-1]
    u, heads = a.shape[0], last.out_features // classes
    Wl = last.weight
    c = torch.cat([torch.addmm(last.bias, run_layers(hid, a[s:s + _BLOCK])[:, xcols],
                               Wl[:, xcols].T) for s in range(0, u, _BLOCK)])
    flops = 2.0 * u * (sum(m.in_features * m.out_features for m in hid
                           if isinstance(m, Affine)) + len(xcols) * Wl.shape[0])
    rows, mse_a, mse_c = c_statistics(c.view(u, heads, classes), counts)
    ops = []
    for off, mod in enumerate(hid):
        if isinstance(mod, Affine):
            dws, dbs = moved.get(first + off, ([None], [None]))
            ops.append(("linear", mod, list(dws), list(dbs)))
        else:
            ops.append(("act", mod))
    z = len(next(iter(moved.values()))[0])
    dwl, dbl = moved.get(len(layers) - 1, ([None] * z, [None] * z))
    return Separable(heads, classes, rows, mse_a, mse_c, ops,
                     a[:1].clone(), Wl[:, acols].contiguous(), acols, list(dwl), list(dbl),
                     int(len(xcols)), int(len(acols)), flops)


def c_statistics(c: torch.Tensor, counts: torch.Tensor,
                 ) -> tuple[SeparableRows, torch.Tensor, torch.Tensor]:
    """What the losses need of c (U, H, K) with label counts (U, K): the cross-entropy's
    ``SeparableRows``, and MSE's sum_i counts_ik |c_ih|^2 (H, K) and counts^T c (H, K, K)."""
    cd = c.double()
    mse_a = torch.einsum("uk,uh->hk", counts, (cd * cd).sum(2))
    mse_c = torch.einsum("uk,uhj->hkj", counts, cd)
    return separable_rows(c, counts), mse_a, mse_c


def _mse_sums(sep, g: torch.Tensor, nk: torch.Tensor) -> torch.Tensor:
    """sum_i n_ik |c_i + g|^2 - 2 (c_ik + g_k) + 1, expanded: (p, H, K) float64."""
    gd = g.double()
    return (sep.mse_a.unsqueeze(0) + 2 * torch.einsum("phj,hkj->phk", gd, sep.mse_c)
            + nk * (gd * gd).sum(2, keepdim=True)
            - 2 * torch.diagonal(sep.mse_c, dim1=1, dim2=2).unsqueeze(0)
            - 2 * nk * gd + nk)


def separable_sums(sep, alphas: torch.Tensor, loss: str, budget: int,
                   stats: torch.Tensor | None = None) -> torch.Tensor:
    """Per-class loss sums (P, H, K), float64, for a separable network: ``sep`` is a
    ``Separable`` or anything with its ``heads``, ``classes``, ``rows``, ``mse_a``, ``mse_c`` and
    ``g(alpha)`` (the family path's ``FamilySeparable``). ``stats`` (P, H, 2), if given, gets
    loss^2 and correct counts from c(x) + g(alpha) formed per sample
    (``statistics.separable_statistics``; the loss sums stay the factorised ones)."""
    H, K, u = sep.heads, sep.classes, sep.rows.c.shape[0]
    sums = torch.zeros(len(alphas), H, K, dtype=torch.float64, device=alphas.device)
    tile = max(1, budget // (2 * K))         # the fallback's (p, rows, K) float64 fits budget
    rows = max(1, min(u, max(tile // 16, 1)))
    pts = max(1, tile // rows)
    for s in range(0, len(alphas), pts):
        a = alphas[s:s + pts]
        g = sep.g(a).view(len(a), H, K)
        if loss == "mse":
            sums[s:s + pts] += _mse_sums(sep, g, sep.rows.class_n)
        else:
            sums[s:s + pts] += separable_cross_entropy_sums(sep.rows, g, rows)
        if stats is not None:
            separable_statistics(sep.rows, g, loss, stats[s:s + pts], budget)
    return sums
