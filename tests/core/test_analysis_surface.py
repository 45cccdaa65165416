"""analyse_surface (basins and bottleneck of target vs measured, JSON-able) and sharpness
(top Hessian eigenvalue and Hutchinson trace at theta_0)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_analysis_persistence import dips
from test_explore_directions import data, mlp, snapshot, unchanged

from losspattern_core.errors import ConfigError
from losspattern_core.explore import ParamLayout, train_trajectory
from losspattern_core.frames import drive
from losspattern_core.measure.analysis import analyse_surface, sharpness
from losspattern_core.measure.persistence import bottleneck_distance, persistence_diagram


def test_target_and_measured_basins_and_their_distance():
    target = dips(3)
    measured = dips(3) + 0.004 * np.random.default_rng(0).normal(size=target.shape)
    out = analyse_surface(target, measured, value_range=(0.0, 2.0), min_share=0.05)
    json.dumps(out, allow_nan=False)                       # plain JSON, no NaN or infinity
    assert out["basins"] == "target 3, measured 3"
    assert out["threshold"] == pytest.approx(0.1) and out["value_range"] == [0.0, 2.0]
    assert out["neighbourhood"].startswith("axis-aligned")
    b = out["bottleneck"]
    assert b["exact"] and b["distance"] == pytest.approx(
        bottleneck_distance(persistence_diagram(target), persistence_diagram(measured)))
    assert 0 < b["distance"] < 0.02
    m = out["measured"]
    assert m["pairs_total"] > 20 and m["pairs_listed"] == min(200, m["pairs_total"])
    assert m["pairs"][0][2] is None and m["pairs"][0][1] == pytest.approx(measured.max())


def test_a_different_pattern_is_far_and_counted_differently():
    out = analyse_surface(dips(2), dips(4), value_range=(0.0, 1.0))
    assert out["basins"] == "target 2, measured 4"
    assert out["bottleneck"]["distance"] > 0.1


def test_measured_alone_and_bad_input():
    out = analyse_surface(None, dips(5))
    assert out["basins"] == "measured 5" and out["target"] is None and out["bottleneck"] is None
    with pytest.raises(ConfigError, match="differ in shape"):
        analyse_surface(dips(1, 32), dips(1, 64))
    with pytest.raises(ConfigError, match="low < high"):
        analyse_surface(None, dips(1), value_range=(1.0, 1.0))
    with pytest.raises(ConfigError, match="finite"):
        analyse_surface(None, np.full((4, 4), np.nan))


def test_large_diagrams_are_pruned_with_a_stated_interval():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(80, 80))                           # > 1000 minima each
    b = a + 0.05 * rng.normal(size=a.shape)
    out = analyse_surface(a, b)
    bt = out["bottleneck"]
    assert not bt["exact"] and bt["pruned_at_persistence"] > 0
    lo, hi = bt["interval"]
    assert lo <= bt["distance"] <= hi and hi - lo <= bt["pruned_at_persistence"]
    assert hi <= np.abs(a - b).max() + bt["pruned_at_persistence"] / 2   # stability, pruned


def test_sharpness_reports_top_eigenvalue_and_trace_with_their_errors():
    X, y = data()
    model = drive(train_trajectory(mlp(0), X, y, steps=60, lr=0.02, batch=30)).model
    before = snapshot(model)
    assert all(p.grad is None for p in model.parameters())    # training leaves no gradients
    out = sharpness(model, X, y, samples=30, top_k=2)
    json.dumps(out, allow_nan=False)
    assert out["split_samples"] == len(y) and out["trace_samples"] == 30
    assert out["parameters"] == ParamLayout.of(model).size and out["trace_stderr"] > 0
    assert out["top_eigenvalue"] > 0 and out["eigen"]["eigenvalues"][0] == out["top_eigenvalue"]
    assert abs(out["eigen"]["eigenvalues"][1]) <= out["top_eigenvalue"]
    # the top eigenvalue bounds v^T H v for a unit v, so the trace is at most D * lambda_max
    assert out["trace"] <= out["parameters"] * out["top_eigenvalue"]
    assert unchanged(model, before) and all(p.grad is None for p in model.parameters())
