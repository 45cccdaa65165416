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
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from losspattern_core.config import ConstructionConfig, validate
from losspattern_core.errors import LossPatternError

from . import messages
from .actions import install_actions
from .controller import Remeasured, RunController, RunResult, target_at
from .panels.dataset import DatasetPanel
from .panels.metrics import MetricsPanel
from .panels.network import NetworkPanel
from .panels.pattern import PatternPanel
from .panels.run import RunPanel
from .resources import icon_svg
from .settings import load_settings, save_settings
from .views.arrays import RGB_SQUASH
from .views.curves import CurvesView
from .views.heatmaps import HeatmapsView
from .views.surface3d import SurfaceView
from .views.volume3d import VolumeView

TAB_HEATMAPS, TAB_3D, TAB_CURVES = "Heatmaps", "3-D surface", "Curves (z = 1)"
TAB_SLICES, TAB_VOLUME = "Slices (z = 3)", "3-D volume"
PREVIEW_GRID = {1: 512, 2: 128, 3: 40}   # the largest grid a target preview is drawn on
REMEASURE_GRID = {1: 1024, 2: 256, 3: 64}


def directions_text(z: int) -> str:
    """Both theorems move single first-layer biases: direction i adds α_i to unit i's bias."""
    alphas = ", ".join(f"α{i + 1}" for i in range(z))
    units = ", ".join(str(i + 1) for i in range(z))
    return f"{alphas} = bias{'es' if z > 1 else ''} of first-layer unit{'s' if z > 1 else ''} " \
           f"{units}"


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
        self.volume3d = VolumeView()
        self.curves = CurvesView()
        self._provenance: dict = {}
        self._base_titles: dict = {}
        self._remeasure_target = None
        self._start_when_ready: list = []
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
        scroll.setMinimumWidth(370)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.heatmaps, TAB_HEATMAPS)
        self.stack3d = QStackedWidget()
        self.stack3d.addWidget(self.surface3d)
        self.stack3d.addWidget(self.volume3d)
        self.tabs.addTab(self.stack3d, TAB_3D)
        self.tabs.addTab(self.curves, TAB_CURVES)
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
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(center)
        self.splitter.addWidget(measured)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([370, 600, 290])
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
        c.level.connect(self._on_level)
        c.remeasured.connect(self._on_remeasured)
        self.run_panel.remeasure.clicked.connect(lambda: self.remeasure())
        self.heatmaps.slice_changed.connect(self.volume3d.set_slice)
        self.heatmaps.minimum_requested.connect(self.volume3d.set_slices)
        self.volume3d.slices_changed.connect(self._volume_slices)
        self.dataset_panel.loading_changed.connect(self._dataset_loading)
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

    def _dataset_loading(self, loading: bool) -> None:
        self._update_start()
        if not loading and self.dataset_panel.dataset is not None:
            waiting, self._start_when_ready = self._start_when_ready, []
            for callback in waiting:
                QTimer.singleShot(0, callback)

    def when_ready(self, callback) -> None:
        """Call ``callback`` once no dataset is loading (now, or when loading ends)."""
        if self.dataset_panel.loading or self.dataset_panel.dataset is None:
            self._start_when_ready.append(callback)
        else:
            callback()

    def _mode_changed(self, z: int, rgb: bool) -> None:
        self.pattern_panel.set_mode(z, rgb)
        self.heatmaps.set_mode(z, rgb)
        self.stack3d.setCurrentWidget(self.volume3d if z >= 3 else self.surface3d)
        self.tabs.setTabText(0, TAB_SLICES if z >= 3 else TAB_HEATMAPS)
        self.tabs.setTabText(1, TAB_VOLUME if z >= 3 else TAB_3D)
        self.tabs.setTabEnabled(0, z >= 2)
        self.tabs.setTabEnabled(1, z >= 2)
        self.tabs.setTabEnabled(2, z == 1)
        self.tabs.setCurrentIndex(2 if z == 1 else (self.tabs.currentIndex() % 2))
        self.run_panel.remeasure_grid.setValue(REMEASURE_GRID.get(z, 16))
        self.refresh_target()
        self._auto_slice()

    def _auto_slice(self) -> None:
        """Until the user moves them, z = 3 slices go through the pattern's minimum."""
        if self.heatmaps.z >= 3 and not self.heatmaps.user_sliced:
            self.heatmaps.slice_through_minimum()

    def view3d(self):
        """The 3-D view of the current mode (surface for z = 2, volume for z = 3)."""
        return self.stack3d.currentWidget()

    def _volume_slices(self, fracs: list) -> None:
        self.heatmaps.user_sliced = True
        axis = self.heatmaps.slice_axis
        if abs(fracs[axis] - self.heatmaps.slice_frac) > 1e-9:
            self.heatmaps.set_slice(None, fracs[axis])

    def _mode_note(self, z: int, rgb: bool) -> str:
        if rgb:
            return f" RGB: three heads, one per channel; {RGB_SQUASH}."
        if z >= 3:
            return (" z = 3: each panel is a slice of the volume; move it with the slice bar "
                    "(the 3-D volume tab shows all three planes).")
        return ""

    def _caption(self, theorem: int, z: int, rgb: bool, pattern: str, low: float, high: float,
                 where: str) -> str:
        shifted = (" Theorem 2 shifts T so that its minimum equals the best training loss the "
                   "network reaches." if theorem == 2 else "")
        return (f"Theorem {theorem} · directions: {directions_text(z)} · target T = "
                f"'{pattern}' in [{low:.3g}, {high:.3g}] nats · measured on {where}; one colour "
                f"scale for target, train and test.{shifted}{self._mode_note(z, rgb)}")

    def _view_suffix(self, theorem: int, z: int, ds_name: str) -> str:
        return f"; Theorem {theorem}, {ds_name}, directions {directions_text(z)}"

    def refresh_target(self) -> None:
        """Show the target for the current settings; measured panels wait for a run."""
        pat, ds = self.pattern_panel.pattern, self.dataset_panel.dataset
        rng = self.pattern_panel.loss_range.range()
        if pat is None or ds is None:
            self._update_start()
            return
        net = self.network_panel.values()
        low, high = rng or (self.pattern_panel.loss_range.low.value(),
                            self.pattern_panel.loss_range.high.value())
        z, rgb = net["z"], pat.channels == 3 and net["z"] == 2
        target = low + (high - low) * pat.grid(min(net["grid"], PREVIEW_GRID.get(z, 12)))
        heads = 3 if rgb else 1
        if self.controller.running or self.result is None or self.result.construction.target.shape \
                != target.shape:
            self.heatmaps.set_loss_range(low, high)
            self.heatmaps.set_array("target", target, heads)
            self.heatmaps.set_title("target", f"target T: {pat.name}"
                                    + (" (RGB image)" if rgb else ""))
            where = f"{ds.name} (train and test splits)"
            self.heatmaps.set_caption(self._caption(net["theorem"], z, rgb, pat.name, low, high,
                                                    where))
            self.view3d().update_data("target", target, heads, self.heatmaps.levels(),
                                      loss_range=(low, high))
            self.curves.set_array("target", target, heads)
            self.curves.set_title(f"z = 1 · Theorem {net['theorem']} · {ds.name}: loss along "
                                  f"direction 1<br>target T '{pat.name}' vs measured train vs "
                                  f"measured test")
            suffix = self._view_suffix(net["theorem"], z, ds.name)
            self.surface3d.set_provenance(suffix)
            self.volume3d.set_provenance(suffix)
            self._auto_slice()
        self.header.setText(
            f"Theorem {net['theorem']} · pattern '{pat.name}' · {net['depth']}×{net['width']} "
            f"{net['activation']} MLP · {ds.name} ({len(ds.train_idx)} train / "
            f"{len(ds.test_idx)} test) · z = {z}{' · RGB (3 heads)' if rgb else ''} · "
            f"grid {net['grid']} · seed {net['seed']}")
        self._update_start()

    def _update_start(self) -> None:
        can = (self.pattern_panel.is_valid() and not self.controller.running
               and self.dataset_panel.dataset is not None and not self.dataset_panel.loading)
        self.run_panel.start.setEnabled(can)
        if "start" in getattr(self, "actions", {}):
            self.actions["start"].setEnabled(can)
        self.run_panel.remeasure.setEnabled(self.result is not None
                                            and not self.controller.running)

    def _update_device(self) -> None:
        self.device_label.setText(f"device: {self.network_panel.device.currentText()}")

    # --- run -----------------------------------------------------------------------------------
    def start_run(self) -> int | None:
        if self.controller.running:
            return None
        if self.dataset_panel.loading or self.dataset_panel.dataset is None:
            self.run_panel.status.setText("the dataset is still loading; start again when it "
                                          "is in place.")
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
            self.view3d().update_data(name, None)
        self._provenance = self._titles(resolved)
        return self.controller.start(cfg, resolved)

    def _titles(self, r) -> dict:
        ds, cfg = r.dataset, r.config
        n = {"train": len(ds.train_idx), "test": len(ds.test_idx)}
        self._base_titles = {s: f"measured {s} loss<br>{cfg.dataset} {s}, {n[s]} samples"
                             for s in ("train", "test")}
        for split in ("train", "test"):
            self.heatmaps.set_title(split, self._base_titles[split])
        rgb = r.heads > 1
        self.heatmaps.set_title("error", "error: train − target"
                                + ("<br>mean of the 3 heads" if rgb else ""))
        low, high = r.loss_range.low, r.loss_range.high
        self.heatmaps.set_caption(self._caption(cfg.theorem, cfg.z, rgb, r.pattern.name, low,
                                                high, f"{cfg.dataset}: every sample of the train "
                                                f"split ({n['train']}) and of the test split "
                                                f"({n['test']})"))
        self.curves.set_labels({"target": "target T",
                                "train": f"measured train ({cfg.dataset} train, {n['train']})",
                                "test": f"measured test ({cfg.dataset} test, {n['test']})"})
        suffix = self._view_suffix(cfg.theorem, cfg.z, cfg.dataset)
        self.surface3d.set_provenance(suffix)
        self.volume3d.set_provenance(suffix)
        return {"dataset": cfg.dataset, "n_train": n["train"], "n_test": n["test"],
                "grid": cfg.grid, "z": cfg.z, "seed": cfg.seed, "theorem": cfg.theorem,
                "directions": directions_text(cfg.z), "heads": r.heads}

    def cancel_run(self) -> None:
        if self.controller.running:
            self.controller.cancel()

    def _on_running(self, running: bool) -> None:
        self.run_panel.set_running(running)
        self.actions["cancel"].setEnabled(running)
        for panel in (self.pattern_panel, self.dataset_panel, self.network_panel):
            panel.setEnabled(not running)
        self._update_start()

    def _on_progress(self, frame) -> None:
        self.run_panel.show_frame(frame)
        rate = frame.step / max(frame.elapsed, 1e-9)
        self.rate_label.setText(f"{rate:.0f} steps/s")
        if frame.phase == "regression":
            text = (f"regression step {frame.step} of {frame.total}, fit loss "
                    f"{frame.reg_loss:.2e}")
        else:
            what = {"baseline": "training the ordinary network for comparison",
                    "classifier": "fitting the data at α* (classifier block)"}.get(
                        frame.phase, frame.phase)
            text = f"{what}: step {frame.step} of {frame.total}, loss {frame.reg_loss:.3g}"
        self.run_panel.status.setText(text + (f" — {frame.message}" if frame.message else ""))

    def _show_surface(self, split: str, arr, heads: int) -> None:
        self.heatmaps.set_array(split, arr, heads)
        self.view3d().update_data(split, arr, heads, self.heatmaps.levels())
        self.curves.set_array(split, arr, heads)

    def _on_surface(self, step: int, arr) -> None:
        cfg = self.controller.config
        heads = 3 if cfg.rgb else 1
        self._show_surface("train", arr, heads)
        self.heatmaps.set_title("train", f"{self._base_titles['train']}, step {step}")

    def _on_phase(self, text: str) -> None:
        self.run_panel.status.setText(text + "…")
        self.statusBar().showMessage(text, 3000)

    def _show_result(self, result: RunResult) -> None:
        con, m = result.construction, result.measurement
        heads = con.heads
        low, high = con.resolved.loss_range.low, con.resolved.loss_range.high
        self.heatmaps.set_loss_range(low, high)
        self.heatmaps.set_array("target", con.target, heads)
        self.heatmaps.set_title("target", f"target T: {con.resolved.pattern.name}"
                                + (" (RGB)" if heads > 1 else "")
                                + f"<br>{con.config.grid}-point grid")
        for split in ("train", "test"):
            self.heatmaps.set_array(split, m.surfaces[split], heads)
            self.curves.set_array(split, m.surfaces[split], heads)
            self.heatmaps.set_title(split, self._base_titles[split])
        self.curves.set_array("target", con.target, heads)
        self._auto_slice()
        self.heatmaps.flush()
        levels = self.heatmaps.levels()
        view = self.view3d()
        view.update_data("target", con.target, heads, levels, loss_range=(low, high))
        for split in ("train", "test"):
            view.update_data(split, m.surfaces[split], heads, levels, loss_range=(low, high))

    def _on_finished(self, result: RunResult) -> None:
        self.result = result
        self._show_result(result)
        self.metrics_panel.show_metrics(result.metrics, self._provenance)
        tr, te = result.metrics["train"], result.metrics["test"]
        text = (f"done in {result.seconds:.1f} s: train PSNR {tr['psnr_db']:.1f} dB, "
                f"test PSNR {te['psnr_db']:.1f} dB")
        t2 = result.metrics.get("theorem2", {}).get("at_alpha_star")
        if t2:
            text += f", train accuracy at α* {100 * t2['train_accuracy']:.1f} %"
        self.run_panel.show_done(f"done in {result.seconds:.1f} s", result.seconds)
        self.run_panel.status.setText(text + ". Export it with Ctrl+E.")
        self.statusBar().showMessage("construction finished", 5000)
        self._update_start()

    # --- re-measure at a finer grid (progressive refinement) -----------------------------------
    def remeasure(self, grid: int | None = None) -> int | None:
        """Measure the finished network again on a ``grid``^z grid, coarse to fine."""
        if self.result is None or self.controller.running:
            return None
        con = self.result.construction
        grid = int(grid or self.run_panel.remeasure_grid.value())
        self._remeasure_grid = grid
        self._remeasure_target = target_at(con, grid)
        heads = con.heads
        self.heatmaps.set_array("target", self._remeasure_target, heads)
        self.heatmaps.set_title("target", f"target T: {con.resolved.pattern.name}<br>"
                                          f"{grid}-point grid")
        self.curves.set_array("target", self._remeasure_target, heads)
        self.view3d().update_data("target", self._remeasure_target, heads)
        self.run_panel.reset()
        self.run_panel.bar.setFormat(f"re-measuring at grid {grid}…")
        self.run_panel.bar.setRange(0, 0)  # busy: levels have no fixed count in advance
        return self.controller.remeasure(con, grid)

    def _on_level(self, split: str, size: int, arr) -> None:
        if self.controller.kind == "remeasure":
            heads = self.result.construction.heads if self.result is not None else 1
        else:  # a run's own final measurement, coarse to fine
            heads = 3 if getattr(self.controller.config, "rgb", False) else 1
        self._show_surface(split, arr, heads)
        grid = (getattr(self, "_remeasure_grid", size) if self.controller.kind == "remeasure"
                else self.controller.config.grid)
        note = "" if size == grid else f", level {size}"
        self.heatmaps.set_title(split, f"{self._base_titles.get(split, split)}<br>grid {grid}"
                                       f"{note}")
        self.run_panel.status.setText(f"{split} surface: {size}-point level of {grid} "
                                      f"(exact at every level)")

    def _on_remeasured(self, r: Remeasured) -> None:
        self.run_panel.bar.setRange(0, 1000)
        self.run_panel.show_done(f"re-measured at grid {r.grid} in {r.seconds:.1f} s", r.seconds)
        heads = self.result.construction.heads if self.result is not None else 1
        for split, arr in r.surfaces.items():
            self._show_surface(split, arr, heads)
            self.heatmaps.set_title(split, f"{self._base_titles.get(split, split)}<br>grid "
                                           f"{r.grid}")
        self.heatmaps.flush()
        z = self.result.construction.config.z if self.result is not None else 2
        lines = [f"{s}: PSNR {f['psnr_db']:.2f} dB, NRMSE {f['nrmse']:.4f}, max error "
                 f"{f['max_error']:.4f} (every {s} sample, {r.grid}<sup>{z}</sup> grid)"
                 for s, f in r.fidelity.items()]
        self.metrics_panel.set_extra(f"Re-measured on a {r.grid}-point grid "
                                     f"({r.seconds:.1f} s)", lines)
        self.run_panel.status.setText(
            f"re-measured at grid {r.grid}: " + ", ".join(
                f"{s} PSNR {f['psnr_db']:.1f} dB" for s, f in r.fidelity.items())
            + ". Exports still hold the run's own grid.")
        self._update_start()

    def _on_failed(self, message: str) -> None:
        self.run_panel.bar.setRange(0, 1000)
        self.run_panel.show_done("failed")
        self.run_panel.status.setText("failed: " + message)
        messages.error(self, "The construction failed", message)
        self._update_start()

    def _on_cancelled(self) -> None:
        self.run_panel.bar.setRange(0, 1000)
        self.rate_label.setText("")
        if self.controller.kind == "remeasure" and self.result is not None:
            self._show_result(self.result)  # back to the run's own measurement
            self.run_panel.show_done("re-measure cancelled")
            self.run_panel.status.setText("re-measure cancelled: showing the run's own grid.")
            self._update_start()
            return
        self.run_panel.show_done("cancelled")
        self.run_panel.status.setText("cancelled: nothing was kept.")
        self.metrics_panel.clear("cancelled")
        self._update_start()

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
        self.dataset_panel.wait(30)
        save_settings(self, self.settings)
        super().closeEvent(event)
