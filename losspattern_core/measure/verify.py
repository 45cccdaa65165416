"""Re-measure a bundle from scratch on its dataset, independently of the stored surfaces."""

from __future__ import annotations

import numpy as np

from losspattern_core.io.bundle import Bundle
from losspattern_core.data.datasets import Dataset, load_dataset
from losspattern_core.errors import BundleError
from losspattern_core.measure.metrics import fidelity_per_head
from losspattern_core.surface import evaluate_points, grid_array, naive_surface, range_points


def bundle_split(bundle: Bundle, dataset: Dataset, split: str):
    idx = bundle.train_idx if split == "train" else bundle.test_idx
    if len(idx) and (idx.min() < 0 or idx.max() >= len(dataset.y)):
        raise BundleError(f"{bundle.path / 'split.npz'}: indices outside dataset "
                          f"{dataset.name} ({len(dataset.y)} samples)")
    return dataset.X[idx], dataset.y[idx]


def remeasure(bundle: Bundle, dataset: Dataset | None = None, splits=("train", "test"),
              device: str = "cpu") -> dict[str, np.ndarray]:
    meta = bundle.meta
    ds = dataset or load_dataset(meta["dataset"]["name"])
    if ds.classes != bundle.classes:
        raise BundleError(f"dataset {ds.name} has {ds.classes} classes; the bundle's network "
                          f"has {bundle.classes}")
    if ds.n_features != bundle.model[0].in_features:
        raise BundleError(f"dataset {ds.name} has {ds.n_features} features; the bundle's "
                          f"network takes {bundle.model[0].in_features}")
    grid, z = meta["grid"], len(bundle.directions)
    alphas = range_points(grid, z, bundle.alpha_range)
    out = {}
    for split in splits:
        X, y = bundle_split(bundle, ds, split)
        total, _ = evaluate_points(bundle.model, bundle.directions, X, y, alphas,
                                   classes=bundle.classes, heads=bundle.heads,
                                   loss=meta.get("loss", "cross_entropy"), device=device)
        out[split] = grid_array(total, grid, z)
    return out


def verify(bundle: Bundle, device: str = "cpu", spot_points: int = 8) -> dict:
    """Fresh surfaces vs the stored ones and vs the target, plus a naive-loop spot check."""
    meta = bundle.meta
    ds = load_dataset(meta["dataset"]["name"])
    counts = ds.y[bundle.train_idx].tolist()
    if np.bincount(counts, minlength=ds.classes).tolist() != meta["dataset"]["label_counts_train"]:
        raise BundleError(f"dataset {ds.name} here differs from the one the bundle was built on "
                          "(training label counts differ)")
    fresh = remeasure(bundle, ds, device=device)
    span = meta["pattern"]["loss_high"] - meta["pattern"]["loss_low"]
    report = {"max_abs_diff_vs_stored": {s: float(np.abs(fresh[s] - bundle.surfaces[s]).max())
                                         for s in fresh}}
    for s in fresh:
        report[s] = fidelity_per_head(fresh[s], bundle.target, span, bundle.heads)
    grid, z = meta["grid"], len(bundle.directions)
    alphas = range_points(grid, z, bundle.alpha_range)
    pick = np.random.default_rng(0).choice(len(alphas), min(spot_points, len(alphas)), False)
    X, y = bundle_split(bundle, ds, "train")
    naive = naive_surface(bundle.model, bundle.directions, X, y, alphas[pick],
                          classes=bundle.classes, heads=bundle.heads,
                          loss=meta.get("loss", "cross_entropy"))
    flat = fresh["train"].reshape((bundle.heads, -1)) if bundle.heads > 1 else fresh["train"].reshape(1, -1)
    report["naive_spot_check_max_abs_diff"] = float(np.abs(naive.T - flat[:, pick]).max())
    report["fresh"] = fresh
    return report
