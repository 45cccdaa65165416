"""Dataset panel: which dataset, its size, a bar chart of its train label marginal and H(pi)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from losspattern_core.datasets import Dataset, available_datasets, load_dataset
from losspattern_core.errors import LossPatternError

CHOICES = ("digits", "fashion-mnist", "synthetic", "synthetic:marginal=skewed")


class DatasetPanel(QWidget):
    """``dataset`` is the loaded Dataset; ``spec()`` the string for ConstructionConfig."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self._spec = ""
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.addItems(CHOICES)
        self.combo.setToolTip("\n".join(f"{k}: {v}" for k, v in available_datasets().items())
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
        self.chart = pg.PlotWidget(background="w")
        self.chart.setFixedHeight(90)
        self.chart.setMouseEnabled(False, False)
        self.chart.hideButtons()
        self.chart.setMenuEnabled(False)
        self.chart.getPlotItem().setLabel("bottom", "class (train label share)")
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.8, brush="#4c72b0")
        self.chart.addItem(self.bars)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.combo)
        lay.addWidget(self.error)
        lay.addWidget(self.info)
        lay.addWidget(self.chart)

    def spec(self) -> str:
        return self._spec

    def select(self, spec: str) -> bool:
        """Load a dataset; on failure say why and keep the previous one."""
        spec = spec.strip()
        if not spec or spec == self._spec:
            return self.dataset is not None
        try:
            ds = load_dataset(spec)
        except LossPatternError as exc:
            self.error.setText(str(exc))
            self.error.show()
            self.combo.setEditText(self._spec)
            return False
        self.error.hide()
        self.dataset, self._spec = ds, spec
        if self.combo.findText(spec) < 0:
            self.combo.addItem(spec)
        self.combo.setCurrentText(spec)
        self._show(ds)
        self.changed.emit()
        return True

    def _show(self, ds: Dataset) -> None:
        pi = ds.marginal("train")
        self.info.setText(
            f"{len(ds.train_idx)} train / {len(ds.test_idx)} test samples, {ds.n_features} "
            f"features, {ds.classes} classes\nH(π) = {ds.entropy('train'):.4f} nats "
            f"(entropy of the train labels: the lowest cross-entropy any network reaches)")
        self.bars.setOpts(x=np.arange(ds.classes), height=pi, width=0.8)
        self.chart.setXRange(-0.6, ds.classes - 0.4, padding=0)
        self.chart.setYRange(0, float(pi.max()) * 1.15, padding=0)
