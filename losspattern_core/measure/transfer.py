"""Observation 1 on demand: a bundle's surface measured on another split or dataset.

For a Theorem 1 network the loss depends on the data only through the label marginal, so on
any data D' with the same classes

    L_D'(alpha) - L_D(alpha) = sum_k (pi'_k - pi_k) l(p(alpha), k)

with l(p, k) the per-class losses measured on the bundle's own training split. ``transfer``
measures the surface on D' (every sample, exact evaluator), and puts the measured gap beside
that prediction. Theorem 2 networks see x, so nothing is predicted for them: the measured
values are shown anyway, with the prediction labelled as not applicable.
"""

from __future__ import annotations

import os

import numpy as np

from losspattern_core.data.datasets import Dataset, load_dataset
from losspattern_core.errors import BundleError, ConfigError
from losspattern_core.io.bundle import Bundle, load_bundle
from losspattern_core.measure.metrics import fidelity_per_head, transfer_prediction
from losspattern_core.measure.verify import bundle_split, check_dataset, require_finite_surface
from losspattern_core.surface import evaluate_points, grid_array, range_points

SPLITS = ("train", "test", "all")


def check_compatible(bundle: Bundle, ds: Dataset) -> None:
    """Clear messages for data the bundle's network cannot be measured on."""
    if ds.classes != bundle.classes:
        raise BundleError(
            f"dataset {ds.name} has {ds.classes} classes but the bundle's network "
            f"({bundle.path}) predicts {bundle.classes}: a surface can only be measured on data "
            f"with the same {bundle.classes} classes")
    n_in = bundle.n_features
    if ds.n_features != n_in:
        raise BundleError(
            f"dataset {ds.name} has {ds.n_features} features per sample but the bundle's "
            f"network takes {n_in} inputs: choose a dataset with {n_in} features (e.g. "
            f"synthetic:dim={n_in})")


def _same_dataset(bundle: Bundle, spec: str) -> bool:
    return spec == bundle.meta["dataset"]["name"]


def transfer(bundle: Bundle | str | os.PathLike, dataset: str, split: str | None = None,
             device: str = "cpu") -> dict:
    """Measure the surface on ``dataset`` (its ``split``) beside the marginal prediction."""
    from losspattern_core.config import resolve_device

    device = resolve_device(device)
    if split is not None and split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}: use train, test or all")
    b = bundle if isinstance(bundle, Bundle) else load_bundle(bundle)
    meta = b.meta
    loss = meta.get("loss", "cross_entropy")
    own = load_dataset(meta["dataset"]["name"])
    check_dataset(b, own)
    counts_train = np.asarray(meta["dataset"]["label_counts_train"])
    same = _same_dataset(b, dataset)
    ds = own if same else load_dataset(dataset)
    check_compatible(b, ds)
    split = split or ("test" if same else "all")
    if same and split in ("train", "test"):
        X, y = bundle_split(b, ds, split)
    else:
        X, y = ds.split(split)
    if not len(y):
        raise BundleError(f"dataset {ds.name} has no samples in its {split} split")
    grid, z = meta["grid"], len(b.directions)
    alphas = range_points(grid, z, b.alpha_range)
    Xtr, ytr = bundle_split(b, own, "train")
    kw = dict(classes=b.classes, heads=b.heads, loss=loss, device=device)
    train_total, per_class = evaluate_points(b.model, b.directions, Xtr, ytr, alphas, **kw)
    new_total, _ = evaluate_points(b.model, b.directions, X, y, alphas, **kw)
    for what, arr in (("its training split", train_total), (f"{ds.name} {split}", new_total)):
        require_finite_surface(arr, f"{b.path} on {what}")
    counts_new = np.bincount(y, minlength=b.classes)
    pred = transfer_prediction(per_class, counts_train, counts_new)      # (P, heads)
    gap = new_total - train_total
    pattern = meta.get("pattern")
    span = pattern["loss_high"] - pattern["loss_low"] if pattern else 1.0
    new_surface = grid_array(new_total, grid, z)
    pi, pi_new = counts_train / counts_train.sum(), counts_new / counts_new.sum()
    theorem = meta.get("theorem") or {"theorem1": 1, "theorem2": 2}.get(meta.get("method"), 0)
    return {
        "bundle": str(b.path), "theorem": theorem,
        "from": {"dataset": meta["dataset"]["name"], "split": "train",
                 "n": int(counts_train.sum()), "marginal": pi.round(6).tolist()},
        "to": {"dataset": ds.name, "split": split, "n": int(len(y)),
               "marginal": pi_new.round(6).tolist()},
        "max_abs_marginal_difference": float(np.abs(pi_new - pi).max()),
        "max_abs_gap": float(np.abs(gap).max()),
        "mean_abs_gap": float(np.abs(gap).mean()),
        "max_abs_predicted_gap": float(np.abs(pred).max()),
        "max_abs_gap_minus_prediction": float(np.abs(gap - pred).max()),
        "prediction_applies": theorem == 1,
        "train_fidelity": _fidelity(b.surfaces["train"], b.target, span, b.heads),
        "new_fidelity": _fidelity(new_surface, b.target, span, b.heads),
        "_surface": new_surface, "_gap": grid_array(gap, grid, z),
        "_predicted": grid_array(pred, grid, z),
    }


def _fidelity(surface: np.ndarray, target: np.ndarray | None, span: float, heads: int) -> dict:
    if target is None:  # an explored landscape has no target
        return {"psnr_db": float("nan"), "nrmse": float("nan"), "max_error": float("nan")}
    return fidelity_per_head(surface, target, span, heads)


def transfer_lines(rep: dict) -> list[str]:
    f, t = rep["from"], rep["to"]
    lines = [f"bundle {rep['bundle']} (Theorem {rep['theorem']}), built on {f['dataset']} "
             f"train ({f['n']} samples); measured on {t['dataset']} {t['split']} ({t['n']} "
             f"samples)",
             f"label marginal: max |pi' - pi| = {rep['max_abs_marginal_difference']:.4f}",
             f"measured gap  L' - L: max {rep['max_abs_gap']:.4f} nats, mean "
             f"{rep['mean_abs_gap']:.4f}",
             f"predicted     sum_k (pi'_k - pi_k) l(p, k): max {rep['max_abs_predicted_gap']:.4f}"
             f" nats; |measured - predicted| max {rep['max_abs_gap_minus_prediction']:.2e}",
             f"fidelity to the target: PSNR {rep['train_fidelity']['psnr_db']:.2f} dB on the "
             f"training split, {rep['new_fidelity']['psnr_db']:.2f} dB here"]
    if not rep["prediction_applies"]:
        lines[3] = "predicted     not applicable: the gap is measured only"
        lines.insert(1, "note: Theorem 2 promises no transfer (its network sees x): the "
                        "prediction from label marginals does not apply; measured values shown")
    else:
        ok = rep["max_abs_gap_minus_prediction"] <= 1e-4 + 1e-4 * rep["max_abs_gap"]
        lines.append("Observation 1 " + ("holds: the measured gap is the predicted one" if ok
                                         else "does NOT hold here: measured and predicted differ"))
    return lines
