"""The Measured panel's analysis section: basins of the target and of each measured surface,
their bottleneck distance and the sharpness at θ_0, computed on a worker for a real tiny run."""

from __future__ import annotations

import numpy as np

import losspattern_core as lp

from .conftest import run_to_end


def test_basins_equal_the_cores_count_on_the_runs_surfaces(qtbot, window):
    result = run_to_end(qtbot, window)
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
