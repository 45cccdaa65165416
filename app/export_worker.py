"""An export on its own QThread: progress, cancel, one message for the user at the end.

A job is a callable ``job(progress, cancel) -> Path``: ``progress(done, total)`` is called by
the core per frame (animations) or before and after the write; ``cancel()`` returns True once
the user pressed Cancel (a ``threading.Event``, read by the core between frames: a queued
signal would never reach a thread busy encoding). The core writes through a temporary file
renamed into place, so a cancelled or failed export leaves nothing behind.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

import losspattern_core as lp

from .exporting import ExportError

Job = Callable[[Callable[[int, int], None], Callable[[], bool]], Path]


class ExportWorker(QObject):
    """Runs one job; emits ``progress``, then exactly one of ``finished`` / ``failed`` /
    ``cancelled``, then ``done``."""

    progress = Signal(int, int)      # done, total
    finished = Signal(str)           # the written path
    failed = Signal(str)             # a message naming the file and the problem
    cancelled = Signal()
    done = Signal()

    def __init__(self, job: Job, cancel: threading.Event):
        super().__init__()
        self.job, self.cancel = job, cancel

    @Slot()
    def run(self) -> None:
        try:
            path = self.job(lambda d, t: self.progress.emit(int(d), int(t)),
                            self.cancel.is_set)
        except Exception as exc:   # every failure becomes a message, never a traceback
            if self.cancel.is_set():
                self.cancelled.emit()
            elif isinstance(exc, (lp.LossPatternError, ExportError)):
                self.failed.emit(str(exc))
            elif isinstance(exc, OSError):
                self.failed.emit(f"could not write the file: {exc.strerror or exc}")
            else:
                traceback.print_exc()   # a bug: keep its traceback for the log
                self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            if self.cancel.is_set() and not Path(path).exists():
                self.cancelled.emit()
            else:
                self.finished.emit(str(path))
        finally:
            self.done.emit()


class ExportRunner(QObject):
    """Starts jobs on a QThread, one at a time; ``cancel()`` asks the running one to stop;
    ``wait()`` joins the thread (dialog close, tests)."""

    progress = Signal(int, int)
    finished = Signal(str)
    failed = Signal(str)
    cancelled = Signal()
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._thread: QThread | None = None
        self._worker: ExportWorker | None = None
        self._cancel = threading.Event()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self, job: Job) -> bool:
        """Run ``job`` on a new thread; False when one is still running."""
        if self._thread is not None:
            return False
        self._cancel = threading.Event()
        thread, worker = QThread(), ExportWorker(job, self._cancel)
        thread.setObjectName("losspattern-export")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self.progress)
        worker.finished.connect(self.finished)
        worker.failed.connect(self.failed)
        worker.cancelled.connect(self.cancelled)
        worker.done.connect(thread.quit)
        thread.finished.connect(lambda t=thread: self._ended(t))
        self._thread, self._worker = thread, worker
        thread.start()
        self.running_changed.emit(True)
        return True

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout_ms: int = 30_000) -> bool:
        """Cancel and join the running job's thread (True: none is left)."""
        if self._thread is None:
            return True
        self._cancel.set()
        self._thread.quit()   # the worker's queued "done → quit" cannot reach this thread now
        ok = self._thread.wait(timeout_ms)
        if ok:
            self._ended(self._thread)
        return ok

    def _ended(self, thread: QThread) -> None:
        if self._thread is None or thread is not self._thread:   # a late signal of an old one
            return
        thread, self._thread, self._worker = self._thread, None, None
        thread.wait(5000)   # it has quit; dropping the references frees it (as the controller)
        self.running_changed.emit(False)
