"""File → Export…: the dialog offers the core's formats for the run, its files read back
equal to the run's surfaces (independent readers), cancel leaves nothing, failures show a
message."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest

import losspattern_core as lp
from app.export_dialog import ExportDialog, export_interactive
from app.exporting import run_surfaces

SNAPSHOT_STEPS = (10, 20, 30, 40, 50)


def fake_run(win, run_id: int = 1):
    """A finished run without training: the state's own begin / stream / finish path (so the
    recorder sees the snapshots as in a real run), surfaces near the run's target."""
    st = win.state
    resolved = lp.validate(st.choice.config(), dataset=st.dataset, pattern=st.pattern)
    st.runs.begin_run(run_id, resolved)
    target = resolved.target()
    rng = np.random.default_rng(run_id)
    for step in SNAPSHOT_STEPS:   # streamed train surfaces approach T
        st.runs.run_surface(step, target + rng.normal(0, 0.5 / step, target.shape))
    surfaces = {s: target + rng.normal(0, 0.01, target.shape) for s in ("train", "test")}
    z = resolved.config.z
    con = SimpleNamespace(resolved=resolved, target=target, config=resolved.config,
                          alpha_range=[[-1.0, 1.0]] * z, heads=resolved.config.heads)
    st.runs.finish_run(SimpleNamespace(construction=con, measurement=SimpleNamespace(
        surfaces=surfaces), metrics={"train": {"psnr_db": 40.0}, "test": {"psnr_db": 39.0}},
        seconds=1.0))
    return st.result


@pytest.fixture
def finished(qtbot, window):
    fake_run(window)
    return window


def dialog(qtbot, win) -> ExportDialog:
    dlg = ExportDialog(win, win.result, win.recording.snapshots_for(win.result), ["heatmaps"])
    qtbot.addWidget(dlg)
    return dlg


def export(qtbot, dlg: ExportDialog, key: str, path) -> str:
    dlg.select(key)
    dlg.path.setText(str(path))
    with qtbot.waitSignal(dlg.runner.finished, timeout=60_000) as done:
        assert dlg.start()
    qtbot.waitUntil(lambda: not dlg.runner.running, timeout=10_000)
    return done.args[0]


def test_offers_exactly_the_cores_formats_z2(qtbot, finished):
    dlg = dialog(qtbot, finished)
    expected = [f.name for f in lp.formats_for(run_surfaces(finished.result))]
    assert dlg.offered_core_formats() == expected
    assert "vti" not in expected and "h5" in expected


def test_offers_exactly_the_cores_formats_z3(qtbot, window):
    window.state.choose(z=3, grid=6, pattern="bumps")
    fake_run(window)
    dlg = dialog(qtbot, window)
    expected = [f.name for f in lp.formats_for(run_surfaces(window.result))]
    assert dlg.offered_core_formats() == expected
    assert "vti" in expected and "h5" not in expected
    dlg.select("mp4")   # a volume animates its z-slices
    kinds = [dlg.options.animation.itemData(i) for i in range(dlg.options.animation.count())]
    assert "slices" in kinds and "turntable" in kinds


def test_h5_reads_back_in_loss_landscape_orientation(qtbot, finished, tmp_path):
    import h5py

    dlg = dialog(qtbot, finished)
    out = export(qtbot, dlg, "h5", tmp_path / "run.h5")
    train = finished.result.measurement.surfaces["train"]
    with h5py.File(out, "r") as f:
        x, y = f["xcoordinates"][:], f["ycoordinates"][:]
        loaded = f["train_loss"][:]
    assert loaded.shape == (len(y), len(x))
    # loss-landscape: train_loss[i, j] is at (x[j], y[i]); our axis k is direction k
    assert np.allclose(loaded, train.T, rtol=1e-6)
    assert not np.allclose(loaded, train, rtol=1e-6)   # the pattern is not symmetric
    again = dialog(qtbot, finished)   # the next export starts in the folder used last
    assert os.path.dirname(again.path.text()) == str(tmp_path)


def test_glb_reads_back_as_the_surface(qtbot, finished, tmp_path):
    import trimesh

    dlg = dialog(qtbot, finished)
    dlg.select("glb")
    dlg.options.exaggeration.setValue(2.0)
    out = export(qtbot, dlg, "glb", tmp_path / "run.glb")
    mesh = trimesh.load(out, force="mesh")
    data = run_surfaces(finished.result)
    train = data.values("train")
    xs, ys = data.coordinates
    v = np.asarray(mesh.vertices)
    assert len(v) == train.size
    i = np.abs(v[:, 0][:, None] - xs[None, :]).argmin(axis=1)
    j = np.abs(v[:, 1][:, None] - ys[None, :]).argmin(axis=1)
    assert np.allclose(v[:, 0], xs[i], atol=1e-5) and np.allclose(v[:, 1], ys[j], atol=1e-5)
    assert np.allclose(v[:, 2], 2.0 * train[i, j], rtol=1e-5)   # axis 0 is alpha_1


def long_turntable(qtbot, window, tmp_path, kind: str, seen_from: int):
    """An export dialog set to a 400-frame turntable ``kind`` into an empty folder, and the
    list its progress (frames done >= ``seen_from``) is recorded into: (dialog, folder, seen)."""
    dlg = dialog(qtbot, window)
    dlg.select(kind)
    dlg.options.animation.setCurrentIndex(dlg.options.animation.findData("turntable"))
    dlg.options.frames.setValue(400)
    out = tmp_path / "videos"
    out.mkdir()
    dlg.path.setText(str(out / f"turn.{kind}"))
    seen = []
    dlg.runner.progress.connect(lambda d, t: seen.append(d) if d >= seen_from else None)
    return dlg, out, seen


def test_cancelled_mp4_leaves_no_file(qtbot, finished, tmp_path):
    dlg, out, seen = long_turntable(qtbot, finished, tmp_path, "mp4", 2)
    dlg.options.width_px.setValue(320)
    dlg.options.height_px.setValue(240)
    with qtbot.waitSignal(dlg.runner.cancelled, timeout=60_000):
        assert dlg.start()
        qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
        dlg.cancel_button.click()
    qtbot.waitUntil(lambda: not dlg.runner.running, timeout=10_000)
    assert max(seen) < 400
    assert os.listdir(out) == []
    assert "nothing was written" in dlg.status.text()


def test_forming_gif_of_the_recorded_run(qtbot, finished, tmp_path):
    import imageio.v3 as iio

    dlg = dialog(qtbot, finished)
    dlg.select("gif")
    assert dlg.options.animation.currentData() == "forming"
    dlg.options.width_px.setValue(320)
    dlg.options.height_px.setValue(192)
    out = export(qtbot, dlg, "gif", tmp_path / "forming.gif")
    frames = iio.imread(out, index=None)
    snaps = finished.recording.snapshots_for(finished.result)
    assert [s[0] for s in snaps] == [*SNAPSHOT_STEPS, finished.result.config.steps]
    assert frames.shape[0] == len(snaps)
    assert frames.shape[1:3] == (192, 320)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_unwritable_folder_shows_a_message(qtbot, finished, tmp_path, errors):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        dlg = dialog(qtbot, finished)
        dlg.select("stl")
        dlg.path.setText(str(locked / "print.stl"))
        with qtbot.waitSignal(dlg.runner.failed, timeout=30_000):
            dlg.start()
        qtbot.waitUntil(lambda: not dlg.runner.running, timeout=10_000)
        assert errors and errors[-1][0] == "Export failed"
        assert str(locked) in errors[-1][1] and "not writable" in errors[-1][1]
        assert os.listdir(locked) == []
    finally:
        locked.chmod(0o700)


def test_a_folder_that_is_a_file_shows_a_message(qtbot, finished, tmp_path, errors):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    dlg = dialog(qtbot, finished)
    dlg.select("obj")
    dlg.path.setText(str(blocker / "mesh.obj"))
    with qtbot.waitSignal(dlg.runner.failed, timeout=30_000):
        dlg.start()
    qtbot.waitUntil(lambda: not dlg.runner.running, timeout=10_000)
    assert errors and errors[-1][0] == "Export failed"
    assert str(blocker) in errors[-1][1] and "not a folder" in errors[-1][1]
    assert "export failed" in dlg.status.text()


def test_menu_opens_the_dialog_only_after_a_run(qtbot, window, errors):
    window.actions["export"].trigger()
    assert errors and errors[-1][0] == "Nothing to export yet"
    fake_run(window)
    dlg = export_interactive(window)
    assert dlg is not None and dlg.isVisible()
    assert export_interactive(window) is dlg   # one at a time
    dlg.close()


def test_closing_the_window_cancels_a_running_export(qtbot, finished, tmp_path):
    dlg, out, seen = long_turntable(qtbot, finished, tmp_path, "gif", 1)
    assert dlg.start()
    qtbot.waitUntil(lambda: bool(seen), timeout=30_000)
    finished.close()   # the window's Close event joins the export's thread first
    assert not dlg.runner.running
    assert os.listdir(out) == []
