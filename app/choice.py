"""What the user has chosen: the settings of the next run (Qt-free, immutable).

``Choice`` holds the values the panels edit; ``Choice.config()`` turns them into the core's
``ConstructionConfig``. ``config_differences`` says in which settings two runs differ, which
is how the app decides whether a finished run still belongs to what is chosen.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import losspattern_core as lp

FALLBACK_PATTERN = "bumps"   # a function: defined for every z, used when a pattern is not
NETWORK_FIELDS = ("theorem", "z", "rgb", "depth", "width", "activation", "steps", "grid",
                  "seed", "device")
# settings that do not change what a run measures (where it runs, how often it streams)
NOT_MEASURED = ("device", "snapshot_every")


def is_function(spec: str) -> bool:
    """True for analytic patterns (``rings:freq=4``), which have no image smoothing."""
    return spec.partition(":")[0] in lp.PATTERN_FUNCTIONS


def pattern_allowed(spec: str, z: int) -> bool:
    """Functions exist for every z; images and files are 2-D patterns in the app."""
    return is_function(spec) or z == 2


@dataclass(frozen=True)
class Choice:
    """The chosen settings. ``dataset`` is the spec of the dataset that is loaded (a dataset
    still loading is not chosen yet); ``loss_range`` is what the loss fields hold, possible or
    not (the state says whether it is)."""

    pattern: str = "mountains"
    smooth: float = 1.0
    dataset: str = ""
    loss_range: tuple[float, float] | None = None
    theorem: int = 1
    z: int = 2
    rgb: bool = False
    depth: int = 3
    width: int = 128
    activation: str = "sin"
    steps: int = 2000
    grid: int = 64
    seed: int = 0
    device: str = "cpu"

    @property
    def rgb_allowed(self) -> bool:
        """Colour needs z = 2 and Theorem 1 (Theorem 2 has one α* for all heads)."""
        return self.z == 2 and self.theorem == 1

    @property
    def heads(self) -> int:
        return 3 if self.rgb else 1

    def normalised(self) -> Choice:
        """The same choice with the rules applied (no colour where it is not allowed)."""
        return self if self.rgb_allowed or not self.rgb else dataclasses.replace(self, rgb=False)

    def pattern_key(self) -> tuple:
        """What a loaded Pattern depends on."""
        return (self.pattern, self.z, self.rgb, None if is_function(self.pattern)
                else self.smooth)

    def config(self) -> lp.ConstructionConfig:
        """The core's config for these settings (streams a train surface ~20 times a run)."""
        return lp.ConstructionConfig(
            pattern=self.pattern, dataset=self.dataset, theorem=self.theorem, z=self.z,
            rgb=self.rgb, depth=self.depth, width=self.width, activation=self.activation,
            loss_range=self.loss_range,
            smooth=None if is_function(self.pattern) else self.smooth,
            steps=self.steps, grid=self.grid, seed=self.seed, device=self.device,
            snapshot_every=max(10, self.steps // 20))

    def network_values(self) -> dict:
        return {k: getattr(self, k) for k in NETWORK_FIELDS}

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def fields_from_json(data: dict) -> dict:
        """The known fields of a saved choice, with their types restored (unknown keys and
        unreadable values are dropped)."""
        out = {}
        for f in dataclasses.fields(Choice):
            if f.name not in data:
                continue
            value = data[f.name]
            try:
                if f.name == "loss_range":
                    out[f.name] = None if value is None else (float(value[0]), float(value[1]))
                elif f.name == "rgb":
                    out[f.name] = bool(value)
                elif isinstance(getattr(Choice, f.name, None), (int, float, str)):
                    kind = type(getattr(Choice, f.name))
                    out[f.name] = kind(value)
            except (TypeError, ValueError, IndexError):
                continue
        return out


def config_differences(a: lp.ConstructionConfig, b: lp.ConstructionConfig) -> list[str]:
    """Names of the settings in which two configs differ (those that change a measurement;
    smoothing is named only when the pattern is the same, since it belongs to the pattern)."""
    out = [f.name for f in dataclasses.fields(a)
           if f.name not in NOT_MEASURED and getattr(a, f.name) != getattr(b, f.name)]
    return [n for n in out if n != "smooth" or "pattern" not in out]
