"""Network panel: depth, width, activation, theorem, z, RGB, steps, grid, seed, device."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from losspattern_core.config import available_devices
from losspattern_core.networks import ACTIVATIONS

from ..resources import theorem2_available

T1_TIP = ("Theorem 1: any pattern for any dataset; the directions move single biases of the "
          "first layer, and the surface only depends on the label marginal.")
T2_TIP = ("Theorem 2: dense directions in which the surface depends on the data itself.")
T2_MISSING = "Theorem 2 is not available yet: losspattern_core has no construct/theorem2.py."


def _spin(lo: int, hi: int, value: int, step: int = 1, tip: str = "") -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    s.setSingleStep(step)
    s.setToolTip(tip)
    s.setKeyboardTracking(False)
    return s


class NetworkPanel(QWidget):
    changed = Signal()
    mode_changed = Signal(int, bool)   # z, rgb

    def __init__(self, parent=None):
        super().__init__(parent)
        self.depth = _spin(2, 8, 3, tip="hidden layers (the first carries the pattern)")
        self.width = _spin(8, 1024, 128, 8, "units per hidden layer")
        self.activation = QComboBox()
        self.activation.addItems(ACTIVATIONS)
        self.activation.setCurrentText("sin")
        self.t1, self.t2 = QRadioButton("Theorem 1"), QRadioButton("Theorem 2")
        self.t1.setToolTip(T1_TIP)
        self.t1.setChecked(True)
        self.t2.setEnabled(theorem2_available())
        self.t2.setToolTip(T2_TIP if theorem2_available() else T2_MISSING)
        self.theorem = QButtonGroup(self)
        self.theorem.addButton(self.t1, 1)
        self.theorem.addButton(self.t2, 2)
        trow = QWidget()
        tl = QHBoxLayout(trow)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.t1)
        tl.addWidget(self.t2)
        self.z = _spin(1, 3, 2, tip="pattern dimension: 1 curve, 2 surface, 3 volume")
        self.rgb = QCheckBox("RGB (three heads)")
        self.rgb.setToolTip("three output heads draw the red, green and blue channels (z = 2)")
        self.steps = _spin(1, 1_000_000, 2000, 100, "regression steps")
        self.grid = _spin(8, 256, 64, 8, "grid points per direction of the measured surface")
        self.seed = _spin(0, 2**31 - 1, 0)
        self.device = QComboBox()
        self.device.addItems(available_devices())
        form = QFormLayout(self)
        form.setContentsMargins(4, 4, 4, 4)
        form.addRow("construction", trow)
        form.addRow("depth", self.depth)
        form.addRow("width", self.width)
        form.addRow("activation", self.activation)
        form.addRow("z", self.z)
        form.addRow("", self.rgb)
        form.addRow("steps", self.steps)
        form.addRow("grid", self.grid)
        form.addRow("seed", self.seed)
        form.addRow("device", self.device)
        for w in (self.depth, self.width, self.steps, self.grid, self.seed):
            w.valueChanged.connect(lambda _: self.changed.emit())
        self.activation.currentTextChanged.connect(lambda _: self.changed.emit())
        self.device.currentTextChanged.connect(lambda _: self.changed.emit())
        self.theorem.idToggled.connect(lambda *_: self.changed.emit())
        self.theorem.idToggled.connect(lambda *_: self._mode())
        self.z.valueChanged.connect(self._mode)
        self.rgb.toggled.connect(self._mode)

    def _mode(self, *_) -> None:
        # colour needs z = 2 and Theorem 1 (Theorem 2 has one alpha* for all heads)
        allowed = self.z.value() == 2 and self.theorem.checkedId() != 2
        self.rgb.setEnabled(allowed)
        self.rgb.setToolTip("three output heads draw the red, green and blue channels (z = 2, "
                            "Theorem 1)" + ("" if allowed else ": not available with these "
                                            "settings"))
        if not allowed and self.rgb.isChecked():
            self.rgb.setChecked(False)  # re-enters _mode once
            return
        self.mode_changed.emit(self.z.value(), self.rgb.isChecked())
        self.changed.emit()

    def values(self) -> dict:
        return {"depth": self.depth.value(), "width": self.width.value(),
                "activation": self.activation.currentText(),
                "theorem": self.theorem.checkedId(), "z": self.z.value(),
                "rgb": self.rgb.isChecked(), "steps": self.steps.value(),
                "grid": self.grid.value(), "seed": self.seed.value(),
                "device": self.device.currentText()}

    def set_values(self, v: dict) -> None:
        for key in ("depth", "width", "steps", "grid", "seed", "z"):
            if key in v:
                getattr(self, key).setValue(int(v[key]))
        if "activation" in v:
            self.activation.setCurrentText(str(v["activation"]))
        if "device" in v and self.device.findText(str(v["device"])) >= 0:
            self.device.setCurrentText(str(v["device"]))
        if int(v.get("theorem", 1)) == 2 and self.t2.isEnabled():
            self.t2.setChecked(True)
        if "rgb" in v:
            self.rgb.setChecked(bool(v["rgb"]) and self.z.value() == 2)
