"""Exact loss surfaces: the real network's mean loss over every sample of a split.

``evaluate_points`` never mutates the model. It computes once what the directions do not
change and batches many grid points per pass:

* activations before the first layer any direction moves are computed once;
* that layer's product splits into a shared part A W0^T + b0 and one part per direction
  A dW_i^T + db_i, so a grid point costs additions there, not a matrix product;
* rows (samples) whose shared and per-direction parts are identical give identical outputs at
  every grid point, so they are evaluated once and weighted by their label counts. In a
  Theorem 1 network every input gives the same first-layer activations, so the whole split
  collapses to one row: still the measured loss of every sample, computed exactly.
* layers after it that a direction moves get per-point weights (batched matmul).

``naive_surface`` is the reference: write theta_0 + sum alpha_i theta_i into a copy of the model
and run the whole split, one point at a time.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .errors import ConfigError
from .losses import per_class_loss
from .patterns import grid_points

DEFAULT_BUDGET = 2**24  # floats per chunk of (points x rows x width)


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
            return {k: v.detach().to(params[k]) for k, v in self.tensors.items()}
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


def _linear_deltas(model: nn.Sequential, directions: list[Direction]):
    """Per Sequential index of a Linear: (dW list, db list) with None where unmoved."""
    out: dict[int, tuple[list, list]] = {}
    deltas = [d.delta(model) for d in directions]
    for i, mod in enumerate(model):
        if not isinstance(mod, nn.Linear):
            continue
        dws = [dl.get(f"{i}.weight") for dl in deltas]
        dbs = [dl.get(f"{i}.bias") for dl in deltas]
        if any(t is not None for t in dws + dbs):
            out[i] = (dws, dbs)
    known = {f"{i}.{n}" for i, m in enumerate(model) for n, _ in m.named_parameters()}
    for dl in deltas:
        if set(dl) - known:
            raise ConfigError(f"directions move {sorted(set(dl) - known)}, not a Linear layer")
    return out


def _stack(ts: list, like: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.zeros_like(like) if t is None else t for t in ts])


@dataclass
class _Prepared:
    """Everything about (model, directions, split) that no grid point changes."""

    shared: torch.Tensor      # (U, out)   A W0^T + b0 of the first moved layer, unique rows
    per_dir: torch.Tensor     # (z, U, out)
    counts: torch.Tensor      # (U, K) float64: how many samples of class k each row stands for
    class_n: torch.Tensor     # (K,)
    tail: list                # [(module, (dW stack, db stack) or None)] after the first moved layer
    n: int


def prepare(model: nn.Sequential, directions: list[Direction], X, y, classes: int,
            device: str | torch.device = "cpu") -> _Prepared:
    model = model.to(device)
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32, device=device)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long, device=device)
    moved = _linear_deltas(model, directions)
    if not moved:
        raise ConfigError("the directions move no parameter of the network")
    first = min(moved)
    with torch.no_grad():
        a = model[:first](X) if first else X
        lin = model[first]
        dws, dbs = moved[first]
        shared = a @ lin.weight.T + lin.bias
        per_dir = torch.stack([
            (a @ dw.T if dw is not None else 0) + (db if db is not None else 0)
            + torch.zeros_like(shared) for dw, db in zip(dws, dbs)])
        rows = torch.cat([shared, per_dir.permute(1, 0, 2).reshape(len(y), -1)], dim=1)
        counts_full = torch.nn.functional.one_hot(y, classes).double()
        if bool((rows == rows[:1]).all()):
            inverse = torch.zeros(len(y), dtype=torch.long, device=device)
            keep = torch.zeros(1, dtype=torch.long, device=device)
        else:
            _, inverse = torch.unique(rows, dim=0, return_inverse=True)
            keep = torch.empty(int(inverse.max()) + 1, dtype=torch.long, device=device)
            keep[inverse] = torch.arange(len(y), device=device)
        counts = torch.zeros(len(keep), classes, dtype=torch.float64, device=device)
        counts.index_add_(0, inverse, counts_full)
        tail = []
        for i in range(first + 1, len(model)):
            mod = model[i]
            if i in moved:
                dw, db = moved[i]
                tail.append((mod, (_stack(dw, mod.weight), _stack(db, mod.bias))))
            else:
                tail.append((mod, None))
    return _Prepared(shared[keep], per_dir[:, keep], counts, counts_full.sum(0), tail, len(y))


def _run_chunk(prep: _Prepared, alpha: torch.Tensor, heads: int, classes: int,
               loss: str) -> torch.Tensor:
    """Per-class loss sums (P, heads, K) for a chunk of points alpha (P, z)."""
    h = prep.shared.unsqueeze(0) + torch.einsum("pz,zuo->puo", alpha, prep.per_dir)
    for mod, moved in prep.tail:
        if moved is None:
            h = mod(h)
        else:
            dw, db = moved
            w = mod.weight + torch.einsum("pz,zoi->poi", alpha, dw)
            b = mod.bias + alpha @ db
            h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
    p, u = h.shape[:2]
    ell = per_class_loss(h.reshape(p, u, heads, classes), loss).double()
    return torch.einsum("puhk,uk->phk", ell, prep.counts)


def evaluate_points(model: nn.Sequential, directions: list[Direction], X, y, alphas,
                    *, classes: int, heads: int = 1, loss: str = "cross_entropy",
                    device: str | torch.device = "cpu", budget: int = DEFAULT_BUDGET,
                    prepared: _Prepared | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean loss at each point: returns (loss (P, heads), per-class mean loss (P, heads, K)).

    The per-class means L_k (mean loss over the split's samples of class k) give the loss on
    any split with the same per-class behaviour: sum_k pi_k L_k.
    """
    prep = prepared or prepare(model, directions, X, y, classes, device)
    alphas = torch.as_tensor(np.asarray(alphas), dtype=torch.float32, device=prep.shared.device)
    if alphas.ndim != 2 or alphas.shape[1] != len(directions):
        raise ConfigError(f"points must be (P, {len(directions)}), got {tuple(alphas.shape)}")
    widest = max([prep.shared.shape[1]] + [m.out_features for m, _ in prep.tail
                                           if isinstance(m, nn.Linear)])
    step = max(1, budget // max(1, prep.shared.shape[0] * widest))
    sums = []
    with torch.no_grad():
        for start in range(0, len(alphas), step):
            sums.append(_run_chunk(prep, alphas[start:start + step], heads, classes, loss))
    sums = torch.cat(sums).cpu()
    total = sums.sum(-1) / prep.n
    per_class = sums / prep.class_n.cpu().clamp(min=1)
    return total.numpy(), per_class.numpy()


def surface(model, directions, X, y, grid: int, alpha_range=None, **kw) -> np.ndarray:
    """Loss on the G^z grid: shape (G,)*z, or (heads,)+(G,)*z when heads > 1."""
    alphas = range_points(grid, len(directions), alpha_range)
    total, _ = evaluate_points(model, directions, X, y, alphas, **kw)
    return grid_array(total, grid, len(directions))


def range_points(grid: int, z: int, alpha_range=None) -> np.ndarray:
    pts = grid_points(grid, z)
    if alpha_range is not None:
        lo = np.array([r[0] for r in alpha_range], dtype=np.float64)
        hi = np.array([r[1] for r in alpha_range], dtype=np.float64)
        pts = lo + (hi - lo) * pts
    return pts


def grid_array(total: np.ndarray, grid: int, z: int) -> np.ndarray:
    """(G**z, heads) -> (G,)*z for one head, else (heads,)+(G,)*z."""
    heads = total.shape[1]
    arr = np.moveaxis(total.reshape((grid,) * z + (heads,)), -1, 0)
    return arr[0] if heads == 1 else arr


def params_at(model: nn.Module, directions: list[Direction], alpha) -> dict[str, torch.Tensor]:
    """theta_0 + sum_i alpha_i theta_i as a parameter dict (for torch.func.functional_call)."""
    params = {k: v.detach().clone() for k, v in model.named_parameters()}
    for a, d in zip(alpha, directions):
        for k, t in d.delta(model).items():
            params[k] += float(a) * t
    return params


def outputs_at(model: nn.Module, directions: list[Direction], X, alpha) -> torch.Tensor:
    """The network's outputs on every sample of X at one point (no mutation)."""
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    with torch.no_grad():
        return torch.func.functional_call(model, params_at(model, directions, alpha), (X,))


def naive_surface(model: nn.Module, directions: list[Direction], X, y, alphas, *,
                  classes: int, heads: int = 1, loss: str = "cross_entropy") -> np.ndarray:
    """Reference loop: write each point's weights into a copy and run the whole split."""
    net = copy.deepcopy(model)
    base = {k: v.detach().clone() for k, v in net.named_parameters()}
    deltas = [d.delta(net) for d in directions]
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long)
    out = np.empty((len(alphas), heads))
    with torch.no_grad():
        params = dict(net.named_parameters())
        for j, alpha in enumerate(np.asarray(alphas)):
            for k, p in params.items():
                p.copy_(base[k])
            for a, dl in zip(alpha, deltas):
                for k, t in dl.items():
                    params[k].add_(float(a) * t)
            logits = net(X).reshape(len(y), heads, classes)
            ell = per_class_loss(logits, loss)
            out[j] = ell.gather(2, y.view(-1, 1, 1).expand(-1, heads, 1)).mean(0).squeeze(-1).numpy()
    return out
