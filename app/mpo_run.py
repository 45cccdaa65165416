"""The multi-point optimisation (Skorokhodov & Burtsev) as an app run (Qt-free).

An MPO run is shown like a construction: it has a "resolved" settings object (``MpoResolved``:
the core's ``Resolved`` whose target is the binary icon, T = tau·(1 − icon) on [0, tau]), a
"construction" (``MpoConstruction``: the searched plane, its origin network and the core's
``MpoResult``) and a "measurement" (``MpoMeasurement``: loss and accuracy per split, every
sample). ``mpo_metrics`` gives the figures the Measured panel shows (test IoU, good − bad
accuracy gap) and ``export_mpo_bundle`` writes the format-2 bundle of method "mpo".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import losspattern_core as lp

from .choice import MpoRunConfig

PLANE_NOTE = ("multi-point optimisation (Skorokhodov & Burtsev): a searched plane, not "
              "axis-aligned")
NETWORK_NOTE = ("MPO trains Skorokhodov & Burtsev's CNN (Conv 1-8-32-64, ReLU, MaxPool, no "
                "BatchNorm) and needs a 2-D icon: the pattern is thresholded at 0.5 into a "
                "binary icon (dark = low loss wanted).")
PANEL_NOTE = ("Searches a plane (origin, right, up: all trained) whose loss draws a binary "
              "icon. Needs their CNN 1-8-32-64 (ReLU, MaxPool) and a 2-D icon: the pattern "
              "thresholded at 0.5, dark = low loss. Slow by design: each step runs 100 cells "
              "× 512 samples; every grid cell is then measured on every sample.")


MPO_OPTIONS: dict = {}   # more MpoConfig settings (tests make the search tiny here)


def core_config(cfg: MpoRunConfig) -> lp.MpoConfig:
    """The core's MPO settings for the app's config (their defaults for the rest)."""
    return lp.MpoConfig(pattern=cfg.pattern, dataset=cfg.dataset, arch="cnn", grid=cfg.grid,
                        steps=cfg.steps, smooth=cfg.smooth, seed=cfg.seed, device=cfg.device,
                        **MPO_OPTIONS)


@dataclass(frozen=True)
class MpoResolved(lp.Resolved):
    """Validated MPO settings: the target is the binary icon scaled to [0, tau]."""

    icon: np.ndarray | None = None   # (G, G) grid layout, 1 = the shape (low loss wanted)
    mask: np.ndarray | None = None   # (G, G) grid layout, 1 good, -1 bad, 0 ignored
    tau: float = 2.5

    def target(self, grid: int | None = None) -> np.ndarray:
        grid = grid or self.config.grid
        icon = self.icon if grid == self.config.grid else lp.icon_to_grid(
            lp.mpo_binary_icon(self.pattern, grid))
        return self.tau * (1.0 - np.asarray(icon, dtype=np.float64))


def resolve(cfg: MpoRunConfig, dataset, pattern) -> MpoResolved:
    """Check an MPO run before it starts (the core's gates: its options, the icon's mask, the
    CNN for the data); raises the core's errors with their messages."""
    base = lp.validate(cfg.construction_equivalent(), dataset=dataset, pattern=pattern)
    run = lp.validate_mpo(core_config(cfg), dataset=dataset, pattern=pattern)
    tau = float(run.config.tau)
    return MpoResolved(cfg, base.dataset, base.pattern, lp.LossRange(0.0, tau), base.floor,
                       run.network, icon=lp.icon_to_grid(run.icon),
                       mask=lp.icon_to_grid(run.mask), tau=tau)


def resolve_choice(cfg, dataset, pattern) -> lp.Resolved:
    """The core's gate for a construction's config, or an MPO run's checks (``resolve``)."""
    if is_mpo(cfg):
        return resolve(cfg, dataset, pattern)
    return lp.validate(cfg, dataset=dataset, pattern=pattern)


@dataclass
class MpoConstruction:
    """What the worker hands over as the run's "construction"."""

    resolved: MpoResolved
    result: object            # lp's MpoResult: origin network, plane, timings, history
    target: np.ndarray
    heads: int = 1

    @property
    def config(self) -> MpoRunConfig:
        return self.resolved.config

    @property
    def alpha_range(self):
        return self.result.alpha_range

    @property
    def model(self):
        """The plane's origin network (θ_0), eval mode."""
        return self.result.model

    @property
    def directions(self):
        """The plane's two dense directions (right, up)."""
        return self.result.directions


@dataclass
class MpoMeasurement:
    """Mean loss (``surfaces``) and accuracy per split on the run's grid, every sample."""

    surfaces: dict = field(default_factory=dict)
    accuracy: dict = field(default_factory=dict)


def mpo_metrics(resolved: MpoResolved, result, m: MpoMeasurement) -> dict:
    """Per split their measure (good − bad accuracy) and ours (IoU of the low-loss region
    with the icon); the transfer gap; the search's timings and work."""
    out = {s: lp.icon_metrics(m.surfaces[s], m.accuracy[s], resolved.icon, resolved.mask)
           for s in m.surfaces}
    if {"train", "test"} <= set(m.surfaces):
        gap = np.abs(m.surfaces["test"] - m.surfaces["train"]).mean()
        out["transfer"] = {"mean_abs_gap": float(gap)}
    out.update(method="mpo", timings=dict(result.timings), evaluations=dict(result.evaluations),
               plane=dict(result.plane), stopped=result.stopped)
    return out


def export_mpo_bundle(out, run, overwrite: bool = False) -> Path:
    """The finished MPO run's bundle (format 2, method "mpo"), written atomically."""
    con, m = run.construction, run.measurement
    surfaces = {s: (m.surfaces[s], m.accuracy[s]) for s in m.surfaces}
    metrics = {k: v for k, v in run.metrics.items() if k != "method"}
    return lp.save_mpo_bundle(out, con.result, surfaces, metrics, None, overwrite)


def is_mpo(run) -> bool:
    """True for an app ``Run`` (or config) of the multi-point optimisation."""
    cfg = getattr(run, "config", run)
    return getattr(cfg, "theorem", None) == "mpo"


def replace_grid(resolved: MpoResolved, grid: int) -> MpoResolved:
    return dataclasses.replace(resolved, config=resolved.config.replace(grid=grid))
