"""Run panel: Start, Cancel, a progress bar with ETA and the live regression-loss curve."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

MAX_CURVE_POINTS = 4000
PHASES = {"baseline": "ordinary net", "classifier": "classifier", "regression": "regression"}


class RunPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.start = QPushButton("▶ Start")
        self.start.setToolTip("Build the network (Ctrl+R)")
        self.start.setStyleSheet("QPushButton { font-weight: bold; padding: 4px 14px; }")
        self.cancel = QPushButton("■ Cancel")
        self.cancel.setToolTip("Stop the run within one step (Esc)")
        self.cancel.setEnabled(False)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setFormat("idle")
        self.bar.setTextVisible(True)
        self.status = QLabel("Choose a pattern and a dataset, then press Start.")
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setLabel("bottom", "step")
        self.plot.setLabel("left", "log10 fit loss")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setTitle("regression: fit of σ(g(α)) to T (normalised MSE)", size="9pt")
        self.plot.setMinimumHeight(120)
        self.plot.hideButtons()
        self.curve = self.plot.plot(pen=pg.mkPen("#c44e52", width=1.5))
        self.remeasure = QPushButton("Re-measure at grid")
        self.remeasure.setToolTip("Measure the finished network's train and test surfaces again "
                                  "on a finer grid; they appear coarse and sharpen (exact values "
                                  "at every level). Cancel stops it.")
        self.remeasure.setEnabled(False)
        self.remeasure_grid = QSpinBox()
        self.remeasure_grid.setRange(8, 1024)
        self.remeasure_grid.setValue(256)
        self.remeasure_grid.setKeyboardTracking(False)
        self.remeasure_grid.setToolTip("grid points per direction (256 for z = 2 takes seconds "
                                       "to minutes; z = 3 needs far fewer)")
        again = QHBoxLayout()
        again.addWidget(self.remeasure)
        again.addWidget(self.remeasure_grid)
        again.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.start)
        top.addWidget(self.cancel)
        top.addWidget(self.bar, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addWidget(self.status)
        lay.addLayout(again)
        lay.addWidget(self.plot, 1)

    def set_running(self, running: bool) -> None:
        self.start.setEnabled(not running)
        self.cancel.setEnabled(running)

    def reset(self) -> None:
        self.bar.setValue(0)
        self.bar.setFormat("starting…")
        self.curve.setData([], [])

    def show_frame(self, frame) -> None:
        frac = frame.step / max(frame.total, 1)
        rate = frame.step / max(frame.elapsed, 1e-9)
        eta = (frame.total - frame.step) / max(rate, 1e-9)
        self.bar.setValue(int(frac * 1000))
        what = "" if frame.phase == "regression" else f"{PHASES.get(frame.phase, frame.phase)} "
        self.bar.setFormat(f"{what}{frame.step}/{frame.total} · ETA {eta:.0f} s")

    def show_losses(self, steps: np.ndarray, values: np.ndarray) -> None:
        if len(steps) > MAX_CURVE_POINTS:  # keep the line cheap to draw on long runs
            idx = np.linspace(0, len(steps) - 1, MAX_CURVE_POINTS).astype(int)
            steps, values = steps[idx], values[idx]
        ok = values > 0
        self.curve.setData(steps[ok], np.log10(values[ok]))

    def show_done(self, text: str, seconds: float | None = None) -> None:
        self.bar.setValue(1000 if seconds is not None else self.bar.value())
        self.bar.setFormat(text)
