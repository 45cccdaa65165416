"""Fixtures for the GL tests (vispy canvases need a real X server: run under xvfb-run).

``no_leaks`` (autouse) fails a test that leaves a QThread running or a top-level widget alive,
like the app tests' guard. ``needs_display`` fails, rather than skips, a test that needs an X
server when there is none: a run that forgot Xvfb must not pass by skipping the GL tests.
"""

from __future__ import annotations

import gc
import os

import pytest

GRACE_MS = 5000   # a thread that has been told to stop gets this long to end


@pytest.fixture(autouse=True)
def no_leaks(monkeypatch):
    """Fail the test if it leaves a QThread running or top-level widgets alive."""
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
    app = QApplication.instance()
    leaked = []
    if app is not None:
        app.processEvents()
        QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
        gc.collect()
        leaked = [type(w).__name__ for w in app.topLevelWidgets()
                  if id(w) not in before and w.isVisible()]
    assert not running, f"QThreads still running after the test: {running}"
    assert not leaked, f"top-level widgets left open after the test: {leaked}"


@pytest.fixture
def needs_display() -> None:
    if not os.environ.get("DISPLAY"):
        pytest.fail("this test needs an X server with OpenGL: run it under xvfb-run "
                    "(scripts/test.sh does)")
