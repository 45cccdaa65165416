"""A pattern T: [0,1]^z -> [0,1]^channels, and the loss range [low, high] it is mapped into."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from losspattern_core.errors import ConfigError, PatternError
from losspattern_core.grid import grid_points

MAX_LOSS = 1000.0   # nats (or squared error): far above any pattern a float32 network can draw
MIN_SPAN = 1e-3     # below this a pattern is lost in float32 rounding of the loss
EVAL_BLOCK = 65536  # grid points evaluated at once


@dataclass(frozen=True)
class Pattern:
    """A target function T: [0,1]^z -> [0,1]^channels (channels 1 or 3)."""

    name: str
    z: int
    fn: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    channels: int = 1
    source: str = ""
    description: str = ""
    note: str = ""  # something the user should be told (printed by the CLI)

    def evaluate(self, alpha: np.ndarray) -> np.ndarray:
        """alpha (P, z) in [0,1] -> values (P,) or (P, channels), in [0,1]."""
        alpha = np.asarray(alpha, dtype=np.float64)
        if alpha.ndim != 2 or alpha.shape[1] != self.z:
            raise PatternError(f"pattern {self.name} is {self.z}-D; got points of shape "
                               f"{alpha.shape}")
        return np.clip(self.fn(alpha), 0.0, 1.0)

    def grid(self, size: int) -> np.ndarray:
        """Values on the G^z grid with endpoints: shape (G,)*z, or (channels,)+(G,)*z."""
        pts = grid_points(size, self.z)
        # in blocks: a function's work arrays (bumps: points x bumps x z) stay small
        vals = np.concatenate([self.evaluate(pts[s:s + EVAL_BLOCK])
                               for s in range(0, len(pts), EVAL_BLOCK)])
        if self.channels == 1:
            return vals.reshape((size,) * self.z)
        return np.moveaxis(vals.reshape((size,) * self.z + (self.channels,)), -1, 0)


@dataclass(frozen=True)
class LossRange:
    low: float
    high: float

    def apply(self, values: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * values

    @property
    def span(self) -> float:
        return self.high - self.low


def check_loss_range(low: float, high: float, floor: float,
                     loss: str = "cross_entropy") -> LossRange:
    """Refuse a range the loss cannot take (Lemma 1: sigma never goes below its floor), and
    ranges a float32 network cannot be trained to (above MAX_LOSS, or narrower than MIN_SPAN)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ConfigError(f"loss range [{low}, {high}] must be finite numbers")
    if low >= high:
        raise ConfigError(f"loss range needs low < high, got low={low:g}, high={high:g}")
    if high > MAX_LOSS:
        raise ConfigError(f"loss range high={high:g} is above the limit {MAX_LOSS:g}: a float32 "
                          f"network's loss cannot be fitted to such values; use high <= "
                          f"{MAX_LOSS:g}")
    if high - low < MIN_SPAN:
        raise ConfigError(f"loss range [{low:g}, {high:g}] is narrower than {MIN_SPAN:g}: the "
                          "pattern would vanish in float32 rounding")
    if low < floor - 1e-9:
        what = "the label entropy H(pi)" if loss == "cross_entropy" else "the label variance"
        raise ConfigError(
            f"loss range low={low:g} is below the floor {floor:.4f} nats of this dataset "
            f"({what}): a {loss} pattern cannot go below it. Use low >= {floor:.4f}, "
            f"e.g. --loss-range {math.ceil((floor + 0.1) * 100) / 100:g} "
            f"{math.ceil((floor + 1.6) * 100) / 100:g}")
    return LossRange(float(low), float(high))


def default_loss_range(floor: float) -> LossRange:
    """0.1 above the floor, 1.5 nats tall: well inside what the loss can take."""
    low = math.ceil((floor + 0.1) * 100) / 100
    return LossRange(low, round(low + 1.5, 2))
