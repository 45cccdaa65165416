"""Static figures (matplotlib, Agg: no window): target, measured train/test and error.

Every panel says what it is; the loss panels share one colour scale.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def surface_figure(path: str | Path, target: np.ndarray, surfaces: dict[str, np.ndarray],
                   info: dict, alpha_range=None, dpi: int = 110) -> Path:
    """Write the side-by-side figure for a z = 2, single-head construction."""
    plt = _plt()
    (lo1, hi1), (lo2, hi2) = alpha_range or [[0, 1], [0, 1]]
    extent = [lo1, hi1, lo2, hi2]
    panels = [("target T", target)] + [
        (f"measured {split} loss\n({info.get('dataset', '')}, {info.get('n_' + split, '?')} samples)",
         arr) for split, arr in surfaces.items()]
    vmin = min(float(a.min()) for _, a in panels)
    vmax = max(float(a.max()) for _, a in panels)
    err = surfaces["train"] - target
    emax = max(float(np.abs(err).max()), 1e-9)
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(4.1 * (len(panels) + 1), 4.4),
                             constrained_layout=True)
    for ax, (title, arr) in zip(axes, panels):
        im = ax.imshow(arr.T, origin="lower", extent=extent, vmin=vmin, vmax=vmax,
                       cmap="viridis", interpolation="nearest")
        ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=axes[: len(panels)], shrink=0.85, label="loss (nats)" if
                 info.get("loss", "cross_entropy") == "cross_entropy" else "loss")
    ime = axes[-1].imshow(err.T, origin="lower", extent=extent, vmin=-emax, vmax=emax,
                          cmap="RdBu_r", interpolation="nearest")
    axes[-1].set_title("error: train - target", fontsize=10)
    fig.colorbar(ime, ax=axes[-1], shrink=0.85, label="loss difference")
    for ax in axes:
        ax.set_xlabel(r"$\alpha_1$ (direction 1)")
        ax.set_ylabel(r"$\alpha_2$ (direction 2)")
    fig.suptitle(info.get("title", ""), fontsize=11)
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def construction_figure(path, con, measurement, metrics: dict) -> Path:
    r = con.resolved
    tr, te = metrics.get("train", {}), metrics.get("test", {})
    info = {
        "dataset": r.config.dataset, "loss": r.config.loss,
        "n_train": len(r.dataset.train_idx), "n_test": len(r.dataset.test_idx),
        "title": (f"Theorem {r.config.theorem}: pattern '{r.pattern.name}' in the loss surface of a "
                  f"{r.config.depth}x{r.config.width} {r.config.activation} MLP on "
                  f"{r.config.dataset}   |   train PSNR {tr.get('psnr_db', float('nan')):.1f} dB, "
                  f"test PSNR {te.get('psnr_db', float('nan')):.1f} dB"),
    }
    return surface_figure(path, con.target, measurement.surfaces, info, con.alpha_range)
