"""z = 1: target, measured train and test loss as curves over alpha_1."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

STYLE = {"target": ("#333333", "target T", 2.5), "train": ("#4c72b0", "measured train", 1.8),
         "test": ("#dd8452", "measured test", 1.8)}


class CurvesView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.addLegend(offset=(10, 10))
        self.plot.setLabel("bottom", "α1 (direction 1)")
        self.plot.setLabel("left", "loss (nats)")
        self.plot.showGrid(x=True, y=True, alpha=0.3)
        self.curves = {k: self.plot.plot(pen=pg.mkPen(c, width=w), name=label)
                       for k, (c, label, w) in STYLE.items()}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)

    def set_array(self, name: str, arr: np.ndarray | None, heads: int = 1) -> None:
        if arr is None:
            self.curves[name].setData([], [])
            return
        a = np.asarray(arr, dtype=np.float64)
        a = a.mean(0) if heads > 1 else a
        while a.ndim > 1:
            a = a[..., a.shape[-1] // 2]
        self.curves[name].setData(np.linspace(0, 1, len(a)), a)

    def clear_measured(self) -> None:
        for name in ("train", "test"):
            self.set_array(name, None)

    def widget_for_export(self):
        return self.plot
