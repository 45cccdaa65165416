"""The work a run does on its QThread: a construction, or a re-measurement of a finished one.

Each worker is a QObject moved to a QThread. It iterates the core's generators itself, so
every ``yield`` is a cancellation point: ``cancel`` is a ``threading.Event`` that the loop
checks between two items (a queued "stop" signal would never reach a thread busy in a loop,
and ``QThread.terminate()`` is never used). Every signal carries the run id, so that the
controller can drop whatever a superseded run still sends.

``core`` is the module whose public names the worker calls (``losspattern_core`` itself, or a
stand-in with the same names in tests).
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal, Slot

import losspattern_core as lp

from .mpo_run import MpoConstruction, MpoMeasurement, core_config, mpo_metrics, resolve

CANCELLED = object()
COMPARE_WITH_ORDINARY_TRAINING = True   # Theorem 1 runs also train the net normally (ease)
BATCH_SECONDS = 1 / 60   # frames are handed over at most this often (or with a surface)


@dataclass
class RunResult:
    """What a finished construction hands to the state and the exports."""

    run_id: int
    construction: object   # lp.Construction
    measurement: object    # lp.Measurement
    metrics: dict
    seconds: float


@dataclass
class Remeasured:
    """A finished re-measurement at ``grid``: exact surfaces, the target there, fidelity."""

    run_id: int
    grid: int
    target: np.ndarray
    surfaces: dict
    fidelity: dict
    seconds: float


class WorkerBase(QObject):
    """What the workers share: the error handling of ``run`` and a cancellable loop."""

    phase = Signal(int, str)            # run id, human-readable phase
    failed = Signal(int, str)           # run id, message
    cancelled = Signal(int)
    done = Signal()                     # always last: lets the thread quit

    def __init__(self, run_id: int, cancel: threading.Event, core=None):
        super().__init__()
        self.run_id, self.cancel, self.core = run_id, cancel, core or lp

    @Slot()
    def run(self) -> None:
        try:
            self._run()
        except self.core.LossPatternError as exc:
            self.failed.emit(self.run_id, str(exc))
        except Exception as exc:  # a bug, not a user error: keep the traceback for the log
            traceback.print_exc()
            self.failed.emit(self.run_id, f"{type(exc).__name__}: {exc}")
        finally:
            self.done.emit()

    def _run(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def drain(self, gen, on_item):
        """Pass each item of a core generator to ``on_item``; return the generator's value,
        or ``CANCELLED`` (after emitting ``cancelled``) when the user cancelled: checked
        between every two items, so cancel takes effect within one step."""
        try:
            while True:
                if self.cancel.is_set():
                    self.cancelled.emit(self.run_id)
                    return CANCELLED
                try:
                    item = next(gen)
                except StopIteration as stop:
                    if self.cancel.is_set():   # cancelled during the last item
                        self.cancelled.emit(self.run_id)
                        return CANCELLED
                    return stop.value
                on_item(item)
        finally:
            gen.close()


class ConstructionWorker(WorkerBase):
    """Construct, measure coarse to fine, compute the metrics (and, for Theorem 1, train an
    ordinary network for the ease comparison)."""

    frames = Signal(int, list)              # run id, [Frame, ...] (all frames, batched)
    level = Signal(int, str, int, object)   # run id, split, size, final surface at size^z
    finished = Signal(int, object)          # run id, RunResult

    def __init__(self, run_id: int, config, cancel: threading.Event, resolved=None, core=None):
        super().__init__(run_id, cancel, core)
        self.config, self.resolved = config, resolved

    def pump(self, gen):
        """``drain`` a generator of Frames, handing them to the GUI in batches."""
        batch, last_emit = [], time.perf_counter()

        def collect(frame) -> None:
            nonlocal batch, last_emit
            batch.append(frame)
            now = time.perf_counter()
            if frame.surface is not None or now - last_emit >= BATCH_SECONDS:
                self.frames.emit(self.run_id, batch)
                batch, last_emit = [], now

        try:
            return self.drain(gen, collect)
        finally:
            if batch:
                self.frames.emit(self.run_id, batch)

    def _run(self) -> None:
        core, t0 = self.core, time.perf_counter()
        self.phase.emit(self.run_id, "validating settings and loading data")
        resolved = self.resolved or core.validate(self.config)
        con = self.pump(core.construct(resolved))
        if con is CANCELLED:
            return
        self.phase.emit(self.run_id, "measuring train and test surfaces (coarse to fine)")
        measurement = self.drain(core.measure_surfaces_progressive(con),
                                 lambda item: self.level.emit(self.run_id, *item))
        if measurement is CANCELLED:
            return
        metrics = core.construction_metrics(con, measurement)
        if resolved.config.theorem == 1 and COMPARE_WITH_ORDINARY_TRAINING:
            # Observation 2 (ease): Theorem 2 trains its ordinary yardstick inside construct()
            self.phase.emit(self.run_id, "training an ordinary network of the same shape, "
                                         "for comparison (ease)")
            extra = self.pump(core.ease_comparison(resolved, con))
            if extra is CANCELLED:
                return
            metrics.update(extra)
        self.finished.emit(self.run_id, RunResult(self.run_id, con, measurement, metrics,
                                                  time.perf_counter() - t0))


class RemeasureWorker(WorkerBase):
    """Progressive refinement of a finished construction's train and test surfaces."""

    level = Signal(int, str, int, object)   # run id, split, size, surface at size^z
    finished = Signal(int, object)          # run id, Remeasured

    def __init__(self, run_id: int, construction, grid: int, cancel: threading.Event,
                 splits=("train", "test"), first_frame_s: float | None = 0.25, core=None):
        super().__init__(run_id, cancel, core)
        self.con, self.grid = construction, grid
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
            X = self.core.as_input(X, con.resolved.network)   # images for the conv families
            gen = self.core.progressive_surface(
                con.model, con.directions, X, y, self.grid, con.alpha_range,
                classes=ds.classes, heads=con.heads, loss=cfg.loss, device=cfg.device,
                start=8, first_frame_s=self.first_frame_s)
            full = self.drain(gen, lambda item, split=split:
                              self.level.emit(self.run_id, split, *item))
            if full is CANCELLED:
                return
            surfaces[split] = full
        target = con.resolved.target(self.grid)
        span = con.resolved.loss_range.span
        fid = {s: self.core.fidelity_per_head(a, target, span, con.heads)
               for s, a in surfaces.items()}
        self.finished.emit(self.run_id, Remeasured(self.run_id, self.grid, target, surfaces, fid,
                                                   time.perf_counter() - t0))


class MpoWorker(ConstructionWorker):
    """Skorokhodov & Burtsev's multi-point optimisation: the core's search generator (a frame
    and a cancellation point per step), then the train and test surfaces on the plane, every
    sample at every grid point (one dense pass per point), then IoU and the accuracy gap."""

    def _run(self) -> None:
        core, t0, rid = self.core, time.perf_counter(), self.run_id
        self.phase.emit(rid, "validating settings and loading data")
        resolved = self.resolved or resolve(self.config, None, None)
        run = core.validate_mpo(core_config(self.config), dataset=resolved.dataset,
                                pattern=resolved.pattern)
        result = self.pump(core.construct_mpo(run))
        if result is CANCELLED:
            return
        grid = self.config.grid
        alphas = core.range_points(grid, 2, result.alpha_range)
        m = MpoMeasurement()
        for split in ("train", "test"):
            X, y = resolved.dataset.split(split)
            self.phase.emit(rid, f"measuring the {split} surface: {grid}×{grid} points × "
                                 f"{len(y)} samples (a dense plane: a full pass per point)")
            X = core.as_input(torch.as_tensor(X), run.network)
            out = self.pump(core.mpo_point_surface(result.model, result.directions, X, y,
                                                   alphas))
            if out is CANCELLED:
                return
            m.surfaces[split] = out[0].reshape(grid, grid)
            m.accuracy[split] = out[1].reshape(grid, grid)
            self.level.emit(rid, split, grid, m.surfaces[split])
        con = MpoConstruction(resolved, result, resolved.target())
        self.finished.emit(rid, RunResult(rid, con, m, mpo_metrics(resolved, result, m),
                                          time.perf_counter() - t0))
