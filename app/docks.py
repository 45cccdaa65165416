"""The panels as dock widgets (collapse, tabify, float, close and reopen from View), and a
window that fits the screen it opens on.

Each panel sits in a scroll area inside its dock, so a short screen scrolls the panel instead
of pushing the views off screen; ``arrange`` picks a default arrangement for the available
screen size (small screens tabify more, so the views keep the room).
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget

LEFT, RIGHT, BOTTOM = Qt.LeftDockWidgetArea, Qt.RightDockWidgetArea, Qt.BottomDockWidgetArea
DEFAULT_SIZE = (1500, 960)   # at most this, and never more than the available screen
SMALL_HEIGHT = 900           # below this: the left panels are tabified
NARROW_WIDTH = 1500          # below this: "Measured" is tabified with "Run" at the bottom


def scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    return area


def make_dock(window: QMainWindow, title: str, widget: QWidget, scroll: bool = True
              ) -> QDockWidget:
    """A dock named ``title`` (its objectName too, for saveState), its toggle in View."""
    dock = QDockWidget(title, window)
    dock.setObjectName("dock-" + title.lower().replace(" ", "-"))
    dock.setWidget(scrolled(widget) if scroll else widget)
    dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
                     | QDockWidget.DockWidgetClosable)
    menu = getattr(window, "view_menu", None)
    if menu is not None:
        menu.addAction(dock.toggleViewAction())
    return dock


def available(window: QWidget) -> QRect:
    screen = window.screen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1280, 720)


def arrange(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """The default arrangement for the available screen (see the module docstring)."""
    avail = available(window)
    left = [docks[k] for k in ("Pattern", "Dataset", "Network and run")]
    for d in left:
        window.addDockWidget(LEFT, d)
    window.tabifyDockWidget(left[0], left[1])
    if avail.height() < SMALL_HEIGHT:
        window.tabifyDockWidget(left[1], left[2])
    window.addDockWidget(BOTTOM, docks["Run"])
    if avail.width() < NARROW_WIDTH:
        window.tabifyDockWidget(docks["Run"], docks["Measured"])
    else:
        window.addDockWidget(RIGHT, docks["Measured"])
    if "Runs" in docks:
        window.tabifyDockWidget(docks["Run"], docks["Runs"])
    left[0].raise_()
    docks["Run"].raise_()
    window.resizeDocks([left[0]], [min(380, avail.width() // 3)], Qt.Horizontal)
    window.resizeDocks([docks["Run"]], [max(150, avail.height() // 5)], Qt.Vertical)


def fit_to_screen(window: QWidget, restored: bool = False) -> None:
    """Open within the available screen: the default size when nothing was restored, and a
    restored geometry clamped (and moved) to the screen it is on now."""
    avail = available(window)
    if not restored:
        w, h = min(DEFAULT_SIZE[0], avail.width()), min(DEFAULT_SIZE[1], avail.height())
        window.resize(w, h)
        window.move(avail.x() + (avail.width() - w) // 2, avail.y() + (avail.height() - h) // 2)
        return
    if window.isMaximized() or window.isFullScreen():
        return
    geo = window.geometry()
    w, h = min(geo.width(), avail.width()), min(geo.height(), avail.height())
    x = min(max(geo.x(), avail.x()), avail.right() + 1 - w)
    y = min(max(geo.y(), avail.y()), avail.bottom() + 1 - h)
    window.setGeometry(x, y, w, h)
