"""Draw a pattern: a grey canvas (bright = high loss) with a hard or soft brush of any size,
an eraser, undo, clear and a symmetric (left-right mirror) mode; "Use as pattern" hands the
drawing to the pattern panel like a loaded image (``drawn_patterns.use_as_pattern``).

The drawing is a numpy array of ``SIZE``² values in [0, 1], rows top to bottom (the image's
top is α2 = high), painted onto the widget scaled; nothing is drawn with QPainter into it, so
what the run uses is exactly this array.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .drawn_patterns import use_as_pattern

SIZE = 256          # the drawing's side in pixels: the core's image working resolution
UNDO_LEVELS = 30


def brush_stamp(radius: float, soft: bool) -> np.ndarray:
    """The brush's coverage in [0, 1] on a (2r+1)² patch: a disc, or a Gaussian-like fall-off
    (soft) that reaches 0 at the radius."""
    r = max(0.5, float(radius))
    n = int(np.ceil(r))
    yy, xx = np.mgrid[-n:n + 1, -n:n + 1]
    d = np.hypot(xx, yy) / r
    if soft:
        return np.clip(np.exp(-4.0 * d**2) - np.exp(-4.0), 0, None) / (1 - np.exp(-4.0))
    return (d <= 1.0).astype(np.float64)


class SketchCanvas(QWidget):
    """The drawing surface. Left button draws (or erases); each stroke is one undo step."""

    changed = Signal()

    def __init__(self, size: int = SIZE, parent=None):
        super().__init__(parent)
        self.array = np.zeros((size, size))
        self.radius, self.soft, self.eraser, self.symmetric = 8.0, False, False, False
        self.undo_stack: list[np.ndarray] = []
        self._last: tuple[float, float] | None = None
        self.setMinimumSize(320, 320)
        self.setCursor(Qt.CrossCursor)
        self.setFocusPolicy(Qt.StrongFocus)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(512, 512)

    # --- geometry: the drawing is a square centred in the widget --------------------------------
    def _square(self) -> QRectF:
        side = min(self.width(), self.height())
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def to_array(self, pos: QPointF) -> tuple[float, float]:
        """Widget position → (row, column) of the array (fractional)."""
        sq, n = self._square(), self.array.shape[0]
        return ((pos.y() - sq.top()) / sq.height() * n - 0.5,
                (pos.x() - sq.left()) / sq.width() * n - 0.5)

    # --- drawing --------------------------------------------------------------------------------
    def dab(self, row: float, col: float) -> None:
        """One brush print at (row, col), mirrored left-right in symmetric mode."""
        points = [(row, col)]
        if self.symmetric:
            points.append((row, self.array.shape[1] - 1 - col))
        stamp = brush_stamp(self.radius, self.soft)
        n = stamp.shape[0] // 2
        for r, c in points:
            r0, c0 = int(round(r)) - n, int(round(c)) - n
            rs = slice(max(r0, 0), min(r0 + stamp.shape[0], self.array.shape[0]))
            cs = slice(max(c0, 0), min(c0 + stamp.shape[1], self.array.shape[1]))
            if rs.start >= rs.stop or cs.start >= cs.stop:
                continue
            patch = stamp[rs.start - r0:rs.stop - r0, cs.start - c0:cs.stop - c0]
            region = self.array[rs, cs]
            if self.eraser:
                self.array[rs, cs] = region * (1 - patch)
            else:
                self.array[rs, cs] = np.maximum(region, patch)

    def line_to(self, row: float, col: float) -> None:
        """Dabs from the last point to (row, col), a tenth of the brush apart (a soft
        brush's prints merge into an even line)."""
        if self._last is None:
            self.dab(row, col)
        else:
            r0, c0 = self._last
            steps = max(1, int(np.hypot(row - r0, col - c0) / max(0.5, self.radius / 10)))
            for t in np.linspace(0, 1, steps + 1)[1:]:
                self.dab(r0 + (row - r0) * t, c0 + (col - c0) * t)
        self._last = (row, col)
        self.update()
        self.changed.emit()

    def begin_stroke(self) -> None:
        self.undo_stack.append(self.array.copy())
        del self.undo_stack[:-UNDO_LEVELS]
        self._last = None

    def undo(self) -> None:
        if self.undo_stack:
            self.array = self.undo_stack.pop()
            self.update()
            self.changed.emit()

    def clear(self) -> None:
        self.begin_stroke()
        self.array[:] = 0.0
        self.update()
        self.changed.emit()

    def set_array(self, array: np.ndarray) -> None:
        """Replace the drawing (undoable), e.g. with text or a pasted image."""
        self.begin_stroke()
        self.array = np.clip(np.asarray(array, dtype=np.float64), 0, 1)
        self.update()
        self.changed.emit()

    # --- Qt events ------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.LeftButton:
            self.begin_stroke()
            self.line_to(*self.to_array(event.position()))

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if event.buttons() & Qt.LeftButton and self._last is not None:
            self.line_to(*self.to_array(event.position()))

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self._last = None

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        grey = np.ascontiguousarray(np.round(self.array * 255).astype(np.uint8))
        img = QImage(grey.data, grey.shape[1], grey.shape[0], grey.strides[0],
                     QImage.Format_Grayscale8)
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().window())
        sq = self._square()
        p.drawImage(sq, img)
        if self.symmetric:
            p.setPen(Qt.darkCyan)
            p.drawLine(QPointF(sq.center().x(), sq.top()), QPointF(sq.center().x(), sq.bottom()))
        p.end()


class SketchPadDialog(QDialog):
    """The canvas and its tools; "Use as pattern" makes the drawing the pattern of ``panel``."""

    def __init__(self, panel, parent=None):
        super().__init__(parent or panel.window())   # usable while the panel is disabled
        self.setWindowTitle("Draw a pattern (bright = high loss)")
        self.panel = panel
        self.canvas = SketchCanvas()
        self.size_spin = QSpinBox()
        self.size_spin.setRange(1, 64)
        self.size_spin.setValue(8)
        self.size_spin.setSuffix(" px")
        self.size_spin.valueChanged.connect(lambda v: setattr(self.canvas, "radius", float(v)))
        self.hardness = QComboBox()
        self.hardness.addItems(["hard brush", "soft brush"])
        self.hardness.currentIndexChanged.connect(
            lambda i: setattr(self.canvas, "soft", i == 1))
        self.eraser = QCheckBox("eraser")
        self.eraser.toggled.connect(lambda on: setattr(self.canvas, "eraser", on))
        self.symmetric = QCheckBox("symmetric (mirror left-right)")
        self.symmetric.toggled.connect(self._symmetric)
        self.undo_button, self.clear_button = QPushButton("Undo"), QPushButton("Clear")
        self.undo_button.setShortcut("Ctrl+Z")
        self.undo_button.clicked.connect(self.canvas.undo)
        self.clear_button.clicked.connect(self.canvas.clear)
        self.use_button = QPushButton("Use as pattern")
        self.use_button.setDefault(True)
        self.use_button.clicked.connect(self.use)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        tools = QHBoxLayout()
        for w in (QLabel("brush"), self.size_spin, self.hardness, self.eraser, self.symmetric,
                  self.undo_button, self.clear_button):
            tools.addWidget(w)
        tools.addStretch(1)
        bottom = QHBoxLayout()
        bottom.addWidget(QLabel("The drawing is a 256×256 image: white is the highest loss "
                                "of the range, black the lowest; α1 right, α2 up."), 1)
        bottom.addWidget(self.use_button)
        bottom.addWidget(close)
        lay = QVBoxLayout(self)
        lay.addLayout(tools)
        lay.addWidget(self.canvas, 1)
        lay.addLayout(bottom)

    def _symmetric(self, on: bool) -> None:
        self.canvas.symmetric = on
        self.canvas.update()

    def use(self) -> bool:
        """Hand the drawing to the pattern panel; an empty (constant) drawing has no
        pattern and is refused with a message."""
        from .. import messages

        if np.ptp(self.canvas.array) < 1e-3:
            messages.error(self, "Nothing drawn", "the drawing is one flat grey: draw a shape "
                                                  "first (white is high loss)")
            return False
        if use_as_pattern(self.panel, self.canvas.array, "drawn"):
            self.accept()
            return True
        return False
