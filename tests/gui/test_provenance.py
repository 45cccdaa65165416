"""The window never shows two runs mixed: after a run, other settings clear the measured views
(and say which run had which settings), the same settings bring the run back with its own
target, and the error map is always train − target of one run at the same points."""

from __future__ import annotations

import numpy as np

import losspattern_core as lp
from app.shown import PREVIEW_GRID, target_at_points

from .conftest import run_to_end, show_finished

MEASURED = ("train", "test", "error")


def watch_views(window) -> list[str]:
    """Check, at every change of what the views show, that the heatmaps, curves and 3-D view
    hold one source's data; returns the list of problems found (empty: none)."""
    problems: list[str] = []
    st, hm = window.state, window.heatmaps

    def check() -> None:
        shown = st.shown
        run = st.live or st.result
        for name in ("target", *MEASURED):
            if hm.raw[name] is not shown.array(name):
                problems.append(f"heatmap {name} is not the shown {name}")
        if not shown.measured:
            return
        if run is None or shown.run_id != run.run_id:
            problems.append(f"measured data of run {shown.run_id} without that run")
            return
        own = run.remeasure.target if shown.origin == "remeasure" else run.target
        if shown.target is not own:
            problems.append(f"run {run.run_id}'s surfaces beside another target")
        for split, layer in shown.measured.items():
            if layer.grid != shown.target_grid:
                problems.append(f"{split} on grid {layer.grid}, target on {shown.target_grid}")
        train = shown.measured.get("train")
        if shown.error is not None:
            t = target_at_points(own, shown.target_grid, train.size, shown.z)
            if not np.allclose(shown.error, train.array - t):
                problems.append("error map is not train − this run's target")
        elif train is not None and shown.target_final:
            problems.append("a run's own final target and train surface, but no error map")
        for split in ("train", "test"):
            if split in shown.measured and f"run {run.run_id}" not in hm.titles[split]:
                problems.append(f"{split} title does not name run {run.run_id}")

    st.events.shown.connect(check)
    return problems


def assert_cleared(window, run_id: int, differences: str) -> None:
    """Measured views empty and saying so; the target is the chosen settings' preview."""
    st, hm = window.state, window.heatmaps
    hm.flush()
    for name in MEASURED:
        assert hm.raw[name] is None and hm.arrays[name] is None, name
        assert "no run with these settings yet" in hm.titles[name], hm.titles[name]
    assert hm.images["train"].image is None and hm.images["error"].image is None
    for name in ("train", "test"):
        assert window.curves.arrays[name] is None
        assert window.view3d().arrays[name] is None
    cfg = st.choice.config()
    preview = lp.validate(cfg, dataset=st.dataset).target(min(cfg.grid, PREVIEW_GRID[cfg.z]))
    np.testing.assert_array_equal(hm.raw["target"], preview)
    assert "(chosen)" in hm.titles["target"] or "unshifted" in hm.titles["target"]
    assert f"Run {run_id} was measured with other settings ({differences})" \
        in hm.caption.text()
    assert f"run {run_id} had other settings ({differences})" in window.header.text()
    text = window.metrics_panel.text()
    assert text.startswith(f"Run {run_id}: ") and "Not the settings chosen now" in text
    assert not window.run_panel.remeasure.isEnabled()


def assert_shows_run(window, result) -> None:
    hm = window.heatmaps
    hm.flush()
    target, surfaces = result.construction.target, result.measurement.surfaces
    np.testing.assert_array_equal(hm.raw["target"], target)
    for split in ("train", "test"):
        np.testing.assert_array_equal(hm.raw[split], surfaces[split])
        assert f"run {result.run_id}" in hm.titles[split]
    np.testing.assert_allclose(hm.raw["error"], surfaces["train"] - target)
    assert f"showing run {result.run_id}" in window.header.text()


def test_changed_settings_never_mix_two_runs(qtbot, window):
    problems = watch_views(window)
    st = window.state
    first = run_to_end(qtbot, window)
    assert_shows_run(window, first)
    # another pattern: the target follows the choice, the measured views clear
    assert window.pattern_panel.select("rings")
    assert_cleared(window, first.run_id, "pattern")
    # ... and another grid, z and theorem on top: still cleared, each difference named
    st.choose(grid=24)
    assert_cleared(window, first.run_id, "pattern, grid")
    st.choose(z=3)
    assert window.view3d() is window.volume3d
    assert_cleared(window, first.run_id, "pattern, z, grid")
    st.choose(z=2)
    st.choose(theorem=2)
    assert_cleared(window, first.run_id, "pattern, theorem, grid")
    assert window.remeasure(40) is None   # re-measure never applies to hidden settings
    # the run's own settings again: the run is back, with its own target and error
    st.choose(theorem=1, grid=16)
    assert window.pattern_panel.select("mountains")
    assert_shows_run(window, first)
    assert window.run_panel.remeasure.isEnabled()
    # a second run with another pattern: while it runs, every view shows that run only
    assert window.pattern_panel.select("rings")
    second = run_to_end(qtbot, window)
    assert second.run_id != first.run_id and second.construction.resolved.pattern.name == "rings"
    assert_shows_run(window, second)
    assert not problems, problems[:5]


def test_remeasure_keeps_the_curve_and_exports_the_runs_grid(qtbot, window, tmp_path,
                                                              made_run):
    from app.exporting import export_surfaces

    problems = watch_views(window)
    result = show_finished(window, made_run)   # a real tiny run's end (not trained again)
    steps = window.run_panel.curve.getData()[0].copy()
    with qtbot.waitSignal(window.controller.remeasured, timeout=60_000):
        assert window.remeasure(40) is not None
    hm = window.heatmaps
    assert hm.raw["train"].shape == (40, 40) and "grid 40" in hm.titles["train"]
    np.testing.assert_allclose(hm.raw["target"], result.construction.resolved.target(40))
    np.testing.assert_array_equal(window.run_panel.curve.getData()[0], steps)
    status = window.run_panel.status.text()
    assert "a PNG of a view" in status and "run's own 16-point grid" in status
    export_surfaces(tmp_path, window.result)
    assert np.load(tmp_path / "surface_train.npy").shape == (16, 16)
    assert not problems, problems[:5]
