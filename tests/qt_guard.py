"""The leak guard shared by the Qt test folders (tests/gui, tests/gl): a test must not leave a
QThread running, a dataset loader thread alive or a top-level widget open.

Both folders are packages, so pytest puts ``tests/`` on ``sys.path`` and their conftests
import this module by name.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

GRACE_MS = 5000   # a thread that has been told to stop gets this long to end


@contextmanager
def qt_leak_guard(monkeypatch, loaders: bool = True):
    """Record every QThread started inside the block; after it, fail on what is left alive."""
    from PySide6.QtCore import QCoreApplication, QEvent, QThread
    from PySide6.QtWidgets import QApplication

    started: list = []
    real_start = QThread.start
    monkeypatch.setattr(QThread, "start",
                        lambda self, *a: (started.append(self), real_start(self, *a))[1])
    app = QApplication.instance()
    before = {id(w) for w in app.topLevelWidgets()} if app is not None else set()
    yield
    running = [t.objectName() for t in started if not t.wait(GRACE_MS)]
    alive = [t.name for t in threading.enumerate() if loaders and t.name.startswith("dataset-")
             and (t.join(GRACE_MS / 1000) or t.is_alive())]
    app = QApplication.instance()
    leaked = []
    if app is not None:
        app.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
        gc.collect()
        # what outlives the test (modules imported lazily: torch._dynamo, sklearn; a dataset
        # or run cached for the session) joins the objects tests/conftest.py froze after
        # collection: the next test's collection then walks only what that test made (~0.3 s
        # a collection otherwise, growing with each lazy import). The test's own garbage was
        # collected just above; reference counting still frees what is frozen.
        gc.freeze()
        leaked = [type(w).__name__ for w in app.topLevelWidgets()
                  if id(w) not in before and w.isVisible()]
    assert not running, f"QThreads still running after the test: {running}"
    assert not alive, f"dataset loader threads still alive after the test: {alive}"
    assert not leaked, f"top-level widgets left open after the test: {leaked}"
