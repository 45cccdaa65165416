"""A construction run's settings, and the one gate that validates them against the data."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from losspattern_core.data.datasets import Dataset, load_dataset
from losspattern_core.errors import ConfigError
from losspattern_core.losses import LOSSES, floor
from losspattern_core.networks import NetworkSpec
from losspattern_core.data.patterns import LossRange, Pattern, check_loss_range, default_loss_range, load_pattern

# Devices the evaluator and the constructions work on. Apple's MPS is not offered: the exact
# surfaces accumulate loss sums in float64, which MPS cannot hold.
DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class ConstructionConfig:
    pattern: str = "mountains"
    dataset: str = "digits"
    theorem: int = 1
    z: int = 2
    rgb: bool = False
    depth: int = 3
    width: int = 128
    activation: str = "sin"
    loss: str = "cross_entropy"
    loss_range: tuple[float, float] | None = None  # None: default_loss_range(floor)
    smooth: float | None = None                     # image smoothing sigma (px); None: 1.0
    steps: int = 2000
    lr: float = 3e-3
    batch: int = 2048
    grid: int = 64
    seed: int = 0
    device: str = "cpu"
    snapshot_every: int = 100  # a measured train surface is streamed every this many steps

    @property
    def heads(self) -> int:
        """Output heads: three (one per colour channel) with ``rgb``, else one."""
        return 3 if self.rgb else 1

    def replace(self, **kw) -> "ConstructionConfig":
        return dataclasses.replace(self, **kw)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Resolved:
    """A validated config with its dataset, pattern, loss range and network spec."""

    config: ConstructionConfig
    dataset: Dataset
    pattern: Pattern
    loss_range: LossRange
    floor: float
    network: NetworkSpec

    @property
    def heads(self) -> int:
        return self.network.heads

    def target(self, grid: int | None = None) -> np.ndarray:
        """The target T in loss units on a ``grid``-point grid (default: the run's grid):
        (G,)*z, or (heads,)+(G,)*z for colour patterns."""
        return self.loss_range.apply(self.pattern.grid(grid or self.config.grid))


def resolve_device(name: str) -> str:
    import torch

    if name == "mps":
        raise ConfigError("device mps is not supported: exact surfaces accumulate in float64, "
                          "which MPS cannot hold; use --device cpu")
    if name not in DEVICES and not name.startswith("cuda:"):
        raise ConfigError(f"unknown device {name!r}; choose cpu or cuda")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("device cuda requested but torch sees no CUDA GPU here; use --device cpu")
    return name


def available_devices() -> list[str]:
    import torch

    out = ["cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    return out


def validate(cfg: ConstructionConfig, dataset: Dataset | None = None,
             pattern: Pattern | None = None) -> Resolved:
    """Check everything before any work starts; raise ConfigError/DatasetError/PatternError."""
    if cfg.theorem not in (1, 2):
        raise ConfigError(f"theorem must be 1 or 2, got {cfg.theorem}")
    if not 1 <= cfg.z <= 8:
        raise ConfigError(f"z = {cfg.z}: pattern dimension must be 1..8")
    if cfg.loss not in LOSSES:
        raise ConfigError(f"unknown loss {cfg.loss!r}; choose from {', '.join(LOSSES)}")
    if not 1 <= cfg.steps <= 10_000_000:
        raise ConfigError(f"steps must be >= 1, got {cfg.steps}")
    if not 2 <= cfg.grid <= 2048 or cfg.grid**cfg.z > 50_000_000:
        raise ConfigError(f"grid {cfg.grid} with z={cfg.z}: need 2 <= G and G^z <= 5e7 points")
    if not (cfg.lr > 0 and np.isfinite(cfg.lr)) or cfg.batch < 1:
        raise ConfigError("lr must be a positive number and batch >= 1")
    resolve_device(cfg.device)
    ds = dataset or load_dataset(cfg.dataset)
    pat = pattern or load_pattern(cfg.pattern, z=cfg.z, smooth=cfg.smooth, rgb=cfg.rgb)
    if pat.z != cfg.z:
        raise ConfigError(f"pattern {pat.name} is {pat.z}-D but z = {cfg.z}")
    fl = floor(ds.marginal("train"), cfg.loss)
    if cfg.loss_range is None:
        rng = default_loss_range(fl)
    else:
        rng = check_loss_range(float(cfg.loss_range[0]), float(cfg.loss_range[1]), fl, cfg.loss)
    net = NetworkSpec(in_features=ds.n_features, classes=ds.classes, depth=cfg.depth,
                      width=cfg.width, activation=cfg.activation, heads=cfg.heads)
    net.validate(cfg.z)
    return Resolved(cfg, ds, pat, rng, fl, net)
