"""Evaluating many weight vectors (cells of the plane) of one network on one minibatch.

Two engines give the same numbers:

* ``vmap``: ``torch.func.functional_call`` under ``torch.vmap`` over a chunk of cells (the
  convolutions become grouped convolutions over the stacked cells);
* ``loop``: ``functional_call`` per cell on the one shared module (no module is copied or
  rebuilt per cell); each cell costs what one plain training step costs.

Measured on this repo's 2-core CPU (their Fashion-MNIST CNN, batch 512, fwd+bwd): ``loop``
runs at about the speed of a plain training loop, ``vmap`` at about half of it (grouped
convolutions are slow on the CPU), so ``auto`` picks ``loop`` on the CPU and ``vmap`` on CUDA
(not measured here: no GPU was available).

The objective's gradient is taken in two stages: the cells' weight vectors are computed once
from the plane (one small graph), each chunk of cells is run and back-propagated into a
detached copy of those vectors (freeing its activations, as their per-cell ``backward`` does),
and the vectors' gradient is then pushed into the plane once.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from losspattern_core.errors import ConfigError

from .mpo_plane import Plane

ENGINES = ("auto", "vmap", "loop")


def pick_engine(engine: str, device: torch.device | str) -> str:
    """``auto`` -> ``loop`` on the CPU, ``vmap`` on CUDA; anything else is checked."""
    if engine not in ENGINES:
        raise ConfigError(f"engine {engine!r}: choose from {', '.join(ENGINES)}")
    if engine != "auto":
        return engine
    return "vmap" if torch.device(device).type == "cuda" else "loop"


def batched_logits(net: nn.Module, params: dict[str, torch.Tensor], x: torch.Tensor,
                   engine: str) -> torch.Tensor:
    """Logits (n, B, K) of n weight settings ``params`` ({name: (n, *shape)}) on x (B, ...)."""
    n = next(iter(params.values())).shape[0]
    if engine == "vmap":
        def one(p):
            return torch.func.functional_call(net, p, (x,))
        return torch.vmap(one)(params)
    return torch.stack([torch.func.functional_call(net, {k: v[c] for k, v in params.items()},
                                                   (x,)) for c in range(n)])


def objective_backward(plane: Plane, net: nn.Module, good: torch.Tensor, bad: torch.Tensor,
                       x: torch.Tensor, y: torch.Tensor, tau: float, engine: str,
                       chunk: int = 10) -> dict:
    """J = mean_good CE - mean_bad clamp(CE, 0, tau) on (x, y); its gradient is accumulated
    into the plane's parameters. ``good``/``bad``: centred cells (n, 2). Returns J and the
    mean loss and accuracy of the good and bad cells (their logged figures)."""
    ng, nb = len(good), len(bad)
    cells = torch.cat([good, bad])
    vectors = plane.cell_vectors(cells)
    leaf = vectors.detach().requires_grad_()
    is_good = torch.arange(ng + nb, device=leaf.device) < ng
    coef = torch.where(is_good, 1.0 / max(ng, 1), -1.0 / max(nb, 1))
    ce_all = torch.empty(ng + nb, dtype=torch.float64)
    acc_all = torch.empty(ng + nb, dtype=torch.float64)
    step = max(1, chunk if engine == "vmap" else 1)
    for s in range(0, ng + nb, step):
        sl = slice(s, min(s + step, ng + nb))
        logits = batched_logits(net, plane.unflatten(leaf[sl]), x, engine)
        n = logits.shape[0]
        ce = F.cross_entropy(logits.reshape(n * len(y), -1), y.repeat(n),
                             reduction="none").view(n, len(y)).mean(1)
        term = torch.where(is_good[sl], ce, ce.clamp(0.0, tau))
        (coef[sl] * term).sum().backward()
        ce_all[sl] = ce.detach().double().cpu()
        acc_all[sl] = (logits.detach().argmax(-1) == y).double().mean(1).cpu()
    vectors.backward(leaf.grad)
    g, b = slice(0, ng), slice(ng, ng + nb)
    return {"J": float(ce_all[g].mean() - ce_all[b].clamp(0.0, tau).mean()),
            "good_loss": float(ce_all[g].mean()), "bad_loss": float(ce_all[b].mean()),
            "good_acc": float(acc_all[g].mean()), "bad_acc": float(acc_all[b].mean())}


def validation_gap(plane: Plane, net: nn.Module, X: torch.Tensor, y: torch.Tensor,
                   good: torch.Tensor, bad: torch.Tensor, batch: int,
                   rng: np.random.Generator) -> dict:
    """Their per-epoch check (``MaskTrainer.validate``): one pass over the split in batches,
    each batch run at one random good cell and at one random bad cell; the mean loss and
    accuracy of each, and good_acc - bad_acc."""
    sums = np.zeros(4)
    with torch.no_grad():
        for s in range(0, len(y), batch):
            xb, yb = X[s:s + batch], y[s:s + batch]
            pick = torch.stack([good[rng.integers(len(good))], bad[rng.integers(len(bad))]])
            logits = batched_logits(net, plane.unflatten(plane.cell_vectors(pick)), xb, "loop")
            for k in range(2):
                sums[k] += float(F.cross_entropy(logits[k], yb, reduction="sum"))
                sums[2 + k] += float((logits[k].argmax(-1) == yb).sum())
    n = len(y)
    return {"good_loss": sums[0] / n, "bad_loss": sums[1] / n, "good_acc": sums[2] / n,
            "bad_acc": sums[3] / n, "acc_gap": (sums[2] - sums[3]) / n}
