"""Compare two finished runs side by side: A and B on one colour scale, and A − B on its own
symmetric diverging scale, each labelled with where it comes from.

Runs come from the run history (this session's runs and the bundles opened; "Open bundle as
B…" adds one). Two surfaces are compared only at the same grid points: the same α ranges and
either the same grid, or grids that nest exactly (a G-point grid and a g-point grid with
(G − 1) divisible by (g − 1): the finer one is taken at the coarser one's points, nothing is
interpolated, and the note says which). Anything else is refused with the reason.

``compare_runs`` is the Qt-free part (numpy); ``CompareView`` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..opened_run import METHOD_WORDS
from .arrays import shared_levels

SOURCES = ("train", "test", "target")
LOSS_CMAP = "viridis"
DIFF_CMAP = "CET-D1A"
UNIT = QRectF(0, 0, 1, 1)


@dataclass(frozen=True)
class Comparison:
    """Two runs' ``source`` surfaces at the same grid points (whole arrays: heads and every
    direction), their difference, the shared levels; or ``problem`` (why not)."""

    a: np.ndarray | None = None
    b: np.ndarray | None = None
    diff: np.ndarray | None = None
    levels: tuple[float, float] = (0.0, 1.0)
    note: str = ""
    problem: str = ""

    @property
    def diff_max(self) -> float:
        return max(float(np.abs(self.diff).max()), 1e-9) if self.diff is not None else 1.0


def nested_indices(fine: int, coarse: int) -> np.ndarray | None:
    """The ``coarse``-point grid's points inside the ``fine``-point grid (same range, endpoints
    included), or None when they do not all fall on grid points."""
    if coarse < 2 or (fine - 1) % (coarse - 1):
        return None
    return np.arange(0, fine, (fine - 1) // (coarse - 1))


def _at(arr: np.ndarray, idx: np.ndarray, z: int) -> np.ndarray:
    for axis in range(arr.ndim - z, arr.ndim):   # a leading heads axis stays whole
        arr = np.take(arr, idx, axis=axis)
    return arr


def _same_ranges(ra, rb) -> bool:
    return ra is None or rb is None or (len(ra) == len(rb) and np.allclose(ra, rb))


def compare_runs(a, b, source: str = "train", range_a=None, range_b=None,
                 names=("A", "B")) -> Comparison:
    """Run ``a``'s ``source`` surface against ``b``'s (``records.Run``s); ``range_*``: their
    α ranges (None: not known, taken as equal and said so)."""
    na, nb = names
    arr_a, arr_b = _surface(a, source), _surface(b, source)
    if arr_a is None or arr_b is None:
        which = na if arr_a is None else nb
        return Comparison(problem=f"{which} has no {source} surface")
    if a.config.z != b.config.z:
        return Comparison(problem=f"{na} has z = {a.config.z}, {nb} z = {b.config.z}: "
                          "surfaces of different dimension cannot be compared")
    if a.heads != b.heads:
        return Comparison(problem=f"{na} has {a.heads} head(s), {nb} {b.heads}")
    if not _same_ranges(range_a, range_b):
        return Comparison(problem=f"the α ranges differ ({na} {_fmt(range_a)}, {nb} "
                          f"{_fmt(range_b)}): the same grid index is another point")
    z, ga, gb = a.config.z, a.grid, b.grid
    note = f"same {ga}-point grid"
    if ga != gb:
        fine, coarse, which = (ga, gb, na) if ga > gb else (gb, ga, nb)
        idx = nested_indices(fine, coarse)
        if idx is None:
            return Comparison(problem=f"the grids differ ({na} {ga} points per direction, {nb} "
                              f"{gb}) and do not nest ({fine} − 1 is not a multiple of "
                              f"{coarse} − 1): not compared, nothing is interpolated")
        if which == na:
            arr_a = _at(arr_a, idx, z)
        else:
            arr_b = _at(arr_b, idx, z)
        note = (f"{which}'s {fine}-point grid taken at the {coarse} points it shares with the "
                f"other (the grids nest exactly; nothing interpolated)")
    if range_a is None or range_b is None:
        note += "; an α range is not recorded: taken as equal"
    return Comparison(arr_a, arr_b, arr_a - arr_b, shared_levels([arr_a, arr_b]), note)


def _surface(run, source: str) -> np.ndarray | None:
    if source == "target":
        return None if run.target is None else np.asarray(run.target, dtype=np.float64)
    layer = run.surfaces.get(source)
    return None if layer is None or layer.is_level else np.asarray(layer.array, np.float64)


def _fmt(rng) -> str:
    return "?" if rng is None else "×".join(f"[{lo:g}, {hi:g}]" for lo, hi in rng)


def provenance(state, run) -> str:
    """One line: which run, made how, from where."""
    source = state.opened.get(run.run_id)
    cfg = run.config
    pattern = run.resolved.pattern.name
    if source is not None:
        what = METHOD_WORDS.get(source.method, source.method)
        return (f"run {run.run_id}: {what}, '{pattern}' on {cfg.dataset or '?'}, grid "
                f"{cfg.grid}, z = {cfg.z}, seed {cfg.seed} — opened from {source.path}")
    saved = "exported" if run.run_id in state.runs.saved else "not saved"
    return (f"run {run.run_id}: Theorem {cfg.theorem}, '{pattern}' on {cfg.dataset}, grid "
            f"{cfg.grid}, z = {cfg.z}, seed {cfg.seed} — this session ({saved})")


def alpha_range(state, run):
    """A run's α ranges: an opened bundle's recorded ones, a construction's own; else None."""
    source = state.opened.get(run.run_id)
    if source is not None and source.alpha_range:
        return source.alpha_range
    return getattr(run.construction, "alpha_range", None)


def drawn(arr: np.ndarray, heads: int, head: int) -> np.ndarray:
    """What a panel draws of a whole surface: one head; a volume at its middle slice along
    the third direction (and further ones); a curve stays 1-D."""
    a = arr[head] if heads > 1 else arr
    while a.ndim > 2:
        a = a[..., a.shape[-1] // 2]
    return a


class CompareView(QWidget):
    """The Compare tab. ``comparison`` is what is drawn (whole arrays); ``arrays`` holds the
    drawn planes "a", "b", "diff" (tests); ``labels`` the provenance lines. The plots
    (``plots``, ``images``, ``curves``, the colour bars) are made when the tab is first shown
    (most sessions never open it; they cost start-up time) and drawn from then on."""

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.state = state
        self.comparison = Comparison(problem="open or run two surfaces to compare")
        self.arrays: dict[str, np.ndarray | None] = dict.fromkeys(("a", "b", "diff"))
        self._want_b = False
        self._auto = True   # A follows the shown run, B the one before, until the user picks
        self._build()
        state.events.result.connect(self._runs_changed)
        self._runs_changed()

    # --- widgets -------------------------------------------------------------------------------
    def _build(self) -> None:
        self.combo_a, self.combo_b = QComboBox(), QComboBox()
        self.source = QComboBox()
        self.source.addItems(SOURCES)
        self.head = QComboBox()
        self.open_b = QPushButton("Open bundle as B…")
        self.open_b.setToolTip("Open a saved bundle (it joins the Runs list) and compare with it")
        self.open_b.clicked.connect(self._open_bundle_as_b)
        row = QHBoxLayout()
        for text, widget in (("A:", self.combo_a), ("B:", self.combo_b),
                             ("surface:", self.source), ("head:", self.head)):
            row.addWidget(QLabel(text))
            row.addWidget(widget, 2 if widget in (self.combo_a, self.combo_b) else 0)
        row.addWidget(self.open_b)
        for combo in (self.combo_a, self.combo_b):
            combo.activated.connect(self._picked)
        for combo in (self.combo_a, self.combo_b, self.source, self.head):
            combo.currentIndexChanged.connect(self.refresh)
        self.label_a, self.label_b, self.note = QLabel(), QLabel(), QLabel()
        for label in (self.label_a, self.label_b, self.note):
            label.setWordWrap(True)
        self.note.setStyleSheet("color: #444;")
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("w")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(row)
        lay.addWidget(self.label_a)
        lay.addWidget(self.label_b)
        lay.addWidget(self.note)
        lay.addWidget(self.glw, 1)
        self.plots: dict | None = None   # made by _plots on the first show
        self._drawn_with = (1, 0)          # (heads, head) of the last _draw

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self.plots is None:
            self._plots()
            self._fit_panels()
            self._paint(*self._drawn_with)

    def _plots(self) -> None:
        self.plots, self.images, self.curves = {}, {}, {}
        for col, key in ((0, "a"), (1, "b"), (3, "diff")):
            plot = pg.PlotItem()
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            img = pg.ImageItem(axisOrder="col-major")
            plot.addItem(img)
            self.curves[key] = plot.plot(pen=pg.mkPen("#1f3b63", width=2))
            plot.setLabel("bottom", "α1")
            plot.setLabel("left", "α2")
            ticks = [[(v, f"{v:g}") for v in (0, 0.5, 1)], [(0.25, ""), (0.75, "")]]
            for axis in ("bottom", "left"):   # no labels where the locked aspect leaves margins
                plot.getAxis(axis).setTicks(ticks)
            self.glw.addItem(plot, row=0, col=col)
            self.glw.ci.layout.setColumnStretchFactor(col, 1)   # three panels of one size
            self.plots[key], self.images[key] = plot, img
        self.bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get(LOSS_CMAP),
                                   label="loss (nats), A and B", interactive=False, width=11)
        self.bar.setImageItem([self.images["a"], self.images["b"]])
        self.glw.addItem(self.bar, row=0, col=2)
        self.diff_bar = pg.ColorBarItem(values=(-1, 1), colorMap=pg.colormap.get(DIFF_CMAP),
                                        label="A − B (nats)", interactive=False, width=11)
        self.diff_bar.setImageItem(self.images["diff"])
        self.glw.addItem(self.diff_bar, row=0, col=4)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Three panels of one size, about square (titles and axes around the images)."""
        super().resizeEvent(event)
        if self.plots is not None:
            self._fit_panels()

    def _fit_panels(self) -> None:
        size = self.glw.size()
        side = max(120.0, min((size.width() - 200) / 3, size.height() - 10))
        for plot in self.plots.values():
            plot.setMaximumWidth(side)
            plot.setMaximumHeight(side + 40)
        for bar in (self.bar, self.diff_bar):
            bar.setMaximumHeight(side + 40)

    # --- choosing the runs ---------------------------------------------------------------------
    def _runs_changed(self) -> None:
        """The history changed: keep the chosen runs, choose defaults for empty slots (A the
        shown run, B the one before it), and take a just-opened bundle as B if asked."""
        history = self.state.runs.history
        ids = [r.run_id for r in history]
        a, b = self.combo_a.currentData(), self.combo_b.currentData()
        shown = self.state.result.run_id if self.state.result is not None else None
        if self._auto:
            a, b = None, None
        if self._want_b and ids and ids[-1] not in (a, b):
            b, self._want_b, self._auto = ids[-1], False, False
            a = a if a != b else None
        a = a if a in ids else next((i for i in (shown, *reversed(ids)) if i in ids and i != b),
                                    None)
        b = b if b in ids and b != a else next((i for i in reversed(ids) if i != a), None)
        for combo, chosen in ((self.combo_a, a), (self.combo_b, b)):
            combo.blockSignals(True)
            combo.clear()
            for run in history:
                combo.addItem(self._item_text(run), run.run_id)
            combo.setCurrentIndex(ids.index(chosen) if chosen in ids else -1)
            combo.blockSignals(False)
        self.refresh()

    def _item_text(self, run) -> str:
        source = self.state.opened.get(run.run_id)
        if source is not None:
            return f"run {run.run_id}: {source.label}"
        return f"run {run.run_id}: '{run.resolved.pattern.name}', grid {run.grid}"

    def _picked(self) -> None:
        self._auto = False   # the user chose: the runs stay until they are gone

    def choose(self, a: int, b: int, source: str = "train") -> None:
        """Compare run ``a`` with run ``b`` (ids in the history) on ``source``."""
        self._auto = False
        for combo, rid in ((self.combo_a, a), (self.combo_b, b)):
            combo.blockSignals(True)
            combo.setCurrentIndex(combo.findData(rid))
            combo.blockSignals(False)
        self.source.blockSignals(True)
        self.source.setCurrentText(source)
        self.source.blockSignals(False)
        self.refresh()

    def _open_bundle_as_b(self) -> None:
        opener = getattr(self.window(), "opening", None)
        if opener is not None:
            self._want_b = True
            opener.open_dialog()

    def _run(self, combo):
        rid = combo.currentData()
        return next((r for r in self.state.runs.history if r.run_id == rid), None)

    # --- drawing -------------------------------------------------------------------------------
    def refresh(self) -> None:
        a, b = self._run(self.combo_a), self._run(self.combo_b)
        self.label_a.setText("A — " + provenance(self.state, a) if a else "A — (none)")
        self.label_b.setText("B — " + provenance(self.state, b) if b else "B — (none)")
        if a is None or b is None:
            self.comparison = Comparison(problem="two finished runs are needed: run another "
                                         "construction or open a bundle")
        else:
            self.comparison = compare_runs(a, b, self.source.currentText() or "train",
                                           alpha_range(self.state, a),
                                           alpha_range(self.state, b))
        heads = a.heads if a is not None and not self.comparison.problem else 1
        self._heads(heads)
        self._draw(heads, max(self.head.currentIndex(), 0))

    def _heads(self, heads: int) -> None:
        if self.head.count() != heads:
            self.head.blockSignals(True)
            self.head.clear()
            self.head.addItems(["RGB"[h] if heads == 3 else str(h + 1) for h in range(heads)])
            self.head.blockSignals(False)
        self.head.setEnabled(heads > 1)

    def _draw(self, heads: int, head: int) -> None:
        c = self.comparison
        self.note.setText(f"<span style='color:#9a3b00'>Not compared: {c.problem}.</span>"
                          if c.problem else f"Same colour scale for A and B; A − B on its own "
                          f"symmetric scale (max |A − B| = {c.diff_max:.4g} nats); "
                          f"{c.note}.")
        for key, arr in (("a", c.a), ("b", c.b), ("diff", c.diff)):
            self.arrays[key] = None if arr is None else drawn(arr, heads, head)
        self._drawn_with = (heads, head)
        if self.plots is not None:
            self._paint(heads, head)

    def _paint(self, heads: int, head: int) -> None:
        """Put ``arrays`` into the plots, with their levels and titles."""
        c = self.comparison
        lo, hi = c.levels
        dmax = c.diff_max
        for key, levels in (("a", (lo, hi)), ("b", (lo, hi)), ("diff", (-dmax, dmax))):
            arr, img, curve = self.arrays[key], self.images[key], self.curves[key]
            img.clear()
            curve.setData([], [])
            plot = self.plots[key]
            if arr is not None and arr.ndim == 2:
                img.setImage(arr, autoLevels=False, levels=levels, rect=UNIT)
                plot.setAspectLocked(True)
                plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
            elif arr is not None:
                curve.setData(np.linspace(0, 1, len(arr)), arr)
                plot.setAspectLocked(False)
                plot.enableAutoRange()
                plot.getAxis("left").setTicks(None)
            if arr is not None:
                self.plots[key].setLabel("left", "α2" if arr.ndim == 2 else "loss (nats)")
        self.bar.setLevels((lo, hi))
        self.diff_bar.setLevels((-dmax, dmax))
        volume = " (middle slice of α3)" if c.a is not None and c.a.ndim - (heads > 1) > 2 \
            else ""
        runs = {"a": self.combo_a.currentData(), "b": self.combo_b.currentData()}
        src = self.source.currentText()
        for key, title in (("a", f"A: run {runs['a']}"), ("b", f"B: run {runs['b']}"),
                           ("diff", f"A − B: run {runs['a']} − run {runs['b']}")):
            self.plots[key].setTitle(f"{title}, {src}{volume}", size="9pt")
