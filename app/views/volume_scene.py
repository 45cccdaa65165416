"""A 3-D loss volume (z = 3) as a plain vispy canvas wrapper (no Qt).

The wrapper owns a SceneCanvas with a faint translucent Volume of the whole G^3 array and three
opaque axis-aligned slice planes (alpha_1, alpha_2 and alpha_3 held fixed), drawn with the same
colour scale, in the unit cube (x = alpha_1, y = alpha_2, z = alpha_3), plus the pattern's
minimum as a marker. ``update_data`` takes a (G, G, G) array (axis i = direction i + 1).
"""

from __future__ import annotations

import numpy as np

from .arrays import AXIS_NAMES, slice_plane
from .surface_scene import Scene3D

AXIS_COLOURS = ("red", "green", "blue")
HAZE_PERCENTILES = (2.0, 60.0)   # the haze's colour and opacity span these data percentiles


def haze_clim(data: np.ndarray) -> tuple[float, float]:
    """The haze's value range from the data itself, not the shared colour scale: its low
    values (the valleys, where the minimum is) get the whole opacity ramp, so a volume whose
    losses fill a small part of the scale is not a uniform grey fog."""
    lo, hi = (float(v) for v in np.nanpercentile(data, HAZE_PERCENTILES))
    if not hi > lo:
        lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
    return (lo, hi) if hi > lo else (lo, lo + 1e-6)


def _plane_matrix(axis: int, n_u: int, n_v: int, pos: float) -> np.ndarray:
    """Row-vector matrix taking an Image's (u = column, v = row) pixel coordinates onto the
    slice plane that holds direction ``axis`` at ``pos`` (the other two in increasing order)."""
    free = [i for i in range(3) if i != axis]
    m = np.zeros((4, 4), np.float32)
    m[0, free[0]] = 1.0 / n_u
    m[1, free[1]] = 1.0 / n_v
    m[2, axis] = 1.0
    m[3, axis] = pos
    m[3, 3] = 1.0
    return m


class VolumeScene(Scene3D):
    def __init__(self, canvas=None, size=(640, 480), show=False, bgcolor="white",
                 cmap: str = "viridis"):
        super().__init__(canvas, size, show, bgcolor, cmap, elevation=24, azimuth=-35,
                         distance=2.9, center=(0.5, 0.5, 0.45))
        scene = self._scene
        self.slices = [0.5, 0.5, 0.5]   # where each plane holds its direction, in [0, 1]
        self.show_volume = True
        self.volume = None
        self.planes = [scene.visuals.Image(np.zeros((2, 2), np.float32), cmap=cmap,
                                           parent=self.view.scene) for _ in range(3)]
        for img in self.planes:
            img.interpolation = "nearest"
            img.transform = scene.transforms.MatrixTransform()
            img.visible = False
        self.marker = scene.visuals.Markers(parent=self.view.scene)
        self.marker.visible = False
        self.marker_xyz: tuple[float, float, float] | None = None
        self._frame(scene)

    def _frame(self, scene) -> None:
        """The unit cube's edges and the three labelled axes."""
        c = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], np.float32)
        edges = [(a, b) for a in range(8) for b in range(a + 1, 8)
                 if np.abs(c[a] - c[b]).sum() == 1]
        seg = np.array([c[i] for e in edges for i in e], np.float32)
        scene.visuals.Line(seg, color=(0.6, 0.6, 0.6, 1), connect="segments",
                           parent=self.view.scene)
        from vispy.color import Color

        # the three axes in one Line and their names in one Text: each visual costs the
        # software renderer on every frame of a rotation
        ends = np.eye(3, dtype=np.float32) * 1.15
        colours = np.array([Color(c).rgba for c in AXIS_COLOURS], np.float32)
        axes = np.concatenate([[np.zeros(3, np.float32), end] for end in ends])
        scene.visuals.Line(axes, color=np.repeat(colours, 2, axis=0), width=2,
                           connect="segments", parent=self.view.scene)
        self.text(list(AXIS_NAMES[:3]), pos=ends * 1.08, color=colours, font_size=12)

    # --- data --------------------------------------------------------------------------------
    def update_data(self, arr3d: np.ndarray, levels: tuple[float, float] | None = None,
                    marker_xyz: tuple[float, float, float] | None = None) -> None:
        arr = np.asarray(arr3d, dtype=np.float32)
        if arr.ndim != 3 or min(arr.shape) < 2:
            raise ValueError(f"volume needs a (G, G, G) array, got shape {arr.shape}")
        self.data = arr
        if levels is not None:
            self.levels = (float(levels[0]), float(levels[1]))
        if marker_xyz is not None:
            self.marker_xyz = marker_xyz
        self._redraw_volume()
        self._redraw_planes()
        self._place_marker()
        self.canvas.update()

    def set_slices(self, fracs) -> None:
        self.slices = [float(np.clip(f, 0, 1)) for f in fracs]
        if self.data is not None:
            self._redraw_planes()
            self.canvas.update()

    def set_colormap(self, name: str) -> None:
        self.cmap_name = name
        if self.data is not None:
            self._redraw_volume()
            self._redraw_planes()
            self.canvas.update()

    def set_show_volume(self, show: bool) -> None:
        self.show_volume = bool(show)
        if self.volume is not None:
            self.volume.visible = self.show_volume
            self.canvas.update()

    def _faint_cmap(self, clim: tuple[float, float]):
        """A haze around the opaque slices, denser where the loss is low (the minimum): its
        opacity ramps over ``clim`` (the data's percentiles, ``haze_clim``) while its colours
        stay those of the shared colour scale, as on the slices."""
        from vispy.color import Colormap, get_colormap

        base = get_colormap(self.cmap_name)
        t = np.linspace(0, 1, 16)
        lo, hi = self.levels
        values = clim[0] + t * (clim[1] - clim[0])
        rgba = base.map(np.clip((values - lo) / max(hi - lo, 1e-12), 0, 1))
        rgba[:, 3] = 0.12 * (1 - t) ** 3        # values above the clim: no haze at all
        return Colormap(rgba)

    def _redraw_volume(self) -> None:
        scene = self._scene
        vol = np.ascontiguousarray(self.data.transpose(2, 1, 0))  # vispy wants (z, y, x)
        g = np.array(vol.shape[::-1], np.float32)
        clim = haze_clim(vol)
        if self.volume is None or self.volume._vol_shape != vol.shape:
            if self.volume is not None:
                self.volume.parent = None
            self.volume = scene.visuals.Volume(vol, clim=clim, method="translucent",
                                               cmap=self._faint_cmap(clim),
                                               parent=self.view.scene)
            self.volume.transform = scene.transforms.STTransform(scale=tuple(1 / g),
                                                                 translate=tuple(0.5 / g))
            self.volume.order = 1  # the haze over the slices, faint enough to see them through
        else:
            self.volume.set_data(vol, clim=clim)
            self.volume.cmap = self._faint_cmap(clim)
        self.volume.visible = self.show_volume

    def _redraw_planes(self) -> None:
        lo, hi = self.levels
        for axis, img in enumerate(self.planes):
            n = self.data.shape[axis]
            frac = self.slices[axis]
            sl = slice_plane(self.data, axis, int(round(frac * (n - 1))))
            pic = np.ascontiguousarray(sl.T.astype(np.float32))  # rows: the higher direction
            img.set_data(pic)
            img.clim = (lo, hi)
            img.cmap = self.cmap_name
            img.transform.matrix = _plane_matrix(axis, pic.shape[1], pic.shape[0], frac)
            img.visible = True

    def _place_marker(self) -> None:
        self._show_marker(self.marker_xyz)
