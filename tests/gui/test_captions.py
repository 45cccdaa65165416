"""Provenance text from the state, without Qt: every title says what, from which run, how."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

import losspattern_core as lp
from app import captions
from app.records import Progress
from app.state import AppState

from .conftest import fake_result, finished_run


@pytest.fixture
def state() -> AppState:
    st = AppState()
    st.choose(dataset="digits", steps=60, grid=16, width=32)
    return st


def test_directions_name_first_layer_biases():
    assert captions.directions_text(1) == "α1 = bias of first-layer unit 1"
    assert captions.directions_text(3) == "α1, α2, α3 = biases of first-layer units 1, 2, 3"


def test_titles_before_during_and_after_a_run(state):
    titles = captions.panel_titles(state.shown)
    assert "(chosen)" in titles["target"] and "no run" in titles["train"]
    assert "no run" in titles["error"]
    resolved = lp.validate(state.choice.config(), dataset=state.dataset, pattern=state.pattern)
    state.runs.begin_run(4, resolved)
    state.runs.run_surface(30, resolved.target())
    titles = captions.panel_titles(state.shown)
    assert "run 4" in titles["target"] and "16-point grid" in titles["target"]
    assert "run 4" in titles["train"] and "step 30" in titles["train"] and "1420" in titles["train"]
    assert "when the regression ends" in titles["test"]
    assert titles["error"].startswith("error: train − target · run 4")
    state.runs.measured_level("train", 5, np.zeros((5, 5)))
    assert "level 5 of 16" in captions.panel_titles(state.shown)["train"]
    assert "5-point level" in captions.panel_titles(state.shown)["error"]
    state.runs.finish_run(fake_result(state.live))
    assert "showing run 4" in captions.header(state.choice, "mountains", state.dataset,
                                              state.shown)


def test_changed_settings_are_named_where_the_views_were_cleared(state):
    finished_run(state, run_id=2)
    state.choose(pattern="rings", grid=24)
    shown = state.shown
    titles = captions.panel_titles(shown)
    assert "rings" in titles["target"] and "no run" in titles["train"]
    caption = captions.heatmap_caption(shown)
    assert "Run 2 was measured with other settings (pattern, grid)" in caption
    head = captions.header(state.choice, "rings", state.dataset, shown)
    assert "run 2 had other settings (pattern, grid): measured views cleared" in head
    heading = captions.metrics_heading(state.result, shown.stale)
    assert heading.startswith("Run 2: Theorem 1, 'mountains'") and "grid 16" in heading
    assert "Not the settings chosen now (pattern, grid)" in heading


def test_theorem2_caption_states_the_shift_and_the_block_structure(state):
    state.choose(theorem=2, loss_range=(2.41, 3.91))
    preview = captions.heatmap_caption(state.shown)
    assert "in [2.41, 3.91] nats as chosen" in preview and "shifts it" in preview
    assert "c(x) + g(α)" in preview and "block-diagonal" in preview
    resolved = lp.validate(state.choice.config(), dataset=state.dataset, pattern=state.pattern)
    state.runs.begin_run(1, resolved)
    assert "unshifted" in captions.panel_titles(state.shown)["target"]
    assert "when the run ends" in captions.panel_titles(state.shown)["error"]
    shifted = dataclasses.replace(resolved, loss_range=lp.LossRange(0.01, 1.51))
    state.runs.finish_run(fake_result(state.live, resolved=shifted))
    caption = captions.heatmap_caption(state.shown)
    assert "shifted by -2.4 nats to [0.01, 1.51] nats (chosen [2.41, 3.91])" in caption
    assert "in [2.41, 3.91]" not in caption
    assert "shifted" in captions.panel_titles(state.shown)["target"]


def test_outcome_texts_say_what_exports_hold(state):
    run = finished_run(state)
    bar, status = captions.outcome_texts(Progress(outcome="finished"), run)
    assert bar == "done in 1.5 s" and "train PSNR 40.0 dB" in status
    state.runs.begin_remeasure(40)
    state.runs.finish_remeasure(SimpleNamespace(
        surfaces={"train": np.zeros((40, 40)), "test": np.zeros((40, 40))},
        fidelity={"train": {"psnr_db": 41.0}, "test": {"psnr_db": 41.0}}, seconds=0.5))
    bar, status = captions.outcome_texts(state.progress, state.result)
    assert bar == "re-measured at grid 40 in 0.5 s"
    assert "a PNG of a view" in status and "hold the run's own 16-point grid" in status
    assert captions.outcome_texts(Progress(outcome="cancelled"), None)[0] == "cancelled"
    assert "showing the run's own grid" in captions.outcome_texts(
        Progress(outcome="re-measure cancelled"), None)[1]


def test_floor_texts_say_whose_floor_it_is(state):
    text = captions.floor_text(state.floor, "digits train labels")
    assert "prediction that ignores x" in text and "Theorem 2" in text
    assert "no network" not in text
    info = captions.dataset_info(state.dataset)
    assert "constant prediction" in info and "any network" not in info


def test_activity_texts_follow_the_latest_event():
    frame = lp.Frame(50, 200, 0.01, 1.0)
    bar, fraction, status = captions.activity_texts(
        Progress("construction", frame=frame, latest="frame"))
    assert bar.startswith("50/200") and fraction == 0.25 and "regression step 50" in status
    bar, fraction, status = captions.activity_texts(
        Progress("construction", frame=frame, level=("test", 9, 16), latest="level"))
    assert "test surface: 9-point level of 16" in status
    bar, fraction, _ = captions.activity_texts(Progress("remeasure", phase="re-measuring"))
    assert fraction is None and bar == "re-measuring…"


def test_header_names_the_shown_runs_own_network_when_it_differs(state):
    from app.shown import Shown

    cnn = dataclasses.replace(state.choice.config(), arch="cnn", channels=(4, 8))
    opened = Shown(origin="result", config=cnn, run_id=7)
    head = captions.header(state.choice, "mountains", None, opened)
    assert "showing run 7 (Theorem 1, CNN 4-8" in head
    same = Shown(origin="result", config=state.choice.config(), run_id=8)
    assert "CNN" not in captions.header(state.choice, "mountains", None, same)
