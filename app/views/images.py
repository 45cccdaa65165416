"""numpy arrays -> QImage/QPixmap thumbnails (alpha_1 right, alpha_2 up)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QImage, QPixmap


def to_rgb8(arr: np.ndarray, cmap: str = "viridis", levels=None) -> np.ndarray:
    """(G, G) values or (3, G, G) channels in [0, 1] -> (H, W, 3) uint8, upright."""
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim == 3:  # three heads: an RGB picture
        rgb = np.clip(np.moveaxis(a, 0, -1), 0, 1)
        return np.ascontiguousarray((rgb.transpose(1, 0, 2)[::-1] * 255).astype(np.uint8))
    lo, hi = levels if levels is not None else (float(a.min()), float(a.max()))
    norm = np.clip((a - lo) / max(hi - lo, 1e-12), 0, 1)
    rgba = pg.colormap.get(cmap).map(norm.T[::-1].ravel(), mode="byte")
    return np.ascontiguousarray(rgba[:, :3].reshape(norm.shape[1], norm.shape[0], 3))


def pixmap(arr: np.ndarray, size: int, cmap: str = "viridis", levels=None) -> QPixmap:
    rgb = to_rgb8(arr, cmap, levels)
    h, w, _ = rgb.shape
    img = QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()
    return QPixmap.fromImage(img).scaled(size, size)
