"""Fixtures for the GL tests (vispy canvases need a real X server: run under xvfb-run).

``no_leaks`` (autouse) fails a test that leaves a QThread running or a top-level widget alive,
like the app tests' guard. ``needs_display`` fails, rather than skips, a test that needs an X
server when there is none: a run that forgot Xvfb must not pass by skipping the GL tests.
"""

from __future__ import annotations

import os

import pytest
from qt_guard import qt_leak_guard


@pytest.fixture(autouse=True)
def no_leaks(monkeypatch):
    """Fail the test if it leaves a QThread running or top-level widgets alive."""
    with qt_leak_guard(monkeypatch):
        yield


@pytest.fixture
def needs_display() -> None:
    if not os.environ.get("DISPLAY"):
        pytest.fail("this test needs an X server with OpenGL: run it under xvfb-run "
                    "(scripts/test.sh does)")
