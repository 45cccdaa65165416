"""The explore views (pyqtgraph): the training curve, then train and test, loss and accuracy
side by side, refined coarse to fine; the PCA path over the loss panels; a caption that says
what every panel is, and the honest error figures (PCA explained share and projection error,
Hessian eigenvalues) beneath.

z = 1 draws curves, z = 2 heatmaps, z = 3 the middle slice along α₃ (stated in the caption).
Train and test loss share one colour scale; accuracy runs over [0, 1].
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from .settings import view_label
from .view3d import ExploreSurface3D

PANELS = (("train", "loss"), ("test", "loss"), ("train", "accuracy"), ("test", "accuracy"))
PATH_PEN = pg.mkPen("#ff2d2d", width=2)
LOSS_CMAP, ACC_CMAP = "viridis", "CET-L9"


def _short(split: str, metric: str) -> str:
    return f"measured {split} {metric}"


class ExploreViews(QWidget):
    """Observes nothing by itself: the explore mode calls ``begin``, ``add_steps``,
    ``show_level``, ``show_result``. ``images``/``paths`` are public for tests."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.caption = QLabel("Explore: choose a family and a kind of directions, then Start.")
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("font-weight: bold; padding: 2px;")
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("w")
        self.info = QLabel("")
        self.info.setWordWrap(True)
        self.info.setStyleSheet("padding: 2px;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.caption)
        self.view3d = ExploreSurface3D()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.glw, "2-D: train and test, loss and accuracy")
        self.tabs.addTab(self.view3d, "3-D: train loss (and the PCA path)")
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.info)
        self.settings, self.dataset, self.alpha_range = None, "", None
        self.labels: dict[tuple[str, str], str] = {}
        self.arrays: dict[tuple[str, str], np.ndarray] = {}
        self._build()

    def _build(self) -> None:
        self.curve_plot = self.glw.addPlot(row=0, col=0, colspan=6)
        self.curve_plot.setLabel("bottom", "training step")
        self.curve_plot.setLabel("left", "minibatch loss (nats)")
        self.curve = self.curve_plot.plot(pen=pg.mkPen("#1f3b63", width=2))
        self.curve_plot.setMinimumHeight(150)
        self.plots, self.images, self.lines, self.paths = {}, {}, {}, {}
        cols = {("train", "loss"): 0, ("test", "loss"): 1, ("train", "accuracy"): 3,
                ("test", "accuracy"): 4}
        for key, col in cols.items():
            plot = self.glw.addPlot(row=1, col=col)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            img = pg.ImageItem(axisOrder="col-major")
            plot.addItem(img)
            line = plot.plot(pen=pg.mkPen("#1f3b63", width=2))
            self.plots[key], self.images[key], self.lines[key] = plot, img, line
            plot.setTitle(_short(*key), size="10pt")
            if key[1] == "loss":
                self.paths[key] = plot.plot(pen=PATH_PEN, symbol="o", symbolSize=5,
                                            symbolBrush="#ff2d2d", symbolPen=None)
        self.loss_bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get(LOSS_CMAP),
                                        label="loss (nats), train and test", interactive=False,
                                        width=11)
        self.loss_bar.setImageItem([self.images[k] for k in PANELS if k[1] == "loss"])
        self.glw.addItem(self.loss_bar, row=1, col=2)
        self.acc_bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get(ACC_CMAP),
                                       label="accuracy", interactive=False, width=11)
        self.acc_bar.setImageItem([self.images[k] for k in PANELS if k[1] == "accuracy"])
        self.glw.addItem(self.acc_bar, row=1, col=5)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Square heatmaps: each panel as tall as it is wide (plus title and axis); the
        training curve takes the height that is left."""
        super().resizeEvent(event)
        side = (self.glw.width() - 2 * 90) / 4
        for item in (*self.plots.values(), self.loss_bar, self.acc_bar):
            item.setMaximumHeight(side + 60)
            item.setMinimumHeight(min(side + 60, 260))

    # --- a run ------------------------------------------------------------------------------
    def begin(self, settings, dataset: str, batch: int | None = None) -> None:
        """Clear for a new run of ``settings`` on ``dataset``."""
        self.settings, self.dataset, self.alpha_range = settings, dataset, None
        self.steps, self.losses = [], []
        self.arrays, self.labels = {}, {}
        self.curve.setData([], [])
        for key in PANELS:
            self.images[key].clear()
            self.lines[key].setData([], [])
        for p in self.paths.values():
            p.setData([], [])
        self.curve_plot.setTitle(
            f"ordinary network (explore): minibatch training loss per Adam step (batch "
            f"{settings.batch}), {settings.family} on {dataset}, seed {settings.seed}",
            size="10pt")
        self.caption.setText(self._caption(None))
        self.info.setText("")
        z = settings.z
        for key, plot in self.plots.items():
            plot.setAspectLocked(z >= 2)
            self.images[key].setVisible(z >= 2)
            self.lines[key].setVisible(z == 1)
            plot.setLabel("bottom", "α₁")
            plot.setLabel("left", "α₂" if z >= 2 else key[1])

    def add_steps(self, steps: list) -> None:
        self.steps += [s.step for s in steps]
        self.losses += [s.loss for s in steps]
        self.curve.setData(self.steps, self.losses)

    @property
    def to_scale(self) -> bool:
        """α₁ and α₂ drawn to one scale, unless their ranges differ more than 2× (a PCA
        plane's second axis is often much shorter: then each axis fills its panel)."""
        if self.alpha_range is None or len(self.alpha_range) < 2:
            return True
        w1, w2 = (hi - lo for lo, hi in self.alpha_range[:2])
        return max(w1, w2) <= 2 * min(w1, w2)

    def set_range(self, alpha_range) -> None:
        self.alpha_range = [list(map(float, r)) for r in alpha_range]
        self.caption.setText(self._caption(self.alpha_range))
        if self.settings.z >= 2:
            (lo1, hi1), (lo2, hi2) = self.alpha_range[:2]
            for plot in self.plots.values():
                plot.setAspectLocked(self.to_scale)
                plot.setRange(xRange=(lo1, hi1), yRange=(lo2, hi2), padding=0.03)
        for split, metric in PANELS:
            self.labels[(split, metric)] = view_label(self.settings, self.dataset, split, metric,
                                                      self.alpha_range, plain=True)
            self.plots[(split, metric)].setToolTip(self.labels[(split, metric)])

    def show_level(self, level, alpha_range) -> None:
        """One refinement level of one split and quantity."""
        if self.alpha_range is None:
            self.set_range(alpha_range)
        key = (level.split, level.metric)
        arr = np.asarray(level.array, dtype=np.float64)
        if arr.ndim == 3:   # the middle slice along alpha_3
            arr = arr[:, :, arr.shape[2] // 2]
        self.arrays[key] = arr
        self._draw(key, arr)
        if level.metric == "loss":
            self._loss_levels()
        self.plots[key].setTitle(f"{_short(*key)} ({level.size} points per axis)", size="10pt")

    def _draw(self, key, arr) -> None:
        (lo1, hi1), *rest = self.alpha_range
        if arr.ndim == 1:
            self.lines[key].setData(np.linspace(lo1, hi1, len(arr)), arr)
            return
        lo2, hi2 = rest[0]
        n1, n2 = arr.shape
        h1, h2 = (hi1 - lo1) / max(n1 - 1, 1), (hi2 - lo2) / max(n2 - 1, 1)
        img = self.images[key]
        levels = (0.0, 1.0) if key[1] == "accuracy" else None
        img.setImage(arr, autoLevels=False, levels=levels or self._loss_range())
        img.setRect(lo1 - h1 / 2, lo2 - h2 / 2, hi1 - lo1 + h1, hi2 - lo2 + h2)

    def _loss_range(self) -> tuple[float, float]:
        vals = [a for k, a in self.arrays.items() if k[1] == "loss"]
        lo = min(float(np.nanmin(a)) for a in vals)
        hi = max(float(np.nanmax(a)) for a in vals)
        return lo, max(hi, lo + 1e-9)

    def _loss_levels(self) -> None:
        """Train and test loss on one colour scale (the bar states it)."""
        lo, hi = self._loss_range()
        self.loss_bar.setLevels((lo, hi))
        if self.settings.z == 1:
            for key in ("train", "loss"), ("test", "loss"):
                self.plots[key].setYRange(lo, hi, padding=0.05)

    # --- the finished run --------------------------------------------------------------------
    def show_result(self, result) -> None:
        """Final surfaces, the PCA path, and the figures that say how honest the picture is."""
        self.set_range(result.alpha_range)
        for key in PANELS:
            arr = result.surfaces[key]
            self.arrays[key] = arr[:, :, arr.shape[2] // 2] if arr.ndim == 3 else arr
            self._draw(key, self.arrays[key])
            self.plots[key].setTitle(f"{_short(*key)} ({result.settings.grid} points per axis)",
                                     size="10pt")
        self._loss_levels()
        if result.pca is not None:
            self._draw_path(result)
        self.info.setText(info_text(result))
        self.view3d.show_result(result)

    def _draw_path(self, result) -> None:
        c = np.asarray(result.pca.coords)
        for key, item in self.paths.items():
            if result.settings.z == 1:
                item.setData(c[:, 0], np.asarray(result.pca.real_loss)
                             if key[0] == "train" else np.full(len(c), np.nan))
            else:
                item.setData(c[:, 0], c[:, 1])

    def path_points(self, key=("train", "loss")) -> np.ndarray:
        """(T, 2) points the PCA path is drawn at (empty when none)."""
        x, y = self.paths[key].getData()
        return np.zeros((0, 2)) if x is None else np.stack([x, y], axis=1)

    def _caption(self, alpha_range) -> str:
        s = self.settings
        text = view_label(s, self.dataset, "train and test", "loss and accuracy", alpha_range)
        extra = " — panels show the middle slice along α₃" if s.z == 3 else ""
        path = (" — red: the training path projected onto the plane (it ends at 0, 0)"
                if s.kind == "pca" else "")
        scale = "" if self.to_scale else " — α₁ and α₂ are drawn to different scales"
        return f"{text}{extra}{path}{scale}"


def info_text(result) -> str:
    """PCA: explained share and projection error; Hessian: eigenvalues; always: what training
    reached."""
    s, parts = result.settings, []
    parts.append(f"training: {s.steps} Adam steps, final full-train-split loss "
                 f"{result.final_train_loss:.4f} nats; surfaces exact over {result.n_train} "
                 f"train / {result.n_test} test samples; {result.seconds:.1f} s in all.")
    if result.pca is not None:
        p = result.pca
        shares = ", ".join(f"PC{i + 1} {100 * v:.1f} %"
                           for i, v in enumerate(p.explained_variance_ratio))
        err = np.abs(p.loss_error) if p.loss_error is not None else None
        parts.append(f"PCA plane: explains {100 * p.explained_share:.1f} % of the trajectory's "
                     f"variance ({shares}); {100 * p.plane_share:.1f} % of its squared distance "
                     f"from the end lies in the plane; max distance of a snapshot from its "
                     f"projection {float(np.max(p.residual_norm)):.3g}.")
        if err is not None:
            parts.append(f"projection error: |surface at projection − real loss| over "
                         f"{len(err)} snapshots: max {float(err.max()):.4f}, mean "
                         f"{float(err.mean()):.4f} nats (train split).")
    if result.hessian is not None:
        h = result.hessian
        vals = ", ".join(f"λ{i + 1} = {v:.4g}" for i, v in enumerate(h.eigenvalues))
        res = ", ".join(f"{r:.2g}" for r in h.residuals)
        parts.append(f"Hessian of the full-train-split loss at the trained network: {vals} "
                     f"(power iteration with deflation, {h.hvps} Hessian-vector products; "
                     f"residuals ‖Hv − λv‖ {res}).")
    return "<br>".join(parts)
