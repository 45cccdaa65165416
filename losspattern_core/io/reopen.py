"""Reopening what was saved: a bundle folder (any method, format 1 or 2) or a loss-landscape
``.h5`` surface file, as the settings, surfaces, metrics and (when it can be rebuilt) the
construction that a front end shows and re-measures.

    opened = lp.reopen_bundle("runs/smiley")
    opened.surfaces.surfaces["train"]     # the saved arrays, exactly (validated by load_bundle)
    opened.config, opened.resolved        # the recorded settings, with dataset and pattern
    opened.construction                   # network + directions + target, or None (see notes)
    opened.notes                          # what could not be rebuilt here, and why

Everything read goes through the validated loader (``load_bundle`` / ``open_surfaces``): a
folder that is not a bundle, a newer format or a corrupt file raises a ``BundleError`` naming
the file and the problem. What is only missing here (the dataset, an image pattern's file, a
GPU) does not refuse the bundle: its views open, and ``notes`` says what cannot be redone.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from losspattern_core.config import ConstructionConfig, Resolved, available_devices
from losspattern_core.data.datasets import Dataset, load_dataset
from losspattern_core.data.pattern_core import LossRange, Pattern
from losspattern_core.data.patterns import load_pattern
from losspattern_core.errors import BundleError, LossPatternError
from losspattern_core.exports.sources import open_surfaces
from losspattern_core.exports.surfaces import SurfaceSet
from losspattern_core.losses import floor
from losspattern_core.networks import NetworkSpec

TARGET_AGREEMENT = 1e-5   # a reloaded pattern must give target.npy back to this (loss units)
_KINDS = {"theorem1": "construction", "theorem2": "construction", "explore": "explore",
          "mpo": "mpo"}


@dataclass(frozen=True)
class Reopened:
    """A reopened bundle or h5 file. ``kind``: "construction", "explore", "mpo" or "h5".

    ``surfaces`` holds the saved arrays (target/train/test, accuracies, grid coordinates and
    labels); ``config`` the recorded settings (``config.grid`` and ``z`` are the saved grid's);
    ``resolved`` those settings with a dataset (the bundle's own split when the dataset loads
    here, else its recorded sizes only), the pattern (reloaded when it gives target.npy back,
    else read from target.npy) and the recorded loss range; ``construction`` the network to
    re-measure (None when it cannot be rebuilt here: see ``notes``)."""

    path: Path
    kind: str
    surfaces: SurfaceSet
    meta: dict
    metrics: dict
    config: ConstructionConfig
    resolved: Resolved
    construction: object | None
    notes: tuple[str, ...]

    @property
    def target(self) -> np.ndarray | None:
        return self.surfaces.surfaces.get("target")

    @property
    def grid(self) -> int:
        return self.config.grid

    @property
    def method(self) -> str:
        return str(self.meta.get("method") or (f"theorem{self.meta['theorem']}"
                                               if "theorem" in self.meta else self.kind))


def reopen_bundle(path: str | os.PathLike, weights: bool = True) -> Reopened:
    """Reopen a bundle folder or a loss-landscape ``.h5`` file (see the module docstring).
    ``weights=False`` skips the network (nothing to re-measure)."""
    path = Path(path)
    if path.is_dir() and not (path / "construction.json").exists():
        raise BundleError(f"{path} is not a bundle: it has no construction.json (a bundle "
                          "folder holds construction.json, weights.safetensors, split.npz, "
                          "surface_train.npy, …)")
    surfaces = open_surfaces(path)   # validated: checksums, shapes, format version
    if not path.is_dir():
        return _from_h5(path, surfaces)
    from losspattern_core.io.bundle import load_bundle

    bundle = load_bundle(path, weights=weights)
    notes: list[str] = []
    meta = bundle.meta
    config = recorded_config(meta, notes)
    dataset = _dataset(bundle, notes)
    loss_range = _loss_range(meta, surfaces)
    pattern = _pattern(config, surfaces.surfaces.get("target"), loss_range, notes)
    resolved = Resolved(config, dataset, pattern, loss_range,
                        _floor(meta, bundle.metrics, config.loss), _network(meta, config))
    con = _construction(bundle, resolved, surfaces, notes) if weights else None
    return Reopened(path, _KINDS.get(meta.get("method") or "theorem1", "construction"),
                    surfaces, meta, bundle.metrics, config, resolved, con, tuple(notes))


# --- settings ----------------------------------------------------------------------------------
_DEFAULTS = ConstructionConfig()
_TUPLES = ("loss_range", "channels")


def _recorded_value(name: str, value):
    """``value`` if it has the type of the field ``name`` (JSON lists become tuples), else
    None: a bundle's config is data, never trusted to be well typed."""
    default = getattr(_DEFAULTS, name)
    if name in _TUPLES:
        ok = isinstance(value, list) and all(isinstance(v, (int, float))
                                             and not isinstance(v, bool) for v in value)
        return tuple(value) if ok else None
    if isinstance(default, bool) or isinstance(default, str):
        return value if type(value) is type(default) else None
    if isinstance(default, int):
        return value if type(value) is int else None
    if isinstance(default, float):
        return float(value) if type(value) in (int, float) else None
    return None


def recorded_config(meta: dict, notes: list[str] | None = None) -> ConstructionConfig:
    """The settings a bundle records: its ``config`` (format 2 constructions), completed and
    corrected by the top-level keys that describe what was saved (grid, z, heads, loss,
    dataset, pattern, seed). A value of the wrong type is left at its default."""
    fields = {}
    recorded = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    for f in dataclasses.fields(ConstructionConfig):
        if f.name in recorded:
            value = _recorded_value(f.name, recorded[f.name])
            if value is not None:
                fields[f.name] = value
    pattern = meta.get("pattern") or {}
    method = meta.get("method") or f"theorem{meta.get('theorem', 1)}"
    fields.update(z=len(meta["directions"]), grid=int(meta["grid"]),
                  rgb=int(meta.get("heads", 1)) == 3, loss=meta.get("loss", "cross_entropy"),
                  dataset=str(meta["dataset"]["name"]),
                  theorem=2 if method == "theorem2" else 1)
    if "pattern" not in fields:
        fields["pattern"] = str(pattern.get("name") or "")
    if "loss_range" not in recorded and method == "theorem1" and "loss_low" in pattern:
        # Theorem 1's target spans the chosen range (Theorem 2's is shifted: not the chosen)
        fields["loss_range"] = (float(pattern["loss_low"]), float(pattern["loss_high"]))
    if type(meta.get("seed")) is int:
        fields["seed"] = meta["seed"]
    if fields.get("device", "cpu") not in available_devices():
        if notes is not None:
            notes.append(f"made on {fields['device']}, which is not available here: "
                         "re-measured on the cpu")
        fields["device"] = "cpu"
    arch = meta.get("architecture")
    if arch in ("mlp", "cnn", "resnet"):
        fields["arch"] = arch
    return ConstructionConfig(**fields)


def _loss_range(meta: dict, surfaces: SurfaceSet) -> LossRange:
    """The target's recorded range (Theorem 2: shifted), else that of the saved surfaces."""
    p = meta.get("pattern") or {}
    if "loss_low" in p and "loss_high" in p:
        return LossRange(float(p["loss_low"]), float(p["loss_high"]))
    lo, hi = surfaces.value_range()
    return LossRange(lo, hi)


def _floor(meta: dict, metrics: dict, loss: str) -> float:
    if isinstance(metrics.get("loss_floor"), (int, float)):
        return float(metrics["loss_floor"])
    counts = np.asarray(meta["dataset"]["label_counts_train"], dtype=np.float64)
    return floor(counts / max(counts.sum(), 1.0), loss)


def _network(meta: dict, config: ConstructionConfig) -> NetworkSpec:
    """What the views and the evaluator read of the network (heads, input shape, family);
    the layers themselves are the bundle's (``Construction.layers``)."""
    layers = meta["network"]["layers"]
    shape = meta["network"].get("input_shape") or [layers[0].get("in", 1)]
    family = config.arch if len(shape) == 3 else "mlp"
    return NetworkSpec(in_features=int(np.prod(shape)), classes=int(meta["classes"]),
                       depth=config.depth, width=config.width, activation=config.activation,
                       heads=int(meta.get("heads", 1)), family=family,
                       input_shape=tuple(shape) if len(shape) == 3 else None,
                       channels=tuple(config.channels), batchnorm=config.batchnorm,
                       maxpool=config.maxpool, blocks=config.blocks)


# --- dataset and pattern -----------------------------------------------------------------------
def _dataset(bundle, notes: list[str]) -> Dataset:
    """The dataset with the bundle's own split; when it cannot be loaded or is not the one
    the bundle was made on, its recorded sizes only (no samples: nothing to re-measure)."""
    from losspattern_core.measure.verify import check_dataset

    d = bundle.meta["dataset"]
    try:
        ds = load_dataset(d["name"])
        check_dataset(bundle, ds)
        return dataclasses.replace(ds, train_idx=bundle.train_idx, test_idx=bundle.test_idx)
    except LossPatternError as exc:
        notes.append(f"dataset {d['name']} is not available here ({exc}): the views open, "
                     "re-measuring needs it")
    return recorded_sizes(d["name"], int(bundle.meta["classes"]), int(d["n_train"]),
                          int(d["n_test"]), bundle.n_features, d.get("features") or {})


def recorded_sizes(name: str, classes: int, n_train: int, n_test: int, n_features: int = 1,
                   features: dict | None = None) -> Dataset:
    """A dataset known only by its recorded sizes: no samples (its split indices count them,
    for captions); ``description`` says so."""
    return Dataset(name or "unknown", np.zeros((0, n_features), np.float32),
                   np.zeros(0, np.int64), classes, np.arange(n_train),
                   np.arange(n_train, n_train + n_test), dict(features or {}),
                   "recorded sizes only: the samples are not loaded")


def saved_target_pattern(name: str, target: np.ndarray, loss_range: LossRange, z: int,
                         heads: int) -> Pattern:
    """A pattern read back from a saved target: exact at the saved grid's points, multilinear
    between them (a re-measurement on another grid compares with this interpolation)."""
    values = (np.asarray(target, np.float64) - loss_range.low) / loss_range.span
    values = values if heads > 1 else values[None]

    def fn(alpha: np.ndarray) -> np.ndarray:
        out = np.stack([_multilinear(v, alpha) for v in values], axis=-1)
        return out[:, 0] if heads == 1 else out

    return Pattern(name, z, fn, channels=heads, source="target.npy",
                   description="the saved target (pattern file not available)")


def _multilinear(values: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``values`` on the [0, 1]^z grid with endpoints, at points ``alpha`` (P, z)."""
    g = np.array(values.shape, dtype=np.float64) - 1
    pos = np.clip(alpha, 0, 1) * g
    lo = np.minimum(np.floor(pos).astype(np.int64), (g - 1).astype(np.int64))
    frac = pos - lo
    out = np.zeros(len(alpha))
    for corner in range(2 ** values.ndim):
        bits = [(corner >> k) & 1 for k in range(values.ndim)]
        weight = np.prod([frac[:, k] if b else 1 - frac[:, k] for k, b in enumerate(bits)],
                         axis=0)
        out += weight * values[tuple(lo[:, k] + b for k, b in enumerate(bits))]
    return out


def _pattern(config: ConstructionConfig, target, loss_range: LossRange,
             notes: list[str]) -> Pattern:
    """The pattern reloaded from its spec when it gives the saved target back; else the saved
    target itself (an image file that moved, a changed pattern, a baseline's mask)."""
    heads = config.heads
    if target is None:
        return Pattern(config.pattern or "none", config.z, lambda a: np.zeros(len(a)),
                       source="none", description="no target: an explored landscape")
    try:
        pattern = load_pattern(config.pattern, z=config.z, smooth=config.smooth, rgb=config.rgb)
        again = loss_range.apply(pattern.grid(config.grid))
        if again.shape == target.shape and np.abs(again - target).max() <= TARGET_AGREEMENT:
            return pattern
        notes.append(f"pattern {config.pattern} here differs from the saved target: the "
                     "saved target.npy is used")
    except LossPatternError as exc:
        notes.append(f"pattern {config.pattern} cannot be loaded here ({exc}): the saved "
                     "target.npy is used")
    return saved_target_pattern(config.pattern or "saved target", target, loss_range, config.z,
                                heads)


def _construction(bundle, resolved: Resolved, surfaces: SurfaceSet, notes: list[str]):
    """The network and directions with the resolved settings, when it can be re-measured
    here: its dataset's samples are loaded and it has a target to compare with."""
    from losspattern_core.constructions.common import Construction

    if not len(resolved.dataset.y):
        return None
    if "target" not in surfaces.surfaces:
        notes.append("no target (an explored landscape): re-measuring compares with a "
                     "target, so it is off; `losspattern verify` re-measures it")
        return None
    model = bundle.model.to(resolved.config.device)
    return Construction(resolved, model, bundle.directions, bundle.alpha_range,
                        surfaces.surfaces["target"], bundle.meta["network"]["layers"],
                        timings=dict(bundle.metrics.get("timings") or {}))


def _from_h5(path: Path, surfaces: SurfaceSet) -> Reopened:
    """A loss-landscape surface file: surfaces and labels, no network."""
    info, z = surfaces.info, surfaces.z
    grid = surfaces.shape[0]
    if any(n != grid for n in surfaces.shape):
        raise BundleError(f"{path}: a {'x'.join(map(str, surfaces.shape))} grid; the viewer "
                          "shows grids with as many points along each direction")
    config = ConstructionConfig(pattern=str(info.get("pattern") or ""),
                                dataset=str(info.get("dataset") or ""), z=z, grid=grid,
                                loss=surfaces.loss)
    rng = info.get("loss_range")
    loss_range = LossRange(*map(float, rng)) if rng else LossRange(*surfaces.value_range())
    ds = recorded_sizes(config.dataset, 10, int(info.get("n_train") or 0),
                        int(info.get("n_test") or 0))
    target = surfaces.surfaces.get("target")
    pattern = _pattern(config, target, loss_range, []) if target is not None else \
        Pattern(config.pattern or "none", z, lambda a: np.zeros(len(a)), source="none",
                description="no target in this file")
    resolved = Resolved(config, ds, pattern, loss_range, float("nan"),
                        NetworkSpec(in_features=1, classes=10))
    return Reopened(path, "h5", surfaces, {}, {}, config, resolved, None,
                    ("a surface file: no network, nothing to re-measure",))
