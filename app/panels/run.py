"""Run panel: Start, Cancel, a progress bar with ETA, the regression-loss curve, Re-measure.

Observes the state: the bar and the status line show the live activity or how it ended, the
curve is the regression of the run the state holds (live or finished) and says which run.
The buttons' clicks are wired by the main window.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..captions import activity_texts, outcome_texts
from ..eta import WholeRunEta
from ..method_words import fit_curve_labels
from ..run_plan import position, whole_run_text
from ..state import AppState

MAX_CURVE_POINTS = 4000
REMEASURE_GRID = {1: 1024, 2: 256, 3: 64}   # a finer grid than a run's, per z
SIDE_BY_SIDE_WIDTH = 760   # wider than this: the fit curve stands right of the status text,
                           # with the dock's whole height (a laptop's Run dock is ~150 px)


class RunPanel(QWidget):
    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self._z = None
        self.eta = WholeRunEta()
        self._eta_run = None          # the run the estimate is for
        self._run_started = 0.0       # time.monotonic() when that run was first seen
        self._eta_tick = QTimer(self)  # the ETA counts down between progress events
        self._eta_tick.setInterval(1000)
        self._eta_tick.timeout.connect(self._show_bar_text)
        self.start = QPushButton("▶ Start")
        self.start.setToolTip("Build the network (Ctrl+R)")
        self.start.setStyleSheet("QPushButton { font-weight: bold; padding: 4px 14px; }")
        self.cancel = QPushButton("■ Cancel")
        self.cancel.setToolTip("Stop the run within one step (Esc)")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.plot = pg.PlotWidget(background="w")
        # no "step" label under the axis (the title says "over steps"): on a laptop the
        # ~150-px Run dock left the vertical label more room than it then had
        self.plot.setLabel("left", "log10 fit loss", **{"font-size": "8pt"})
        self._curve_axis, self._curve_title = "log10 fit loss", None   # texts shown now
        left = self.plot.getAxis("left")
        left.enableAutoSIPrefix(False)   # never "(×0.001)" with ticks −900…−940
        left.setWidth(56)                # room for the label and ticks such as −2.5
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMinimumHeight(90)   # the axis label and two ticks stay readable
        self.plot.hideButtons()
        self.curve = self.plot.plot(pen=pg.mkPen("#c44e52", width=1.5))
        self.remeasure = QPushButton("Re-measure at grid")
        self.remeasure.setToolTip("Measure the finished network's train and test surfaces again "
                                  "on a finer grid; they appear coarse and sharpen (exact values "
                                  "at every level). Cancel stops it.")
        self.remeasure_grid = QSpinBox()
        self.remeasure_grid.setRange(8, 1024)
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
        texts = QVBoxLayout()
        texts.addWidget(self.status)
        texts.addLayout(again)
        texts.addStretch(1)
        self.body = QBoxLayout(QBoxLayout.TopToBottom)
        self.body.addLayout(texts)
        self.body.addWidget(self.plot, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(top)
        lay.addLayout(self.body, 1)
        for event in (state.events.run, state.events.choice, state.events.result):
            event.connect(self._show_state)
        self._show_state()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Side by side when wide (the curve gets the height), stacked when narrow."""
        wide = event.size().width() > SIDE_BY_SIDE_WIDTH
        self.body.setDirection(QBoxLayout.LeftToRight if wide else QBoxLayout.TopToBottom)
        self.body.setStretch(0, 2 if wide else 0)
        self.body.setStretch(1, 3 if wide else 1)
        super().resizeEvent(event)

    def _show_state(self) -> None:
        st = self.state
        if st.choice.z != self._z:
            self._z = st.choice.z
            self.remeasure_grid.setValue(REMEASURE_GRID.get(self._z, 16))
        self.start.setEnabled(st.start_problem() is None)
        self.cancel.setEnabled(st.running)
        self.remeasure.setEnabled(st.can_remeasure)
        if st.running:
            text, fraction, status = activity_texts(
                st.progress, st.live.config.theorem if st.live is not None else None)
            text = self._whole_run_text() or text
            if fraction is None:
                self.bar.setRange(0, 0)   # busy: the amount of work is not known in advance
            else:
                self.bar.setRange(0, 1000)
                self.bar.setValue(int(fraction * 1000))
        else:
            text, status = outcome_texts(st.progress, st.result)
            self.bar.setRange(0, 1000)
            if st.progress.outcome in ("finished", "remeasured"):
                self.bar.setValue(1000)
            elif not st.progress.outcome:
                self.bar.setValue(0)
        self.bar.setFormat(text)
        self.status.setText(status)
        if st.running != self._eta_tick.isActive():
            (self._eta_tick.start if st.running else self._eta_tick.stop)()
        self._show_curve()

    def _whole_run_text(self, new_progress: bool = True) -> str | None:
        """"phase k of n · what · whole run p % · ETA ~…" for a construction whose phase is in
        the plan (None otherwise: a re-measure, or a phase the plan does not know)."""
        st = self.state
        if st.live is None or st.progress.activity != "construction":
            return None
        now = time.monotonic()
        if st.live.run_id != self._eta_run:
            self._eta_run, self._run_started = st.live.run_id, now
            self.eta.reset()
        where = position(st.progress, st.live.config.theorem)
        if where is None:
            return None
        if new_progress:    # the timer's ticks only count the estimate down
            self.eta.update(now - self._run_started, where[3])
        return whole_run_text(where, self.eta.text(now - self._run_started))

    def _show_bar_text(self) -> None:
        text = self._whole_run_text(new_progress=False) if self.state.running else None
        if text is not None:
            self.bar.setFormat(text)

    def _show_curve(self) -> None:
        run = self.state.live or self.state.result
        title, axis, log = fit_curve_labels(run.config if run is not None
                                            else self.state.choice)
        self._set_curve_texts(axis, None)
        if run is None or not len(run.loss_steps):
            self.curve.setData([], [])
            self._set_curve_texts(axis, title)
            return
        steps, values = run.loss_steps, run.loss_values
        if len(steps) > MAX_CURVE_POINTS:  # keep the line cheap to draw on long runs
            idx = np.linspace(0, len(steps) - 1, MAX_CURVE_POINTS).astype(int)
            steps, values = steps[idx], values[idx]
        if log:   # the regression's loss is positive; a log axis shows its decades
            ok = values > 0
            self.curve.setData(steps[ok], np.log10(values[ok]))
        else:     # MPO's J goes negative: drawn as it is
            self.curve.setData(steps, values)
        stale = " (other settings than chosen now)" if self.state.stale_differences() else ""
        self._set_curve_texts(axis, f"{title} over steps · run {run.run_id}{stale}")

    def _set_curve_texts(self, axis: str, title: str | None) -> None:
        """Set the fit curve's axis label and title only when their text changes: each set
        re-lays out the plot, and at 10 frames a second that was ~30 % of the GUI thread's
        time while the 3-D view rotated (cProfile, scripts/gui_responsiveness.py)."""
        if axis != self._curve_axis:
            self._curve_axis = axis
            self.plot.setLabel("left", axis, **{"font-size": "8pt"})
        if title is not None and title != self._curve_title:
            self._curve_title = title
            self.plot.setTitle(title, size="9pt")
