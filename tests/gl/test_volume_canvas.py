"""The vispy volume view (z = 3) draws its slice planes, and moving a plane changes pixels."""

from __future__ import annotations

import numpy as np
import pytest


def _blob(g=16):
    x = np.linspace(0, 1, g)
    a, b, c = np.meshgrid(x, x, x, indexing="ij")
    return 3.0 - np.exp(-((a - 0.3) ** 2 + (b - 0.6) ** 2 + (c - 0.5) ** 2) * 10) + 0.5 * a


def test_volume_view_renders_slices_and_follows_sliders(needs_display, qtbot):
    from app.views.volume3d import VolumeView

    view = VolumeView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    qtbot.waitExposed(view)
    vol = _blob()
    view.update_data("target", vol, levels=(float(vol.min()), float(vol.max())))
    view.set_source("target")
    a = view.render((320, 240))
    assert a.shape[:2] == (240, 320)
    rgb = a[..., :3].astype(float)
    assert rgb.std() > 10 and (np.ptp(rgb, axis=2) > 60).mean() > 0.05
    assert all(p.visible for p in view.scene.planes) and view.scene.volume is not None
    moved = []
    view.slices_changed.connect(moved.append)
    view.sliders[0].setValue(100)
    assert moved and abs(moved[-1][0] - 0.1) < 1e-9
    b = view.render((320, 240))
    assert (np.abs(a.astype(int) - b).max(axis=2) > 30).mean() > 0.01
    with pytest.raises(ValueError):
        view.scene.update_data(np.zeros((4, 4)))
