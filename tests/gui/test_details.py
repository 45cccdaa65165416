"""Issue 11's smaller items: 11 (no lingering phase text), 12 (a .txt dataset, Browse),
15 (fit-curve axis without an SI prefix), 18 (a long loss-range message wraps)."""

from __future__ import annotations

import numpy as np

import losspattern_core as lp
from app.state import AppState, not_a_dataset_file


def test_a_frame_replaces_the_phase_text():
    """Item 11: "validating settings…" does not stay once frames arrive, nor after Cancel."""
    from app.captions import activity_texts, outcome_texts

    st = AppState()
    st.choose(dataset="digits", steps=60, grid=16, width=32)
    r = lp.validate(st.choice.config(), dataset=st.dataset, pattern=st.pattern)
    st.runs.begin_run(1, r)
    st.runs.run_phase("validating settings and loading data")
    st.runs.run_frame(lp.Frame(5, 60, 0.5, 0.1))
    bar, _, status = activity_texts(st.progress)
    assert "validating" not in bar + status and "regression step 5" in status
    st.runs.stopped("cancelled")
    assert "validating" not in " ".join(outcome_texts(st.progress, st.result))


def test_a_text_file_is_not_offered_to_numpy():
    """Item 12: a clear message, not numpy's allow_pickle advice; specs still pass."""
    for spec in ("digits", "fashion-mnist", "synthetic:marginal=3/1/1", "mnist:path=/d/m",
                 "/tmp/x.npz", "data.NPZ"):
        assert not_a_dataset_file(spec) is None, spec
    st = AppState()
    st.choose(dataset="digits")
    st.choose(dataset="/tmp/labels.txt")
    assert "labels.txt is not a dataset file" in st.dataset_error
    assert "pickle" not in st.dataset_error and st.choice.dataset == "digits"


def test_dataset_panel_has_browse(qtbot, window, monkeypatch, tmp_path):
    from app import file_dialogs

    path = tmp_path / "d.npz"
    rng = np.random.default_rng(0)
    np.savez(path, X=rng.normal(size=(60, 4)).astype(np.float32), y=np.arange(60) % 3)
    monkeypatch.setattr(file_dialogs, "open_file", lambda *a, **k: str(path))
    window.dataset_panel.browse.click()
    qtbot.waitUntil(lambda: window.state.choice.dataset == str(path), timeout=20_000)


def test_fit_curve_axis_has_no_si_prefix(qtbot, window):
    """Item 15: no "(×0.001)" scaling of log10 values."""
    axis = window.run_panel.plot.getAxis("left")
    assert not axis.autoSIPrefix and axis.width() >= 50


def test_long_loss_range_message_does_not_widen_the_panel(qtbot, window):
    """Item 18: the message wraps; the Default button stays visible."""
    dock = window.docks["Pattern"]
    before = dock.widget().widget().minimumSizeHint().width()
    lr = window.pattern_panel.loss_range
    lr.low.setValue(0.0)   # below the floor: the long message appears
    assert lr.message.isVisibleTo(window) and len(lr.message.text()) > 60
    assert dock.widget().widget().minimumSizeHint().width() <= before


def test_two_line_titles_do_not_overlap_the_heatmaps(qtbot, window):
    """Item 17: every heatmap title sits above its plot, whatever its number of lines."""
    qtbot.wait(50)
    for name, plot in window.heatmaps.plots.items():
        assert "<br>" in window.heatmaps.titles[name]
        title = plot.titleLabel.sceneBoundingRect()
        view = plot.getViewBox().sceneBoundingRect()
        text_h = plot.titleLabel.item.boundingRect().height()
        assert title.height() >= text_h - 1, name
        assert title.top() + text_h <= view.top() + 1, name


def test_the_bar_covers_the_whole_run_phase_by_phase():
    """Item 10: a Theorem 1 run's regression is phase 1 of 3; measuring is phase 2; a Theorem 2
    run's classifier comes first. The fraction is the whole run's."""
    from app.captions import activity_texts
    from app.records import Progress

    frame = lp.Frame(50, 100, 0.01, 1.0)
    bar, fraction, _ = activity_texts(Progress("construction", frame=frame, latest="frame"), 1)
    assert bar.startswith("phase 1 of 3: fitting the pattern") and "for this phase" in bar
    assert abs(fraction - 0.5 / 3) < 1e-9
    bar, fraction, _ = activity_texts(Progress("construction", frame=frame,
                                               level=("test", 8, 16), latest="level"), 1)
    assert bar.startswith("phase 2 of 3: measuring") and abs(fraction - (1 + 0.75) / 3) < 1e-9
    t2 = lp.Frame(10, 100, 0.5, 1.0, phase="classifier")
    bar, fraction, _ = activity_texts(Progress("construction", frame=t2, latest="frame"), 2)
    assert bar.startswith("phase 1 of 4: classifier") and fraction < 0.25


def test_a_non_square_photo_says_what_is_done(qtbot, window, tmp_path):
    """Item 14: the user is told (crop by default; fit / stretch: test_usability_more.py)."""
    from PIL import Image

    path = tmp_path / "wide.png"
    Image.fromarray((np.arange(64 * 40).reshape(40, 64) % 255).astype(np.uint8)).save(path)
    assert window.open_image(path)
    assert "64×40 image is cropped" in window.pattern_panel.description.text()
    square = tmp_path / "square.png"
    Image.fromarray(np.zeros((32, 32), np.uint8) + 100).save(square)
    assert window.open_image(square)
    assert "cropped" not in window.pattern_panel.description.text()


def test_surface_has_a_loss_scale_and_a_visible_minimum(qtbot, window):
    """Item 19 (partly): the 3-D surface names its loss scale; the red dot is drawn on top."""
    view = window.surface3d
    window.tabs.setCurrentIndex(1)
    view.flush()
    scene = view.scene
    lo, hi = window.state.shown.loss_range
    assert [t.text for t in scene.loss_ticks] == [f"{lo:.3g}", f"{hi:.3g}"]
    if scene.marker.visible:
        assert scene.marker.order >= 10
