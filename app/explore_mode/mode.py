"""Explore mode: the settings form beside the live views, one explore run at a time on a
worker thread. It reads the app's dataset (``state.dataset``) and never touches the
construction's state, views or controller.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

import losspattern_core as lp

from .. import file_dialogs, messages
from .panel import ExplorePanel
from .plan import explore
from .settings import FAMILIES, check
from .views import ExploreViews
from .worker import ExploreController


class ExploreMode(QWidget):
    """``start()`` returns the run id (None with a message when it cannot start);
    ``result`` is the last finished ``plan.ExploreResult``."""

    def __init__(self, state, parent=None, job_factory=explore):
        super().__init__(parent)
        self.state, self.job_factory = state, job_factory
        self.panel, self.views = ExplorePanel(), ExploreViews()
        self.controller = ExploreController(self)
        self.result = None
        self.levels_seen: list = []          # (split, metric, size) in arrival order
        self.steps_seen = 0
        self.outcome = ""
        self._range = None
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.panel)
        split.addWidget(self.views)
        split.setStretchFactor(1, 1)
        split.setSizes([260, 1200])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        c, p = self.controller, self.panel
        p.start.clicked.connect(self.start)
        p.cancel.clicked.connect(self.cancel)
        p.save.clicked.connect(self.save_interactive)
        c.steps.connect(self._on_steps)
        c.level.connect(self._on_level)
        c.tick.connect(lambda done, total: self._progress(done, total))
        c.phase.connect(p.status.setText)
        c.finished.connect(self._on_finished)
        c.failed.connect(self._on_failed)
        c.cancelled.connect(lambda: self._ended("cancelled: nothing was kept"))
        c.running_changed.connect(p.set_running)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """Before the first run, the family follows the Network panel's choice."""
        super().showEvent(event)
        family = getattr(getattr(self.state, "choice", None), "arch", None)
        if self.result is None and not self.running and family in FAMILIES:
            self.panel.family.setCurrentText(family)

    @property
    def running(self) -> bool:
        return self.controller.running

    def start(self, settings=None) -> int | None:
        ds = self.state.dataset
        if ds is None:
            messages.error(self, "No dataset", "Load a dataset first (Dataset panel).")
            return None
        settings = settings or self.panel.settings()
        try:
            check(settings)
        except Exception as exc:   # lp.ConfigError: the message names the setting
            messages.error(self, "Cannot explore", str(exc))
            return None
        self.result, self.levels_seen, self.steps_seen, self.outcome = None, [], 0, ""
        self._range = None
        self.panel.save.setEnabled(False)
        self.views.begin(settings, ds.name)
        self.panel.progress.setRange(0, settings.steps)
        self.panel.progress.setValue(0)
        spec = getattr(self.state.choice, "dataset", "") or ds.name
        return self.controller.start(lambda: self.job_factory(spec, settings))

    def save_bundle(self, folder) -> object:
        """Write the finished run's bundle into ``folder`` (a new folder; atomic)."""
        core = self.result.core
        return lp.save_explore_bundle(folder, core, lp.explore_metrics(core))

    def save_interactive(self) -> None:
        if self.result is None or self.result.core is None:
            return
        folder = file_dialogs.folder(self, "Folder for the explore bundle (a new folder is made "
                                           "inside it)")
        if not folder:
            return
        name = (f"explore-{self.result.settings.kind}-{self.result.dataset.split(':')[0]}-"
                f"seed{self.result.settings.seed}")
        path = Path(folder) / name
        try:
            out = self.save_bundle(path)
        except lp.LossPatternError as exc:
            messages.error(self, "Save failed", str(exc))
            return
        except OSError as exc:
            messages.error(self, "Save failed", f"could not write {path}: {exc}")
            return
        self.panel.status.setText(f"bundle saved to {out} (check it: losspattern verify {out})")

    def cancel(self) -> None:
        self.controller.cancel()

    def shutdown(self) -> bool:
        """Stop and join the worker (the window closes)."""
        return self.controller.shutdown()

    # --- from the worker ------------------------------------------------------------------
    def _on_steps(self, batch: list) -> None:
        self.steps_seen += len(batch)
        self.views.add_steps(batch)
        self._progress(batch[-1].step, batch[-1].total)

    def _on_level(self, level) -> None:
        self.levels_seen.append((level.split, level.metric, level.size))
        if self._range is None:
            self._range = self._level_range(level)
        self.views.show_level(level, self._range)

    @staticmethod
    def _level_range(level):
        """The grid's α range, which every level carries."""
        return [list(r) for r in level.alpha_range]

    def _progress(self, done: int, total: int) -> None:
        self.panel.progress.setRange(0, max(total, 1))
        self.panel.progress.setValue(done)

    def _on_finished(self, result) -> None:
        self.result = result
        self.views.show_result(result)
        self.panel.save.setEnabled(result.core is not None)
        self._ended(f"finished in {result.seconds:.1f} s")

    def _on_failed(self, message: str) -> None:
        self._ended("failed: " + message)
        messages.error(self, "Explore failed", message)

    def _ended(self, text: str) -> None:
        self.outcome = text
        self.panel.status.setText(text)
