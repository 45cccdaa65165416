"""Item 9: finished runs stay while the app is open, one can be shown again (with its
settings), a cancelled run brings back the one shown before, and unsaved work is asked about."""

from __future__ import annotations

import pytest

from app.state import AppState

from .conftest import finished_run


@pytest.fixture
def state() -> AppState:
    st = AppState()
    st.choose(dataset="digits", steps=60, grid=16, width=32)
    return st


def test_a_new_run_keeps_the_finished_one(state):
    first = finished_run(state, 1)
    state.choose(pattern="rings", width=48)
    second = finished_run(state, 2)
    assert [r.run_id for r in state.runs.history] == [1, 2]
    assert state.result is second
    assert state.show_run(1)
    assert state.result.run_id == 1 and state.result is first
    assert state.choice.pattern == first.config.pattern and state.choice.width == 32
    assert state.shown.run_id == 1 and state.shown.stale is None   # not cleared as stale


def test_cancel_brings_back_the_shown_run(state):
    finished_run(state, 1)
    resolved = state.result.resolved
    state.runs.begin_run(2, resolved)
    assert state.result is None and state.live is not None
    state.runs.stopped("cancelled")
    assert state.result is not None and state.result.run_id == 1   # still exportable


def test_unsaved_runs_are_known(state):
    finished_run(state, 1)
    finished_run(state, 2)
    assert state.runs.unsaved() == [1, 2]
    state.runs.mark_saved(1)
    assert state.runs.unsaved() == [2]


def test_no_switching_while_a_run_is_under_way(state):
    finished_run(state, 1)
    state.runs.begin_run(2, state.result.resolved)
    assert not state.show_run(1)


def test_closing_asks_about_unsaved_work(qtbot, tmp_path, monkeypatch, errors):
    from PySide6.QtCore import QSettings

    from app import messages
    from app.main_window import MainWindow

    from .conftest import wait_dataset

    win = MainWindow(QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat), restore=False)
    qtbot.addWidget(win)
    win.show()
    wait_dataset(qtbot, win)
    finished_run(win.state, 1)
    asked = []
    monkeypatch.setattr(messages, "confirm", lambda p, t, text: asked.append(text) or False)
    assert not win.close() and win.isVisible()
    assert asked and "run(s) 1 not exported" in asked[0]
    assert win.history_panel.table.rowCount() == 1
    monkeypatch.setattr(messages, "confirm", lambda p, t, text: True)
    assert win.close()


def test_a_new_pattern_shows_its_target_at_once(state):
    """Item 8: after a finished run, picking another pattern replaces the target at once."""
    import numpy as np

    import losspattern_core as lp

    old = finished_run(state, 1)
    state.choose(pattern="rings")
    shown = state.shown
    assert shown.origin == "preview" and shown.run_id is None
    want = lp.validate(state.choice.config(), dataset=state.dataset).target(shown.target_grid)
    np.testing.assert_allclose(shown.target, want)
    assert shown.target.shape != old.target.shape or not np.allclose(shown.target, old.target)


def test_closing_asks_while_an_explore_run_is_under_way(window, monkeypatch):
    from app import messages
    from app.explore_mode.dock import show_explore
    from app.explore_mode.mode import ExploreMode

    show_explore(window)   # an explore run starts in the Explore dock, built when first shown
    monkeypatch.setattr(ExploreMode, "running", property(lambda self: True))
    asked = []
    monkeypatch.setattr(messages, "confirm", lambda p, t, text: asked.append(text) or False)
    assert not window.close() and window.isVisible()
    assert asked and "an explore run is under way" in asked[0]
    monkeypatch.setattr(ExploreMode, "running", property(lambda self: self.controller.running))
    monkeypatch.setattr(messages, "confirm", lambda p, t, text: True)
