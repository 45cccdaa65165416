"""``.svg`` and ``.pdf`` of the 2-D figure.

A construction (a target beside measured surfaces) gets exactly the figure the CLI writes as
``figure.png`` — io/figure.py's functions, which pick the format from the file's suffix.
Anything without a target (an explored or imported landscape) gets ``landscape_figure``:
the measured surfaces side by side on one colour scale (z = 1: curves).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from losspattern_core.exports.atomic import ExportError, write_export
from losspattern_core.exports.surfaces import SurfaceSet, plane

VECTOR_TYPES = {"svg": "SVG figure", "pdf": "PDF figure"}


def _figure_info(data: SurfaceSet) -> dict:
    info = {k: data.info[k] for k in ("dataset", "n_train", "n_test", "alpha_star", "title")
            if data.info.get(k) is not None}
    info.update(loss=data.loss, heads=data.heads)
    info["loss_range"] = data.info.get("loss_range") or list(data.value_range())
    return info


def construction_figure(data: SurfaceSet, path: Path, dpi: int) -> Path:
    """io/figure.py's figure for this kind of construction (target and train required)."""
    from losspattern_core.io import figure

    measured = {s: np.asarray(data.surfaces[s]) for s in ("train", "test") if s in data.surfaces}
    args = (path, np.asarray(data.surfaces["target"]), measured, _figure_info(data),
            data.alpha_range)
    if data.z == 1:
        return figure.curve_figure(*args, dpi=dpi)
    if data.z >= 3:
        return figure.slices_figure(*args, dpi=dpi)
    if data.heads == 3:
        return figure.rgb_figure(*args, dpi=dpi)
    if data.info.get("method") == "theorem2":
        return figure.theorem2_figure(*args, dpi=dpi)
    return figure.surface_figure(*args, dpi=dpi)


def landscape_figure(data: SurfaceSet, path: Path, head: int = 0, dpi: int = 110) -> Path:
    """Every source side by side, one colour scale; z = 1 curves; z >= 3 the middle plane."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = [s for s in ("target", "train", "test") if s in data.surfaces]
    fields = {s: plane(data.values(s, head))[0] for s in names}
    note = plane(data.values(names[0], head))[1]
    label = "loss (nats)" if data.loss == "cross_entropy" else "loss"
    if data.z == 1:
        fig = Figure(figsize=(7, 4.4), layout="constrained")
        ax = fig.add_subplot()
        for s, arr in fields.items():
            ax.plot(data.coordinates[0], arr, label=f"{s} loss")
        ax.set_xlabel(r"$\alpha_1$ (direction 1)")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    else:
        fig = Figure(figsize=(4.2 * len(names) + 0.8, 4.4), layout="constrained")
        axes = fig.subplots(1, len(names), squeeze=False)[0]
        lo, hi = data.value_range(names)
        (x0, x1), (y0, y1) = data.alpha_range[:2]
        for ax, (s, arr) in zip(axes, fields.items(), strict=True):
            im = ax.imshow(arr.T, origin="lower", extent=[x0, x1, y0, y1], vmin=lo, vmax=hi,
                           cmap="viridis", interpolation="nearest", aspect="auto")
            ax.set_title(f"{s} loss", fontsize=10)
            ax.set_xlabel(r"$\alpha_1$ (direction 1)")
            ax.set_ylabel(r"$\alpha_2$ (direction 2)")
        fig.colorbar(im, ax=list(axes), shrink=0.85, label=label)
    head_note = f"head {head + 1} of {data.heads}" if data.heads > 1 else ""
    fig.suptitle("\n".join(t for t in (data.info.get("title", ""),
                                        ", ".join(n for n in (head_note, note) if n)) if t),
                 fontsize=10)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=dpi)
    return path


def export_figure(data: SurfaceSet, path: str | os.PathLike, head: int = 0, dpi: int = 110,
                  overwrite: bool = False, **_ignored) -> Path:
    """The 2-D figure as SVG or PDF (chosen by the suffix of ``path``)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in VECTOR_TYPES:
        raise ExportError(f"cannot write {path}: a figure is .svg or .pdf")
    full = "target" in data.surfaces and "train" in data.surfaces
    if full and data.heads == 3 and data.z >= 2 and not data.info.get("loss_range"):
        full = False   # the RGB figure's colour squash needs the construction's loss range

    def write(tmp: Path) -> None:
        if full:
            construction_figure(data, tmp, dpi)
        else:
            landscape_figure(data, tmp, head, dpi)

    return write_export(path, write, VECTOR_TYPES[suffix], overwrite)
