"""Re-measure a bundle from scratch on its dataset, independently of the stored surfaces.

A bundle verifies only when every fresh value is finite and within the tolerance of the
stored one: comparisons are written so that NaN fails them (``not diff <= tol``).

Subset bundles: when construction.json's ``measured_on`` says a split's stored surface was
measured on a stated subset (``{split: {"samples": n, "file": "eval_idx.npz"}}``, the file's
``{split}_idx`` holding indices into the dataset's canonical order, within that split),
re-measurement uses exactly that subset, and the report says so (``report["measured_on"]``).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from losspattern_core.data.datasets import Dataset, load_dataset
from losspattern_core.errors import BundleError, ConfigError
from losspattern_core.io.bundle import Bundle
from losspattern_core.io.construction_schema import FILE_NAME
from losspattern_core.io.safe_read import npz_from_bytes, read_bytes
from losspattern_core.measure.metrics import fidelity_per_head
from losspattern_core.surface import evaluate_points, grid_array, naive_surface, range_points

NAIVE_AGREEMENT = 1e-3  # naive per-point loop vs exact evaluator, in loss units


def measured_subset(bundle: Bundle, split: str) -> np.ndarray | None:
    """The indices (canonical order) of the subset ``split``'s stored surface was measured on,
    or None when it was measured on every sample. The index file is read without pickle, its
    checksum compared with construction.json's, and every index must lie in the split."""
    entry = (bundle.meta.get("measured_on") or {}).get(split)
    if entry is None:
        return None
    where = f"{bundle.path / 'construction.json'}: measured_on.{split}"
    name = entry.get("file") if isinstance(entry, dict) else None
    if not isinstance(name, str) or not FILE_NAME.fullmatch(name) or name == "construction.json":
        raise BundleError(f"{where}: expected {{'samples': n, 'file': 'eval_idx.npz'}}")
    n_split = len(bundle.train_idx if split == "train" else bundle.test_idx)
    label = str(bundle.path / name)
    raw = read_bytes(bundle.path / name, BundleError, 16 * n_split + 65536, label)
    want = (bundle.meta.get("checksums") or {}).get(name)
    if bundle.meta.get("checksums") is not None and hashlib.sha256(raw).hexdigest() != want:
        raise BundleError(f"{label}: changed since the bundle was written (its SHA-256 differs "
                          "from the one in construction.json)")
    idx = npz_from_bytes(raw, label, BundleError, (f"{split}_idx",), kinds="iu")[f"{split}_idx"]
    own = bundle.train_idx if split == "train" else bundle.test_idx
    if idx.ndim != 1 or len(idx) != entry.get("samples") or not len(idx):
        raise BundleError(f"{label}[{split}_idx]: shape {idx.shape}, {where} says "
                          f"{entry.get('samples')!r} samples")
    idx = idx.astype(np.int64)
    if len(np.unique(idx)) != len(idx) or not np.isin(idx, own).all():
        raise BundleError(f"{label}[{split}_idx]: indices repeat or lie outside the {split} "
                          "split of split.npz")
    return idx


def bundle_split(bundle: Bundle, dataset: Dataset, split: str, idx: np.ndarray | None = None):
    """The bundle's samples of ``split`` from ``dataset`` as the network takes them (images
    (N, C, H, W) when network.input_shape says so), indices checked against it. ``idx``
    (canonical-order indices, e.g. ``measured_subset``) replaces the split's own indices."""
    if idx is None:
        idx = bundle.train_idx if split == "train" else bundle.test_idx
    if len(idx) and (idx.min() < 0 or idx.max() >= len(dataset.y)):
        raise BundleError(f"{bundle.path / 'split.npz'}: {split} indices reach {idx.max()}, "
                          f"outside dataset {dataset.name} ({len(dataset.y)} samples)")
    X = dataset.X[idx]
    shape = bundle.meta["network"].get("input_shape")
    if shape and len(shape) == 3:
        if int(np.prod(shape)) != X.shape[1]:
            raise BundleError(f"{bundle.path / 'construction.json'}: network.input_shape "
                              f"{shape} does not fit dataset {dataset.name}'s {X.shape[1]} "
                              "features")
        X = X.reshape(len(idx), *shape)
    return X, dataset.y[idx]


def check_dataset(bundle: Bundle, ds: Dataset) -> None:
    """The dataset here must be the one the bundle was measured on (classes, features,
    training label counts)."""
    if ds.classes != bundle.classes:
        raise BundleError(f"dataset {ds.name} has {ds.classes} classes; the bundle's network "
                          f"predicts {bundle.classes}")
    if ds.n_features != bundle.n_features:
        raise BundleError(f"dataset {ds.name} has {ds.n_features} features; the bundle's "
                          f"network takes {bundle.n_features}")
    bundle_split(bundle, ds, "test")    # every index must exist in this dataset
    _, y = bundle_split(bundle, ds, "train")
    counts = np.bincount(y, minlength=ds.classes).tolist()
    if counts != bundle.meta["dataset"]["label_counts_train"]:
        raise BundleError(f"dataset {ds.name} here differs from the one the bundle was built on "
                          "(training label counts differ)")


def check_tolerance(tolerance: float) -> float:
    if not (isinstance(tolerance, (int, float)) and math.isfinite(tolerance)
            and 0 <= tolerance <= 1e6):
        raise ConfigError(f"tolerance {tolerance!r} must be a finite number in [0, 1e6]")
    return float(tolerance)


def require_finite_surface(arr: np.ndarray, what: str) -> np.ndarray:
    if not np.isfinite(arr).all():
        raise BundleError(f"{what}: the re-measured surface holds non-finite values "
                          f"({int((~np.isfinite(arr)).sum())} of {arr.size}): the network "
                          "overflows on this grid")
    return arr


def remeasure(bundle: Bundle, dataset: Dataset | None = None, splits=("train", "test"),
              device: str = "cpu") -> dict[str, np.ndarray]:
    """Fresh surfaces of ``splits`` on the bundle's grid (exact evaluator, every sample, or
    every sample of the stated subset the stored surface was measured on)."""
    from losspattern_core.config import resolve_device

    device = resolve_device(device)
    meta = bundle.meta
    ds = dataset or load_dataset(meta["dataset"]["name"])
    check_dataset(bundle, ds)
    grid, z = meta["grid"], len(bundle.directions)
    alphas = range_points(grid, z, bundle.alpha_range)
    out = {}
    for split in splits:
        X, y = bundle_split(bundle, ds, split, measured_subset(bundle, split))
        total, _ = evaluate_points(bundle.model, bundle.directions, X, y, alphas,
                                   classes=bundle.classes, heads=bundle.heads,
                                   loss=meta.get("loss", "cross_entropy"), device=device)
        out[split] = require_finite_surface(grid_array(total, grid, z),
                                            f"{bundle.path} ({split})")
    return out


def verify(bundle: Bundle, device: str = "cpu", spot_points: int = 8,
           tolerance: float = 1e-4) -> dict:
    """Fresh surfaces vs the stored ones and vs the target, plus a naive-loop spot check.

    ``report["ok"]`` is True only when every difference is a finite number <= ``tolerance``.
    """
    tolerance = check_tolerance(tolerance)
    meta = bundle.meta
    ds = load_dataset(meta["dataset"]["name"])
    fresh = remeasure(bundle, ds, device=device)
    report = {"max_abs_diff_vs_stored": {s: float(np.abs(fresh[s] - bundle.surfaces[s]).max())
                                         for s in fresh}}
    if bundle.target is not None and "pattern" in meta:
        span = meta["pattern"]["loss_high"] - meta["pattern"]["loss_low"]
        for s in fresh:
            report[s] = fidelity_per_head(fresh[s], bundle.target, span, bundle.heads)
    grid, z = meta["grid"], len(bundle.directions)
    alphas = range_points(grid, z, bundle.alpha_range)
    pick = np.random.default_rng(0).choice(len(alphas), min(spot_points, len(alphas)), False)
    X, y = bundle_split(bundle, ds, "train", measured_subset(bundle, "train"))
    naive = naive_surface(bundle.model, bundle.directions, X, y, alphas[pick],
                          classes=bundle.classes, heads=bundle.heads,
                          loss=meta.get("loss", "cross_entropy"))
    flat = fresh["train"].reshape(bundle.heads, -1)
    report["naive_spot_check_max_abs_diff"] = float(np.abs(naive.T - flat[:, pick]).max())
    diffs = list(report["max_abs_diff_vs_stored"].values())
    report["worst"] = max(diffs, key=lambda d: math.inf if math.isnan(d) else d)
    report["tolerance"] = tolerance
    # NaN compares False, so a NaN anywhere is never ok; the naive loop must agree with the
    # exact evaluator to float32 rounding whatever the tolerance
    report["ok"] = (all(d <= tolerance for d in diffs)
                    and report["naive_spot_check_max_abs_diff"] <= NAIVE_AGREEMENT)
    report["checksums"] = bundle.checksums
    report["measured_on"] = {s: ("all" if measured_subset(bundle, s) is None
                                 else int(len(measured_subset(bundle, s)))) for s in fresh}
    report["fresh"] = fresh
    return report
