"""The tiled shared-prefix evaluation of the general path.

A tile is (points x rows): ``per_point`` computes what depends on the points only,
``first_layers`` the pre-activation entering the tail (the first moved layer, and the next one
when its fixed units were folded), ``tail`` runs the remaining layers and writes the logits
transposed, and ``loss_sums`` reduces them to per-class sums in float64. ``tiled_sums`` drives
the tiles so that memory stays bounded by ``budget`` floats.
"""

from __future__ import annotations

import torch
from torch import nn

from .layers import act_
from .prepare import Prepared
from .statistics import first_max_mask

# relu(a + b) in one pass: a private aten op with a vectorised kernel on CPU only
_ADD_RELU = getattr(torch.ops.aten, "_add_relu", None)
_ADD_RELU_ = getattr(torch.ops.aten, "_add_relu_", None)


def fused_add_relu_ok(t: torch.Tensor) -> bool:
    """Whether ``aten._add_relu`` may be used on ``t`` (it exists and ``t`` is on the CPU)."""
    return _ADD_RELU is not None and _ADD_RELU_ is not None and t.device.type == "cpu"


def _relu_next(prep: Prepared, j: int) -> bool:
    return j < len(prep.tail) and prep.tail[j][0] == "act" and isinstance(prep.tail[j][1], nn.ReLU)


def _bias_act_(prep: Prepared, h: torch.Tensor, b: torch.Tensor, j: int) -> int:
    """h += b, then the tail's op j if it is a ReLU (fused: one pass); returns the next op."""
    if _relu_next(prep, j) and fused_add_relu_ok(h):
        _ADD_RELU_(h, b)
        return j + 1
    h += b
    return j


def _rows_of(t: torch.Tensor, r0: int, r1: int) -> torch.Tensor:
    """Rows r0:r1 of a per-row tensor, or the tensor itself when it has one row for all."""
    return t if t.shape[0] == 1 else t[r0:r1]


def first_layers(prep: Prepared, alpha: torch.Tensor, r0: int, r1: int,
                 per_point: dict) -> tuple[torch.Tensor, int]:
    """Pre-activation entering the tail for points ``alpha`` (p, z) and rows r0:r1, and the
    index of the tail op to run next (1 when the tail's leading ReLU was fused in)."""
    p, u = alpha.shape[0], r1 - r0
    if prep.split and "v" in per_point:        # moved units identical on every row
        c = _rows_of(prep.C, r0, r1)
        if _relu_next(prep, 0) and c.shape[0] == u and fused_add_relu_ok(c):
            return _ADD_RELU(c.unsqueeze(0), per_point["v"].unsqueeze(1)), 1
        return c.unsqueeze(0) + per_point["v"].unsqueeze(1), 0
    if prep.stack is not None:     # (1, alpha) x [base; drows]: one pass, no copy of base
        coef = torch.cat([alpha.new_ones(p, 1), alpha], dim=1)
        h = torch.mm(coef, prep.stack[:, r0:r1].reshape(prep.z + 1, -1)).view(p, u, -1)
    elif prep.drows is not None:
        m = prep.base.shape[1]
        base = prep.base[r0:r1].reshape(1, -1)
        h = torch.addmm(base, alpha, prep.drows[:, r0:r1].reshape(prep.z, -1)).view(p, u, m)
    else:
        h = _rows_of(prep.base, r0, r1).unsqueeze(0) + per_point["shift"].unsqueeze(1)
        if h.shape[1] != u:
            h = h.expand(p, u, -1).contiguous()
    if not prep.split:
        return h, 0
    h = act_(prep.act1, h)
    out = torch.matmul(h, prep.wm_t)
    return out, _bias_act_(prep, out, _rows_of(prep.C, r0, r1), 0)


def tail(prep: Prepared, h: torch.Tensor, per_point: dict, start: int = 0) -> torch.Tensor:
    """Run the tail from op ``start`` and return the logits transposed, (p, heads*K, rows)
    (rows innermost).

    Reducing over a handful of classes is ~10x faster along a strided axis with the rows
    contiguous than along a short innermost axis (as ``log_softmax`` does), so the last Linear
    layer writes its output transposed: W @ h^T is one GEMM either way. A bias followed by a
    ReLU is added in the same pass as the ReLU (the product itself is written bias-free).
    """
    last = len(prep.tail) - 1
    j = start
    while j <= last:
        kind, op = prep.tail[j]
        j += 1
        p, u = h.shape[:2]
        if kind == "act":
            h = act_(op, h)
        elif kind == "linear":
            if j - 1 == last:
                lt = torch.addmm(op.bias.unsqueeze(1), op.weight, h.reshape(p * u, -1).T)
                return lt.view(-1, p, u).permute(1, 0, 2)
            h = torch.mm(h.reshape(p * u, -1), op.weight.T).view(p, u, -1)
            j = _bias_act_(prep, h, op.bias, j)
        else:
            w_t, b = per_point[j - 1]
            if w_t is None:    # few rows: one stacked GEMM shared by all points
                r = torch.matmul(h, b[0]).view(p, u, prep.z + 1, -1)
                h = r[:, :, 0] + torch.einsum("puzo,pz->puo", r[:, :, 1:], b[1])
                h += b[2].unsqueeze(1)
            elif j - 1 == last:
                return torch.baddbmm(b.unsqueeze(2), w_t.transpose(1, 2), h.transpose(1, 2))
            else:
                h = torch.bmm(h, w_t)
                j = _bias_act_(prep, h, b.unsqueeze(1), j)
    return h.permute(0, 2, 1).contiguous()


# floats of one point's activations in a CPU tile (a core's L2 cache), and of a whole tile
CPU_ROW_FLOATS = 2**17
CPU_TILE_FLOATS = 2**19


def _few_rows(prep: Prepared) -> bool:
    """Few rows: later moved layers use one stacked GEMM, not per-point weights."""
    return prep.rows <= 4 * (prep.z + 1)


def per_point(prep: Prepared, alpha: torch.Tensor) -> dict:
    """What depends on the points only (not on rows): shifts, v(alpha), per-point weights."""
    pp: dict = {}
    shift = alpha @ prep.dconst
    if prep.split and prep.base.shape[0] == 1 and prep.drows is None:
        h = act_(prep.act1, prep.base + shift)
        pp["v"] = h @ prep.wm_t
    else:
        pp["shift"] = shift
    for j, (kind, op) in enumerate(prep.tail):
        if kind != "moved":
            continue
        b = torch.addmm(op.bias, alpha, op.dbias)
        if _few_rows(prep):
            stacked = torch.cat([op.weight_t, *op.dweight_t], dim=1)
            pp[j] = (None, (stacked, alpha, b))
        else:
            w = torch.addmm(op.weight_t.reshape(1, -1), alpha,
                            op.dweight_t.reshape(prep.z, -1)).view(len(alpha),
                                                                   *op.weight_t.shape)
            pp[j] = (w, b)
    return pp


def loss_sums(prep: Prepared, lt: torch.Tensor, r0: int, r1: int, heads: int,
              classes: int, loss: str, stats: torch.Tensor | None = None) -> torch.Tensor:
    """Per-class loss sums (p, heads, K) over rows r0:r1 from transposed logits (p, H*K, u).

    Same formulas as ``losses.per_class_loss``; the sums over rows are taken in float64.
    ``stats`` (p, heads, 2) float64, if given, gets the rows' loss^2 and correct counts added
    (``statistics``)."""
    p, _, u = lt.shape
    lg = lt.reshape(p, heads, classes, u)
    mx = None
    if loss == "cross_entropy":
        mx = lg.amax(2, keepdim=True)
        lse = (lg - mx).exp_().sum(2).log_() + mx.squeeze(2)                   # (p, H, u)
        fixed, sign = lse, -1.0                                                 # l_k = lse - x_k
    else:
        fixed, sign = (lg * lg).sum(2) + 1.0, -2.0                              # sq - 2 x_k + 1
    if prep.label is not None:
        lab = prep.label[r0:r1].view(1, 1, 1, u).expand(p, heads, 1, u)
        ell = fixed + sign * lg.gather(2, lab).squeeze(2)                       # (p, H, u)
        if stats is not None:
            weight = prep.label_w[r0:r1].sum(1)                                 # samples per row
            stats[..., 0] += torch.matmul(ell.double().square(), weight)
            correct = first_max_mask(lg, 2, mx).gather(2, lab).squeeze(2)       # (p, H, u)
            stats[..., 1] += torch.matmul(correct.double(), weight)
        return torch.matmul(ell.double(), prep.label_w[r0:r1])                 # (p, H, K)
    ell = fixed.unsqueeze(2) + sign * lg                                        # (p, H, K, u)
    counts_t = prep.counts[r0:r1].T                                             # (K, u)
    if stats is not None:
        stats[..., 0] += (ell.double().square() * counts_t).sum((2, 3))
        stats[..., 1] += (first_max_mask(lg, 2, mx) * counts_t).sum((2, 3))
    return (ell.double() * counts_t).sum(-1)


def tiles(prep: Prepared, budget: int) -> tuple[int, int]:
    """(points per tile, rows per tile) with points x rows x widest <= budget.

    On a CPU a tile is also kept cache-sized: one point's activations (rows x widest) within
    ``CPU_ROW_FLOATS`` and the tile's within ``CPU_TILE_FLOATS``. The per-point matrix products
    of a 128-wide MLP ran ~1.5x faster on 1024-row tiles than on 8192-row ones (torch.profiler,
    Fashion-MNIST, 1 thread; benchmarks/explore.py)."""
    cap = budget
    if prep.device.type == "cpu":
        cap = min(budget, CPU_TILE_FLOATS)
        rows = max(1, min(prep.rows, min(cap, CPU_ROW_FLOATS) // prep.widest))
    else:
        rows = max(1, min(prep.rows, cap // prep.widest))
    pts = max(1, cap // (rows * prep.widest))
    if not _few_rows(prep):  # per-point weights of later moved layers count too
        for kind, op in prep.tail:
            if kind == "moved":
                pts = max(1, min(pts, budget // op.weight_t.numel()))
    return pts, rows


def tiled_sums(prep: Prepared, alphas: torch.Tensor, heads: int, classes: int, loss: str,
               budget: int, stats: torch.Tensor | None = None) -> torch.Tensor:
    """Per-class loss sums (P, heads, K), float64, tile by tile (the general path); ``stats``
    (P, heads, 2), if given, is filled too (``loss_sums``)."""
    pts, rows = tiles(prep, budget)
    sums = torch.zeros(len(alphas), heads, classes, dtype=torch.float64, device=prep.device)
    for s in range(0, len(alphas), pts):
        a = alphas[s:s + pts]
        pp = per_point(prep, a)
        for r0 in range(0, prep.rows, rows):
            r1 = min(prep.rows, r0 + rows)
            h0, j0 = first_layers(prep, a, r0, r1, pp)
            h = tail(prep, h0, pp, j0)
            sums[s:s + pts] += loss_sums(prep, h, r0, r1, heads, classes, loss,
                                         None if stats is None else stats[s:s + pts])
    return sums
