"""Checks of a multi-point optimisation run's options, and the network it trains."""

from __future__ import annotations

import math

from losspattern_core.config import resolve_device
from losspattern_core.data.datasets import Dataset
from losspattern_core.errors import ConfigError
from losspattern_core.networks import NetworkSpec

from .mpo_cells import ENGINES

ARCHES = ("cnn", "mlp")
MAX_GRID = 512
MAX_STEPS = 10_000_000


def _int(cfg, name: str, lo: int, hi: int) -> None:
    value = getattr(cfg, name)
    if type(value) is not int or not lo <= value <= hi:
        raise ConfigError(f"{name} = {value!r} must be an integer in {lo}..{hi}")


def _positive(cfg, name: str, hi: float = 1e30, zero: bool = False) -> None:
    value = getattr(cfg, name)
    if not (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and (value >= 0 if zero else value > 0) and value <= hi):
        raise ConfigError(f"{name} = {value!r} must be a {'non-negative' if zero else 'positive'}"
                          f" finite number up to {hi:g}")


def check_config(cfg) -> None:
    """Every option on its own (types, ranges); nothing is loaded."""
    _int(cfg, "grid", 3, MAX_GRID)
    if cfg.steps is not None:
        _int(cfg, "steps", 1, MAX_STEPS)
    _int(cfg, "epochs", 1, 100_000)
    _int(cfg, "batch", 1, 1_000_000)
    _int(cfg, "good_cells", 1, 100_000)
    _int(cfg, "bad_cells", 1, 100_000)
    _int(cfg, "warmup_epochs", 0, 100_000)
    _int(cfg, "chunk", 1, 10_000)
    _int(cfg, "seed", 0, 2**63 - 1)
    for name in ("tau", "lr", "clip", "scale"):
        _positive(cfg, name)
    _positive(cfg, "min_acc_gap", 1.0, zero=True)
    if cfg.smooth is not None:
        _positive(cfg, "smooth", 50.0, zero=True)
    if cfg.arch not in ARCHES:
        raise ConfigError(f"arch {cfg.arch!r}: choose from {', '.join(ARCHES)}")
    if cfg.good not in ("dark", "bright"):
        raise ConfigError(f"good = {cfg.good!r}: the icon's shape is 'dark' or 'bright'")
    if cfg.engine not in ENGINES:
        raise ConfigError(f"engine {cfg.engine!r}: choose from {', '.join(ENGINES)}")
    resolve_device(cfg.device)


def network_for(ds: Dataset, arch: str) -> NetworkSpec:
    """Their network for the data: ``cnn`` is their Fashion-MNIST CNN (Conv3x3-ReLU-MaxPool
    blocks 1-8-32-64, AdaptiveAvgPool 4x4, Linear 1024-128-10; square greyscale images only);
    ``mlp`` a 3 x 128 ReLU MLP."""
    n = ds.n_features
    if arch == "mlp":
        spec = NetworkSpec(n, ds.classes, depth=3, width=128, activation="relu")
    elif arch == "cnn":
        side = math.isqrt(n)
        if side * side != n:
            raise ConfigError(f"dataset {ds.name} has {n} features per sample, not a square "
                              "greyscale image: the cnn needs one (use --arch mlp)")
        spec = NetworkSpec(n, ds.classes, family="cnn", activation="relu",
                           input_shape=(1, side, side), channels=(8, 32, 64), batchnorm=False,
                           maxpool=True, hidden=128)
    else:
        raise ConfigError(f"arch {arch!r}: choose from {', '.join(ARCHES)}")
    spec.validate(2)
    return spec
