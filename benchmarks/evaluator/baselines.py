"""The per-point baselines, timed on the same model, directions, plane and data as ours.

1. the naive loop (``naive_surface``): write theta_0 + sum a_i theta_i into a copy of the
   model and run the whole split as one batch, one grid point at a time;
2. the ``loss-landscapes`` library (``planar_interpolation`` over the same plane; also
   ``random_plane`` for dense directions), when it is installed.

Both cost the same at every point, so they are timed on a fixed subset of the grid (as many
points as fit in the time budget) and extrapolated per point; the report says so.
"""

from __future__ import annotations

import copy
import time

import numpy as np
import torch

import losspattern_core.surface as S

from .measure import PeakMemory


def loss_landscapes_status(enabled: bool) -> str:
    """"ok", or why loss-landscapes is not timed."""
    if not enabled:
        return "skipped: --no-loss-landscapes"
    try:
        import loss_landscapes  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means: skip, say why
        return (f"skipped: loss-landscapes is not importable ({exc.__class__.__name__}: {exc}); "
                "install it with pip install -e '.[bench]'")
    return "ok"


def time_naive(model, dirs, X, y, alphas, classes: int, budget_s: float,
               batches: int, device: str):
    """Naive loop on a fixed random subset of points (at least 2), timed in batches.

    Returns (timing dict, indices of the points timed, their values).
    """
    order = np.random.default_rng(0).permutation(len(alphas))
    t0 = time.perf_counter()
    S.naive_surface(model, dirs, X, y, alphas[order[:1]], classes=classes)  # warm-up + probe
    per = max(time.perf_counter() - t0, 1e-6)
    k = int(min(len(alphas), max(2, budget_s / per)))
    pick = np.sort(order[:k])
    parts = np.array_split(pick, min(batches, k))
    vals, times = [], []
    with PeakMemory(device) as mem:
        for part in parts:
            t0 = time.perf_counter()
            vals.append(S.naive_surface(model, dirs, X, y, alphas[part], classes=classes)[:, 0])
            times.append(time.perf_counter() - t0)
    best = min(t / len(p) for t, p in zip(times, parts, strict=True))
    out = {"points_timed": k, "seconds_timed": sum(times), "batches": len(parts),
           "mean_per_point_s": sum(times) / k, "per_point_s": best, "peak_mib": mem.mib,
           "memory_method": mem.method, "extrapolated": k < len(alphas)}
    return out, pick, np.concatenate(vals)


def _model_at(model, dirs, alpha):
    """A copy of ``model`` with its parameters at theta_0 + sum alpha_i d_i."""
    m = copy.deepcopy(model)
    params = dict(m.named_parameters())
    with torch.no_grad():
        for k, v in S.params_at(model, dirs, alpha).items():
            params[k].copy_(v)
    return m


def _serpentine_alphas(lo, hi, steps: int) -> np.ndarray:
    """The alpha of each value planar_interpolation returns: its walk visits (i, j+1) on even
    rows i and (i, j) on odd rows, in units of (hi - lo) / steps."""
    ii, jj = np.meshgrid(np.arange(steps), np.arange(steps), indexing="ij")
    jj = jj + (ii % 2 == 0)
    frac = np.stack([ii.ravel(), jj.ravel()], 1) / steps
    return lo + (hi - lo) * frac


def time_loss_landscapes(model, dirs, X, y, alpha_range, budget_s: float,
                         per_point_guess: float, api: str, max_steps: int, device: str):
    """loss-landscapes on the same plane: (timing dict, alphas it evaluated, values) — the
    last two None for ``random_plane``, whose directions are its own."""
    import loss_landscapes
    from loss_landscapes.metrics import Loss

    metric = Loss(torch.nn.CrossEntropyLoss(),
                  torch.as_tensor(X, dtype=torch.float32, device=device),
                  torch.as_tensor(y, dtype=torch.long, device=device))
    steps = int(max(2, min(max_steps, np.sqrt(budget_s / max(per_point_guess, 1e-6)))))
    lo = np.array([r[0] for r in alpha_range], float)
    hi = np.array([r[1] for r in alpha_range], float)
    start = _model_at(model, dirs, lo)
    e1 = _model_at(model, dirs, [hi[0], lo[1]])
    e2 = _model_at(model, dirs, [lo[0], hi[1]])
    calls = 3 if steps >= 4 else 1
    if calls > 1:  # the same budget over three calls: each call a smaller plane
        steps = max(2, int(steps / np.sqrt(calls)))
    times = []
    with torch.no_grad(), PeakMemory(device) as mem:
        for _ in range(calls):
            t0 = time.perf_counter()
            if api == "planar_interpolation":
                vals = loss_landscapes.planar_interpolation(start, e1, e2, metric, steps=steps,
                                                            deepcopy_model=True)
            else:
                vals = loss_landscapes.random_plane(start, metric, distance=1, steps=steps,
                                                    normalization="filter", deepcopy_model=True)
            times.append(time.perf_counter() - t0)
    out = {"api": api, "steps": steps, "calls": calls, "points_timed": calls * steps * steps,
           "seconds_timed": sum(times), "mean_per_point_s": sum(times) / (calls * steps**2),
           "per_point_s": min(times) / steps**2, "peak_mib": mem.mib,
           "memory_method": mem.method}
    if api != "planar_interpolation":
        return out, None, None
    return out, _serpentine_alphas(lo, hi, steps), np.asarray(vals, float).ravel()
