"""Loss low/high fields with the dataset's floor shown and enforced (the core decides).

Bound to the state: editing a field writes ``loss_range``; the state says whether the range is
possible for the loaded dataset (``loss_range_problem``) and the editor shows that.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

import losspattern_core as lp

from ..captions import floor_text
from ..state import AppState

INVALID_STYLE = "QDoubleSpinBox { background: #ffd6d6; }"


class LossRangeEditor(QWidget):
    """``range()`` is (low, high) or None while the fields hold an impossible range."""

    def __init__(self, state: AppState, parent=None):
        super().__init__(parent)
        self.state = state
        self.low, self.high = self._spin(), self._spin()
        self.floor_label = QLabel()
        self.floor_label.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020;")
        for label in (self.floor_label, self.message):   # long text wraps, never widens
            label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
            label.setMinimumWidth(1)
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
        self.low.valueChanged.connect(self._edited)
        self.high.valueChanged.connect(self._edited)
        state.events.choice.connect(self._show_state)
        self._show_state()

    @staticmethod
    def _spin() -> QDoubleSpinBox:
        s = QDoubleSpinBox()
        s.setRange(0.0, 100.0)
        s.setDecimals(3)
        s.setSingleStep(0.05)
        s.setKeyboardTracking(False)
        return s

    def _edited(self, _=None) -> None:
        self.state.choose(loss_range=(self.low.value(), self.high.value()))

    def reset(self) -> None:
        if self.state.floor is not None:
            rng = lp.default_loss_range(self.state.floor)
            self.state.choose(loss_range=(rng.low, rng.high))

    def set_range(self, low: float, high: float) -> None:
        self.state.choose(loss_range=(float(low), float(high)))

    def range(self) -> tuple[float, float] | None:
        return None if self.state.loss_range_problem else self.state.choice.loss_range

    def is_valid(self) -> bool:
        return self.state.loss_range_problem is None

    def _show_state(self) -> None:
        st = self.state
        rng = st.choice.loss_range
        if rng is not None:
            for box, v in ((self.low, rng[0]), (self.high, rng[1])):
                box.blockSignals(True)
                box.setValue(v)
                box.blockSignals(False)
        if st.floor is not None:
            where = f"{st.choice.dataset} train labels"
            self.floor_label.setText(floor_text(st.floor, where))
            self.low.setToolTip(f"must be ≥ {st.floor:.4f} (the floor of {where})")
        problem = st.loss_range_problem
        self.message.setVisible(problem is not None)
        self.message.setText(problem or "")
        self.low.setStyleSheet("")
        self.high.setStyleSheet("")
        if problem is not None and rng is not None:
            bad = self.low if rng[0] < st.floor - 1e-9 else self.high
            bad.setStyleSheet(INVALID_STYLE)
