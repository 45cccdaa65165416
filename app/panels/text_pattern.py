"""Text as a pattern: words in a chosen font and size, drawn white on black by QPainter into a
256² grey image (bright = high loss), handed to the pattern panel like a loaded image."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFontComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from .drawn_patterns import grey_of_qimage, use_as_pattern
from .sketch_pad import SIZE

PREVIEW = 256


def text_image(words: str, family: str = "", pixel_size: int = 64, bold: bool = True,
               size: int = SIZE) -> QImage:
    """``words`` centred (wrapped at spaces) in white on black, ``size`` pixels square."""
    image = QImage(size, size, QImage.Format_RGB32)
    image.fill(QColor("black"))
    font = QFont(family) if family else QFont()
    font.setPixelSize(max(4, int(pixel_size)))
    font.setBold(bold)
    p = QPainter(image)
    p.setRenderHint(QPainter.TextAntialiasing)
    p.setFont(font)
    p.setPen(QColor("white"))
    p.drawText(QRect(0, 0, size, size), Qt.AlignCenter | Qt.TextWordWrap, words)
    p.end()
    return image


def render_text(words: str, family: str = "", pixel_size: int = 64, bold: bool = True,
                size: int = SIZE) -> np.ndarray:
    """``text_image`` as a (size, size) grey array in [0, 1], rows top to bottom."""
    return grey_of_qimage(text_image(words, family, pixel_size, bold, size))


class TextPatternDialog(QDialog):
    """Words, font and size, a preview; "Use as pattern" makes it the panel's pattern."""

    def __init__(self, panel, parent=None):
        super().__init__(parent or panel.window())   # usable while the panel is disabled
        self.setWindowTitle("Text as a pattern")
        self.panel = panel
        self.words = QLineEdit("LOSS")
        self.font_box = QFontComboBox()
        self.pixel_size = QSpinBox()
        self.pixel_size.setRange(8, 240)
        self.pixel_size.setValue(72)
        self.pixel_size.setSuffix(" px")
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW, PREVIEW)
        self.preview.setStyleSheet("border: 1px solid #aaa;")
        use, close = QPushButton("Use as pattern"), QPushButton("Close")
        use.setDefault(True)
        use.clicked.connect(self.use)
        close.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow("words", self.words)
        form.addRow("font", self.font_box)
        form.addRow("size", self.pixel_size)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(use)
        buttons.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.preview, 0, Qt.AlignCenter)
        lay.addWidget(QLabel("White letters are the highest loss of the range."))
        lay.addLayout(buttons)
        self.words.textChanged.connect(self._update)
        self.font_box.currentFontChanged.connect(self._update)
        self.pixel_size.valueChanged.connect(self._update)
        self._update()

    def image(self) -> QImage:
        return text_image(self.words.text(), self.font_box.currentFont().family(),
                          self.pixel_size.value())

    def array(self) -> np.ndarray:
        return grey_of_qimage(self.image())

    def _update(self) -> None:
        self.preview.setPixmap(QPixmap.fromImage(self.image()).scaled(PREVIEW, PREVIEW))

    def use(self) -> bool:
        from .. import messages

        words = self.words.text().strip()
        arr = self.array()
        if not words or np.ptp(arr) < 1e-3:
            messages.error(self, "No text", "type some words (they must fit the image at this "
                                            "size)")
            return False
        if use_as_pattern(self.panel, arr, f"text: {words}"):
            self.accept()
            return True
        return False
