"""The main window: a run paints the views, images load through one path, the floor holds."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from .conftest import run_to_end


def test_run_fills_views_and_metrics(qtbot, window):
    result = run_to_end(qtbot, window)
    hm = window.heatmaps
    for name in ("target", "train", "test", "error"):
        assert hm.arrays[name] is not None and hm.arrays[name].shape == (16, 16)
        assert hm.images[name].image is not None
    assert np.allclose(hm.arrays["train"], result.measurement.surfaces["train"])
    ds = window.state.dataset
    assert f"{len(ds.train_idx)} samples" in hm.titles["train"]
    assert f"{len(ds.test_idx)} samples" in hm.titles["test"]
    assert "Theorem 1" in window.header.text()
    assert float(window.metrics_panel.rows["PSNR train"].split()[0]) == \
        round(result.metrics["train"]["psnr_db"], 2)
    assert "transfer gap" in window.metrics_panel.rows
    assert window.run_panel.start.isEnabled() and not window.run_panel.cancel.isEnabled()
    assert window.run_panel.curve.getData()[0] is not None
    assert window.surface3d.arrays["test"] is not None


def test_cancel_from_window(qtbot, window):
    window.network_panel.steps.setValue(1_000_000)
    frames = []
    window.controller.progress.connect(frames.append)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.start_run()
    qtbot.waitUntil(lambda: len(frames) > 0, timeout=20_000)
    assert window.actions["cancel"].shortcut().toString() == "Esc"
    qtbot.keyClick(window, Qt.Key_Escape)
    assert not window.controller.running and not window.state.running
    qtbot.waitUntil(lambda: window.controller.live_threads() == 0, timeout=20_000)
    n = len(frames)
    qtbot.wait(100)
    assert len(frames) == n   # nothing of the cancelled run arrives any more
    assert window.run_panel.bar.format() == "cancelled"
    assert "nothing was kept" in window.run_panel.status.text()
    assert window.run_panel.start.isEnabled() and window.state.result is None


def _png(path, size=(40, 30)):
    img = np.zeros(size[::-1], np.uint8)
    img[:, : size[0] // 2] = 255
    Image.fromarray(img).save(path)
    return path


def test_dialog_and_drop_share_load_image(qtbot, window, tmp_path, monkeypatch):
    calls = []
    real = window.pattern_panel.load_image
    monkeypatch.setattr(window.pattern_panel, "load_image",
                        lambda p: calls.append(str(p)) or real(p))
    good = _png(tmp_path / "half.png")
    from app import file_dialogs

    monkeypatch.setattr(file_dialogs, "open_file", lambda *a, **k: str(good))
    window.pattern_panel.open_dialog()
    assert calls == [str(good)]
    assert window.pattern_panel.spec() == str(good)
    target = window.heatmaps.arrays["target"]
    assert target[:4].mean() > target[-4:].mean()  # bright left half = high loss at small alpha_1

    other = _png(tmp_path / "other.png", (20, 20))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(other))])
    drop = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(drop)
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=2000)
    assert calls[1] == str(other) and window.pattern_panel.spec() == str(other)


def test_bad_image_keeps_previous_pattern(qtbot, window, tmp_path, errors):
    before = window.pattern_panel.spec()
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not a png")
    assert window.open_image(bad) is False
    assert window.pattern_panel.spec() == before == "mountains"
    assert errors and "broken.png" in errors[-1][1]
    assert window.pattern_panel.gallery.currentItem().text() == "mountains"


def test_loss_range_below_floor_is_refused(qtbot, window):
    lr = window.pattern_panel.loss_range
    floor = window.state.dataset.entropy("train")
    assert f"{floor:.4f}" in lr.floor_label.text()
    lr.low.setValue(floor - 0.5)
    assert not lr.is_valid() and lr.range() is None
    assert lr.message.isVisibleTo(window) and "floor" in lr.message.text()
    assert not window.run_panel.start.isEnabled()
    assert window.start_run() is None
    lr.reset()
    assert lr.is_valid() and window.run_panel.start.isEnabled()


def test_function_parameters_change_the_spec(qtbot, window):
    assert window.pattern_panel.select("rings")
    spin = window.pattern_panel._param_spins["freq"]
    spin.setValue(5)
    assert window.pattern_panel.spec() == "rings:freq=5"
    assert window.state.choice.config().pattern == "rings:freq=5"


def test_theorem2_is_offered_with_its_structure(qtbot, window):
    panel = window.network_panel
    assert panel.t2.isEnabled() and "dense" not in panel.t2.toolTip()
    assert not panel.theorem_note.isVisibleTo(window)
    panel.t2.click()
    assert window.state.choice.theorem == 2 and "Theorem 2" in window.header.text()
    note = panel.theorem_note.text()
    assert panel.theorem_note.isVisibleTo(window)
    assert "one-hot first-layer biases" in note and "c(x) + g(α)" in note
    assert "block-diagonal" in note and not panel.rgb.isEnabled()
    assert "c(x) + g(α)" in window.heatmaps.caption.text()


def test_settings_remember_choices(qtbot, tmp_path, errors):
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow

    path = str(tmp_path / "s.ini")
    w1 = MainWindow(QSettings(path, QSettings.IniFormat))
    qtbot.addWidget(w1)
    w1.pattern_panel.select("rings")
    w1.network_panel.width.setValue(48)
    w1.surface3d.cmap.setCurrentText("magma")
    w1.close()
    w2 = MainWindow(QSettings(path, QSettings.IniFormat))
    qtbot.addWidget(w2)
    assert w2.pattern_panel.spec() == "rings" and w2.state.choice.pattern == "rings"
    assert w2.network_panel.width.value() == 48 and w2.state.choice.width == 48
    assert w2.surface3d.cmap.currentText() == "magma"
    w2.close()
