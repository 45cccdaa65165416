"""Explore runs on QThreads: the worker iterates ``plan.explore`` (or any generator of the same
items), checking its ``threading.Event`` at every item; the controller starts, cancels and
joins them, and passes on only the current run's signals (stale ones are dropped by run id).

``QThread.terminate()`` is never used: cancel sets the event, the worker's loop sees it at its
next item (a training step or a block of grid points) and returns.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ..worker_threads import running_count, stop_and_join
from ..workers import CANCELLED, WorkerBase
from . import plan

STEP_BATCH_S = 1 / 30      # training steps are handed over at most this often


class ExploreWorker(WorkerBase):
    """Runs one job: ``job()`` returns a generator of plan items whose value is the result."""

    steps = Signal(int, list)          # run id, [TrainStep, ...]
    level = Signal(int, object)        # run id, plan.Level
    tick = Signal(int, int, int)       # run id, points done, points in all
    partial = Signal(int, str, object)  # run id, key, a piece of the result
    finished = Signal(int, object)     # run id, the generator's value

    def __init__(self, run_id: int, job, cancel: threading.Event):
        super().__init__(run_id, cancel)
        self.job = job

    def _run(self) -> None:
        batch, last = [], time.perf_counter()

        def on_item(item) -> None:
            nonlocal batch, last
            if isinstance(item, plan.TrainStep):
                batch.append(item)
                now = time.perf_counter()
                if now - last >= STEP_BATCH_S or item.step == item.total:
                    self.steps.emit(self.run_id, batch)
                    batch, last = [], now
            elif isinstance(item, plan.Level):
                self.level.emit(self.run_id, item)
            elif isinstance(item, plan.Tick):
                self.tick.emit(self.run_id, item.done, item.total)
            elif isinstance(item, plan.Phase):
                self.phase.emit(self.run_id, item.text)
            elif isinstance(item, plan.Partial):
                self.partial.emit(self.run_id, item.key, item.value)

        result = self.drain(self.job(), on_item)
        if batch:
            self.steps.emit(self.run_id, batch)
        if result is not CANCELLED:
            self.finished.emit(self.run_id, result)


class ExploreController(QObject):
    """One explore job at a time (a new one cancels the current one). Signals carry no run
    id: only the current run's reach them."""

    steps = Signal(list)
    level = Signal(object)
    tick = Signal(int, int)
    partial = Signal(str, object)
    phase = Signal(str)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._run_id = 0
        self._current: int | None = None
        self._threads: dict[int, tuple[QThread, ExploreWorker, threading.Event]] = {}

    @property
    def running(self) -> bool:
        return self._current is not None

    def live_threads(self) -> int:
        return running_count(self._threads)

    def start(self, job) -> int:
        """Run ``job()`` (a generator factory) on a new thread; returns the run id."""
        self.cancel()
        self._run_id += 1
        rid, event = self._run_id, threading.Event()
        self._current = rid
        worker = ExploreWorker(rid, job, event)
        thread = QThread()
        thread.setObjectName(f"losspattern-explore-{rid}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.steps.connect(self._on_steps)
        worker.level.connect(self._on_level)
        worker.tick.connect(self._on_tick)
        worker.partial.connect(self._on_partial)
        worker.phase.connect(self._on_phase)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.done.connect(thread.quit)
        thread.finished.connect(lambda rid=rid: self._reap(rid))
        self._threads[rid] = (thread, worker, event)
        thread.start()
        self.running_changed.emit(True)
        return rid

    def cancel(self) -> None:
        """Ask the current job to stop at its next item; its late signals are dropped."""
        if self._current is None:
            return
        entry = self._threads.get(self._current)
        if entry is not None:
            entry[2].set()
        self._current = None
        self.running_changed.emit(False)
        self.cancelled.emit()

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel and join every thread (the window closes). True if all stopped."""
        self.cancel()
        return stop_and_join(self._threads, timeout_ms)

    # --- worker signals (GUI thread) --------------------------------------------------------
    @Slot(int, list)
    def _on_steps(self, rid: int, batch: list) -> None:
        if rid == self._current:
            self.steps.emit(batch)

    @Slot(int, object)
    def _on_level(self, rid: int, level) -> None:
        if rid == self._current:
            self.level.emit(level)

    @Slot(int, int, int)
    def _on_tick(self, rid: int, done: int, total: int) -> None:
        if rid == self._current:
            self.tick.emit(done, total)

    @Slot(int, str, object)
    def _on_partial(self, rid: int, key: str, value) -> None:
        if rid == self._current:
            self.partial.emit(key, value)

    @Slot(int, str)
    def _on_phase(self, rid: int, text: str) -> None:
        if rid == self._current:
            self.phase.emit(text)

    @Slot(int, object)
    def _on_finished(self, rid: int, result) -> None:
        self._end(rid, self.finished, result)

    @Slot(int, str)
    def _on_failed(self, rid: int, message: str) -> None:
        self._end(rid, self.failed, message)

    def _end(self, rid: int, signal, payload) -> None:
        if rid != self._current:
            return
        self._current = None
        self.running_changed.emit(False)
        signal.emit(payload)

    def _reap(self, rid: int) -> None:
        entry = self._threads.get(rid)
        if entry is not None:
            entry[0].wait()
            QTimer.singleShot(0, self, lambda: self._threads.pop(rid, None))
