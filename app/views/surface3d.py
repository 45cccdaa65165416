"""The 3-D surface tab: a SurfaceScene canvas plus "show" and colormap choosers.

Used on its own, the view shows what ``update_data`` gives it. Bound to the state (``bind``),
it observes ``state.shown`` (arrays, colour levels, provenance: the same as the heatmaps') and
``state.view`` (source, colormap), and its choosers write ``state.view``. Repaints are
throttled (mesh updates cost ~60 ms on a software renderer): new data is kept and applied by
a timer at most every PAINT_3D_MS, and not while the camera moves (CameraIdle): data that
arrives during a drag waits, and the newest of it is applied once the camera has rested.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ..captions import view3d_provenance
from .arrays import argmin_xy, plane, rgb_composite
from .camera_idle import CameraIdle
from .surface_scene import COLORMAPS, SurfaceScene

PAINT_3D_MS = 150
SOURCES = ("target", "train", "test")
SOURCE_LABELS = {"target": "target T", "train": "measured train loss",
                 "test": "measured test loss"}


def use_qt_backend() -> None:
    """Select vispy's PySide6 backend (once per process, before any canvas exists)."""
    import vispy

    vispy.use(app="pyside6")


class GLView(QWidget):
    """What the 3-D views share: a vispy canvas wrapper, throttled redraws, offscreen render,
    the per-source arrays and the "Show" / "Colours" choosers."""

    def _init_gl(self, scene) -> None:
        use_qt_backend()
        self.scene = scene
        self.state = None
        self.arrays: dict[str, np.ndarray | None] = dict.fromkeys(SOURCES)
        self.levels = (0.0, 1.0)
        self.provenance = ""
        self.source = QComboBox()
        self.source.addItems([SOURCE_LABELS[s] for s in SOURCES])
        self.source.setCurrentIndex(1)
        self.source.currentIndexChanged.connect(self._source_chosen)
        self.cmap = QComboBox()
        self.cmap.addItems(COLORMAPS)
        self.cmap.currentTextChanged.connect(self._colormap_chosen)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PAINT_3D_MS)
        self._timer.timeout.connect(self._paint_due)
        # data held back while the camera moves: drawn frames go to the rotation, the newest
        # data is applied when the camera rests
        self._held = False
        self.camera_idle = CameraIdle(scene, self._camera_rested, parent=self)
        self._drawn = False
        self.scene.canvas.events.draw.connect(self._on_draw)

    def _on_draw(self, event=None) -> None:
        self._drawn = True

    # --- the state -----------------------------------------------------------------------------
    def bind(self, state) -> None:
        """Observe ``state`` from now on (and write the choosers' values into it)."""
        self.state = state
        state.events.shown.connect(self._sync)
        state.events.view.connect(self._sync)
        self._sync()

    def accepts(self, z: int) -> bool:  # pragma: no cover - overridden
        """Whether this view draws surfaces of dimension ``z``."""
        raise NotImplementedError

    def _sync(self) -> None:
        shown, view = self.state.shown, self.state.view
        for combo, text in ((self.source, SOURCE_LABELS.get(view.source3d, "")),
                            (self.cmap, view.colormap)):
            if combo.findText(text) >= 0 and combo.currentText() != text:
                combo.blockSignals(True)
                combo.setCurrentText(text)
                combo.blockSignals(False)
        if self.scene.cmap_name != view.colormap and view.colormap in COLORMAPS:
            self.scene.set_colormap(view.colormap)
        self.provenance = view3d_provenance(shown)
        ok = self.accepts(shown.z)
        for name in SOURCES:
            self.update_data(name, shown.array(name) if ok else None, shown.heads,
                             shown.levels, loss_range=shown.loss_range)
        self._sync_view(view)

    def _sync_view(self, view) -> None:
        """What a subclass takes from the view settings besides source and colormap."""

    def _source_chosen(self, _=None) -> None:
        if self.state is not None:
            self.state.set_view(source3d=self.current_source())
        self._schedule()

    def _colormap_chosen(self, name: str) -> None:
        if self.state is not None:
            self.state.set_view(colormap=name)
        else:
            self.scene.set_colormap(name)

    def _choosers(self) -> QHBoxLayout:
        """The "Show: [source]  Colours: [colormap]" bar; callers append their own widgets."""
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Show:"))
        bar.addWidget(self.source)
        bar.addWidget(QLabel("Colours:"))
        bar.addWidget(self.cmap)
        return bar

    def current_source(self) -> str:
        return SOURCES[self.source.currentIndex()]

    def set_source(self, name: str) -> None:
        self.source.setCurrentIndex(SOURCES.index(name))

    def _shown(self) -> tuple[str, np.ndarray | None]:
        """The chosen source and its array; the target until a measured one exists."""
        name = self.current_source()
        if self.arrays[name] is None and name != "target":
            name = "target"
        return name, self.arrays[name]

    def _schedule(self) -> None:
        if not self.isVisible():   # a hidden tab: nothing drawn until it is shown
            self._pending = True
            return
        if not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if getattr(self, "_pending", False):
            self._pending = False
            self._schedule()

    def flush(self) -> None:
        """Apply pending data now (before an export), moving camera or not."""
        self._timer.stop()
        self._held = False
        self._apply()

    @property
    def holding_data(self) -> bool:
        """Whether data that arrived is waiting for the camera to rest."""
        return self._held

    def _paint_due(self) -> None:
        # a view that shows nothing yet takes its first data at once, moving or not
        if self.camera_idle.moving and self.scene.data is not None:
            self._held = True
            return
        self._apply()

    def _camera_rested(self) -> None:
        if self._held:
            self._held = False
            if self.isVisible():
                self._apply()
            else:
                self._pending = True

    def _apply(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _wait_first_draw(self, timeout_s: float = 2.0) -> None:
        """A just-shown GL widget creates its context on its first paint: wait for it."""
        import time

        end = time.monotonic() + timeout_s
        QApplication.processEvents()
        while not self._drawn and time.monotonic() < end and self.isVisible():
            self.scene.canvas.update()
            QApplication.processEvents()
            time.sleep(0.01)

    def render(self, size: tuple[int, int]) -> np.ndarray:
        """Draw at ``size`` offscreen. A GL widget on a hidden tab has no context yet, so the
        tab is brought forward for the render and put back afterwards."""
        self.flush()
        restore = []
        w = self
        while w.parentWidget() is not None:
            parent = w.parentWidget()
            if isinstance(parent, QStackedWidget) and parent.currentWidget() is not w:
                restore.append((parent, parent.currentWidget()))
                parent.setCurrentWidget(w)
            w = parent
        self._wait_first_draw()
        native = self.scene.canvas.native
        old = native.size()
        try:
            # vispy draws a wrong region when the FBO size differs from the canvas size, so the
            # canvas itself takes the export size for the render and gets its own size back.
            native.resize(int(size[0]), int(size[1]))
            QApplication.processEvents()
            return self.scene.render(None)
        finally:
            native.resize(old)
            for stack, widget in reversed(restore):
                stack.setCurrentWidget(widget)


class SurfaceView(GLView):
    """z = 2: the loss surface; with three heads its height is their mean and its colour the
    RGB composite of the heads (linear over the loss range)."""

    def accepts(self, z: int) -> bool:
        return z == 2

    def __init__(self, parent=None):
        super().__init__(parent)
        self._init_gl(SurfaceScene(size=(640, 480), show=False))
        self.colours: dict[str, np.ndarray | None] = dict.fromkeys(SOURCES)
        self.loss_range: tuple[float, float] | None = None
        bar = self._choosers()
        bar.addWidget(self.caption, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(bar)
        lay.addWidget(self.scene.canvas.native, 1)

    def update_data(self, name: str, arr: np.ndarray | None, heads: int = 1,
                    levels: tuple[float, float] | None = None,
                    loss_range: tuple[float, float] | None = None) -> None:
        self.arrays[name] = None if arr is None else plane(arr, heads)
        self.colours[name] = None
        if loss_range is not None:
            self.loss_range = loss_range
        if arr is not None and heads == 3 and np.ndim(arr) == 3:
            low, high = self.loss_range or (float(np.min(arr)), float(np.max(arr)))
            self.colours[name] = rgb_composite(arr, low, high)
        if levels is not None:
            self.levels = levels
        self._schedule()

    def _apply(self) -> None:
        name, arr = self._shown()
        if arr is None or arr.shape[1] < 2:
            self.caption.setText("nothing to show yet")
            return
        target = self.arrays["target"]
        ref = target if target is not None and target.shape == arr.shape else arr
        marker = argmin_xy(ref)[:2]
        colours = self.colours[name]
        self.scene.update_data(arr, self.levels, marker, colours=colours)
        what = SOURCE_LABELS[name]
        if colours is not None:
            what += " (height: mean of the R, G, B heads; colour: their composite, " \
                    "linear over the loss range)"
        grid = f"{arr.shape[0]}×{arr.shape[1]} grid"
        whose = "the pattern's" if ref is target else "this surface's"
        self.caption.setText(f"{what}, {grid}{self.provenance}; red dot: {whose} minimum "
                             f"(α1 = {marker[0]:.2f}, α2 = {marker[1]:.2f}). "
                             f"Drag to rotate, scroll to zoom.")
