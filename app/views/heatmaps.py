"""Four pyqtgraph heatmaps: target, measured train, measured test (one shared colour scale with
a ColorBarItem) and the error train - target (its own symmetric diverging scale).

Arrays arrive with axis 0 = direction 1; ImageItems use column-major order, so the array is
drawn as is with alpha_1 on x and alpha_2 pointing up.

Modes: z = 2 as is; z = 3 shows an axis-aligned slice of each volume, chosen with the slice
bar (which axis is held fixed, and where); RGB (three heads) shows the colour composite of the
three measured heads beside the RGB target, with the display squash stated in the caption.
Repaints are throttled: new data is kept and drawn by a timer at most every PAINT_MS.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from .arrays import (
    AXIS_NAMES,
    plane,
    rgb_composite,
    shared_levels,
    slice_plane,
    subsample_like,
)

PANELS = ("target", "train", "test", "error")
SOURCES = ("target", "train", "test")
LOSS_CMAP = "viridis"
ERROR_CMAP = "CET-D1A"
UNIT = QRectF(0, 0, 1, 1)  # the image covers alpha in [0, 1]^2 whatever its grid
PAINT_MS = 33
SLICE_STEPS = 1000         # slider resolution: the slice position is a fraction of [0, 1]


def _cap_title_width(label, cap: float = 120.0) -> None:
    """pyqtgraph makes a title's text width its minimum width, so a long title widened its
    column past the widget and clipped the colour bars' tick labels: cap it (text stays centred)."""
    update = label.updateMin

    def capped():
        update()
        for key in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            w, h = label._sizeHint[key]
            label._sizeHint[key] = (min(w, cap), h)
        label.setMinimumWidth(min(label.minimumWidth(), cap))
        label.updateGeometry()

    label.updateMin = capped


GREY = pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])


class HeatmapsView(QWidget):
    """``set_array / set_title / set_mode / set_slice``; titles say what each panel measures."""

    slice_changed = Signal(int, float)   # held axis (0, 1, 2), position in [0, 1]
    minimum_requested = Signal(list)     # fractions of the target's minimum (all axes)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.z, self.rgb = 2, False
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #333; padding: 2px;")
        self.slice_axis = 2
        self.slice_frac = 0.5
        self.slice_box = QWidget()
        sb = QVBoxLayout(self.slice_box)
        sb.setContentsMargins(2, 0, 2, 0)
        sb.setSpacing(0)
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        sb.addLayout(row1)
        sb.addLayout(row2)
        self.axis_combo = QComboBox()
        self.axis_combo.addItems(["hold α3 (show α1 × α2)", "hold α2 (show α1 × α3)",
                                  "hold α1 (show α2 × α3)"])
        self.axis_combo.setToolTip("which direction the 2-D slices hold fixed")
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, SLICE_STEPS)
        self.slider.setValue(SLICE_STEPS // 2)
        self.slider.setMinimumWidth(120)
        self.slider.setToolTip("where the slices cut the volume (drag; also shown as a plane "
                               "in the 3-D tab)")
        self.slice_label = QLabel()
        self.slice_label.setMinimumWidth(70)
        self.to_min = QPushButton("through the minimum")
        self.to_min.setToolTip("move the slices (and the 3-D planes) through the target's "
                               "minimum")
        self.to_min.clicked.connect(self.slice_through_minimum)
        row1.addWidget(QLabel("Slice:"))
        row1.addWidget(self.axis_combo, 1)
        row1.addWidget(self.to_min)
        row2.addWidget(self.slider, 1)
        row2.addWidget(self.slice_label)
        self.slice_box.hide()
        self.user_sliced = False  # the user moved the slices (no more automatic placement)
        self.axis_combo.currentIndexChanged.connect(self._user_axis)
        self.slider.valueChanged.connect(self._user_slider)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("w")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.caption)
        lay.addWidget(self.slice_box)
        lay.addWidget(self.glw, 1)
        self.plots: dict[str, pg.PlotItem] = {}
        self.images: dict[str, pg.ImageItem] = {}
        self.rgb_images: dict[str, pg.ImageItem] = {}
        self.raw: dict[str, np.ndarray | None] = dict.fromkeys(SOURCES)
        self.arrays: dict[str, np.ndarray | None] = dict.fromkeys(PANELS)
        for i, name in enumerate(PANELS):
            plot = self.glw.addPlot(row=i // 2, col=2 * (i % 2))
            plot.setAspectLocked(True)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            img = pg.ImageItem(axisOrder="col-major")
            plot.addItem(img)
            if name in SOURCES:  # RGB composites: not linked to the loss colour bar
                rgb = pg.ImageItem(axisOrder="col-major")
                rgb.setVisible(False)
                plot.addItem(rgb)
                self.rgb_images[name] = rgb
            plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
            ticks = [[(v, f"{v:g}") for v in (0, 0.25, 0.5, 0.75, 1)]]
            plot.getAxis("bottom").setTicks(ticks)  # no labels outside [0, 1] where the
            plot.getAxis("left").setTicks(ticks)    # locked aspect leaves empty margins
            self.plots[name], self.images[name] = plot, img
            _cap_title_width(plot.titleLabel)
        self._axis_labels()
        self.loss_bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get(LOSS_CMAP),
                                        label="loss (nats)", interactive=False, width=11)
        self.loss_bar.setImageItem([self.images[n] for n in SOURCES])
        self.glw.addItem(self.loss_bar, row=0, col=3)
        self.err_bar = pg.ColorBarItem(values=(-1, 1), colorMap=pg.colormap.get(ERROR_CMAP),
                                       label="train − target", interactive=False, width=11)
        self.err_bar.setImageItem(self.images["error"])
        self.glw.addItem(self.err_bar, row=1, col=3)
        self.low_high: tuple[float, float] | None = None
        self.titles = {"target": "target T", "train": "measured train loss",
                       "test": "measured test loss", "error": "error: train − target"}
        for name in PANELS:
            self.set_title(name, self.titles[name] + " (no run yet)" if name != "target"
                           else self.titles[name])
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PAINT_MS)
        self._timer.timeout.connect(self._paint)
        self._update_slice_label()

    # --- public API ----------------------------------------------------------------------------
    def set_title(self, name: str, text: str) -> None:
        self.titles[name] = text
        self.plots[name].setTitle(text, size="9pt")

    def set_caption(self, text: str) -> None:
        self.caption.setText(text)

    def set_mode(self, z: int, rgb: bool) -> None:
        """z = 3 shows the slice bar; RGB swaps the loss images for colour composites."""
        self.z, self.rgb = z, rgb
        self.slice_box.setVisible(z >= 3)
        # RGB: the bar shows the stated squash, each head's loss (low..high) -> its channel's
        # intensity (0..1); hiding it instead squeezed the error bar's labels off the edge
        self.loss_bar.setColorMap(GREY if rgb else pg.colormap.get(LOSS_CMAP))
        self.loss_bar.getAxis("left").setLabel("head loss → channel" if rgb
                                               else "loss (nats)")
        self._axis_labels()
        for name in SOURCES:
            self._derive(name)
        self._update_error()
        self.flush()

    def set_loss_range(self, low: float, high: float) -> None:
        self.low_high = (low, high)
        if self.rgb:
            for name in SOURCES:
                self._derive(name)
        self._schedule()

    def set_array(self, name: str, arr: np.ndarray | None, heads: int = 1) -> None:
        """Show ``arr`` (any z; (3, ...) for RGB heads) in panel ``name``; None clears it."""
        self.raw[name] = None if arr is None else np.asarray(arr, dtype=np.float64)
        self._derive(name)
        if name in ("target", "train"):
            self._update_error()
        self._schedule()

    def set_slice(self, axis: int | None = None, frac: float | None = None) -> None:
        """Hold direction ``axis`` (0, 1, 2) fixed at ``frac`` of its range (z >= 3)."""
        if axis is not None:
            self.slice_axis = int(axis)
            self.axis_combo.blockSignals(True)
            self.axis_combo.setCurrentIndex(2 - self.slice_axis)
            self.axis_combo.blockSignals(False)
            self._axis_labels()
        if frac is not None:
            self.slice_frac = float(np.clip(frac, 0.0, 1.0))
            self.slider.blockSignals(True)
            self.slider.setValue(round(self.slice_frac * SLICE_STEPS))
            self.slider.blockSignals(False)
        self._update_slice_label()
        for name in SOURCES:
            self._derive(name)
        self._update_error()
        self._schedule()
        self.slice_changed.emit(self.slice_axis, self.slice_frac)

    def _user_axis(self, i: int) -> None:
        self.user_sliced = True
        self.set_slice(2 - i, None)

    def _user_slider(self, v: int) -> None:
        self.user_sliced = True
        self.set_slice(None, v / SLICE_STEPS)

    def minimum_fracs(self) -> list[float] | None:
        """Where the target's minimum lies, as fractions of each direction's range (z >= 3)."""
        t = self.raw["target"]
        if t is None:
            return None
        t = t.mean(axis=0) if self._is_rgb(t) else t
        if t.ndim < 3:
            return None
        idx = np.unravel_index(int(np.argmin(t)), t.shape)
        return [i / max(n - 1, 1) for i, n in zip(idx[:3], t.shape[:3], strict=True)]

    def slice_through_minimum(self) -> None:
        fracs = self.minimum_fracs()
        if fracs is not None:
            self.minimum_requested.emit(fracs)
            self.set_slice(None, fracs[self.slice_axis])

    def slice_note(self) -> str:
        return f"slice {AXIS_NAMES[self.slice_axis]} = {self._slice_value():.2f}"

    def clear_measured(self) -> None:
        for name in ("train", "test"):
            self.raw[name] = None
            self.arrays[name] = None
        self.arrays["error"] = None
        self.flush()

    def levels(self) -> tuple[float, float]:
        arrays = [self.raw[n] for n in SOURCES]
        low, high = self.low_high or (None, None)
        if all(a is None for a in arrays) and low is None:
            return 0.0, 1.0
        return shared_levels(arrays, low, high)

    def flush(self) -> None:
        """Draw pending data now (end of a run, before an export, in tests)."""
        self._timer.stop()
        self._paint()

    def widget_for_export(self) -> pg.GraphicsLayoutWidget:
        self.flush()
        return self.glw

    # --- deriving what each panel shows --------------------------------------------------------
    def _slice_value(self) -> float:
        return self.slice_frac

    def _index_for(self, n: int) -> int:
        return int(round(self.slice_frac * (n - 1)))

    def _plane(self, a: np.ndarray, heads: int) -> np.ndarray:
        """Scalar (G, G) plane of a surface (heads averaged only for the error panel)."""
        if heads > 1:
            a = a.mean(axis=0)
        if a.ndim >= 3:
            return slice_plane(a, self.slice_axis, self._index_for(a.shape[self.slice_axis]))
        return plane(a)

    def _is_rgb(self, a: np.ndarray) -> bool:
        return self.rgb and a.ndim == self.z + 1 and a.shape[0] == 3

    def _derive(self, name: str) -> None:
        a = self.raw[name]
        if a is None:
            self.arrays[name] = None
        elif self._is_rgb(a):
            low, high = self.low_high or self.levels()
            self.arrays[name] = rgb_composite(a, low, high)
        else:
            self.arrays[name] = self._plane(a, 1)

    def _update_error(self) -> None:
        t, m = self.raw["target"], self.raw["train"]
        if t is None or m is None:
            self.arrays["error"] = None
            return
        t = subsample_like(t, m.shape)  # progressive levels: the target at the same points
        if t is None:
            self.arrays["error"] = None
            return
        heads = 3 if self._is_rgb(m) else 1
        self.arrays["error"] = self._plane(m - t, heads)

    def _axis_labels(self) -> None:
        shown = [i for i in range(3) if i != self.slice_axis] if self.z >= 3 else [0, 1]
        for plot in self.plots.values():
            plot.setLabel("bottom", AXIS_NAMES[shown[0]])  # the caption says which directions
            plot.setLabel("left", AXIS_NAMES[shown[1]])

    def _update_slice_label(self) -> None:
        self.slice_label.setText(f"{AXIS_NAMES[self.slice_axis]} = {self._slice_value():.2f}")

    # --- drawing -------------------------------------------------------------------------------
    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def _paint(self) -> None:
        lo, hi = self.levels()
        for name in SOURCES:
            arr = self.arrays[name]
            scalar, colour = self.images[name], self.rgb_images[name]
            if arr is None:
                scalar.clear()
                colour.clear()
            elif arr.ndim == 3:  # an RGB composite in [0, 1]
                scalar.clear()
                scalar.setVisible(False)
                colour.setImage(arr, autoLevels=False, levels=(0, 1), rect=UNIT)
                colour.setVisible(True)
            else:
                colour.clear()
                colour.setVisible(False)
                scalar.setVisible(True)
                scalar.setImage(arr, autoLevels=False, levels=(lo, hi), rect=UNIT)
        self.loss_bar.setLevels(self.low_high if self.rgb and self.low_high else (lo, hi))
        err = self.arrays["error"]
        if err is not None:
            emax = max(float(np.abs(err).max()), 1e-6)
            self.images["error"].setImage(err, autoLevels=False, levels=(-emax, emax), rect=UNIT)
            self.err_bar.setLevels((-emax, emax))
        else:
            self.images["error"].clear()
