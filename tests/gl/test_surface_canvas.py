"""The vispy surface canvas draws a real, non-uniform image (needs an X server with GL)."""

from __future__ import annotations

import numpy as np
import pytest


def _bumpy(g=24):
    x = np.linspace(0, 1, g)
    return 2.5 + np.sin(6 * x)[:, None] * np.cos(4 * x)[None, :]


def test_surface_view_renders_offscreen_at_size(needs_display, qtbot):
    from app.views.surface3d import SurfaceView

    view = SurfaceView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    qtbot.waitExposed(view)
    view.update_data("target", _bumpy(), levels=(1.5, 3.5))
    view.set_source("target")
    img = view.render((320, 240))
    assert img.shape[:2] == (240, 320) and img.dtype == np.uint8
    rgb = img[..., :3].astype(float)
    assert rgb.std() > 10
    # the surface is coloured with viridis: some pixels are far from white/grey
    assert (np.ptp(rgb, axis=2) > 60).mean() > 0.05
    assert view.scene.marker.visible


def test_colormap_and_source_switch_change_pixels(needs_display, qtbot):
    from app.views.surface3d import SurfaceView

    view = SurfaceView()
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.update_data("target", _bumpy(), levels=(1.5, 3.5))
    view.update_data("train", _bumpy().T * 0.3 + 1.8, levels=(1.5, 3.5))
    view.set_source("target")
    a = view.render((200, 150))
    view.set_source("train")
    b = view.render((200, 150))
    view.cmap.setCurrentText("magma")
    c = view.render((200, 150))
    changed = lambda x, y: (np.abs(x.astype(int) - y).max(axis=2) > 30).mean()
    assert changed(a, b) > 0.05 and changed(b, c) > 0.05
    with pytest.raises(ValueError):
        view.scene.update_data(np.zeros(5))
