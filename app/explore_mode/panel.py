"""The explore settings form: family, direction kind, z, grid, training steps, seed, range,
the MLP's size and activation; Start, Cancel, a progress bar and the phase line.

``settings()`` reads the form into an ``ExploreSettings``; the mode wires the buttons.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .settings import EXPLORE_ACTIVATIONS, FAMILIES, KIND_TITLES, MAX_GRID, ExploreSettings

RANGE_TIPS = {
    "random": "α runs over [−range, range] along each direction",
    "hessian": "α (a distance in parameter space: the eigenvectors have unit norm) runs over "
               "[−range, range]",
    "pca": "each axis covers the training path's extent (and 0), widened by range/4 of it at "
           "each end",
    "interpolation": "α runs over [−range/2, 1 + range/2]: 0 is the initialisation, 1 the "
                     "trained network",
}


def _spin(lo: int, hi: int, value: int, tip: str) -> QSpinBox:
    s = QSpinBox()
    s.setRange(lo, hi)
    s.setValue(value)
    s.setToolTip(tip)
    return s


class ExplorePanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        d = ExploreSettings()
        self.family = QComboBox()
        self.family.addItems(FAMILIES)
        self.kind = QComboBox()
        for key, title in KIND_TITLES.items():
            self.kind.addItem(title, key)
        self.z = _spin(1, 3, d.z, "number of directions (1: a line, 2: a plane, 3: a volume)")
        self.grid = _spin(2, MAX_GRID, d.grid, "grid points per direction")
        self.steps = _spin(1, 100_000, d.steps, "Adam steps of ordinary training")
        self.seed = _spin(0, 2**31 - 1, d.seed, "seeds the network, the minibatches and the "
                                                "random directions")
        self.span = QDoubleSpinBox()
        self.span.setRange(0.01, 1000.0)
        self.span.setDecimals(2)
        self.span.setValue(d.span)
        self.depth = _spin(1, 16, d.depth, "MLP hidden layers")
        self.width = _spin(1, 4096, d.width, "MLP units per hidden layer (resnet: channels)")
        self.activation = QComboBox()
        self.activation.addItems(EXPLORE_ACTIVATIONS)
        form = QFormLayout()
        for label, w in (("family", self.family), ("directions", self.kind), ("z", self.z),
                         ("grid", self.grid), ("training steps", self.steps),
                         ("seed", self.seed), ("range", self.span), ("depth (mlp)", self.depth),
                         ("width", self.width), ("activation", self.activation)):
            form.addRow(label, w)
        self.start, self.cancel = QPushButton("Start exploring"), QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.save = QPushButton("Save bundle…")
        self.save.setToolTip("Save the finished explore run as a format-2 bundle (weights, dense "
                             "directions, surfaces) that plain torch can verify")
        self.save.setEnabled(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start)
        buttons.addWidget(self.cancel)
        buttons.addWidget(self.save)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.status = QLabel("ordinary networks: trained here, then measured exactly")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(buttons)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addStretch(1)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.family.currentTextChanged.connect(self._family_changed)
        self._kind_changed()
        self._family_changed(self.family.currentText())

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        line = kind == "interpolation"
        if line:
            self.z.setValue(1)
        self.z.setEnabled(not line)
        self.span.setToolTip(RANGE_TIPS[kind])

    def _family_changed(self, family: str) -> None:
        self.depth.setEnabled(family == "mlp")
        self.width.setEnabled(family in ("mlp", "resnet"))

    def set_running(self, running: bool) -> None:
        self.start.setEnabled(not running)
        self.cancel.setEnabled(running)
        for w in (self.family, self.kind, self.grid, self.steps, self.seed, self.span,
                  self.depth, self.width, self.activation):
            w.setEnabled(not running)
        self.z.setEnabled(not running and self.kind.currentData() != "interpolation")
        if not running:
            self._family_changed(self.family.currentText())

    def settings(self) -> ExploreSettings:
        width = self.width.value()
        return ExploreSettings(
            family=self.family.currentText(), kind=self.kind.currentData(), z=self.z.value(),
            grid=self.grid.value(), steps=self.steps.value(), seed=self.seed.value(),
            span=float(self.span.value()), depth=self.depth.value(),
            width=width if self.family.currentText() != "cnn" else ExploreSettings.width,
            activation=self.activation.currentText())

    def apply(self, s: ExploreSettings) -> None:
        """Show ``s`` in the form (tests, the command line)."""
        self.family.setCurrentText(s.family)
        self.kind.setCurrentIndex(self.kind.findData(s.kind))
        for w, v in ((self.z, s.z), (self.grid, s.grid), (self.steps, s.steps),
                     (self.seed, s.seed), (self.depth, s.depth), (self.width, s.width)):
            w.setValue(v)
        self.span.setValue(s.span)
        self.activation.setCurrentText(s.activation)
