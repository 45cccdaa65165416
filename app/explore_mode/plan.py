"""An explore run for the GUI: the core's ``lp.prepare_explore`` / ``lp.measure_levels`` (the
halves of ``lp.explore_run``) turned into the items the explore views draw (Qt-free).

``explore(dataset_spec, settings)`` yields a ``TrainStep`` per optimiser step, ``Phase`` lines,
``Tick``s while grid points are measured (one per point: a cancellation point), and ``Level``s
(per split and quantity, coarse to fine); it returns an ``ExploreResult`` that keeps the core's
result for the bundle (``lp.save_explore_bundle``). A consumer that stops iterating (the worker
checks its cancel event at every item) closes the core's generator: nothing more is done.

``measure_grid`` measures any network along given directions the same way, coarse to fine, with
the exact evaluator (``lp.evaluate_points``) for the loss and ``lp.outputs_at`` for accuracy;
the warning view uses it for the two networks it compares.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

import losspattern_core as lp

from .settings import ExploreSettings, check

POINTS_PER_BLOCK = 64   # grid points evaluated between two cancellation points
SPLITS = ("train", "test")
METRICS = ("loss", "accuracy")
CORE_METRIC = {"loss": "loss", "accuracy": "acc"}


@dataclass(frozen=True)
class Phase:
    text: str


@dataclass(frozen=True)
class TrainStep:
    step: int
    total: int
    loss: float


@dataclass(frozen=True)
class Tick:
    """Work in progress inside a level (a cancellation point)."""

    done: int
    total: int


@dataclass(frozen=True)
class Partial:
    """A piece of a job's result that is ready before the rest (shown at once)."""

    key: str
    value: object


@dataclass(frozen=True)
class Level:
    """``array`` (size,)*z: ``metric`` on ``split`` at the size-point level of the grid."""

    split: str
    metric: str
    size: int
    array: np.ndarray
    indices: np.ndarray     # grid indices along each axis of this level
    alpha_range: tuple = ()  # ((lo, hi), ...) of the whole grid


@dataclass
class ExploreResult:
    """A finished explore run: what was measured and everything needed to say how."""

    settings: ExploreSettings
    dataset: str
    n_train: int
    n_test: int
    origin: object                   # the network at α = 0 (nn.Module)
    directions: list
    alpha_range: list
    surfaces: dict                   # (split, metric) -> (G,)*z
    losses: list                     # minibatch loss per training step
    final_train_loss: float
    pca: object = None               # lp TrajectoryPCA (path, explained share, errors)
    hessian: object = None           # lp HessianEigen (eigenvalues)
    seconds: float = 0.0
    core: object = None              # lp.ExploreResult, for the bundle
    extra: dict = field(default_factory=dict)

    def axis(self, k: int = 0) -> np.ndarray:
        lo, hi = self.alpha_range[k]
        return np.linspace(lo, hi, self.settings.grid)


def split_inputs(dataset, spec, split: str):
    """(X as ``spec``'s network takes it, y) of one split of a loaded dataset."""
    X, y = dataset.split(split)
    return lp.as_input(torch.as_tensor(np.asarray(X), dtype=torch.float32), spec), \
        torch.as_tensor(np.asarray(y), dtype=torch.long)


def _accuracy(model, dirs, X, y, alphas) -> np.ndarray:
    out = np.empty(len(alphas))
    for i, a in enumerate(alphas):
        logits = lp.outputs_at(model, dirs, X, a)
        out[i] = float((logits.argmax(1).cpu() == y).double().mean())
    return out


def measure_grid(model, dirs, X, y, grid: int, alpha_range, classes: int, split: str,
                   start: int = 4):
    """Yield Ticks and Levels (loss, then accuracy) coarse to fine; return {metric: (G,)*z}."""
    z = len(dirs)
    alphas = lp.range_points(grid, z, alpha_range)
    values = {m: np.full(len(alphas), np.nan) for m in METRICS}
    done = np.zeros(len(alphas), dtype=bool)
    prep = lp.prepare(model, dirs, X, y, classes, "cpu")
    shape = (grid,) * z
    for idx in lp.level_indices(grid, start):
        mesh = np.meshgrid(*([idx] * z), indexing="ij")
        flat = np.ravel_multi_index([m.ravel() for m in mesh], shape)
        todo = flat[~done[flat]]
        for b in range(0, len(todo), POINTS_PER_BLOCK):
            block = todo[b:b + POINTS_PER_BLOCK]
            loss, _ = lp.evaluate_points(model, dirs, X, y, alphas[block], classes=classes,
                                         prepared=prep)
            values["loss"][block] = loss[:, 0]
            values["accuracy"][block] = _accuracy(model, dirs, X, y, alphas[block])
            done[block] = True
            yield Tick(int(done.sum()), len(alphas))
        for metric in METRICS:
            arr = values[metric][flat].reshape((len(idx),) * z)
            yield Level(split, metric, len(idx), arr.copy(), idx.copy(),
                        tuple(tuple(map(float, r)) for r in alpha_range))
    return {m: v.reshape(shape) for m, v in values.items()}


def core_config(dataset_spec: str, s: ExploreSettings):
    """The core's ``ExploreConfig`` for the form's settings (range: see ``ExploreSettings``)."""
    widen = {"random": s.span, "hessian": s.span, "interpolation": s.span / 2,
             "pca": 0.25 * s.span}[s.kind]
    return lp.ExploreConfig(dataset=dataset_spec, arch=s.family, directions=s.kind, z=s.z,
                            grid=s.grid, steps=s.steps, seed=s.seed, alpha_range=widen,
                            lr=s.lr, batch=s.batch, snapshot_every=s.snapshot_every,
                            width=s.width, depth=s.depth, activation=s.activation,
                            start=min(4, s.grid))


def _items(gen, on_level=None):
    """The core's Frames and SurfaceLevels as the GUI's items; return the generator's value."""
    while True:
        try:
            item = next(gen)
        except StopIteration as stop:
            return stop.value
        if isinstance(item, lp.SurfaceLevel):
            yield from on_level(item)
        elif item.phase == "training":
            yield TrainStep(item.step, item.total, float(item.reg_loss))
        elif item.phase == "surface":
            yield Tick(item.step, item.total)
        else:
            yield Phase(item.message or item.phase)


def explore(dataset_spec: str, settings: ExploreSettings):
    """The whole run (see the module docstring)."""
    s, t0 = check(settings), time.perf_counter()
    yield Phase(f"training an ordinary {s.family} on {dataset_spec}: {s.steps} Adam steps "
                f"(lr {s.lr:g}, batch {s.batch}), keeping the trajectory")
    prepared = yield from _items(lp.prepare_explore(core_config(dataset_spec, s)))
    rng = tuple(tuple(map(float, r)) for r in prepared.alpha_range)

    def levels(level):
        for split, values in level.surfaces.items():
            for metric in METRICS:
                arr = np.asarray(values[CORE_METRIC[metric]], dtype=np.float64)
                yield Level(split, metric, level.size, arr.copy(), level.indices.copy(), rng)

    yield Phase("measuring train and test loss and accuracy (every sample), coarse to fine")
    r = yield from _items(lp.measure_levels(prepared), levels)
    surfaces = {(split, metric): np.asarray(r.surfaces[split][CORE_METRIC[metric]])
                for split in r.surfaces for metric in METRICS}
    training = r.training
    return ExploreResult(
        s, r.resolved.dataset.name, len(r.resolved.indices("train")),
        len(r.resolved.indices("test")), r.model, r.directions,
        [list(x) for x in r.alpha_range], surfaces,
        list(training.losses) if training is not None else [],
        float(training.final_loss) if training is not None else float("nan"),
        r.pca, r.hessian, time.perf_counter() - t0, core=r)
