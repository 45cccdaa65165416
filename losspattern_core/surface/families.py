"""The family path's per-split precomputation: any ``nn.Sequential`` (MLP, CNN, ResNet with
BatchNorm) with X shaped as the network takes it, in eval mode.

Three structures, each proved from exact zeros in the weights (never assumed), cheapest first:

* **one row**: the first moved module is a Linear/Conv whose weight is exactly zero and no
  direction moves that weight (Theorem 1). Its output is its bias at the point, the same for
  every sample, so every sample gives the same logits: one row per point, weighted by the label
  counts. Cost independent of N.
* **separable**: ``dependence.separable_columns`` proves logits(alpha, x) = c(x) + g(alpha)
  (Theorem 2's channel blocks). c is computed once over the split, g on one sample per point,
  the cross-entropy factorised (``losses.separable_cross_entropy_sums``).
* **general**: anything else, batched over points and tiled over samples (``family_kernels``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from losspattern_core.errors import ConfigError

from .dependence import separable_columns
from .directions import Direction
from .fold_pooling import fold_pool_into_linear
from .modules import AffineSplit, ModuleNet, affine_split, is_affine, module_net
from .pointwise import run_points
from .separable import c_statistics

# floats of one block of activations while preparing (c(x) over the split)
PREPARE_FLOATS = 2**22


@dataclass(eq=False)
class FamilySeparable:
    """logits(alpha, x) = c(x) + g(alpha) for a network of any family (see ``separable``)."""

    heads: int
    classes: int
    rows: object                 # losses.SeparableRows of c (N, H, K)
    mse_a: torch.Tensor
    mse_c: torch.Tensor
    net: ModuleNet
    entry: torch.Tensor | AffineSplit   # sample 0 entering (or leaving) the first moved module
    alpha_cols: torch.Tensor
    x_cols: torch.Tensor
    budget: int = 2**20

    def describe(self) -> str:
        return (f"logits = c(x) + g(alpha): {len(self.x_cols)} x features and "
                f"{len(self.alpha_cols)} alpha features feed the output layer")

    def g(self, alpha: torch.Tensor) -> torch.Tensor:
        """g(alpha) (P, H*K): the network on one sample per point, alpha features only entering
        the output (plus the directions' output deltas, zero on x features)."""
        net, last = self.net, len(self.net.mods) - 1
        out = net.mods[last]
        pts = max(1, min(self.budget // net.widest,
                         self.budget // max(1, net.moved_numel(net.first + 1))))
        gs = []
        for s in range(0, len(alpha), pts):
            a = alpha[s:s + pts]
            feats = entering_tail(net, self.entry, a, last)[:, 0]            # (p, F)
            g = feats[:, self.alpha_cols] @ out.weight[:, self.alpha_cols].T
            d = net.deltas.get(last, {})
            if "weight" in d:
                g = g + torch.einsum("pz,pf,zof->po", a, feats, d["weight"])
            if "bias" in d:
                g = g + a @ d["bias"]
            gs.append(g)
        return torch.cat(gs)


def entering_tail(net: ModuleNet, entry, alpha: torch.Tensor, stop: int) -> torch.Tensor:
    """(P, B, ...) activations entering module ``stop`` at the points ``alpha``, from ``entry``:
    the first moved module's ``AffineSplit``, or the (shared) input to it."""
    first = net.first
    if isinstance(entry, AffineSplit):
        h, per_point = entry.at(alpha), True
        first += 1
    else:
        h, per_point = entry, False
    h, per_point = run_points(net, first, stop, h, alpha, per_point)
    return h if per_point else h.unsqueeze(0).expand(len(alpha), *h.shape)


@dataclass(eq=False)
class FamilyPrepared:
    """What no grid point changes, for the family path (``mode``: one_row, separable, general)."""

    z: int
    n: int
    classes: int
    mode: str
    net: ModuleNet
    X: torch.Tensor | None       # (N, *sample) on the device (general mode only)
    y: torch.Tensor              # (N,)
    onehot: torch.Tensor         # (N, K) float64
    class_n: torch.Tensor        # (K,) float64
    sep: FamilySeparable | None = None
    info: dict = field(default_factory=dict)
    # general mode: each sample block's first-layer products, kept between calls when a dict
    # (``explore.measure`` sets one on the block it is measuring, for its batches of points)
    kept: dict | None = None

    @property
    def device(self) -> torch.device:
        return self.y.device

    @property
    def outputs(self) -> int:
        return self.net.outputs


def split_tensors(X, y, classes: int, device: torch.device):
    """X (N, *sample) float32 and y (N,) long on ``device``, checked."""
    if isinstance(X, torch.Tensor):
        X = X.detach().to(device, torch.float32)
    else:
        X = torch.as_tensor(np.asarray(X), dtype=torch.float32).to(device)
    y = torch.as_tensor(np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y),
                        dtype=torch.long).to(device)
    if X.ndim < 2 or y.ndim != 1 or len(X) != len(y) or len(y) == 0:
        raise ConfigError(f"need X (N, ...) and y (N,) with N > 0, got {tuple(X.shape)} and "
                          f"{tuple(y.shape)}")
    if int(y.min()) < 0 or int(y.max()) >= classes:
        raise ConfigError(f"labels must lie in 0..{classes - 1}")
    return X, y


def one_row(net: ModuleNet) -> bool:
    """Whether the first moved module ignores its input: an affine module whose weight is
    exactly zero, with no direction moving that weight."""
    mod = net.mods[net.first]
    return (is_affine(mod) and "weight" not in net.deltas[net.first]
            and not bool(torch.any(mod.weight != 0)))


def run_plain(net: ModuleNet, stop: int, X: torch.Tensor, block: int) -> torch.Tensor:
    """Modules ``:stop`` at theta_0 on every sample of X, ``block`` samples at a time."""
    def forward(h):
        for mod in net.mods[:stop]:
            h = mod(net.layout(h))
        return h
    return torch.cat([forward(X[s:s + block]) for s in range(0, len(X), block)])


def _separable(net: ModuleNet, X: torch.Tensor, onehot: torch.Tensor, classes: int,
               cols) -> FamilySeparable:
    """c(x) over the split (x features only) and what g(alpha) needs."""
    acols, xcols = (c.to(X.device) for c in cols)
    out = net.mods[-1]
    block = max(1, PREPARE_FLOATS // net.widest)
    feats = run_plain(net, len(net.mods) - 1, X, block)                      # (N, F) at theta_0
    bias = out.bias if out.bias is not None else out.weight.new_zeros(out.weight.shape[0])
    c = F.linear(feats[:, xcols], out.weight[:, xcols], bias)
    heads = c.shape[1] // classes
    rows, mse_a, mse_c = c_statistics(c.view(len(X), heads, classes), onehot)
    first = net.first
    a0 = run_plain(net, first, X[:1], 1)
    entry = (affine_split(net.mods[first], net.deltas[first], a0)
             if is_affine(net.mods[first]) and first < len(net.mods) - 1 else a0)
    return FamilySeparable(heads, classes, rows, mse_a, mse_c, net, entry, acols, xcols)


def prepare_family(model: nn.Module, directions: list[Direction], X, y, classes: int,
                   device: torch.device) -> FamilyPrepared:
    """The family path's ``prepare`` (see the module docstring). Works from eval-mode copies:
    ``model`` is never moved, switched or modified."""
    X, y = split_tensors(X, y, classes, device)
    with torch.no_grad():
        net = module_net(model, directions, tuple(X.shape[1:]), device)
        onehot = F.one_hot(y, classes).double()
        info: dict = {"path": "family", "first_moved_layer": net.first}
        sep, cols = None, None
        if one_row(net):
            mode = "one_row"
            info["dedup"] = "first moved layer ignores its input: one row"
        else:
            cols = separable_columns(net)
            mode = "separable" if cols is not None else "general"
        if mode == "general":
            net = fold_pool_into_linear(net)
        if cols is not None:
            sep = _separable(net, X, onehot, classes, cols)
            info["separable"] = sep.describe()
        info["structure"] = mode
        return FamilyPrepared(len(directions), len(y), classes, mode, net,
                              X if mode == "general" else None, y, onehot, onehot.sum(0), sep,
                              info)


def on_other_samples(prep: FamilyPrepared, X, y) -> FamilyPrepared:
    """A general-mode preparation for other samples of the same split (same sample shape):
    the network's eval-mode copies and per-module deltas are shared, not built again; only the
    samples and their labels change (the general mode keeps nothing else per split)."""
    if prep.mode != "general":
        raise ValueError("only the general structure's preparation is independent of its samples")
    X, y = split_tensors(X, y, prep.classes, prep.device)
    if tuple(X.shape[1:]) != tuple(prep.X.shape[1:]):
        raise ConfigError(f"samples of shape {tuple(X.shape[1:])}, the preparation's are "
                          f"{tuple(prep.X.shape[1:])}")
    onehot = F.one_hot(y, prep.classes).double()
    return replace(prep, n=len(y), X=X, y=y, onehot=onehot, class_n=onehot.sum(0), kept=None)
