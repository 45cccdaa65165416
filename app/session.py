"""Start, Cancel and Re-measure: the state's chosen settings go to the run controller, and the
controller's signals come back into the state (no widgets here).

Start validates the chosen settings with the core's one gate (``lp.validate``; for the
multi-point optimisation also its own checks, ``mpo_run.resolve``) and hands the resolved
settings to the worker, so that the run measures exactly what the state recorded
as its config. Re-measure applies only to the finished run that the views show.
"""

from __future__ import annotations

from collections.abc import Callable

import losspattern_core as lp

from .mpo_run import resolve_choice
from .state import AppState


class RunSession:
    """``report_error(title, text)`` shows a message to the user."""

    def __init__(self, state: AppState, controller, report_error: Callable[[str, str], None]):
        self.state, self.controller, self.report_error = state, controller, report_error
        c = controller
        c.progress.connect(state.runs.run_frame)
        c.losses.connect(state.runs.run_losses)
        c.surface.connect(state.runs.run_surface)
        c.phase.connect(state.runs.run_phase)
        c.level.connect(state.runs.measured_level)
        c.finished.connect(state.runs.finish_run)
        c.remeasured.connect(state.runs.finish_remeasure)
        c.failed.connect(self._failed)
        c.cancelled.connect(lambda: state.runs.stopped("cancelled"))

    def start(self) -> int | None:
        """Start a construction with the chosen settings; its id, or None (and why)."""
        st = self.state
        if self.controller.running:
            return None
        if not st.ready:
            st.note("the dataset is still loading; start again when it is in place.")
            return None
        if st.loss_range_problem:
            self.report_error("Cannot start", "The loss range is impossible for this dataset; "
                              "see the message under the loss fields.")
            return None
        try:
            resolved = resolve_choice(st.choice.config(), st.dataset, st.pattern)
        except lp.LossPatternError as exc:
            self.report_error("Cannot start", str(exc))
            return None
        rid = self.controller.start(resolved.config, resolved)
        st.runs.begin_run(rid, resolved)
        return rid

    def cancel(self) -> None:
        if self.controller.running:
            self.controller.cancel()

    def remeasure(self, grid: int) -> int | None:
        """Measure the shown finished run again on a ``grid``-point grid, coarse to fine."""
        if not self.state.can_remeasure or self.controller.running:
            return None
        rid = self.controller.remeasure(self.state.result.construction, int(grid))
        self.state.runs.begin_remeasure(int(grid))
        return rid

    def _failed(self, message: str) -> None:
        self.state.runs.stopped("failed", message)
        self.report_error("The construction failed", message)
