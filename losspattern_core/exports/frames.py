"""Animation frames drawn offscreen with matplotlib (Agg, no window, no pyplot state): each
generator yields (height, width, 3) uint8 RGB images of exactly the requested size.

- ``forming_frames``: a construction forming, one frame per recorded snapshot of the measured
  train surface, labelled with its step and its fidelity in dB (the target beside it).
- ``turntable_frames``: the 3-D surface turning once around its vertical axis.
- ``slice_frames``: a volume's planes (α1, α2) one after another along direction 3.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from losspattern_core.exports.surfaces import SurfaceSet, plane

DPI = 100
MAX_DRAWN = 96            # a 3-D surface is drawn on at most this many points per direction
Snapshot = tuple[int, np.ndarray, float]   # (step, measured train surface, fidelity in dB)


class Canvas:
    """One Agg figure of ``size`` (width, height) pixels, read back as RGB."""

    def __init__(self, size: tuple[int, int]):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.width, self.height = size
        self.fig = Figure(figsize=(self.width / DPI, self.height / DPI), dpi=DPI)
        self.canvas = FigureCanvasAgg(self.fig)

    def rgb(self) -> np.ndarray:
        self.canvas.draw()
        img = np.asarray(self.canvas.buffer_rgba())[..., :3]
        out = np.full((self.height, self.width, 3), 255, dtype=np.uint8)  # exact size, always
        h, w = min(self.height, img.shape[0]), min(self.width, img.shape[1])
        out[:h, :w] = img[:h, :w]
        return out


def _lines(*parts: str) -> str:
    """Non-empty parts, one per line (no blank first line when there is no title)."""
    return "\n".join(p for p in parts if p)


def _label(data: SurfaceSet) -> str:
    return "loss (nats)" if data.loss == "cross_entropy" else "loss"


def _heatmap(ax, arr: np.ndarray, data: SurfaceSet, lo: float, hi: float, cmap: str):
    (x0, x1), (y0, y1) = data.alpha_range[:2]
    im = ax.imshow(arr.T, origin="lower", extent=[x0, x1, y0, y1], vmin=lo, vmax=hi,
                   cmap=cmap, interpolation="nearest", aspect="auto")
    ax.set_xlabel(r"$\alpha_1$", fontsize=8)
    ax.set_ylabel(r"$\alpha_2$", fontsize=8)
    ax.tick_params(labelsize=7)
    return im


def forming_frames(data: SurfaceSet, snapshots: Sequence[Snapshot], size: tuple[int, int],
                   head: int = 0, cmap: str = "viridis", total_steps: int | None = None,
                   value_range: tuple[float, float] | None = None) -> Iterator[np.ndarray]:
    """One frame per snapshot: its measured train surface (z = 1: curve; z >= 3: middle
    plane), the target beside it when there is one, titled with step and fidelity."""
    c = Canvas(size)
    target = plane(data.values("target", head))[0] if "target" in data.surfaces else None
    pick = (lambda s: plane(s[head] if data.heads > 1 else s)[0])
    first = pick(np.asarray(snapshots[0][1], dtype=np.float64))
    lo, hi = value_range or data.value_range()
    total = total_steps or max(s[0] for s in snapshots)
    axes = c.fig.subplots(1, 2 if target is not None else 1, squeeze=False)[0]
    c.fig.subplots_adjust(left=0.08, right=0.97, bottom=0.14, top=0.80, wspace=0.3)
    if data.z == 1:
        ax = axes[-1]
        if target is not None:
            axes[0].remove()
            ax.plot(data.coordinates[0], target, "--", color="grey", label="target T")
        (line,) = ax.plot(data.coordinates[0], first, color="tab:blue", label="measured train")
        ax.set_ylim(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo))
        ax.set_xlabel(r"$\alpha_1$", fontsize=8)
        ax.set_ylabel(_label(data), fontsize=8)
        ax.legend(fontsize=7)
        update = line.set_ydata
    else:
        if target is not None:
            _heatmap(axes[0], target, data, lo, hi, cmap)
            axes[0].set_title("target T", fontsize=9)
        im = _heatmap(axes[-1], first, data, lo, hi, cmap)
        c.fig.colorbar(im, ax=list(axes), shrink=0.8, label=_label(data))
        update = (lambda arr: im.set_data(arr.T))
    note = plane(data.values(data.default_source(), head))[1]
    for step, surface, fidelity in snapshots:
        update(pick(np.asarray(surface, dtype=np.float64)))
        axes[-1].set_title("measured train loss", fontsize=9)
        c.fig.suptitle(_lines(data.info.get("title", ""), f"step {step} of {total}: train "
                              f"fidelity {fidelity:.1f} dB" + (f" ({note})" if note else "")),
                       fontsize=9)
        yield c.rgb()


def turntable_frames(data: SurfaceSet, n_frames: int, size: tuple[int, int],
                     source: str | None = None, head: int = 0, cmap: str = "viridis",
                     elevation: float = 30.0, slice_at=None,
                     value_range: tuple[float, float] | None = None) -> Iterator[np.ndarray]:
    """The surface turning 360° over ``n_frames`` (matplotlib's 3-D axes)."""
    source = source or data.default_source()
    arr, note = plane(data.values(source, head), slice_at)
    lo, hi = value_range or data.value_range([source])
    n = arr.shape
    step = [max(1, int(np.ceil((m - 1) / (MAX_DRAWN - 1)))) for m in n]
    idx = [np.unique(np.r_[np.arange(0, m, s), m - 1]) for m, s in zip(n, step, strict=True)]
    sub = arr[np.ix_(*idx)]
    xx, yy = np.meshgrid(data.coordinates[0][idx[0]], data.coordinates[1][idx[1]],
                         indexing="ij")
    c = Canvas(size)
    ax = c.fig.add_subplot(projection="3d")
    c.fig.subplots_adjust(left=0.0, right=0.92, bottom=0.02, top=0.88)
    ax.plot_surface(xx, yy, sub, cmap=cmap, vmin=lo, vmax=hi, rstride=1, cstride=1,
                    linewidth=0, antialiased=False)
    ax.set_zlim(lo, hi)
    ax.set_xlabel(r"$\alpha_1$", fontsize=8)
    ax.set_ylabel(r"$\alpha_2$", fontsize=8)
    ax.set_zlabel(_label(data), fontsize=8)
    ax.tick_params(labelsize=6)
    drawn = "" if sub.shape == arr.shape else (f"drawn on {sub.shape[0]}x{sub.shape[1]} of "
                                               f"the {n[0]}x{n[1]} grid points")
    c.fig.suptitle(_lines(data.info.get("title", ""), "target T" if source == "target"
                          else f"measured {source} loss"), fontsize=9)
    c.fig.text(0.5, 0.01, "; ".join(t for t in (note, drawn) if t), ha="center", fontsize=7)
    for k in range(n_frames):
        ax.view_init(elev=elevation, azim=-60.0 + 360.0 * k / n_frames)
        yield c.rgb()


def slice_frames(data: SurfaceSet, size: tuple[int, int], source: str | None = None,
                 head: int = 0, cmap: str = "viridis",
                 value_range: tuple[float, float] | None = None) -> Iterator[np.ndarray]:
    """One frame per grid point of direction 3: the plane (α1, α2) there, one colour scale."""
    source = source or data.default_source()
    vol = data.values(source, head)
    if vol.ndim > 3:
        vol = vol[(slice(None),) * 3 + tuple((m - 1) // 2 for m in vol.shape[3:])]
    lo, hi = value_range or data.value_range([source])
    c = Canvas(size)
    ax = c.fig.add_subplot()
    c.fig.subplots_adjust(left=0.12, right=0.95, bottom=0.12, top=0.84)
    im = _heatmap(ax, vol[:, :, 0], data, lo, hi, cmap)
    c.fig.colorbar(im, ax=ax, label=_label(data))
    what = "target T" if source == "target" else f"measured {source} loss"
    rest = f"; directions 4..{data.z} at their middle" if data.z > 3 else ""
    for k, a3 in enumerate(data.coordinates[2]):
        im.set_data(vol[:, :, k].T)
        ax.set_title(_lines(data.info.get("title", ""), f"{what} at " + r"$\alpha_3$"
                            + f" = {a3:.3f} (plane {k + 1} of {len(data.coordinates[2])}{rest})"),
                     fontsize=9)
        yield c.rgb()
