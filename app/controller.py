"""Starts and cancels runs on QThreads; passes on only the current run's signals, coalesced.

One run at a time: starting a new one cancels the current one. Each run gets an id; whatever a
superseded run still sends is dropped by id, so a cancelled run cannot paint over a new one.
Frames and levels arrive in bursts from the worker; they are kept and passed on at most every
PAINT_MS (10 Hz: GUI repaints hold the GIL that the worker needs), and a phase's last frame
always shows.
"""

from __future__ import annotations

import threading

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from .worker_threads import running_count, stop_and_join
from .workers import ConstructionWorker, MpoWorker, RemeasureWorker, RunResult, WorkerBase

PAINT_MS = 100
CURVE_PHASES = ("regression", "mpo")   # the fit loss, or the MPO objective J, per step


class RunController(QObject):
    """Signals: ``progress(frame)`` (latest frame, 10 Hz), ``losses(steps, values)`` (every
    regression loss so far, 10 Hz), ``surface(step, array)`` (latest streamed train surface),
    ``phase(text)``, ``finished(RunResult)``, ``failed(message)``, ``cancelled()``,
    ``running_changed(bool)``. A re-measurement (``remeasure``) is a run of its own: it emits
    ``level(split, size, array)`` per refinement level (coalesced) and ``remeasured(
    Remeasured)`` at the end. ``kind`` says what the current run is. ``core``: the module the
    workers call (``losspattern_core``, or a stand-in in tests).
    """

    progress = Signal(object)
    losses = Signal(object, object)
    surface = Signal(int, object)
    phase = Signal(str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    running_changed = Signal(bool)
    level = Signal(str, int, object)
    remeasured = Signal(object)

    def __init__(self, parent: QObject | None = None, core=None):
        super().__init__(parent)
        self.core = core
        self._run_id = 0
        self._current: int | None = None
        self._threads: dict[int, tuple[QThread, WorkerBase, threading.Event]] = {}
        self._steps: list[int] = []
        self._values: list[float] = []
        self._pending_frame = None
        self._pending_surface = None
        self._pending_levels: dict[str, tuple[int, np.ndarray]] = {}
        self.kind = "construction"     # or "remeasure": what the current run is
        self._timer = QTimer(self)
        self._timer.setInterval(PAINT_MS)
        self._timer.timeout.connect(self._flush)

    # --- public API ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._current is not None

    @property
    def run_id(self) -> int | None:
        return self._current

    def live_threads(self) -> int:
        return running_count(self._threads)

    def start(self, config, resolved=None) -> int:
        """Cancel any current run and start a construction (or, for a config whose theorem
        is "mpo", a multi-point optimisation); returns its id."""
        rid, event = self._begin("construction")
        kind = MpoWorker if getattr(config, "theorem", None) == "mpo" else ConstructionWorker
        worker = kind(rid, config, event, resolved, core=self.core)
        worker.frames.connect(self._on_frames)
        worker.level.connect(self._on_level)
        worker.finished.connect(self._on_finished)
        return self._launch(rid, worker, event)

    def remeasure(self, construction, grid: int, first_frame_s: float | None = 0.25) -> int:
        """Measure a finished construction again on a ``grid``^z grid, coarse to fine."""
        rid, event = self._begin("remeasure")
        worker = RemeasureWorker(rid, construction, grid, event, first_frame_s=first_frame_s,
                                 core=self.core)
        worker.level.connect(self._on_level)
        worker.finished.connect(self._on_remeasured)
        return self._launch(rid, worker, event)

    def cancel(self) -> None:
        """Ask the current run to stop at its next step; its late signals are ignored."""
        if self._current is None:
            return
        entry = self._threads.get(self._current)
        if entry is not None:
            entry[2].set()
        self._end_current()
        self.cancelled.emit()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel everything and join every thread (window close). True if all stopped."""
        self.cancel()
        ok = stop_and_join(self._threads, timeout_ms)
        self._timer.stop()
        return ok

    # --- starting ------------------------------------------------------------------------------
    def _begin(self, kind: str) -> tuple[int, threading.Event]:
        self.cancel()
        self._run_id += 1
        self._current, self.kind = self._run_id, kind
        self._steps, self._values = [], []
        self._pending_frame = self._pending_surface = None
        self._pending_levels = {}
        return self._run_id, threading.Event()

    def _launch(self, rid: int, worker: WorkerBase, event: threading.Event) -> int:
        thread = QThread()
        thread.setObjectName(f"losspattern-run-{rid}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.phase.connect(self._on_phase)
        worker.failed.connect(self._on_failed)
        worker.done.connect(thread.quit)
        thread.finished.connect(lambda rid=rid: self._reap(rid))
        self._threads[rid] = (thread, worker, event)
        thread.start()
        self._timer.start()
        self.running_changed.emit(True)
        return rid

    # --- worker signals (GUI thread) ------------------------------------------------------------
    def _is_current(self, rid: int) -> bool:
        return rid == self._current

    @Slot(int, list)
    def _on_frames(self, rid: int, frames: list) -> None:
        if not self._is_current(rid):
            return
        for f in frames:
            last = self._pending_frame
            if last is not None and last.phase != f.phase:
                self._flush()   # a phase's last frame always shows (its bar reaches 100 %)
            if f.phase in CURVE_PHASES:  # the fit curve; other phases train a classifier
                self._steps.append(f.step)
                self._values.append(f.reg_loss)
            if f.surface is not None:
                self._pending_surface = (f.step, f.surface)
            self._pending_frame = f

    @Slot(int, str)
    def _on_phase(self, rid: int, text: str) -> None:
        if self._is_current(rid):
            self.phase.emit(text)

    @Slot(int, str, int, object)
    def _on_level(self, rid: int, split: str, size: int, arr) -> None:
        if self._is_current(rid):
            self._pending_levels[split] = (size, arr)

    def _end_with(self, rid: int, signal, payload) -> None:
        """A current run's last word (finished, remeasured or failed): flush, end, pass on."""
        if not self._is_current(rid):
            return
        self._flush()
        self._end_current()
        signal.emit(payload)

    @Slot(int, object)
    def _on_finished(self, rid: int, result: RunResult) -> None:
        self._end_with(rid, self.finished, result)

    @Slot(int, object)
    def _on_remeasured(self, rid: int, result) -> None:
        self._end_with(rid, self.remeasured, result)

    @Slot(int, str)
    def _on_failed(self, rid: int, message: str) -> None:
        self._end_with(rid, self.failed, message)

    def _end_current(self) -> None:
        self._current = None
        self._timer.stop()
        self.running_changed.emit(False)

    def _reap(self, rid: int) -> None:
        # Drop our references on the next loop turn, never inside the thread's own signal.
        entry = self._threads.get(rid)
        if entry is not None:
            entry[0].wait()
            QTimer.singleShot(0, self, lambda: self._threads.pop(rid, None))

    def _flush(self) -> None:
        if self._pending_frame is not None:
            frame, self._pending_frame = self._pending_frame, None
            self.progress.emit(frame)
            if self._steps:
                self.losses.emit(np.asarray(self._steps), np.asarray(self._values))
        if self._pending_surface is not None:
            (step, surf), self._pending_surface = self._pending_surface, None
            self.surface.emit(step, surf)
        if self._pending_levels:
            levels, self._pending_levels = self._pending_levels, {}
            for split, (size, arr) in levels.items():
                self.level.emit(split, size, arr)
