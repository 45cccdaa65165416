"""The paper's warning, shown: a finished Theorem 2 run beside an ordinary network of the same
family on the same data (``warning.compare_with_ordinary`` on a worker thread).

Side by side: train/test accuracy and sharpness (a table), both networks' random
filter-normalised landscapes on one colour scale, and the Theorem 2 network's axis slice that
draws the pattern. The caption says what the views mean: the landscape a slice shows can be
made to be anything, so geometry read off it is no evidence about the network.
"""

from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from .. import messages
from .warning import compare_with_ordinary
from .worker import ExploreController

PANELS = ("axis slice", "theorem 2", "ordinary")


def _pct(v) -> str:
    return "—" if v is None else f"{100 * v:.1f} %"


def _sharp(d: dict) -> tuple[str, str]:
    if "skipped" in d:
        return "skipped", html.escape(d["skipped"])
    return f"{d['top_eigenvalue']:.4g}", f"{d['trace']:.4g} ± {d['trace_stderr']:.2g}"


class CompareView(QWidget):
    def __init__(self, state, parent=None, job_factory=compare_with_ordinary):
        super().__init__(parent)
        self.state, self.job_factory = state, job_factory
        self.controller = ExploreController(self)
        self.result = None
        self.button = QPushButton("Compare with an ordinary network")
        self.button.setToolTip("Train an ordinary network of the same family on the same data "
                               "and set it beside the finished Theorem 2 run")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("font-weight: bold; padding: 2px;")
        self.table = QLabel("")
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground("w")
        self.plots, self.images = {}, {}
        for col, name in zip((0, 2, 3), PANELS, strict=True):   # col 1: the slice's bar
            plot = self.glw.addPlot(row=0, col=col)
            plot.setAspectLocked(True)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            img = pg.ImageItem(axisOrder="col-major")
            plot.addItem(img)
            self.plots[name], self.images[name] = plot, img
        self.slice_bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"),
                                         label="train loss (nats)", interactive=False, width=11)
        self.slice_bar.setImageItem(self.images["axis slice"])
        self.glw.addItem(self.slice_bar, row=0, col=1)
        self.bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"),
                                   label="train loss (nats), both networks", interactive=False,
                                   width=11)
        self.bar.setImageItem([self.images["theorem 2"], self.images["ordinary"]])
        self.glw.addItem(self.bar, row=0, col=4)
        top = QHBoxLayout()
        top.addWidget(self.button)
        top.addWidget(self.cancel_button)
        top.addWidget(self.status, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.caption)
        lay.addWidget(self.glw, 1)
        lay.addWidget(self.table)
        self.button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.controller.cancel)
        c = self.controller
        c.phase.connect(self.status.setText)
        c.steps.connect(lambda b: self.status.setText(
            f"training the ordinary network: step {b[-1].step} / {b[-1].total}"))
        c.finished.connect(self.show_result)
        c.failed.connect(lambda m: (self.status.setText("failed: " + m),
                                    messages.error(self, "Comparison failed", m)))
        c.cancelled.connect(lambda: self.status.setText("cancelled"))
        c.running_changed.connect(lambda r: (self.button.setEnabled(not r),
                                             self.cancel_button.setEnabled(r)))
        state.events.result.connect(self._on_result)
        self._on_result()

    def _finished_theorem2(self):
        run = self.state.result
        ok = run is not None and run.finished and run.config.theorem == 2
        return run if ok else None

    def _on_result(self) -> None:
        run = self._finished_theorem2()
        if not self.controller.running:
            self.button.setEnabled(run is not None)
        if run is None:
            self.status.setText("needs a finished Theorem 2 run: construct one first")
        elif self.result is None or self.result.run_id != run.run_id:
            self.status.setText(f"run {run.run_id} ({run.config.pattern}, Theorem 2) can be "
                                f"compared")

    def start(self) -> int | None:
        run = self._finished_theorem2()
        if run is None:
            messages.error(self, "Nothing to compare", "Finish a Theorem 2 run first.")
            return None
        return self.controller.start(lambda: self.job_factory(run))

    def shutdown(self) -> bool:
        return self.controller.shutdown()

    def show_result(self, w) -> None:
        self.result = w
        lo, hi = (min(float(a.min()) for a in w.landscapes.values()),
                  max(float(a.max()) for a in w.landscapes.values()))
        self._image("axis slice", w.axis_slice, w.slice_range[:2], None)
        for name in ("theorem 2", "ordinary"):
            self._image(name, w.landscapes[name], w.alpha_range, (lo, hi))
        self.bar.setLevels((lo, hi))
        s = float(w.axis_slice.min()), float(w.axis_slice.max())
        self.slice_bar.setLevels(s)
        self.plots["axis slice"].setTitle(f"Theorem 2 network: train loss along its own axes "
                                          f"(pattern {w.pattern})", size="10pt")
        self.plots["theorem 2"].setTitle("Theorem 2 network at α*: random filter-normalised",
                                         size="10pt")
        self.plots["ordinary"].setTitle(f"ordinary {w.family}: random filter-normalised",
                                        size="10pt")
        self.caption.setText(
            f"The paper's warning: two {w.family} networks on {w.dataset} — a Theorem 2 "
            f"construction and an ordinary one. Random filter-normalised views of the train loss "
            f"(seed {w.seed}, α ∈ [{w.alpha_range[0][0]:g}, {w.alpha_range[0][1]:g}]², "
            f"{w.grid}² grid, every train sample, one colour scale); the Theorem 2 network's "
            f"own axis slice draws the chosen pattern. A low-dimensional slice can be made to "
            f"show anything.")
        self.table.setText(self.table_html(w))
        self.status.setText(f"compared in {w.seconds:.1f} s")

    def _image(self, name: str, arr, rng, levels) -> None:
        arr = np.asarray(arr, dtype=np.float64)
        if arr.ndim == 3:
            arr = arr[:, :, arr.shape[2] // 2]
        (lo1, hi1), (lo2, hi2) = rng
        n1, n2 = arr.shape
        h1, h2 = (hi1 - lo1) / max(n1 - 1, 1), (hi2 - lo2) / max(n2 - 1, 1)
        img = self.images[name]
        img.setImage(arr, autoLevels=levels is None, levels=levels)
        img.setRect(lo1 - h1 / 2, lo2 - h2 / 2, hi1 - lo1 + h1, hi2 - lo2 + h2)

    @staticmethod
    def table_html(w) -> str:
        rows = [("train accuracy", *(_pct(w.accuracy[n]["train"]) for n in w.accuracy)),
                ("test accuracy", *(_pct(w.accuracy[n]["test"]) for n in w.accuracy))]
        t2, od = _sharp(w.sharpness["theorem 2"]), _sharp(w.sharpness["ordinary"])
        rows += [("top Hessian eigenvalue (train)", t2[0], od[0]),
                 ("Hutchinson trace (train)", t2[1], od[1])]
        head = "<tr><th></th><th>Theorem 2 (at α*)</th><th>ordinary</th></tr>"
        body = "".join(f"<tr><th align='left'>{a}</th><td align='right'>{b}</td>"
                       f"<td align='right'>{c}</td></tr>" for a, b, c in rows)
        return (f"<table cellpadding='3'>{head}{body}</table><p style='color:#555'>sharpness at "
                f"each network's point, Hessian of the mean loss over every train sample "
                f"(power iteration; Hutchinson with 16 Rademacher vectors, ± its standard "
                f"error).</p>")
