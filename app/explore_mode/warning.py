"""The paper's warning as one generator (Qt-free): a finished Theorem 2 run beside an ordinary
network of the same family, trained on the same data.

Both networks get the same measurements: train/test accuracy (the Theorem 2 network's at α*,
from the run's own metrics), a random filter-normalised landscape of the train loss around
each (the Theorem 2 network at α*, the ordinary one where training ended; same seed, same
range, exact over every train sample) and their sharpness (top Hessian eigenvalue by power
iteration, Hutchinson trace). The Theorem 2 network's axis slice — the surface the run
measured along its own directions — draws the chosen pattern.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

import losspattern_core as lp

from .plan import Phase, TrainStep, measure_grid, split_inputs

GRID, SPAN = 21, 1.0                    # the random landscapes: 21² points over [−1, 1]²
SHARPNESS = dict(top_k=1, samples=16, max_iter=60, tol=1e-3)
ORDINARY_STEPS = 400


@dataclass
class Warning:
    """What the view shows, for both networks."""

    run_id: int
    pattern: str
    dataset: str
    family: str
    seed: int
    accuracy: dict          # {"theorem 2": {"train": a, "test": b}, "ordinary": {...}}
    landscapes: dict        # {"theorem 2": (G, G), "ordinary": (G, G)} train loss
    sharpness: dict         # {"theorem 2": lp.sharpness dict or {"skipped": why}, ...}
    axis_slice: np.ndarray  # the run's measured train surface (its own directions)
    slice_range: list       # its alpha range
    alpha_range: list
    grid: int
    seconds: float


def _sharpness(model, X, y) -> dict:
    try:
        return lp.sharpness(model, X, y, **SHARPNESS)
    except lp.ConfigError as exc:      # e.g. over the Hessian's memory bound: say so
        return {"skipped": str(exc)}


def _landscape(model, X, y, classes: int, seed: int, split: str = "train"):
    dirs = lp.filter_normalized_directions(model, 2, seed=seed)
    rng = [[-SPAN, SPAN]] * 2
    full = yield from measure_grid(model, dirs, X, y, GRID, rng, classes, split, start=GRID)
    return full["loss"], rng


def compare_with_ordinary(run, steps: int = ORDINARY_STEPS):
    """Yield Phases and TrainSteps; return a ``Warning`` for the finished Theorem 2 ``run``."""
    t0 = time.perf_counter()
    con, cfg, metrics = run.construction, run.config, run.metrics or {}
    if cfg.theorem != 2 or con is None or "theorem2" not in metrics:
        raise lp.ConfigError("the comparison needs a finished Theorem 2 run")
    ds, spec = run.resolved.dataset, run.resolved.network
    Xtr, ytr = split_inputs(ds, spec, "train")
    star = metrics["theorem2"]["alpha_star"]
    theorem2 = lp.model_at(con.model, lp.params_at(con.model, con.directions, star)).eval()
    yield Phase(f"training an ordinary {spec.family} on {ds.name} ({steps} Adam steps, seed "
                f"{cfg.seed})")
    gen = lp.train_ordinary(ds, spec, steps=steps, seed=cfg.seed)
    while True:
        try:
            f = next(gen)
        except StopIteration as stop:
            ordinary = stop.value
            break
        yield TrainStep(f.step, f.total, f.reg_loss)
    at = metrics["theorem2"].get("at_alpha_star", {})
    accuracy = {"theorem 2": {"train": at.get("train_accuracy"), "test": at.get("test_accuracy")},
                "ordinary": {"train": ordinary.train_accuracy, "test": ordinary.test_accuracy}}
    landscapes, sharp = {}, {}
    for name, model in (("theorem 2", theorem2), ("ordinary", ordinary.model.eval())):
        yield Phase(f"{name}: random filter-normalised landscape ({GRID}² points, every train "
                    f"sample)")
        landscapes[name], rng = yield from _landscape(model, Xtr, ytr, ds.classes, cfg.seed)
        yield Phase(f"{name}: sharpness (top Hessian eigenvalue, Hutchinson trace)")
        sharp[name] = _sharpness(model, Xtr, ytr)
    return Warning(run.run_id, str(cfg.pattern), ds.name, spec.family, cfg.seed, accuracy,
                   landscapes, sharp, np.asarray(run.surfaces["train"].array),
                   [list(map(float, r)) for r in con.alpha_range], rng, GRID,
                   time.perf_counter() - t0)
