"""Runs constructions on a worker thread: cancel flag, stale-frame filter, repaint coalescing.

The worker is a QObject moved to a QThread. It iterates the core generator itself, so every
``yield`` is a cancellation point: ``cancel()`` sets a ``threading.Event`` that the loop checks
between steps (a queued "stop" signal would never be delivered to a thread stuck in a loop, and
``QThread.terminate()`` is never used). Every signal carries the run id; the controller drops
anything from a run that is no longer current, so a cancelled run cannot paint over a new one.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from losspattern_core.measure.ease import ease_comparison
from losspattern_core.config import ConstructionConfig, validate
from losspattern_core.construct import construct
from losspattern_core.errors import LossPatternError
from losspattern_core.measure.metrics import (
    construction_metrics,
    fidelity_per_head,
    measure_surfaces_progressive,
)
from losspattern_core.measure.progressive import progressive_surface

_CANCELLED = object()
COMPARE_WITH_ORDINARY_TRAINING = True   # Theorem 1 runs also train the net normally (ease)
BATCH_SECONDS = 1 / 60   # the worker hands frames over at most this often (or with a surface)
PAINT_2D_MS = 100        # 10 Hz: GUI repaints hold the GIL the worker needs


@dataclass
class RunResult:
    """What a finished run hands to the views and the export actions."""

    run_id: int
    construction: object   # losspattern_core Construction
    measurement: object    # losspattern_core Measurement
    metrics: dict
    seconds: float


class _WorkerBase(QObject):
    """What both workers share: the error handling of ``run`` and a cancellable generator loop."""

    phase = Signal(int, str)            # run id, human-readable phase
    failed = Signal(int, str)           # run id, message
    cancelled = Signal(int)
    done = Signal()                     # always last: lets the thread quit

    run_id: int
    cancel: threading.Event

    @Slot()
    def run(self) -> None:
        try:
            self._run()
        except LossPatternError as exc:
            self.failed.emit(self.run_id, str(exc))
        except Exception as exc:  # a bug, not a user error: keep the traceback for the log
            traceback.print_exc()
            self.failed.emit(self.run_id, f"{type(exc).__name__}: {exc}")
        finally:
            self.done.emit()

    def _run(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _drain(self, gen, on_item):
        """Pass each item of a core generator to ``on_item``; return the generator's value,
        or ``_CANCELLED`` (after emitting ``cancelled``) when the user cancelled: checked
        between every two items, so cancel takes effect within one step."""
        try:
            while True:
                if self.cancel.is_set():
                    self.cancelled.emit(self.run_id)
                    return _CANCELLED
                try:
                    item = next(gen)
                except StopIteration as stop:
                    if self.cancel.is_set():   # cancelled during the last item
                        self.cancelled.emit(self.run_id)
                        return _CANCELLED
                    return stop.value
                on_item(item)
        finally:
            gen.close()


class _Worker(_WorkerBase):
    frames = Signal(int, list)          # run id, [Frame, ...] (all frames, batched)
    level = Signal(int, str, int, object)   # run id, split, size, final surface at size^z
    finished = Signal(int, object)      # run id, RunResult

    def __init__(self, run_id: int, config: ConstructionConfig, cancel: threading.Event,
                 resolved=None):
        super().__init__()
        self.run_id, self.config, self.cancel, self.resolved = run_id, config, cancel, resolved

    def _pump(self, gen):
        """``_drain`` a generator of Frames, handing them to the GUI in batches."""
        batch, last_emit = [], time.perf_counter()

        def collect(frame) -> None:
            nonlocal batch, last_emit
            batch.append(frame)
            now = time.perf_counter()
            if frame.surface is not None or now - last_emit >= BATCH_SECONDS:
                self.frames.emit(self.run_id, batch)
                batch, last_emit = [], now

        try:
            return self._drain(gen, collect)
        finally:
            if batch:
                self.frames.emit(self.run_id, batch)

    def _run(self) -> None:
        t0 = time.perf_counter()
        self.phase.emit(self.run_id, "validating settings and loading data")
        resolved = self.resolved or validate(self.config)
        con = self._pump(construct(resolved))
        if con is _CANCELLED:
            return
        self.phase.emit(self.run_id, "measuring train and test surfaces (coarse to fine)")
        measurement = self._drain(measure_surfaces_progressive(con),
                                  lambda item: self.level.emit(self.run_id, *item))
        if measurement is _CANCELLED:
            return
        metrics = construction_metrics(con, measurement)
        if resolved.config.theorem == 1 and COMPARE_WITH_ORDINARY_TRAINING:
            # Observation 2 (ease): Theorem 2 trains its ordinary yardstick inside construct()
            self.phase.emit(self.run_id, "training an ordinary network of the same shape, "
                                         "for comparison (ease)")
            extra = self._pump(ease_comparison(resolved, con))
            if extra is _CANCELLED:
                return
            metrics.update(extra)
        self.finished.emit(self.run_id, RunResult(self.run_id, con, measurement, metrics,
                                                  time.perf_counter() - t0))


@dataclass
class Remeasured:
    """A finished re-measurement at ``grid``: exact surfaces, the target there, fidelity."""

    run_id: int
    grid: int
    target: np.ndarray
    surfaces: dict
    fidelity: dict
    seconds: float


def target_at(con, grid: int) -> np.ndarray:
    """The construction's target T (loss units) on a ``grid``-point grid."""
    r = con.resolved
    return r.loss_range.apply(r.pattern.grid(grid))


class _RemeasureWorker(_WorkerBase):
    """Progressive refinement of a finished construction's train and test surfaces."""

    level = Signal(int, str, int, object)   # run id, split, size, surface at size^z
    finished = Signal(int, object)          # run id, Remeasured

    def __init__(self, run_id: int, construction, grid: int, cancel: threading.Event,
                 splits=("train", "test"), first_frame_s: float | None = 0.25):
        super().__init__()
        self.run_id, self.con, self.grid, self.cancel = run_id, construction, grid, cancel
        self.splits, self.first_frame_s = splits, first_frame_s

    def _run(self) -> None:
        t0 = time.perf_counter()
        con, cfg = self.con, self.con.config
        ds = con.resolved.dataset
        surfaces = {}
        for split in self.splits:
            self.phase.emit(self.run_id, f"measuring the {split} surface on a {self.grid}^"
                                         f"{cfg.z} grid, coarse to fine")
            X, y = ds.split(split)
            gen = progressive_surface(con.model, con.directions, X, y, self.grid,
                                      con.alpha_range, classes=ds.classes, heads=con.heads,
                                      loss=cfg.loss, device=cfg.device, start=8,
                                      first_frame_s=self.first_frame_s)
            full = self._drain(gen, lambda item, split=split:
                               self.level.emit(self.run_id, split, *item))
            if full is _CANCELLED:
                return
            surfaces[split] = full
        target = target_at(con, self.grid)
        span = con.resolved.loss_range.span
        fid = {s: fidelity_per_head(a, target, span, con.heads) for s, a in surfaces.items()}
        self.finished.emit(self.run_id, Remeasured(self.run_id, self.grid, target, surfaces, fid,
                                                   time.perf_counter() - t0))


class RunController(QObject):
    """Starts and cancels runs; re-emits only the current run's signals, coalesced.

    Signals: ``progress(frame)`` (latest frame, 10 Hz), ``losses(steps, values)`` (every
    regression loss so far, 10 Hz), ``surface(step, array)`` (latest streamed train surface),
    ``phase(text)``, ``finished(RunResult)``, ``failed(message)``, ``cancelled()``,
    ``running_changed(bool)``. A re-measurement (``remeasure``) is a run of its own: it emits
    ``level(split, size, array)`` per refinement level (coalesced, 10 Hz) and
    ``remeasured(Remeasured)`` at the end; ``failed``/``cancelled`` as for constructions.
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

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._run_id = 0
        self._current: int | None = None
        self._threads: dict[int, tuple[QThread, _WorkerBase, threading.Event]] = {}
        self._steps: list[int] = []
        self._values: list[float] = []
        self._pending_frame = None
        self._pending_surface = None
        self._pending_levels: dict[str, tuple[int, np.ndarray]] = {}
        self.kind = "construction"     # or "remeasure": what the current run is
        self._timer = QTimer(self)
        self._timer.setInterval(PAINT_2D_MS)
        self._timer.timeout.connect(self._flush)
        self.config: ConstructionConfig | None = None

    # --- public API ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._current is not None

    @property
    def run_id(self) -> int | None:
        return self._current

    def live_threads(self) -> int:
        return sum(1 for t, _, _ in self._threads.values() if t.isRunning())

    def start(self, config: ConstructionConfig, resolved=None) -> int:
        """Cancel any current run and start a new one; returns its id."""
        rid, event = self._begin("construction")
        self.config = config
        worker = _Worker(rid, config, event, resolved)
        worker.frames.connect(self._on_frames)
        worker.level.connect(self._on_level)
        worker.finished.connect(self._on_finished)
        return self._launch(rid, worker, event)

    def remeasure(self, construction, grid: int, first_frame_s: float | None = 0.25) -> int:
        """Measure a finished construction again on a ``grid``^z grid, coarse to fine."""
        rid, event = self._begin("remeasure")
        worker = _RemeasureWorker(rid, construction, grid, event, first_frame_s=first_frame_s)
        worker.level.connect(self._on_level)
        worker.finished.connect(self._on_remeasured)
        return self._launch(rid, worker, event)

    def _begin(self, kind: str) -> tuple[int, threading.Event]:
        self.cancel()
        self._run_id += 1
        rid = self._run_id
        self._current, self.kind = rid, kind
        self._steps, self._values = [], []
        self._pending_frame = self._pending_surface = None
        self._pending_levels = {}
        return rid, threading.Event()

    def _launch(self, rid: int, worker: QObject, event: threading.Event) -> int:
        thread = QThread()
        thread.setObjectName(f"losspattern-run-{rid}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.phase.connect(self._on_phase)
        worker.failed.connect(self._on_failed)
        worker.cancelled.connect(self._on_cancelled)
        worker.done.connect(thread.quit)
        thread.finished.connect(lambda rid=rid: self._reap(rid))
        self._threads[rid] = (thread, worker, event)
        thread.start()
        self._timer.start()
        self.running_changed.emit(True)
        return rid

    def cancel(self) -> None:
        """Ask the current run to stop at its next step; its late frames are ignored."""
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
        ok = True
        for thread, _, event in list(self._threads.values()):
            event.set()
            thread.quit()
            ok = thread.wait(timeout_ms) and ok
        self._timer.stop()
        return ok

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
            if f.phase == "regression":  # the fit curve; other phases train a classifier
                self._steps.append(f.step)
                self._values.append(f.reg_loss)
            if f.surface is not None:
                self._pending_surface = (f.step, f.surface)
            self._pending_frame = f

    @Slot(int, str)
    def _on_phase(self, rid: int, text: str) -> None:
        if self._is_current(rid):
            self.phase.emit(text)

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

    @Slot(int, str, int, object)
    def _on_level(self, rid: int, split: str, size: int, arr) -> None:
        if self._is_current(rid):
            self._pending_levels[split] = (size, arr)

    @Slot(int, object)
    def _on_remeasured(self, rid: int, result) -> None:
        self._end_with(rid, self.remeasured, result)

    @Slot(int, str)
    def _on_failed(self, rid: int, message: str) -> None:
        self._end_with(rid, self.failed, message)

    @Slot(int)
    def _on_cancelled(self, rid: int) -> None:
        # cancel() already ended the run in the GUI thread; nothing stale may follow.
        pass

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
