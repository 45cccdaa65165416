"""Explore mode: an ordinary network trained, then its surfaces measured coarse to fine, live.

Tiny runs (digits, a 2×16 MLP, an 8×8 grid, a few Adam steps). The values shown are checked
against the core's exact evaluator called independently on the same directions.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

import losspattern_core as lp
from app.explore_mode.dock import show_explore
from app.explore_mode.plan import TrainStep, explore, split_inputs
from app.explore_mode.settings import ExploreSettings

TINY = dict(grid=8, steps=20, depth=2, width=16)


@pytest.fixture(scope="module")
def digits():
    return lp.load_dataset("digits")


@pytest.fixture
def mode(qtbot, digits, errors):
    """Explore mode on its own (the window test covers the dock): faster than a window."""
    from app.explore_mode.mode import ExploreMode

    m = ExploreMode(SimpleNamespace(dataset=digits, choice=SimpleNamespace(dataset="digits")))
    qtbot.addWidget(m)
    yield m
    assert m.shutdown()


def run_explore(qtbot, mode, settings):
    order: list[str] = []
    mode.controller.steps.connect(lambda b: order.append("steps"))
    mode.controller.level.connect(lambda lv: order.append("level"))
    with qtbot.waitSignal(mode.controller.finished, timeout=120_000):
        assert mode.start(settings) is not None
    return mode, order


def evaluator_surface(result, ds, split: str) -> np.ndarray:
    spec = lp.network_spec(lp.ConstructionConfig(arch=result.settings.family), ds)
    X, y = split_inputs(ds, spec, split)
    pts = lp.range_points(result.settings.grid, result.settings.z, result.alpha_range)
    loss, _ = lp.evaluate_points(result.origin, result.directions, X, y, pts,
                                 classes=ds.classes)
    return loss[:, 0].reshape((result.settings.grid,) * result.settings.z)


def test_random_run_streams_training_then_levels_equal_to_the_evaluator(qtbot, window):
    assert not window.explore.built and not window.explore.running   # nothing built yet
    window.explore_dock.toggleViewAction().trigger()   # View → Explore… (Ctrl+Shift+X)
    assert window.explore_dock.isVisible() and window.explore.built
    assert window.explore_dock.widget() is window.explore.tabs
    qtbot.waitUntil(window.explore.mode.isVisible, timeout=10_000)
    show_explore(window)
    assert window.explore.tabs.currentIndex() == 0
    mode = window.explore.mode
    mode, order = run_explore(qtbot, mode, ExploreSettings(kind="random", **TINY))
    assert mode.steps_seen == 20
    assert "level" in order and order.index("level") > max(
        i for i, o in enumerate(order) if o == "steps")          # training first, then levels
    sizes = [size for split, metric, size in mode.levels_seen if (split, metric) ==
             ("train", "loss")]
    assert sizes == sorted(sizes) and sizes[-1] == 8 and len(sizes) >= 2   # coarse to fine
    r, ds = mode.result, window.state.dataset
    for split in ("train", "test"):
        want = evaluator_surface(r, ds, split)
        np.testing.assert_allclose(r.surfaces[(split, "loss")], want, rtol=1e-5)
        np.testing.assert_allclose(mode.views.images[(split, "loss")].image, want, rtol=1e-5)
    spec = lp.network_spec(lp.ConstructionConfig(), ds)
    X, y = split_inputs(ds, spec, "test")
    logits = lp.outputs_at(r.origin, r.directions, X, [r.axis(0)[3], r.axis(1)[5]])
    assert r.surfaces[("test", "accuracy")][3, 5] == pytest.approx(
        float((logits.argmax(1) == y).double().mean()))
    label = mode.views.labels[("train", "loss")]
    assert label.startswith("ordinary network (explore): measured train loss along random "
                            "filter-normalised directions, seed 0")


def test_cancel_stops_within_a_few_steps(qtbot, mode):
    pulled = {"n": 0, "at_cancel": None}

    def counted(ds, s):
        for item in explore(ds, s):
            if isinstance(item, TrainStep):
                pulled["n"] += 1
            yield item

    mode.job_factory = counted
    assert mode.start(ExploreSettings(kind="random", grid=8, steps=100_000, depth=2,
                                      width=16)) is not None
    qtbot.waitUntil(lambda: mode.steps_seen >= 5, timeout=60_000)
    pulled["at_cancel"] = pulled["n"]
    mode.cancel()
    qtbot.waitUntil(lambda: mode.controller.live_threads() == 0, timeout=30_000)
    assert pulled["n"] - pulled["at_cancel"] <= 3
    assert mode.result is None and mode.outcome.startswith("cancelled")


def test_pca_path_is_drawn_with_its_honest_error(qtbot, mode):
    mode, _ = run_explore(qtbot, mode, ExploreSettings(kind="pca", **TINY))
    pca = mode.result.pca
    drawn = mode.views.path_points()
    assert len(drawn) == len(pca.coords) >= 3
    np.testing.assert_allclose(drawn, pca.coords[:, :2], rtol=1e-6)
    info = mode.views.info.text()
    assert f"explains {100 * pca.explained_share:.1f} %" in info
    assert f"max {float(np.abs(pca.loss_error).max()):.4f}" in info


def test_hessian_eigenvalues_are_shown(qtbot, mode):
    mode, _ = run_explore(qtbot, mode, ExploreSettings(kind="hessian", **TINY))
    eig = mode.result.hessian.eigenvalues
    assert len(eig) == 2
    assert f"λ1 = {eig[0]:.4g}" in mode.views.info.text()


def test_bad_settings_are_a_message_not_a_run(qtbot, mode, errors):
    assert mode.start(ExploreSettings(kind="interpolation", z=2)) is None
    assert errors and "interpolation is a line" in errors[-1][1]


def test_finished_run_saves_a_bundle_the_core_loads(qtbot, mode, tmp_path):
    mode, _ = run_explore(qtbot, mode, ExploreSettings(kind="random", **TINY))
    out = mode.save_bundle(tmp_path / "bundle")
    loaded = lp.load_explore_bundle(out)
    assert (out / "construction.json").exists()
    np.testing.assert_allclose(np.load(out / "surface_train.npy"),
                               mode.result.surfaces[("train", "loss")], rtol=1e-6)
    assert loaded is not None


def test_warning_view_sets_theorem2_beside_an_ordinary_network(qtbot, window, monkeypatch):
    from app.explore_mode import warning

    from .conftest import run_to_end

    monkeypatch.setattr(warning, "GRID", 5)
    monkeypatch.setattr(warning, "SHARPNESS", dict(top_k=1, samples=4, max_iter=10, tol=1e-2))
    window.state.choose(theorem=2, pattern="bumps")
    run = run_to_end(qtbot, window)
    view = window.explore.compare
    assert view.button.isEnabled()
    view.job_factory = lambda r: warning.compare_with_ordinary(r, steps=20)
    with qtbot.waitSignal(view.controller.finished, timeout=120_000):
        assert view.start() is not None
    w = view.result
    np.testing.assert_array_equal(w.axis_slice, window.state.result.surfaces["train"].array)
    at = run.metrics["theorem2"]["at_alpha_star"]
    assert w.accuracy["theorem 2"]["train"] == at["train_accuracy"]
    lo = min(float(a.min()) for a in w.landscapes.values())
    assert view.images["ordinary"].levels[0] == pytest.approx(lo)
    assert view.images["theorem 2"].levels[0] == pytest.approx(lo)      # one colour scale
    assert f"{100 * at['train_accuracy']:.1f} %" in view.table.text()


def test_interpolation_is_a_line_drawn_as_curves(qtbot, mode):
    mode, _ = run_explore(qtbot, mode, ExploreSettings(kind="interpolation", z=1, **TINY))
    r = mode.result
    assert r.alpha_range == [[-0.5, 1.5]]
    x, y = mode.views.lines[("test", "loss")].getData()
    np.testing.assert_allclose(x, np.linspace(-0.5, 1.5, 8))
    np.testing.assert_allclose(y, r.surfaces[("test", "loss")], rtol=1e-6)
    assert not mode.views.images[("test", "loss")].isVisible()


def test_pca_path_in_3d_stands_at_each_snapshots_real_loss(qtbot, mode):
    mode.show()
    mode, _ = run_explore(qtbot, mode, ExploreSettings(kind="pca", **TINY))
    mode.views.tabs.setCurrentIndex(1)                 # the 3-D tab: its canvas is made now
    view = mode.views.view3d
    qtbot.waitUntil(lambda: view.path_pos is not None, timeout=10_000)
    pca, (lo1, hi1) = mode.result.pca, mode.result.alpha_range[0]
    assert len(view.path_pos) == len(pca.coords)
    np.testing.assert_allclose(view.path_pos[:, 0], (pca.coords[:, 0] - lo1) / (hi1 - lo1),
                               rtol=1e-5)
    want = [view.scene.height_of(v) for v in pca.real_loss]
    np.testing.assert_allclose(view.path_pos[:, 2], want, rtol=1e-5)
