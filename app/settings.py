"""QSettings: window geometry and the last choices, restored at start."""

from __future__ import annotations

import json

from PySide6.QtCore import QSettings


def save_settings(window, s: QSettings) -> None:
    s.setValue("window/geometry", window.saveGeometry())
    s.setValue("window/state", window.saveState())
    s.setValue("window/splitter", window.splitter.saveState())
    s.setValue("run/pattern", window.pattern_panel.spec())
    s.setValue("run/dataset", window.dataset_panel.spec())
    s.setValue("run/network", json.dumps(window.network_panel.values()))
    rng = window.pattern_panel.loss_range.range()
    s.setValue("run/loss_range", json.dumps(rng))
    s.setValue("view/tab", window.tabs.currentIndex())
    s.setValue("view/colormap", window.surface3d.cmap.currentText())
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
        net = json.loads(s.value("run/network", "{}") or "{}")
        window.network_panel.set_values(net)
    except (TypeError, ValueError):
        pass
    dataset = s.value("run/dataset")
    if dataset:
        window.dataset_panel.select(str(dataset))
    pattern = s.value("run/pattern")
    if pattern:
        window.pattern_panel.set_mode(window.network_panel.z.value(),
                                      window.network_panel.rgb.isChecked())
        window.pattern_panel.select(str(pattern))
    try:
        rng = json.loads(s.value("run/loss_range", "null") or "null")
        if rng:
            window.pattern_panel.loss_range.set_range(float(rng[0]), float(rng[1]))
    except (TypeError, ValueError, IndexError):
        pass
    cmap = s.value("view/colormap")
    if cmap:
        window.surface3d.cmap.setCurrentText(str(cmap))
    tab = s.value("view/tab")
    if tab is not None:
        try:
            window.tabs.setCurrentIndex(int(tab))
        except (TypeError, ValueError):
            pass
