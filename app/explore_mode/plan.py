"""An explore run as one generator over the core's explore building blocks (Qt-free).

``explore(dataset, settings)`` trains an ordinary network keeping its trajectory (one
``TrainStep`` per optimiser step), picks the directions (random filter-normalised, the line
init → trained, the trajectory's PCA plane, or the top Hessian eigenvectors), then measures the
train and test surfaces — loss and accuracy, exact over every sample — coarse to fine (one
``Level`` per split, quantity and refinement level). Between blocks of grid points it yields a
``Tick``, so a consumer that stops iterating (the worker checks its cancel event at every
item) stops the work within one block. It returns an ``ExploreResult``.

Losses come from ``lp.evaluate_points`` (the exact evaluator) at the grid points of each level,
accuracies from ``lp.outputs_at`` at the same points.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np
import torch

import losspattern_core as lp

from .settings import ExploreSettings, check

POINTS_PER_BLOCK = 64   # grid points evaluated between two cancellation points
SPLITS = ("train", "test")
METRICS = ("loss", "accuracy")


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
    extra: dict = field(default_factory=dict)

    def axis(self, k: int = 0) -> np.ndarray:
        lo, hi = self.alpha_range[k]
        return np.linspace(lo, hi, self.settings.grid)


def network_for(dataset, s: ExploreSettings):
    """(spec, initial model) of the family, sized for the dataset, seeded."""
    cfg = lp.ConstructionConfig(dataset=dataset.name, arch=s.family, depth=s.depth,
                                width=s.width, activation=s.activation, seed=s.seed)
    spec = dataclasses.replace(lp.network_spec(cfg, dataset), heads=1)
    return spec, lp.build_network(spec, seed=s.seed)


def split_inputs(dataset, spec, split: str):
    X, y = dataset.split(split)
    return lp.as_input(torch.as_tensor(np.asarray(X), dtype=torch.float32), spec), \
        torch.as_tensor(np.asarray(y), dtype=torch.long)


def _directions(s: ExploreSettings, training, Xtr, ytr):
    """(origin model, directions, alpha_range, pca, hessian) for the chosen kind."""
    model, pca, eig = training.model, None, None
    if s.kind == "random":
        dirs = lp.filter_normalized_directions(model, s.z, seed=s.seed)
        rng = [[-s.span, s.span]] * s.z
    elif s.kind == "interpolation":
        line = lp.interpolation(training.initial_params, training.final_params, template=model,
                                alpha_range=(-s.span / 2, 1 + s.span / 2))
        model, dirs, rng = line.origin.eval(), [line.direction], [list(line.alpha_range)]
    elif s.kind == "pca":
        pca = lp.trajectory_pca(training.trajectory, s.z, loss_fn=lp.split_loss(model, Xtr, ytr))
        extent = np.abs(pca.coords).max(axis=0) * 1.25 * s.span
        dirs = pca.directions
        rng = [[-float(e), float(e)] for e in np.maximum(extent, 1e-6)]
    else:
        eig = lp.hessian_directions(model, Xtr, ytr, s.z, max_iter=100, tol=1e-3, seed=s.seed)
        dirs = eig.directions
        rng = [[-s.span, s.span]] * s.z
    return model, dirs, rng, pca, eig


def _accuracy(model, dirs, X, y, alphas) -> np.ndarray:
    out = np.empty(len(alphas))
    for i, a in enumerate(alphas):
        logits = lp.outputs_at(model, dirs, X, a)
        out[i] = float((logits.argmax(1).cpu() == y).double().mean())
    return out


def measure_levels(model, dirs, X, y, grid: int, alpha_range, classes: int, split: str,
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


def explore(dataset, settings: ExploreSettings):
    """The whole run (see the module docstring)."""
    s, t0 = check(settings), time.perf_counter()
    yield Phase(f"building a {s.family} for {dataset.name}")
    spec, model = network_for(dataset, s)
    Xtr, ytr = split_inputs(dataset, spec, "train")
    Xte, yte = split_inputs(dataset, spec, "test")
    yield Phase(f"training an ordinary {s.family}: {s.steps} Adam steps (lr {s.lr:g}, "
                f"batch {s.batch}), keeping the trajectory")
    training = yield from _training(model, Xtr, ytr, s)
    yield Phase({"random": "drawing random filter-normalised directions",
                 "interpolation": "the line from initialisation to the trained network",
                 "pca": "PCA of the training trajectory (and each snapshot's real loss)",
                 "hessian": f"top {s.z} Hessian eigenvectors (power iteration, whole train "
                            f"split)"}[s.kind])
    origin, dirs, rng, pca, eig = _directions(s, training, Xtr, ytr)
    surfaces = {}
    for split, X, y in (("train", Xtr, ytr), ("test", Xte, yte)):
        yield Phase(f"measuring the {split} surface (loss and accuracy, every {split} sample), "
                    f"coarse to fine")
        full = yield from measure_levels(origin, dirs, X, y, s.grid, rng, dataset.classes,
                                         split)
        for metric, arr in full.items():
            surfaces[(split, metric)] = arr
    return ExploreResult(s, dataset.name, len(ytr), len(yte), origin, dirs, rng, surfaces,
                         list(training.losses), float(training.final_loss), pca, eig,
                         time.perf_counter() - t0)


def _training(model, X, y, s: ExploreSettings):
    """Train, passing each step on as a ``TrainStep``; return the core's TrainingResult."""
    gen = lp.train_trajectory(model, X, y, steps=s.steps, lr=s.lr, batch=s.batch, seed=s.seed,
                              snapshot_every=s.snapshot_every)
    while True:
        try:
            f = next(gen)
        except StopIteration as stop:
            return stop.value
        yield TrainStep(f.step, f.total, f.reg_loss)
