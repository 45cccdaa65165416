"""Opening bundles and surface files: File → Open bundle…, Open Recent, drag and drop, and the
command line all end in ``BundleOpener.open_path``.

The bundle is read and checked by the core (``lp.reopen_bundle``: every file validated, the
network rebuilt) on a Python thread; the result comes back to the GUI thread through a queued
signal, becomes a finished run (``opened_run.py``) in the run history, and is shown. A newer
request supersedes an older one (its late answer is dropped). What the core refuses (not a
bundle, a newer format, a corrupt file) is shown in a message box naming the problem; the app
keeps running.
"""

from __future__ import annotations

import threading
import traceback
from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QStyle, QToolBar

import losspattern_core as lp

from . import file_dialogs, messages
from .opened_run import register, run_from_opened, source_of
from .recent_files import RecentFiles, RecentMenu

SURFACE_SUFFIXES = (".h5", ".hdf5")


def is_openable(path: str | Path) -> bool:
    """Judged from the path alone: a folder (a bundle) or an .h5 surface file."""
    p = Path(path)
    return p.is_dir() or p.suffix.lower() in SURFACE_SUFFIXES


class _Relay(QObject):
    """Lives in the GUI thread; the reading thread emits through it (queued delivery)."""

    opened = Signal(int, str, object)   # request, path, lp.Reopened
    failed = Signal(int, str, str)      # request, path, message


class BundleOpener(QObject):
    """Signals: ``opened(run_id)`` once an opened run is in the history (and shown, unless a
    run is under way); ``failed(path, message)`` after the message box."""

    opened = Signal(int)
    failed = Signal(str, str)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.recent = RecentFiles(window.settings)
        self._relay = _Relay(self)
        self._relay.opened.connect(self._arrived)
        self._relay.failed.connect(self._refused)
        self._request = 0
        self._threads: list[threading.Thread] = []
        self.loading: str | None = None   # the path being read

    # --- public API ----------------------------------------------------------------------------
    def open_path(self, path: str | Path) -> None:
        """Read ``path`` (bundle folder or .h5) off the GUI thread, then show it."""
        path = str(Path(path).expanduser())
        self._request += 1
        request, relay = self._request, self._relay
        self.loading = path
        self.window.statusBar().showMessage(f"opening {path}…")

        def work() -> None:
            try:
                opened = lp.reopen_bundle(path)
            except lp.LossPatternError as exc:
                relay.failed.emit(request, path, str(exc))
            except Exception as exc:  # a bug, not the file: say so, keep the log
                traceback.print_exc()
                relay.failed.emit(request, path, f"{type(exc).__name__}: {exc}")
            else:
                relay.opened.emit(request, path, opened)

        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=work, name=f"open-bundle-{request}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def open_dropped(self, path: str) -> None:
        """A dropped folder or .h5 opens as a bundle; anything else as a pattern image."""
        if is_openable(path):
            self.open_path(path)
        else:
            self.window.open_image(path)

    def open_dialog(self) -> None:
        folder = file_dialogs.folder(self.window, "Open a bundle (a folder with "
                                     "construction.json)")
        if folder:
            self.open_path(folder)

    def open_h5_dialog(self) -> None:
        path = file_dialogs.open_file(self.window, "Open a loss-landscape surface file",
                                      "HDF5 surface (*.h5 *.hdf5)")
        if path:
            self.open_path(path)

    def wait(self, timeout: float = 30.0) -> bool:
        """Join the reading threads (window close)."""
        for t in list(self._threads):
            t.join(timeout)
        return not any(t.is_alive() for t in self._threads)

    # --- answers (GUI thread) ------------------------------------------------------------------
    def _arrived(self, request: int, path: str, reopened) -> None:
        if request != self._request:
            return   # superseded by a newer request
        self.loading = None
        window, state = self.window, self.window.state
        run = run_from_opened(self._next_run_id(), reopened)
        source = source_of(reopened)
        try:
            shown = register(state, run, source)
        except Exception as exc:  # a view that cannot show it is a bug: say so, keep the log
            traceback.print_exc()
            messages.error(window, "Cannot show this bundle", f"{path} was read, but showing "
                           f"it failed ({type(exc).__name__}: {exc})")
            self.failed.emit(path, str(exc))
            return
        self.recent.add(path)
        window.statusBar().showMessage(
            f"opened {path} as run {run.run_id}" + ("" if shown else " (in the Runs list)")
            + ("; " + "; ".join(source.notes) if source.notes else ""), 10000)
        self.opened.emit(run.run_id)

    def _refused(self, request: int, path: str, message: str) -> None:
        if request != self._request:
            return
        self.loading = None
        if not Path(path).exists():
            self.recent.remove(path)
        self.window.statusBar().showMessage(f"could not open {path}", 10000)
        messages.error(self.window, "Cannot open this bundle", message)
        self.failed.emit(path, message)

    def _next_run_id(self) -> int:
        """An id no run has: above the controller's and the history's; the controller counts
        on from it so that its next run cannot take it."""
        controller = self.window.controller
        taken = [r.run_id for r in self.window.state.runs.history] + [controller._run_id]
        controller._run_id = max(taken) + 1
        return controller._run_id


def install_opening(window) -> BundleOpener:
    """The opener, its File menu entries (after "Open image…") and their shortcuts."""
    opener = BundleOpener(window)
    style = window.style()
    acts = {}
    for key, text, shortcut, slot, tip in (
            ("open_bundle", "Open &bundle…", "Ctrl+Shift+O", opener.open_dialog,
             "Reopen a saved bundle (construction, explored landscape or baseline) with its "
             "views, metrics and provenance (or drop its folder on the window)"),
            ("open_h5", "Open loss-landscape &h5…", None, opener.open_h5_dialog,
             "Open a loss-landscape .h5 surface file (tomgoldstein/loss-landscape)")):
        act = QAction(style.standardIcon(QStyle.SP_DirOpenIcon), text, window)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
        act.setShortcutContext(Qt.ApplicationShortcut)
        act.setToolTip(tip)
        act.setStatusTip(tip)
        act.triggered.connect(slot)
        window.addAction(act)
        acts[key] = act
    file_menu = _file_menu(window)
    after = window.actions.get("open")
    actions = file_menu.actions()
    before = actions[actions.index(after) + 1] if after in actions and \
        actions.index(after) + 1 < len(actions) else None
    recent_menu = QMenu("Open &Recent", window)
    for act in (acts["open_bundle"], acts["open_h5"]):
        file_menu.insertAction(before, act)
    file_menu.insertMenu(before, recent_menu)
    opener.recent_menu = RecentMenu(recent_menu, opener.recent, opener.open_path,
                                    lambda text: window.statusBar().showMessage(text, 10000))
    _on_toolbar(window, after, acts["open_bundle"])
    window.actions.update(acts)
    return opener


def _on_toolbar(window, after, act: QAction) -> None:
    """``act`` on the main toolbar, after ``after`` ("Open image")."""
    bar = window.findChild(QToolBar, "main-toolbar")
    if bar is None:
        return
    items = bar.actions()
    i = items.index(after) + 1 if after in items else len(items)
    bar.insertAction(items[i] if i < len(items) else None, act)


def _file_menu(window) -> QMenu:
    for act in window.menuBar().actions():
        if act.menu() is not None and act.text().replace("&", "") == "File":
            return act.menu()
    return window.menuBar().addMenu("&File")


def open_at_start(window, path: str) -> None:
    """The command line's bundle: opened once the window is up (off the GUI thread)."""
    QTimer.singleShot(0, lambda: window.opening.open_path(path))
