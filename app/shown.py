"""What the views show, derived from the state (Qt-free, pure functions).

``shown_of`` decides, from the live run, the last finished run and the chosen settings, which
data the target / train / test / error views get. The rules that keep a view honest:

* everything shown comes from one source: a live run, a finished run (or its re-measurement),
  or a preview of the chosen settings; a target from one source is never shown beside
  surfaces of another;
* a finished run is shown only while the chosen settings equal the ones it was measured with;
  otherwise the measured views are empty and ``stale`` names the run and what differs;
* the error map is train − target of the same run, at the same grid points: a coarse level
  is compared with the target taken at that level's points (``lp.subgrid_indices``), never
  resampled, and Theorem 2's error waits for its shifted target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

import losspattern_core as lp

from .choice import config_differences
from .records import Layer, Run
from .views.arrays import shared_levels

PREVIEW_GRID = {1: 512, 2: 128, 3: 40}   # the largest grid a target preview is drawn on


@dataclass(frozen=True)
class Stale:
    """A finished run that is not shown because the chosen settings differ from its own."""

    run_id: int
    differences: tuple[str, ...]
    config: lp.ConstructionConfig


@dataclass(frozen=True)
class Shown:
    """The data every view draws. ``origin``: "empty" (nothing to show yet), "preview" (the
    chosen target, no run), "live", "result" or "remeasure"."""

    origin: str
    config: lp.ConstructionConfig | None = None
    resolved: lp.Resolved | None = None
    run_id: int | None = None
    target: np.ndarray | None = None
    target_grid: int = 0
    target_final: bool = False        # the run's own final T (not a preview, not unshifted)
    measured: dict[str, Layer] = field(default_factory=dict)
    error: np.ndarray | None = None   # train − target, same points as measured["train"]
    levels: tuple[float, float] = (0.0, 1.0)
    stale: Stale | None = None
    problem: str = ""                 # why nothing is shown (e.g. the dataset is loading)

    @property
    def z(self) -> int:
        return self.config.z if self.config is not None else 2

    @property
    def heads(self) -> int:
        return self.config.heads if self.config is not None else 1

    @property
    def loss_range(self) -> tuple[float, float] | None:
        """The loss range of the shown target (Theorem 2's finished runs: shifted)."""
        if self.resolved is None:
            return None
        return self.resolved.loss_range.low, self.resolved.loss_range.high

    def array(self, name: str) -> np.ndarray | None:
        """The array of "target", "train", "test" or "error" (None: nothing to show)."""
        if name == "target":
            return self.target
        if name == "error":
            return self.error
        layer = self.measured.get(name)
        return None if layer is None else layer.array


def target_at_points(target: np.ndarray, grid: int, size: int, z: int) -> np.ndarray | None:
    """``target`` on a ``grid``-point grid taken at the points of its ``size``-point level
    (the points a progressive measurement has measured), or None if no level has that size."""
    if size == grid:
        return target
    idx = lp.subgrid_indices(grid, size)
    if idx is None:
        return None
    out = target
    for axis in range(target.ndim - z, target.ndim):   # a leading heads axis stays whole
        out = np.take(out, idx, axis=axis)
    return out


def error_of(target: np.ndarray | None, target_grid: int, final: bool, train: Layer | None,
             z: int) -> np.ndarray | None:
    """train − target of one run at the train layer's points; None when it cannot be exact."""
    if target is None or train is None or not final or train.grid != target_grid:
        return None
    t = target_at_points(target, target_grid, train.size, z)
    if t is None or t.shape != train.array.shape:
        return None
    return train.array - t


def minimum_fracs(target: np.ndarray | None, heads: int) -> list[float] | None:
    """Where a (z >= 3) target has its minimum, as fractions of each direction's range."""
    if target is None:
        return None
    t = target.mean(axis=0) if heads > 1 else target
    if t.ndim < 3:
        return None
    idx = np.unravel_index(int(np.argmin(t)), t.shape)
    return [i / max(n - 1, 1) for i, n in zip(idx[:3], t.shape[:3], strict=True)]


def _levels(target, measured: dict[str, Layer], loss_range) -> tuple[float, float]:
    arrays = [target] + [layer.array for layer in measured.values()]
    if all(a is None for a in arrays) and loss_range is None:
        return 0.0, 1.0
    low, high = loss_range or (None, None)
    return shared_levels(arrays, low, high)


def of_run(run: Run, origin: str) -> Shown:
    """A run's own data: its re-measurement when it has one, else its own grid."""
    z = run.config.z
    if run.remeasure is not None:
        r = run.remeasure
        target, grid, measured, final, origin = r.target, r.grid, r.surfaces, True, "remeasure"
    else:
        target, grid, measured, final = run.target, run.grid, run.surfaces, run.target_final
    shown = Shown(origin, run.config, run.resolved, run.run_id, target, grid, final,
                  dict(measured), error_of(target, grid, final, measured.get("train"), z))
    return _with_levels(shown, shown.loss_range)


def _with_levels(shown: Shown, loss_range) -> Shown:
    return replace(shown, levels=_levels(shown.target, shown.measured, loss_range))


def shown_of(live: Run | None, result: Run | None, choice_config: lp.ConstructionConfig,
             preview: Callable[[], tuple[lp.Resolved, np.ndarray] | str]) -> Shown:
    """What the views show. ``preview()`` gives the chosen settings' (resolved, target), or
    the reason there is none; it is called only when a preview is what is shown."""
    if live is not None:
        return of_run(live, "live")
    stale = None
    if result is not None:
        diff = config_differences(result.config, choice_config)
        if not diff:
            return of_run(result, "result")
        stale = Stale(result.run_id, tuple(diff), result.config)
    chosen = preview()
    if isinstance(chosen, str):
        return Shown("empty", choice_config, stale=stale, problem=chosen)
    resolved, target = chosen
    shown = Shown("preview", resolved.config, resolved, None, target, target.shape[-1],
                  False, stale=stale)
    return _with_levels(shown, shown.loss_range)
