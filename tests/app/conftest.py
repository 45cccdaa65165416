"""Fixtures for the GUI tests (pytest-qt, run under Xvfb with QT_QPA_PLATFORM=xcb)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, QThread

from losspattern_core.config import ConstructionConfig

TINY = dict(steps=60, grid=16, width=32, snapshot_every=20)


@pytest.fixture(autouse=True)
def short_ordinary_training(monkeypatch):
    """The ordinary-training comparison (ease) runs in every GUI run: keep it short here."""
    from losspattern_core import training as baseline

    monkeypatch.setattr(baseline, "STEPS", 100)


@pytest.fixture
def tiny_config() -> ConstructionConfig:
    return ConstructionConfig(**TINY)


@pytest.fixture
def errors(monkeypatch) -> list[tuple[str, str]]:
    """Message boxes are recorded instead of shown (they would block a test)."""
    from app import messages

    seen: list[tuple[str, str]] = []
    monkeypatch.setattr(messages, "error", lambda parent, title, text: seen.append((title, text)))
    monkeypatch.setattr(messages, "confirm", lambda parent, title, text: True)
    return seen


@pytest.fixture
def window(qtbot, tmp_path, errors):
    from app.window import MainWindow

    win = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat), restore=False)
    win.network_panel.set_values({"steps": TINY["steps"], "grid": TINY["grid"],
                                  "width": TINY["width"]})
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    wait_dataset(qtbot, win)
    yield win
    win.close()
    assert win.controller.live_threads() == 0


def wait_dataset(qtbot, win, timeout=30_000) -> None:
    """Datasets load on a worker thread: wait until one is in place."""
    qtbot.waitUntil(lambda: not win.dataset_panel.loading and win.dataset_panel.dataset
                    is not None, timeout=timeout)


def run_to_end(qtbot, win, timeout=30_000):
    with qtbot.waitSignal(win.controller.finished, timeout=timeout) as blocker:
        assert win.start_run() is not None
    return blocker.args[0]


def no_qthread_running(controller) -> bool:
    return all(not t.isRunning() for t, _, _ in controller._threads.values())


__all__ = ["QThread", "TINY", "no_qthread_running", "run_to_end", "wait_dataset"]
