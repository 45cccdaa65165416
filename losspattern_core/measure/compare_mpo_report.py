"""The comparison of ``compare_mpo`` as a markdown table, a JSON of its numbers and a figure
(both test surfaces on their own colour scales and on one shared, logarithmic scale)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

# What each method can draw: a fixed table, true of the methods (not of one run).
CAPABILITIES = [
    ("graded (grey-level) images", "yes: T is any continuous pattern, fitted in loss units",
     "no: a binary icon; only the boundary band is trained, levels are free"),
    ("z = 1 or z = 3 patterns", "yes: any z (one first-layer bias per direction)",
     "no: a plane (z = 2) only"),
    ("colour (three losses of one network)", "yes: three heads, one per channel",
     "no: one loss"),
    ("the network classifies at the pattern's low points", "no: chance accuracy everywhere "
     "(first layer zeroed; Theorem 2 fits the data at one point)",
     "yes: good cells are trained classifiers"),
    ("test surface = train surface", "yes, up to the label marginal (exact)",
     "no: each cell has its own generalisation gap"),
    ("axis-aligned directions", "yes: each moves one bias", "no: dense, every weight moves"),
]


def _fmt(v, digits: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}".replace(",", " ")
    return f"{v:.{digits}f}"


def _measured_on(rep: dict) -> tuple[str, str]:
    t = rep["mpo"]["test"]
    mpo = f"{t['samples']} of {t['of']} test samples" + (
        " (stratified subset)" if t["samples"] < t["of"] else "")
    return f"all {rep['ours']['n_test']} test samples (exact)", mpo


def table_rows(rep: dict) -> list[tuple[str, str, str]]:
    """(quantity, ours, MPO) rows of the measured comparison."""
    o, m = rep["ours"], rep["mpo"]
    om, mm = o["metrics"], m["metrics"]
    reach = o["reach"]
    ours_on, mpo_on = _measured_on(rep)
    cap = (f"{m['steps']} of {m['full_run_steps']} steps ({m['epochs']:.4f} epochs; "
           f"stopped: {m['stopped']})")
    stride = m["train"]["stride"]
    tr_note = (f" (train: {m['train']['samples']} samples" +
               (f", every {stride}th grid point" if stride > 1 else "") + ")")
    return [
        ("network", f"their CNN, {_fmt(rep['parameters'])} parameters", "the same"),
        ("optimisation", f"{o['steps']} steps, batch {rep['config']['ours_batch']}", cap),
        ("wall time of the construction", f"{o['wall_s']:.1f} s", f"{m['wall_s']:.1f} s"),
        ("network evaluations (fwd+bwd, one input at one weight vector)",
         _fmt(o["sample_passes"]), _fmt(m["sample_passes"])),
        ("test IoU of the low-loss region with the icon", _fmt(om["iou"]), _fmt(mm["iou"])),
        ("good − bad test accuracy on the band (their measure)", _fmt(om["acc_gap"]),
         _fmt(mm["acc_gap"])),
        ("median test loss: icon / background (nats)",
         f"{om['good_level']:.3f} / {om['bad_level']:.3f}",
         f"{mm['good_level']:.3f} / {mm['bad_level']:.3f}"),
        ("PSNR against the graded target (test)", f"{o['psnr_db']:.2f} dB",
         "— (no graded target)"),
        ("transfer gap: mean \\|test − train\\| loss over the grid (nats)", _fmt(o["transfer"], 4),
         _fmt(m["transfer"], 4) + tr_note),
        ("axis-aligned", "yes (one-hot: two first-layer biases)",
         f"no (dense: {_fmt(m['nonzero'])} nonzero entries per direction)"),
        ("time to reach MPO's final test IoU",
         "not reached" if reach is None else
         f"{reach['wall_s']:.2f} s ({reach['steps']} steps, IoU {reach['iou']:.3f})",
         f"{m['wall_s']:.1f} s"),
        ("surfaces measured on", ours_on, mpo_on),
    ]


def table_markdown(rep: dict) -> str:
    """The measured table, then the fixed table of what each method can draw."""
    lines = ["| | ours (Theorem 1) | MPO (Skorokhodov & Burtsev) |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in table_rows(rep)]
    lines += ["", "| can it draw … | ours (Theorem 1) | MPO |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in CAPABILITIES]
    return "\n".join(lines) + "\n"


def report_numbers(rep: dict) -> dict:
    """The report without its arrays (for JSON)."""
    def strip(d):
        if isinstance(d, dict):
            return {k: strip(v) for k, v in d.items() if not isinstance(v, np.ndarray)}
        return d
    return strip(rep)


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def compare_figure(path: str | Path, rep: dict, dpi: int = 110) -> Path:
    """Icon and target; both test surfaces on their own scales (top) and on one shared
    logarithmic scale (bottom). Grid layout: direction 1 right, direction 2 up."""
    from matplotlib.colors import LogNorm

    plt = _plt()
    ours, mpo = rep["ours"]["test"]["loss"], rep["mpo"]["test"]["loss"]
    fig, axes = plt.subplots(2, 3, figsize=(13, 8.2))
    panels = [(axes[0, 0], rep["icon"], "icon (1 = shape: low loss wanted)", "gray_r", None),
              (axes[1, 0], rep["target"], "our graded target T (nats)", "viridis", None),
              (axes[0, 1], ours, "ours: measured test loss (own scale)", "viridis", None),
              (axes[0, 2], mpo, "MPO: measured test loss (own log scale)", "viridis",
               LogNorm(max(float(mpo.min()), 1e-3), max(float(mpo.max()), 1e-2)))]
    lo = max(min(float(ours.min()), float(mpo.min())), 1e-3)
    hi = max(float(ours.max()), float(mpo.max()), lo * 1.01)
    panels += [(axes[1, 1], ours, "ours: shared log scale", "viridis", LogNorm(lo, hi)),
               (axes[1, 2], mpo, "MPO: shared log scale", "viridis", LogNorm(lo, hi))]
    for ax, arr, title, cmap, norm in panels:
        im = ax.imshow(np.asarray(arr, float).T, origin="lower", cmap=cmap, norm=norm)
        ax.set_title(title, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046)
    o, m = rep["ours"], rep["mpo"]
    fig.suptitle(f"{rep['config']['pattern']} on {rep['config']['dataset']}: ours IoU "
                 f"{o['metrics']['iou']:.3f} in {o['wall_s']:.1f} s; MPO IoU "
                 f"{m['metrics']['iou']:.3f} in {m['wall_s']:.1f} s ({m['steps']} of "
                 f"{m['full_run_steps']} steps)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return Path(path)


def mpo_figure(path: str | Path, icon: np.ndarray, loss: np.ndarray, acc: np.ndarray,
               title: str, dpi: int = 110) -> Path:
    """One MPO result: its icon, measured test loss (log scale) and accuracy."""
    from matplotlib.colors import LogNorm

    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    norm = LogNorm(max(float(loss.min()), 1e-3), max(float(loss.max()), 1e-2))
    for ax, arr, t, n, cmap in ((axes[0], icon, "icon", None, "gray_r"),
                                (axes[1], loss, "test loss (log scale)", norm, "viridis"),
                                (axes[2], acc, "test accuracy", None, "magma")):
        im = ax.imshow(np.asarray(arr, float).T, origin="lower", norm=n, cmap=cmap)
        ax.set_title(t, fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return Path(path)
