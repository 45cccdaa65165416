"""Dataset loading off the GUI thread: the state's ``load_dataset`` for the app.

A dataset from disk can take seconds. ``ThreadedDatasetLoader(spec, loaded, failed)`` loads it
on a Python thread and calls back on the GUI thread (a queued signal through a relay object
that lives there). The state drops a late answer to a superseded request.
"""

from __future__ import annotations

import threading
import traceback

from PySide6.QtCore import QObject, Signal

import losspattern_core as lp


class _Relay(QObject):
    """Lives in the GUI thread; the loader thread emits through it (queued delivery)."""

    loaded = Signal(object, str, object)   # callback, spec, Dataset
    failed = Signal(object, str, str)      # callback, spec, message


class ThreadedDatasetLoader:
    """Callable as the state's ``load_dataset``; ``wait()`` joins the loader threads."""

    def __init__(self, parent: QObject | None = None):
        self._relay = _Relay(parent)
        self._relay.loaded.connect(lambda callback, spec, ds: callback(spec, ds))
        self._relay.failed.connect(lambda callback, spec, message: callback(spec, message))
        self._threads: list[threading.Thread] = []

    def __call__(self, spec: str, loaded, failed) -> None:
        relay = self._relay

        def work() -> None:
            try:
                ds = lp.load_dataset(spec)
            except lp.LossPatternError as exc:
                relay.failed.emit(failed, spec, str(exc))
            except Exception as exc:  # a bug or an unexpected file: say so, keep the log
                traceback.print_exc()
                relay.failed.emit(failed, spec, f"{type(exc).__name__}: {exc}")
            else:
                relay.loaded.emit(loaded, spec, ds)

        self._threads = [t for t in self._threads if t.is_alive()]
        thread = threading.Thread(target=work, name=f"dataset-{spec}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def wait(self, timeout: float = 60.0) -> bool:
        """Join the loader threads (their results still arrive through the event loop)."""
        for t in list(self._threads):
            t.join(timeout)
        return not any(t.is_alive() for t in self._threads)
