"""A 3-D loss surface as a plain vispy canvas wrapper (no Qt: also used by ``app.render``).

The wrapper owns a SceneCanvas with a SurfacePlot, a TurntableCamera and a marker at the
pattern's minimum; ``update_data`` takes a (G, G) array (axis 0 = alpha_1 = x, axis 1 =
alpha_2 = y). Heights are drawn relative to the shared colour scale so that target, train and
test surfaces keep the same vertical scale when you switch between them.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

HEIGHT = 0.55          # drawn height of the whole colour scale, in units of the [0,1] square
COLORMAPS = ("viridis", "magma", "coolwarm", "grays", "hot")
MAX_SCALE_TICKS = 6    # labelled values between the loss axis' ends
MARKER_RED = (1, 0.15, 0.1, 1)
RED, GREEN, BLACK = (1, 0, 0, 1), (0, 128 / 255, 0, 1), (0, 0, 0, 1)   # vispy's named colours
FLOOR_GREY = (0.55, 0.55, 0.55, 1)
GLYPHS = "0123456789.-+e"   # every character a number label can have ({:.3g}, {:g})
# the floor square's four edges, as segments
FLOOR_SQUARE = np.array([[0, 0, 0], [1, 0, 0], [1, 0, 0], [1, 1, 0], [1, 1, 0], [0, 1, 0],
                         [0, 1, 0], [0, 0, 0]], np.float32)


def scale_values(lo: float, hi: float, most: int = 4) -> list[float]:
    """Round values inside (lo, hi) for the loss axis (steps of 1, 2, 2.5 or 5 × 10^k), none
    within 12 % of the range from an end, whose own labels stand there."""
    span = hi - lo
    if not (np.isfinite(span) and span > 0):
        return []
    raw = span / most
    mag = 10.0 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    values = np.arange(np.ceil(lo / step) * step, hi, step)
    keep = [float(v) for v in values if v - lo > 0.12 * span and hi - v > 0.12 * span]
    return keep[:MAX_SCALE_TICKS]


class Scene3D:
    """What the surface and volume scenes share: canvas, turntable view, colour scale, a
    marker at the pattern's minimum, offscreen rendering."""

    def __init__(self, canvas, size, show, bgcolor, cmap: str, **camera):
        from vispy import scene

        self._scene = scene
        self.canvas = canvas or scene.SceneCanvas(keys=None, size=size, show=show,
                                                  bgcolor=bgcolor)
        self.view = self.canvas.central_widget.add_view()
        self.view.camera = scene.TurntableCamera(fov=35, **camera)
        self.cmap_name = cmap
        self.levels = (0.0, 1.0)
        self.data: np.ndarray | None = None
        from vispy.visuals.text.text import FontManager

        # one glyph atlas for all labels: vispy gives each Text its own unless told, and each
        # then rasterises every character it shows again (~30 ms apiece on a CPU)
        self.fonts = FontManager()
        self._prime_glyphs()

    def text(self, text, **kwargs):
        """A Text visual in the view's scene, sharing the scene's glyphs."""
        return self._scene.visuals.Text(text, font_manager=self.fonts, parent=self.view.scene,
                                        **kwargs)

    def _prime_glyphs(self) -> None:
        """Rasterise the glyphs of every number label in the canvas' first draw, with a
        transparent text that is removed after it: otherwise the first data shown (often
        mid-rotation, while a run streams) stalls a draw for ~30 ms per new character."""
        self._primer = self.text(GLYPHS, pos=(0, 0, 0), color=(0, 0, 0, 0), font_size=9)
        # blended and without depth: it changes no pixel and hides nothing behind it
        self._primer.set_gl_state("translucent", depth_test=False)
        self.canvas.events.draw.connect(self._drop_primer, position="last")   # after the draw

    def _drop_primer(self, event=None) -> None:
        if self._primer is not None:
            self._primer.parent = None
            self._primer = None
            self.canvas.events.draw.disconnect(self._drop_primer)

    def _frame(self, scene) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _show_marker(self, xyz) -> None:
        """The red dot at ``xyz`` (unit-cube coordinates), or hidden for None."""
        if xyz is None:
            self.marker.visible = False
            if getattr(self, "stem", None) is not None:
                self.stem.visible = False
            return
        self.marker_pos = tuple(float(v) for v in xyz)
        pos = np.array([xyz], np.float32)
        self.marker.set_data(pos, face_color=MARKER_RED, edge_color="white", edge_width=2,
                             size=16)
        # drawn over the surface: a minimum in a valley is hidden by the ridges in front of it
        self.marker.set_gl_state(depth_test=False, blend=True)
        self.marker.order = 10
        self.marker.visible = True
        # and a stem down to the floor: where the dot is, seen from any angle
        stem = np.array([[xyz[0], xyz[1], 0.0], xyz], np.float32)
        if getattr(self, "stem", None) is None:
            self.stem = self._scene.visuals.Line(stem, color=MARKER_RED, width=2,
                                                 parent=self.view.scene)
            self.stem.set_gl_state(depth_test=False, blend=True)
            self.stem.order = 9
        else:
            self.stem.set_data(stem)
        self.stem.visible = True

    def render(self, size: tuple[int, int] | None = None) -> np.ndarray:
        """An (H, W, 3) uint8 image drawn offscreen at ``size`` (not a screen grab)."""
        if size is not None and tuple(self.canvas.size) != tuple(size):
            self.canvas.size = tuple(int(v) for v in size)  # see SurfaceView.render
        image = self.canvas.render(alpha=False)
        self._drop_primer()   # an offscreen render draws without a draw event
        return image


class SurfaceScene(Scene3D):
    def __init__(self, canvas=None, size=(640, 480), show=False, bgcolor="white",
                 cmap: str = "viridis"):
        super().__init__(canvas, size, show, bgcolor, cmap, elevation=30, azimuth=-25,
                         distance=2.4, center=(0.5, 0.5, 0.15))
        scene = self._scene
        self.colours: np.ndarray | None = None
        self.marker_xy: tuple[float, float] | None = None
        self.surface = None
        self.marker = scene.visuals.Markers(parent=self.view.scene)
        self.marker.visible = False
        self._frame(scene)

    def _frame(self, scene) -> None:
        """A floor square with labelled axes, so direction 1 and 2 can be told apart. Lines of
        one width share one visual and so do labels of one size: each visual costs the software
        renderer on every frame of a rotation, whatever its size."""
        parent = self.view.scene
        # the floor square and the loss axis' tick marks (set with the levels): width 1
        self.thin_lines = scene.visuals.Line(FLOOR_SQUARE, color=FLOOR_GREY, connect="segments",
                                             parent=parent)
        # α1 (red), α2 (green) and the loss axis from the colour bar's low (floor) to its high
        # (top, black): width 2
        axes = np.array([[0, 0, 0], [1.1, 0, 0], [0, 0, 0], [0, 1.1, 0],
                         [0, 1, 0], [0, 1, HEIGHT]], np.float32)
        axis_colours = np.array([RED, RED, GREEN, GREEN, BLACK, BLACK], np.float32)
        scene.visuals.Line(axes, color=axis_colours, width=2, connect="segments", parent=parent)
        # α2 beside the middle of its axis, outside the square: at its end the label was
        # behind the loss axis (which stands at (0, 1)) or hidden by the surface
        self.text(["α1", "α2"], pos=np.array([(1.17, 0, 0), (-0.1, 0.55, 0)]),
                  color=np.array([RED, GREEN]), font_size=12)
        # the values at the loss axis' two ends (low at the floor, high at the top): one Text,
        # shown once the levels are known
        self.end_labels = self.text(["0", "1"], pos=np.array([(-0.04, 1.0, 0), (-0.04, 1.0,
                                    HEIGHT)], np.float32), color="black", font_size=9,
                                    anchor_x="right")
        self.end_labels.visible = False
        # round values in between, with tick marks: a scale, not only its two ends. One Text
        # visual for all of them, at the ends' font size (its glyphs are cached already):
        # every visual and every new font size costs the software renderer on each frame
        self.scale_text = self.text([""], pos=np.zeros((1, 3), np.float32), color="#333333",
                                    font_size=9, anchor_x="right")
        self.scale_values: list[float] = []
        self.text("loss (nats)", pos=(0, 1.0, HEIGHT + 0.08), color="black", font_size=10)

    def _label_loss_axis(self) -> None:
        lo, hi = self.levels
        self.end_labels.text = [f"{lo:.3g}", f"{hi:.3g}"]
        self.end_labels.visible = True
        values = scale_values(lo, hi)
        self.scale_values = values
        self.scale_text.visible = bool(values)
        if values:
            self.scale_text.text = [f"{v:g}" for v in values]
            self.scale_text.pos = np.array([(-0.04, 1.0, self.height_of(v)) for v in values],
                                           np.float32)
        ends = [lo, hi, *values]
        marks = [[(-0.025, 1.0, self.height_of(v)), (0.0, 1.0, self.height_of(v))] for v in ends]
        marks = np.array(marks, np.float32).reshape(-1, 3)
        colours = np.array([FLOOR_GREY] * len(FLOOR_SQUARE) + [BLACK] * len(marks), np.float32)
        self.thin_lines.set_data(np.concatenate([FLOOR_SQUARE, marks]), color=colours)

    @property
    def loss_ticks(self) -> list[SimpleNamespace]:
        """The loss axis' end labels, low then high, each with its ``text``."""
        return [SimpleNamespace(text=t) for t in self.end_labels.text]

    def height_of(self, value: float) -> float:
        """Where a loss value stands on the drawn height scale (the colour scale's range)."""
        lo, hi = self.levels
        return float(np.clip((value - lo) / max(hi - lo, 1e-12), 0, 1) * HEIGHT)

    # --- data --------------------------------------------------------------------------------
    def update_data(self, arr2d: np.ndarray, levels: tuple[float, float] | None = None,
                    marker_xy: tuple[float, float] | None = None,
                    colours: np.ndarray | None = None) -> None:
        """Show a (G, G) surface; ``levels`` is the colour (and height) scale; ``colours``
        (G, G, 3) in [0, 1] replaces the colormap (an RGB composite of three heads)."""
        arr = np.asarray(arr2d, dtype=np.float32)
        if arr.ndim != 2 or min(arr.shape) < 2:
            raise ValueError(f"surface needs a (G, G) array, got shape {arr.shape}")
        self.data = arr
        self.colours = None if colours is None else np.asarray(colours, np.float32)
        if levels is not None:
            self.levels = (float(levels[0]), float(levels[1]))
        if marker_xy is not None:
            self.marker_xy = marker_xy
        self._redraw()

    def set_colormap(self, name: str) -> None:
        self.cmap_name = name
        if self.data is not None:
            self._redraw()

    def _redraw(self) -> None:
        from vispy.color import get_colormap

        lo, hi = self.levels
        norm = np.clip((self.data - lo) / max(hi - lo, 1e-12), 0, 1)
        heights = (norm * HEIGHT).astype(np.float32)
        if self.colours is not None and self.colours.shape[:2] == norm.shape:
            colors = np.concatenate([self.colours, np.ones(norm.shape + (1,), np.float32)], -1)
        else:
            colors = get_colormap(self.cmap_name).map(norm.ravel()).reshape(norm.shape + (4,))
        gx, gy = self.data.shape
        x, y = np.linspace(0, 1, gx, dtype=np.float32), np.linspace(0, 1, gy, dtype=np.float32)
        if self.surface is None or self.surface._z.shape != heights.shape:
            if self.surface is not None:
                self.surface.parent = None
            # vispy 0.17 sets colours before faces on creation: give them in a second call
            self.surface = self._scene.visuals.SurfacePlot(
                x=x, y=y, z=heights, shading=None, parent=self.view.scene)
            self.surface.set_data(colors=colors)
        else:
            self.surface.set_data(z=heights, colors=colors)
        self._place_marker(heights)
        self._label_loss_axis()
        self.canvas.update()

    def _place_marker(self, heights: np.ndarray) -> None:
        if self.marker_xy is None:
            self._show_marker(None)
            return
        mx, my = self.marker_xy
        gx, gy = heights.shape
        i, j = round(mx * (gx - 1)), round(my * (gy - 1))
        self._show_marker((mx, my, float(heights[i, j]) + 0.03))
