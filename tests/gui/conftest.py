"""Fixtures for the app's tests (pytest-qt, run under Xvfb with QT_QPA_PLATFORM=xcb).

The guard ``no_leaks`` (autouse) fails a test that leaves a QThread running, a dataset loader
thread alive or a top-level widget alive. The Qt-free tests (state, captions) use no Qt
fixture; the guard checks nothing Qt when no QApplication exists.
"""

from __future__ import annotations

import threading
import types
from types import SimpleNamespace

import numpy as np
import pytest
from qt_guard import qt_leak_guard

import losspattern_core as lp

TINY = dict(steps=60, grid=16, width=32)


@pytest.fixture(autouse=True)
def no_leaks(monkeypatch):
    """Fail the test if it leaves a QThread running, a loader thread or top-level widgets."""
    with qt_leak_guard(monkeypatch):
        yield


@pytest.fixture(autouse=True)
def short_ordinary_training(monkeypatch):
    """The ordinary-training comparison (ease) runs in every GUI run: keep it short here."""
    from losspattern_core import training

    monkeypatch.setattr(training, "STEPS", 100)


@pytest.fixture(autouse=True)
def short_sharpness(monkeypatch):
    """Every finished run's analysis (persistence, then the sharpness at θ_0) runs on a worker
    that closing the window joins: keep its Hessian work small here (the core's tests check
    the sharpness itself; the GUI's, that it is computed and shown)."""
    from app.panels import analysis_section

    monkeypatch.setattr(analysis_section, "SHARPNESS_SAMPLES", 256)
    monkeypatch.setattr(analysis_section, "SHARPNESS",
                        dict(top_k=1, samples=4, max_iter=20, tol=1e-3))


@pytest.fixture
def tiny_config() -> lp.ConstructionConfig:
    return lp.ConstructionConfig(**TINY, snapshot_every=20)


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
    from PySide6.QtCore import QSettings

    from app.main_window import MainWindow

    win = MainWindow(QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat), restore=False)
    qtbot.addWidget(win)
    win.state.choose(**TINY)
    win.show()
    qtbot.waitExposed(win)
    wait_dataset(qtbot, win)
    yield win
    win.close()
    assert win.controller.live_threads() == 0


@pytest.fixture(scope="session")
def made_run():
    """One small real Theorem 1 run with the window's tiny settings (``TINY`` on digits, the
    app's defaults otherwise), computed once for the session: its construction (the network
    kept), measurement, metrics and the frames it streamed. Tests whose point is what comes
    after a run (exports, re-measure, the analysis, the recorder) show it with
    ``show_finished`` instead of training again; the run path itself is tested by real runs
    (test_window, test_modes, test_provenance, test_controller, test_launch)."""
    from app.choice import Choice

    cfg = Choice(dataset="digits", **TINY).config()
    frames: list = []
    con = lp.drive(lp.construct(lp.validate(cfg)), frames.append)
    m = lp.measure_surfaces(con)
    return con, m, lp.construction_metrics(con, m), frames


def show_finished(win, made):
    """``made`` (see ``made_run``) finished in the window as a run ends there: the state
    records its start, then the run controller's own signals bring its frames, its loss
    curve, its streamed train surfaces and its RunResult (what the worker would hand over,
    without training again). Returns the RunResult, as ``run_to_end`` does."""
    from app.choice import Choice
    from app.workers import RunResult

    con, m, metrics, frames = made
    c, st = win.controller, win.state
    st.choose(**Choice.fields_of_config(con.resolved.config))   # its settings are chosen
    c._run_id += 1          # the controller's next id: a later real run gets a new one
    rid = c._run_id
    st.runs.begin_run(rid, con.resolved)
    def curve_to(step):
        curve = [f for f in frames if f.phase == "regression" and f.step <= step]
        return np.array([f.step for f in curve]), np.array([f.reg_loss for f in curve])

    # as the controller's repaint timer hands them over: the latest frame and the loss curve
    # so far with each streamed surface, then the last frame
    for f in frames:
        if f.surface is not None:
            c.progress.emit(f)
            c.losses.emit(*curve_to(f.step))
            c.surface.emit(f.step, f.surface)
    c.progress.emit(frames[-1])
    c.losses.emit(*curve_to(frames[-1].step))
    result = RunResult(rid, con, m, metrics, 1.0)
    c.finished.emit(result)
    assert st.result is not None and st.result.run_id == rid and st.shown.origin == "result"
    return result


def wait_dataset(qtbot, win, timeout=30_000) -> None:
    """Datasets load on a worker thread: wait until one is in place."""
    qtbot.waitUntil(lambda: win.state.ready, timeout=timeout)


def run_to_end(qtbot, win, timeout=60_000):
    with qtbot.waitSignal(win.controller.finished, timeout=timeout) as blocker:
        assert win.start_run() is not None
    return blocker.args[0]


def no_qthread_running(controller) -> bool:
    return all(not t.isRunning() for t, _, _ in controller._threads.values())


def fake_core(**overrides):
    """The core's public names, some replaced (a stand-in for ``RunController(core=...)``)."""
    names = ("validate", "construct", "measure_surfaces_progressive", "construction_metrics",
             "ease_comparison", "progressive_surface", "fidelity_per_head", "LossPatternError",
             "as_input")
    return types.SimpleNamespace(**{**{n: getattr(lp, n) for n in names}, **overrides})


def endless_construction(record: list, cancelled=lambda: False):
    """A stand-in for ``lp.construct``: a generator of frames that never ends by itself.
    It appends to ``record`` whether ``cancelled()`` was already true when each step began,
    and "closed" when the generator is closed."""

    def construct(resolved):
        step = 0
        try:
            while True:
                step += 1
                record.append(bool(cancelled()))
                threading.Event().wait(0.002)   # a step's work, without spinning a core
                yield lp.Frame(step, 10**9, 1.0 / step, 0.01 * step)
        finally:
            record.append("closed")

    return construct


def fake_result(run, surfaces=None, resolved=None):
    """What the worker hands over at the end, without training anything."""
    resolved = resolved or run.resolved
    target = resolved.target()
    surfaces = surfaces or {"train": target + 0.01, "test": target + 0.02}
    con = SimpleNamespace(resolved=resolved, target=target, config=resolved.config)
    return SimpleNamespace(construction=con, measurement=SimpleNamespace(surfaces=surfaces),
                           metrics={"train": {"psnr_db": 40.0}, "test": {"psnr_db": 39.0}},
                           seconds=1.5)


def finished_run(st, run_id: int = 1, resolved=None):
    resolved = resolved or lp.validate(st.choice.config(), dataset=st.dataset,
                                       pattern=st.pattern)
    st.runs.begin_run(run_id, resolved)
    st.runs.run_losses(np.arange(1, 61), np.linspace(1, 0.01, 60))
    st.runs.finish_run(fake_result(st.live))
    return st.result
