"""QSettings: window geometry, and the state's choices and view settings, restored at start.

The state is saved as JSON (``AppState.saved``) and restored through ``AppState.restore``,
which skips whatever it cannot use; no widget is read or written here except the window's own
geometry and dock layout.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings

STATE_KEY = "state/json"


def save_settings(window, s: QSettings) -> None:
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState())
    s.setValue(STATE_KEY, json.dumps(window.state.saved()))
    s.sync()


def load_settings(window, s: QSettings) -> bool:
    """Restore what was saved; anything unreadable is skipped (defaults stay). True when a
    window geometry was restored (the caller clamps it to the screen)."""
    geo = s.value("window/geometry")
    restored = geo is not None and bool(window.restoreGeometry(geo))
    docks = s.value("window/state")
    if docks is not None:
        window.restoreState(docks)
    try:
        saved = json.loads(s.value(STATE_KEY, "{}") or "{}")
    except (TypeError, ValueError):
        return restored
    if isinstance(saved, dict):
        window.state.restore(saved)
    return restored
