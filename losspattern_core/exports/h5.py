"""tomgoldstein/loss-landscape's surface file (``.h5``): write it, and read one back.

Their layout (plot_surface.py, scheduler.py, plot_2D.py): datasets ``xcoordinates`` and, for
a 2-D surface, ``ycoordinates``; ``train_loss``, ``train_acc``, ``test_loss``, ``test_acc``.
Values are filled in ``np.meshgrid(x, y)`` order, so ``train_loss[i, j]`` is the loss at
``(x = xcoordinates[j], y = ycoordinates[i])``: our array (axis k = direction k) transposed.
A 1-D file has only ``xcoordinates`` and 1-D arrays. Accuracies are percentages (0..100);
points not yet computed hold -1. We add ``target_loss`` for constructions and an attribute
``losspattern`` (JSON: where the surface came from), both ignored by their scripts.

Reading trusts nothing: hard links to plain numeric datasets only (no external or virtual
storage, no soft or external links), sizes checked before reading, every value finite, and an
incomplete file (-1 placeholders) refused with the count.
"""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import numpy as np

from losspattern_core.errors import BundleError
from losspattern_core.exports.atomic import ExportError, write_export
from losspattern_core.exports.surfaces import SurfaceSet
from losspattern_core.io.limits import check_file_size, check_memory, memory_limit
from losspattern_core.io.safe_read import parse_json

SPLITS = ("train", "test")
LAYOUT = ("loss-landscape (tomgoldstein): train_loss[i, j] is the loss at (xcoordinates[j], "
          "ycoordinates[i]); accuracies in percent")
INFO_KEYS = ("title", "dataset", "method", "n_train", "n_test", "loss_range", "pattern")
MAX_ATTR_BYTES = 2**20


def _to_file_order(values: np.ndarray) -> np.ndarray:
    """Our (x, y) array -> their meshgrid order (y rows, x columns); 1-D unchanged."""
    return np.ascontiguousarray(values.T) if values.ndim == 2 else values


def _provenance(data: SurfaceSet, head: int) -> str:
    info = {k: v for k, v in data.info.items() if k in INFO_KEYS or k == "source"}
    info.update(loss=data.loss, heads=data.heads, head=head + 1, layout=LAYOUT)
    return json.dumps(info, default=str)


def export_h5(data: SurfaceSet, path: str | os.PathLike, head: int = 0,
              overwrite: bool = False, **_ignored) -> Path:
    """Write ``data`` (z = 1 or 2; one head, default the first) as a loss-landscape h5."""
    import h5py

    if data.z not in (1, 2):
        raise ExportError(f"cannot write {path}: loss-landscape's h5 holds 1-D or 2-D surfaces, "
                          f"this one has z = {data.z} (export a z = 3 volume as .vti)")

    def write(tmp: Path) -> None:
        # built in memory, then written with plain file I/O: HDF5 never writes to the disk
        # itself (on a full disk h5py's clean-up of a half-written file can crash the process)
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as f:
            f["xcoordinates"] = data.coordinates[0]
            if data.z == 2:
                f["ycoordinates"] = data.coordinates[1]
            for split in SPLITS:
                if split in data.surfaces:
                    f[f"{split}_loss"] = _to_file_order(data.values(split, head))
                acc = data.accuracy_field(split, head)
                if acc is not None:
                    f[f"{split}_acc"] = _to_file_order(100.0 * acc)
            if "target" in data.surfaces:
                f["target_loss"] = _to_file_order(data.values("target", head))
            f.attrs["losspattern"] = _provenance(data, head)
            f.attrs["acc_unit"] = "percent"
        tmp.write_bytes(buffer.getbuffer())

    return write_export(path, write, "h5 surface file", overwrite)


# --- reading -----------------------------------------------------------------------------------

def _dataset(f, name: str, label: str):
    """The plain numeric dataset ``name`` (hard link) or None; anything else is refused."""
    import h5py

    link = f.get(name, getlink=True)
    if link is None:
        return None
    if not isinstance(link, h5py.HardLink):
        raise BundleError(f"{label}: {name} is a {type(link).__name__} (a link to elsewhere); "
                          "only plain datasets are read")
    obj = f[name]
    if not isinstance(obj, h5py.Dataset):
        raise BundleError(f"{label}: {name} is a group, not a dataset")
    if obj.is_virtual or obj.external:
        raise BundleError(f"{label}: {name} keeps its data in other files; refused")
    if obj.dtype.kind not in "fiu":
        raise BundleError(f"{label}: {name} has dtype {obj.dtype}; numbers expected")
    if obj.ndim > 2:
        raise BundleError(f"{label}: {name} has {obj.ndim} dimensions; at most 2 expected")
    check_memory(8.0 * obj.size, f"{label}: {name} of shape {obj.shape}", BundleError)
    return obj


def _array(f, name: str, label: str) -> np.ndarray | None:
    obj = _dataset(f, name, label)
    if obj is None:
        return None
    try:
        arr = np.asarray(obj[()], dtype=np.float64)
    except (OSError, ValueError, TypeError) as exc:
        raise BundleError(f"{label}: {name} cannot be read ({exc})") from exc
    if not np.isfinite(arr).all():
        raise BundleError(f"{label}: {name} holds non-finite values (NaN or infinity)")
    return arr


def _coordinates(f, label: str) -> tuple[np.ndarray, ...]:
    coords = []
    for name in ("xcoordinates", "ycoordinates"):
        c = _array(f, name, label)
        if c is None:
            if name == "xcoordinates":
                raise BundleError(f"{label}: no xcoordinates dataset: not a loss-landscape "
                                  "surface file")
            break
        if c.ndim != 1 or len(c) < 2:
            raise BundleError(f"{label}: {name} has shape {c.shape}; 1-D, >= 2 points expected")
        steps = np.diff(c)
        if not ((steps > 0).all() or (steps < 0).all()):
            raise BundleError(f"{label}: {name} is not strictly increasing or decreasing")
        coords.append(c)
    return tuple(coords)


def _to_our_order(arr: np.ndarray, coords: tuple, name: str, label: str) -> np.ndarray:
    """Their meshgrid-ordered values -> our (x, y) axes. loss-landscape allocates (nx, ny) but
    fills it in meshgrid order (flat index i * nx + j is (x[j], y[i])): read flat, reshape."""
    if len(coords) == 1:
        if arr.shape != (len(coords[0]),):
            raise BundleError(f"{label}: {name} has shape {arr.shape}; xcoordinates has "
                              f"{len(coords[0])} points")
        return arr
    nx, ny = len(coords[0]), len(coords[1])
    if arr.shape not in ((nx, ny), (ny, nx)):
        raise BundleError(f"{label}: {name} has shape {arr.shape}; the coordinates need "
                          f"({nx}, {ny})")
    return np.ascontiguousarray(arr.reshape(ny, nx).T)


def _check_complete(arr: np.ndarray, name: str, label: str, high: float | None) -> None:
    missing = int((arr < 0).sum())
    if missing:
        raise BundleError(f"{label}: {name} is incomplete: {missing} of {arr.size} points were "
                          "never computed (negative: loss-landscape's -1 placeholder)")
    if high is not None and arr.max() > high:
        raise BundleError(f"{label}: {name} goes up to {arr.max():g}; accuracies are "
                          f"percentages (0..100)")


def _info(f, label: str) -> dict:
    raw = f.attrs.get("losspattern")
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    if not isinstance(raw, str) or len(raw) > MAX_ATTR_BYTES:
        return {}
    try:
        meta = parse_json(raw.encode(), f"{label} (attribute losspattern)", BundleError)
    except BundleError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _open_checked(path: Path):
    import h5py

    label = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        raise BundleError(f"{label}: missing (no such file)") from exc
    except OSError as exc:
        raise BundleError(f"{label}: cannot open ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(st.st_mode):
        raise BundleError(f"{label} is not a regular file: refused")
    check_file_size(st.st_size, memory_limit(), label, BundleError)
    try:
        return h5py.File(path, "r")
    except OSError as exc:
        raise BundleError(f"{label}: not a readable HDF5 file (corrupt or truncated: "
                          f"{str(exc)[:160]})") from exc


def import_loss_landscape_h5(path: str | os.PathLike) -> SurfaceSet:
    """A loss-landscape surface file as a ``SurfaceSet`` in our orientation (axis k =
    direction k): ``surfaces`` train/test (and target, if we wrote it), ``accuracy`` as
    fractions, ``coordinates`` from x/ycoordinates. Refuses a corrupt, incomplete or
    inconsistent file with a ``BundleError`` naming the file and the problem."""
    path = Path(path)
    label = str(path)
    with _open_checked(path) as f:
        try:
            coords = _coordinates(f, label)
            surfaces, accuracy = {}, {}
            for key, name in (("train", "train_loss"), ("test", "test_loss"),
                              ("target", "target_loss")):
                arr = _array(f, name, label)
                if arr is not None:
                    _check_complete(arr, name, label, None)
                    surfaces[key] = _to_our_order(arr, coords, name, label)
            for split in SPLITS:
                arr = _array(f, f"{split}_acc", label)
                if arr is not None and split in surfaces:
                    _check_complete(arr, f"{split}_acc", label, 100.0)
                    accuracy[split] = _to_our_order(arr, coords, f"{split}_acc", label) / 100.0
            meta = _info(f, label)
        except (OSError, KeyError, RuntimeError) as exc:   # h5py on a damaged file's internals
            raise BundleError(f"{label}: damaged HDF5 file ({str(exc)[:160]})") from exc
    if not surfaces:
        raise BundleError(f"{label}: holds no train_loss or test_loss dataset")
    info = {k: meta[k] for k in INFO_KEYS if k in meta}
    info["source"] = label
    loss = meta.get("loss") if meta.get("loss") in ("cross_entropy", "mse") else "cross_entropy"
    return SurfaceSet(surfaces, coords, heads=1, accuracy=accuracy, loss=loss, info=info)
