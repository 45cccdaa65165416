"""Dataset panel: which dataset, its size, a bar chart of its train label marginal and H(π).

Bound to the state: choosing writes ``dataset`` (the state has it loaded off the GUI thread);
while it loads the panel says "loading…" and the previous dataset stays chosen; a failure is
shown in the panel.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

import losspattern_core as lp

from .. import file_dialogs
from ..captions import dataset_info
from ..state import AppState

CHOICES = ("digits", "fashion-mnist", "synthetic", "synthetic:marginal=skewed")


class DatasetPanel(QWidget):
    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self._shown = None   # the Dataset the info and chart describe
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.addItems(CHOICES)
        self.combo.setToolTip("\n".join(f"{k}: {v}" for k, v in lp.available_datasets().items())
                              + "\nType a spec (mnist:path=/data/mnist) or an .npz path.")
        self.combo.activated.connect(lambda _: self.select(self.combo.currentText()))
        self.combo.lineEdit().editingFinished.connect(
            lambda: self.select(self.combo.currentText()))
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        self.error.hide()
        self.status = QLabel()
        self.status.setStyleSheet("color: #1f3b63; font-style: italic;")
        self.status.hide()
        self.chart = pg.PlotWidget(background="w")
        self.chart.setFixedHeight(90)
        self.chart.setMouseEnabled(False, False)
        self.chart.hideButtons()
        self.chart.setMenuEnabled(False)
        self.chart.getPlotItem().setLabel("bottom", "class (train label share)")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush="#4c72b0")
        self.chart.addItem(self.bars)
        self.browse = QPushButton("Browse…")
        self.browse.setToolTip("Open a dataset file (.npz with arrays X and y)")
        self.browse.clicked.connect(self.open_dialog)
        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        row.addWidget(self.browse)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(row)
        for w in (self.status, self.error, self.info, self.chart):
            lay.addWidget(w)
        state.events.choice.connect(self._show_state)
        state.events.run.connect(lambda: self.setEnabled(not self.state.running))
        self._show_state()

    def select(self, spec: str) -> None:
        """Ask the state for ``spec`` (loads off the GUI thread; returns at once)."""
        self.state.choose(dataset=spec)

    def open_dialog(self) -> None:
        path = file_dialogs.open_file(self, "Open a dataset (.npz)", "NumPy dataset (*.npz)")
        if path:
            self.select(path)

    def spec(self) -> str:
        return self.state.choice.dataset

    def _show_state(self) -> None:
        st = self.state
        self.status.setVisible(st.dataset_loading is not None)
        self.status.setText(f"loading {st.dataset_loading}…" if st.dataset_loading else "")
        self.error.setVisible(bool(st.dataset_error))
        self.error.setText(st.dataset_error)
        if st.dataset_loading is None and self.combo.currentText() != st.choice.dataset:
            if st.choice.dataset and self.combo.findText(st.choice.dataset) < 0:
                self.combo.addItem(st.choice.dataset)
            self.combo.setEditText(st.choice.dataset)
        if st.dataset is not None and st.dataset is not self._shown:
            self._shown = st.dataset
            self._show(st.dataset)

    def _show(self, ds: lp.Dataset) -> None:
        pi = ds.marginal("train")
        self.info.setText(dataset_info(ds))
        self.bars.setOpts(x=np.arange(ds.classes), height=pi, width=0.8)
        self.chart.setXRange(-0.6, ds.classes - 0.4, padding=0)
        self.chart.setYRange(0, float(pi.max()) * 1.15, padding=0)
