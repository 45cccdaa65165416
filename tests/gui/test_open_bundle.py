"""Reopening saved bundles in the GUI: the same numbers as the run showed before saving, its
metrics, re-measure, format 1, h5 files, refusals with a message, drag and drop, the command
line and Open Recent."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent

import losspattern_core as lp
from app.exporting import export_bundle
from app.main import parse_args
from app.opening import open_at_start
from app.recent_files import RecentFiles
from app.workers import RunResult

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def made(made_run):
    """A small real construction (digits, MLP, 16 x 16 grid, the window's tiny settings): what
    a GUI run's worker hands over at its end (the session's ``made_run``, read only here)."""
    con, m, metrics, _ = made_run
    return con, m, metrics


def show_made_run(window, made) -> dict:
    """The finished run in the window, as a GUI run ends; returns what its views show."""
    con, m, metrics = made
    st = window.state
    st.runs.begin_run(1, con.resolved)
    st.runs.finish_run(RunResult(1, con, m, metrics, 1.0))
    assert st.show_run(1) and st.shown.origin == "result", st.shown.stale
    return {name: np.array(st.shown.array(name)) for name in ("target", "train", "test")}


def open_and_wait(qtbot, window, path) -> int:
    with qtbot.waitSignal(window.opening.opened, timeout=60_000) as blocker:
        window.opening.open_path(path)
    return blocker.args[0]


@pytest.fixture
def bundle(window, made, tmp_path):
    """The window's finished run exported through the app's bundle export; and what the
    run's views showed before saving."""
    before = show_made_run(window, made)
    return export_bundle(tmp_path / "saved", window.result), before


def test_reopened_bundle_shows_the_numbers_it_was_made_with(qtbot, window, bundle, tmp_path):
    path, before = bundle
    rid = open_and_wait(qtbot, window, path)
    st = window.state
    assert rid == 2 and st.shown.origin == "result" and st.shown.run_id == 2
    for name in ("train", "test", "target"):
        shown = st.shown.array(name)
        saved = np.load(path / ("target.npy" if name == "target" else f"surface_{name}.npy"))
        assert np.array_equal(shown, saved) and np.array_equal(shown, before[name])
    window.heatmaps.flush()
    assert np.array_equal(window.heatmaps.arrays["train"], before["train"])
    metrics = json.loads((path / "metrics.json").read_text())
    rows = window.metrics_panel.rows
    assert rows["PSNR train"] == f"{metrics['train']['psnr_db']:.2f} dB"
    assert rows["NRMSE test"] == f"{metrics['test']['nrmse']:.4f}"
    assert f"opened from {path}" in window.header.text()
    assert [r.run_id for r in st.runs.history] == [1, 2]
    assert st.runs.unsaved() == [1]   # the opened one is on disk already
    assert st.can_remeasure
    again = export_bundle(tmp_path / "again", st.result)   # exports work on it
    for name in ("train", "test"):
        assert np.array_equal(np.load(again / f"surface_{name}.npy"), before[name])


def test_remeasure_an_opened_bundle(qtbot, window, bundle):
    path, before = bundle
    open_and_wait(qtbot, window, path)
    with qtbot.waitSignal(window.controller.remeasured, timeout=60_000) as blocker:
        assert window.remeasure(16) is not None
    again = blocker.args[0]
    np.testing.assert_allclose(again.surfaces["train"], before["train"], atol=1e-5)
    assert window.state.shown.origin == "remeasure"


def _as_format_1(src: Path, out: Path) -> Path:
    """A copy of a bundle as a version-1 bundle was written: no method, input shape,
    architecture or config; no checksums (they came later)."""
    shutil.copytree(src, out)
    meta = json.loads((out / "construction.json").read_text())
    for key in ("method", "architecture", "evaluated_in", "config", "checksums"):
        meta.pop(key, None)
    meta["network"].pop("input_shape")
    meta["format"] = "losspattern.construction/1"
    (out / "construction.json").write_text(json.dumps(meta))
    return out


def test_format_1_bundle_opens(qtbot, window, bundle, tmp_path):
    path, before = bundle
    old = _as_format_1(path, tmp_path / "v1")
    open_and_wait(qtbot, window, old)
    st = window.state
    assert st.shown.origin == "result"
    assert np.array_equal(st.shown.array("train"), before["train"])
    pattern = json.loads((old / "construction.json").read_text())["pattern"]
    assert st.result.config.loss_range == (pattern["loss_low"], pattern["loss_high"])
    assert "no checksums" in st.opened[st.result.run_id].checksums
    assert st.can_remeasure


def test_loss_landscape_h5_opens_without_a_network(qtbot, window, bundle, tmp_path):
    path, before = bundle
    h5 = lp.export_surface(lp.open_surfaces(path), "h5", tmp_path / "surface.h5")
    open_and_wait(qtbot, window, h5)
    st = window.state
    assert np.allclose(st.shown.array("train"), before["train"])
    assert st.opened[st.result.run_id].kind == "h5" and not st.can_remeasure
    window.history_panel._picked(0)      # the Runs list: back to run 1, then the h5 again
    assert st.shown.run_id == 1
    window.history_panel._picked(1)
    assert st.shown.run_id == 2 and st.shown.origin == "result"
    assert "opened from" in window.run_panel.status.text()
    # it exports again through the Export dialog: the surfaces read from the file
    from app.export_dialog import ExportDialog

    dlg = ExportDialog(window, st.result)
    out = lp.export_surface(dlg.data, "h5", tmp_path / "again.h5")
    dlg.close()
    assert np.allclose(lp.open_surfaces(out).surfaces["train"], before["train"])


def test_bad_folders_give_a_message_and_the_app_goes_on(qtbot, window, bundle, tmp_path,
                                                        errors):
    path, _ = bundle
    (tmp_path / "empty").mkdir()
    corrupt = shutil.copytree(path, tmp_path / "corrupt")
    arr = np.load(corrupt / "surface_train.npy")
    np.save(corrupt / "surface_train.npy", arr + 1.0)
    newer = shutil.copytree(path, tmp_path / "newer")
    meta = json.loads((newer / "construction.json").read_text())
    meta["format"] = "losspattern.construction/99"
    (newer / "construction.json").write_text(json.dumps(meta))
    expected = {tmp_path / "empty": "not a bundle", corrupt: "changed since the bundle",
                newer: "newer than this LossPattern reads"}
    for folder, words in expected.items():
        with qtbot.waitSignal(window.opening.failed, timeout=30_000):
            window.opening.open_path(folder)
        assert words in errors[-1][1], errors[-1]
        assert window.state.shown.run_id == 1 and not window.state.running
    assert len(errors) == 3 and len(window.state.runs.history) == 1
    assert open_and_wait(qtbot, window, path) == 2   # still usable


def test_dropping_a_folder_opens_it(qtbot, window, bundle):
    path, before = bundle
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    drop = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(window.opening.opened, timeout=60_000):
        window.dropEvent(drop)
    assert np.array_equal(window.state.shown.array("test"), before["test"])


def test_command_line_bundle_opens_at_start(qtbot, window, bundle):
    path, _ = bundle
    args = parse_args([str(path), "--no-settings"])
    assert args.bundle == str(path)
    with qtbot.waitSignal(window.opening.opened, timeout=60_000):
        open_at_start(window, args.bundle)
    assert window.state.opened[window.state.result.run_id].path == path


def test_losspattern_gui_dir_opens_the_bundle(tmp_path, made):
    con, m, metrics = made
    path = lp.save_bundle(tmp_path / "b", con, m, metrics)
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path), OMP_NUM_THREADS="1")
    run = [sys.executable, "-m", "app", "--no-settings", "--quit-when-done"]
    ok = subprocess.run(run + [str(path)], cwd=ROOT, env=env, capture_output=True, text=True,
                        timeout=120)
    assert ok.returncode == 0, ok.stderr[-2000:]   # 0: opened (1: refused, 2: no such path)
    assert "Traceback" not in ok.stderr


def test_recent_files_update_and_persist(qtbot, window, bundle, tmp_path):
    path, _ = bundle
    second = shutil.copytree(path, tmp_path / "second")
    open_and_wait(qtbot, window, path)
    open_and_wait(qtbot, window, second)
    menu = window.opening.recent_menu
    menu.refresh()
    assert menu.entries() == [str(second), str(path)]
    again = RecentFiles(QSettings(window.settings.fileName(), QSettings.IniFormat))
    assert again.paths() == [str(second), str(path)]      # persisted
    shutil.rmtree(second)
    menu.refresh()                                         # a missing entry is pruned, said
    assert menu.entries() == [str(path)]
    assert "missing entry removed (second)" in window.statusBar().currentMessage()
    for p in [tmp_path / f"n{i}" for i in range(10)]:
        p.mkdir()
        window.opening.recent.add(p)
    assert len(window.opening.recent.paths()) == 8
