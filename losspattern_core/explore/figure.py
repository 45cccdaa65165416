"""The explore figure (matplotlib, Agg): train and test loss and accuracy side by side.

z = 1: curves over alpha; z = 2: four heatmaps (loss panels share one colour scale, accuracy
panels [0, 1]); z = 3: the same at the middle slice of direction 3. For PCA directions the
training path (each snapshot's projection) is drawn over the loss panels, the final network
marked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

PANELS = (("train", "loss"), ("test", "loss"), ("train", "acc"), ("test", "acc"))


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _curves(plt, surfaces: dict, alpha_range, title: str):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    lo, hi = alpha_range[0]
    a = np.linspace(lo, hi, len(surfaces["train"]["loss"]))
    for split, style in (("train", "-"), ("test", "--")):
        axes[0].plot(a, surfaces[split]["loss"], style, label=f"{split} loss")
        axes[1].plot(a, surfaces[split]["acc"], style, label=f"{split} accuracy")
    for ax, what in zip(axes, ("mean cross-entropy (nats)", "accuracy"), strict=True):
        ax.set_xlabel("alpha")
        ax.set_ylabel(what)
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


def _plane(arr: np.ndarray) -> np.ndarray:
    return arr if arr.ndim == 2 else arr[:, :, arr.shape[2] // 2]


def _heatmaps(plt, surfaces: dict, alpha_range, title: str, path_xy=None):
    (lo1, hi1), (lo2, hi2) = alpha_range[:2]
    extent = [lo1, hi1, lo2, hi2]
    loss = [_plane(surfaces[s]["loss"]) for s in ("train", "test")]
    vmin, vmax = min(float(a.min()) for a in loss), max(float(a.max()) for a in loss)
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.4), constrained_layout=True)
    for ax, (split, what) in zip(axes, PANELS, strict=True):
        arr = _plane(surfaces[split][what])
        kw = ({"vmin": vmin, "vmax": vmax, "cmap": "viridis"} if what == "loss"
              else {"vmin": 0.0, "vmax": 1.0, "cmap": "magma"})
        im = ax.imshow(arr.T, origin="lower", extent=extent, aspect="auto", **kw)
        if what == "loss" and arr.shape[0] > 2:
            ax.contour(np.linspace(lo1, hi1, arr.shape[0]), np.linspace(lo2, hi2, arr.shape[1]),
                       arr.T, levels=12, colors="white", linewidths=0.5, alpha=0.6)
        if what == "loss" and path_xy is not None:
            ax.plot(path_xy[:, 0], path_xy[:, 1], "o-", color="red", ms=3, lw=1.2,
                    label="training path (projected)")
            ax.plot(path_xy[-1, 0], path_xy[-1, 1], "*", color="white", ms=12,
                    label="final network")
            ax.legend(loc="upper right", fontsize=7)
        ax.set_title(f"{split} {'loss (nats)' if what == 'loss' else 'accuracy'}")
        ax.set_xlabel("alpha 1")
        ax.set_ylabel("alpha 2")
        fig.colorbar(im, ax=ax, shrink=0.85)
    fig.suptitle(title)
    return fig


def explore_figure(path: str | Path, surfaces: dict, alpha_range, title: str,
                   path_xy: np.ndarray | None = None, dpi: int = 100) -> Path:
    """Write the figure to ``path`` (any format matplotlib writes by suffix)."""
    plt = _plt()
    z = surfaces["train"]["loss"].ndim
    fig = (_curves(plt, surfaces, alpha_range, title) if z == 1 else
           _heatmaps(plt, surfaces, alpha_range, title + (" (middle slice of direction 3)"
                                                          if z == 3 else ""), path_xy))
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return Path(path)
