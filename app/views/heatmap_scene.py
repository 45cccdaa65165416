"""Target / train / test / error heatmaps as a vispy scene (no Qt: used by ``app.render``).

The Qt window draws its heatmaps with pyqtgraph; this is the windowless counterpart with the
same panels, titles and shared colour scale.
"""

from __future__ import annotations

import numpy as np

from .arrays import plane, shared_levels


class HeatmapScene:
    def __init__(self, size=(1200, 1000), bgcolor="white"):
        from vispy import scene

        self._scene = scene
        self.canvas = scene.SceneCanvas(keys=None, size=size, show=False, bgcolor=bgcolor)
        self.grid = self.canvas.central_widget.add_grid(margin=8)

    def set_data(self, target: np.ndarray, surfaces: dict[str, np.ndarray], heads: int = 1,
                 titles: dict[str, str] | None = None, header: str = "") -> None:
        scene = self._scene
        t = plane(target, heads)
        tr, te = plane(surfaces["train"], heads), plane(surfaces["test"], heads)
        lo, hi = shared_levels([t, tr, te])
        err = tr - t
        emax = max(float(np.abs(err).max()), 1e-6)
        titles = titles or {}
        panels = [("target", t, "viridis", (lo, hi)), ("train", tr, "viridis", (lo, hi)),
                  ("test", te, "viridis", (lo, hi)), ("error", err, "coolwarm", (-emax, emax))]
        head = scene.Label(header, color="black", font_size=11)
        head.stretch = (1, 0.08)
        self.grid.add_widget(head, row=0, col=0, col_span=2)
        for i, (name, arr, cmap, clim) in enumerate(panels):
            cell = self.grid.add_grid(row=1 + i // 2, col=i % 2, margin=4)
            label = scene.Label(titles.get(name, name) + f"   [{clim[0]:.3g}, {clim[1]:.3g}]",
                                color="black", font_size=9)
            label.stretch = (1, 0.1)
            cell.add_widget(label, row=0, col=0)
            view = cell.add_view(row=1, col=0, border_color="gray")
            # Image rows are y: transpose so axis 0 (alpha_1) runs along x, and y points up.
            img = scene.visuals.Image(np.ascontiguousarray(arr.T.astype(np.float32)),
                                      cmap=cmap, clim=clim, parent=view.scene)
            img.interpolation = "nearest"
            view.camera = scene.PanZoomCamera(aspect=1)
            view.camera.flip = (False, False, False)
            view.camera.set_range(x=(0, arr.shape[0]), y=(0, arr.shape[1]), margin=0)

    def render(self, size=None) -> np.ndarray:
        if size is not None and tuple(self.canvas.size) != tuple(size):
            self.canvas.size = tuple(int(v) for v in size)
        return self.canvas.render(alpha=False)
