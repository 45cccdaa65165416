"""Every user-facing message box goes through here (tests replace these functions).

``confirm`` asks a yes/no question (before discarding work, replacing a file)."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def error(parent: QWidget | None, title: str, text: str) -> None:
    QMessageBox.warning(parent, title, text)


def confirm(parent: QWidget | None, title: str, text: str) -> bool:
    answer = QMessageBox.question(parent, title, text,
                                  QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
    return answer == QMessageBox.Yes


def info(parent: QWidget | None, title: str, text: str) -> None:
    """An information box (``text`` may be rich text)."""
    QMessageBox.about(parent, title, text)
