"""Four pyqtgraph heatmaps: target, measured train, measured test (one shared colour scale with
a ColorBarItem) and the error train − target (its own symmetric diverging scale).

The view observes the state: on every ``shown`` or ``view`` event it takes the arrays, colour
levels, titles and caption of ``state.shown`` (one source: see ``app/shown.py``) and the
slice settings of ``state.view``. It computes nothing across sources: the error map is the
state's.

Arrays arrive with axis 0 = direction 1; ImageItems use column-major order, so the array is
drawn as is with alpha_1 on x and alpha_2 pointing up. Modes: z = 2 as is; z = 3 shows an
axis-aligned slice of each volume (the slice bar); RGB (three heads) shows the colour
composite of the three heads, with the display squash stated in the caption. Repaints are
throttled: new data is kept and drawn by a timer at most every PAINT_MS.
"""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..captions import heatmap_caption, panel_titles
from .arrays import AXIS_NAMES, plane, rgb_composite, slice_plane
from .slice_bar import SliceBar

PANELS = ("target", "train", "test", "error")
SOURCES = ("target", "train", "test")
LOSS_CMAP = "viridis"
ERROR_CMAP = "CET-D1A"
UNIT = QRectF(0, 0, 1, 1)  # the image covers alpha in [0, 1]^2 whatever its grid
PAINT_MS = 33
TICK_OVERHANG = 8   # px: half a tick label's height
TITLE_MS = 500      # titles and caption during a run: at most twice a second
RUN_NUMBER = re.compile(r"\brun (\d+)")
GREY = pg.ColorMap([0.0, 1.0], [(0, 0, 0), (255, 255, 255)])


def _cap_title_width(label, cap: float = 120.0) -> None:
    """pyqtgraph makes a title's text width its minimum width, so a long title widened its
    column past the widget and clipped the colour bars' tick labels: cap it (text stays centred)."""
    update = label.updateMin

    def capped():
        update()
        for key in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            w, h = label._sizeHint[key]
            label._sizeHint[key] = (min(w, cap), h)
        label.setMinimumWidth(min(label.minimumWidth(), cap))
        label.updateGeometry()

    label.updateMin = capped


def title_room(plot, text: str, line_px: int = 15) -> None:
    """pyqtgraph gives a title one fixed 30-px row: a two-line title ran into the plot below.
    Give the row room for every line of ``text``."""
    h = 8 + line_px * (text.count("<br>") + 1)
    plot.titleLabel.setMaximumHeight(h)
    plot.layout.setRowFixedHeight(0, h)
    plot.title_height = h


def fit_title(plot) -> int:
    """Wrap a title that is wider than its panel (narrow panels on a laptop: neighbouring
    titles ran into each other), centred; returns the height the wrapped text needs."""
    item = plot.titleLabel.item
    if not getattr(item, "centred", False):
        option = item.document().defaultTextOption()
        option.setAlignment(Qt.AlignHCenter)
        item.document().setDefaultTextOption(option)
        item.centred = True
    room = max(plot.width() - 6, 60.0)
    item.setTextWidth(-1)
    if item.boundingRect().width() > room:
        item.setTextWidth(room)
    return int(item.boundingRect().height()) + 4


def set_title_height(plot, h: int) -> None:
    """Give a plot's title row ``h`` pixels (the same in a row: the images line up)."""
    if h != getattr(plot, "title_height", None):
        plot.titleLabel.setMaximumHeight(h)
        plot.layout.setRowFixedHeight(0, h)
        plot.title_height = h
    plot.titleLabel.resizeEvent(None)


def align_bar(bar, plots) -> None:
    """Start a colour bar below its row's titles and end it at the images' bottom edge: a
    long title (Theorem 2's) overflows its column sideways and ran over the bar's top."""
    # + TICK_OVERHANG: the top tick label is centred on the bar's end and stands above it
    top = max((getattr(p, "title_height", 0) for p in plots), default=0) + TICK_OVERHANG
    bottom = max((p.getAxis("bottom").height() for p in plots), default=0)
    left, _, right, _ = bar.layout.getContentsMargins()
    if getattr(bar, "aligned_to", None) != (top, bottom):
        bar.aligned_to = (top, bottom)
        bar.layout.setContentsMargins(left, top, right, bottom)


class HeatmapsView(QWidget):
    """``raw`` holds the shown arrays by panel, ``arrays`` the (G, G) planes (or RGB
    composites) drawn, ``titles`` the panel titles."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.z, self.rgb = 2, False
        self._mode, self._axes = None, None
        self.levels_ = (0.0, 1.0)
        self.low_high: tuple[float, float] | None = None
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: #333; padding: 2px;")
        self.slice_box = SliceBar(state)
        self.slider, self.axis_combo = self.slice_box.slider, self.slice_box.axis_combo
        self.slice_box.hide()
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("w")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.caption)
        lay.addWidget(self.slice_box)
        lay.addWidget(self.glw, 1)
        self.plots: dict[str, pg.PlotItem] = {}
        self.images: dict[str, pg.ImageItem] = {}
        self.rgb_images: dict[str, pg.ImageItem] = {}
        self.raw: dict[str, np.ndarray | None] = dict.fromkeys(PANELS)
        self.arrays: dict[str, np.ndarray | None] = dict.fromkeys(PANELS)
        self.titles: dict[str, str] = dict.fromkeys(PANELS, "")
        self._build_plots()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PAINT_MS)
        self._timer.timeout.connect(self._paint)
        self._fit_timer = QTimer(self)   # titles are fitted once the layout has settled
        self._fit_timer.setSingleShot(True)
        self._fit_timer.setInterval(0)
        self._fit_timer.timeout.connect(self._fit_titles)
        self._drawn_titles: dict[str, str] = {}
        self._caption_text = ""
        self._title_timer = QTimer(self)
        self._title_timer.setSingleShot(True)
        self._title_timer.setInterval(TITLE_MS)
        self._title_timer.timeout.connect(self._draw_titles)
        state.events.shown.connect(self._sync)
        state.events.view.connect(self._sync)
        state.events.run.connect(self._run_changed)
        self._sync()

    def _build_plots(self) -> None:
        for name in PANELS:
            plot = pg.PlotItem()
            plot.setAspectLocked(True)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            img = pg.ImageItem(axisOrder="col-major")
            plot.addItem(img)
            if name in SOURCES:  # RGB composites: not linked to the loss colour bar
                rgb = pg.ImageItem(axisOrder="col-major")
                rgb.setVisible(False)
                plot.addItem(rgb)
                self.rgb_images[name] = rgb
            plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
            # labelled 0, 0.5, 1 only (0.25 and 0.75 unlabelled): readable however small the
            # panels get, and no labels outside [0, 1] where the locked aspect leaves margins
            ticks = [[(v, f"{v:g}") for v in (0, 0.5, 1)], [(0.25, ""), (0.75, "")]]
            plot.getAxis("bottom").setTicks(ticks)
            # the end labels stand half outside the axis: hidden otherwise on small panels
            plot.getAxis("bottom").setStyle(hideOverlappingLabels=False)
            plot.getAxis("left").setTicks(ticks)
            self.plots[name], self.images[name] = plot, img
            _cap_title_width(plot.titleLabel)
        self.loss_bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get(LOSS_CMAP),
                                        label="loss (nats)", interactive=False, width=11)
        self.loss_bar.setImageItem([self.images[n] for n in SOURCES])
        self.glw.addItem(self.loss_bar, row=0, col=3)
        self.err_bar = pg.ColorBarItem(values=(-1, 1), colorMap=pg.colormap.get(ERROR_CMAP),
                                       label="train − target", interactive=False, width=11)
        self.err_bar.setImageItem(self.images["error"])
        self._wide = None
        self._arrange(False)

    def _arrange(self, wide: bool) -> None:
        """2 × 2 panels, or one row of four when the view is much wider than tall (a laptop
        screen: the panels stay large instead of shrinking to the height of half the view)."""
        if wide == self._wide:
            return
        self._wide = wide
        layout = self.glw.ci
        items = [*self.plots.values(), self.loss_bar, self.err_bar]
        for item in items:
            if item in layout.items:
                layout.removeItem(item)
        if wide:
            cells = {"target": (0, 0), "train": (0, 1), "test": (0, 2), "error": (0, 4)}
            bars = ((0, 3), (0, 5))
        else:
            cells = {"target": (0, 0), "train": (0, 2), "test": (1, 0), "error": (1, 2)}
            bars = ((0, 3), (1, 3))
        for name, (row, col) in cells.items():
            layout.addItem(self.plots[name], row=row, col=col)
        layout.addItem(self.loss_bar, row=bars[0][0], col=bars[0][1])
        layout.addItem(self.err_bar, row=bars[1][0], col=bars[1][1])
        self._bar_rows = {bar: [self.plots[n] for n, (row, _) in cells.items() if row == r]
                          for bar, (r, _) in zip((self.loss_bar, self.err_bar), bars,
                                                 strict=True)}
        self._align_bars()

    def _align_bars(self) -> None:
        for bar, plots in self._bar_rows.items():
            align_bar(bar, plots)

    def _fit_titles(self) -> None:
        needed = {plot: fit_title(plot) for plot in self.plots.values()}
        for plots in self._bar_rows.values():   # the plots of each row
            h = max(needed[p] for p in plots)
            for p in plots:
                set_title_height(p, h)
        self._align_bars()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        size = self.glw.size()
        self._arrange(size.width() > 2.0 * size.height())
        # one row: as tall as a square panel with its title and axes, so the axes hug the
        # image instead of sitting at the bottom of a tall, mostly empty plot
        tall = (size.width() - 140) / 4 + 80 if self._wide else 1e6
        for item in (*self.plots.values(), self.loss_bar, self.err_bar):
            item.setMaximumHeight(tall)
        self._fit_timer.start()

    # --- from the state ------------------------------------------------------------------------
    @property
    def slice_axis(self) -> int:
        return self.state.view.slice_axis

    @property
    def slice_frac(self) -> float:
        v = self.state.view
        return v.slices[v.slice_axis]

    def _sync(self) -> None:
        shown = self.state.shown
        self._set_mode(shown.z, shown.heads > 1)
        self.low_high, self.levels_ = shown.loss_range, shown.levels
        for name in PANELS:
            self.raw[name] = shown.array(name)
            self.arrays[name] = self._derive(name)
        self.titles.update(panel_titles(shown))
        self._caption_text = heatmap_caption(shown)
        # while a run streams, the titles (their step) and the caption are redrawn at most
        # every TITLE_MS: each new title re-lays out the panels and regenerates their axes
        if not self.state.running:
            self._title_timer.stop()
            self._draw_titles()
        elif not self._title_timer.isActive():
            self._title_timer.start()
        self._schedule()

    def _run_changed(self) -> None:
        """A run ended: its last titles and caption are drawn now, not after TITLE_MS."""
        if not self.state.running and self._title_timer.isActive():
            self._title_timer.stop()
            self._draw_titles()

    def _draw_titles(self) -> None:
        for name, text in self.titles.items():
            if text != self._drawn_titles.get(name):
                self._drawn_titles[name] = text
                # "run 12" is never split over two lines when a narrow title wraps
                self.plots[name].setTitle(RUN_NUMBER.sub(r"run&nbsp;\1", text), size="9pt")
                title_room(self.plots[name], text)
                self._fit_timer.start()
        self._align_bars()
        if self.caption.text() != self._caption_text:
            self.caption.setText(self._caption_text)

    def _set_mode(self, z: int, rgb: bool) -> None:
        """z = 3 shows the slice bar; RGB swaps the loss images for colour composites."""
        if (z, rgb) != self._mode:
            self._mode, self.z, self.rgb = (z, rgb), z, rgb
            self.slice_box.setVisible(z >= 3)
            # RGB: the bar shows the stated squash, each head's loss (low..high) -> its
            # channel's intensity (0..1); hiding it squeezed the error bar's labels off the edge
            self.loss_bar.setColorMap(GREY if rgb else pg.colormap.get(LOSS_CMAP))
            self.loss_bar.getAxis("left").setLabel("head loss → channel" if rgb
                                                   else "loss (nats)")
        free = [i for i in range(3) if i != self.slice_axis] if z >= 3 else [0, 1]
        labels = (AXIS_NAMES[free[0]], AXIS_NAMES[free[1]])
        if labels != self._axes:   # the caption says which directions these are
            self._axes = labels
            for plot in self.plots.values():
                plot.setLabel("bottom", labels[0])
                plot.setLabel("left", labels[1])

    def _plane(self, a: np.ndarray, heads: int) -> np.ndarray:
        """A scalar (G, G) plane: heads averaged, a volume cut at the state's slice."""
        if heads > 1:
            a = a.mean(axis=0)
        if a.ndim >= 3:
            n = a.shape[self.slice_axis]
            return slice_plane(a, self.slice_axis, int(round(self.slice_frac * (n - 1))))
        return plane(a)

    def _derive(self, name: str) -> np.ndarray | None:
        a = self.raw[name]
        heads = 3 if self.rgb else 1
        if a is None:
            return None
        if name != "error" and heads > 1:
            return rgb_composite(a, *(self.low_high or self.levels_))
        return self._plane(a, heads)

    # --- drawing -------------------------------------------------------------------------------
    def levels(self) -> tuple[float, float]:
        return self.levels_

    def flush(self) -> None:
        """Draw pending data now (end of a run, before an export, in tests)."""
        self._timer.stop()
        self._paint()
        self._title_timer.stop()
        self._draw_titles()
        self._fit_timer.stop()
        self._fit_titles()

    def widget_for_export(self) -> pg.GraphicsLayoutWidget:
        self.flush()
        return self.glw

    def _schedule(self) -> None:
        if not self.isVisible():   # another tab is shown: paint when this one is
            self._pending = True
            return
        if not self._timer.isActive():
            self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if getattr(self, "_pending", False):
            self._pending = False
            self._schedule()

    def _paint(self) -> None:
        lo, hi = self.levels_
        for name in SOURCES:
            arr = self.arrays[name]
            scalar, colour = self.images[name], self.rgb_images[name]
            if arr is None:
                scalar.clear()
                colour.clear()
            elif arr.ndim == 3:  # an RGB composite in [0, 1]
                scalar.clear()
                scalar.setVisible(False)
                colour.setImage(arr, autoLevels=False, levels=(0, 1), rect=UNIT)
                colour.setVisible(True)
            else:
                colour.clear()
                colour.setVisible(False)
                scalar.setVisible(True)
                scalar.setImage(arr, autoLevels=False, levels=(lo, hi), rect=UNIT)
        self.loss_bar.setLevels(self.low_high if self.rgb and self.low_high else (lo, hi))
        err = self.arrays["error"]
        if err is not None:
            emax = max(float(np.abs(err).max()), 1e-6)
            self.images["error"].setImage(err, autoLevels=False, levels=(-emax, emax), rect=UNIT)
            self.err_bar.setLevels((-emax, emax))
        else:
            self.images["error"].clear()
