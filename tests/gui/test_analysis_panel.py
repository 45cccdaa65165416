"""The Measured panel's analysis section: basins of the target and of each measured surface,
their bottleneck distance and the sharpness at θ_0, computed on a worker for a real tiny run."""

from __future__ import annotations

import numpy as np

import losspattern_core as lp

from .conftest import show_finished


def test_basins_equal_the_cores_count_on_the_runs_surfaces(qtbot, window, made_run):
    result = show_finished(window, made_run)   # a real tiny run, its network kept
    section = window.metrics_panel.analysis
    qtbot.waitUntil(lambda: "sharpness" in section.results.get(result.run_id, {}),
                    timeout=120_000)
    con, surfaces = result.construction, result.measurement.surfaces
    rng = (con.resolved.loss_range.low, con.resolved.loss_range.high)
    rows, text = window.metrics_panel.rows, window.metrics_panel.text()
    want_target = lp.basin_count(con.target, 0.05, rng)
    for split in ("train", "test"):
        measured = lp.basin_count(surfaces[split], 0.05, rng)
        assert rows[f"basins {split}"] == f"target {want_target}, measured {measured}"
        assert f"target {want_target}, measured {measured}" in text
        d = lp.bottleneck_distance(lp.persistence_diagram(con.target),
                                   lp.persistence_diagram(surfaces[split]))
        assert rows[f"bottleneck {split}"] == f"{d:.4f}"
    sharp = section.results[result.run_id]["sharpness"]
    assert np.isfinite(sharp["top_eigenvalue"])
    assert rows["top Hessian eigenvalue"] == f"{sharp['top_eigenvalue']:.5g}"
    assert "Hutchinson trace" in text and "basin is a minimum of persistence" in text


def test_a_run_without_its_network_shows_basins_and_says_why_no_sharpness(qtbot):
    from app.panels.metrics import MetricsPanel
    from app.state import AppState

    from .conftest import finished_run

    st = AppState()   # the plain loader: digits at once
    st.choose(dataset="digits", steps=60, grid=16, width=32)
    panel = MetricsPanel(st)
    qtbot.addWidget(panel)
    run = finished_run(st)       # surfaces = target + 0.01 / + 0.02, no network kept
    qtbot.waitUntil(lambda: "sharpness" in panel.analysis.results.get(run.run_id, {}),
                    timeout=60_000)
    rng = (run.resolved.loss_range.low, run.resolved.loss_range.high)
    train = run.surfaces["train"].array
    k, m = lp.basin_count(run.target, 0.05, rng), lp.basin_count(train, 0.05, rng)
    assert panel.rows["basins train"] == f"target {k}, measured {m}"
    d = lp.bottleneck_distance(lp.persistence_diagram(run.target),
                               lp.persistence_diagram(train))
    assert panel.rows["bottleneck train"] == f"{d:.4f}"
    assert panel.rows["sharpness"] == "skipped"
    assert "the network is not here" in panel.text()
    assert panel.analysis.shutdown()
