"""While the camera of a 3-D view moves, new data waits; once it rests the newest is shown.

Needs an X server with GL. The drag is real Qt mouse input on the canvas (vispy turns the
camera from it); assertions count frames and compare arrays, never seconds.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.views.surface3d import PAINT_3D_MS


def _surface(g=16, shift=0.0):
    x = np.linspace(0, 1, g)
    return 2.5 + np.sin(6 * x + shift)[:, None] * np.cos(4 * x)[None, :]


def _shown_view(qtbot):
    from app.views.surface3d import SurfaceView

    view = SurfaceView()
    qtbot.addWidget(view)
    view.resize(480, 360)
    view.show()
    qtbot.waitExposed(view)
    view._wait_first_draw(timeout_s=30)
    frames = []   # the data each drawn frame showed
    view.scene.canvas.events.draw.connect(lambda event: frames.append(view.scene.data))
    return view, frames


def test_data_arriving_during_a_drag_is_applied_after_it_newest_first(needs_display, qtbot):
    view, frames = _shown_view(qtbot)
    first = _surface(shift=0.0)
    view.update_data("train", first, levels=(1.0, 4.0))
    view.flush()
    caption_before = view.caption.text()
    native = view.scene.canvas.native
    centre = native.rect().center()
    azimuth = view.scene.view.camera.azimuth
    QTest.mousePress(native, Qt.LeftButton, Qt.NoModifier, centre)
    drawn_at_press = len(frames)
    newest = None
    for k in range(1, 6):   # frames of a run arrive while the person keeps dragging
        QTest.mouseMove(native, centre + QPoint(12 * k, 3 * k))
        newest = _surface(shift=0.5 * k)
        view.update_data("train", newest, levels=(1.0, 4.0 + k))
        qtbot.wait(PAINT_3D_MS + 30)   # the paint timer has fired: the data was held back
        assert np.array_equal(view.scene.data, first.astype(np.float32))
        assert view.holding_data
    assert view.scene.view.camera.azimuth != azimuth        # the drag turned the camera
    assert len(frames) > drawn_at_press                     # and frames were drawn meanwhile
    assert view.caption.text() == caption_before            # the caption names what is shown
    assert all(f is frames[drawn_at_press] for f in frames[drawn_at_press:])   # the first data
    QTest.mouseRelease(native, Qt.LeftButton, Qt.NoModifier, centre + QPoint(60, 15))
    qtbot.waitUntil(lambda: not view.holding_data, timeout=5000)
    assert np.array_equal(view.scene.data, newest.astype(np.float32))
    assert view.scene.levels == (1.0, 9.0)
    qtbot.waitUntil(lambda: frames[-1] is view.scene.data, timeout=5000)   # and now one does


def test_a_program_turning_the_camera_holds_data_until_it_rests(needs_display, qtbot):
    view, frames = _shown_view(qtbot)
    first, second = _surface(shift=0.0), _surface(shift=1.0)
    view.update_data("train", first, levels=(1.0, 4.0))
    view.flush()
    view.camera_idle.set_idle_ms(2000)   # rest far beyond the paint timer, even on a busy host
    camera = view.scene.view.camera
    camera.azimuth = (camera.azimuth + 5) % 360   # as the benchmark turns it: no mouse
    assert view.camera_idle.moving
    view.update_data("train", second, levels=(1.0, 4.0))
    qtbot.waitUntil(lambda: view.holding_data, timeout=5000)   # the paint timer fired
    assert np.array_equal(view.scene.data, first.astype(np.float32))
    qtbot.waitUntil(lambda: not view.holding_data, timeout=10000)
    assert not view.camera_idle.moving
    assert np.array_equal(view.scene.data, second.astype(np.float32))
    qtbot.waitUntil(lambda: frames[-1] is view.scene.data, timeout=5000)


def test_flush_applies_held_data_at_once(needs_display, qtbot):
    """An export flushes: it draws the newest data even in the middle of a drag."""
    view, _ = _shown_view(qtbot)
    view.update_data("train", _surface(shift=0.0), levels=(1.0, 4.0))
    view.flush()
    native = view.scene.canvas.native
    QTest.mousePress(native, Qt.LeftButton, Qt.NoModifier, native.rect().center())
    newest = _surface(shift=2.0)
    view.update_data("train", newest, levels=(1.0, 4.0))
    qtbot.wait(PAINT_3D_MS + 30)
    assert view.holding_data
    view.flush()
    assert not view.holding_data
    assert np.array_equal(view.scene.data, newest.astype(np.float32))
    QTest.mouseRelease(native, Qt.LeftButton, Qt.NoModifier, native.rect().center())
