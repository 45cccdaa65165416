"""File → Open Recent: the last bundles and surface files opened, kept in QSettings.

``RecentFiles`` is the list (newest first, at most ``LIMIT``, each path once); ``RecentMenu``
fills a menu from it each time the menu opens, first dropping the entries whose folder or
file is gone and saying which (a note, never a silent disappearance).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

KEY = "recent/bundles"
LIMIT = 8


class RecentFiles:
    """The recent list in ``settings`` under ``key`` (absolute paths, newest first)."""

    def __init__(self, settings: QSettings, key: str = KEY, limit: int = LIMIT):
        self.settings, self.key, self.limit = settings, key, limit

    def paths(self) -> list[str]:
        value = self.settings.value(self.key, [])
        if isinstance(value, str):   # an ini file gives one entry back as a plain string
            value = [value]
        return [str(v) for v in (value or []) if isinstance(v, str) and v]

    def _store(self, paths: list[str]) -> None:
        self.settings.setValue(self.key, paths[:self.limit])
        self.settings.sync()

    def add(self, path: str | os.PathLike) -> None:
        """``path`` becomes the newest entry (moved to the front if it was there)."""
        path = str(Path(path).expanduser().absolute())
        self._store([path] + [p for p in self.paths() if p != path])

    def remove(self, path: str | os.PathLike) -> None:
        path = str(Path(path).expanduser().absolute())
        self._store([p for p in self.paths() if p != path])

    def prune(self) -> list[str]:
        """Drop the entries that no longer exist; returns them."""
        paths = self.paths()
        gone = [p for p in paths if not Path(p).exists()]
        if gone:
            self._store([p for p in paths if p not in gone])
        return gone

    def clear(self) -> None:
        self._store([])


class RecentMenu:
    """Keeps ``menu`` equal to the recent list: one entry per path (``open_path(path)``),
    then "Clear". ``note(text)`` says which missing entries were dropped."""

    def __init__(self, menu: QMenu, recent: RecentFiles, open_path: Callable[[str], None],
                 note: Callable[[str], None]):
        self.menu, self.recent, self.open_path, self.note = menu, recent, open_path, note
        menu.aboutToShow.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        gone = self.recent.prune()
        if gone:
            names = ", ".join(Path(p).name for p in gone)
            self.note(f"Open Recent: {len(gone)} missing entr{'y' if len(gone) == 1 else 'ies'} "
                      f"removed ({names})")
        self.menu.clear()
        paths = self._shown = self.recent.paths()
        for i, path in enumerate(paths):
            label = f"&{i + 1} {Path(path).name}" if i < 9 else Path(path).name
            act = self.menu.addAction(label)
            act.setToolTip(path)
            act.setStatusTip(path)
            act.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not paths:
            self.menu.addAction("(none yet)").setEnabled(False)
        self.menu.addSeparator()
        clear = self.menu.addAction("Clear the list")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(lambda: (self.recent.clear(), self.refresh()))

    def entries(self) -> list[str]:
        """The paths the menu offers now (tests)."""
        return list(self._shown)
