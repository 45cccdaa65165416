"""File dialogs that cannot freeze the GUI thread, and remember the last folder.

Qt's own (non-native) dialog is used, with guards: special file systems (/proc, /sys, /dev)
are hidden from its lists and completer, so the view never asks for their files' type (Qt
finds a type by reading the file, on the GUI thread: /proc/kmsg blocks forever), the dialog
never starts in one and is sent home when one is entered, and its file-name field refuses
text that names one (``SafePathValidator``): a typed "/proc/" would make the dialog's model
list /proc and then find its files' icons on the GUI thread, which reads /proc/kmsg and
blocks forever, even though the list hides them. Paths are judged by their text:
nothing here opens a file. (No Python icon provider: Qt calls it from its file-info thread,
which can deadlock on the interpreter lock.) The last folder used is kept per window in its
QSettings.

Tests replace ``open_file``, ``save_file`` and ``folder`` (module functions).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSortFilterProxyModel
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QFileDialog, QLineEdit, QToolTip, QWidget

SPECIAL = ("/proc", "/sys", "/dev")
REFUSED_TIP = ("/proc, /sys and /dev are not browsed here: reading their special files can "
               "hang the app.")
LAST_KEY = "dialogs/last_folder"


def is_special(path: str | os.PathLike) -> bool:
    """A path on a special file system (judged from the text; nothing is read)."""
    p = os.path.normpath(os.path.abspath(os.fspath(path)))
    return any(p == s or p.startswith(s + os.sep) for s in SPECIAL)


class SafeProxy(QSortFilterProxyModel):
    """Hides /proc, /sys and /dev from the dialog's lists and its completer."""

    def filterAcceptsRow(self, row, parent) -> bool:  # noqa: N802 - Qt's name
        model = self.sourceModel()
        index = model.index(row, 0, parent)
        return not is_special(model.filePath(index)) if hasattr(model, "filePath") else True


class SafePathValidator(QValidator):
    """Refuses file-name text that names a special file system (typed, pasted or dropped;
    relative text is judged against the dialog's folder). Refused keys leave the text as
    it was and show why in a tooltip."""

    def __init__(self, dialog: QFileDialog):
        super().__init__(dialog)
        self._dialog = dialog

    def refuses(self, text: str) -> bool:
        path = os.path.expanduser(text.strip().strip('"'))
        if not path:
            return False
        if not os.path.isabs(path):
            path = os.path.join(self._dialog.directory().absolutePath(), path)
        return is_special(path)

    def validate(self, text: str, pos: int):
        if self.refuses(text):
            edit = self._dialog.findChild(QLineEdit, "fileNameEdit")
            if edit is not None and edit.isVisible():
                QToolTip.showText(edit.mapToGlobal(edit.rect().bottomLeft()), REFUSED_TIP, edit)
            return QValidator.Invalid, text, pos
        return QValidator.Acceptable, text, pos


def last_folder(parent: QWidget | None) -> str:
    settings = getattr(parent.window(), "settings", None) if parent is not None else None
    folder = settings.value(LAST_KEY, "") if settings is not None else ""
    if folder and not is_special(folder) and os.path.isdir(folder):
        return str(folder)
    return str(Path.home())


def remember(parent: QWidget | None, path: str) -> None:
    settings = getattr(parent.window(), "settings", None) if parent is not None else None
    if settings is not None and path:
        p = Path(path)
        settings.setValue(LAST_KEY, str(p if p.is_dir() else p.parent))


def make_dialog(parent, title: str, start: str, name_filter: str = "") -> QFileDialog:
    """Qt's dialog with the guards (see the module docstring)."""
    dlg = QFileDialog(parent, title)
    dlg.setOption(QFileDialog.DontUseNativeDialog, True)
    dlg.setProxyModel(SafeProxy(dlg))
    safe = str(Path.home())
    start_dir = str(Path(start).parent) if not os.path.isdir(start) else start
    dlg.setDirectory(safe if is_special(start_dir) else start_dir)
    if not os.path.isdir(start):
        dlg.selectFile(Path(start).name)
    dlg.directoryEntered.connect(lambda d: is_special(d) and dlg.setDirectory(safe))
    edit = dlg.findChild(QLineEdit, "fileNameEdit")
    if edit is not None:
        edit.setValidator(SafePathValidator(dlg))
    if name_filter:
        dlg.setNameFilter(name_filter)
    return dlg


def _run(parent, dlg: QFileDialog) -> str:
    if not dlg.exec():
        return ""
    files = dlg.selectedFiles()
    path = files[0] if files else ""
    if not path or is_special(path):
        return ""
    remember(parent, path)
    return path


def open_file(parent, title: str, name_filter: str) -> str:
    """An existing file to read ("" if none was chosen)."""
    dlg = make_dialog(parent, title, last_folder(parent), name_filter)
    dlg.setFileMode(QFileDialog.ExistingFile)
    return _run(parent, dlg)


def save_file(parent, title: str, name: str, name_filter: str) -> str:
    """A file name to write (``name`` proposed in the last folder; "" if none)."""
    dlg = make_dialog(parent, title, os.path.join(last_folder(parent), name), name_filter)
    dlg.setAcceptMode(QFileDialog.AcceptSave)
    dlg.setFileMode(QFileDialog.AnyFile)
    return _run(parent, dlg)


def folder(parent, title: str) -> str:
    """An existing folder ("" if none was chosen)."""
    dlg = make_dialog(parent, title, last_folder(parent))
    dlg.setFileMode(QFileDialog.Directory)
    dlg.setOption(QFileDialog.ShowDirsOnly, True)
    return _run(parent, dlg)
