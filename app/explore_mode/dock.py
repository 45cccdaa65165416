"""Explore mode in the main window: a dock of its own ("Explore an ordinary network"), hidden
until asked for from View or with Ctrl+Shift+X, floating large over the window so the
construction's views stay as they are (it can be docked like any panel).

The dock's contents (the explorer's form and plots, the paper's warning) are built the first
time the dock is shown or they are asked for (``ExploreHandle``): most sessions never open
explore mode, and building it costs about a third of the window's start-up.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QTabWidget, QWidget

from ..docks import available, make_dock
from .compare import CompareView
from .mode import ExploreMode

SHORTCUT = "Ctrl+Shift+X"
TITLE = "Explore an ordinary network"


class ExploreTabs(QTabWidget):
    """The explorer and the paper's warning (Theorem 2 beside an ordinary network)."""

    def __init__(self, window):
        super().__init__()
        self.mode = ExploreMode(window.state)
        self.compare = CompareView(window.state)
        self.addTab(self.mode, "Explore")
        self.addTab(self.compare, "The paper's warning")

    def shutdown(self) -> bool:
        return self.mode.shutdown() & self.compare.shutdown()


class ExploreHandle:
    """The window's way to the Explore dock's tabs (``window.explore``): ``tabs``, ``mode`` and
    ``compare`` build them into the dock on first use; ``running`` and ``shutdown`` do not
    (nothing runs in tabs that were never built)."""

    def __init__(self, window, dock: QDockWidget):
        self._window, self._dock, self._tabs = window, dock, None
        dock.visibilityChanged.connect(self._visibility_changed)

    @property
    def built(self) -> bool:
        return self._tabs is not None

    @property
    def tabs(self) -> ExploreTabs:
        if self._tabs is None:
            placeholder = self._dock.widget()
            self._tabs = ExploreTabs(self._window)
            self._dock.setWidget(self._tabs)
            placeholder.hide()
            placeholder.deleteLater()
            if self._dock.isVisible():   # a widget set into a shown dock is shown by hand
                self._tabs.show()
        return self._tabs

    def _visibility_changed(self, visible: bool) -> None:
        if visible:
            self.tabs   # noqa: B018 - built as the dock first appears

    @property
    def mode(self) -> ExploreMode:
        return self.tabs.mode

    @property
    def compare(self) -> CompareView:
        return self.tabs.compare

    @property
    def running(self) -> bool:
        """Whether an explore run is under way."""
        return self._tabs is not None and self._tabs.mode.running

    def shutdown(self) -> bool:
        return True if self._tabs is None else self._tabs.shutdown()


def install_explore(window) -> ExploreHandle:
    """Create the Explore dock (hidden, its contents built when first shown), its View entry
    and shortcut; return the handle to its tabs."""
    dock = make_dock(window, TITLE, QWidget(), scroll=False)
    window.addDockWidget(Qt.RightDockWidgetArea, dock)
    dock.setFloating(True)
    avail = available(window)
    dock.resize(min(1600, avail.width()), min(950, avail.height()))
    dock.hide()
    toggle = dock.toggleViewAction()
    toggle.setShortcut(QKeySequence(SHORTCUT))
    toggle.setShortcutContext(Qt.ApplicationShortcut)
    toggle.setToolTip(f"Explore an ordinary network's loss landscape ({SHORTCUT})")
    window.explore_dock = dock
    return ExploreHandle(window, dock)


def show_explore(window, tab: int = 0) -> QDockWidget:
    """Show the Explore dock on ``tab`` (0: explore, 1: the paper's warning)."""
    dock = window.explore_dock
    dock.show()
    dock.raise_()
    window.explore.tabs.setCurrentIndex(tab)
    return dock
