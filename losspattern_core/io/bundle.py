"""Loading construction bundles (bundle-format.md), every byte validated before it is used.

Nothing from a bundle is executed or unpickled: JSON, safetensors and numeric ``.npy`` only.
``construction.json`` is checked against its schema (formats 1 and 2) before any of it is
used; each file is read only if it is a regular file within its size limit, its SHA-256 is
compared with the one recorded in construction.json, and every array is checked for dtype,
shape and finiteness. ``read_bundle_arrays`` is the light path for pictures (no network).
Writing lives in ``bundle_write`` (``save_bundle`` is re-exported here).
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from losspattern_core.errors import BundleError
from losspattern_core.io.bundle_write import FILES, FORMAT, VERSION, save_bundle  # noqa: F401
from losspattern_core.io.construction_schema import Checked, validate_construction, validate_metrics
from losspattern_core.io.limits import MAX_JSON_BYTES, check_memory
from losspattern_core.io.safe_read import (
    npy_from_bytes,
    npz_from_bytes,
    parse_json,
    read_bytes,
    require_finite,
)
from losspattern_core.io.schema import SchemaError

NO_CHECKSUMS = "no checksums recorded (a bundle from before checksums): files not checked"
MAX_OTHER_FILE = 256 * 2**20  # README.txt, figure.png and other recorded files


class BundleFiles:
    """Reads a bundle's files through the safe reader and checks each against its checksum."""

    def __init__(self, path: Path, checksums: dict | None):
        self.path, self.checksums, self.checked = path, checksums, []

    def read(self, name: str, limit: int) -> bytes:
        raw = read_bytes(self.path / name, BundleError, limit, str(self.path / name))
        if self.checksums is not None:
            want = self.checksums.get(name)
            if want is None:
                raise BundleError(f"{self.path / name}: no checksum recorded for it in "
                                  "construction.json")
            if hashlib.sha256(raw).hexdigest() != want:
                raise BundleError(f"{self.path / name}: changed since the bundle was written "
                                  "(its SHA-256 differs from the one in construction.json)")
            self.checked.append(name)
        return raw

    def check_rest(self) -> None:
        """Files recorded but not read by the loader (README, figure) are checked too."""
        for name in sorted(set(self.checksums or {}) - set(self.checked)):
            self.read(name, MAX_OTHER_FILE)

    @property
    def status(self) -> str:
        if self.checksums is None:
            return NO_CHECKSUMS
        return f"checksums match for {len(self.checked)} files"

    def array(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A float array of exactly ``shape``, every value finite."""
        label = str(self.path / name)
        raw = self.read(name, 8 * math.prod(shape) + 65536)
        arr = npy_from_bytes(raw, label, BundleError, kinds="f")
        if arr.shape != shape:
            raise BundleError(f"{label}: shape {arr.shape}, expected {shape}")
        return require_finite(arr, label, BundleError)


def _meta(path: Path) -> tuple[Checked, BundleFiles]:
    if not path.is_dir():
        raise BundleError(f"{path} is not a bundle folder (it does not exist or is a file)")
    label = str(path / "construction.json")
    raw = read_bytes(path / "construction.json", BundleError, MAX_JSON_BYTES, label)
    try:
        checked = validate_construction(parse_json(raw, label, BundleError), label)
    except SchemaError as exc:
        raise BundleError(str(exc)) from None
    return checked, BundleFiles(path, checked.meta.get("checksums"))


def _surfaces(files: BundleFiles, checked: Checked) -> tuple[np.ndarray | None, dict]:
    shape = checked.surface_shape
    check_memory(3 * 8 * math.prod(shape), f"{files.path}: surfaces of shape {shape}",
                 BundleError)
    target = files.array("target.npy", shape) if checked.has_target else None
    surfaces = {s: files.array(f"surface_{s}.npy", shape) for s in ("train", "test")}
    return target, surfaces


@dataclass(frozen=True)
class BundleArrays:
    """What a picture of a bundle needs: validated meta, target and surfaces (no network)."""

    path: Path
    meta: dict
    target: np.ndarray | None          # None for an explored landscape (no target)
    surfaces: dict[str, np.ndarray]    # "train", "test": (heads,)*(heads>1) + (G,)*z, finite
    heads: int
    z: int
    grid: int
    alpha_range: list[list[float]]
    checksums: str


def read_bundle_arrays(path: str | os.PathLike) -> BundleArrays:
    """The validated meta, target and surfaces of a bundle, without building its network.

    Refuses anything ``load_bundle`` refuses in those files: a construction.json that is not a
    format 1/2 object matching the schema, grids below 2, surfaces of the wrong shape, dtype
    or with non-finite values, files whose checksum differs.
    """
    path = Path(path)
    checked, files = _meta(path)
    target, surfaces = _surfaces(files, checked)
    return BundleArrays(path, checked.meta, target, surfaces, checked.heads, checked.z,
                        checked.grid, [list(map(float, a)) for a in checked.meta["alpha_range"]],
                        files.status)


@dataclass
class Bundle:
    path: Path
    meta: dict
    model: object                      # torch.nn.Sequential in eval mode
    directions: list
    alpha_range: list[list[float]]
    target: np.ndarray | None
    surfaces: dict[str, np.ndarray]
    train_idx: np.ndarray
    test_idx: np.ndarray
    metrics: dict = field(default_factory=dict)
    checksums: str = NO_CHECKSUMS

    @property
    def heads(self) -> int:
        return int(self.meta.get("heads", 1))

    @property
    def classes(self) -> int:
        return int(self.meta["classes"])

    @property
    def n_features(self) -> int:
        """Inputs per sample the network takes (its first layer's ``in``)."""
        shape = self.meta["network"].get("input_shape")
        return int(math.prod(shape)) if shape else int(self.meta["network"]["layers"][0]["in"])


def _split(files: BundleFiles, meta: dict) -> tuple[np.ndarray, np.ndarray]:
    n = meta["dataset"]["n_train"] + meta["dataset"]["n_test"]
    label = str(files.path / "split.npz")
    raw = files.read("split.npz", 16 * n + 65536)
    arrays = npz_from_bytes(raw, label, BundleError, ("train_idx", "test_idx"), kinds="iu")
    out = []
    for split in ("train", "test"):
        idx = arrays[f"{split}_idx"]
        where = f"{label}[{split}_idx]"
        if idx.ndim != 1 or len(idx) != meta["dataset"][f"n_{split}"]:
            raise BundleError(f"{where}: shape {idx.shape}, construction.json says "
                              f"n_{split} = {meta['dataset'][f'n_{split}']}")
        if len(idx) and (idx.min() < 0 or idx.max() >= 2**40):
            raise BundleError(f"{where}: indices must be in 0..2^40, found "
                              f"{idx.min()}..{idx.max()}")
        idx = idx.astype(np.int64)
        if len(np.unique(idx)) != len(idx):
            raise BundleError(f"{where}: an index repeats (each sample is used once)")
        out.append(idx)
    if np.intersect1d(out[0], out[1]).size:
        raise BundleError(f"{label}: train and test indices overlap")
    if not len(out[0]) or not len(out[1]):
        raise BundleError(f"{label}: an empty split (train {len(out[0])}, test {len(out[1])})")
    return out[0], out[1]


def _metrics(files: BundleFiles) -> dict:
    label = str(files.path / "metrics.json")
    listed = "metrics.json" in (files.checksums or {})
    if not listed and not (files.path / "metrics.json").exists():
        return {}   # optional: a bundle may have no figures
    try:
        return validate_metrics(parse_json(files.read("metrics.json", MAX_JSON_BYTES), label,
                                           BundleError), label)
    except SchemaError as exc:
        raise BundleError(str(exc)) from None


def load_bundle(path: str | os.PathLike, weights: bool = True) -> Bundle:
    """Load and validate a bundle; ``weights=False`` skips the network (``model`` None,
    ``directions`` empty): enough for pictures and metadata."""
    from losspattern_core.io.bundle_model import load_model

    path = Path(path)
    checked, files = _meta(path)
    meta = checked.meta
    model, directions = load_model(files, checked) if weights else (None, [])
    target, surfaces = _surfaces(files, checked)
    train_idx, test_idx = _split(files, meta)
    metrics = _metrics(files)
    files.check_rest()
    return Bundle(path, meta, model, directions, [list(map(float, a)) for a in
                                                  meta["alpha_range"]], target, surfaces,
                  train_idx, test_idx, metrics, files.status)
