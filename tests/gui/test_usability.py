"""Issue 11's broken items 3, 5, 6, 7 and the export details 20–22: each test fails on the
code before the fix (silent PNG failure, wheel changing settings, dialogs entering /proc,
Ctrl+E swallowed by a number field, 0600 exports, misleading folder messages)."""

from __future__ import annotations

import os
import stat

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app import file_dialogs
from app.actions import (
    VIEW_HEATMAPS,
    bundle_destination,
    export_bundle_interactive,
    export_png_interactive,
    export_view_png,
)
from app.exporting import ExportError, export_bundle

from .conftest import show_finished


@pytest.fixture
def finished(window, made_run):
    """The window after a real tiny run (the session's ``made_run``, not trained again)."""
    show_finished(window, made_run)
    return window


def _png_dialog(monkeypatch, path):
    from app.export_dialog import PngExportDialog

    monkeypatch.setattr(PngExportDialog, "exec", lambda self: True)
    monkeypatch.setattr(file_dialogs, "save_file", lambda *a, **k: str(path))


def test_png_export_to_unwritable_place_says_so(qtbot, window, monkeypatch, errors):
    """Item 3: /proc refuses new files even to root; the user gets a message, not a traceback."""
    _png_dialog(monkeypatch, "/proc/losspattern-test.png")
    export_png_interactive(window)
    assert errors and errors[-1][0] == "Export failed"
    assert "/proc" in errors[-1][1]


def test_png_into_a_file_says_it_is_a_file(qtbot, window, tmp_path, monkeypatch, errors):
    """Item 22: file.png/x.png — the "folder" exists, as a file."""
    blocker = tmp_path / "file.png"
    blocker.write_text("x")
    with pytest.raises(ExportError, match="is a file, not a folder"):
        export_view_png(window, VIEW_HEATMAPS, blocker / "x.png", (200, 100))
    _png_dialog(monkeypatch, blocker / "x.png")
    export_png_interactive(window)
    assert "a file, not a folder" in errors[-1][1]


def test_exports_get_the_users_permissions(finished, tmp_path):
    """Item 20: not a temporary file's 0600 / 0700."""
    old = os.umask(0o022)
    try:
        png = export_view_png(finished, VIEW_HEATMAPS, tmp_path / "v.png", (200, 100))
        out = export_bundle(tmp_path / "b", finished.result)
    finally:
        os.umask(old)
    assert stat.S_IMODE(png.stat().st_mode) == 0o644
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "weights.safetensors").stat().st_mode) == 0o644


def test_bundle_into_an_existing_folder(finished, tmp_path, monkeypatch, errors):
    """Item 21: an existing (empty) folder can be picked; any other gets a bundle inside."""
    empty = tmp_path / "empty"
    empty.mkdir()
    assert bundle_destination(empty, "n") == (empty, True)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "other.txt").write_text("x")
    assert bundle_destination(busy, "n") == (busy / "n", False)
    monkeypatch.setattr(file_dialogs, "folder", lambda *a, **k: str(empty))
    export_bundle_interactive(finished)
    assert not errors and (empty / "construction.json").exists()
    assert bundle_destination(empty, "n") == (empty, True)   # a bundle: replaced after asking


def test_wheel_over_a_spin_box_scrolls_the_panel(qtbot, window):
    """Item 5: an unfocused spin box ignores the wheel; the panel's scroll area scrolls."""
    window.resize(1000, 500)
    dock = window.docks["Network and run"]
    dock.setFloating(True)
    dock.resize(380, 200)
    qtbot.waitUntil(lambda: dock.widget().verticalScrollBar().maximum() > 0, timeout=5000)
    spin, bar = window.network_panel.width, dock.widget().verticalScrollBar()
    window.header.setFocus()
    before, scroll_before = spin.value(), bar.value()
    for _ in range(3):
        event = QWheelEvent(QPointF(5, 5), QPointF(spin.mapToGlobal(QPoint(5, 5))), QPoint(0, 0),
                            QPoint(0, -120), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase,
                            False)
        QApplication.sendEvent(spin, event)
    assert spin.value() == before and window.state.choice.width == before
    assert bar.value() > scroll_before
    dock.setFloating(False)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    dock.raise_()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    event = QWheelEvent(QPointF(5, 5), QPointF(spin.mapToGlobal(QPoint(5, 5))), QPoint(0, 0),
                        QPoint(0, 120), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(spin, event)
    assert spin.value() != before   # focused: the wheel is the user's
    assert spin.focusPolicy() == Qt.StrongFocus
    assert window.network_panel.activation.focusPolicy() == Qt.StrongFocus


def test_ctrl_e_works_from_a_number_field(qtbot, window, errors):
    """Item 7: Ctrl+E (bundle export) while a spin box has focus."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    spin = window.network_panel.steps
    window.docks["Network and run"].raise_()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    qtbot.keyClick(spin.lineEdit() if hasattr(spin, "lineEdit") else spin, Qt.Key_E,
                   Qt.ControlModifier)
    assert errors and errors[-1][0] == "Nothing to export yet"   # the bundle action ran


def test_dialogs_keep_out_of_special_file_systems(qtbot, window):
    """Item 6: /proc, /sys, /dev are judged by their text, hidden, and cannot be entered."""
    assert file_dialogs.is_special("/proc/kmsg") and file_dialogs.is_special("/sys")
    assert file_dialogs.is_special("/dev/../dev/zero")
    assert not file_dialogs.is_special("/tmp/procs") and not file_dialogs.is_special("/home")
    dlg = file_dialogs.make_dialog(window, "t", "/proc/kmsg")
    qtbot.addWidget(dlg)
    assert not file_dialogs.is_special(dlg.directory().absolutePath())
    dlg.directoryEntered.emit("/proc")   # as if entered: the dialog goes home at once
    assert not file_dialogs.is_special(dlg.directory().absolutePath())
    proxy = dlg.proxyModel()
    assert isinstance(proxy, file_dialogs.SafeProxy)
    assert dlg.testOption(dlg.Option.DontUseNativeDialog)


def test_dialogs_remember_the_last_folder(qtbot, window, tmp_path):
    """Item 21: the next dialog opens where the last one was used."""
    file_dialogs.remember(window, str(tmp_path / "x.png"))
    assert file_dialogs.last_folder(window) == str(tmp_path)
    dlg = file_dialogs.make_dialog(window, "t", file_dialogs.last_folder(window))
    qtbot.addWidget(dlg)
    assert dlg.directory().absolutePath() == str(tmp_path)


def test_about_names_version_paper_and_shortcuts(qtbot, window, monkeypatch):
    """Item 23: Help → About."""
    from app import __version__, messages

    seen = []
    monkeypatch.setattr(messages, "info", lambda parent, title, text: seen.append(text))
    window.actions["help"].trigger()
    assert seen and __version__ in seen[0] and "1912.07559" in seen[0]
    assert "Ctrl+E" in seen[0] and "Theorem 2" in seen[0]
    for key in ("Ctrl+Shift+S", "Ctrl+Shift+O", "Ctrl+Shift+X"):   # Export…, Open, Explore
        assert key in seen[0], key


def test_png_export_offers_only_the_modes_views(qtbot, window):
    """Item 1 (its export part): no "curves (z = 1)" for a z = 2 run, no heatmaps for z = 1."""
    from app.actions import VIEW_3D, VIEW_CURVES, png_views

    assert VIEW_CURVES not in png_views(2) and VIEW_CURVES not in png_views(3)
    assert png_views(1)[0] == VIEW_CURVES and VIEW_HEATMAPS not in png_views(1)
    assert VIEW_3D in png_views(window.state.shown.z)
