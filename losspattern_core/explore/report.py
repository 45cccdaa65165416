"""The numbers of an explore run (metrics.json) and the lines the command prints.

``explore_metrics`` gathers: how each surface was measured (samples, exact or subsampled with
the largest standard error), each split's loss/accuracy range and the value at theta_0, the
analysis of each loss surface (basins by persistence, ``measure.analysis``), the training
record, the PCA picture's error (explained share, per-snapshot projection error) and the
Hessian eigenvalues.
"""

from __future__ import annotations

import numpy as np

from losspattern_core.measure.analysis import analyse_surface

MIN_SHARE = 0.05


def _origin_index(result) -> tuple[int, ...] | None:
    """The grid index of alpha = 0 when the grid has that point, else None."""
    idx = []
    for lo, hi in result.alpha_range:
        pos = -lo / (hi - lo) * (result.grid - 1)
        if abs(pos - round(pos)) > 1e-9 or not 0 <= round(pos) < result.grid:
            return None
        idx.append(int(round(pos)))
    return tuple(idx)


def _split_numbers(result, split: str) -> dict:
    s = result.surfaces[split]
    rows = None if result.subset is None else result.subset.get(split)
    n_split = len(result.resolved.indices(split))
    out = {"samples": n_split if rows is None else int(len(rows)), "of": n_split,
           "exact": rows is None, "min_loss": float(s["loss"].min()),
           "max_loss": float(s["loss"].max()), "min_accuracy": float(s["acc"].min()),
           "max_accuracy": float(s["acc"].max())}
    if rows is not None:
        out["max_loss_stderr"] = float(s["loss_se"].max())
        out["max_accuracy_stderr"] = float(s["acc_se"].max())
    at = _origin_index(result)
    if at is not None:
        out["loss_at_theta0"] = float(s["loss"][at])
        out["accuracy_at_theta0"] = float(s["acc"][at])
    return out


def explore_metrics(result, min_share: float = MIN_SHARE) -> dict:
    """metrics.json of an explored landscape (see the module docstring)."""
    out = {"method": "explore", "directions": result.kind, "z": result.z, "grid": result.grid,
           "alpha_range": result.alpha_range, "timings": dict(result.timings)}
    for split in result.surfaces:
        out[split] = _split_numbers(result, split)
    out["analysis"] = {split: analyse_surface(None, s["loss"], min_share=min_share)
                       for split, s in result.surfaces.items()}
    if result.training is not None:
        t = result.training
        out["training"] = {**t.settings, "initial_loss": t.initial_loss,
                           "final_loss": t.final_loss, "snapshots": len(t.trajectory),
                           "wall_s": round(t.wall_s, 3)}
    if result.pca is not None:
        p = result.pca.to_json()
        if result.pca.real_loss is not None:
            p["projection_error"] = result.pca.loss_error.tolist()
            p["projection_error_note"] = ("loss at each snapshot's projection onto the plane "
                                          "minus its real loss (training split)")
        out["pca"] = p
    if result.hessian is not None:
        out["hessian"] = result.hessian.to_json()
    return out


def measured_on(metrics: dict) -> str:
    """What the surfaces were measured on, for a figure's title: every sample of each split, or
    a subsample with its largest standard errors."""
    parts = []
    for split in ("train", "test"):
        m = metrics.get(split)
        if m:
            parts.append(f"{split} {m['of']:,} samples, exact" if m["exact"] else
                         f"{split} subsample {m['samples']:,} of {m['of']:,} (max SE "
                         f"{m['max_loss_stderr']:.1e} nats, {m['max_accuracy_stderr']:.1e} acc)")
    return "measured by evaluating the network: " + "; ".join(parts)


def explore_lines(metrics: dict) -> list[str]:
    """A short human summary of ``explore_metrics``."""
    lines = []
    for split in ("train", "test"):
        m = metrics.get(split)
        if not m:
            continue
        how = "every sample" if m["exact"] else (
            f"subsample of {m['samples']}, max standard error {m['max_loss_stderr']:.2e} nats, "
            f"{m['max_accuracy_stderr']:.2e} accuracy")
        at = (f"; at theta_0 loss {m['loss_at_theta0']:.4f}, accuracy "
              f"{m['accuracy_at_theta0']:.4f}" if "loss_at_theta0" in m else "")
        lines.append(f"{split:5s}: loss [{m['min_loss']:.4f}, {m['max_loss']:.4f}], accuracy "
                     f"[{m['min_accuracy']:.4f}, {m['max_accuracy']:.4f}] ({m['of']} samples, "
                     f"{how}){at}")
    for split, a in metrics.get("analysis", {}).items():
        lines.append(f"{split:5s} basins (persistence > {a['min_share']:.0%} of the range): "
                     f"{a['measured']['basins']}")
    if "pca" in metrics:
        p = metrics["pca"]
        err = np.abs(np.asarray(p.get("projection_error", [np.nan])))
        lines.append(f"PCA: the plane explains {p['explained_share']:.1%} of the trajectory's "
                     f"variance ({', '.join(f'{v:.1%}' for v in p['explained_variance_ratio'])})"
                     f"; max |loss at projection - real loss| {err.max():.4f} over "
                     f"{len(err)} snapshots")
    if "hessian" in metrics:
        h = metrics["hessian"]
        lines.append("Hessian eigenvalues: " + ", ".join(f"{v:.4g}" for v in h["eigenvalues"])
                     + " (residuals " + ", ".join(f"{v:.1e}" for v in h["residuals"]) + ")")
    return lines
