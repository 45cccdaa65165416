"""Exports write valid files, and a failed export writes nothing."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

import losspattern_core as lp
from app.actions import VIEW_3D, VIEW_HEATMAPS, VIEW_RUN, export_view_png
from app.exporting import ExportError, export_bundle, export_surfaces

from .conftest import show_finished


@pytest.fixture
def finished(window, made_run):
    """The window after a real tiny run (the session's ``made_run``, not trained again)."""
    show_finished(window, made_run)
    return window


def test_surfaces_npy_and_csv(finished, tmp_path):
    files = export_surfaces(tmp_path, finished.result)
    assert sorted(p.name for p in files) == sorted(os.listdir(tmp_path))
    m = finished.result.measurement
    assert np.array_equal(np.load(tmp_path / "surface_train.npy"), m.surfaces["train"])
    assert np.array_equal(np.load(tmp_path / "target.npy"), finished.result.construction.target)
    table = np.loadtxt(tmp_path / "surfaces.csv", delimiter=",", skiprows=1)
    header = (tmp_path / "surfaces.csv").read_text().splitlines()[0]
    assert header == "alpha_1,alpha_2,target,train,test"
    assert table.shape == (16 * 16, 5)
    assert np.allclose(table[:, 3], m.surfaces["train"].ravel(), rtol=1e-6)
    # row 17 is alpha = (1/15, 1/15): axis k of the arrays is direction k
    assert np.allclose(table[17, :2], [1 / 15, 1 / 15])


def test_bundle_loads_back(finished, tmp_path):
    out = export_bundle(tmp_path / "b", finished.result)
    b = lp.load_bundle(out)
    assert np.array_equal(b.surfaces["test"], finished.result.measurement.surfaces["test"])
    with pytest.raises(ExportError, match="already exists"):
        export_bundle(tmp_path / "b", finished.result)


def test_png_of_views_at_chosen_size(finished, tmp_path):
    for view, size in ((VIEW_HEATMAPS, (900, 700)), (VIEW_3D, (640, 480)), (VIEW_RUN, (500, 300))):
        path = export_view_png(finished, view, tmp_path / f"{view.split()[0]}.png", size)
        with Image.open(path) as im:
            assert im.size == size
            arr = np.asarray(im.convert("RGB"), dtype=float)
        assert arr.std() > 5, f"{view} export is blank"
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".partial")]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_unwritable_folder_leaves_nothing(finished, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(ExportError, match="cannot write"):
            export_surfaces(locked, finished.result)
        with pytest.raises(ExportError):
            export_view_png(finished, VIEW_HEATMAPS, locked / "x.png", (300, 200))
        with pytest.raises(ExportError):
            export_bundle(locked / "bundle", finished.result)
        assert os.listdir(locked) == []
    finally:
        locked.chmod(0o700)


def test_folder_that_is_a_file_fails_cleanly(finished, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(ExportError):
        export_surfaces(blocker, finished.result)
    with pytest.raises(ExportError):
        export_view_png(finished, VIEW_3D, blocker / "x.png", (300, 200))
    with pytest.raises(ExportError):
        export_bundle(blocker / "bundle", finished.result)
    assert sorted(os.listdir(tmp_path)) == ["a-file"] and blocker.read_text() == "x"


def test_export_menu_reports_failure(finished, tmp_path, monkeypatch, errors):
    from app import file_dialogs
    from app.actions import export_surfaces_interactive

    missing = tmp_path / "does-not-exist"
    monkeypatch.setattr(file_dialogs, "folder", lambda *a, **k: str(missing))
    export_surfaces_interactive(finished)
    assert errors and errors[-1][0] == "Export failed" and not missing.exists()
