"""Loss low/high fields with the dataset's floor shown and enforced (the core decides)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QLabel, QPushButton, QWidget

from losspattern_core.errors import ConfigError
from losspattern_core.data.patterns import check_loss_range, default_loss_range

INVALID_STYLE = "QDoubleSpinBox { background: #ffd6d6; }"


class LossRangeEditor(QWidget):
    """``range()`` is (low, high) or None while the fields hold an impossible range."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.floor, self.loss, self.provenance = 0.0, "cross_entropy", ""
        self.low, self.high = self._spin(), self._spin()
        self.floor_label = QLabel()
        self.floor_label.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020;")
        self.message.hide()
        reset = QPushButton("Default")
        reset.setToolTip("0.1 above the floor, 1.5 nats tall")
        reset.clicked.connect(self.reset)
        g = QGridLayout(self)
        g.setContentsMargins(0, 0, 0, 0)
        g.addWidget(QLabel("loss low"), 0, 0)
        g.addWidget(self.low, 0, 1)
        g.addWidget(QLabel("high"), 0, 2)
        g.addWidget(self.high, 0, 3)
        g.addWidget(reset, 0, 4)
        g.addWidget(self.floor_label, 1, 0, 1, 5)
        g.addWidget(self.message, 2, 0, 1, 5)
        self.low.valueChanged.connect(self._check)
        self.high.valueChanged.connect(self._check)
        self._valid = True

    @staticmethod
    def _spin() -> QDoubleSpinBox:
        s = QDoubleSpinBox()
        s.setRange(0.0, 100.0)
        s.setDecimals(3)
        s.setSingleStep(0.05)
        s.setKeyboardTracking(False)
        return s

    def set_floor(self, floor: float, provenance: str, loss: str = "cross_entropy") -> None:
        """New dataset: show its floor; keep the user's range if still possible, else reset."""
        self.floor, self.loss, self.provenance = floor, loss, provenance
        what = "H(π), the label entropy" if loss == "cross_entropy" else "the label variance"
        self.floor_label.setText(f"floor {floor:.4f} nats = {what} of {provenance}: "
                                 f"no network's loss can go below it.")
        self.low.setToolTip(f"must be ≥ {floor:.4f} (the floor of {provenance})")
        try:
            check_loss_range(self.low.value(), self.high.value(), floor, loss)
        except ConfigError:
            self.reset()
            return
        self._check()

    def reset(self) -> None:
        rng = default_loss_range(self.floor)
        self.set_range(rng.low, rng.high)

    def set_range(self, low: float, high: float) -> None:
        for box, v in ((self.low, low), (self.high, high)):
            box.blockSignals(True)
            box.setValue(v)
            box.blockSignals(False)
        self._check()

    def range(self) -> tuple[float, float] | None:
        return (self.low.value(), self.high.value()) if self._valid else None

    def is_valid(self) -> bool:
        return self._valid

    def _check(self) -> None:
        try:
            check_loss_range(self.low.value(), self.high.value(), self.floor, self.loss)
            self._valid = True
            self.message.hide()
            self.low.setStyleSheet("")
            self.high.setStyleSheet("")
        except ConfigError as exc:
            self._valid = False
            self.message.setText(str(exc).split(", e.g.")[0] + ".")
            self.message.show()
            bad = self.low if self.low.value() < self.floor - 1e-9 else self.high
            bad.setStyleSheet(INVALID_STYLE)
        self.changed.emit()
