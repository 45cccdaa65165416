"""The main window: panels on the left, views in tabs, run and metrics below; layout and wiring.

Everything the window shows lives in ``self.state`` (``app/state.py``): panels write it, views
observe it, ``self.session`` turns Start / Cancel / Re-measure into runs on the controller.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QGroupBox,
    QLabel,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from . import messages
from .actions import install_actions
from .captions import header
from .controller import RunController
from .loaders import ThreadedDatasetLoader
from .panels.dataset import DatasetPanel
from .panels.metrics import MetricsPanel
from .panels.network import NetworkPanel
from .panels.pattern import PatternPanel
from .panels.run import RunPanel
from .resources import icon_svg
from .session import RunSession
from .settings import load_settings, save_settings
from .state import AppState
from .views.tabs import ViewTabs


def _group(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    lay = QVBoxLayout(box)
    lay.setContentsMargins(4, 8, 4, 4)
    lay.addWidget(widget)
    return box


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, restore: bool = True):
        super().__init__()
        self.setWindowTitle("LossPattern — draw a pattern into a loss surface")
        if icon_svg().exists():
            self.setWindowIcon(QIcon(str(icon_svg())))
        self.settings = settings if settings is not None else QSettings()
        self.loader = ThreadedDatasetLoader(self)
        self.state = st = AppState(load_dataset=self.loader)
        self.controller = RunController(self)
        self.session = RunSession(st, self.controller,
                                  lambda title, text: messages.error(self, title, text))
        self.pattern_panel, self.dataset_panel = PatternPanel(st), DatasetPanel(st)
        self.network_panel, self.run_panel = NetworkPanel(st), RunPanel(st)
        self.metrics_panel, self.tabs = MetricsPanel(st), ViewTabs(st)
        self.heatmaps, self.curves = self.tabs.heatmaps, self.tabs.curves
        self.surface3d, self.volume3d = self.tabs.surface3d, self.tabs.volume3d
        self._ready_callbacks = []
        self._build_layout()
        self.actions = install_actions(self)
        self._wire()
        self.setAcceptDrops(True)
        st.choose(dataset="digits")
        if restore:
            load_settings(self, self.settings)
        self._sync()

    # --- layout ------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(2, 2, 2, 2)
        for title, panel in (("Pattern", self.pattern_panel), ("Dataset", self.dataset_panel),
                             ("Network and run", self.network_panel)):
            ll.addWidget(_group(title, panel))
        ll.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(370)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.header = QLabel()
        self.header.setStyleSheet("font-weight: bold; padding: 2px;")
        self.header.setWordWrap(True)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.header)
        tl.addWidget(self.tabs, 1)
        center = QSplitter(Qt.Vertical)
        center.addWidget(top)
        center.addWidget(_group("Run", self.run_panel))
        center.setStretchFactor(0, 3)
        center.setStretchFactor(1, 1)
        center.setSizes([600, 260])
        measured = _group("Measured", self.metrics_panel)
        measured.setMinimumWidth(260)
        self.splitter = QSplitter(Qt.Horizontal)
        for widget in (scroll, center, measured):
            self.splitter.addWidget(widget)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([370, 600, 290])
        self.setCentralWidget(self.splitter)
        self.device_label, self.rate_label = QLabel(), QLabel()
        for label in (self.rate_label, self.device_label):
            self.statusBar().addPermanentWidget(label)
        self.resize(1260, 920)

    def _wire(self) -> None:
        st, rp = self.state, self.run_panel
        rp.start.clicked.connect(self.start_run)
        rp.cancel.clicked.connect(self.cancel_run)
        rp.remeasure.clicked.connect(lambda: self.remeasure())
        for event in (st.events.choice, st.events.shown, st.events.run):
            event.connect(self._sync)
        self.controller.finished.connect(
            lambda _: self.statusBar().showMessage("construction finished", 5000))

    def _sync(self) -> None:
        """Header, status bar, and the callbacks waiting for a dataset."""
        st = self.state
        name = st.pattern.name if st.pattern is not None else st.choice.pattern
        self.header.setText(header(st.choice, name, st.dataset, st.shown))
        self.device_label.setText(f"device: {st.choice.device}")
        frame = st.progress.frame if st.running else None
        self.rate_label.setText(f"{frame.step / max(frame.elapsed, 1e-9):.0f} steps/s"
                                if frame is not None else "")
        if st.ready and self._ready_callbacks:
            waiting, self._ready_callbacks = self._ready_callbacks, []
            for callback in waiting:
                QTimer.singleShot(0, callback)

    # --- what menus, buttons, the command line and tests call --------------------------------
    @property
    def result(self):
        """The finished run (a ``records.Run``: construction, measurement, metrics)."""
        return self.state.result

    def start_run(self) -> int | None:
        return self.session.start()

    def cancel_run(self) -> None:
        self.session.cancel()

    def remeasure(self, grid: int | None = None) -> int | None:
        return self.session.remeasure(grid or self.run_panel.remeasure_grid.value())

    def when_ready(self, callback) -> None:
        """Call ``callback`` once a dataset is in place and none is loading."""
        if self.state.ready:
            callback()
        else:
            self._ready_callbacks.append(callback)

    def view3d(self):
        """The 3-D view of the current mode (surface for z = 2, volume for z = 3)."""
        return self.tabs.view3d()

    def open_image(self, path: str | Path) -> bool:
        return False if self.state.running else self.pattern_panel.load_image(path)

    def dragEnterEvent(self, event) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if len(urls) == 1 and urls[0].isLocalFile():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            path = urls[0].toLocalFile()
            QTimer.singleShot(0, lambda: self.open_image(path))

    def closeEvent(self, event) -> None:
        self.controller.shutdown()
        self.loader.wait(30)
        save_settings(self, self.settings)
        super().closeEvent(event)
