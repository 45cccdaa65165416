"""Explore mode in the main window: a dock of its own ("Explore an ordinary network"), hidden
until asked for from View or with Ctrl+Shift+X, floating large over the window so the
construction's views stay as they are (it can be docked like any panel).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QTabWidget

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


def install_explore(window) -> ExploreTabs:
    """Create the Explore dock (hidden), its View entry and shortcut; return its tabs."""
    tabs = ExploreTabs(window)
    dock = make_dock(window, TITLE, tabs, scroll=False)
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
    return tabs


def show_explore(window, tab: int = 0) -> QDockWidget:
    """Show the Explore dock on ``tab`` (0: explore, 1: the paper's warning)."""
    dock = window.explore_dock
    dock.show()
    dock.raise_()
    dock.widget().setCurrentIndex(tab)
    return dock



