"""What a run produced, kept with the settings it was measured with (Qt-free, immutable).

A ``Run`` is one construction, live or finished: its config and resolved settings, its own
target, the surfaces measured so far (each a ``Layer`` that knows its grid), the regression
curve, and once finished its metrics and the core objects that exports need. A re-measurement
at a finer grid is a ``Remeasure`` attached to the run it measures, never a replacement.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

import losspattern_core as lp

SPLITS = ("train", "test")


@dataclass(frozen=True)
class Layer:
    """One measured surface: ``array`` is (S,)*z or (heads,)+(S,)*z in loss units, at ``size``
    points per direction: the measurement's ``grid`` itself or a coarser level of it."""

    array: np.ndarray
    grid: int
    size: int
    step: int | None = None   # the regression step of a snapshot streamed during the run

    @property
    def is_level(self) -> bool:
        return self.size != self.grid


@dataclass(frozen=True)
class Remeasure:
    """A finished run measured again on a ``grid``-point grid (coarse to fine while it runs)."""

    grid: int
    target: np.ndarray                       # the run's own T on this grid
    surfaces: dict[str, Layer] = field(default_factory=dict)
    fidelity: dict | None = None             # per split, once finished
    seconds: float | None = None

    @property
    def done(self) -> bool:
        return self.fidelity is not None


@dataclass(frozen=True)
class Run:
    """One construction run (or multi-point optimisation: ``config.theorem`` is "mpo").
    ``target`` is the run's own T on its grid; ``target_final`` is False while Theorem 2 runs
    (T is shifted to the loss the run reaches, known at the end)."""

    run_id: int
    config: lp.ConstructionConfig
    resolved: lp.Resolved
    target: np.ndarray
    target_final: bool
    surfaces: dict[str, Layer] = field(default_factory=dict)
    loss_steps: np.ndarray = field(default_factory=lambda: np.zeros(0))
    loss_values: np.ndarray = field(default_factory=lambda: np.zeros(0))
    finished: bool = False
    metrics: dict | None = None
    construction: object = None              # lp.Construction, for the bundle export
    measurement: object = None               # lp.Measurement, for the exports
    seconds: float | None = None
    remeasure: Remeasure | None = None

    @property
    def heads(self) -> int:
        return self.config.heads

    @property
    def grid(self) -> int:
        return self.config.grid

    def replace(self, **kw) -> Run:
        return dataclasses.replace(self, **kw)

    @staticmethod
    def begin(run_id: int, resolved: lp.Resolved) -> Run:
        """A run that has just started: its target as far as it is known now."""
        return Run(run_id, resolved.config, resolved, resolved.target(),
                   target_final=resolved.config.theorem != 2)

    def finish(self, result) -> Run:
        """The finished run from the worker's result: the construction's own resolved
        settings and target (Theorem 2: shifted), and the final surfaces."""
        con, m = result.construction, result.measurement
        grid = con.config.grid
        return self.replace(
            resolved=con.resolved, target=con.target, target_final=True,
            surfaces={s: Layer(m.surfaces[s], grid, grid) for s in SPLITS if s in m.surfaces},
            finished=True, metrics=result.metrics, construction=con, measurement=m,
            seconds=result.seconds)


@dataclass(frozen=True)
class Progress:
    """What the run panel reports: the current activity and its last frame or outcome."""

    activity: str = "idle"        # "idle", "construction" or "remeasure"
    frame: lp.Frame | None = None
    phase: str = ""               # the worker's description of what it does now
    level: tuple[str, int, int] | None = None   # split, size, grid of the last level
    outcome: str = ""             # "finished", "cancelled", "failed", "remeasured", ...
    message: str = ""             # a failure's text, or a note ("the dataset is loading")
    latest: str = ""              # which of frame, phase and level came last
