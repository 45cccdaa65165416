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


# --- the analysis of a whole bundle (``losspattern analyse``, construct's metrics.json) ------

SHARPNESS_SAMPLES = 4096   # default subset of the training split for sharpness at theta_0


def _heads(arr: np.ndarray | None, heads: int) -> list:
    if arr is None:
        return [None] * heads
    return [arr] if heads == 1 else [arr[h] for h in range(heads)]


def surfaces_analysis(target, surfaces: dict, heads: int = 1,
                      value_range: tuple[float, float] | None = None,
                      min_share: float = 0.05) -> dict:
    """``analyse_surface`` of every split's measured surface (per head) against the target
    (None for an explored landscape). Keys: ``"train"``, ``"test"`` (``"train/head2"``...)."""
    out = {}
    for split, surf in surfaces.items():
        for h, (t, m) in enumerate(zip(_heads(target, heads), _heads(surf, heads),
                                       strict=True)):
            key = split if heads == 1 else f"{split}/head{h + 1}"
            out[key] = analyse_surface(t, m, value_range, min_share)
    return out


def construction_analysis(con, measurement, min_share: float = 0.05) -> dict:
    """The analysis a construction's metrics.json carries: target vs measured per split."""
    rng = con.resolved.loss_range
    return surfaces_analysis(con.target, measurement.surfaces, con.heads, (rng.low, rng.high),
                             min_share)


def _bundle_range(bundle) -> tuple[float, float] | None:
    p = bundle.meta.get("pattern")
    return None if not p else (float(p["loss_low"]), float(p["loss_high"]))


def bundle_sharpness(bundle, samples: int | None = SHARPNESS_SAMPLES, *, seed: int = 0,
                     top_k: int = 1, trace_samples: int = 32, max_bytes: int = MAX_BYTES
                     ) -> dict:
    """Sharpness at the bundle's theta_0 on its training split, or on a stratified subset of
    ``samples`` of it (stated); a refusal (memory bound) is reported, not raised."""
    from losspattern_core.data.datasets import load_dataset
    from losspattern_core.errors import LossPatternError
    from losspattern_core.measure.compare_mpo import stratified_subset
    from losspattern_core.measure.verify import bundle_split, check_dataset

    ds = load_dataset(bundle.meta["dataset"]["name"])
    check_dataset(bundle, ds)
    X, y = bundle_split(bundle, ds, "train")
    rows = stratified_subset(y, samples, seed)
    try:
        out = sharpness(bundle.model, X[rows], y[rows], bundle.meta.get("loss", "cross_entropy"),
                        top_k=top_k, samples=trace_samples, seed=seed, max_bytes=max_bytes)
    except LossPatternError as exc:
        return {"skipped": str(exc)}
    out["subset"] = {"samples": int(len(rows)), "of": int(len(y)), "exact": len(rows) == len(y),
                     "how": "stratified by class, seeded"}
    return out


def bundle_analysis(bundle, min_share: float = 0.05, *, sharpness_samples: int | None =
                    SHARPNESS_SAMPLES, with_sharpness: bool = True, seed: int = 0) -> dict:
    """Basins, persistence diagrams, bottleneck distances (constructions) and sharpness at
    theta_0 of any loaded bundle (construction, explore, MPO)."""
    method = bundle.meta.get("method") or f"theorem{bundle.meta.get('theorem')}"
    out = {"bundle": str(bundle.path), "method": method,
           "min_share": float(min_share),
           "surfaces": surfaces_analysis(bundle.target, bundle.surfaces, bundle.heads,
                                         _bundle_range(bundle), min_share)}
    if with_sharpness:
        out["sharpness"] = bundle_sharpness(bundle, sharpness_samples, seed=seed)
    return out


def analysis_lines(rep: dict) -> list[str]:
    """The table ``losspattern analyse`` prints."""
    lines = [f"{rep['bundle']} ({rep['method']}): minima of persistence > "
             f"{rep['min_share']:.0%} of the range, 0-dim sublevel persistence, "
             f"{NEIGHBOURHOOD} neighbours",
             f"{'surface':14s} {'basins':26s} {'bottleneck':>11s} {'min':>9s} {'max':>9s}"]
    for key, a in rep["surfaces"].items():
        lo, hi = a["measured"]["pairs"][0][:2]     # the essential pair: global min and max
        b = a["bottleneck"]
        bn = "-" if b is None else f"{b['distance']:.4f}"
        lines.append(f"{key:14s} {a['basins']:26s} {bn:>11s} {lo:9.4f} {hi:9.4f}")
    s = rep.get("sharpness")
    if s and "skipped" in s:
        lines.append(f"sharpness at theta_0: skipped ({s['skipped']})")
    elif s:
        sub = s["subset"]
        on = ("every training sample" if sub["exact"] else
              f"a stratified subset of {sub['samples']} of {sub['of']} training samples")
        lines.append(f"sharpness at theta_0 ({on}): top Hessian eigenvalue "
                     f"{s['top_eigenvalue']:.5g} (residual {s['eigen']['residuals'][0]:.1e}), "
                     f"Hutchinson trace {s['trace']:.5g} +- {s['trace_stderr']:.2g} "
                     f"({s['trace_samples']} samples), {s['parameters']} parameters")
    return lines
