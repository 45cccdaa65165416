"""QSettings: window geometry, and the state's choices and view settings, restored at start.

The state is saved as JSON (``AppState.saved``) and restored through ``AppState.restore``,
which skips whatever it cannot use; no widget is read or written here except the window's own
geometry and splitter.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings

STATE_KEY = "state/json"


def save_settings(window, s: QSettings) -> None:
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState())
    s.setValue("window/splitter", window.splitter.saveState())
    s.setValue(STATE_KEY, json.dumps(window.state.saved()))
    s.sync()


def load_settings(window, s: QSettings) -> None:
    """Restore what was saved; anything unreadable is skipped (defaults stay)."""
    geo = s.value("window/geometry")
    if geo is not None:
        window.restoreGeometry(geo)
    split = s.value("window/splitter")
    if split is not None:
        window.splitter.restoreState(split)
    try:
        saved = json.loads(s.value(STATE_KEY, "{}") or "{}")
    except (TypeError, ValueError):
        return
    if isinstance(saved, dict):
        window.state.restore(saved)
