"""Network panel: theorem, depth, width, activation, z, RGB, steps, grid, seed, device.

Bound to the state: each widget writes its field with ``state.choose``; on every ``choice``
event the widgets show the state's values (signals blocked, so nothing echoes back).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSpinBox,
    QWidget,
)

import losspattern_core as lp

from ..captions import T1_NOTE, T2_NOTE
from ..state import AppState

SPINS = ("depth", "width", "z", "steps", "grid", "seed")


def _spin(lo: int, hi: int, step: int = 1, tip: str = "") -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setSingleStep(step)
    s.setToolTip(tip)
    s.setKeyboardTracking(False)
    return s


class NetworkPanel(QWidget):
    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.depth = _spin(2, 8, tip="hidden layers (the first carries the pattern)")
        self.width = _spin(8, 1024, 8, "units per hidden layer")
        self.activation = QComboBox()
        self.activation.addItems(lp.ACTIVATIONS)
        self.t1, self.t2 = QRadioButton("Theorem 1"), QRadioButton("Theorem 2")
        self.t1.setToolTip(T1_NOTE)
        self.t2.setToolTip(T2_NOTE)
        self.theorem = QButtonGroup(self)
        self.theorem.addButton(self.t1, 1)
        self.theorem.addButton(self.t2, 2)
        trow = QWidget()
        tl = QHBoxLayout(trow)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.t1)
        tl.addWidget(self.t2)
        self.theorem_note = QLabel()
        self.theorem_note.setWordWrap(True)
        self.theorem_note.setStyleSheet("color: #444;")
        self.z = _spin(1, 3, tip="pattern dimension: 1 curve, 2 surface, 3 volume")
        self.rgb = QCheckBox("RGB (three heads)")
        self.steps = _spin(1, 1_000_000, 100, "regression steps")
        self.grid = _spin(8, 256, 8, "grid points per direction of the measured surface")
        self.seed = _spin(0, 2**31 - 1)
        self.device = QComboBox()
        self.device.addItems(lp.available_devices())
        form = QFormLayout(self)
        form.setContentsMargins(4, 4, 4, 4)
        form.addRow("construction", trow)
        form.addRow(self.theorem_note)
        for label, widget in (("depth", self.depth), ("width", self.width),
                              ("activation", self.activation), ("z", self.z),
                              ("", self.rgb), ("steps", self.steps), ("grid", self.grid),
                              ("seed", self.seed), ("device", self.device)):
            form.addRow(label, widget)
        self._show_state()
        for name in SPINS:
            getattr(self, name).valueChanged.connect(
                lambda v, name=name: self.state.choose(**{name: int(v)}))
        self.activation.currentTextChanged.connect(lambda t: self.state.choose(activation=t))
        self.device.currentTextChanged.connect(lambda t: self.state.choose(device=t))
        self.theorem.idToggled.connect(
            lambda i, on: on and self.state.choose(theorem=int(i)))
        self.rgb.toggled.connect(lambda on: self.state.choose(rgb=bool(on)))
        state.events.choice.connect(self._show_state)
        state.events.run.connect(lambda: self.setEnabled(not self.state.running))

    def _show_state(self) -> None:
        c = self.state.choice
        widgets = [getattr(self, n) for n in SPINS] + [self.activation, self.device,
                                                       self.t1, self.t2, self.rgb]
        widgets.append(self.theorem)   # the group emits idToggled itself
        for w in widgets:
            w.blockSignals(True)
        for name in SPINS:
            getattr(self, name).setValue(int(getattr(c, name)))
        self.activation.setCurrentText(c.activation)
        if self.device.findText(c.device) >= 0:
            self.device.setCurrentText(c.device)
        (self.t2 if c.theorem == 2 else self.t1).setChecked(True)
        self.rgb.setChecked(c.rgb)
        for w in widgets:
            w.blockSignals(False)
        self.rgb.setEnabled(c.rgb_allowed)
        self.rgb.setToolTip("three output heads draw the red, green and blue channels (z = 2, "
                            "Theorem 1)" + ("" if c.rgb_allowed else ": not available with "
                                            "these settings"))
        self.theorem_note.setText(T2_NOTE if c.theorem == 2 else "")
        self.theorem_note.setVisible(c.theorem == 2)
