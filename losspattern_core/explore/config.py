"""What an explore run does (``ExploreConfig``) and the one gate that checks it before any work
(``resolve_explore``): the dataset, the network to train or open, the directions and the grid.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from losspattern_core.errors import ConfigError

DIRECTION_KINDS = ("random", "pca", "hessian", "interpolation")
ARCHS = ("mlp", "cnn", "resnet")
MAX_POINTS = 4_000_000        # grid^z per split
DEFAULT_GRID = {1: 51, 2: 25, 3: 11}


@dataclass(frozen=True)
class ExploreConfig:
    """An explore run. ``alpha_range`` A: the grid spans [-A, A] along each direction (random,
    Hessian), [-A, 1 + A] for an interpolation (default 0.5: beyond both ends), and the
    trajectory's extent widened by A of itself for PCA (default 0.25). ``from_bundle`` opens the
    network of a bundle instead of training one (PCA still trains, starting from it);
    ``to_bundle`` with ``from_bundle`` interpolates between two bundles' networks."""

    dataset: str = "digits"
    arch: str = "mlp"
    directions: str = "random"
    z: int = 2
    grid: int | None = None
    steps: int = 300
    seed: int = 0
    alpha_range: float | None = None
    subsample: int | None = None
    lr: float = 1e-3
    batch: int = 128
    optimizer: str = "adam"
    snapshot_every: int | None = None  # default: steps // 20 (about 21 snapshots)
    width: int = 64
    depth: int = 2
    activation: str = "relu"
    channels: tuple[int, ...] = (8, 16)
    blocks: int = 1
    from_bundle: str | None = None
    to_bundle: str | None = None
    splits: tuple[str, ...] = ("train", "test")
    start: int = 5                     # points per axis of the first (coarsest) level
    hessian_max_bytes: int = 4 << 30
    hessian_iterations: int = 200      # power iterations per eigenvector at most
    device: str = "cpu"
    extra: dict = field(default_factory=dict, compare=False)

    def replace(self, **kw) -> ExploreConfig:
        return dataclasses.replace(self, **kw)

    @property
    def grid_size(self) -> int:
        return self.grid if self.grid is not None else DEFAULT_GRID.get(self.z, 7)

    def to_json(self) -> dict:
        out = dataclasses.asdict(self)
        out.pop("extra")
        out["channels"], out["splits"] = list(self.channels), list(self.splits)
        out["grid"] = self.grid_size
        return out


def _check_numbers(cfg: ExploreConfig) -> None:
    if cfg.directions not in DIRECTION_KINDS:
        raise ConfigError(f"unknown directions {cfg.directions!r}; choose from "
                          f"{', '.join(DIRECTION_KINDS)}")
    if cfg.arch not in ARCHS:
        raise ConfigError(f"unknown architecture {cfg.arch!r}; choose from {', '.join(ARCHS)}")
    if cfg.z not in (1, 2, 3):
        raise ConfigError(f"z = {cfg.z}: explore draws 1-, 2- or 3-dimensional surfaces")
    if cfg.directions == "interpolation" and cfg.z != 1:
        raise ConfigError("an interpolation is a line: use --z 1")
    if cfg.directions == "pca" and cfg.z == 1:
        raise ConfigError("PCA directions need --z 2 or 3 (a plane or a volume of the path)")
    g = cfg.grid_size
    if not 2 <= g <= 4096 or g**cfg.z > MAX_POINTS:
        raise ConfigError(f"grid {g}^{cfg.z}: need 2..4096 points per axis and at most "
                          f"{MAX_POINTS} in all")
    if cfg.alpha_range is not None and not (math.isfinite(cfg.alpha_range)
                                            and 0 < cfg.alpha_range <= 1e4):
        raise ConfigError(f"range {cfg.alpha_range} must be a number in (0, 1e4]")
    if cfg.subsample is not None and cfg.subsample < 2:
        raise ConfigError(f"subsample {cfg.subsample}: need at least 2 samples per split")
    if not set(cfg.splits) <= {"train", "test"} or not cfg.splits:
        raise ConfigError(f"splits {cfg.splits}: choose train and/or test")
    if cfg.to_bundle and not cfg.from_bundle:
        raise ConfigError("--to needs --from (the line runs from one bundle to the other)")
    if cfg.to_bundle and cfg.directions != "interpolation":
        raise ConfigError("--to is for --directions interpolation")


@dataclass
class ResolvedExplore:
    """The checked run: its dataset, network spec (None when opened from a bundle) and the
    bundle(s) it opens."""

    config: ExploreConfig
    dataset: object
    spec: object
    source: object = None          # Bundle of --from
    target: object = None          # Bundle of --to

    def indices(self, which: str) -> np.ndarray:
        """The split's indices into the dataset's canonical order (a bundle's own split)."""
        if self.source is not None:
            return self.source.train_idx if which == "train" else self.source.test_idx
        return self.dataset.train_idx if which == "train" else self.dataset.test_idx

    def split(self, which: str, rows: np.ndarray | None = None):
        """(X as the network takes it, y) for ``which`` (``rows``: positions within it)."""
        import torch

        idx = self.indices(which)
        idx = idx if rows is None else idx[rows]
        X = torch.as_tensor(np.asarray(self.dataset.X[idx]), dtype=torch.float32)
        shape = (self.source.meta["network"].get("input_shape") if self.source is not None
                 else self.spec.input_spec())
        if shape and len(shape) == 3:
            X = X.reshape(len(X), *shape)
        return X, np.asarray(self.dataset.y[idx])


def _network_spec(cfg: ExploreConfig, ds):
    from losspattern_core.config import image_shape
    from losspattern_core.networks import NetworkSpec

    shape = None if cfg.arch == "mlp" else image_shape(ds)
    if cfg.arch != "mlp" and shape is None:
        raise ConfigError(f"{cfg.arch} needs image samples; {ds.name} has {ds.n_features} "
                          "features that are not a square image")
    spec = NetworkSpec(in_features=ds.n_features, classes=ds.classes, depth=cfg.depth,
                       width=cfg.width, activation=cfg.activation, family=cfg.arch,
                       input_shape=shape, channels=tuple(cfg.channels), blocks=cfg.blocks,
                       hidden=cfg.width)
    spec.validate(1)
    return spec


def resolve_explore(cfg: ExploreConfig) -> ResolvedExplore:
    """Check everything, load the dataset and open the bundles; nothing is trained yet."""
    from losspattern_core.config import resolve_device
    from losspattern_core.data.datasets import load_dataset

    _check_numbers(cfg)
    resolve_device(cfg.device)
    if cfg.from_bundle:
        from losspattern_core.io.bundle import load_bundle
        from losspattern_core.measure.verify import check_dataset

        source = load_bundle(Path(cfg.from_bundle))
        if source.heads != 1:
            raise ConfigError(f"{source.path} has {source.heads} heads (a colour construction); "
                              "explore measures single-head networks")
        ds = load_dataset(source.meta["dataset"]["name"])
        check_dataset(source, ds)
        target = load_bundle(Path(cfg.to_bundle)) if cfg.to_bundle else None
        return ResolvedExplore(cfg, ds, None, source, target)
    ds = load_dataset(cfg.dataset)
    return ResolvedExplore(cfg, ds, _network_spec(cfg, ds))
