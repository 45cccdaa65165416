"""The z = 3 slice bar above the heatmaps: which direction the slices hold, and where.

Bound to the state's view settings: moving it writes ``state.set_slice`` (the slices then stop
following the target's minimum); "through the minimum" asks the state to put them there. The
3-D volume view observes the same settings, so its planes move with the bar.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from .arrays import AXIS_NAMES

SLICE_STEPS = 1000   # slider resolution: the slice position is a fraction of [0, 1]
AXIS_CHOICES = ("hold α3 (show α1 × α2)", "hold α2 (show α1 × α3)", "hold α1 (show α2 × α3)")


class SliceBar(QWidget):
    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.axis_combo = QComboBox()
        self.axis_combo.addItems(AXIS_CHOICES)
        self.axis_combo.setToolTip("which direction the 2-D slices hold fixed")
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setRange(0, SLICE_STEPS)
        self.slider.setMinimumWidth(120)
        self.slider.setToolTip("where the slices cut the volume (drag; also shown as a plane "
                               "in the 3-D tab)")
        self.label = QLabel()
        self.label.setMinimumWidth(70)
        self.to_min = QPushButton("through the minimum")
        self.to_min.setToolTip("move the slices (and the 3-D planes) through the target's "
                               "minimum, and keep them there when the target changes")
        self.to_min.clicked.connect(state.slice_through_minimum)
        row1, row2 = QHBoxLayout(), QHBoxLayout()
        row1.addWidget(QLabel("Slice:"))
        row1.addWidget(self.axis_combo, 1)
        row1.addWidget(self.to_min)
        row2.addWidget(self.slider, 1)
        row2.addWidget(self.label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 0, 2, 0)
        lay.setSpacing(0)
        lay.addLayout(row1)
        lay.addLayout(row2)
        self.axis_combo.currentIndexChanged.connect(lambda i: state.set_slice(axis=2 - i))
        self.slider.valueChanged.connect(lambda v: state.set_slice(frac=v / SLICE_STEPS))
        state.events.view.connect(self._show_state)
        self._show_state()

    def _show_state(self) -> None:
        v = self.state.view
        frac = v.slices[v.slice_axis]
        for w in (self.axis_combo, self.slider):
            w.blockSignals(True)
        self.axis_combo.setCurrentIndex(2 - v.slice_axis)
        self.slider.setValue(round(frac * SLICE_STEPS))
        for w in (self.axis_combo, self.slider):
            w.blockSignals(False)
        self.label.setText(f"{AXIS_NAMES[v.slice_axis]} = {frac:.2f}")
