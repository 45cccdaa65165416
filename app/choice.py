"""What the user has chosen: the settings of the next run (Qt-free, immutable).

``Choice`` holds the values the panels edit; ``Choice.config()`` turns them into the core's
``ConstructionConfig``. The fields that a Choice shares with ``ConstructionConfig`` are not
listed twice: ``CONFIG_FIELDS`` is derived from the two dataclasses, and a test checks that
every config field is either chosen here or named in ``NOT_CHOSEN``.

The method is the ``theorem`` field: 1, 2, or ``"mpo"`` (Skorokhodov & Burtsev's multi-point
optimisation). An MPO run's config is an ``MpoRunConfig``: a ``ConstructionConfig`` with
``theorem = "mpo"`` and their CNN (1-8-32-64, ReLU, MaxPool, no BatchNorm), so that every
place that compares or shows a run's settings sees the method too. ``config_differences``
says in which settings two runs differ, which is how the app decides whether a finished run
still belongs to what is chosen.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import losspattern_core as lp

FALLBACK_PATTERN = "bumps"   # a function: defined for every z, used when a pattern is not
MPO = "mpo"
METHODS = (1, 2, MPO)
FAMILIES = ("mlp", "cnn", "resnet")
# config fields the app does not let the user choose (the core's defaults, or set by config())
NOT_CHOSEN = ("loss", "lr", "batch", "snapshot_every")
# settings that do not change what a run measures (where it runs, how often it streams)
NOT_MEASURED = ("device", "snapshot_every")
# their CNN (constructions/mpo_checks.network_for): what an MPO run trains, whatever is chosen
MPO_CHOSEN = ("pattern", "dataset", "smooth", "seed", "device")   # what an MPO run uses
MPO_NETWORK = dict(arch="cnn", channels=(8, 32, 64), batchnorm=False, maxpool=True,
                   activation="relu", z=2, rgb=False)


def is_function(spec: str) -> bool:
    """True for analytic patterns (``rings:freq=4``), which have no image smoothing."""
    return spec.partition(":")[0] in lp.PATTERN_FUNCTIONS


def pattern_allowed(spec: str, z: int) -> bool:
    """Functions exist for every z; images and files are 2-D patterns in the app."""
    return is_function(spec) or z == 2


@dataclass(frozen=True)
class MpoRunConfig(lp.ConstructionConfig):
    """The settings of a multi-point optimisation run, in the construction config's terms
    (``theorem`` is ``"mpo"``; ``grid`` the icon's cells per side, ``steps`` the cap)."""

    theorem: str = MPO

    def construction_equivalent(self) -> lp.ConstructionConfig:
        """The same network, data and pattern as a Theorem 1 config (for ``lp.validate``)."""
        names = [f.name for f in dataclasses.fields(lp.ConstructionConfig)]
        return lp.ConstructionConfig(**{**{n: getattr(self, n) for n in names}, "theorem": 1})


@dataclass(frozen=True)
class Choice:
    """The chosen settings. ``dataset`` is the spec of the dataset that is loaded (a dataset
    still loading is not chosen yet); ``loss_range`` is what the loss fields hold, possible or
    not (the state says whether it is). ``mpo_steps`` and ``mpo_grid`` are the multi-point
    optimisation's own steps and grid (its runs are slower per step and per grid point)."""

    pattern: str = "mountains"
    smooth: float = 1.0
    dataset: str = ""
    loss_range: tuple[float, float] | None = None
    theorem: int | str = 1
    z: int = 2
    rgb: bool = False
    arch: str = "mlp"
    depth: int = 3
    width: int = 128
    channels: tuple[int, ...] = (8, 32, 64)
    batchnorm: bool = False
    maxpool: bool = True
    blocks: int = 2
    resnet_width: int = 16
    activation: str = "sin"
    steps: int = 2000
    grid: int = 64
    mpo_steps: int = 100
    mpo_grid: int = 20
    seed: int = 0
    device: str = "cpu"

    @property
    def is_mpo(self) -> bool:
        return self.theorem == MPO

    @property
    def rgb_allowed(self) -> bool:
        """Colour needs z = 2 and Theorem 1 (Theorem 2 has one α* for all heads)."""
        return self.z == 2 and self.theorem == 1

    @property
    def heads(self) -> int:
        return 3 if self.rgb else 1

    def normalised(self) -> Choice:
        """The same choice with the rules applied: no colour where it is not allowed; the
        multi-point optimisation draws a 2-D binary icon (z = 2, one head)."""
        out = self
        if out.is_mpo and (out.z != 2 or out.rgb):
            out = dataclasses.replace(out, z=2, rgb=False)
        return out if out.rgb_allowed or not out.rgb else dataclasses.replace(out, rgb=False)

    def pattern_key(self) -> tuple:
        """What a loaded Pattern depends on."""
        return (self.pattern, self.z, self.rgb, None if is_function(self.pattern)
                else self.smooth)

    def config(self) -> lp.ConstructionConfig:
        """The core's config for these settings (streams a train surface ~20 times a run);
        an ``MpoRunConfig`` for the multi-point optimisation."""
        shared = {n: getattr(self, n) for n in CONFIG_FIELDS}
        shared.update(smooth=None if is_function(self.pattern) else self.smooth,
                      snapshot_every=max(10, self.steps // 20))
        if self.is_mpo:   # only what the method uses: other knobs never make its run stale
            return MpoRunConfig(**{n: shared[n] for n in MPO_CHOSEN}, **MPO_NETWORK,
                                steps=self.mpo_steps, grid=self.mpo_grid, snapshot_every=0)
        shared["theorem"] = int(self.theorem)
        return lp.ConstructionConfig(**shared)

    @staticmethod
    def fields_of_config(cfg: lp.ConstructionConfig) -> dict:
        """The choice fields that give back ``cfg`` (a run's settings chosen again)."""
        if cfg.theorem == MPO:   # its network is fixed: the chosen family's knobs stay
            out = {n: getattr(cfg, n) for n in MPO_CHOSEN if n != "smooth"}
            out.update(theorem=MPO, z=2, rgb=False, mpo_steps=cfg.steps, mpo_grid=cfg.grid)
        else:
            out = {n: getattr(cfg, n) for n in CONFIG_FIELDS if n not in ("smooth", "loss_range")}
            out["loss_range"] = tuple(cfg.loss_range) if cfg.loss_range else None
        if cfg.smooth is not None:
            out["smooth"] = cfg.smooth
        return out

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def fields_from_json(data: dict) -> dict:
        """The known fields of a saved choice, with their types restored (unknown keys and
        unreadable or impossible values are dropped)."""
        out = {}
        for f in dataclasses.fields(Choice):
            if f.name in data:
                try:
                    out[f.name] = _restored(f.name, data[f.name])
                except (TypeError, ValueError, IndexError):
                    continue
        return out


def _restored(name: str, value):
    """One saved value with its type, or ValueError when it cannot be a choice."""
    if name == "loss_range":
        return None if value is None else (float(value[0]), float(value[1]))
    if name in ("rgb", "batchnorm", "maxpool"):
        if not isinstance(value, bool):
            raise ValueError(name)
        return value
    if name == "theorem":
        if value not in METHODS:
            raise ValueError(f"unknown method {value!r}")
        return value
    if name == "arch":
        if value not in FAMILIES:
            raise ValueError(f"unknown family {value!r}")
        return value
    if name == "channels":
        channels = tuple(int(c) for c in value)
        if not 1 <= len(channels) <= 8 or any(not 1 <= c <= 1024 for c in channels):
            raise ValueError("channels")
        return channels
    kind = type(getattr(Choice, name))
    out = kind(value)
    if kind is int and not 0 <= out <= 2**31 - 1:
        raise ValueError(name)
    return out


CONFIG_FIELDS = tuple(f.name for f in dataclasses.fields(lp.ConstructionConfig)
                      if f.name in {c.name for c in dataclasses.fields(Choice)})


def parse_channels(text: str) -> tuple[int, ...]:
    """"8,32,64" -> (8, 32, 64); ValueError with a message for anything else."""
    parts = [p.strip() for p in str(text).replace(" ", ",").split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise ValueError(f"channels {text!r}: give whole numbers separated by commas, e.g. "
                         "8,32,64")
    out = tuple(int(p) for p in parts)
    if len(out) > 8 or any(not 1 <= c <= 1024 for c in out):
        raise ValueError(f"channels {text!r}: 1 to 8 blocks of 1..1024 channels each")
    return out


def channels_text(channels) -> str:
    return ",".join(str(c) for c in channels)


def config_differences(a: lp.ConstructionConfig, b: lp.ConstructionConfig) -> list[str]:
    """Names of the settings in which two configs differ (those that change a measurement;
    smoothing is named only when the pattern is the same, since it belongs to the pattern;
    the method, ``theorem``, is compared even between an MPO config and a construction's)."""
    out = [f.name for f in dataclasses.fields(lp.ConstructionConfig)
           if f.name not in NOT_MEASURED and getattr(a, f.name) != getattr(b, f.name)]
    return [n for n in out if n != "smooth" or "pattern" not in out]
