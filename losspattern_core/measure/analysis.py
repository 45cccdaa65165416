"""Analysis of any loss surface: its basins (0-dimensional persistence, ``persistence.py``),
how far a measured surface's basin structure is from a target's (bottleneck distance), and the
sharpness of a network at theta_0 (top Hessian eigenvalue and Hutchinson trace over the whole
split). Every function returns a JSON-able dict that states its own settings and error.
"""

from __future__ import annotations

import numpy as np
from torch import nn

from losspattern_core.errors import ConfigError
from losspattern_core.explore.hessian import (
    MAX_BYTES,
    HessianOperator,
    hutchinson_trace,
    top_eigen,
)
from losspattern_core.explore.objective import DEFAULT_CHUNK

from .persistence import (
    NEIGHBOURHOOD,
    Diagram,
    basin_count,
    bottleneck_distance,
    persistence_diagram,
    prune,
)

LISTED = 200            # pairs listed per diagram in the JSON (all are counted)
BOTTLENECK_POINTS = 1500  # above this many finite points the bottleneck is computed on pruned
                          # diagrams, with the bound that pruning puts on it


def _surface(values, name: str) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    if a.ndim < 1 or a.size == 0 or not np.isfinite(a).all():
        raise ConfigError(f"the {name} surface must be a non-empty grid of finite values")
    return a


def _describe(dg: Diagram, share: float, value_range: tuple[float, float]) -> dict:
    out = dg.to_json(limit=LISTED)
    out["basins"] = basin_count(dg, share, value_range)
    return out


def _bottleneck(a: Diagram, b: Diagram) -> dict:
    """The distance, exact when small; else on diagrams pruned at the smallest threshold that
    fits, with the interval that pruning allows."""
    fa, fb = a.finite(), b.finite()
    pers = np.sort(np.concatenate([fa[:, 1] - fa[:, 0], fb[:, 1] - fb[:, 0]]))[::-1]
    t = float(pers[BOTTLENECK_POINTS]) if len(pers) > BOTTLENECK_POINTS else 0.0
    d = bottleneck_distance(prune(a, t), prune(b, t)) if t > 0 else bottleneck_distance(a, b)
    return {"distance": d, "exact": t == 0.0, "pruned_at_persistence": t,
            "interval": [max(0.0, d - t / 2), max(d, t / 2)],
            "metric": "bottleneck, L-infinity, points may match the diagonal"}


def analyse_surface(target, measured, value_range: tuple[float, float] | None = None,
                    min_share: float = 0.05) -> dict:
    """Basins of ``measured`` (and ``target`` if given) and their bottleneck distance.

    ``value_range`` (low, high) is the range the share refers to (e.g. the loss range of the
    construction; default: the smallest range holding both surfaces). A basin is a minimum of
    persistence > ``min_share`` x (high - low); the global minimum always counts.
    """
    m = _surface(measured, "measured")
    t = None if target is None else _surface(target, "target")
    if t is not None and t.shape != m.shape:
        raise ConfigError(f"target {t.shape} and measured {m.shape} surfaces differ in shape")
    if not 0 <= min_share < 1:
        raise ConfigError(f"min_share must lie in [0, 1), got {min_share}")
    if value_range is None:
        both = m if t is None else np.concatenate([m.ravel(), t.ravel()])
        value_range = (float(both.min()), float(both.max()))
    lo, hi = (float(v) for v in value_range)
    if not hi > lo:
        raise ConfigError(f"value range must have low < high, got {value_range}")
    dm = persistence_diagram(m)
    out = {"grid": list(m.shape), "neighbourhood": NEIGHBOURHOOD, "value_range": [lo, hi],
           "min_share": float(min_share), "threshold": float(min_share) * (hi - lo),
           "measured": _describe(dm, min_share, (lo, hi)), "target": None, "bottleneck": None}
    if t is None:
        out["basins"] = f"measured {out['measured']['basins']}"
        return out
    dt = persistence_diagram(t)
    out["target"] = _describe(dt, min_share, (lo, hi))
    out["bottleneck"] = _bottleneck(dt, dm)
    out["basins"] = f"target {out['target']['basins']}, measured {out['measured']['basins']}"
    return out


def sharpness(model: nn.Module, X, y, loss: str = "cross_entropy", *, top_k: int = 1,
              samples: int = 64, seed: int = 0, chunk: int = DEFAULT_CHUNK,
              max_iter: int = 200, tol: float = 1e-4, max_bytes: int = MAX_BYTES) -> dict:
    """Top Hessian eigenvalue(s) and the Hutchinson trace of the full-split loss at
    ``model``'s parameters (theta_0), with their errors (residuals; standard error)."""
    op = HessianOperator(model, X, y, loss, chunk=chunk, max_bytes=max_bytes, vectors=top_k)
    eig = top_eigen(op, top_k, max_iter=max_iter, tol=tol, seed=seed)
    tr = hutchinson_trace(op, samples, seed=seed)
    return {"top_eigenvalue": float(eig.eigenvalues[0]), "eigen": eig.to_json(),
            "trace": tr["trace"], "trace_stderr": tr["stderr"], "trace_samples": tr["samples"],
            "parameters": op.layout.size, "split_samples": op.objective.n, "loss": loss,
            "hessian_of": "mean loss over every sample of the split (exact, in chunks)",
            "hvps": op.products}
