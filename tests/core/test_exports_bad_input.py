"""Bad input and failing disks: a clear message naming the file, and nothing half-written.

Corrupt, incomplete or hostile h5 files; folders that do not exist, files in the way; a full
disk (ENOSPC injected into the writer) and a file-size limit hit mid-video (RLIMIT_FSIZE in a
subprocess); the user's umask on what is written.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest
from test_exports_support import surface_2d

from losspattern_core.errors import BundleError, LossPatternError
from losspattern_core.exports import ExportError, export_surface, import_loss_landscape_h5

HERE = Path(__file__).resolve().parent


def good_h5(path: Path, **extra) -> Path:
    x, y = np.linspace(-1, 1, 5), np.linspace(0, 1, 4)
    with h5py.File(path, "w") as f:
        f["xcoordinates"], f["ycoordinates"] = x, y
        f["train_loss"] = np.full((4, 5), 2.0)
        for k, v in extra.items():
            if k in f:
                del f[k]
            f[k] = v
    return path


# --- h5 files that must be refused -------------------------------------------------------------

def test_garbage_and_truncated_h5(tmp_path):
    (tmp_path / "junk.h5").write_bytes(os.urandom(4096))
    with pytest.raises(BundleError, match=r"junk\.h5: not a readable HDF5 file"):
        import_loss_landscape_h5(tmp_path / "junk.h5")
    raw = good_h5(tmp_path / "ok.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(BundleError, match=r"cut\.h5: (not a readable|damaged)"):
        import_loss_landscape_h5(tmp_path / "cut.h5")


@pytest.mark.parametrize("extra, message", [
    ({"train_loss": np.full((4, 5), -1.0)}, "incomplete: 20 of 20 points were never computed"),
    ({"train_loss": np.full((3, 3), 2.0)}, r"train_loss has shape \(3, 3\); the coordinates "
                                           r"need \(5, 4\)"),
    ({"train_loss": np.full((4, 5), np.nan)}, "non-finite"),
    ({"train_loss": np.array([b"a", b"b"])}, "numbers expected"),
    ({"ycoordinates": np.array([0.0, 1.0, 0.5, 2.0])}, "not strictly increasing"),
    ({"train_acc": np.full((4, 5), 250.0)}, "percentages"),
])
def test_inconsistent_h5_is_refused(tmp_path, extra, message):
    path = good_h5(tmp_path / "bad.h5", **extra)
    with pytest.raises(BundleError, match=message):
        import_loss_landscape_h5(path)


def test_h5_without_coordinates_or_losses(tmp_path):
    with h5py.File(tmp_path / "a.h5", "w") as f:
        f["train_loss"] = np.ones((3, 3))
    with pytest.raises(BundleError, match="no xcoordinates dataset: not a loss-landscape"):
        import_loss_landscape_h5(tmp_path / "a.h5")
    with h5py.File(tmp_path / "b.h5", "w") as f:
        f["xcoordinates"] = np.linspace(0, 1, 3)
    with pytest.raises(BundleError, match="holds no train_loss or test_loss"):
        import_loss_landscape_h5(tmp_path / "b.h5")


def test_h5_links_and_external_storage_are_refused(tmp_path):
    secret = tmp_path / "elsewhere.bin"
    secret.write_bytes(np.full(20, 3.0).tobytes())
    with h5py.File(tmp_path / "ext.h5", "w") as f:
        f["xcoordinates"], f["ycoordinates"] = np.linspace(0, 1, 5), np.linspace(0, 1, 4)
        f.create_dataset("train_loss", (4, 5), "<f8", external=[(str(secret), 0, 160)])
    with pytest.raises(BundleError, match="keeps its data in other files"):
        import_loss_landscape_h5(tmp_path / "ext.h5")
    good_h5(tmp_path / "target.h5")
    with h5py.File(tmp_path / "link.h5", "w") as f:
        f["xcoordinates"], f["ycoordinates"] = np.linspace(0, 1, 5), np.linspace(0, 1, 4)
        f["train_loss"] = h5py.ExternalLink(str(tmp_path / "target.h5"), "train_loss")
    with pytest.raises(BundleError, match="ExternalLink"):
        import_loss_landscape_h5(tmp_path / "link.h5")


def test_h5_path_that_is_not_a_file(tmp_path):
    with pytest.raises(BundleError, match="missing"):
        import_loss_landscape_h5(tmp_path / "none.h5")
    os.mkfifo(tmp_path / "pipe.h5")
    with pytest.raises(BundleError, match="not a regular file"):
        import_loss_landscape_h5(tmp_path / "pipe.h5")


# --- where the file goes -----------------------------------------------------------------------

def test_unwritable_destinations(tmp_path):
    data = surface_2d()
    with pytest.raises(ExportError, match="folder .*nowhere does not exist"):
        export_surface(data, "vtp", tmp_path / "nowhere" / "s.vtp")
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ExportError, match="afile is not a folder"):
        export_surface(data, "vtp", tmp_path / "afile" / "s.vtp")
    (tmp_path / "dir.vtp").mkdir()
    with pytest.raises(ExportError, match="it is a folder"):
        export_surface(data, "vtp", tmp_path / "dir.vtp")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile", "dir.vtp"]


def test_existing_file_needs_overwrite_and_is_replaced_whole(tmp_path):
    out = tmp_path / "s.h5"
    out.write_bytes(b"old")
    with pytest.raises(ExportError, match="already exists"):
        export_surface(surface_2d(), "h5", out)
    assert out.read_bytes() == b"old"
    export_surface(surface_2d(), "h5", out, overwrite=True)
    assert import_loss_landscape_h5(out).shape == (9, 6)
    assert [p.name for p in tmp_path.iterdir()] == ["s.h5"]


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_exports_get_the_users_umask_not_a_temp_files_0600(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        for fmt in ("h5", "vtp", "stl"):
            out = export_surface(surface_2d(), fmt, tmp_path / f"s.{fmt}")
            assert out.stat().st_mode & 0o777 == mode, fmt
    finally:
        os.umask(old)


# --- full disks --------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["h5", "vtp", "glb", "stl", "gif"])
def test_disk_full_while_writing(tmp_path, monkeypatch, fmt):
    """The writer fills the disk after some bytes: ExportError says so, no file is left."""
    real_write = Path.write_bytes

    def full(self, data):
        real_write(self, bytes(data)[:100])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))

    monkeypatch.setattr(Path, "write_bytes", full)
    real_open = open

    def open_full(file, mode="r", *args, **kw):
        fh = real_open(file, mode, *args, **kw)
        if "w" in mode and str(file).endswith(".vtp"):
            def write(text):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            fh.write = write
        return fh

    monkeypatch.setattr("builtins.open", open_full)
    with pytest.raises(ExportError, match=rf"s\.{fmt}: the disk is full"):
        export_surface(surface_2d(), fmt, tmp_path / f"s.{fmt}",
                       **({"frames": 2, "size": (64, 48)} if fmt == "gif" else {}))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["mp4", "h5", "vtp"])
def test_file_size_limit_hit_mid_write_in_a_subprocess(tmp_path, fmt):
    """RLIMIT_FSIZE (ffmpeg, a child, gets SIGXFSZ; Python gets EFBIG): a clear error, the
    process survives, the folder stays empty."""
    code = textwrap.dedent(f"""
        import resource, signal, sys
        sys.path.insert(0, {str(HERE)!r})
        from test_exports_support import surface_2d
        from losspattern_core.exports import ExportError, export_surface
        import losspattern_core.exports.animation, losspattern_core.exports.h5
        import losspattern_core.exports.vtk, h5py, matplotlib.figure
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        try:
            export_surface(surface_2d(60, 60), {fmt!r}, {str(tmp_path / ("x." + fmt))!r},
                           **({{"frames": 12, "size": (320, 240)}} if {fmt!r} == "mp4" else {{}}))
        except ExportError as exc:
            print("ExportError:", exc)
            sys.exit(3)
        print("no error")
    """)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=240, env=env)
    assert run.returncode == 3, run.stdout + run.stderr
    assert f"x.{fmt}" in run.stdout and "the disk is full or the file is too large" in run.stdout
    assert list(tmp_path.iterdir()) == []


def test_every_export_error_is_a_losspattern_error():
    assert issubclass(ExportError, LossPatternError)
