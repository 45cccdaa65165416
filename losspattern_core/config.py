"""A construction run's settings, and the one gate that validates them against the data.

``validate`` checks every option (types, ranges, finiteness), then the data, then estimates
the memory the run needs (network and optimiser, training batch, evaluation grid) and refuses
what does not fit before any work starts.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from losspattern_core.data.datasets import Dataset, load_dataset
from losspattern_core.data.patterns import (
    LossRange,
    Pattern,
    check_loss_range,
    default_loss_range,
    load_pattern,
)
from losspattern_core.errors import ConfigError, DatasetError
from losspattern_core.io.limits import check_memory
from losspattern_core.losses import LOSSES, floor
from losspattern_core.networks import FAMILIES, NetworkSpec

# Devices the evaluator and the constructions work on. Apple's MPS is not offered: the exact
# surfaces accumulate loss sums in float64, which MPS cannot hold.
DEVICES = ("cpu", "cuda")
MAX_SEED = 2**63 - 1
MAX_SMOOTH = 50.0      # pixels of the 256-pixel working image
MAX_STEPS = 10_000_000
MAX_BATCH = 10_000_000
MAX_POINTS = 50_000_000


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
    arch: str = "mlp"                          # network family: mlp, cnn, resnet
    channels: tuple[int, ...] = (8, 32, 64)    # cnn: channels of its conv blocks
    batchnorm: bool = False                    # cnn: BatchNorm after each conv
    maxpool: bool = True                       # cnn: MaxPool 2 after each block
    blocks: int = 2                            # resnet: residual blocks
    resnet_width: int = 16                     # resnet: channels of the stem and first blocks

    @property
    def heads(self) -> int:
        """Output heads: three (one per colour channel) with ``rgb``, else one."""
        return 3 if self.rgb else 1

    def replace(self, **kw) -> ConstructionConfig:
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
    """A device name torch can use here ('cpu', 'cuda', 'cuda:N'), else ConfigError."""
    import torch

    if not isinstance(name, str) or not name or len(name) > 32:
        raise ConfigError(f"device {name!r} is not a device name; use cpu or cuda")
    if name == "mps":
        raise ConfigError("device mps is not supported: exact surfaces accumulate in float64, "
                          "which MPS cannot hold; use --device cpu")
    index = name[5:] if name.startswith("cuda:") else None
    if name not in DEVICES and not (index is not None and index.isdigit() and len(index) < 4):
        raise ConfigError(f"unknown device {name!r}; choose cpu or cuda")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError(f"device {name} requested but torch sees no CUDA GPU here; use "
                              "--device cpu")
        if index is not None and int(index) >= torch.cuda.device_count():
            raise ConfigError(f"device {name}: torch sees {torch.cuda.device_count()} GPU(s)")
    return name


def available_devices() -> list[str]:
    import torch

    out = ["cpu"]
    if torch.cuda.is_available():
        out.append("cuda")
    return out


def grid_bytes(points: int, z: int, heads: int, classes: int) -> int:
    """Memory to evaluate a target and a measured surface on ``points`` grid points: the
    points (float64, z each), the pattern's work arrays (a few per coordinate), the
    evaluator's per-class sums (float64, heads x classes) and the surfaces."""
    return 8 * points * (4 * z + 16 + 3 * heads * classes + 6 * heads)


def _int(cfg: ConstructionConfig, name: str, lo: int, hi: int, what: str = "") -> int:
    value = getattr(cfg, name)
    if type(value) is not int or not lo <= value <= hi:
        raise ConfigError(f"{name} = {value!r}: {what or f'must be an integer in {lo}..{hi}'}")
    return value


def _check_options(cfg: ConstructionConfig) -> None:
    """Every option on its own: types, ranges, finiteness (nothing loaded yet)."""
    if cfg.theorem not in (1, 2) or type(cfg.theorem) is not int:
        raise ConfigError(f"theorem must be 1 or 2, got {cfg.theorem!r}")
    _int(cfg, "z", 1, 8, "pattern dimension must be 1..8")
    if cfg.loss not in LOSSES:
        raise ConfigError(f"unknown loss {cfg.loss!r}; choose from {', '.join(LOSSES)}")
    _int(cfg, "steps", 1, MAX_STEPS)
    _int(cfg, "batch", 1, MAX_BATCH)
    _int(cfg, "seed", 0, MAX_SEED, "the seed must be an integer in 0..2^63-1")
    _int(cfg, "snapshot_every", 0, MAX_STEPS)
    _int(cfg, "depth", 2, 16, "need 2..16 hidden layers")
    _int(cfg, "width", 1, 8192)
    _int(cfg, "grid", 2, 2048)
    if cfg.grid**cfg.z > MAX_POINTS:
        raise ConfigError(f"grid {cfg.grid} with z={cfg.z}: need 2 <= G and G^z <= 5e7 points "
                          f"(G^z = {cfg.grid**cfg.z})")
    if not (isinstance(cfg.lr, (int, float)) and math.isfinite(cfg.lr) and cfg.lr > 0):
        raise ConfigError(f"lr = {cfg.lr!r} must be a positive finite number")
    if cfg.smooth is not None and not (isinstance(cfg.smooth, (int, float))
                                       and math.isfinite(cfg.smooth)
                                       and 0 <= cfg.smooth <= MAX_SMOOTH):
        raise ConfigError(f"smooth = {cfg.smooth!r}: the smoothing sigma must be a number in "
                          f"[0, {MAX_SMOOTH:g}] pixels")
    if cfg.loss_range is not None:
        if len(cfg.loss_range) != 2 or not all(isinstance(v, (int, float))
                                               for v in cfg.loss_range):
            raise ConfigError(f"loss range must be two numbers LOW HIGH, got {cfg.loss_range!r}")
    if not isinstance(cfg.rgb, bool):
        raise ConfigError(f"rgb must be true or false, got {cfg.rgb!r}")
    if cfg.arch not in FAMILIES:
        raise ConfigError(f"unknown architecture {cfg.arch!r}; choose from {', '.join(FAMILIES)}")
    if not (isinstance(cfg.channels, (tuple, list)) and 1 <= len(cfg.channels) <= 8
            and all(type(c) is int for c in cfg.channels)):
        raise ConfigError(f"channels must be 1..8 integers, e.g. 8,32,64; got {cfg.channels!r}")
    _int(cfg, "blocks", 1, 16, "resnet needs 1..16 residual blocks")
    _int(cfg, "resnet_width", 1, 1024, "resnet width must be 1..1024 channels")
    if not isinstance(cfg.batchnorm, bool) or not isinstance(cfg.maxpool, bool):
        raise ConfigError("batchnorm and maxpool must be true or false")
    resolve_device(cfg.device)


def image_shape(ds: Dataset) -> tuple[int, int, int] | None:
    """(C, H, W) of a dataset's samples: its recorded shape, else a square greyscale image
    when the feature count is a square (digits 8x8, Fashion-MNIST 28x28), else None."""
    shape = ds.features.get("shape") if isinstance(ds.features, dict) else None
    if isinstance(shape, (list, tuple)) and len(shape) in (2, 3):
        shape = tuple(int(s) for s in shape)
        return shape if len(shape) == 3 else (1, *shape)
    side = math.isqrt(ds.n_features)
    return (1, side, side) if side * side == ds.n_features and side > 1 else None


def network_spec(cfg: ConstructionConfig, ds: Dataset) -> NetworkSpec:
    """The network ``cfg`` asks for, sized for ``ds`` (inputs, classes, image shape)."""
    return NetworkSpec(in_features=ds.n_features, classes=ds.classes, depth=cfg.depth,
                       width=cfg.resnet_width if cfg.arch == "resnet" else cfg.width,
                       activation=cfg.activation, heads=cfg.heads, family=cfg.arch,
                       input_shape=None if cfg.arch == "mlp" else image_shape(ds),
                       channels=tuple(cfg.channels), batchnorm=cfg.batchnorm,
                       maxpool=cfg.maxpool, blocks=cfg.blocks)


def check_run_memory(cfg: ConstructionConfig, ds: Dataset) -> None:
    """Refuse a run whose network, training batch or evaluation grid cannot fit in memory."""
    heads, k, w = cfg.heads, ds.classes, cfg.width
    if cfg.arch != "mlp":
        return _check_conv_memory(cfg, ds)
    params = ds.n_features * w + w + (cfg.depth - 1) * (w * w + w) + w * heads * k + heads * k
    check_memory(16 * params, f"a {cfg.depth}x{w} network on {ds.n_features} features "
                 f"({params} parameters, with gradients and Adam's moments)", ConfigError,
                 "Use a smaller --width or --depth")
    per_sample = 4 * (4 * w * cfg.depth + 4 * heads * k + ds.n_features) + 8 * (4 * cfg.z + 16)
    check_memory(cfg.batch * per_sample, f"a training batch of {cfg.batch} samples through "
                 f"a {cfg.depth}x{w} network", ConfigError, "Use a smaller --batch")
    points = cfg.grid**cfg.z
    check_memory(grid_bytes(points, cfg.z, heads, k), f"a {cfg.grid}^{cfg.z} grid "
                 f"({points} points, {heads} head(s) x {k} classes)", ConfigError,
                 "Use a smaller --grid")


def _check_conv_memory(cfg: ConstructionConfig, ds: Dataset) -> None:
    """The conv families: parameters counted on a meta build (nothing allocated), activations
    bounded by the widest layer at full resolution for every layer of the network."""
    from losspattern_core.networks import build
    from losspattern_core.training import BATCH as IMAGE_BATCH

    spec = network_spec(cfg, ds)
    spec.validate(cfg.z)
    layers = spec.layers()
    params = sum(p.numel() for p in build(layers, device="meta").parameters())
    check_memory(16 * params, f"a {cfg.arch} network of {params} parameters (with gradients "
                 "and Adam's moments)", ConfigError, "Use fewer or narrower channels")
    c, h, w = spec.input_shape
    widest = max([c, *spec.channels, spec.width])
    # the regression's alpha points are channel vectors (centre-tap theta_0: every map is
    # constant, constructions.pointwise_fit); ordinary training (Theorem 2's classifier, the
    # ease yardstick) passes batches of training.BATCH images
    per_point = 4 * 3 * widest * len(layers)
    check_memory(cfg.batch * per_point, f"a regression batch of {cfg.batch} alpha points through "
                 f"the {cfg.arch} network", ConfigError, "Use a smaller --batch")
    check_memory(IMAGE_BATCH * per_point * h * w, f"a training batch of {IMAGE_BATCH} images "
                 f"through the {cfg.arch} network", ConfigError, "Use fewer or narrower channels")
    points = cfg.grid**cfg.z
    check_memory(grid_bytes(points, cfg.z, cfg.heads, ds.classes), f"a {cfg.grid}^{cfg.z} grid",
                 ConfigError, "Use a smaller --grid")


def validate(cfg: ConstructionConfig, dataset: Dataset | None = None,
             pattern: Pattern | None = None) -> Resolved:
    """Check everything before any work starts; raise ConfigError/DatasetError/PatternError."""
    _check_options(cfg)
    ds = dataset or load_dataset(cfg.dataset)
    for split in ("train", "test"):
        if not len(ds.train_idx if split == "train" else ds.test_idx):
            raise DatasetError(f"dataset {ds.name} has an empty {split} split: nothing to "
                               f"{'train' if split == 'train' else 'measure'} on")
    check_run_memory(cfg, ds)
    pat = pattern or load_pattern(cfg.pattern, z=cfg.z, smooth=cfg.smooth, rgb=cfg.rgb)
    if pat.z != cfg.z:
        raise ConfigError(f"pattern {pat.name} is {pat.z}-D but z = {cfg.z}")
    fl = floor(ds.marginal("train"), cfg.loss)
    if cfg.loss_range is None:
        rng = default_loss_range(fl)
    else:
        rng = check_loss_range(float(cfg.loss_range[0]), float(cfg.loss_range[1]), fl, cfg.loss)
    net = network_spec(cfg, ds)
    net.validate(cfg.z)
    return Resolved(cfg, ds, pat, rng, fl, net)
