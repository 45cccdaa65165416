"""Dataset panel: which dataset, its size, a bar chart of its train label marginal and H(pi).

Loading happens on a worker thread (a dataset from disk can take seconds): the panel shows
"loading…", the previous dataset stays current until the new one arrives, and an error is
reported in the panel. Every request has an id; a late result from a superseded request is
dropped.
"""

from __future__ import annotations

import threading
import traceback

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget

from losspattern_core.data.datasets import Dataset, available_datasets, load_dataset
from losspattern_core.errors import LossPatternError

CHOICES = ("digits", "fashion-mnist", "synthetic", "synthetic:marginal=skewed")


class _Relay(QObject):
    """Lives in the GUI thread; the loader thread emits through it (queued delivery)."""

    loaded = Signal(int, str, object)   # request id, spec, Dataset
    failed = Signal(int, str, str)      # request id, spec, message


class DatasetPanel(QWidget):
    """``dataset`` is the loaded Dataset; ``spec()`` the string for ConstructionConfig.

    ``select(spec)`` starts loading and returns at once; ``loading`` says whether a load is
    under way, ``wait()`` joins the loader (tests, window close). ``changed`` fires when a new
    dataset is in place, ``loading_changed(bool)`` when loading starts or ends.
    """

    changed = Signal()
    loading_changed = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dataset: Dataset | None = None
        self._spec = ""
        self._request = 0
        self._pending: str | None = None
        self._threads: list[threading.Thread] = []
        self._relay = _Relay(self)
        self._relay.loaded.connect(self._on_loaded)
        self._relay.failed.connect(self._on_failed)
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
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.combo)
        lay.addWidget(self.status)
        lay.addWidget(self.error)
        lay.addWidget(self.info)
        lay.addWidget(self.chart)

    def spec(self) -> str:
        return self._spec

    @property
    def loading(self) -> bool:
        return self._pending is not None

    def select(self, spec: str) -> bool:
        """Start loading ``spec`` on a worker thread; False if there is nothing to load.

        On failure the panel says why and the previous dataset stays.
        """
        spec = spec.strip()
        if not spec or (spec == self._spec and self._pending is None) or spec == self._pending:
            return bool(spec) and (self.dataset is not None or self._pending is not None)
        self._request += 1
        rid, self._pending = self._request, spec
        self.status.setText(f"loading {spec}…")
        self.status.show()
        self.error.hide()
        self.loading_changed.emit(True)
        relay = self._relay

        def work() -> None:
            try:
                ds = load_dataset(spec)
            except LossPatternError as exc:
                relay.failed.emit(rid, spec, str(exc))
            except Exception as exc:  # a bug or an unexpected file: say so, keep the log
                traceback.print_exc()
                relay.failed.emit(rid, spec, f"{type(exc).__name__}: {exc}")
            else:
                relay.loaded.emit(rid, spec, ds)

        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=work, name=f"dataset-{rid}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return True

    def wait(self, timeout: float = 60.0) -> bool:
        """Join the loader threads (their results still arrive through the event loop)."""
        for t in list(self._threads):
            t.join(timeout)
        return not any(t.is_alive() for t in self._threads)

    def _done_loading(self) -> None:
        self._pending = None
        self.status.hide()
        self.loading_changed.emit(False)

    def _on_loaded(self, rid: int, spec: str, ds: Dataset) -> None:
        if rid != self._request:
            return
        self.dataset, self._spec = ds, spec
        self._done_loading()
        self.error.hide()
        if self.combo.findText(spec) < 0:
            self.combo.addItem(spec)
        self.combo.setCurrentText(spec)
        self._show(ds)
        self.changed.emit()

    def _on_failed(self, rid: int, spec: str, message: str) -> None:
        if rid != self._request:
            return
        self._done_loading()
        self.error.setText(f"could not load {spec}: {message}"
                           + (f" — still using {self._spec}" if self._spec else ""))
        self.error.show()
        self.combo.setEditText(self._spec)

    def _show(self, ds: Dataset) -> None:
        pi = ds.marginal("train")
        self.info.setText(
            f"{len(ds.train_idx)} train / {len(ds.test_idx)} test samples, {ds.n_features} "
            f"features, {ds.classes} classes\nH(π) = {ds.entropy('train'):.4f} nats "
            f"(entropy of the train labels: the lowest cross-entropy any network reaches)")
        self.bars.setOpts(x=np.arange(ds.classes), height=pi, width=0.8)
        self.chart.setXRange(-0.6, ds.classes - 0.4, padding=0)
        self.chart.setYRange(0, float(pi.max()) * 1.15, padding=0)
