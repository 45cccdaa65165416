"""Export: PNG of a view at a chosen size, surfaces as .npy/.csv, the construction bundle.

Every writer goes through a temporary file or folder next to the destination and renames it
into place, so a failed export (unwritable folder, full disk) leaves nothing half-written.
Errors are raised as ExportError with a message for the user.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

import losspattern_core as lp


class ExportError(Exception):
    """An export that could not be written; ``str()`` is for the user."""


def _writable_dir(folder: Path) -> None:
    """A folder that can take a file; the message says what is wrong (no file is opened)."""
    for part in (folder, *folder.parents):   # the nearest part that exists says why not
        if part.exists():
            break
    else:
        part = folder
    if part != folder:
        what = "a file, not a folder" if part.is_file() else "missing"
        raise ExportError(f"the folder {folder} does not exist ({part} is {what})")
    if not folder.is_dir():
        raise ExportError(f"{folder} is a file, not a folder")
    if not os.access(folder, os.W_OK):
        raise ExportError(f"cannot write to {folder}: permission denied")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def user_permissions(path: Path) -> None:
    """Give ``path`` (and, for a folder, everything in it) the permissions an ordinary file
    or folder of the user gets (0666/0777 less the umask), not a temporary file's 0600."""
    mask = _umask()
    path = Path(path)
    items = [path, *path.rglob("*")] if path.is_dir() else [path]
    for p in items:
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)


def _atomic_file(path: Path, write) -> Path:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``."""
    path = Path(path)
    _writable_dir(path.parent)
    if path.is_dir():
        raise ExportError(f"{path} is a folder; choose a file name")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise ExportError(f"cannot write to {path.parent}: {exc.strerror or exc}") from exc
    os.close(fd)
    try:
        write(tmp)
        user_permissions(Path(tmp))
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, (OSError, ValueError)):
            raise ExportError(f"could not write {path}: {exc}") from exc
        raise
    return path


def save_rgba(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write an (H, W, 3|4) uint8 array as PNG."""
    from PIL import Image

    arr = np.ascontiguousarray(image)
    return _atomic_file(Path(path), lambda tmp: Image.fromarray(arr).save(tmp, format="PNG"))


def render_graphics(widget, size: tuple[int, int]) -> QImage:
    """Render a pyqtgraph GraphicsView's scene into a W x H image (drawn, not grabbed)."""
    w, h = int(size[0]), int(size[1])
    img = QImage(w, h, QImage.Format_ARGB32)
    img.fill(QColor("white"))
    painter = QPainter(img)
    painter.setRenderHint(QPainter.Antialiasing)
    try:
        scene = widget.scene()
        source = widget.mapToScene(widget.viewport().rect()).boundingRect()
        scene.render(painter, QRectF(0, 0, w, h), source, Qt.KeepAspectRatio)
    finally:
        painter.end()
    return img


def save_qimage(path: str | os.PathLike, image: QImage) -> Path:
    def write(tmp):
        if not image.save(tmp, "PNG"):
            raise OSError("Qt could not encode the PNG")
    return _atomic_file(Path(path), write)


def surfaces_table(target: np.ndarray, surfaces: dict[str, np.ndarray], z: int, heads: int,
                   alpha_range) -> tuple[list[str], np.ndarray]:
    """Long table: alpha_1..alpha_z[, head], target, train, test (one row per grid point)."""
    grid = target.shape[-1]
    pts = lp.grid_points(grid, z)
    lo = np.array([a[0] for a in alpha_range])
    hi = np.array([a[1] for a in alpha_range])
    alphas = lo + (hi - lo) * pts
    cols = [f"alpha_{i + 1}" for i in range(z)]
    arrays = [target] + [surfaces[s] for s in ("train", "test")]
    if heads == 1:
        table = np.column_stack([alphas] + [a.reshape(-1) for a in arrays])
        return cols + ["target", "train", "test"], table
    blocks = [np.column_stack([alphas, np.full(len(alphas), h)]
                              + [a[h].reshape(-1) for a in arrays]) for h in range(heads)]
    return cols + ["head", "target", "train", "test"], np.vstack(blocks)


def export_surfaces(folder: str | os.PathLike, result) -> list[Path]:
    """target.npy, surface_train.npy, surface_test.npy and surfaces.csv into ``folder``."""
    folder = Path(folder)
    _writable_dir(folder)
    con, m = result.construction, result.measurement
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".losspattern-export-", dir=folder))
    except OSError as exc:
        raise ExportError(f"cannot write to {folder}: {exc.strerror}") from exc
    names = ["target.npy", "surface_train.npy", "surface_test.npy", "surfaces.csv"]
    try:
        np.save(tmp / names[0], con.target)
        np.save(tmp / names[1], m.surfaces["train"])
        np.save(tmp / names[2], m.surfaces["test"])
        header, table = surfaces_table(con.target, m.surfaces, con.config.z, con.heads,
                                       con.alpha_range)
        np.savetxt(tmp / names[3], table, delimiter=",", header=",".join(header), comments="",
                   fmt="%.8g")
        user_permissions(tmp)
        for n in names:
            os.replace(tmp / n, folder / n)
    except OSError as exc:
        raise ExportError(f"could not write the surfaces to {folder}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [folder / n for n in names]


def export_bundle(out: str | os.PathLike, result, overwrite: bool = False) -> Path:
    """The core's atomic bundle writer; its LossPatternError becomes an ExportError; the
    bundle gets the user's ordinary permissions."""
    from .mpo_run import export_mpo_bundle, is_mpo

    try:
        if is_mpo(result):   # the multi-point optimisation's own bundle (method "mpo")
            path = export_mpo_bundle(out, result, overwrite=overwrite)
        else:
            path = lp.save_bundle(out, result.construction, result.measurement,
                                  result.metrics, overwrite=overwrite)
    except lp.LossPatternError as exc:
        raise ExportError(str(exc)) from exc
    try:
        user_permissions(Path(path))   # the core writes through a 0700 temporary folder
    except OSError as exc:
        raise ExportError(f"saved {path}, but could not set its permissions: {exc}") from exc
    return path


# --- the Export dialog's entries: the core's formats for this surface, and the app's own ----
APP_ENTRIES = {"png": ("picture of a view (.png)", ".png"),
               "npy-csv": ("surfaces as .npy and .csv (a folder)", ""),
               "bundle": ("construction bundle (a folder)", "")}


def run_surfaces(run, opened=None):
    """The finished run's target and measured surfaces as the core's exporters take them,
    labelled like a bundle of it (``lp.surfaces_from_run``); an opened run (``opened``: its
    ``opened_run.OpenedSource``) exports the surfaces read from its file, as they are."""
    if opened is not None and getattr(opened, "surfaces", None) is not None:
        return opened.surfaces
    return lp.surfaces_from_run(run.construction, run.measurement, run.metrics)


def core_job(data, fmt: str, out: str | os.PathLike, options: dict, overwrite: bool):
    """A worker job (``export_worker.Job``) writing ``data`` as ``fmt`` through the core."""
    def job(progress, cancel) -> Path:
        return lp.export_surface(data, fmt, out, progress=progress, cancel=cancel,
                                 overwrite=overwrite, **options)
    return job


def app_job(key: str, out: str | os.PathLike, run, overwrite: bool):
    """A worker job for the app's own folder exports (npy/csv, bundle)."""
    def job(progress, cancel) -> Path:
        progress(0, 1)
        if key == "npy-csv":
            made = not Path(out).exists()
            if made:
                _writable_dir(Path(out).parent)
                Path(out).mkdir()
            try:
                export_surfaces(out, run)
            except BaseException:
                if made:
                    shutil.rmtree(out, ignore_errors=True)   # nothing half-written
                raise
        else:
            export_bundle(out, run, overwrite=overwrite)
        progress(1, 1)
        return Path(out)
    return job
