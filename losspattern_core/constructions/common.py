"""What constructions yield and return, and the regression loop they share."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from losspattern_core.config import Resolved
from losspattern_core.errors import ConstructionError
from losspattern_core.frames import Frame
from losspattern_core.grid import grid_points
from losspattern_core.losses import sigma
from losspattern_core.networks import as_input
from losspattern_core.surface import Direction, grid_array, surface


@dataclass
class Construction:
    """theta_0 (``model``, on the run's device), its directions and what the run measured."""

    resolved: Resolved
    model: nn.Sequential
    directions: list[Direction]
    alpha_range: list[list[float]]
    target: np.ndarray            # T on the evaluation grid, loss units; (heads,)+(G,)*z if rgb
    layers: list[dict]
    timings: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)  # theorem-specific figures (e.g. baseline)

    @property
    def config(self):
        return self.resolved.config

    @property
    def heads(self) -> int:
        return self.resolved.heads


def first_layer_bias_directions(z: int) -> list[Direction]:
    """Both theorems' directions: direction i adds alpha_i to the bias of first-layer unit i
    (axis-aligned, one-hot)."""
    return [Direction("0.bias", i, 1.0) for i in range(z)]


def target_grid(resolved: Resolved) -> np.ndarray:
    return resolved.target()


def sample_targets(resolved: Resolved, rng: np.random.Generator, n: int):
    """Uniform alpha in [0,1]^z and T(alpha) (n, heads) in loss units."""
    alpha = rng.random((n, resolved.config.z))
    vals = resolved.pattern.evaluate(alpha)
    vals = vals[:, None] if vals.ndim == 1 else vals
    return alpha, resolved.loss_range.apply(vals)


def measured_train_surface(resolved: Resolved, model, directions) -> np.ndarray:
    X, y = resolved.dataset.split("train")
    X = as_input(X, resolved.network)   # images (N, C, H, W) for the conv families
    cfg = resolved.config
    return surface(model, directions, X, y, cfg.grid, classes=resolved.dataset.classes,
                   heads=resolved.heads, loss=cfg.loss, device=cfg.device)


def snapshot_due(step: int, total: int, every: int) -> bool:
    return every > 0 and (step % every == 0 or step == total)


def warmup_cosine(steps: int, warmup: float = 0.05, final: float = 0.01):
    """Linear warm-up over 5% of the steps, then cosine decay to 1% of the peak rate."""
    warm = max(1, int(warmup * steps))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        t = (step - warm) / max(1, steps - warm)
        return final + (1 - final) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))
    return factor


def _adam(params: list[nn.Parameter], lr: float) -> torch.optim.Adam:
    """Adam with the fused kernel where the device has one (one pass over each parameter
    instead of a dozen small ops: ~3x faster steps for these small networks), else the plain
    one. Same update rule; deterministic on CPU."""
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr)


@dataclass(frozen=True)
class EarlyStop:
    """When a regression may end before its last step: every ``every`` steps ``estimate()``
    gives the fit's PSNR (dB) on a fixed set of evaluation-grid points; the run stops once that
    reaches ``enough_db`` (an error below ~1% of the loss range: the surface is drawn), or once
    it gained less than ``min_gain_db`` over the last ``patience`` checks (saturated), a rule
    judged only from ``saturation_from`` of the schedule on: while the learning rate is still
    high the estimates jump by dB from check to check, and a dip is not saturation."""

    estimate: Callable[[], float]
    every: int = 50
    enough_db: float = 40.0
    min_gain_db: float = 0.25
    patience: int = 4
    saturation_from: float = 0.0

    def reason(self, history: list[float], progress: float = 1.0) -> str | None:
        """Why to stop after the checks ``history`` at ``progress`` (step / scheduled steps) of
        the schedule (None: go on)."""
        if history[-1] >= self.enough_db:
            return f"estimated PSNR {history[-1]:.1f} dB >= {self.enough_db:g} dB"
        if progress >= self.saturation_from and len(history) > self.patience:
            gain = history[-1] - max(history[:-self.patience])
            if gain < self.min_gain_db:
                return (f"estimated PSNR {history[-1]:.1f} dB gained {gain:.2f} dB < "
                        f"{self.min_gain_db:g} dB over the last {self.patience * self.every} "
                        "steps")
        return None

    def to_json(self) -> dict:
        return {"every": self.every, "enough_db": self.enough_db,
                "min_gain_db": self.min_gain_db, "patience": self.patience,
                "saturation_from": self.saturation_from}


def regression(resolved: Resolved, params: list[nn.Parameter],
               loss_fn: Callable[[np.random.Generator], torch.Tensor],
               snapshot: Callable[[], np.ndarray | None], stop: EarlyStop | None = None,
               after_step: Callable[[], None] | None = None,
               ) -> Generator[Frame, None, dict]:
    """Adam with warm-up and cosine decay over ``cfg.steps`` on ``loss_fn``; yields a frame
    every step; with ``stop``, ends early once the fit has saturated (``EarlyStop``);
    ``after_step`` runs after every optimiser step (a constraint such as a weight mask)."""
    cfg = resolved.config
    opt = _adam(params, cfg.lr)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(cfg.steps))
    rng = np.random.default_rng(cfg.seed)
    start = time.perf_counter()
    last = math.nan
    estimates: list[float] = []
    reason = None
    for step in range(1, cfg.steps + 1):
        loss = loss_fn(rng)
        last = float(loss.detach())
        if not math.isfinite(last):
            raise ConstructionError(
                f"the regression diverged: its loss became {last} at step {step}. Try a lower "
                f"learning rate (now {cfg.lr:g}) or another activation.")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if after_step is not None:
            after_step()
        sched.step()
        if stop is not None and step % stop.every == 0 and step < cfg.steps:
            estimates.append(stop.estimate())
            reason = stop.reason(estimates, step / cfg.steps)
        due = reason is not None or snapshot_due(step, cfg.steps, cfg.snapshot_every)
        snap = snapshot() if due and cfg.snapshot_every > 0 else None
        yield Frame(step, cfg.steps, last, time.perf_counter() - start, surface=snap,
                    message=f"stopped early: {reason}" if reason else "")
        if reason is not None:
            break
    out = {"regression_s": time.perf_counter() - start, "steps": step,
           "scheduled_steps": cfg.steps, "final_regression_loss": last}
    if stop is not None:
        out["early_stop"] = {**stop.to_json(), "estimates_db": [round(e, 2) for e in estimates],
                             "stopped_at": step if reason else None, "reason": reason}
    return out


def sigma_fit_loss(logits: torch.Tensor, targets: torch.Tensor, resolved: Resolved,
                   marginal: torch.Tensor) -> torch.Tensor:
    """Mean of ((sigma(g(alpha)) - T(alpha)) / (high - low))^2 over the batch and heads."""
    k = resolved.dataset.classes
    s = sigma(logits.reshape(len(logits), resolved.heads, k), marginal, resolved.config.loss)
    return (((s - targets) / resolved.loss_range.span) ** 2).mean()


__all__ = ["Construction", "EarlyStop", "Frame", "grid_array", "grid_points",
           "measured_train_surface", "regression", "sample_targets", "sigma_fit_loss",
           "target_grid"]
