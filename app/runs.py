"""The runs the app holds: the live one and the last finished one, and what the run panel
reports about the current activity (Qt-free; part of ``AppState``, see ``state.py``).

The controller's signals arrive here through the session: frames, losses, streamed and
coarse-to-fine surfaces, the finished result, a re-measurement, a cancel or a failure. Every
change ends by calling the state's ``notify`` with the topics it touched.
"""

from __future__ import annotations

import dataclasses

import numpy as np

import losspattern_core as lp

from .records import Layer, Progress, Remeasure, Run


class Runs:
    """``live``: the run under way (or None); ``result``: the finished run the views show (or
    None); ``history``: every finished run while the app is open, oldest first (a new run
    never discards one; ``show`` brings one back); ``saved``: the ids of runs exported;
    ``progress``: the activity the run panel reports."""

    def __init__(self, notify) -> None:
        self._notify = notify
        self.live: Run | None = None
        self.result: Run | None = None
        self.history: list[Run] = []
        self.saved: set[int] = set()
        self.progress = Progress()

    def unsaved(self) -> list[int]:
        """Finished runs that no export has written (lost when the app closes)."""
        return [r.run_id for r in self.history if r.run_id not in self.saved]

    def mark_saved(self, run_id: int) -> None:
        self.saved.add(run_id)
        self._notify("result")

    def show(self, run_id: int) -> bool:
        """Show the finished run ``run_id`` again (not while a run is under way)."""
        found = [r for r in self.history if r.run_id == run_id]
        if not found or self.running or self.live is not None:
            return False
        self.result = found[0]
        self.progress = Progress(outcome="finished")
        self._notify("result", "shown", "run")
        return True

    def _keep(self, run: Run) -> None:
        """``run`` is the result; the history holds its newest version."""
        self.result = run
        self.history = [run if r.run_id == run.run_id else r for r in self.history]
        if all(r.run_id != run.run_id for r in self.history):
            self.history.append(run)

    @property
    def running(self) -> bool:
        return self.progress.activity != "idle"

    def begin_run(self, run_id: int, resolved: lp.Resolved) -> None:
        """A construction started: the views show it from now on (the finished runs stay in
        ``history``)."""
        self._before = self.result   # shown again if this run is cancelled or fails
        self.live, self.result = Run.begin(run_id, resolved), None
        self.progress = Progress("construction", phase="starting", latest="phase")
        self._notify("result", "shown", "run")

    def run_frame(self, frame: lp.Frame) -> None:
        """A training frame: the frame describes the phase from now on (an earlier phase text
        such as "validating settings" must not linger)."""
        self.progress = dataclasses.replace(self.progress, frame=frame, latest="frame",
                                            phase="")
        self._notify("run")

    def run_losses(self, steps: np.ndarray, values: np.ndarray) -> None:
        if self.live is not None:
            self.live = self.live.replace(loss_steps=steps, loss_values=values)
            self._notify("run")

    def run_phase(self, text: str) -> None:
        self.progress = dataclasses.replace(self.progress, phase=text, latest="phase")
        self._notify("run")

    def run_surface(self, step: int, arr: np.ndarray) -> None:
        """A train surface streamed during the regression (the run's own grid)."""
        if self.live is not None:
            g = self.live.grid
            self._set_live_layer("train", Layer(arr, g, g, step))

    def _set_live_layer(self, split: str, layer: Layer) -> None:
        self.live = self.live.replace(surfaces={**self.live.surfaces, split: layer})
        self._notify("shown")

    def measured_level(self, split: str, size: int, arr: np.ndarray) -> None:
        """A level of a coarse-to-fine measurement: the run's own, or a re-measurement's."""
        if self.live is not None:
            g = self.live.grid
            self.progress = dataclasses.replace(self.progress, level=(split, size, g),
                                                latest="level")
            self._set_live_layer(split, Layer(arr, g, size))
        elif self.result is not None and self.result.remeasure is not None:
            r = self.result.remeasure
            r = dataclasses.replace(r, surfaces={**r.surfaces, split: Layer(arr, r.grid, size)})
            self.result = self.result.replace(remeasure=r)
            self.progress = dataclasses.replace(self.progress, level=(split, size, r.grid),
                                                latest="level")
            self._notify("shown", "run")

    def finish_run(self, result) -> None:
        """The worker's RunResult: the live run becomes the finished result."""
        if self.live is None:
            return
        run, self.live = self.live.finish(result), None
        self._keep(run)
        self.progress = Progress(outcome="finished")
        self._notify("result", "shown", "run")

    def begin_remeasure(self, grid: int) -> None:
        """Measure the finished run again at ``grid``: its own target there, no surface yet."""
        r = self.result
        self._keep(r.replace(remeasure=Remeasure(grid, r.resolved.target(grid))))
        self.progress = Progress("remeasure", phase=f"re-measuring at grid {grid}",
                                 latest="phase")
        self._notify("result", "shown", "run")

    def finish_remeasure(self, done) -> None:
        """The worker's Remeasured: final surfaces and fidelity at its grid."""
        if self.result is None or self.result.remeasure is None:
            return
        r = self.result.remeasure
        surfaces = {s: Layer(a, r.grid, r.grid) for s, a in done.surfaces.items()}
        r = dataclasses.replace(r, surfaces=surfaces, fidelity=done.fidelity,
                                seconds=done.seconds)
        self._keep(self.result.replace(remeasure=r))
        self.progress = Progress(outcome="remeasured")
        self._notify("result", "shown", "run")

    def stopped(self, outcome: str, message: str = "") -> None:
        """The activity ended without a result (``outcome`` "cancelled" or "failed"): a live
        run keeps nothing (the run shown before it returns), an unfinished re-measurement is
        dropped (the run's grid returns)."""
        what = self.progress.activity
        if self.live is not None:
            self.live = None
            self.result = getattr(self, "_before", None)
        if self.result is not None and self.result.remeasure is not None \
                and not self.result.remeasure.done:
            self._keep(self.result.replace(remeasure=None))
        if what == "remeasure":
            outcome = f"re-measure {outcome}"
        self.progress = Progress(outcome=outcome, message=message)
        self._notify("result", "shown", "run")

    def note(self, message: str) -> None:
        """A message for the run panel (e.g. why Start did nothing)."""
        self.progress = dataclasses.replace(self.progress, message=message, outcome="note")
        self._notify("run")
