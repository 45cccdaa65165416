"""The multi-point optimisation (Skorokhodov & Burtsev) as a method in the GUI: the panel says
what it needs, a run streams its objective, cancels within a step, finishes with IoU in the
Measured panel and exports its bundle. The search is made tiny (a small digits file, a few
cells and samples per step, an 8 x 8 grid) so that the file runs in seconds."""

from __future__ import annotations

import numpy as np
import pytest

import losspattern_core as lp
from app import mpo_run

from .conftest import run_to_end, wait_dataset

TINY_MPO = dict(batch=16, good_cells=3, bad_cells=3, chunk=6)


@pytest.fixture
def tiny_mpo(monkeypatch, tmp_path):
    """Few cells and samples per step; a 150-image digits file (8 x 8, every class)."""
    monkeypatch.setattr(mpo_run, "MPO_OPTIONS", TINY_MPO)
    ds = lp.load_dataset("digits")
    X, y = ds.split("train")
    keep = np.concatenate([np.flatnonzero(y == k)[:15] for k in range(10)])
    path = tmp_path / "digits150.npz"
    np.savez(path, X=X[keep].reshape(-1, 8, 8), y=y[keep])
    return str(path)


@pytest.fixture
def mpo_window(window, qtbot, tiny_mpo):
    window.state.choose(dataset=tiny_mpo)
    wait_dataset(qtbot, window)
    qtbot.waitUntil(lambda: window.state.choice.dataset == tiny_mpo, timeout=30_000)
    window.state.choose(pattern="heart", theorem="mpo", mpo_grid=8, mpo_steps=4)
    return window


def test_the_panel_says_what_mpo_needs_and_fixes_the_network(window):
    panel, st = window.network_panel, window.state
    st.choose(z=3, arch="resnet")
    panel.mpo.setChecked(True)
    c = st.choice
    assert c.theorem == "mpo" and c.z == 2 and not c.rgb
    note = panel.theorem_note.text()
    assert "binary icon" in note and "CNN" in note
    assert "Skorokhodov & Burtsev" in panel.theorem_note.toolTip()
    assert "Skorokhodov" in panel.mpo.text()
    assert panel.family.currentData() == "cnn" and not panel.family.isEnabled()
    assert panel.activation.currentText() == "relu" and not panel.z.isEnabled()
    assert panel.steps.value() == c.mpo_steps and panel.grid.value() == c.mpo_grid
    cfg = c.config()
    assert (cfg.theorem, cfg.arch, cfg.channels, cfg.batchnorm) == ("mpo", "cnn", (8, 32, 64),
                                                                    False)
    assert "zeroed" not in panel.summary.text()   # a dense plane: no layer is zeroed
    panel.t1.setChecked(True)
    assert st.choice.arch == "resnet" and panel.family.currentData() == "resnet"


def test_mpo_run_streams_frames_finishes_with_iou_and_exports(mpo_window, qtbot, tmp_path,
                                                             monkeypatch, errors):
    win, st = mpo_window, mpo_window.state
    frames = []
    win.controller.progress.connect(frames.append)
    result = run_to_end(qtbot, win, timeout=120_000)
    mpo = [f for f in frames if f.phase == "mpo"]
    assert mpo and mpo[-1].step == mpo[-1].total == 4
    assert "good loss" in mpo[-1].message
    run = st.result
    assert run.config.theorem == "mpo" and len(run.loss_steps) == 4   # J on the fit curve
    xs, ys = win.run_panel.curve.getData()   # J drawn as it is (it may be negative), no log
    assert np.array_equal(xs, run.loss_steps) and np.allclose(ys, run.loss_values)
    assert "MPO objective J" in win.run_panel.plot.plotItem.titleLabel.text
    assert set(run.surfaces) == {"train", "test"}
    assert run.surfaces["test"].array.shape == (8, 8)
    assert 0.0 <= result.metrics["test"]["iou"] <= 1.0
    rows = win.metrics_panel.rows
    assert rows["IoU with the icon test"] == f"{result.metrics['test']['iou']:.3f}"
    assert "good − bad accuracy test" in rows
    from app.captions import heatmap_caption

    assert "a searched plane, not axis-aligned" in heatmap_caption(st.shown)
    assert "test IoU" in win.run_panel.status.text()
    assert not st.can_remeasure
    from app import actions, file_dialogs

    out = tmp_path / "bundle"
    out.mkdir()
    monkeypatch.setattr(file_dialogs, "folder", lambda *a, **k: str(out))
    actions.export_bundle_interactive(win)   # Ctrl+E: the bundle of the shown MPO run
    assert not errors and run.run_id in st.runs.saved
    b = lp.load_bundle(out)
    assert b.meta["method"] == "mpo" and b.surfaces["test"].shape == (8, 8)
    assert np.allclose(b.surfaces["test"], run.surfaces["test"].array)
    # the Export dialog offers the core's formats for it and writes its bundle too
    from app.export_dialog import ExportDialog
    from app.exporting import app_job

    dlg = ExportDialog(win, run)
    assert dlg.data.info["method"] == "mpo" and "h5" in dlg.formats
    assert np.array_equal(dlg.data.surfaces["test"], run.surfaces["test"].array)
    assert np.allclose(dlg.data.accuracy["test"], run.measurement.accuracy["test"])
    dlg.close()
    app_job("bundle", tmp_path / "via-dialog", run, False)(lambda *a: None, None)
    assert lp.load_bundle(tmp_path / "via-dialog").meta["method"] == "mpo"


def test_mpo_cancel_stops_within_one_step(mpo_window, qtbot, monkeypatch):
    """Steps are counted, not seconds: no step of the search begins after Cancel set the
    run's event (at most the one under way finishes), and the generator is closed."""
    win = mpo_window
    win.state.choose(mpo_steps=100_000)
    real, record = lp.construct_mpo, []

    def counted(run):
        gen = real(run)
        try:
            while True:
                entry = win.controller._threads.get(win.controller.run_id or -1)
                record.append(bool(entry and entry[2].is_set()))
                yield next(gen)
        except StopIteration as stop:
            return stop.value
        finally:
            gen.close()
            record.append("closed")

    monkeypatch.setattr(lp, "construct_mpo", counted)
    frames = []
    win.controller.progress.connect(frames.append)
    assert win.start_run() is not None
    qtbot.waitUntil(lambda: len([f for f in frames if f.phase == "mpo"]) >= 2, timeout=60_000)
    win.cancel_run()
    qtbot.waitUntil(lambda: record and record[-1] == "closed", timeout=30_000)
    assert sum(1 for r in record if r is True) <= 1, record[-5:]
    assert win.state.progress.outcome == "cancelled" and win.state.result is None
    steps_at_cancel = len(record)
    qtbot.wait(200)
    assert len(record) == steps_at_cancel
