"""Drawn, typed and pasted patterns: the sketch pad's strokes, mirror and undo; text; the
clipboard; each becomes the pattern the run uses, exactly like a loaded image."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

import losspattern_core as lp
from app.panels import drawn_patterns
from app.panels.drawn_patterns import PROVENANCE_KEY, paste_pattern
from app.panels.sketch_pad import SketchPadDialog
from app.panels.text_pattern import TextPatternDialog, render_text
from losspattern_core.data.pattern_files import bilinear


@pytest.fixture
def pad(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(drawn_patterns, "FOLDER", tmp_path / "patterns")
    window.state.choose(smooth=0.0)   # the pattern is the drawing itself, not blurred
    dlg = SketchPadDialog(window.pattern_panel)
    qtbot.addWidget(dlg)
    dlg.resize(700, 700)
    dlg.show()
    qtbot.waitExposed(dlg)
    return dlg


def drag(canvas, points) -> None:
    """A left-button stroke through widget ``points`` (press, moves with the button held,
    release), as the user's mouse sends it."""
    QTest.mousePress(canvas, Qt.LeftButton, Qt.NoModifier, QPoint(*points[0]))
    for x, y in points[1:]:
        pos = QPointF(x, y)
        event = QMouseEvent(QEvent.MouseMove, pos, canvas.mapToGlobal(pos), Qt.NoButton,
                            Qt.LeftButton, Qt.NoModifier)
        QApplication.sendEvent(canvas, event)
    QTest.mouseRelease(canvas, Qt.LeftButton, Qt.NoModifier, QPoint(*points[-1]))


def cell(canvas, x: int, y: int) -> tuple[int, int]:
    r, c = canvas.to_array(QPointF(x, y))
    return int(round(r)), int(round(c))


def test_a_stroke_draws_where_the_mouse_went(pad):
    c = pad.canvas
    w, h = c.width(), c.height()
    drag(c, [(w // 4, h // 2), (w // 3, h // 2)])
    r0, c0 = cell(c, w // 4, h // 2)
    r1, c1 = cell(c, w // 3, h // 2)
    assert c.array[r0, c0] == 1.0 and c.array[r1, (c0 + c1) // 2] == 1.0
    assert c.array[:r0 - 20].max() == 0.0 and c.array[r0 + 20:].max() == 0.0   # nothing else
    assert c.array[:, c.array.shape[1] // 2 + 5:].max() == 0.0   # not mirrored by default


def test_symmetric_mode_mirrors_left_right(pad):
    pad.symmetric.setChecked(True)
    c = pad.canvas
    drag(c, [(c.width() // 4, c.height() // 3), (c.width() // 3, c.height() // 2)])
    assert c.array.sum() > 0
    assert c.array[:, c.array.shape[1] // 2:].sum() > 0.4 * c.array.sum()
    assert np.abs(c.array - c.array[:, ::-1]).sum() < 0.05 * c.array.sum()


def test_eraser_soft_brush_and_undo(pad):
    c = pad.canvas
    drag(c, [(c.width() // 2 - 40, c.height() // 2), (c.width() // 2 + 40, c.height() // 2)])
    after_first = c.array.copy()
    pad.eraser.setChecked(True)
    drag(c, [(c.width() // 2, c.height() // 2)])
    r, col = cell(c, c.width() // 2, c.height() // 2)
    assert c.array[r, col] == 0.0 and after_first[r, col] == 1.0
    pad.undo_button.click()
    assert np.array_equal(c.array, after_first)
    pad.eraser.setChecked(False)
    pad.hardness.setCurrentIndex(1)   # soft: values between 0 and 1 at the rim
    drag(c, [(c.width() // 4, c.height() // 4)])
    assert ((c.array > 0.05) & (c.array < 0.95)).any()
    pad.clear_button.click()
    assert c.array.max() == 0.0
    pad.undo_button.click()
    assert c.array.max() == 1.0


def test_the_run_uses_the_drawing(pad, window):
    c = pad.canvas
    drag(c, [(c.width() // 5, c.height() // 5), (c.width() // 2, c.height() // 3),
             (c.width() // 3, 4 * c.height() // 5)])
    drawn = c.array.copy()
    assert pad.use()
    st = window.state
    path = st.choice.pattern
    with Image.open(path) as im:
        assert im.text[PROVENANCE_KEY] == "drawn" and im.size == (256, 256)
    # what a run would use, resolved from the chosen settings alone (the file is read again)
    resolved = lp.validate(st.choice.config(), dataset=st.dataset)
    grid = st.choice.grid
    quantised = np.round(drawn * 255) / 255
    expected = bilinear(quantised, lp.grid_points(grid, 2)).reshape(grid, grid)
    low, high = resolved.loss_range.low, resolved.loss_range.high
    assert np.allclose(resolved.target(), low + (high - low) * expected, atol=1e-9)
    # orientation: the drawing's top-left is alpha_1 = 0, alpha_2 = 1
    assert np.isclose(expected[0, -1], quantised[0, 0])


def test_text_pattern_is_bright_where_the_text_is(qtbot, window, tmp_path, monkeypatch):
    arr = render_text("HI", pixel_size=120)
    assert arr.shape == (256, 256)
    rows, cols = np.nonzero(arr > 0.5)
    assert 60 < rows.mean() < 196 and 60 < cols.mean() < 196   # centred
    assert arr[:20].max() == 0 and arr[:, :20].max() == 0       # dark around it
    assert render_text("", pixel_size=120).max() == 0
    monkeypatch.setattr(drawn_patterns, "FOLDER", tmp_path / "patterns")
    dlg = TextPatternDialog(window.pattern_panel)
    qtbot.addWidget(dlg)
    dlg.words.setText("LOSS")
    assert dlg.use()
    with Image.open(window.state.choice.pattern) as im:
        assert im.text[PROVENANCE_KEY] == "text: LOSS"
    assert window.state.pattern.grid(16).max() > 0.5


def test_clipboard_image_becomes_the_pattern(qtbot, window, tmp_path, monkeypatch):
    monkeypatch.setattr(drawn_patterns, "FOLDER", tmp_path / "patterns")
    window.state.choose(smooth=0.0)
    image = QImage(64, 64, QImage.Format_RGB32)
    image.fill(Qt.black)
    for y in range(64):
        for x in range(32, 64):   # the right half white
            image.setPixel(x, y, 0xFFFFFFFF)
    QGuiApplication.clipboard().setImage(image)
    assert paste_pattern(window.pattern_panel)
    path = window.state.choice.pattern
    with Image.open(path) as im:
        assert im.text[PROVENANCE_KEY] == "clipboard"
    t = window.state.pattern.grid(8)
    assert t[:3].max() < 0.05 and t[-3:].min() > 0.95   # axis 0 is alpha_1: right is high
    QGuiApplication.clipboard().clear()


def test_drawn_pattern_run_and_its_bundle(qtbot, pad, window, tmp_path):
    """The run a drawing produced; its bundle keeps the drawing and says it was drawn."""
    from app.exporting import export_bundle

    from .conftest import run_to_end

    c = pad.canvas
    drag(c, [(c.width() // 4, c.height() // 4), (3 * c.width() // 4, 3 * c.height() // 4)])
    drawn = np.round(c.array * 255) / 255
    assert pad.use()
    run_to_end(qtbot, window)
    out = export_bundle(tmp_path / "bundle", window.result)
    b = lp.load_bundle(out)   # checksums checked, pattern.npy included
    assert b.meta["pattern"]["provenance"] == "drawn"
    saved = np.load(out / b.meta["pattern"]["array"])
    assert np.allclose(saved, drawn[::-1].T, atol=1e-6)   # axis 0 = alpha_1, axis 1 = alpha_2 up
