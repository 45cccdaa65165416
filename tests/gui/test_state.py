"""The app's state without Qt: choices, runs with their own settings, what the views show.

No QApplication, no widget: runs are recorded with stand-in worker results (a real resolved
config and target, surfaces made up around it), so each rule is checked exactly. That these
modules import no GUI package is checked in a fresh process by
test_launch.test_core_state_and_offscreen_import_no_qt.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

import losspattern_core as lp
from app.records import Layer
from app.shown import PREVIEW_GRID, minimum_fracs, target_at_points
from app.state import AppState

from .conftest import fake_result, finished_run

SMALL = dict(steps=60, grid=16, width=32)


@pytest.fixture
def state() -> AppState:
    st = AppState()   # the plain loader: datasets load at once
    st.choose(dataset="digits", **SMALL)
    return st


def test_preview_is_the_cores_target_of_the_chosen_settings(state):
    shown = state.shown
    assert shown.origin == "preview" and shown.measured == {} and shown.error is None
    resolved = lp.validate(state.choice.config(), dataset=state.dataset)
    np.testing.assert_array_equal(shown.target, resolved.target(16))
    assert state.choice.loss_range == (resolved.loss_range.low, resolved.loss_range.high)
    assert state.start_problem() is None


def test_a_live_run_shows_its_own_target_and_error(state):
    resolved = lp.validate(state.choice.config(), dataset=state.dataset, pattern=state.pattern)
    state.runs.begin_run(7, resolved)
    target = resolved.target()
    assert state.shown.origin == "live" and state.shown.run_id == 7 and state.running
    np.testing.assert_array_equal(state.shown.target, target)
    state.runs.run_surface(20, target + 0.3)
    train = state.shown.measured["train"]
    assert train.step == 20 and "test" not in state.shown.measured
    np.testing.assert_allclose(state.shown.error, 0.3)
    state.choose(pattern="rings")          # settings change while a run goes on:
    assert state.shown.origin == "live"    # the views keep showing that run, with its target
    np.testing.assert_array_equal(state.shown.target, target)


def test_a_level_is_compared_with_the_target_at_its_own_points(state):
    resolved = lp.validate(state.choice.config(), dataset=state.dataset, pattern=state.pattern)
    state.runs.begin_run(1, resolved)
    idx = lp.subgrid_indices(16, 5)
    level = resolved.target()[np.ix_(idx, idx)] - 0.2
    state.runs.measured_level("train", 5, level)
    layer = state.shown.measured["train"]
    assert layer.is_level and layer.size == 5 and layer.grid == 16
    np.testing.assert_allclose(state.shown.error, -0.2)
    assert target_at_points(resolved.target(), 16, 6, 2) is None   # no level of that size


def test_other_settings_clear_the_measured_views_and_back_again(state):
    run = finished_run(state)
    assert state.shown.origin == "result" and state.can_remeasure
    for change, diff in (({"pattern": "rings"}, ("pattern",)), ({"grid": 24}, ("grid",)),
                         ({"z": 3}, ("pattern", "z")), ({"theorem": 2}, ("theorem",)),
                         ({"seed": 5}, ("seed",))):
        before = state.choice
        state.choose(**change)
        shown = state.shown
        assert shown.origin == "preview" and shown.measured == {} and shown.error is None
        assert shown.stale.run_id == run.run_id and shown.stale.differences == diff
        assert not state.can_remeasure
        cfg = state.choice.config()
        np.testing.assert_array_equal(
            shown.target,
            lp.validate(cfg, dataset=state.dataset).target(min(cfg.grid, PREVIEW_GRID[cfg.z])))
        state.choose(**{k: getattr(before, k) for k in ("pattern", "grid", "z", "theorem",
                                                        "seed")})
        assert state.shown.origin == "result", change   # the run's own settings: it returns
        np.testing.assert_array_equal(state.shown.target, run.target)
        np.testing.assert_allclose(state.shown.error, 0.01)
    state.choose(device="cuda" if "cuda" in lp.available_devices() else "cpu")
    assert state.shown.origin == "result"   # where it runs changes no measurement


def test_theorem2_error_waits_for_the_shifted_target(state):
    state.choose(theorem=2)
    resolved = lp.validate(state.choice.config(), dataset=state.dataset, pattern=state.pattern)
    state.runs.begin_run(3, resolved)
    state.runs.run_surface(10, resolved.target() - 2.3)
    assert state.shown.target_final is False and state.shown.error is None
    shift = -2.3
    rng = resolved.loss_range
    shifted = dataclasses.replace(resolved,
                                  loss_range=lp.LossRange(rng.low + shift, rng.high + shift))
    state.runs.finish_run(fake_result(state.live, resolved=shifted))
    shown = state.shown
    assert shown.target_final and shown.loss_range == pytest.approx((rng.low - 2.3,
                                                                      rng.high - 2.3))
    np.testing.assert_allclose(shown.target, shifted.target())
    np.testing.assert_allclose(shown.error, 0.01)


def test_remeasure_is_attached_to_its_run_and_keeps_the_curve(state):
    run = finished_run(state)
    state.runs.begin_remeasure(40)
    shown = state.shown
    assert shown.origin == "remeasure" and shown.target_grid == 40 and shown.measured == {}
    np.testing.assert_allclose(shown.target, run.resolved.target(40))
    idx = lp.subgrid_indices(40, 11)
    state.runs.measured_level("train", 11, shown.target[np.ix_(idx, idx)] + 0.1)
    np.testing.assert_allclose(state.shown.error, 0.1)
    state.runs.finish_remeasure(SimpleNamespace(surfaces={"train": shown.target + 0.05,
                                                     "test": shown.target},
                                           fidelity={"train": {}, "test": {}}, seconds=0.2))
    assert state.result.remeasure.done and state.shown.measured["train"].grid == 40
    np.testing.assert_array_equal(state.result.loss_steps, run.loss_steps)
    assert state.result.measurement is run.measurement   # exports keep the run's own grid
    state.runs.begin_remeasure(64)
    state.runs.stopped("cancelled")
    assert state.result.remeasure is None and state.shown.origin == "result"
    assert state.progress.outcome == "re-measure cancelled"


def test_images_fall_back_outside_z2_and_refuse_when_asked(state):
    state.choose(pattern="smiley")
    state.choose(z=3)
    assert state.choice.pattern == "bumps" and state.pattern.z == 3
    with pytest.raises(lp.PatternError, match="2-D"):
        state.choose(pattern="smiley")
    assert state.choice.pattern == "bumps"
    with pytest.raises(lp.LossPatternError):
        state.choose(pattern="no-such-pattern")
    assert state.choice.pattern == "bumps"
    state.choose(z=2, rgb=True)
    assert state.choice.rgb and state.pattern.channels == 3
    state.choose(theorem=2)
    assert not state.choice.rgb   # colour needs Theorem 1


def test_impossible_loss_range_blocks_start_and_preview(state):
    floor = state.floor
    state.choose(loss_range=(floor - 0.5, floor + 1))
    assert "floor" in state.loss_range_problem and state.start_problem()
    assert state.shown.origin == "empty" and "impossible" in state.shown.problem
    state.choose(loss_range=(floor + 0.2, floor + 1))
    assert state.loss_range_problem is None and state.shown.origin == "preview"


def test_a_superseded_dataset_load_is_dropped():
    calls = []
    st = AppState(load_dataset=lambda spec, ok, fail: calls.append((spec, ok, fail)))
    st.choose(dataset="digits")
    st.choose(dataset="synthetic")
    assert st.dataset_loading == "synthetic" and not st.ready
    calls[0][1]("digits", lp.load_dataset("digits"))   # late answer to the first request
    assert st.dataset is None and st.choice.dataset == ""
    calls[1][2]("synthetic", "broken file")
    assert "broken file" in st.dataset_error and st.dataset_loading is None


def test_slices_follow_the_minimum_until_the_user_moves_them(state):
    state.choose(z=3, grid=10)
    fracs = minimum_fracs(state.shown.target, 1)
    assert state.view.slices == tuple(fracs) and state.view.slices_follow_minimum
    state.set_slice(axis=0, frac=0.25)
    assert state.view.slice_axis == 0 and state.view.slices[0] == 0.25
    state.choose(pattern="bumps:n=2")
    assert state.view.slices[0] == 0.25   # the user's slices stay
    state.slice_through_minimum()
    assert state.view.slices == tuple(minimum_fracs(state.shown.target, 1))


def test_observers_hear_each_topic(state):
    heard = []
    for topic in ("choice", "result", "view", "shown", "run"):
        getattr(state.events, topic).connect(lambda t=topic: heard.append(t))
    state.choose(width=48)
    assert heard == ["choice", "shown"]
    heard.clear()
    finished_run(state)
    assert {"result", "shown", "run"} <= set(heard)
    heard.clear()
    state.set_view(colormap="magma")
    assert heard == ["view"]


def test_saved_settings_restore_and_skip_what_is_unusable(state):
    state.choose(pattern="rings:freq=5", width=48, loss_range=(2.5, 3.5))
    state.set_view(colormap="magma", tab=1)
    saved = state.saved()
    other = AppState()
    other.restore(saved)
    assert other.choice == state.choice and other.view.colormap == "magma"
    saved["choice"].update(pattern="/no/such.png", width="wide")
    third = AppState()
    third.restore(saved)
    assert third.choice.pattern == "mountains" and third.choice.width == 128
    assert third.choice.dataset == "digits"


def test_layer_knows_its_grid():
    layer = Layer(np.zeros((5, 5)), 16, 5)
    assert layer.is_level and not Layer(np.zeros((16, 16)), 16, 16).is_level
