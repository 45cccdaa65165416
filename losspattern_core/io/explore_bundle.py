"""An explored landscape as a format-2 bundle (bundle-format.md, method ``"explore"``): the
ordinary network at theta_0, its dense directions in directions.safetensors, the measured
train/test loss (``surface_*.npy``) and accuracy (``accuracy_*.npy``) and no target.

Written like every bundle: each file into a temporary sibling folder, SHA-256 of each recorded
in construction.json (written last), one rename. ``fill(tmp)`` runs after the network, the
directions and the split are in the temporary folder (with a provisional construction.json,
``"surfaces_pending": true``, zero placeholder surfaces, no checksums: ``load_bundle`` opens
it) and before the surfaces are written: the Ray path measures there (its workers load the
folder), and whatever it raises (a cancel, an unreachable cluster)
removes the temporary folder, so nothing half-written is ever left at ``out``.

When the surfaces were measured on a subsample of a split, ``measured_on`` in construction.json
says how many samples of how many, ``eval_idx.npz`` holds the subsample's indices (into the
dataset's canonical order, as for MPO bundles) and ``stderr_surface_*.npy`` /
``stderr_accuracy_*.npy`` the standard error of every value. ``trajectory.npz`` (PCA) holds the
snapshots' steps, their coordinates in the plane, their real loss and the loss at their
projection.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from losspattern_core.errors import BundleError, LossPatternError
from losspattern_core.io.bundle_write import (
    FORMAT,
    VERSION,
    _versions,
    commit_bundle,
    finite_json,
    readme_script,
)

KINDS = {"random": "random-filter-normalised", "pca": "pca", "hessian": "hessian",
         "interpolation": "interpolation"}
DENSE_LINES = ["D = load_file('directions.safetensors')  # d{i}.{param}: direction i",
               "    for k, t in D.items(): i, n = k[1:].split('.', 1); p[n] += alpha[int(i)] * t"]


def _network(result) -> dict:
    r = result.resolved
    if r.source is not None:
        return dict(r.source.meta["network"]), r.source.meta.get("architecture", "mlp")
    return {"input_shape": r.spec.input_spec(), "layers": r.spec.layers()}, r.spec.family


def _dataset(result) -> dict:
    r = result.resolved
    ds = r.dataset
    counts = {s: np.bincount(ds.y[r.indices(s)], minlength=ds.classes).tolist()
              for s in ("train", "test")}
    name = r.source.meta["dataset"]["name"] if r.source is not None else r.config.dataset
    return {"name": name, "features": ds.features, "n_train": int(len(r.indices("train"))),
            "n_test": int(len(r.indices("test"))), "label_counts_train": counts["train"],
            "label_counts_test": counts["test"]}


def _training(result) -> dict:
    t = result.training
    if t is None:
        src = result.resolved.source
        return {"trained": False, "opened_from": str(src.path) if src is not None else None}
    return {"trained": True, **t.settings, "initial_loss": t.initial_loss,
            "final_loss": t.final_loss, "snapshots": len(t.trajectory),
            "snapshot_every": t.snapshot_every, "wall_s": round(t.wall_s, 3),
            "trajectory": "trajectory.npz" if result.pca is not None else None}


def explore_json(result) -> dict:
    """construction.json of an explored landscape."""
    network, family = _network(result)
    norms = [float(torch.sqrt(sum((t.double() ** 2).sum() for t in d.tensors.values())))
             for d in result.directions]
    meta = {
        "format": f"{FORMAT}/{VERSION}", "method": "explore", "z": result.z,
        "network": network, "architecture": family,
        "evaluated_in": "eval mode (BatchNorm uses its stored running statistics)",
        "heads": 1, "classes": int(result.resolved.dataset.classes), "loss": "cross_entropy",
        "directions": [{"dense": True, "norm": n, "kind": KINDS[result.kind]} for n in norms],
        "alpha_range": [list(map(float, a)) for a in result.alpha_range],
        "grid": int(result.grid), "has_target": False, "dataset": _dataset(result),
        "seed": int(result.config.seed), "device": result.config.device,
        "config": result.config.to_json(), "training": _training(result),
        "versions": _versions(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if result.subset:
        meta["measured_on"] = {s: {"samples": int(len(i)), "of": meta["dataset"][f"n_{s}"],
                                   "file": "eval_idx.npz", "stderr": f"stderr_surface_{s}.npy"}
                               for s, i in result.subset.items()}
    return meta


def explore_readme(meta: dict, subsampled: bool) -> str:
    """README.txt: what the folder is and <= 40 lines of plain torch for the loss at any alpha."""
    lines = readme_script(meta)
    at = next(i for i, ln in enumerate(lines) if ln.startswith("    for a, d in zip(alpha"))
    lines[at] = DENSE_LINES[1]
    lines.insert(lines.index("def loss_at(alpha):  # one coefficient per direction"),
                 DENSE_LINES[0])
    if subsampled:
        lines = [ln.replace("np.load('split.npz')", "np.load('eval_idx.npz')") for ln in lines]
    return ("LossPattern explored landscape (method explore): an ordinarily trained "
            f"{meta['architecture']} network, z = {meta['z']} dense directions "
            f"({', '.join(d['kind'] for d in meta['directions'])}).\n\n"
            "theta_0 is weights.safetensors (the state_dict of the torch.nn.Sequential in\n"
            "construction.json, evaluated in eval mode); directions.safetensors holds tensor\n"
            "d{i}.{param}, direction i's part of {param}; theta(alpha) = theta_0 + sum_i alpha_i\n"
            "d_i. surface_*.npy / accuracy_*.npy: mean cross-entropy / accuracy over every\n"
            "sample of the split (split.npz)" + (", or of the subsample in eval_idx.npz (see\n"
                                                 "measured_on; stderr_*.npy: standard errors)"
                                                 if subsampled else "") +
            " on the grid. metrics.json: the analysis.\n\nVerify with plain PyTorch (run in "
            "this folder; prints the recomputed and stored loss):\n\n"
            + "\n".join(lines) + "\n\nOr: losspattern verify <this folder>\n")


def _write_network(tmp: Path, result, meta: dict) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().cpu().contiguous() for k, v in result.model.state_dict().items()},
              str(tmp / "weights.safetensors"))
    save_file({f"d{i}.{k}": t.detach().cpu().float().contiguous()
               for i, d in enumerate(result.directions) for k, t in d.tensors.items()},
              str(tmp / "directions.safetensors"))
    r = result.resolved
    np.savez(tmp / "split.npz", train_idx=np.asarray(r.indices("train"), np.int64),
             test_idx=np.asarray(r.indices("test"), np.int64))
    if result.subset:
        np.savez(tmp / "eval_idx.npz", **{f"{s}_idx": np.asarray(r.indices(s)[i], np.int64)
                                         for s, i in result.subset.items()})
    if result.pca is not None:
        p = result.pca
        extra = {} if p.real_loss is None else {"real_loss": p.real_loss,
                                                "projected_loss": p.projected_loss}
        np.savez(tmp / "trajectory.npz", steps=np.asarray(p.steps, np.int64), coords=p.coords,
                 residual_norm=p.residual_norm, **extra)
    # provisional: loadable by load_bundle (no checksums yet, zero placeholder surfaces) so
    # that Ray workers can open the folder; everything here is replaced before the rename
    pending = dict(meta, surfaces_pending=True)
    shape = (result.grid,) * result.z
    for split in ("train", "test"):
        np.save(tmp / f"surface_{split}.npy", np.zeros(shape))
    (tmp / "construction.json").write_text(json.dumps(finite_json(pending), indent=2))


def _write_surfaces(tmp: Path, result) -> None:
    for split in ("train", "test"):
        s = result.surfaces.get(split)
        if s is None:
            raise LossPatternError(f"the {split} surface was not measured: a bundle holds both")
        for name in ("loss", "acc"):
            if not np.isfinite(s[name]).all():
                raise LossPatternError(f"refusing to write the {split} {name} surface: it "
                                       "holds non-finite values (the network overflows there)")
        np.save(tmp / f"surface_{split}.npy", np.asarray(s["loss"], np.float64))
        np.save(tmp / f"accuracy_{split}.npy", np.asarray(s["acc"], np.float64))
        if result.subset and split in result.subset:
            np.save(tmp / f"stderr_surface_{split}.npy", np.asarray(s["loss_se"], np.float64))
            np.save(tmp / f"stderr_accuracy_{split}.npy", np.asarray(s["acc_se"], np.float64))


def save_explore_bundle(out: str | os.PathLike, result, metrics: dict, overwrite: bool = False,
                        extras: Callable[[Path], None] | None = None,
                        on_commit: Callable[[Path], None] | None = None,
                        fill: Callable[[Path], None] | None = None) -> Path:
    """Write the explored landscape atomically (see the module docstring). ``extras(tmp)`` adds
    files (figure.png) and may update ``metrics`` before they are written."""
    meta = explore_json(result)

    def files(tmp: Path) -> None:
        _write_network(tmp, result, meta)
        if fill is not None:
            fill(tmp)
        _write_surfaces(tmp, result)
        (tmp / "README.txt").write_text(explore_readme(meta, bool(result.subset)))

    return commit_bundle(out, meta, files, metrics, overwrite, extras, on_commit)


@dataclass
class ExploreBundle:
    """A loaded explore bundle: the checked ``Bundle`` plus accuracy, standard errors and the
    trajectory (None where absent)."""

    bundle: object
    accuracy: dict
    stderr: dict | None
    trajectory: dict | None


def _read_array(bundle, name: str, shape=None, kinds: str = "f") -> np.ndarray:
    from losspattern_core.io.safe_read import npy_from_bytes, read_bytes, require_finite

    path = bundle.path / name
    raw = read_bytes(path, BundleError, 1 << 30, str(path))
    want = (bundle.meta.get("checksums") or {}).get(name)
    if want is not None and hashlib.sha256(raw).hexdigest() != want:
        raise BundleError(f"{path}: changed since the bundle was written (SHA-256 differs)")
    arr = npy_from_bytes(raw, str(path), BundleError, kinds=kinds)
    if shape is not None and arr.shape != tuple(shape):
        raise BundleError(f"{path}: shape {arr.shape}, expected {tuple(shape)}")
    return require_finite(arr, str(path), BundleError)


def load_explore_bundle(path: str | os.PathLike) -> ExploreBundle:
    """Load and check an explore bundle (any bundle with accuracy files works too)."""
    from losspattern_core.io.bundle import load_bundle
    from losspattern_core.io.safe_read import npz_from_bytes, read_bytes

    b = load_bundle(path)
    shape = b.surfaces["train"].shape
    acc = {s: _read_array(b, f"accuracy_{s}.npy", shape) for s in ("train", "test")
           if (b.path / f"accuracy_{s}.npy").is_file()}
    se = {s: {"loss": _read_array(b, f"stderr_surface_{s}.npy", shape),
              "acc": _read_array(b, f"stderr_accuracy_{s}.npy", shape)}
          for s in ("train", "test") if (b.path / f"stderr_surface_{s}.npy").is_file()}
    traj = None
    if (b.path / "trajectory.npz").is_file():
        raw = read_bytes(b.path / "trajectory.npz", BundleError, 1 << 28, "trajectory.npz")
        names = ("steps", "coords", "residual_norm")
        traj = npz_from_bytes(raw, str(b.path / "trajectory.npz"), BundleError, names,
                              kinds="iuf")
    return ExploreBundle(b, acc, se or None, traj)
