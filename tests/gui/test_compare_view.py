"""The Compare tab: two finished runs on one colour scale, their difference A − B on its own
scale, grids that nest exactly, and refusals (other grids, other α ranges, other z)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from app.views.compare import compare_runs, nested_indices

from .conftest import fake_result


def finish(st, run_id: int, offset: float):
    """A finished run of the chosen settings whose train surface is target + ``offset`` +
    a ramp (so that two runs differ point by point)."""
    import losspattern_core as lp

    resolved = lp.validate(st.choice.config(), dataset=st.dataset, pattern=st.pattern)
    st.runs.begin_run(run_id, resolved)
    target = resolved.target()
    ramp = np.linspace(0, 0.1, target.size).reshape(target.shape) * run_id
    st.runs.finish_run(fake_result(st.live, {"train": target + offset + ramp,
                                             "test": target + 2 * offset}))
    return st.result


def test_two_runs_share_levels_and_the_difference_is_a_minus_b(window):
    st = window.state
    a = finish(st, 1, 0.05)
    b = finish(st, 2, -0.2)
    view = window.tabs.compare
    view.choose(1, 2, "train")
    assert view.plots is None   # the tab was never shown: its plots are not made yet
    window.tabs.setCurrentWidget(view)   # the user opens Compare: made and drawn
    assert view.plots is not None and view.isVisible()
    c = view.comparison
    assert not c.problem and "same 16-point grid" in c.note
    assert np.array_equal(c.diff, a.surfaces["train"].array - b.surfaces["train"].array)
    assert np.array_equal(view.arrays["diff"], view.arrays["a"] - view.arrays["b"])
    assert np.array_equal(view.arrays["a"], a.surfaces["train"].array)
    assert view.images["a"].levels is not None
    assert tuple(view.images["a"].levels) == tuple(view.images["b"].levels) == c.levels
    lo, hi = c.levels
    both = np.concatenate([view.arrays["a"].ravel(), view.arrays["b"].ravel()])
    assert lo == both.min() and hi == both.max()
    dmax = np.abs(c.diff).max()
    assert tuple(view.images["diff"].levels) == (-dmax, dmax)   # its own, symmetric scale
    assert "run 1" in view.label_a.text() and "run 2" in view.label_b.text()
    assert "this session" in view.label_a.text()


def test_defaults_follow_the_history(window):
    st = window.state
    finish(st, 1, 0.0)
    view = window.tabs.compare
    assert view.comparison.problem   # one run: nothing to compare yet
    finish(st, 2, 0.1)
    assert (view.combo_a.currentData(), view.combo_b.currentData()) == (2, 1)
    assert not view.comparison.problem


def test_nested_grids_are_compared_at_shared_points_others_refused(window):
    st = window.state
    coarse = finish(st, 1, 0.0)       # 16 points
    st.choose(grid=31)                # (31 - 1) = 2 (16 - 1): nests exactly
    fine = finish(st, 2, 0.0)
    view = window.tabs.compare
    view.choose(1, 2, "target")
    c = view.comparison
    assert not c.problem and "B's 31-point grid taken at the 16 points" in c.note
    np.testing.assert_array_equal(c.b, fine.target[::2, ::2])
    np.testing.assert_allclose(c.diff, coarse.target - fine.target[::2, ::2], atol=1e-12)
    st.choose(grid=20)                # 19 is not a multiple of 15
    finish(st, 3, 0.0)
    view.choose(1, 3, "train")
    assert "do not nest" in view.comparison.problem and view.arrays["diff"] is None
    assert "Not compared" in view.note.text()


def _run(grid: int, z: int = 2, heads: int = 1, value: float = 1.0):
    arr = np.full((heads,) * (heads > 1) + (grid,) * z, value)
    layer = SimpleNamespace(array=arr, is_level=False)
    return SimpleNamespace(config=SimpleNamespace(z=z), heads=heads, grid=grid,
                           target=arr, surfaces={"train": layer})


def test_compare_runs_refuses_other_ranges_dimensions_and_heads():
    assert "α ranges differ" in compare_runs(_run(5), _run(5), "train", [[0, 1], [0, 1]],
                                             [[-1, 1], [-1, 1]]).problem
    assert "z = 2" in compare_runs(_run(5), _run(5, z=3)).problem
    assert "head" in compare_runs(_run(5, heads=3), _run(5)).problem
    same = compare_runs(_run(5, value=2.0), _run(9, value=0.5), "train", [[0, 1]] * 2,
                        [[0, 1]] * 2)
    assert not same.problem and np.all(same.diff == 1.5) and same.diff.shape == (5, 5)
    assert nested_indices(9, 5).tolist() == [0, 2, 4, 6, 8] and nested_indices(10, 5) is None


def test_a_volume_and_rgb_heads_are_drawn_a_plane_at_a_time():
    from app.views.compare import drawn

    vol = np.arange(3 * 4 * 4 * 4, dtype=float).reshape(3, 4, 4, 4)
    assert np.array_equal(drawn(vol, 3, 1), vol[1][..., 2])
    assert drawn(np.arange(7.0), 1, 0).shape == (7,)


def test_open_bundle_as_b(qtbot, window, tmp_path, monkeypatch):
    import losspattern_core as lp
    from app import file_dialogs

    st = window.state
    a = finish(st, 1, 0.0)
    saved = a.surfaces["train"].array + 0.25
    coords = (np.linspace(0, 1, a.grid),) * 2
    h5 = lp.export_surface(_surface_set({"train": saved, "test": saved}, coords), "h5",
                           tmp_path / "b.h5")
    monkeypatch.setattr(file_dialogs, "folder", lambda *a, **k: str(h5))
    view = window.tabs.compare
    with qtbot.waitSignal(window.opening.opened, timeout=30_000):
        view.open_b.click()
    assert (view.combo_a.currentData(), view.combo_b.currentData()) == (1, 2)
    np.testing.assert_allclose(view.comparison.diff, -0.25, atol=1e-9)
    assert "opened from" in view.label_b.text() and str(h5) in view.label_b.text()


def _surface_set(surfaces, coords):
    from losspattern_core.exports import SurfaceSet

    return SurfaceSet(surfaces, coords)
