"""The explore run as one Qt-free generator: train (or open) an ordinary network keeping its
trajectory, choose directions, then measure train and test loss and accuracy on the grid, coarse
to fine.

``explore(config, cancel=None)`` yields ``Frame``s while it trains and measures (phases
``"training"``, ``"directions"``, ``"surface"``) and a ``SurfaceLevel`` each time a level of the
grid is complete (every 2^k-th point per axis, then finer; the last level is the whole grid), and
returns an ``ExploreResult``. Every yield is a cancellation point: stop iterating (or
``close()``), or set the ``threading.Event`` ``cancel``, which raises ``ExploreCancelled`` at
the next yield. Nothing is written to disk here (``io.explore_bundle`` writes the bundle).

``prepare_explore`` is the first half (train, directions; no surfaces) and ``measure_levels``
the second, for callers that measure elsewhere (a Ray cluster).
"""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, field

import numpy as np
import torch

from losspattern_core.errors import LossPatternError
from losspattern_core.frames import Frame
from losspattern_core.grid import flat_positions, level_indices, range_points

from .config import ExploreConfig, ResolvedExplore, resolve_explore
from .measure import PointValues, SplitPreparation, measure_points
from .origin import check_hessian_memory, choose_directions, origin_network

SPLITS = ("train", "test")


class ExploreCancelled(LossPatternError):
    """The run was cancelled (its cancel Event was set); nothing was written."""


@dataclass(frozen=True)
class SurfaceLevel:
    """A finished level of the grid: ``indices`` along each axis (into the full grid) and per
    split {"loss", "acc"} arrays of shape (len(indices),)*z."""

    size: int
    grid: int
    indices: np.ndarray
    surfaces: dict
    final: bool


@dataclass
class ExploreResult:
    """theta_0 (``model``), the directions and what was measured along them."""

    resolved: ResolvedExplore
    model: torch.nn.Module
    directions: list
    kind: str
    alpha_range: list[list[float]]
    grid: int
    surfaces: dict = field(default_factory=dict)   # split -> {"loss","acc","loss_se","acc_se"}
    subset: dict | None = None                     # split -> positions within the split
    training: object = None                        # TrainingResult
    pca: object = None                             # TrajectoryPCA
    hessian: object = None                         # HessianEigen
    timings: dict = field(default_factory=dict)

    @property
    def config(self) -> ExploreConfig:
        return self.resolved.config

    @property
    def z(self) -> int:
        return len(self.directions)

    def points(self) -> np.ndarray:
        """The grid's alphas (G^z, z) in C order."""
        return range_points(self.grid, self.z, self.alpha_range)


def _guard(gen, cancel):
    """Pass a generator's items on, raising ExploreCancelled at a yield once ``cancel`` is
    set; return its value."""
    while True:
        if cancel is not None and cancel.is_set():
            gen.close()
            raise ExploreCancelled("explore cancelled: nothing was written")
        try:
            item = next(gen)
        except StopIteration as stop:
            return stop.value
        yield item


def _subset(resolved: ResolvedExplore) -> dict | None:
    from losspattern_core.measure.compare_mpo import stratified_subset

    n = resolved.config.subsample
    if n is None:
        return None
    out = {}
    for split in SPLITS:
        y = resolved.dataset.y[resolved.indices(split)]
        if n < len(y):
            out[split] = stratified_subset(y, n, resolved.config.seed)
    return out or None


def prepare_explore(config: ExploreConfig | ResolvedExplore, cancel=None
                    ) -> Generator[Frame, None, ExploreResult]:
    """Resolve, train (or open) and choose the directions; no surface is measured."""
    t0 = time.perf_counter()
    resolved = config if isinstance(config, ResolvedExplore) else resolve_explore(config)
    cfg = resolved.config
    if cfg.directions == "hessian":
        check_hessian_memory(resolved)
    subset = _subset(resolved)
    rows = None if subset is None else subset.get("train")
    X, y = resolved.split("train", rows)
    training = yield from _guard(origin_network(resolved, X, y), cancel)
    t1 = time.perf_counter()
    yield Frame(0, 1, float("nan"), t1 - t0, phase="directions",
                message=f"computing {cfg.directions} directions")
    chosen = yield from _guard(choose_directions(resolved, training, X, y), cancel)
    model, directions, alpha_range, pca, eig = chosen
    timings = {"training_s": round(t1 - t0, 3),
               "directions_s": round(time.perf_counter() - t1, 3)}
    return ExploreResult(resolved, model, directions, cfg.directions, alpha_range,
                         cfg.grid_size, subset=subset, training=training.get("result"),
                         pca=pca, hessian=eig, timings=timings)


def measure_levels(result: ExploreResult, cancel=None
                   ) -> Generator[Frame | SurfaceLevel, None, ExploreResult]:
    """Measure every split of the result's grid coarse to fine, filling ``result.surfaces``."""
    t0 = time.perf_counter()
    cfg, z, grid = result.config, result.z, result.grid
    alphas = result.points()
    values = {s: PointValues.empty(len(alphas)) for s in cfg.splits}
    done = np.zeros(len(alphas), dtype=bool)
    data = {}
    for split in cfg.splits:
        rows = None if result.subset is None else result.subset.get(split)
        X, y = result.resolved.split(split, rows)
        # prepared once per split (block by block, on first use), reused by every level
        data[split] = (SplitPreparation(result.model, result.directions, X, y),
                       None if rows is None else len(result.resolved.indices(split)))
    levels = level_indices(grid, min(cfg.start, grid))
    for k, idx in enumerate(levels):
        flat = flat_positions(idx, grid, z)
        todo = flat[~done[flat]]
        for split, (prepared, population) in data.items():
            got = yield from _guard(measure_points(
                result.model, result.directions, None, None, alphas[todo],
                population=population, loss="cross_entropy", prepared=prepared), cancel)
            values[split].put(todo, got)
        done[todo] = True
        shape = (len(idx),) * z
        yield SurfaceLevel(len(idx), grid, idx.copy(),
                           {s: {"loss": v.loss[flat].reshape(shape).copy(),
                                "acc": v.acc[flat].reshape(shape).copy()}
                            for s, v in values.items()}, k == len(levels) - 1)
    result.surfaces = {s: {name: getattr(v, name).reshape((grid,) * z)
                           for name in ("loss", "acc", "loss_se", "acc_se")}
                       for s, v in values.items()}
    result.timings["surface_s"] = round(time.perf_counter() - t0, 3)
    return result


def explore(config: ExploreConfig | ResolvedExplore, cancel=None
            ) -> Generator[Frame | SurfaceLevel, None, ExploreResult]:
    """The whole run (see the module docstring)."""
    result = yield from prepare_explore(config, cancel)
    return (yield from measure_levels(result, cancel))
