"""Where exported surfaces come from: a bundle folder (any format ``load_bundle`` reads), or an
``.h5`` surface file of tomgoldstein/loss-landscape (or our own h5 export)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from losspattern_core.errors import BundleError
from losspattern_core.exports.surfaces import SurfaceSet, grid_coordinates


def _title(meta: dict) -> str:
    method = meta.get("method") or f"theorem{meta.get('theorem', '')}"
    kind = {"theorem1": "Theorem 1", "theorem2": "Theorem 2", "explore": "explored landscape",
            "mpo": "multi-point optimisation"}.get(method, method)
    pattern = (meta.get("pattern") or {}).get("name")
    dataset = (meta.get("dataset") or {}).get("name", "")
    return f"{kind}: " + (f"pattern '{pattern}' " if pattern else "") + f"on {dataset}"


def bundle_info(meta: dict, metrics: dict, path: Path) -> dict:
    """Labels for figures and file metadata, from construction.json and metrics.json."""
    pattern = meta.get("pattern") or {}
    info = {"title": _title(meta), "dataset": (meta.get("dataset") or {}).get("name"),
            "n_train": (meta.get("dataset") or {}).get("n_train"),
            "n_test": (meta.get("dataset") or {}).get("n_test"),
            "method": meta.get("method") or f"theorem{meta.get('theorem', '')}",
            "source": str(path)}
    if "loss_low" in pattern and "loss_high" in pattern:
        info["loss_range"] = [float(pattern["loss_low"]), float(pattern["loss_high"])]
    if pattern.get("name"):
        info["pattern"] = pattern["name"]
    star = (metrics.get("theorem2") or {}).get("alpha_star")
    if star is not None:
        info["alpha_star"] = star
    return info


def _accuracy(path: Path, meta: dict, shape: tuple[int, ...]) -> dict:
    """accuracy_train/test.npy when the bundle has them (optional in format 2), checked like
    every other array (size, dtype, shape, finite, checksum)."""
    from losspattern_core.io.bundle import BundleFiles

    files = BundleFiles(path, meta.get("checksums"))
    out = {}
    for split in ("train", "test"):
        name = f"accuracy_{split}.npy"
        if (path / name).exists():
            arr = files.array(name, shape)
            if arr.min() < 0 or arr.max() > 1:
                raise BundleError(f"{path / name}: accuracies must lie in [0, 1], found "
                                  f"{arr.min():g}..{arr.max():g}")
            out[split] = arr
    return out


def surfaces_from_bundle(path: str | os.PathLike) -> SurfaceSet:
    """A bundle's target (if any), measured train and test surfaces and accuracies, with its
    grid's coordinates and labels. ``load_bundle`` validates everything (checksums, shapes,
    format version: a newer format is refused with its message); no network is built."""
    from losspattern_core.io.bundle import load_bundle

    b = load_bundle(path, weights=False)
    meta = b.meta
    surfaces = dict(b.surfaces)
    if b.target is not None:
        surfaces["target"] = b.target
    shape = surfaces["train"].shape
    coords = grid_coordinates(b.alpha_range, int(meta["grid"]))
    if math.prod(len(c) for c in coords) * b.heads != surfaces["train"].size:
        raise BundleError(f"{b.path}: grid {meta['grid']} and alpha_range do not match the "
                          f"surfaces' shape {shape}")
    return SurfaceSet(surfaces, coords, heads=b.heads, accuracy=_accuracy(b.path, meta, shape),
                      loss=meta.get("loss", "cross_entropy"),
                      info=bundle_info(meta, b.metrics, b.path))


def surfaces_from_run(con, measurement, metrics: dict | None = None) -> SurfaceSet:
    """A finished construction that has not been saved (the app's current run): its target
    and measured surfaces, labelled like a bundle of it would be."""
    r = con.resolved
    cfg = r.config
    grid = int(np.shape(con.target)[-1])
    surfaces = {**{k: np.asarray(v) for k, v in measurement.surfaces.items()},
                "target": np.asarray(con.target)}
    method = "mpo" if cfg.theorem == "mpo" else f"theorem{cfg.theorem}"
    info = {"title": _title({"method": method, "pattern": {"name": r.pattern.name},
                             "dataset": {"name": cfg.dataset}}),
            "dataset": cfg.dataset, "n_train": len(r.dataset.train_idx),
            "n_test": len(r.dataset.test_idx), "method": method, "pattern": r.pattern.name,
            "loss_range": [float(r.loss_range.low), float(r.loss_range.high)],
            "source": "the current run (not saved)"}
    star = ((metrics or {}).get("theorem2") or {}).get("alpha_star")
    if star is not None:
        info["alpha_star"] = star
    accuracy = {k: np.asarray(v) for k, v in (getattr(measurement, "accuracy", None)
                                              or {}).items()}   # measured with the surfaces
    return SurfaceSet(surfaces, grid_coordinates(con.alpha_range, grid), heads=con.heads,
                      accuracy=accuracy, loss=cfg.loss, info=info)


def open_surfaces(path: str | os.PathLike) -> SurfaceSet:
    """What File→Open reads: a bundle folder, or a loss-landscape ``.h5`` file."""
    from losspattern_core.exports.h5 import import_loss_landscape_h5

    path = Path(path)
    if path.is_dir():
        return surfaces_from_bundle(path)
    if path.suffix.lower() in (".h5", ".hdf5"):
        return import_loss_landscape_h5(path)
    raise BundleError(f"{path}: not a bundle folder or a loss-landscape .h5 file")
