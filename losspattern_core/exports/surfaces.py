"""What every exporter takes: plain numpy surfaces on a grid, with their coordinates and labels.

Independent of where the surfaces came from (a construction, an explored landscape, an imported
loss-landscape h5, a bundle of format 1 or 2): array axis k is direction k, preceded by a head
axis when there are several heads, exactly as in a bundle (bundle-format.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from losspattern_core.errors import ConfigError

SOURCES = ("target", "train", "test")


@dataclass(frozen=True)
class SurfaceSet:
    """Surfaces on one grid.

    ``surfaces``: {"target"?, "train"?, "test"?} -> float array of shape
    ``(heads,)*(heads > 1) + tuple(len(c) for c in coordinates)``; ``accuracy``: the same for
    measured accuracy as a fraction in [0, 1] (optional); ``coordinates``: the α values of
    each direction's grid points; ``loss``: "cross_entropy" or "mse"; ``info``: labels for
    figures and file metadata (``title``, ``dataset``, ``method``, ``n_train``, ``n_test``,
    ``loss_range`` [low, high], ``source`` (where it came from), ``alpha_star``, ...).
    """

    surfaces: dict[str, np.ndarray]
    coordinates: tuple[np.ndarray, ...]
    heads: int = 1
    accuracy: dict[str, np.ndarray] = field(default_factory=dict)
    loss: str = "cross_entropy"
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        coords = tuple(np.asarray(c, dtype=np.float64).ravel() for c in self.coordinates)
        object.__setattr__(self, "coordinates", coords)
        if not coords or any(len(c) < 2 for c in coords):
            raise ConfigError("a surface needs at least one direction of at least 2 points")
        if not self.surfaces:
            raise ConfigError("no surface to export (none of target, train, test)")
        shape = (self.heads,) * (self.heads > 1) + tuple(len(c) for c in coords)
        for kind, group in (("surface", self.surfaces), ("accuracy", self.accuracy)):
            for name, arr in group.items():
                if name not in SOURCES:
                    raise ConfigError(f"unknown {kind} {name!r}: use one of {SOURCES}")
                if np.shape(arr) != shape:
                    raise ConfigError(f"{kind} {name!r} has shape {np.shape(arr)}, the grid "
                                      f"needs {shape}")
                if not np.isfinite(arr).all():
                    raise ConfigError(f"{kind} {name!r} holds non-finite values")

    @property
    def z(self) -> int:
        return len(self.coordinates)

    @property
    def shape(self) -> tuple[int, ...]:
        """The grid's shape (no head axis)."""
        return tuple(len(c) for c in self.coordinates)

    @property
    def alpha_range(self) -> list[list[float]]:
        return [[float(c[0]), float(c[-1])] for c in self.coordinates]

    def default_source(self) -> str:
        """The measured train surface if there is one, else what there is."""
        return next(s for s in ("train", "test", "target") if s in self.surfaces)

    def values(self, source: str | None = None, head: int = 0) -> np.ndarray:
        """One head of one source: shape ``self.shape``, float64."""
        source = source or self.default_source()
        if source not in self.surfaces:
            raise ConfigError(f"no {source} surface here (there is: "
                              f"{', '.join(self.surfaces)})")
        return self._head(self.surfaces[source], head)

    def _head(self, arr: np.ndarray, head: int) -> np.ndarray:
        if not 0 <= head < self.heads:
            raise ConfigError(f"head {head + 1} does not exist (this surface has "
                              f"{self.heads} head{'s' * (self.heads > 1)})")
        arr = np.asarray(arr, dtype=np.float64)
        return arr[head] if self.heads > 1 else arr

    def accuracy_field(self, source: str, head: int = 0) -> np.ndarray | None:
        if source not in self.accuracy:
            return None
        return self._head(self.accuracy[source], head)

    def value_range(self, sources=None) -> tuple[float, float]:
        """Min and max over the given sources (all by default): one shared colour scale."""
        names = [s for s in (sources or self.surfaces) if s in self.surfaces]
        lo = min(float(np.min(self.surfaces[s])) for s in names)
        hi = max(float(np.max(self.surfaces[s])) for s in names)
        return lo, (hi if hi > lo else lo + 1e-9)

    def middle_index(self, axis: int) -> int:
        return (len(self.coordinates[axis]) - 1) // 2


def plane(arr: np.ndarray, slice_at: tuple[int, ...] | None = None) -> tuple[np.ndarray, str]:
    """The first two directions of a field; directions 3.. at ``slice_at`` (default: their
    middle grid points). Returns the 2-D array and a note naming the slice ('' for z = 2)."""
    if arr.ndim <= 2:
        return arr, ""
    rest = arr.shape[2:]
    idx = tuple(slice_at) if slice_at is not None else tuple((n - 1) // 2 for n in rest)
    if len(idx) != len(rest) or any(not 0 <= i < n for i, n in zip(idx, rest, strict=True)):
        raise ConfigError(f"slice {list(idx)} is outside the grid of directions 3..: {rest}")
    note = ", ".join(f"direction {k + 3} at grid point {i + 1} of {n}"
                     for k, (i, n) in enumerate(zip(idx, rest, strict=True)))
    return arr[(slice(None), slice(None)) + idx], note


def grid_coordinates(alpha_range: list[list[float]], grid: int) -> tuple[np.ndarray, ...]:
    """Grid point i of direction k at lo_k + (hi_k - lo_k) * i / (G - 1), endpoints included."""
    return tuple(np.linspace(float(lo), float(hi), grid) for lo, hi in alpha_range)
