"""The main window: panels on the left, views in tabs, run and metrics below; wiring only."""

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
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from losspattern_core.config import ConstructionConfig, validate
from losspattern_core.errors import LossPatternError

from . import messages
from .actions import install_actions
from .controller import RunController, RunResult
from .panels.dataset import DatasetPanel
from .panels.metrics import MetricsPanel
from .panels.network import NetworkPanel
from .panels.pattern import PatternPanel
from .panels.run import RunPanel
from .resources import icon_svg
from .settings import load_settings, save_settings
from .views.curves import CurvesView
from .views.heatmaps import HeatmapsView
from .views.surface3d import SurfaceView

TAB_HEATMAPS, TAB_3D, TAB_CURVES = "Heatmaps", "3-D surface", "Curves (z = 1)"


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
        self.result: RunResult | None = None
        self.controller = RunController(self)
        self.pattern_panel = PatternPanel()
        self.dataset_panel = DatasetPanel()
        self.network_panel = NetworkPanel()
        self.run_panel = RunPanel()
        self.metrics_panel = MetricsPanel()
        self.heatmaps = HeatmapsView()
        self.surface3d = SurfaceView()
        self.curves = CurvesView()
        self._build_layout()
        self.actions = install_actions(self)
        self._build_status()
        self._wire()
        self.setAcceptDrops(True)
        self.dataset_panel.select("digits")
        self.pattern_panel.select("mountains")
        if restore:
            load_settings(self, self.settings)
        self._mode_changed(self.network_panel.z.value(), self.network_panel.rgb.isChecked())
        self.refresh_target()

    # --- layout ------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(2, 2, 2, 2)
        ll.addWidget(_group("Pattern", self.pattern_panel))
        ll.addWidget(_group("Dataset", self.dataset_panel))
        ll.addWidget(_group("Network and run", self.network_panel))
        ll.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(400)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.heatmaps, TAB_HEATMAPS)
        self.tabs.addTab(self.surface3d, TAB_3D)
        self.tabs.addTab(self.curves, TAB_CURVES)
        self.header = QLabel()
        self.header.setStyleSheet("font-weight: bold; padding: 2px;")
        self.header.setWordWrap(True)
        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.header)
        tl.addWidget(self.tabs, 1)
        bottom = QSplitter(Qt.Horizontal)
        bottom.addWidget(_group("Run", self.run_panel))
        bottom.addWidget(_group("Measured", self.metrics_panel))
        bottom.setSizes([470, 530])
        right = QSplitter(Qt.Vertical)
        right.addWidget(top)
        right.addWidget(bottom)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        right.setSizes([620, 250])
        self.splitter = QSplitter(Qt.Horizontal)
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([420, 900])
        self.setCentralWidget(self.splitter)
        self.resize(1260, 920)

    def _build_status(self) -> None:
        self.device_label = QLabel()
        self.rate_label = QLabel("")
        self.statusBar().addPermanentWidget(self.rate_label)
        self.statusBar().addPermanentWidget(self.device_label)
        self._update_device()

    def _wire(self) -> None:
        c = self.controller
        c.progress.connect(self._on_progress)
        c.losses.connect(self.run_panel.show_losses)
        c.surface.connect(self._on_surface)
        c.phase.connect(self._on_phase)
        c.finished.connect(self._on_finished)
        c.failed.connect(self._on_failed)
        c.cancelled.connect(self._on_cancelled)
        c.running_changed.connect(self._on_running)
        self.run_panel.start.clicked.connect(self.start_run)
        self.run_panel.cancel.clicked.connect(self.cancel_run)
        self.dataset_panel.changed.connect(self._dataset_changed)
        self.pattern_panel.changed.connect(self.refresh_target)
        self.network_panel.changed.connect(self.refresh_target)
        self.network_panel.changed.connect(self._update_device)
        self.network_panel.mode_changed.connect(self._mode_changed)

    # --- settings -> config --------------------------------------------------------------------
    def config(self) -> ConstructionConfig:
        net = self.network_panel.values()
        rng = self.pattern_panel.loss_range.range()
        image = self.pattern_panel._kind != "function"
        return ConstructionConfig(
            pattern=self.pattern_panel.spec(), dataset=self.dataset_panel.spec(),
            loss_range=rng, smooth=self.pattern_panel.smooth.value() if image else None,
            snapshot_every=max(10, net["steps"] // 20), **net)

    def _dataset_changed(self) -> None:
        ds = self.dataset_panel.dataset
        self.pattern_panel.loss_range.set_floor(ds.entropy("train"),
                                                f"{self.dataset_panel.spec()} train labels")
        self.refresh_target()

    def _mode_changed(self, z: int, rgb: bool) -> None:
        self.pattern_panel.set_mode(z, rgb)
        self.tabs.setTabEnabled(0, z >= 2)
        self.tabs.setTabEnabled(1, z >= 2)
        self.tabs.setTabEnabled(2, z == 1)
        self.tabs.setCurrentIndex(2 if z == 1 else (self.tabs.currentIndex() % 2))
        self.refresh_target()

    def refresh_target(self) -> None:
        """Show the target for the current settings; measured panels wait for a run."""
        pat, ds = self.pattern_panel.pattern, self.dataset_panel.dataset
        rng = self.pattern_panel.loss_range.range()
        if pat is None or ds is None:
            return
        net = self.network_panel.values()
        low, high = rng or (self.pattern_panel.loss_range.low.value(),
                            self.pattern_panel.loss_range.high.value())
        target = low + (high - low) * pat.grid(min(net["grid"], 128))
        heads = 3 if pat.channels == 3 else 1
        if self.controller.running or self.result is None or self.result.construction.target.shape \
                != target.shape:
            self.heatmaps.set_loss_range(low, high)
            self.heatmaps.set_array("target", target, heads)
            self.heatmaps.set_title("target", f"target T: {pat.name}, [{low:g}, {high:g}] nats"
                                    + (" (mean of RGB heads)" if heads > 1 else "")
                                    + self._slice_note(net["z"]))
            self.surface3d.update_data("target", target, heads, self.heatmaps.levels())
            self.curves.set_array("target", target, heads)
        self.header.setText(
            f"Theorem {net['theorem']} · pattern '{pat.name}' · {net['depth']}×{net['width']} "
            f"{net['activation']} MLP · {ds.name} ({len(ds.train_idx)} train / "
            f"{len(ds.test_idx)} test) · z = {net['z']} · grid {net['grid']} · seed {net['seed']}")
        can = self.pattern_panel.is_valid() and not self.controller.running
        self.run_panel.start.setEnabled(can)
        self.actions["start"].setEnabled(can)

    @staticmethod
    def _slice_note(z: int) -> str:
        if z < 3:
            return ""
        return ", slice at α3 = 0.5" if z == 3 else f", slice at α3..α{z} = 0.5"

    def _update_device(self) -> None:
        self.device_label.setText(f"device: {self.network_panel.device.currentText()}")

    # --- run -----------------------------------------------------------------------------------
    def start_run(self) -> int | None:
        if self.controller.running:
            return None
        if not self.pattern_panel.is_valid():
            messages.error(self, "Cannot start", "The loss range is impossible for this "
                           "dataset; see the message under the loss fields.")
            return None
        cfg = self.config()
        try:
            resolved = validate(cfg, dataset=self.dataset_panel.dataset,
                                pattern=self.pattern_panel.pattern)
        except LossPatternError as exc:
            messages.error(self, "Cannot start", str(exc))
            return None
        self.result = None
        self.run_panel.reset()
        self.metrics_panel.clear("running…")
        self.heatmaps.clear_measured()
        self.curves.clear_measured()
        for name in ("train", "test"):
            self.surface3d.update_data(name, None)
        self._provenance = self._titles(resolved)
        return self.controller.start(cfg, resolved)

    def _titles(self, r) -> dict:
        ds, cfg = r.dataset, r.config
        n = {"train": len(ds.train_idx), "test": len(ds.test_idx)}
        self._base_titles = {s: f"measured {s} loss ({cfg.dataset}, {n[s]} samples)"
                                + self._slice_note(cfg.z) for s in ("train", "test")}
        for split in ("train", "test"):
            self.heatmaps.set_title(split, self._base_titles[split])
        self.heatmaps.set_title("error", "error: measured train − target")
        return {"dataset": cfg.dataset, "n_train": n["train"], "n_test": n["test"],
                "grid": cfg.grid, "z": cfg.z, "seed": cfg.seed, "theorem": cfg.theorem,
                "directions": "bias 0.." + str(cfg.z - 1) + " of layer 0" if cfg.theorem == 1
                else "dense"}

    def cancel_run(self) -> None:
        if self.controller.running:
            self.controller.cancel()

    def _on_running(self, running: bool) -> None:
        self.run_panel.set_running(running)
        self.actions["start"].setEnabled(not running and self.pattern_panel.is_valid())
        self.actions["cancel"].setEnabled(running)
        for panel in (self.pattern_panel, self.dataset_panel, self.network_panel):
            panel.setEnabled(not running)

    def _on_progress(self, frame) -> None:
        self.run_panel.show_frame(frame)
        rate = frame.step / max(frame.elapsed, 1e-9)
        self.rate_label.setText(f"{rate:.0f} steps/s")
        self.run_panel.status.setText(f"regression step {frame.step} of {frame.total}, fit "
                                      f"loss {frame.reg_loss:.2e}")

    def _on_surface(self, step: int, arr) -> None:
        cfg = self.controller.config
        heads = 3 if cfg.rgb else 1
        self.heatmaps.set_array("train", arr, heads)
        self.heatmaps.set_title("train", f"{self._base_titles['train']}, step {step}")
        self.surface3d.update_data("train", arr, heads, self.heatmaps.levels())
        self.curves.set_array("train", arr, heads)

    def _on_phase(self, text: str) -> None:
        self.run_panel.status.setText(text + "…")
        self.statusBar().showMessage(text, 3000)

    def _on_finished(self, result: RunResult) -> None:
        self.result = result
        con, m = result.construction, result.measurement
        heads = con.heads
        self.heatmaps.set_array("target", con.target, heads)
        for split in ("train", "test"):
            self.heatmaps.set_array(split, m.surfaces[split], heads)
            self.curves.set_array(split, m.surfaces[split], heads)
        self.heatmaps.set_title("train", self._base_titles["train"])
        levels = self.heatmaps.levels()
        self.surface3d.update_data("target", con.target, heads, levels)
        for split in ("train", "test"):
            self.surface3d.update_data(split, m.surfaces[split], heads, levels)
        self.metrics_panel.show_metrics(result.metrics, self._provenance)
        tr, te = result.metrics["train"], result.metrics["test"]
        text = (f"done in {result.seconds:.1f} s: train PSNR {tr['psnr_db']:.1f} dB, "
                f"test PSNR {te['psnr_db']:.1f} dB")
        self.run_panel.show_done(f"done in {result.seconds:.1f} s", result.seconds)
        self.run_panel.status.setText(text + ". Export it with Ctrl+E.")
        self.statusBar().showMessage("construction finished", 5000)

    def _on_failed(self, message: str) -> None:
        self.run_panel.show_done("failed")
        self.run_panel.status.setText("failed: " + message)
        messages.error(self, "The construction failed", message)

    def _on_cancelled(self) -> None:
        self.run_panel.show_done("cancelled")
        self.run_panel.status.setText("cancelled: nothing was kept.")
        self.metrics_panel.clear("cancelled")
        self.rate_label.setText("")

    # --- drag and drop -------------------------------------------------------------------------
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

    def open_image(self, path: str | Path) -> bool:
        if self.controller.running:
            return False
        return self.pattern_panel.load_image(path)

    # --- closing -------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        self.controller.shutdown()
        save_settings(self, self.settings)
        super().closeEvent(event)
