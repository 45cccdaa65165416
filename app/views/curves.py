"""z = 1: target, measured train and test loss as curves over alpha_1, in one labelled plot.

Observes the state: the curves, title and legend are those of ``state.shown`` (one source).
The train curve updates live from the run's streamed snapshots (the controller coalesces them
to 10 Hz); progressive re-measurement draws coarse curves that sharpen.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ..captions import curve_labels, curves_title

# target: a wide pale band, so that measured curves lying exactly on it stay visible
STYLE = {"target": ("#bbbbbb", "target T", 7, Qt.SolidLine),
         "train": ("#1f5fa8", "measured train", 2, Qt.SolidLine),
         "test": ("#e0701a", "measured test", 2, Qt.DashLine)}


class CurvesView(QWidget):
    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self._labels: dict[str, str] = {}
        self.plot = pg.PlotWidget(background="w")
        self.plot.addLegend(offset=(-10, -10), brush=pg.mkBrush(255, 255, 255, 230),
                            pen=pg.mkPen("#999"))   # bottom right, opaque over the curves
        self.plot.setLabel("bottom", "α1 (direction 1)")
        self.plot.setLabel("left", "loss (nats)")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        # alpha always spans [0, 1]: a fixed x range (auto-range on a hidden tab clipped it)
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.getViewBox().enableAutoRange(x=False, y=True)
        self.plot.setTitle("loss along direction 1: target vs measured train vs measured test",
                           size="10pt")
        self.curves = {k: self.plot.plot(pen=pg.mkPen(c, width=w, style=st), name=label)
                       for k, (c, label, w, st) in STYLE.items()}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)
        self.arrays: dict[str, np.ndarray | None] = dict.fromkeys(STYLE)
        state.events.shown.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        shown = self.state.shown
        for name in STYLE:
            self.set_array(name, shown.array(name), shown.heads)
        self.set_title(curves_title(shown))
        self.set_labels(curve_labels(shown))

    def set_labels(self, labels: dict[str, str]) -> None:
        """Legend texts, e.g. {"train": "measured train (digits, 1420 samples)"}."""
        merged = {**self._labels, **labels}
        if merged == self._labels:
            return
        self._labels = merged
        legend = self.plot.plotItem.legend
        for name in STYLE:   # all again, so the legend keeps its order
            if name in merged:
                legend.removeItem(self.curves[name])
                legend.addItem(self.curves[name], merged[name])

    def set_title(self, text: str) -> None:
        self.plot.setTitle(text, size="10pt")

    def set_array(self, name: str, arr: np.ndarray | None, heads: int = 1) -> None:
        if arr is None:
            self.curves[name].setData([], [])
            self.arrays[name] = None
            return
        a = np.asarray(arr, dtype=np.float64)
        a = a.mean(0) if heads > 1 else a
        while a.ndim > 1:
            a = a[..., a.shape[-1] // 2]
        self.arrays[name] = a
        self.curves[name].setData(np.linspace(0, 1, len(a)), a)

    def widget_for_export(self):
        return self.plot
