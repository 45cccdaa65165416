"""The 3-D tab for z = 3: a VolumeScene canvas with a slider per axis for the slice planes.

Bound to the state, the planes sit where ``state.view.slices`` says (the heatmaps' slice bar
reads the same settings) and moving a slider writes them. Redraws are throttled like the
surface view's.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QLabel,
    QSlider,
    QVBoxLayout,
)

from .arrays import AXIS_NAMES
from .surface3d import SOURCE_LABELS, GLView
from .volume_scene import VolumeScene

SLIDER_STEPS = 1000


def _volume(arr: np.ndarray) -> np.ndarray:
    a = np.asarray(arr, dtype=np.float64)
    while a.ndim > 3:  # z >= 4: further directions cut through their middle
        a = a[..., a.shape[-1] // 2]
    return a


class VolumeView(GLView):
    slices_changed = Signal(list)   # [alpha_1, alpha_2, alpha_3] where the planes sit

    def __init__(self, parent=None):
        super().__init__(parent)
        self._init_gl(VolumeScene(size=(640, 480), show=False))
        self.haze = QCheckBox("haze")
        self.haze.setChecked(True)
        self.haze.setToolTip("a faint translucent rendering of the whole volume, denser where "
                             "the loss is low")
        self.haze.toggled.connect(lambda on: self.scene.set_show_volume(on))
        self.sliders: list[QSlider] = []
        self.slider_labels: list[QLabel] = []
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        for i in range(3):
            s = QSlider(Qt.Horizontal)
            s.setRange(0, SLIDER_STEPS)
            s.setValue(SLIDER_STEPS // 2)
            s.setToolTip(f"where the plane holding {AXIS_NAMES[i]} fixed cuts the volume")
            s.valueChanged.connect(self._slider_moved)
            lab = QLabel()
            lab.setMinimumWidth(90)
            grid.addWidget(QLabel(f"plane {AXIS_NAMES[i]}"), 0, 2 * i)
            grid.addWidget(s, 0, 2 * i + 1)
            self.sliders.append(s)
            self.slider_labels.append(lab)
        bar = self._choosers()
        bar.addWidget(self.haze)
        bar.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(bar)
        lay.addLayout(grid)
        lay.addWidget(self.caption)
        lay.addWidget(self.scene.canvas.native, 1)
        self._update_labels()

    # --- public API ----------------------------------------------------------------------------
    def slices(self) -> list[float]:
        return [s.value() / SLIDER_STEPS for s in self.sliders]

    def set_slice(self, axis: int, frac: float) -> None:
        """Move one plane (from the heatmaps' slice bar) without echoing the change back."""
        s = self.sliders[axis]
        s.blockSignals(True)
        s.setValue(round(float(np.clip(frac, 0, 1)) * SLIDER_STEPS))
        s.blockSignals(False)
        self._update_labels()
        self.scene.set_slices(self.slices())

    def set_slices(self, fracs) -> None:
        """Move all three planes (e.g. through the pattern's minimum)."""
        for s, f in zip(self.sliders, fracs, strict=False):
            s.blockSignals(True)
            s.setValue(round(float(np.clip(f, 0, 1)) * SLIDER_STEPS))
            s.blockSignals(False)
        self._update_labels()
        self.scene.set_slices(self.slices())
        self._schedule()

    def accepts(self, z: int) -> bool:
        return z >= 3

    def _sync_view(self, view) -> None:
        if max(abs(a - b) for a, b in zip(view.slices, self.slices(), strict=True)) \
                > 0.5 / SLIDER_STEPS:   # the sliders hold the state's slices to 1/1000
            self.set_slices(view.slices)

    def update_data(self, name: str, arr: np.ndarray | None, heads: int = 1,
                    levels: tuple[float, float] | None = None, **_) -> None:
        a = None if arr is None else np.asarray(arr, dtype=np.float64)
        if a is not None and heads > 1:
            a = a.mean(axis=0)
        self.arrays[name] = None if a is None or a.ndim < 3 else _volume(a)
        if levels is not None:
            self.levels = levels
        self._schedule()

    # --- internals -----------------------------------------------------------------------------
    def _slider_moved(self, _=None) -> None:  # the user moved a plane
        self._update_labels()
        self.scene.set_slices(self.slices())
        self.slices_changed.emit(self.slices())
        if self.state is not None:
            self.state.set_slices(self.slices())

    def _update_labels(self) -> None:
        for i, lab in enumerate(self.slider_labels):
            lab.setText(f"{AXIS_NAMES[i]} = {self.sliders[i].value() / SLIDER_STEPS:.2f}")
            self.sliders[i].setToolTip(f"plane holding {AXIS_NAMES[i]} = "
                                       f"{self.sliders[i].value() / SLIDER_STEPS:.2f}")

    def _apply(self) -> None:
        name, arr = self._shown()
        if arr is None or min(arr.shape) < 2:
            self.caption.setText("nothing to show yet (z = 3 runs only)")
            return
        target = self.arrays["target"]
        ref = target if target is not None and target.shape == arr.shape else arr
        idx = np.unravel_index(int(np.argmin(ref)), ref.shape)
        marker = tuple(float(i / max(n - 1, 1)) for i, n in zip(idx, ref.shape, strict=True))
        self.scene.set_slices(self.slices())
        self.scene.update_data(arr, self.levels, marker)
        what = SOURCE_LABELS[name]
        planes = ", ".join(f"{AXIS_NAMES[i]} = {f:.2f}" for i, f in enumerate(self.slices()))
        self.caption.setText(
            f"{what} on a {'×'.join(map(str, arr.shape))} grid{self.provenance}: three slice "
            f"planes ({planes}) and a faint haze of the whole volume, one colour scale "
            f"[{self.levels[0]:.3g}, {self.levels[1]:.3g}] nats; red dot: "
            f"{'the pattern' if ref is target else 'this volume'}'s minimum "
            f"(α = {marker[0]:.2f}, {marker[1]:.2f}, {marker[2]:.2f}). Drag to rotate.")
