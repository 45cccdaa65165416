"""A multi-point optimisation result as a construction bundle, format 2 (bundle-format.md:
method ``"mpo"``, the plane's two dense directions in directions.safetensors).

The files are written through the shared format-2 writer ``io.bundle_write.commit_bundle``
(destination checks, checksums, metrics.json, construction.json last, one atomic rename), the
same one every construction's bundle goes through.

The binary target is stored as T = tau * (1 - icon) (loss_low 0, loss_high tau: the shape's
cells want a low loss, the background's at least tau, the clamp of the objective) and the
ternary mask (1 good, -1 bad, 0 ignored) as ``mask.npy``; both in grid layout. When the
surfaces were measured on a subset of a split, ``measured_on`` in construction.json says so and
``eval_idx.npz`` holds the subset's indices (into the dataset's canonical order).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from losspattern_core.errors import LossPatternError
from losspattern_core.io.bundle_write import (
    FORMAT,
    commit_bundle,
    save_dense_directions,
    save_split,
    save_state,
)

from .mpo import MpoResult
from .mpo_mask import image_to_grid

VERSION = 2

README = """LossPattern bundle: Skorokhodov & Burtsev's multi-point optimisation (method "mpo").

weights.safetensors is the origin of the plane (the state_dict of the torch.nn.Sequential in
construction.json, input shape network.input_shape); directions.safetensors holds the plane's
two dense directions: tensor d{{i}}.{{param}} is direction i's part of parameter {{param}}.
theta(alpha) = theta_0 + alpha_1 d0 + alpha_2 d1; grid point (a, b) of the {grid}x{grid} grid
(alpha_range, endpoints included) is the icon's cell in row {last} - b, column a.
surface_*.npy / accuracy_*.npy: the measured mean cross-entropy / accuracy there{subset}.
target.npy is tau * (1 - icon) (binary: the method has no graded target); mask.npy the
ternary boundary mask it trained on (1 low loss wanted, -1 high, 0 ignored).

Plain torch, with the network built from construction.json:
    p = {{k: v.clone() for k, v in net.state_dict().items()}}
    for i, a in enumerate(alpha):
        for k, t in d.items():
            if k.startswith(f"d{{i}}."): p[k[3:]] += a * t
    loss = torch.nn.functional.cross_entropy(torch.func.functional_call(net, p, (X,)), y)
"""


def _meta(result: MpoResult, tau: float, subset: dict | None) -> dict:
    run, cfg = result.run, result.config
    ds = run.dataset
    norms = [float(torch.sqrt(sum((t.double() ** 2).sum() for t in d.tensors.values())))
             for d in result.directions]
    meta = {
        "format": f"{FORMAT}/{VERSION}", "method": "mpo", "z": 2,
        "network": {"input_shape": run.network.input_spec(), "layers": run.network.layers()},
        "heads": 1, "classes": ds.classes, "loss": "cross_entropy",
        "directions": [{"dense": True, "norm": n, "kind": "mpo"} for n in norms],
        "alpha_range": result.alpha_range, "grid": cfg.grid,
        "pattern": {"source": run.pattern.source, "name": run.pattern.name,
                    "description": run.pattern.description, "loss_low": 0.0,
                    "loss_high": float(tau), "mask": "mask.npy"},
        "dataset": {"name": cfg.dataset, "features": ds.features,
                    "n_train": int(len(ds.train_idx)), "n_test": int(len(ds.test_idx)),
                    "label_counts_train": ds.label_counts("train").tolist(),
                    "label_counts_test": ds.label_counts("test").tolist()},
        "seed": cfg.seed, "device": cfg.device, "config": cfg.to_json(),
        "training": {"timings": result.timings, "evaluations": result.evaluations,
                     "stopped": result.stopped, "plane": result.plane},
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if subset is not None:
        meta["measured_on"] = {s: {"samples": int(len(i)), "file": "eval_idx.npz"}
                               for s, i in subset.items()}
    return meta


def save_mpo_bundle(out: str | os.PathLike, result: MpoResult, surfaces: dict,
                    metrics: dict, subset: dict | None = None, overwrite: bool = False,
                    extras: Callable[[Path], None] | None = None,
                    on_commit: Callable[[Path], None] | None = None) -> Path:
    """Write the bundle atomically. ``surfaces``: {"train"|"test": (loss, accuracy)} grid
    arrays; ``subset``: {split: indices into the canonical order} when measured on a subset;
    ``extras(tmp)`` may add files (a figure) before the checksums are taken."""
    for split, (loss, acc) in surfaces.items():
        if not (np.isfinite(loss).all() and np.isfinite(acc).all()):
            raise LossPatternError(f"refusing to write the {split} surface: it holds "
                                   "non-finite values (the network overflows on this plane)")
    tau = result.config.tau
    meta = _meta(result, tau, subset)

    def write_files(tmp: Path) -> None:
        save_state(tmp, result.model)
        save_dense_directions(tmp, result.directions)
        ds = result.run.dataset
        save_split(tmp, ds.train_idx, ds.test_idx)
        if subset is not None:
            np.savez(tmp / "eval_idx.npz", **{f"{s}_idx": np.asarray(i, np.int64)
                                             for s, i in subset.items()})
        np.save(tmp / "target.npy", tau * (1.0 - image_to_grid(result.run.icon)))
        np.save(tmp / "mask.npy", image_to_grid(result.run.mask).astype(np.int8))
        for split, (loss, acc) in surfaces.items():
            np.save(tmp / f"surface_{split}.npy", np.asarray(loss, np.float64))
            np.save(tmp / f"accuracy_{split}.npy", np.asarray(acc, np.float64))
        note = "" if subset is None else " (on a subset of each split: see measured_on)"
        (tmp / "README.txt").write_text(README.format(grid=result.grid, last=result.grid - 1,
                                                      subset=note))

    return commit_bundle(out, meta, write_files, metrics, overwrite, extras, on_commit)
