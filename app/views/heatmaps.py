"""Four pyqtgraph heatmaps: target, measured train, measured test (one shared colour scale with
a ColorBarItem) and the error train - target (its own symmetric diverging scale).

Arrays arrive with axis 0 = direction 1; ImageItems use column-major order, so the array is
drawn as is with alpha_1 on x and alpha_2 pointing up.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QVBoxLayout, QWidget

from .arrays import plane, shared_levels

PANELS = ("target", "train", "test", "error")
LOSS_CMAP = "viridis"
ERROR_CMAP = "CET-D1A"
UNIT = QRectF(0, 0, 1, 1)  # the image covers alpha in [0, 1]^2 whatever its grid


class HeatmapsView(QWidget):
    """``set_target / set_surface / set_levels``; titles say what each panel measures."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("w")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.glw)
        self.plots: dict[str, pg.PlotItem] = {}
        self.images: dict[str, pg.ImageItem] = {}
        self.arrays: dict[str, np.ndarray | None] = dict.fromkeys(PANELS)
        for i, name in enumerate(PANELS):
            plot = self.glw.addPlot(row=i // 2, col=2 * (i % 2))
            plot.setAspectLocked(True)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            plot.setLabel("bottom", "α1 (direction 1)")
            plot.setLabel("left", "α2 (direction 2)")
            img = pg.ImageItem(axisOrder="col-major")
            plot.addItem(img)
            plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
            self.plots[name], self.images[name] = plot, img
        self.loss_bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get(LOSS_CMAP),
                                        label="loss (nats)", interactive=False, width=14)
        self.loss_bar.setImageItem([self.images[n] for n in ("target", "train", "test")])
        self.glw.addItem(self.loss_bar, row=0, col=3)
        self.err_bar = pg.ColorBarItem(values=(-1, 1), colorMap=pg.colormap.get(ERROR_CMAP),
                                       label="train − target", interactive=False, width=14)
        self.err_bar.setImageItem(self.images["error"])
        self.glw.addItem(self.err_bar, row=1, col=3)
        self.low_high: tuple[float, float] | None = None
        self.titles = {"target": "target T", "train": "measured train loss",
                       "test": "measured test loss", "error": "error: train − target"}
        for name in PANELS:
            self.set_title(name, self.titles[name] + " (no run yet)" if name != "target"
                           else self.titles[name])

    # --- public API ----------------------------------------------------------------------------
    def set_title(self, name: str, text: str) -> None:
        self.titles[name] = text
        self.plots[name].setTitle(text, size="9pt")

    def set_loss_range(self, low: float, high: float) -> None:
        self.low_high = (low, high)
        self._rescale()

    def set_array(self, name: str, arr: np.ndarray | None, heads: int = 1) -> None:
        """Show ``arr`` (any z; heads averaged) in panel ``name``; None clears it."""
        self.arrays[name] = None if arr is None else plane(arr, heads)
        if name in ("target", "train"):
            self._update_error()
        self._rescale()

    def clear_measured(self) -> None:
        for name in ("train", "test", "error"):
            self.arrays[name] = None
            self.images[name].clear()
        self._rescale()

    def levels(self) -> tuple[float, float]:
        arrays = [self.arrays[n] for n in ("target", "train", "test")]
        low, high = self.low_high or (None, None)
        if all(a is None for a in arrays) and low is None:
            return 0.0, 1.0
        return shared_levels(arrays, low, high)

    def widget_for_export(self) -> pg.GraphicsLayoutWidget:
        return self.glw

    # --- drawing -------------------------------------------------------------------------------
    def _update_error(self) -> None:
        t, m = self.arrays["target"], self.arrays["train"]
        self.arrays["error"] = m - t if t is not None and m is not None and t.shape == m.shape \
            else None

    def _rescale(self) -> None:
        lo, hi = self.levels()
        for name in ("target", "train", "test"):
            arr = self.arrays[name]
            if arr is not None:
                self.images[name].setImage(arr, autoLevels=False, levels=(lo, hi), rect=UNIT)
        self.loss_bar.setLevels((lo, hi))
        err = self.arrays["error"]
        if err is not None:
            emax = max(float(np.abs(err).max()), 1e-6)
            self.images["error"].setImage(err, autoLevels=False, levels=(-emax, emax), rect=UNIT)
            self.err_bar.setLevels((-emax, emax))
        else:
            self.images["error"].clear()
