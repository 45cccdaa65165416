"""The per-split precomputation: everything about (model, directions, split) that no grid
point changes, computed once (``prepare``) and reused for every point of every level.

Steps, in order: check the split; detach the layers; find the first moved layer and its moved
units; group identical rows; count labels per row; detect a separable network; do every product
of the first moved layer in one GEMM; keep only the moved units' part of it; fold the fixed units
into the next layer; list the remaining layers as tail ops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from losspattern_core.errors import ConfigError

from .directions import Direction, LayerDeltas, linear_deltas, stack_deltas
from .families import FamilyPrepared, prepare_family
from .layers import Affine, detach_layers, run_layers
from .separable import Separable, build_separable
from .structure import FirstMoved, first_moved, fixed_columns_fold, separable_columns, unique_rows


@dataclass(eq=False)
class MovedLinear:
    """A Linear layer after the first moved one that a direction moves."""

    weight_t: torch.Tensor    # (in, out)      W^T
    bias: torch.Tensor        # (out,)
    dweight_t: torch.Tensor   # (z, in, out)   dW_i^T
    dbias: torch.Tensor       # (z, out)


@dataclass(eq=False)
class Prepared:
    """Everything about (model, directions, split) that no grid point changes.

    Rows are the split's unique rows (U of them). The first moved layer's pre-activation,
    restricted to the columns M the directions move, is
    ``base (U or 1, m) + alpha @ dconst (z, m) [+ sum_i alpha_i drows_i (U, m)]``.
    With ``split``, the next Linear layer's pre-activation is ``C + act1(pre_M) @ wm_t``.
    ``info`` describes the structure found (first moved layer, dedup, flops, ...).
    """

    z: int
    n: int
    rows: int                     # U
    counts: torch.Tensor          # (U, K) float64: samples of class k each row stands for
    class_n: torch.Tensor         # (K,) float64
    label: torch.Tensor | None    # (U,) when every row holds one class (else None)
    label_w: torch.Tensor | None  # (U, K) float64 = counts, used when label is set
    base: torch.Tensor            # (U, m) or (1, m) when identical for every row
    dconst: torch.Tensor          # (z, m)
    drows: torch.Tensor | None    # (z, U, m): per-direction row-varying parts (dense deltas)
    act1: nn.Module | None        # the activation after the first moved layer, if split
    split: bool
    C: torch.Tensor | None        # (U or 1, w1)
    wm_t: torch.Tensor | None     # (m, w1)
    tail: list                    # ops: ("act", mod) | ("linear", Affine) | ("moved", MovedLinear)
    widest: int
    info: dict = field(default_factory=dict)
    sep: Separable | None = None  # logits = c(x) + g(alpha): see separable.py
    stack: torch.Tensor | None = None  # (z + 1, U, m) = [base; drows] (both are views of it)

    @property
    def device(self) -> torch.device:
        return self.base.device

    @property
    def outputs(self) -> int:
        """The network's output width."""
        last = [op for kind, op in self.tail if kind in ("linear", "moved")]
        if last:
            return last[-1].bias.shape[0]
        return self.C.shape[1] if self.split else self.base.shape[1]


@dataclass
class _Rows:
    """Unique rows of the input to the first moved layer."""

    keep: torch.Tensor          # (U,) a representative sample of each row
    inverse: torch.Tensor       # (N,) the row of each sample
    a: torch.Tensor | None      # (U, in) the rows (None: the layer ignores its input)
    flops: float = 0.0


@dataclass
class _Labels:
    counts: torch.Tensor        # (U, K) float64
    class_n: torch.Tensor       # (K,) float64
    label: torch.Tensor | None  # (U,) when every row holds one class


@dataclass
class _FirstLayer:
    """The first moved layer reduced to what a point changes: see ``Prepared``."""

    base: torch.Tensor
    dconst: torch.Tensor
    drows: torch.Tensor | None
    pre: torch.Tensor | None    # (U, out) W0 a + b0 on every unit (None: W0 = 0 or separable)
    flops: float = 0.0


@dataclass
class _Fold:
    """The fixed units of the first moved layer folded into the next Linear layer."""

    act1: nn.Module | None = None
    C: torch.Tensor | None = None
    wm_t: torch.Tensor | None = None
    flops: float = 0.0

    @property
    def split(self) -> bool:
        return self.C is not None


def _split_tensors(X, y, classes: int, device: torch.device):
    """X (N, d) float32 and y (N,) long on ``device``, checked."""
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32).to(device)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long).to(device)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or len(y) == 0:
        raise ConfigError(f"need X (N, d) and y (N,) with N > 0, got {tuple(X.shape)} and "
                          f"{tuple(y.shape)}")
    if int(y.min()) < 0 or int(y.max()) >= classes:
        raise ConfigError(f"labels must lie in 0..{classes - 1}")
    return X, y


def _row_groups(layers: list, first: int, fm: FirstMoved, X: torch.Tensor, info: dict) -> _Rows:
    """Unique rows of the input to the first moved layer. When no unit of it reads its input
    (W0 = 0, no weight deltas: Theorem 1) every sample is the same row."""
    n, device = len(X), X.device
    if not fm.reads_input:
        info["dedup"] = "first moved layer ignores its input: one row"
        return _Rows(torch.zeros(1, dtype=torch.long, device=device),
                     torch.zeros(n, dtype=torch.long, device=device), None)
    flops = 4.0 * n * X.shape[1]
    keep = inverse = torch.arange(n, device=device)
    g = unique_rows(X)
    if g is not None:
        keep, inverse = g
    a = run_layers(layers[:first], X[keep] if g is not None else X)
    flops += 2.0 * len(keep) * sum(m.in_features * m.out_features for m in layers[:first]
                                   if isinstance(m, Affine))
    if first:   # the prefix may map different inputs to the same row (ReLU, zero weights)
        flops += 4.0 * a.shape[0] * a.shape[1]
        g2 = unique_rows(a)
        if g2 is not None:
            keep, inverse = keep[g2[0]], g2[1][inverse]
            a = a[g2[0]]
    info["dedup"] = f"{n} samples -> {len(keep)} unique rows"
    return _Rows(keep, inverse, a, flops)


def _label_counts(inverse: torch.Tensor, y: torch.Tensor, u: int, classes: int) -> _Labels:
    """How many samples of each class every unique row stands for."""
    counts = torch.zeros(u, classes, dtype=torch.float64, device=y.device)
    counts.index_put_((inverse, y), torch.ones(len(y), dtype=torch.float64, device=y.device),
                      accumulate=True)
    one_class = bool(((counts > 0).sum(1) == 1).all())
    return _Labels(counts, counts.sum(0), counts.argmax(1) if one_class else None)


def _first_layer(fm: FirstMoved, a: torch.Tensor | None, u: int, z: int,
                 separable: bool) -> _FirstLayer:
    """One stacked GEMM for every product of the first moved layer, on unique rows only,
    skipping units whose weight row is zero; then the moved units' part of it.
    (A separable network needs none of it: c(x) and g(alpha) are all it evaluates.)"""
    nzw, mcols, db = fm.reads, fm.mcols, fm.dbias
    any_w = bool(nzw.any()) and not separable
    pre = fm.bias.expand(u, -1).clone() if any_w else None
    drows, flops = None, 0.0
    mats = [fm.weight[nzw]] if any_w else []
    if fm.dweight is not None and not separable:
        mats += [fm.dweight[i][mcols] for i in range(z)]
    if mats:
        cat = torch.cat(mats)
        prod = a @ cat.T
        flops += 2.0 * u * cat.shape[0] * cat.shape[1]
        k = int(nzw.sum())
        if nzw.any():
            pre[:, nzw] += prod[:, :k]
        if fm.dweight is not None:
            drows = prod[:, k:].reshape(u, z, len(mcols)).permute(1, 0, 2).contiguous()
            drows += db[:, mcols].unsqueeze(1)
    if pre is None:
        base = fm.bias[mcols].unsqueeze(0).expand(u if drows is not None else 1, -1).contiguous()
    elif not bool(nzw[mcols].any()) and drows is None:   # moved units identical on every row
        base = pre[:1, mcols].clone()
    else:
        base = pre[:, mcols].contiguous()
    return _FirstLayer(base, db[:, mcols].contiguous(), drows, pre, flops)


def _fold_fixed_units(layers: list, first: int, fm: FirstMoved, fl: _FirstLayer) -> _Fold:
    """Moved units feeding an unmoved Linear through an elementwise activation: the next
    layer's pre-activation is C + act1(moved units) W1[:, moved]^T, C computed here once."""
    act1, lin1 = layers[first + 1], layers[first + 2]
    W1, b1 = lin1.weight, lin1.bias
    if fl.pre is None or not bool(fm.reads[fm.fcols].any()):
        fixed = act1(fm.bias[fm.fcols].unsqueeze(0))
    else:
        fixed = act1(fl.pre[:, fm.fcols])
    C = torch.addmm(b1, fixed, W1[:, fm.fcols].T).contiguous()
    return _Fold(act1, C, W1[:, fm.mcols].T.contiguous(),
                 2.0 * fixed.shape[0] * fixed.shape[1] * W1.shape[0])


def _carry_every_unit(fm: FirstMoved, fl: _FirstLayer, u: int, z: int) -> None:
    """No fold possible: the tail reads every unit of the first moved layer, so widen
    ``base``, ``dconst`` and ``drows`` from the moved units to all of them (in place)."""
    if fl.pre is None:       # W0 = 0: the layer's value is b0 on every row
        fl.base = fm.bias.unsqueeze(0).expand(u if fl.drows is not None else 1, -1).contiguous()
    else:
        fl.base = fl.pre
    fl.dconst = fm.dbias.contiguous()
    if fl.drows is not None:
        full = torch.zeros(z, u, fm.weight.shape[0], dtype=fl.drows.dtype,
                           device=fl.drows.device)
        full[:, :, fm.mcols] = fl.drows
        fl.drows = full


def _tail_ops(layers: list, moved: LayerDeltas, start: int) -> list:
    """The layers from ``start`` on as ops for ``kernels.tail``."""
    tail = []
    for i in range(start, len(layers)):
        mod = layers[i]
        if i in moved:
            dw, dbb = moved[i]
            tail.append(("moved", MovedLinear(mod.weight.T.contiguous(), mod.bias,
                                              stack_deltas(dw, mod.weight).transpose(1, 2)
                                              .contiguous(),
                                              stack_deltas(dbb, mod.bias).contiguous())))
        elif isinstance(mod, Affine):
            tail.append(("linear", mod))
        else:
            tail.append(("act", mod))
    return tail


def _widest(fl: _FirstLayer, fold: _Fold, layers: list, first: int) -> int:
    """The widest activation a tile holds per (point, row): sizes the tiles."""
    widths = [fl.base.shape[1], layers[first].out_features]
    if fold.C is not None:
        widths.append(fold.C.shape[1])
    widths += [m.out_features for m in layers[first:] if isinstance(m, Affine)]
    return max(widths)


def _mlp_path(model: nn.Module, directions: list[Direction], X) -> bool:
    """Whether the Linear-layer path below takes this case: a Sequential, flat rows (N, d), and
    directions that move only biased top-level Linear layers. Anything else (conv families,
    images, moves of other modules) takes the family path (``families``)."""
    if not isinstance(model, nn.Sequential) or np.ndim(X) != 2:
        return False
    names = {k for d in directions for k in d.delta(model)}
    for name in names:
        top, _, local = name.partition(".")
        mod = model[int(top)] if top.isdigit() and int(top) < len(model) else None
        if not isinstance(mod, nn.Linear) or local not in ("weight", "bias") or mod.bias is None:
            return False
    return True


def prepare(model: nn.Sequential, directions: list[Direction], X, y, classes: int,
            device: str | torch.device = "cpu") -> Prepared | FamilyPrepared:
    """Compute once what no grid point changes (see the package docstring).

    ``X`` is the split as the network takes it: rows (N, d) for an MLP, (N, C, H, W) for the
    conv families (``networks.as_input``). MLPs moved only in their Linear layers take the
    Linear-layer path here; every other network the family path (``families.prepare_family``).
    Both work from detached copies on ``device`` in eval mode: ``model`` is never moved,
    switched or modified, and later changes to it do not reach the returned object.
    """
    device = torch.device(device)
    if not directions:
        raise ConfigError("need at least one direction")
    if not _mlp_path(model, directions, X):
        return prepare_family(model, directions, X, y, classes, device)
    X, y = _split_tensors(X, y, classes, device)
    moved = linear_deltas(model, directions, device)
    if not moved:
        raise ConfigError("the directions move no parameter of the network")
    z, n, first = len(directions), len(y), min(moved)
    info: dict = {"first_moved_layer": first}
    with torch.no_grad():
        layers = detach_layers(model, device)
        fm = first_moved(layers[first], *moved[first])
        rows = _row_groups(layers, first, fm, X, info)
        u = len(rows.keep)
        labels = _label_counts(rows.inverse, y, u, classes)
        sep = _separable(layers, moved, first, rows.a, labels.counts, classes, info)
        fl = _first_layer(fm, rows.a, u, z, sep is not None)
        fold, tail_start = _Fold(), first + 1
        if fixed_columns_fold(layers, moved, first, fm):
            fold, tail_start = _fold_fixed_units(layers, first, fm, fl), first + 3
        elif len(fm.fcols) > 0:
            _carry_every_unit(fm, fl, u, z)
        fl.pre = None   # only needed up to here; do not keep it alive
        stack = _stack_first_layer(fl)
        info.update(rows=u, moved_columns=int(len(fm.mcols)), split=fold.split,
                    moved_units_row_constant=bool(fl.base.shape[0] == 1 and fl.drows is None),
                    dense_first_layer=fl.drows is not None,
                    prepare_flops=rows.flops + (sep.prepare_flops if sep else 0.0) + fl.flops
                    + fold.flops)
        return Prepared(z, n, u, labels.counts, labels.class_n, labels.label,
                        labels.counts if labels.label is not None else None, fl.base,
                        fl.dconst, fl.drows, fold.act1, fold.split, fold.C, fold.wm_t,
                        _tail_ops(layers, moved, tail_start), _widest(fl, fold, layers, first),
                        info, sep, stack)


def _stack_first_layer(fl: _FirstLayer) -> torch.Tensor | None:
    """[base; drows] as one (z + 1, U, m) tensor (``base`` and ``drows`` become views of it),
    so a tile's first layer is one product (1, alpha) x stack: a single pass over memory."""
    if fl.drows is None or fl.base.shape[0] != fl.drows.shape[1]:
        return None
    stack = torch.cat([fl.base.unsqueeze(0), fl.drows])
    fl.base, fl.drows = stack[0], stack[1:]
    return stack


def _separable(layers, moved, first, a, counts, classes, info) -> Separable | None:
    """The c(x) + g(alpha) kernel when the weights' exact zeros allow it (and there is more
    than one row to share c over), else None."""
    if a is None or a.shape[0] <= 1:
        return None
    cols = separable_columns(layers, moved, first, classes)
    if cols is None:
        return None
    sep = build_separable(layers, moved, first, a, counts, classes, cols)
    info["separable"] = sep.describe()
    return sep
