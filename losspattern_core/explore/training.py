"""Train an ordinary classifier and keep its trajectory (for PCA directions and interpolation).

A generator of ``Frame``s (phase ``"training"``, one per optimiser step: a progress tick and a
cancellation point) that returns a ``TrainingResult``. The caller's model is never changed: a
deep copy is trained. ``losspattern_core.training.fit_classifier`` is not reused because it is
Adam with a one-cycle schedule only and exposes no parameter snapshots; this loop offers Adam
or SGD (momentum) at a constant learning rate, which is what trajectory pictures usually show.

Snapshots (flat float32 CPU vectors) are taken at step 0, every ``snapshot_every`` steps and at
the last step. Their memory is bounded by ``max_snapshot_bytes``: when the next snapshot would
not fit, every other kept snapshot is dropped and the interval doubles (step 0 stays; the last
step always has room), so the trajectory still spans the whole run, more coarsely. Snapshots
hold parameters only (not BatchNorm running statistics).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Generator
from dataclasses import dataclass, field

import torch
from torch import nn

from losspattern_core.errors import ConfigError, ConstructionError
from losspattern_core.frames import Frame

from .layout import ParamLayout, Trajectory
from .objective import SplitObjective, per_sample_loss, split_tensors

MAX_SNAPSHOT_BYTES = 256 << 20
OPTIMIZERS = ("adam", "sgd")


@dataclass
class TrainingResult:
    """The trained copy, its trajectory and its losses."""

    model: nn.Module
    initial_params: dict[str, torch.Tensor]
    final_params: dict[str, torch.Tensor]
    trajectory: Trajectory
    losses: list[float]                 # minibatch loss at each step
    initial_loss: float                 # full-split mean loss before training
    final_loss: float                   # full-split mean loss after training
    snapshot_every: int                 # the interval in the end (doubled when thinned)
    wall_s: float
    settings: dict = field(default_factory=dict)


def _check(optimizer: str, steps: int, lr: float, snapshot_every: int) -> None:
    if optimizer not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {optimizer!r}; choose from {', '.join(OPTIMIZERS)}")
    if steps < 1 or snapshot_every < 1:
        raise ConfigError(f"steps ({steps}) and snapshot_every ({snapshot_every}) must be >= 1")
    if not (math.isfinite(lr) and lr > 0):
        raise ConfigError(f"learning rate must be a positive number, got {lr}")


class _Snapshots:
    """Flat snapshots at multiples of an interval that doubles when memory runs out."""

    def __init__(self, layout: ParamLayout, every: int, max_bytes: int):
        self.layout, self.every = layout, every
        self.capacity = max_bytes // (4 * layout.size)
        if self.capacity < 2:
            raise ConfigError(f"max_snapshot_bytes {max_bytes} holds fewer than 2 snapshots of "
                              f"{layout.size:,} parameters; raise it")
        self.steps: list[int] = []
        self.points: list[torch.Tensor] = []

    def offer(self, step: int, params: dict) -> None:
        if step % self.every:
            return
        while len(self.points) >= self.capacity - 1:          # keep room for the last step
            self.every *= 2
            keep = [i for i, s in enumerate(self.steps) if s % self.every == 0]
            self.steps = [self.steps[i] for i in keep]
            self.points = [self.points[i] for i in keep]
            if step % self.every:
                return
        self.steps.append(step)
        self.points.append(self.layout.flatten(params))

    def finish(self, step: int, params: dict) -> Trajectory:
        if not self.steps or self.steps[-1] != step:
            self.steps.append(step)
            self.points.append(self.layout.flatten(params))
        return Trajectory(self.layout, list(self.steps), torch.stack(self.points))


def train_trajectory(model: nn.Module, X, y, *, steps: int = 500, optimizer: str = "adam",
                     lr: float = 1e-3, momentum: float = 0.9, batch: int | None = 128,
                     loss: str = "cross_entropy", seed: int = 0, snapshot_every: int = 10,
                     max_snapshot_bytes: int = MAX_SNAPSHOT_BYTES,
                     ) -> Generator[Frame, None, TrainingResult]:
    """Train a copy of ``model`` on (X, y), keeping snapshots (see the module docstring).

    ``batch=None`` trains full-batch. Minibatches are drawn without replacement from a
    permutation seeded with ``seed``. A non-finite loss stops with ``ConstructionError``.
    """
    _check(optimizer, int(steps), float(lr), int(snapshot_every))
    net = copy.deepcopy(model).train()
    params = dict(net.named_parameters())
    initial_loss = SplitObjective(net, X, y, loss)(params)   # checks X, y, labels, the loss
    X, y = split_tensors(net, X, y)
    layout = ParamLayout.of(net)
    snaps = _Snapshots(layout, int(snapshot_every), int(max_snapshot_bytes))
    initial = {k: v.detach().cpu().clone() for k, v in params.items()}
    snaps.offer(0, initial)
    opt = (torch.optim.Adam(params.values(), lr=lr) if optimizer == "adam"
           else torch.optim.SGD(params.values(), lr=lr, momentum=momentum))
    gen = torch.Generator().manual_seed(int(seed))
    n = len(y)
    bs = n if batch is None else max(1, min(int(batch), n))
    perm, pos, losses = torch.randperm(n, generator=gen), 0, []
    start = time.perf_counter()
    for step in range(1, int(steps) + 1):
        if pos + bs > n:
            perm, pos = torch.randperm(n, generator=gen), 0
        idx = perm[pos:pos + bs].to(X.device)
        pos += bs
        value = per_sample_loss(net(X[idx]), y[idx], loss).mean()
        if not math.isfinite(float(value.detach())):
            raise ConstructionError(f"training diverged (loss {float(value.detach())}) at step "
                                    f"{step}; try a learning rate lower than {lr:g}")
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        losses.append(float(value.detach()))
        if step < steps:
            snaps.offer(step, {k: v.detach() for k, v in params.items()})
        yield Frame(step, int(steps), losses[-1], time.perf_counter() - start, phase="training",
                    message=f"{len(snaps.steps)} snapshots")
    opt.zero_grad(set_to_none=True)          # the trained copy is handed back without gradients
    final = {k: v.detach().cpu().clone() for k, v in params.items()}
    trajectory = snaps.finish(int(steps), final)
    final_loss = SplitObjective(net, X, y, loss)(params)     # with the trained buffers
    net.eval()
    settings = {"optimizer": optimizer, "lr": lr, "momentum": momentum if optimizer == "sgd"
                else None, "batch": bs, "steps": int(steps), "seed": int(seed), "loss": loss}
    return TrainingResult(net, initial, final, trajectory, losses, initial_loss,
                          final_loss, snaps.every, time.perf_counter() - start, settings)
