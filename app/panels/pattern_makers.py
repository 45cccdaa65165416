"""The pattern panel's row of ways to make a pattern in the app: Draw…, Text…, Paste (Ctrl+V
while the panel has focus). Each opens a non-modal dialog (one of each at a time)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QWidget

from .drawn_patterns import paste_pattern


def _open(panel, attr: str, make) -> QWidget:
    dlg = getattr(panel, attr, None)
    if dlg is None:
        dlg = make(panel)
        setattr(panel, attr, dlg)
    dlg.show()
    dlg.raise_()
    dlg.activateWindow()
    return dlg


def open_sketch_pad(panel):
    from .sketch_pad import SketchPadDialog

    return _open(panel, "sketch_pad", SketchPadDialog)


def open_text_pattern(panel):
    from .text_pattern import TextPatternDialog

    return _open(panel, "text_pattern", TextPatternDialog)


def maker_row(panel) -> QWidget:
    """Draw… / Text… / Paste buttons for ``panel`` (a PatternPanel), and its Ctrl+V."""
    row = QWidget()
    lay = QHBoxLayout(row)
    lay.setContentsMargins(0, 0, 0, 0)
    for text, tip, slot in (
            ("Draw…", "Draw the pattern with a brush (bright = high loss)", open_sketch_pad),
            ("Text…", "Type words as the pattern", open_text_pattern),
            ("Paste", "Paste an image from the clipboard as the pattern (Ctrl+V here)",
             paste_pattern)):
        button = QPushButton(text)
        button.setMinimumWidth(36)   # the three share a narrow column: they shrink, not clip
        button.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        button.setToolTip(tip)
        button.clicked.connect(lambda _=False, slot=slot: slot(panel))
        lay.addWidget(button)
    shortcut = QShortcut(QKeySequence.Paste, panel)
    shortcut.setContext(Qt.WidgetWithChildrenShortcut)   # text fields keep their own Ctrl+V
    shortcut.activated.connect(lambda: paste_pattern(panel))
    panel.paste_shortcut = shortcut
    return row
