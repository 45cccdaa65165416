"""A small dialog: which view to export as PNG, and at what resolution."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)


class PngExportDialog(QDialog):
    def __init__(self, views: list[str], current: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export PNG")
        self.view = QComboBox()
        self.view.addItems(views)
        if current in views:
            self.view.setCurrentText(current)
        self.width_px, self.height_px = QSpinBox(), QSpinBox()
        for s, v in ((self.width_px, 1600), (self.height_px, 1200)):
            s.setRange(64, 8192)
            s.setSingleStep(100)
            s.setValue(v)
        size = QWidget()
        row = QHBoxLayout(size)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.width_px)
        row.addWidget(QLabel("×"))
        row.addWidget(self.height_px)
        row.addWidget(QLabel("pixels"))
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("view", self.view)
        form.addRow("size", size)
        form.addRow(QLabel("The 3-D view is rendered again at this size, not grabbed "
                           "from the screen."))
        form.addRow(buttons)

    def choice(self) -> tuple[str, tuple[int, int]]:
        return self.view.currentText(), (self.width_px.value(), self.height_px.value())
