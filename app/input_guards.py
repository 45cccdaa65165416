"""Two application-wide input rules (event filters, no state):

* ``WheelGuard``: spin boxes and combo boxes take the mouse wheel only when they have focus
  (``Qt.StrongFocus``); an unfocused one hands the wheel to its panel's scroll area, so the
  panel scrolls instead of a setting changing under the pointer.
* ``ShortcutKeeper``: the window's shortcuts (Ctrl+E, Ctrl+R, ...) work while a text or number
  field has focus: a line edit claims some of them for editing (Ctrl+E moves to the end of the
  line on X11), so the claim is refused for the keys the window's actions use.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QWidget,
)

GUARDED = (QAbstractSpinBox, QComboBox)


class WheelGuard(QObject):
    """Install with ``guard(widget)``: every spin box and combo box below it is guarded."""

    def guard(self, root: QWidget) -> None:
        for kind in GUARDED:
            for w in root.findChildren(kind):
                self.guard_one(w)

    def guard_one(self, w: QWidget) -> None:
        w.setFocusPolicy(Qt.StrongFocus)
        w.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        # isinstance first: ``event.type()`` builds a Python enum (~20 µs), and the filter
        # sees every event of every guarded widget
        if (isinstance(event, QWheelEvent) and event.type() == QEvent.Wheel
                and isinstance(obj, GUARDED) and not obj.hasFocus()):
            area = _scroll_area(obj)
            if area is not None:   # the panel's scroll area scrolls instead
                QApplication.sendEvent(area.verticalScrollBar(), QWheelEvent(
                    event.position(), event.globalPosition(), event.pixelDelta(),
                    event.angleDelta(), event.buttons(), event.modifiers(), event.phase(),
                    event.inverted()))
            event.accept()   # handled: it goes no further (and changes no setting)
            return True
        return False


def _scroll_area(w: QWidget) -> QAbstractScrollArea | None:
    w = w.parentWidget()
    while w is not None and not isinstance(w, QAbstractScrollArea):
        w = w.parentWidget()
    return w


class ShortcutKeeper(QObject):
    """An application event filter: ``keys`` are the window's shortcuts (QKeySequence)."""

    def __init__(self, keys, parent=None):
        super().__init__(parent)
        self.keys = {QKeySequence(k).toString() for k in keys if k and not QKeySequence(k)
                     .isEmpty()}
        self.keys.discard(QKeySequence("Esc").toString())   # Esc closes popups first

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt's name
        # isinstance first: ``event.type()`` builds a Python enum (~20 µs), and an application
        # filter sees every event of every object (~14 000 while the window is built)
        if isinstance(event, QKeyEvent) and event.type() == QEvent.ShortcutOverride:
            seq = QKeySequence(event.keyCombination()).toString()
            if seq in self.keys:
                event.ignore()   # the field does not claim it: the shortcut fires
                return True
        return False
