"""The main window: the views in the middle, the panels in dock widgets around them; layout
and wiring only.

Everything the window shows lives in ``self.state`` (``app/state.py``): panels write it, views
observe it, ``self.session`` turns Start / Cancel / Re-measure into runs on the controller.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QVBoxLayout, QWidget

from . import messages
from .actions import install_actions
from .captions import header
from .controller import RunController
from .docks import arrange, fit_to_screen, make_dock
from .explore_mode.dock import install_explore
from .input_guards import ShortcutKeeper, WheelGuard
from .loaders import ThreadedDatasetLoader
from .opened_run import opened_caption
from .opening import install_opening
from .panels.dataset import DatasetPanel
from .panels.history import HistoryPanel
from .panels.metrics import MetricsPanel
from .panels.network import NetworkPanel
from .panels.pattern import PatternPanel
from .panels.run import RunPanel
from .resources import icon_svg
from .run_recording import RunRecorder
from .session import RunSession
from .settings import load_settings, save_settings
from .state import AppState
from .views.tabs import ViewTabs


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
        self.history_panel = HistoryPanel(st)
        self.recording = RunRecorder(st)   # the run's snapshots, for the forming animation
        self.heatmaps, self.curves = self.tabs.heatmaps, self.tabs.curves
        self.surface3d = self.tabs.surface3d
        self._ready_callbacks = []
        self.actions = install_actions(self)
        self.opening = install_opening(self)   # File → Open bundle…, Open Recent; drops
        self._build_layout()
        self._wire()
        self.explore = install_explore(self)   # explore mode: a dock of its own, hidden
        self.setAcceptDrops(True)
        st.choose(dataset="digits")
        fit_to_screen(self, restore and load_settings(self, self.settings))
        self._sync()

    # --- layout ------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        self.header = QLabel()
        self.header.setStyleSheet("font-weight: bold; padding: 2px;")
        self.header.setWordWrap(True)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.header)
        tl.addWidget(self.tabs, 1)
        self.setCentralWidget(top)
        self.setDockOptions(QMainWindow.AnimatedDocks | QMainWindow.AllowTabbedDocks
                            | QMainWindow.AllowNestedDocks)
        panels = {"Pattern": self.pattern_panel, "Dataset": self.dataset_panel,
                  "Network and run": self.network_panel, "Run": self.run_panel,
                  "Measured": self.metrics_panel, "Runs": self.history_panel}
        unscrolled = ("Run", "Measured", "Runs")   # they shrink (plot, text, table) instead
        self.docks = {title: make_dock(self, title, panel, scroll=title not in unscrolled)
                      for title, panel in panels.items()}
        arrange(self, self.docks)
        self.wheel_guard = WheelGuard(self)
        for panel in panels.values():
            self.wheel_guard.guard(panel)
        self.device_label, self.rate_label = QLabel(), QLabel()
        for label in (self.rate_label, self.device_label):
            self.statusBar().addPermanentWidget(label)

    def _wire(self) -> None:
        st, rp = self.state, self.run_panel
        rp.start.clicked.connect(self.start_run)
        rp.cancel.clicked.connect(self.cancel_run)
        rp.remeasure.clicked.connect(lambda: self.remeasure())
        for event in (st.events.choice, st.events.shown, st.events.run):
            event.connect(self._sync)
        self.controller.finished.connect(
            lambda r: self.statusBar().showMessage(
                "multi-point optimisation finished" if r.construction.config.theorem == "mpo"
                else "construction finished", 5000))
        self.shortcut_keeper = ShortcutKeeper([a.shortcut() for a in self.actions.values()],
                                              self)
        QApplication.instance().installEventFilter(self.shortcut_keeper)

    def _sync(self) -> None:
        """Header, status bar, and the callbacks waiting for a dataset."""
        st = self.state
        name = st.pattern.name if st.pattern is not None else st.choice.pattern
        self.header.setText(header(st.choice, name, st.dataset, st.shown) + opened_caption(st))
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

    @property
    def volume3d(self):
        """The 3-D volume view (z = 3), built on first use."""
        return self.tabs.volume3d

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
            QTimer.singleShot(0, lambda: self.opening.open_dropped(path))

    def _may_close(self) -> bool:
        """Ask before losing work: a run under way, or finished runs that were not exported."""
        runs = self.state.runs
        lost = (["a run is under way (closing stops it)"] if self.state.running else []) + (
            ["an explore run is under way (closing stops it)"]
            if self.explore.running else []) + (
            [f"run(s) {', '.join(map(str, runs.unsaved()))} not exported"]
            if runs.unsaved() else [])
        return not lost or messages.confirm(
            self, "Close LossPattern?", "Closing loses: " + "; ".join(lost) + ". Close anyway?")

    def closeEvent(self, event) -> None:
        if not self._may_close():
            event.ignore()
            return
        QApplication.instance().removeEventFilter(self.shortcut_keeper)
        self.controller.shutdown()
        self.explore.shutdown()
        self.metrics_panel.analysis.shutdown()
        self.loader.wait(30)
        self.opening.wait(30)
        save_settings(self, self.settings)
        super().closeEvent(event)
