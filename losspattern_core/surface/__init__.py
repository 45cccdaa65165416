"""Exact loss surfaces: the real network's mean loss over every sample of a split.

``evaluate_points`` never mutates the model and never samples: every value is the mean loss over
every sample of the split. It exploits structure instead, and batches many grid points per pass:

* **prefix caching**: activations before the first layer any direction moves are computed once;
* **shared + per-direction split** of that layer: (W0 + sum_i a_i dW_i) x + b0 + sum_i a_i db_i
  = (W0 x + b0) + sum_i a_i (dW_i x + db_i), so a grid point costs one fused multiply-add there,
  not a matrix product (all products of that layer are one stacked GEMM done once);
* **moved columns**: when the directions move only some units of that layer (axis-aligned
  biases, as in the theorems) the next Linear layer's pre-activation is
  C + phi(moved units) W[:, moved]^T, where C (rows x width) is computed once from the fixed
  units. When the moved units are also identical across samples (Theorem 1 and Theorem 2
  networks: their first-layer weight rows are zero) that is C + 1 v(alpha)^T: per point a
  broadcast add, not a matrix product;
* **unique rows**: samples whose inputs to the first moved layer are identical give identical
  outputs at every point; they are evaluated once and weighted by their label counts. A cheap
  hash (two random projections) finds duplicates, an exact comparison confirms them, and when
  every hash differs nothing more is done. With zero first-layer weights (Theorem 1) the whole
  split is one row without looking at the inputs at all;
* **separable networks**: when exact zeros in the weights keep every unit the output layer
  reads either sample-only or point-only (Theorem 2's block structure: an alpha block and an x
  block that meet only at the output), logits(alpha, x) = c(x) + g(alpha). c is computed once,
  g on one row per point, and the cross-entropy needs only sum_k exp(c_ik) exp(g_ak): a
  (points x K)(K x rows) product and a log per (point, row); MSE is closed form. A single
  nonzero coupling weight makes the detection fall back to the general path (``_separable``);
* bias + ReLU after a product is one fused pass (``aten._add_relu``) where torch has it;
* later moved layers get per-point weights W + sum_i a_i dW_i (batched GEMM), or, when only a
  handful of rows remain, one stacked GEMM against [W; dW_1; ...] shared by every point;
* the last layer writes its logits transposed (classes x rows), where the loss's reductions
  over a handful of classes are an order of magnitude faster than ``log_softmax`` on rows;
* work is tiled over points *and* rows so each tile's activations stay in cache and memory stays
  bounded (``budget`` floats per tile); loss sums are accumulated in float64.

``naive_surface`` is the reference: write theta_0 + sum alpha_i theta_i into a copy of the model
and run the whole split, one point at a time.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from losspattern_core.errors import ConfigError
from losspattern_core.losses import per_class_loss
from losspattern_core.networks import Sine
from losspattern_core.grid import grid_array, grid_points, range_points

# floats per tile of (points x rows x width). 4 MB keeps a tile's activations in L2/L3 and
# the per-tile Python overhead small on CPU; on a GPU larger tiles are better (see _default_budget).
DEFAULT_BUDGET = 2**20
GPU_BUDGET = 2**25

# relu(a + b) in one pass (a private aten op with a vectorised CPU kernel); plain ops otherwise
_ADD_RELU = getattr(torch.ops.aten, "_add_relu", None)
_ADD_RELU_ = getattr(torch.ops.aten, "_add_relu_", None)

_ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.GELU, nn.Sigmoid, nn.SiLU, nn.LeakyReLU, nn.ELU, nn.Softplus,
                nn.Identity, Sine)


@dataclass(frozen=True)
class Direction:
    """A direction in parameter space.

    Axis-aligned: ``param``/``index``/``scale`` (one scalar moves, as in the theorems).
    Dense: ``tensors`` maps parameter names to full-size tensors.
    """

    param: str | None = None
    index: int = 0
    scale: float = 1.0
    tensors: dict = field(default=None, repr=False)

    def delta(self, model: nn.Module) -> dict[str, torch.Tensor]:
        params = dict(model.named_parameters())
        if self.tensors is not None:
            unknown = set(self.tensors) - set(params)
            if unknown:
                raise ConfigError(f"direction names unknown parameters {sorted(unknown)}")
            return {k: torch.as_tensor(v).detach().to(params[k]) for k, v in self.tensors.items()}
        if self.param not in params:
            raise ConfigError(f"direction names unknown parameter {self.param!r}")
        p = params[self.param]
        if not 0 <= self.index < p.numel():
            raise ConfigError(f"direction index {self.index} outside {self.param} "
                              f"({p.numel()} entries)")
        d = torch.zeros_like(p).view(-1)
        d[self.index] = self.scale
        return {self.param: d.view_as(p).detach()}

    def to_json(self) -> dict:
        if self.tensors is not None:
            raise ConfigError("dense directions are stored as tensors, not JSON")
        return {"param": self.param, "index": int(self.index), "scale": float(self.scale)}


def random_direction(model: nn.Module, seed: int = 0, params: list[str] | None = None,
                     normalization: str | None = "filter") -> Direction:
    """A dense Gaussian direction over ``params`` (default: every parameter).

    ``filter`` normalisation (Li et al. 2018): each row of a weight matrix (one unit's filter)
    is scaled to the norm of the same row of theta_0; a bias vector to the norm of theta_0's.
    """
    gen = torch.Generator().manual_seed(int(seed))
    tensors = {}
    for name, p in model.named_parameters():
        if params is not None and name not in params:
            continue
        ref = p.detach().cpu()
        d = torch.randn(ref.shape, generator=gen, dtype=torch.float32)
        if normalization == "filter":
            if d.ndim >= 2:
                ref2, d2 = ref.reshape(len(ref), -1), d.reshape(len(d), -1)
                d = (d2 * (ref2.norm(dim=1, keepdim=True)
                           / d2.norm(dim=1, keepdim=True).clamp(min=1e-12))).view_as(ref)
            else:
                d = d * (ref.norm() / d.norm().clamp(min=1e-12))
        elif normalization is not None:
            raise ConfigError(f"unknown normalization {normalization!r}: use 'filter' or None")
        tensors[name] = d.to(p.device)
    if not tensors:
        raise ConfigError("random_direction: no parameter selected")
    return Direction(tensors=tensors)


def _linear_deltas(model: nn.Sequential, directions: list[Direction]):
    """Per Sequential index of a moved Linear: (dW list, db list), None where unmoved.

    An all-zero delta counts as unmoved, so a dense direction that leaves a layer alone does not
    cost that layer a per-point product.
    """
    out: dict[int, tuple[list, list]] = {}
    deltas = [d.delta(model) for d in directions]
    known = {f"{i}.{n}" for i, m in enumerate(model) for n, _ in m.named_parameters()}
    for dl in deltas:
        if set(dl) - known:
            raise ConfigError(f"directions move {sorted(set(dl) - known)}, not a Linear layer")

    def nz(t):
        return None if t is None or not bool(torch.any(t != 0)) else t

    for i, mod in enumerate(model):
        if not isinstance(mod, nn.Linear):
            continue
        if mod.bias is None:
            raise ConfigError(f"layer {i} is a Linear without bias; the evaluator needs biases")
        dws = [nz(dl.get(f"{i}.weight")) for dl in deltas]
        dbs = [nz(dl.get(f"{i}.bias")) for dl in deltas]
        if any(t is not None for t in dws + dbs):
            out[i] = (dws, dbs)
    return out


def _stack(ts: list, like: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.zeros_like(like) if t is None else t for t in ts])


def _act_(mod: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """An elementwise activation, in place where that gives the same numbers as ``mod(h)``.

    Callers only pass tensors they own (fresh results of this tile)."""
    if isinstance(mod, nn.ReLU):
        return h.relu_()
    if isinstance(mod, nn.Tanh):
        return h.tanh_()
    if isinstance(mod, Sine):
        return (h.mul_(mod.w0) if mod.w0 != 1.0 else h).sin_()
    if isinstance(mod, nn.Identity):
        return h
    return mod(h)


# --- unique rows --------------------------------------------------------------------------

def _unique_rows(a: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(keep, inverse) grouping identical rows of ``a`` (N, d), or None when all are distinct.

    Hash first: two fixed random projections per row, viewed as one int64. Distinct hashes
    prove distinct rows (the hash is a function of the row); equal hashes are confirmed by exact
    comparison, falling back to ``torch.unique(dim=0)`` on a collision. The common case of all
    rows distinct costs one thin GEMM and one 1-D sort.
    """
    n = a.shape[0]
    if n <= 1:
        return None
    a2 = a.reshape(n, -1)
    gen = torch.Generator().manual_seed(1912_07559)
    proj = torch.randn(a2.shape[1], 2, generator=gen).to(a2)
    key = (a2 @ proj).contiguous().view(torch.int64).view(-1)
    uniq, inverse = torch.unique(key, return_inverse=True)
    if len(uniq) == n:
        return None
    keep = torch.full((len(uniq),), n, dtype=torch.long, device=a.device)
    keep.scatter_reduce_(0, inverse, torch.arange(n, device=a.device), reduce="amin")
    rep = keep[inverse]
    moved = torch.nonzero(rep != torch.arange(n, device=a.device)).view(-1)
    if len(moved) and not bool((a2[moved] == a2[rep[moved]]).all()):  # hash collision
        _, inverse = torch.unique(a2, dim=0, return_inverse=True)
        keep = torch.full((int(inverse.max()) + 1,), n, dtype=torch.long, device=a.device)
        keep.scatter_reduce_(0, inverse, torch.arange(n, device=a.device), reduce="amin")
        if len(keep) == n:
            return None
    return keep, inverse


# --- preparation --------------------------------------------------------------------------

@dataclass
class _Moved:
    """A Linear layer after the first moved one that a direction moves."""

    weight_t: torch.Tensor    # (in, out)      W^T
    bias: torch.Tensor        # (out,)
    dweight_t: torch.Tensor   # (z, in, out)   dW_i^T
    dbias: torch.Tensor       # (z, out)


@dataclass
class _Prepared:
    """Everything about (model, directions, split) that no grid point changes.

    Rows are the split's unique rows (U of them). The first moved layer's pre-activation,
    restricted to the columns M the directions move, is
    ``base (U or 1, m) + alpha @ dconst (z, m) [+ sum_i alpha_i drows_i (U, m)]``.
    With ``split``, the next Linear layer's pre-activation is ``C + act1(pre_M) @ wm_t``.
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
    tail: list                    # ops: ("act", mod) | ("linear", mod) | ("moved", _Moved)
    widest: int
    info: dict = field(default_factory=dict)
    sep: _Separable | None = None  # logits = c(x) + g(alpha): see _separable

    @property
    def device(self) -> torch.device:
        return self.base.device


def _prefix(model: nn.Sequential, first: int, X: torch.Tensor, block: int = 8192) -> torch.Tensor:
    if first == 0:
        return X
    return torch.cat([model[:first](X[s:s + block]) for s in range(0, len(X), block)]) \
        if len(X) else model[:first](X)


def prepare(model: nn.Sequential, directions: list[Direction], X, y, classes: int,
            device: str | torch.device = "cpu") -> _Prepared:
    """Compute once what no grid point changes (see the module docstring)."""
    device = torch.device(device)
    model = model.to(device)
    if not directions:
        raise ConfigError("need at least one direction")
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32).to(device)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long).to(device)
    if X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or len(y) == 0:
        raise ConfigError(f"need X (N, d) and y (N,) with N > 0, got {tuple(X.shape)} and "
                          f"{tuple(y.shape)}")
    if int(y.min()) < 0 or int(y.max()) >= classes:
        raise ConfigError(f"labels must lie in 0..{classes - 1}")
    moved = _linear_deltas(model, directions)
    if not moved:
        raise ConfigError("the directions move no parameter of the network")
    z, n = len(directions), len(y)
    first = min(moved)
    lin = model[first]
    info: dict = {"first_moved_layer": first}
    flops = 0.0
    with torch.no_grad():
        W0, b0 = lin.weight.detach(), lin.bias.detach()
        dws, dbs = moved[first]
        dW = _stack(dws, W0) if any(t is not None for t in dws) else None     # (z, out, in)
        db = _stack(dbs, b0)                                                   # (z, out)
        colmask = (db != 0).any(0)
        if dW is not None:
            colmask |= (dW != 0).any(2).any(0)
        mcols = torch.nonzero(colmask).view(-1)
        fcols = torch.nonzero(~colmask).view(-1)
        nzw = (W0 != 0).any(1)                     # units whose value depends on the input

        # Unique rows of the input to the first moved layer. When no unit of it reads its
        # input (W0 = 0, no weight deltas: Theorem 1) every sample is the same row.
        reads_input = bool(nzw.any()) or dW is not None
        if not reads_input:
            keep, inverse = torch.zeros(1, dtype=torch.long, device=device), \
                torch.zeros(n, dtype=torch.long, device=device)
            a = None
            info["dedup"] = "first moved layer ignores its input: one row"
        else:
            keep, inverse = torch.arange(n, device=device), torch.arange(n, device=device)
            flops += 4.0 * n * X.shape[1]
            g = _unique_rows(X)
            if g is not None:
                keep, inverse = g
            a = _prefix(model, first, X[keep] if g is not None else X)
            flops += 2.0 * len(keep) * sum(m.in_features * m.out_features for m in model[:first]
                                           if isinstance(m, nn.Linear))
            if first:
                flops += 4.0 * a.shape[0] * a.shape[1]
                g2 = _unique_rows(a)
                if g2 is not None:
                    keep, inverse = keep[g2[0]], g2[1][inverse]
                    a = a[g2[0]]
            info["dedup"] = f"{n} samples -> {len(keep)} unique rows"
        u = len(keep)
        counts = torch.zeros(u, classes, dtype=torch.float64, device=device)
        counts.index_put_((inverse, y), torch.ones(n, dtype=torch.float64, device=device),
                          accumulate=True)
        class_n = counts.sum(0)
        one_class = bool(((counts > 0).sum(1) == 1).all())
        label = counts.argmax(1) if one_class else None

        # Separable networks (Theorem 2's block structure): logits(alpha, x) = c(x) + g(alpha).
        sep = None
        if a is not None and u > 1:
            sep = _separable(model, moved, first, a, counts, classes)
            if sep is not None:
                flops += sep.prepare_flops
                info["separable"] = sep.describe()

        # One stacked GEMM for every product of the first moved layer, on unique rows only,
        # skipping units whose weight row is zero.
        # (A separable network needs none of it: c(x) and g(alpha) are all it evaluates.)
        pre = b0.expand(u, -1).clone() if nzw.any() and sep is None else None
        drows = None
        mats = [W0[nzw]] if nzw.any() and sep is None else []
        if dW is not None and sep is None:
            mats += [dW[i][mcols] for i in range(z)]
        if mats:
            cat = torch.cat(mats)
            prod = a @ cat.T
            flops += 2.0 * u * cat.shape[0] * cat.shape[1]
            k = int(nzw.sum())
            if nzw.any():
                pre[:, nzw] += prod[:, :k]
            if dW is not None:
                m = len(mcols)
                drows = prod[:, k:].reshape(u, z, m).permute(1, 0, 2).contiguous()
                drows += db[:, mcols].unsqueeze(1)
        row_const_m = not bool(nzw[mcols].any())
        if pre is None:
            base = b0[mcols].unsqueeze(0).expand(u if drows is not None else 1, -1).contiguous()
        elif row_const_m and drows is None:
            base = pre[:1, mcols].clone()
        else:
            base = pre[:, mcols].contiguous()
        dconst = db[:, mcols].contiguous()

        # Moved columns feeding an unmoved Linear through an elementwise activation: fold the
        # fixed columns into C once.
        tail_start = first + 1
        split = False
        act1 = C = wm_t = None
        nxt = first + 2
        if (len(fcols) > 0 and nxt < len(model) and isinstance(model[first + 1], _ELEMENTWISE)
                and isinstance(model[nxt], nn.Linear) and nxt not in moved):
            split = True
            act1, lin1 = model[first + 1], model[nxt]
            W1, b1 = lin1.weight.detach(), lin1.bias.detach()
            if pre is None or not bool(nzw[fcols].any()):
                fixed = act1(b0[fcols].unsqueeze(0))
            else:
                fixed = act1(pre[:, fcols])
            C = torch.addmm(b1, fixed, W1[:, fcols].T).contiguous()
            flops += 2.0 * fixed.shape[0] * fixed.shape[1] * W1.shape[0]
            wm_t = W1[:, mcols].T.contiguous()
            tail_start = nxt + 1
        elif len(fcols) > 0:  # no split possible: carry every column of the layer
            if pre is None:       # W0 = 0: the layer's value is b0 on every row
                base = b0.unsqueeze(0).expand(u if drows is not None else 1, -1).contiguous()
            else:
                base = pre
            dconst = db.contiguous()
            if drows is not None:
                full = torch.zeros(z, u, W0.shape[0], dtype=drows.dtype, device=device)
                full[:, :, mcols] = drows
                drows = full
        del pre

        tail = []
        for i in range(tail_start, len(model)):
            mod = model[i]
            if i in moved:
                dw, dbb = moved[i]
                tail.append(("moved", _Moved(mod.weight.detach().T.contiguous(),
                                             mod.bias.detach(),
                                             _stack(dw, mod.weight).transpose(1, 2).contiguous(),
                                             _stack(dbb, mod.bias).contiguous())))
            elif isinstance(mod, nn.Linear):
                tail.append(("linear", mod))
            else:
                tail.append(("act", mod))
        widths = [base.shape[1]] + [lin.out_features]
        if C is not None:
            widths.append(C.shape[1])
        widths += [m.out_features for i, m in enumerate(model) if isinstance(m, nn.Linear)
                   and i >= first]
        info.update(rows=u, moved_columns=int(len(mcols)), split=split,
                    moved_units_row_constant=bool(base.shape[0] == 1 and drows is None),
                    dense_first_layer=drows is not None, prepare_flops=flops)
    return _Prepared(z, n, u, counts, class_n, label, counts if label is not None else None,
                     base, dconst, drows, act1, split, C, wm_t, tail, max(widths), info, sep)


# --- separable networks -----------------------------------------------------------------------

@dataclass
class _Separable:
    """logits(alpha, x) = c(x) + g(alpha), found from exact zeros in the weights.

    Every unit from the first moved layer on is classed by what it can depend on: the samples
    (x), the point (alpha), both, or neither. A unit depends on what its inputs with a nonzero
    weight (or weight delta) depend on, and on alpha when a direction moves its row. When no
    unit the output layer reads depends on both, and the directions do not move the output
    weights of x-dependent units, the output layer (linear) adds an x part and an alpha part:
    c(x) (U, H*K) is computed once at theta_0 and g(alpha) on a single row per point (the
    alpha units never read an x unit, so any row gives them exactly). Cross-entropy then needs
    only sum_k exp(c_ik) exp(g_ak): a (points x K) by (K x rows) product, a log, and a
    (points x rows) by (rows x K) product with the label counts; MSE is closed form.
    """

    heads: int
    classes: int
    c: torch.Tensor            # (U, H, K) float32
    cmax: torch.Tensor         # (U, H)
    ec_t: torch.Tensor         # (H, K, U) exp(c - cmax), transposed for the product
    const: torch.Tensor        # (H, K) float64: sum_i counts_ik (cmax_ih - c_ihk)
    mse_a: torch.Tensor        # (H, K) float64: sum_i counts_ik |c_ih|^2
    mse_c: torch.Tensor        # (H, K, K) float64: counts^T c per head
    ops: list                  # hidden ops on one row: ("act", mod) | ("linear", mod, dws, dbs)
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
            out = F.linear(h, mod.weight, mod.bias)
            for j, (dw, db) in enumerate(zip(dws, dbs, strict=True)):
                if dw is not None:
                    out += alpha[:, j:j + 1] * (h @ dw.T)
                if db is not None:
                    out += alpha[:, j:j + 1] * db
            h = out
        g = h[:, self.alpha_cols] @ self.out_w_alpha.T
        for j, (dw, db) in enumerate(zip(self.out_dw, self.out_db, strict=True)):
            if dw is not None:   # zero on every x-dependent column (checked)
                g += alpha[:, j:j + 1] * (h @ dw.T)
            if db is not None:
                g += alpha[:, j:j + 1] * db
        return g


def _separable(model: nn.Sequential, moved: dict, first: int, a: torch.Tensor,
               counts: torch.Tensor, classes: int) -> _Separable | None:
    """The c(x) + g(alpha) decomposition when the weights' exact zeros allow it, else None."""
    mods = list(model)[first:]
    if not isinstance(mods[-1], nn.Linear) or mods[-1].out_features % classes:
        return None
    if any(not isinstance(m, (nn.Linear, *_ELEMENTWISE)) for m in mods):
        return None
    dx = da = None
    for off, mod in enumerate(mods[:-1]):
        if not isinstance(mod, nn.Linear):
            continue
        i = first + off
        W = mod.weight.detach()
        dws, dbs = moved.get(i, ([None], [None]))
        nzd = torch.zeros_like(W, dtype=torch.bool)
        for t in dws:
            if t is not None:
                nzd |= t != 0
        moved_bias = torch.zeros(W.shape[0], dtype=torch.bool, device=W.device)
        for t in dbs:
            if t is not None:
                moved_bias |= t != 0
        reads = (W != 0) | nzd
        if dx is None:   # the first moved layer reads the (x-dependent) prefix
            dx = reads.any(1)
            da = nzd.any(1) | moved_bias
        else:
            dx = (reads & dx.unsqueeze(0)).any(1)
            da = (reads & da.unsqueeze(0)).any(1) | nzd.any(1) | moved_bias
    if dx is None:       # only the output layer moves: nothing to separate
        return None
    last_i = first + len(mods) - 1
    last = mods[-1]
    Wl = last.weight.detach()
    z = len(next(iter(moved.values()))[0])
    dwl, dbl = moved.get(last_i, ([None] * z, [None] * z))
    nzd = torch.zeros_like(Wl, dtype=torch.bool)
    for t in dwl:
        if t is not None:
            nzd |= t != 0
    rel = ((Wl != 0) | nzd).any(0)
    if bool((rel & dx & da).any()) or bool((nzd.any(0) & dx).any()):
        return None
    acols = torch.nonzero(rel & da).view(-1)
    xcols = torch.nonzero(rel & ~da).view(-1)
    if len(acols) == 0 or not bool((rel & dx).any()):
        return None      # no alpha part (or no x part): the other paths are as good
    heads = last.out_features // classes
    u = a.shape[0]
    with torch.no_grad():
        hid = model[first:len(model) - 1]
        blk = 8192
        c = torch.cat([torch.addmm(last.bias.detach(), hid(a[s:s + blk])[:, xcols],
                                   Wl[:, xcols].T) for s in range(0, u, blk)])
        flops = 2.0 * u * (sum(m.in_features * m.out_features for m in hid
                               if isinstance(m, nn.Linear)) + len(xcols) * Wl.shape[0])
        c = c.view(u, heads, classes)
        cmax = c.amax(2)
        ec_t = (c - cmax.unsqueeze(2)).exp_().permute(1, 2, 0).contiguous()
        cd = c.double()
        const = torch.einsum("uk,uhk->hk", counts, cmax.double().unsqueeze(2) - cd)
        mse_a = torch.einsum("uk,uh->hk", counts, (cd * cd).sum(2))
        mse_c = torch.einsum("uk,uhj->hkj", counts, cd)
    ops = []
    for off, mod in enumerate(mods[:-1]):
        if isinstance(mod, nn.Linear):
            dws, dbs = moved.get(first + off, ([None], [None]))
            ops.append(("linear", mod, [t for t in dws], [t for t in dbs]))
        else:
            ops.append(("act", mod))
    return _Separable(heads, classes, c, cmax, ec_t, const, mse_a, mse_c, ops, a[:1].clone(),
                      Wl[:, acols].contiguous(), acols, list(dwl), list(dbl),
                      int(len(xcols)), int(len(acols)), flops)


def _separable_sums(sep: _Separable, prep: _Prepared, alphas: torch.Tensor, loss: str,
                    budget: int) -> torch.Tensor:
    """Per-class loss sums (P, H, K), float64, for a separable network."""
    H, K, u = sep.heads, sep.classes, prep.rows
    sums = torch.zeros(len(alphas), H, K, dtype=torch.float64, device=alphas.device)
    nk = prep.class_n                                                       # (K,)
    tile = max(1, budget // (2 * K))         # the fallback's (p, rows, K) float64 fits budget
    rows = max(1, min(u, max(tile // 16, 1)))
    pts = max(1, tile // rows)
    counts32 = prep.counts.float()
    for s in range(0, len(alphas), pts):
        a = alphas[s:s + pts]
        g = sep.g(a).view(len(a), H, K)
        gd = g.double()
        out = sums[s:s + pts]
        if loss == "mse":   # sum_i n_ik |c_i + g|^2 - 2 (c_ik + g_k) + 1, expanded
            out += (sep.mse_a.unsqueeze(0) + 2 * torch.einsum("phj,hkj->phk", gd, sep.mse_c)
                    + nk * (gd * gd).sum(2, keepdim=True)
                    - 2 * torch.diagonal(sep.mse_c, dim1=1, dim2=2).unsqueeze(0)
                    - 2 * nk * gd + nk)
            continue
        gmax = g.amax(2)                                                    # (p, H)
        eg = (g - gmax.unsqueeze(2)).exp_()                                 # (p, H, K)
        out += sep.const.unsqueeze(0) + nk * (gmax.double().unsqueeze(2) - gd)
        for h in range(H):
            for r0 in range(0, u, rows):
                r1 = min(u, r0 + rows)
                S = eg[:, h] @ sep.ec_t[h, :, r0:r1]                        # (p, rows)
                if not bool(S.amin() > 1e-30):   # float32 range too small here: exact path
                    lg = (sep.c[r0:r1, h].double().unsqueeze(0) + gd[:, h].unsqueeze(1))
                    S = (torch.logsumexp(lg, 2) - sep.cmax[r0:r1, h].double().unsqueeze(0)
                         - gmax[:, h].double().unsqueeze(1))
                    out[:, h] += S @ prep.counts[r0:r1]
                    continue
                out[:, h] += (S.log_() @ counts32[r0:r1]).double()
    return sums


# --- evaluation -----------------------------------------------------------------------------

def _relu_next(prep: _Prepared, j: int) -> bool:
    return j < len(prep.tail) and prep.tail[j][0] == "act" and isinstance(prep.tail[j][1], nn.ReLU)


def _bias_act_(prep: _Prepared, h: torch.Tensor, b: torch.Tensor, j: int) -> int:
    """h += b, then the tail's op j if it is a ReLU (fused: one pass); returns the next op."""
    if _ADD_RELU_ is not None and _relu_next(prep, j):
        _ADD_RELU_(h, b)
        return j + 1
    h += b
    return j


def _first_layers(prep: _Prepared, alpha: torch.Tensor, r0: int, r1: int,
                  per_point: dict) -> tuple[torch.Tensor, int]:
    """Pre-activation entering the tail for points ``alpha`` (p, z) and rows r0:r1, and the
    index of the tail op to run next (1 when the tail's leading ReLU was fused in)."""
    p, u = alpha.shape[0], r1 - r0
    if prep.split and "v" in per_point:        # moved units identical on every row
        c = prep.C if prep.C.shape[0] == 1 else prep.C[r0:r1]
        if _ADD_RELU is not None and _relu_next(prep, 0) and c.shape[0] == u:
            return _ADD_RELU(c.unsqueeze(0), per_point["v"].unsqueeze(1)), 1
        return c.unsqueeze(0) + per_point["v"].unsqueeze(1), 0
    if prep.drows is not None:
        m = prep.base.shape[1]
        base = prep.base[r0:r1].reshape(1, -1)
        h = torch.addmm(base, alpha, prep.drows[:, r0:r1].reshape(prep.z, -1)).view(p, u, m)
    else:
        base = prep.base if prep.base.shape[0] == 1 else prep.base[r0:r1]
        h = base.unsqueeze(0) + per_point["shift"].unsqueeze(1)
        if h.shape[1] != u:
            h = h.expand(p, u, -1).contiguous()
    if not prep.split:
        return h, 0
    h = _act_(prep.act1, h)
    out = torch.matmul(h, prep.wm_t)
    c = prep.C if prep.C.shape[0] == 1 else prep.C[r0:r1]
    return out, _bias_act_(prep, out, c, 0)


def _tail(prep: _Prepared, h: torch.Tensor, per_point: dict, start: int = 0) -> torch.Tensor:
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
            h = _act_(op, h)
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


def _per_point(prep: _Prepared, alpha: torch.Tensor) -> dict:
    """What depends on the points only (not on rows): shifts, v(alpha), per-point weights."""
    pp: dict = {}
    shift = alpha @ prep.dconst
    if prep.split and prep.base.shape[0] == 1 and prep.drows is None:
        h = _act_(prep.act1, prep.base + shift)
        pp["v"] = h @ prep.wm_t
    else:
        pp["shift"] = shift
    for j, (kind, op) in enumerate(prep.tail):
        if kind != "moved":
            continue
        b = torch.addmm(op.bias, alpha, op.dbias)
        if prep.rows <= 4 * (prep.z + 1):
            stacked = torch.cat([op.weight_t, *op.dweight_t], dim=1)
            pp[j] = (None, (stacked, alpha, b))
        else:
            w = torch.addmm(op.weight_t.reshape(1, -1), alpha,
                            op.dweight_t.reshape(prep.z, -1)).view(len(alpha),
                                                                   *op.weight_t.shape)
            pp[j] = (w, b)
    return pp


def _loss_sums(prep: _Prepared, lt: torch.Tensor, r0: int, r1: int, heads: int,
               classes: int, loss: str) -> torch.Tensor:
    """Per-class loss sums (p, heads, K) over rows r0:r1 from transposed logits (p, H*K, u).

    Same formulas as ``per_class_loss``; the sums over rows are taken in float64."""
    p, _, u = lt.shape
    lg = lt.reshape(p, heads, classes, u)
    if loss == "cross_entropy":
        mx = lg.amax(2, keepdim=True)
        lse = (lg - mx).exp_().sum(2).log_() + mx.squeeze(2)                   # (p, H, u)
        fixed, sign = lse, -1.0                                                 # l_k = lse - x_k
    else:
        fixed, sign = (lg * lg).sum(2) + 1.0, -2.0                              # sq - 2 x_k + 1
    if prep.label is not None:
        lab = prep.label[r0:r1].view(1, 1, 1, u).expand(p, heads, 1, u)
        ell = fixed + sign * lg.gather(2, lab).squeeze(2)                       # (p, H, u)
        return torch.matmul(ell.double(), prep.label_w[r0:r1])                 # (p, H, K)
    ell = fixed.unsqueeze(2) + sign * lg                                        # (p, H, K, u)
    return (ell.double() * prep.counts[r0:r1].T).sum(-1)


def _tiles(prep: _Prepared, budget: int) -> tuple[int, int]:
    """(points per tile, rows per tile) with points x rows x widest <= budget."""
    rows = max(1, min(prep.rows, budget // prep.widest))
    pts = max(1, budget // (rows * prep.widest))
    if prep.rows > 4 * (prep.z + 1):  # per-point weights of later moved layers count too
        for kind, op in prep.tail:
            if kind == "moved":
                pts = max(1, min(pts, budget // op.weight_t.numel()))
    return pts, rows


def _default_budget(device: torch.device) -> int:
    return GPU_BUDGET if device.type == "cuda" else DEFAULT_BUDGET


def evaluate_points(model: nn.Sequential, directions: list[Direction], X, y, alphas,
                    *, classes: int, heads: int = 1, loss: str = "cross_entropy",
                    device: str | torch.device = "cpu", budget: int | None = None,
                    prepared: _Prepared | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean loss at each point: returns (loss (P, heads), per-class mean loss (P, heads, K)).

    The per-class means L_k (mean loss over the split's samples of class k) give the loss on
    any split with the same per-class behaviour: sum_k pi_k L_k. ``prepared`` (from
    ``prepare``) skips the per-split work when the same split is evaluated again (progressive
    refinement). ``budget`` bounds the floats of one tile (points x rows x width).
    """
    if loss not in ("cross_entropy", "mse"):
        per_class_loss(torch.zeros(1, 2), loss)  # raises the standard error
    prep = prepared or prepare(model, directions, X, y, classes, device)
    alphas = torch.as_tensor(np.asarray(alphas, dtype=np.float64), dtype=torch.float32,
                             device=prep.device)
    if alphas.ndim != 2 or alphas.shape[1] != prep.z:
        raise ConfigError(f"points must be (P, {prep.z}), got {tuple(alphas.shape)}")
    out_width = heads * classes
    last = [op for kind, op in prep.tail if kind in ("linear", "moved")]
    final = (last[-1].out_features if last and isinstance(last[-1], nn.Linear)
             else last[-1].bias.shape[0] if last else
             (prep.C.shape[1] if prep.split else prep.base.shape[1]))
    if final != out_width:
        raise ConfigError(f"the network has {final} outputs; heads x classes = {out_width}")
    budget = budget or _default_budget(prep.device)
    if prep.sep is not None:
        with torch.no_grad():
            sums = _separable_sums(prep.sep, prep, alphas, loss, budget)
        return _finish(prep, sums)
    pts, rows = _tiles(prep, budget)
    sums = torch.zeros(len(alphas), heads, classes, dtype=torch.float64, device=prep.device)
    with torch.no_grad():
        for s in range(0, len(alphas), pts):
            a = alphas[s:s + pts]
            pp = _per_point(prep, a)
            for r0 in range(0, prep.rows, rows):
                r1 = min(prep.rows, r0 + rows)
                h0, j0 = _first_layers(prep, a, r0, r1, pp)
                h = _tail(prep, h0, pp, j0)
                sums[s:s + pts] += _loss_sums(prep, h, r0, r1, heads, classes, loss)
    return _finish(prep, sums)


def _finish(prep: _Prepared, sums: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    sums = sums.cpu()
    total = sums.sum(-1) / prep.n
    per_class = sums / prep.class_n.cpu().clamp(min=1)
    return total.numpy(), per_class.numpy()


def surface(model, directions, X, y, grid: int, alpha_range=None, **kw) -> np.ndarray:
    """Loss on the G^z grid: shape (G,)*z, or (heads,)+(G,)*z when heads > 1."""
    alphas = range_points(grid, len(directions), alpha_range)
    total, _ = evaluate_points(model, directions, X, y, alphas, **kw)
    return grid_array(total, grid, len(directions))


def params_at(model: nn.Module, directions: list[Direction], alpha) -> dict[str, torch.Tensor]:
    """theta_0 + sum_i alpha_i theta_i as a parameter dict (for torch.func.functional_call)."""
    params = {k: v.detach().clone() for k, v in model.named_parameters()}
    for a, d in zip(alpha, directions, strict=True):
        for k, t in d.delta(model).items():
            params[k] += float(a) * t
    return params


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
