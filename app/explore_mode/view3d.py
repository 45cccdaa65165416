"""The explored train-loss surface in 3-D (vispy, the app's ``SurfaceScene``), with the PCA
path drawn at each snapshot's *real* loss: where the red line leaves the surface, the plane's
picture is off by the projection error the 2-D view's caption states.

The GL canvas is made on first show (a hidden tab costs nothing); z = 2 only (z = 3 shows the
middle slice along α₃, said in the caption).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

PATH_RED = (0.95, 0.1, 0.1, 1.0)


class ExploreSurface3D(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.scene = None
        self.result = None
        self.path_pos: np.ndarray | None = None     # (T, 3) in the scene's unit cube
        self.caption = QLabel("3-D: the measured train loss once a run with z ≥ 2 finishes")
        self.caption.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.caption)

    def _ensure_scene(self) -> None:
        if self.scene is not None:
            return
        from vispy import scene as vscene

        from ..views.surface3d import use_qt_backend
        from ..views.surface_scene import SurfaceScene

        use_qt_backend()
        self.scene = SurfaceScene(size=(640, 480), show=False)
        self.path = vscene.visuals.Line(np.zeros((2, 3), np.float32), color=PATH_RED, width=3,
                                        parent=self.scene.view.scene)
        self.dots = vscene.visuals.Markers(parent=self.scene.view.scene)
        self.path.visible = self.dots.visible = False
        self.layout().addWidget(self.scene.canvas.native, 1)

    def show_result(self, result) -> None:
        self.result = result
        if self.isVisible():
            self._apply()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self.result is not None:
            self._apply()

    def _apply(self) -> None:
        r = self.result
        if r.settings.z < 2:
            self.caption.setText("3-D needs z ≥ 2 (this run is a line: see the curves)")
            return
        self._ensure_scene()
        arr = np.asarray(r.surfaces[("train", "loss")], dtype=np.float64)
        if arr.ndim == 3:
            arr = arr[:, :, arr.shape[2] // 2]
        both = [np.asarray(r.surfaces[(s, "loss")]) for s in ("train", "test")]
        levels = (min(float(a.min()) for a in both), max(float(a.max()) for a in both))
        self.scene.update_data(arr, levels)
        (lo1, hi1), (lo2, hi2) = r.alpha_range[:2]
        text = (f"measured train loss over α ∈ [{lo1:.3g}, {hi1:.3g}] × [{lo2:.3g}, {hi2:.3g}] "
                f"(height and colour: the train and test loss scale)")
        pca = r.pca
        if pca is not None and pca.real_loss is not None:
            c = np.asarray(pca.coords)
            pos = np.stack([(c[:, 0] - lo1) / (hi1 - lo1), (c[:, 1] - lo2) / (hi2 - lo2),
                            [self.scene.height_of(v) for v in pca.real_loss]], axis=1)
            self.path_pos = pos.astype(np.float32)
            self.path.set_data(self.path_pos, color=PATH_RED, width=3)
            self.dots.set_data(self.path_pos, face_color=PATH_RED, size=6, edge_width=0)
            self.path.visible = self.dots.visible = True
            text += (" — red: the training path at each snapshot's real train loss (where it "
                     "leaves the surface, the plane misrepresents the loss)")
        else:
            self.path_pos = None
            self.path.visible = self.dots.visible = False
        self.caption.setText(text + (" — middle slice along α₃" if r.settings.z == 3 else ""))
        self.scene.canvas.update()
