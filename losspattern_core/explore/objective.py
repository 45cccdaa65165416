"""The training objective of an ordinary classifier as a function of its parameters.

``SplitObjective`` is the mean loss over *every* sample of a split (never a minibatch),
computed in chunks so memory stays bounded, with the same per-sample loss the surface
evaluator uses (``losses.per_class_loss`` at the true label). It works on a private copy of
the network in eval mode (BatchNorm uses its running statistics, so the loss of the split is
the mean of per-sample losses and nothing is updated), called through
``torch.func.functional_call`` with the parameters it is given.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping

import numpy as np
import torch
from torch import nn

from losspattern_core.errors import ConfigError
from losspattern_core.losses import LOSSES, per_class_loss

DEFAULT_CHUNK = 4096


def per_sample_loss(logits: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """l(f(x_i), y_i) for each sample: (N, K) logits, (N,) labels -> (N,)."""
    return per_class_loss(logits, loss).gather(1, y.view(-1, 1)).squeeze(1)


def split_tensors(model: nn.Module, X, y) -> tuple[torch.Tensor, torch.Tensor]:
    """X (float32) and y (int64) on the device of ``model``'s parameters, checked."""
    device = next(model.parameters()).device
    X = torch.as_tensor(np.asarray(X), dtype=torch.float32, device=device)
    y = torch.as_tensor(np.asarray(y), dtype=torch.long, device=device)
    if y.ndim != 1 or len(X) != len(y) or len(y) == 0:
        raise ConfigError(f"need X (N, ...) and y (N,) with N > 0, got {tuple(X.shape)} and "
                          f"{tuple(y.shape)}")
    return X, y


class SplitObjective:
    """L(theta) = (1/N) sum_i l(f(x_i; theta), y_i) over the whole split, in chunks."""

    def __init__(self, model: nn.Module, X, y, loss: str = "cross_entropy",
                 chunk: int = DEFAULT_CHUNK):
        if loss not in LOSSES:
            raise ConfigError(f"unknown loss {loss!r}; choose from {', '.join(LOSSES)}")
        if chunk < 1:
            raise ConfigError(f"chunk must be >= 1, got {chunk}")
        self.net = copy.deepcopy(model).eval()
        self.X, self.y = split_tensors(self.net, X, y)
        self.loss, self.chunk = loss, int(chunk)
        with torch.no_grad():
            out = self.net(self.X[:1])
        if out.ndim != 2:
            raise ConfigError(f"the network must output (N, classes) logits, got shape "
                              f"{tuple(out.shape)}")
        if int(self.y.min()) < 0 or int(self.y.max()) >= out.shape[1]:
            raise ConfigError(f"labels must lie in 0..{out.shape[1] - 1}")

    @property
    def n(self) -> int:
        """Samples in the split."""
        return len(self.y)

    def chunk_sums(self, params: Mapping[str, torch.Tensor]) -> Iterator[torch.Tensor]:
        """sum_i l_i / N over each chunk (differentiable in ``params``); they add up to L.
        Parameters on another device are copied to the split's."""
        params = {k: torch.as_tensor(v).to(self.X.device) for k, v in params.items()}
        for s in range(0, self.n, self.chunk):
            logits = torch.func.functional_call(self.net, params, (self.X[s:s + self.chunk],))
            yield per_sample_loss(logits, self.y[s:s + self.chunk], self.loss).sum() / self.n

    def value(self, params: Mapping[str, torch.Tensor]) -> float:
        """L(theta) as a float (float64 accumulation over chunks, no graph)."""
        with torch.no_grad():
            return float(sum(float(c.double()) for c in self.chunk_sums(params)))

    def __call__(self, params: Mapping[str, torch.Tensor]) -> float:
        return self.value(params)


def split_loss(model: nn.Module, X, y, loss: str = "cross_entropy",
               chunk: int = DEFAULT_CHUNK) -> SplitObjective:
    """A callable {name: tensor} -> mean loss over the whole split (see ``SplitObjective``)."""
    return SplitObjective(model, X, y, loss, chunk)
