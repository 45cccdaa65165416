"""Loss and accuracy of a network at many points along dense directions, over a split.

Each point theta_0 + sum_i alpha_i theta_i is one forward pass of the whole split (in sample
chunks) through ``torch.func.functional_call``: the model is never modified, the network runs
in eval mode (BatchNorm with its running statistics), and the parameters at a point are formed
exactly as ``surface.naive_surface`` forms them (theta_0, then + alpha_i theta_i in direction
order), so the two agree to float32 rounding. Sums are accumulated in float64.

Exact by default: every sample of the split. When the split given is a random subsample of n
out of N samples (``population=N``), each value comes with its standard error, the sampling
error of a mean drawn without replacement: s / sqrt(n) * sqrt((N - n) / (N - 1)), with s the
per-sample standard deviation of the loss (or of the 0/1 correctness, for accuracy). Over the
whole split (n = N) the standard error is 0.

``measure_points`` is a generator of ``Frame``s (phase ``"surface"``, one per point): a progress
tick and a cancellation point.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from losspattern_core.frames import Frame
from losspattern_core.losses import per_class_loss
from losspattern_core.surface import Direction

CHUNK = 4096   # samples per forward pass (a conv network's activations stay bounded)


@dataclass
class PointValues:
    """Per point: mean loss, accuracy and their standard errors (0 when exact)."""

    loss: np.ndarray
    acc: np.ndarray
    loss_se: np.ndarray
    acc_se: np.ndarray

    @classmethod
    def empty(cls, n: int) -> PointValues:
        return cls(*(np.full(n, np.nan) for _ in range(4)))

    def put(self, where, other: PointValues) -> None:
        for name in ("loss", "acc", "loss_se", "acc_se"):
            getattr(self, name)[where] = getattr(other, name)


def _stderr(mean: np.ndarray, mean_sq: np.ndarray, n: int, population: int) -> np.ndarray:
    if n >= population or n < 2:
        return np.zeros_like(mean)
    var = np.clip(mean_sq - mean**2, 0.0, None) * n / (n - 1)
    return np.sqrt(var / n) * math.sqrt((population - n) / (population - 1))


def measure_points(model: nn.Module, directions: list[Direction], X, y, alphas, *,
                   loss: str = "cross_entropy", population: int | None = None,
                   chunk: int = CHUNK, phase: str = "surface",
                   ) -> Generator[Frame, None, PointValues]:
    """Mean loss and accuracy over every sample of (X, y) at each point of ``alphas`` (P, z).

    ``X`` has the network's input shape. ``population``: the size of the split that (X, y) is
    a random subsample of (None: (X, y) is the whole split, the values are exact).
    ``phase`` names the frames (progress displays restart on a new phase).
    """
    net = copy.deepcopy(model).eval()
    device = next(net.parameters()).device
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32, device=device)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long, device=device)
    alphas = np.asarray(alphas, dtype=np.float64).reshape(len(alphas), len(directions))
    base = {k: v.detach() for k, v in net.named_parameters()}
    buffers = {k: v.detach() for k, v in net.named_buffers()}
    deltas = [d.delta(net) for d in directions]
    n = len(y)
    population = n if population is None else int(population)
    sums = np.zeros((len(alphas), 3))        # loss, loss^2, correct
    start = time.perf_counter()
    with torch.no_grad():
        for j, alpha in enumerate(alphas):
            params = {k: v.clone() for k, v in base.items()}
            for a, dl in zip(alpha, deltas, strict=True):
                for k, t in dl.items():
                    params[k].add_(float(a) * t)
            for s in range(0, n, chunk):
                logits = torch.func.functional_call(net, {**params, **buffers},
                                                    (X[s:s + chunk],))
                yc = y[s:s + chunk]
                ell = per_class_loss(logits, loss).gather(1, yc.view(-1, 1)).squeeze(1).double()
                sums[j] += [float(ell.sum()), float((ell**2).sum()),
                            float((logits.argmax(1) == yc).sum())]
            yield Frame(j + 1, len(alphas), float(sums[j, 0] / n), time.perf_counter() - start,
                        phase=phase, message=f"{j + 1}/{len(alphas)} points x {n} samples")
    mean, mean_sq, acc = sums[:, 0] / n, sums[:, 1] / n, sums[:, 2] / n
    return PointValues(mean, acc, _stderr(mean, mean_sq, n, population),
                       _stderr(acc, acc, n, population))
