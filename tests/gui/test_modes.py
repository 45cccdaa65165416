"""Each mode in the window on tiny settings: z = 1 curves, z = 3 slices and volume, RGB
composites, Theorem 2's comparison, off-thread dataset loading, progressive re-measurement."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import losspattern_core as lp

from .conftest import fake_core, run_to_end, show_finished, wait_dataset


def _mode(window, **values):
    window.state.choose(**values)
    assert window.network_panel.z.value() == window.state.choice.z


def test_z1_curves_live_and_final(qtbot, window):
    _mode(window, z=1, steps=60, grid=32)
    window.pattern_panel.select("bumps")
    assert window.tabs.currentIndex() == 2 and window.tabs.isTabEnabled(2)
    assert not window.tabs.isTabEnabled(0)
    live = []
    window.controller.surface.connect(
        lambda step, arr: live.append(window.curves.arrays["train"] is not None))
    result = run_to_end(qtbot, window)
    assert live and all(live)  # the train curve updated while the run went on
    curves = window.curves
    for name in ("target", "train", "test"):
        x, y = curves.curves[name].getData()
        assert x is not None and len(x) == 32
    np.testing.assert_allclose(curves.arrays["test"], result.measurement.surfaces["test"])
    legend = [label.text for _, label in curves.plot.plotItem.legend.items]
    assert any("train" in t and "1420" in t for t in legend)
    assert any("test" in t and "355" in t for t in legend)
    assert "target" in curves.plot.plotItem.titleLabel.text


def test_z3_slices_and_volume(qtbot, window):
    _mode(window, z=3, grid=10, steps=40)
    window.pattern_panel.select("bumps")
    assert window.tabs.tabText(0).startswith("Slices")
    assert window.view3d() is window.volume3d
    assert window.heatmaps.slice_box.isVisibleTo(window)
    result = run_to_end(qtbot, window)
    hm = window.heatmaps
    train = result.measurement.surfaces["train"]
    assert train.shape == (10, 10, 10)
    k = round(hm.slice_frac * 9)  # the slices start through the target's minimum
    tmin = np.unravel_index(np.argmin(result.construction.target), (10, 10, 10))
    assert k == tmin[2]
    np.testing.assert_allclose(hm.arrays["train"], train[:, :, k])
    assert [round(f * 9) for f in window.volume3d.slices()] == list(tmin)
    hm.slider.setValue(0)  # hold alpha_3 = 0
    np.testing.assert_allclose(hm.arrays["train"], train[:, :, 0])
    np.testing.assert_allclose(hm.arrays["test"], result.measurement.surfaces["test"][:, :, 0])
    assert "α3 = 0.00" in hm.slice_box.label.text()
    assert window.volume3d.slices()[2] == 0.0  # the 3-D plane followed the slider
    hm.axis_combo.setCurrentIndex(2)  # hold alpha_1 instead
    hm.slider.setValue(1000)
    np.testing.assert_allclose(hm.arrays["train"], train[9, :, :])
    assert "α2" in hm.plots["train"].getAxis("bottom").labelText
    window.volume3d.sliders[0].setValue(0)  # moving the 3-D plane moves the slices
    np.testing.assert_allclose(hm.arrays["train"], train[0, :, :])
    assert window.volume3d.arrays["train"].shape == (10, 10, 10)
    window.tabs.setCurrentIndex(1)
    img = window.volume3d.render((240, 180))
    assert img[..., :3].astype(float).std() > 10
    assert "slice" in window.volume3d.caption.text()


def test_rgb_composite_is_colour_with_per_channel_metrics(qtbot, window):
    _mode(window, z=2, rgb=True, grid=16, steps=60)
    assert window.pattern_panel.select("sunset")
    result = run_to_end(qtbot, window)
    hm = window.heatmaps
    for name in ("target", "train", "test"):
        comp = hm.arrays[name]
        assert comp.shape == (16, 16, 3) and comp.min() >= 0 and comp.max() <= 1
        assert hm.rgb_images[name].isVisible() and not hm.images[name].isVisible()
    t = hm.arrays["target"]
    assert np.abs(t[..., 0] - t[..., 2]).max() > 0.1  # channels differ: not an average
    low, high = result.construction.resolved.loss_range.low, \
        result.construction.resolved.loss_range.high
    np.testing.assert_allclose(hm.arrays["train"][..., 1],
                               np.clip((result.measurement.surfaces["train"][1] - low)
                                       / (high - low), 0, 1))
    assert "linear over the loss range" in hm.caption.text()
    # the bar states the squash: each head's loss over the loss range -> channel intensity
    assert "channel" in hm.loss_bar.getAxis("left").labelText
    assert hm.loss_bar.levels() == pytest.approx(hm.low_high)
    rows = window.metrics_panel.rows
    for ch in "RGB":
        assert f"PSNR {ch} head train" in rows and f"PSNR {ch} head test" in rows
    assert window.surface3d.colours["train"] is not None


def test_theorem2_metrics_show_the_comparison(qtbot, window):
    _mode(window, z=2, grid=10, steps=30, width=48)
    window.network_panel.t2.setChecked(True)
    assert "Theorem 2" in window.header.text()
    phases, live_errors = set(), []
    window.controller.progress.connect(lambda f: phases.add(f.phase))
    window.state.events.shown.connect(
        lambda: window.state.shown.origin == "live"
        and live_errors.append(window.heatmaps.raw["error"]))
    result = run_to_end(qtbot, window, timeout=120_000)
    assert "theorem2" in result.metrics and "pattern_points" not in result.metrics
    # while it ran, T was not yet shifted: no error map was computed against it
    assert live_errors and all(e is None for e in live_errors)
    rows = window.metrics_panel.rows
    for key in ("train loss at α*", "train loss ordinary", "train accuracy at α*",
                "train accuracy ordinary", "test accuracy at α*", "test accuracy ordinary",
                "test-surface gap", "construction time", "ordinary training time",
                "target range"):
        assert key in rows, key
    assert "accuracy at argmin" not in rows and "loss range" not in rows
    text = window.metrics_panel.text()
    assert "not promised" in text and "ordinary" in text and "c(x) + g(α)" in text
    assert "constant-prediction floor" in text and "go below it" in text
    assert "regression" in phases and len(phases) > 1
    low, high = result.metrics["theorem2"]["target_range"]
    caption = window.heatmaps.caption.text()
    assert "Theorem 2" in caption and f"to [{low:.3g}, {high:.3g}] nats" in caption
    assert "c(x) + g(α)" in caption
    hm = window.heatmaps
    np.testing.assert_allclose(hm.raw["error"], hm.raw["train"] - result.construction.target)
    assert hm.raw["target"].min() == pytest.approx(result.metrics["theorem2"]["best_loss"])


def test_theorem1_metrics_state_transfer_and_ease(qtbot, window):
    run_to_end(qtbot, window)
    text = window.metrics_panel.text()
    assert "Observation 1" in text and "predicted" in text and "Ease" in text
    assert "construction time" in window.metrics_panel.rows
    # Theorem 1 runs train the same network normally beside the construction (Observation 2)
    base = window.result.metrics["baseline"]
    assert base["steps"] == 100 and 0 < base["steps_to_converge"] <= 100
    assert "ordinary training time" in window.metrics_panel.rows
    assert "ordinary net converged at step" in text


def test_dataset_loads_off_the_gui_thread(qtbot, window, monkeypatch):
    panel, state = window.dataset_panel, window.state
    real = lp.load_dataset
    seen, returned = {}, []
    gate = threading.Event()

    def slow(spec):
        seen["thread"] = threading.current_thread()
        gate.wait(30)
        seen["select_had_returned"] = bool(returned)
        return real(spec)

    monkeypatch.setattr(lp, "load_dataset", slow)
    before = state.dataset
    panel.select("synthetic")
    returned.append(True)   # select() came back while the loader waits at the gate
    assert state.dataset_loading == "synthetic" and "loading" in panel.status.text()
    assert panel.status.isVisibleTo(window)
    assert state.dataset is before and not window.run_panel.start.isEnabled()
    qtbot.waitUntil(lambda: "thread" in seen, timeout=10_000)
    gate.set()
    wait_dataset(qtbot, window)
    assert seen["thread"] is not threading.main_thread() and seen["select_had_returned"]
    assert panel.spec() == "synthetic" and state.dataset is not before
    assert not panel.status.isVisibleTo(window) and window.run_panel.start.isEnabled()

    def broken(spec):
        raise lp.LossPatternError(f"no such dataset: {spec}")

    monkeypatch.setattr(lp, "load_dataset", broken)
    current = state.dataset
    panel.select("nonsense-set")
    qtbot.waitUntil(lambda: state.dataset_loading is None, timeout=10_000)
    assert panel.error.isVisibleTo(window) and "nonsense-set" in panel.error.text()
    assert state.dataset is current and panel.spec() == "synthetic"


def test_remeasure_progressive_levels_end_at_full_grid(qtbot, window, made_run):
    show_finished(window, made_run)   # a real tiny run's result (not trained again)
    levels = []
    window.controller.level.connect(lambda split, size, arr: levels.append((split, size,
                                                                            arr.shape)))
    with qtbot.waitSignal(window.controller.remeasured, timeout=30_000) as blocker:
        assert window.remeasure(40) is not None
    r = blocker.args[0]
    assert r.grid == 40 and r.surfaces["train"].shape == (40, 40)
    for split in ("train", "test"):
        sizes = [s for sp, s, _ in levels if sp == split]
        assert sizes and sizes == sorted(sizes) and sizes[-1] == 40, (split, sizes)
    assert window.heatmaps.arrays["train"].shape == (40, 40)
    assert window.heatmaps.arrays["error"].shape == (40, 40)
    assert "Re-measured on a 40-point grid" in window.metrics_panel.text()
    assert window.run_panel.remeasure.isEnabled()


def test_remeasure_cancel_stops_within_one_level(qtbot, window, made_run):
    show_finished(window, made_run)   # a real tiny run's result (not trained again)
    proceed, produced, cancelled = threading.Event(), [], threading.Event()

    def gated_levels(*args, **kwargs):   # each level waits until the test lets it go on
        gen = lp.progressive_surface(*args, **kwargs)
        try:
            for item in gen:
                produced.append(cancelled.is_set())
                yield item
                proceed.wait(30)
        finally:
            produced.append("closed")

    window.controller.core = fake_core(progressive_surface=gated_levels)
    levels = []
    window.controller.level.connect(lambda split, size, arr: levels.append(size))
    assert window.remeasure(1024) is not None
    qtbot.waitUntil(lambda: len(levels) > 0, timeout=20_000)
    cancelled.set()
    window.cancel_run()
    proceed.set()
    assert not window.controller.running
    qtbot.waitUntil(lambda: window.controller.live_threads() == 0, timeout=20_000)
    assert produced[-1] == "closed"
    assert sum(1 for p in produced if p is True) <= 1, produced   # at most one more level
    assert window.heatmaps.raw["train"].shape == (16, 16)  # back to the run's own grid
    assert "cancelled" in window.run_panel.bar.format()
