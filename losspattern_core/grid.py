"""The evaluation grid: points, sub-grids and array layout. A leaf module (numpy only).

A G^z grid has G points per direction on [0, 1] (endpoints included), in C order: the last
direction varies fastest, and axis k of every grid array is direction k.
"""

from __future__ import annotations

import numpy as np


def grid_axis(size: int) -> np.ndarray:
    return np.linspace(0.0, 1.0, size)


def grid_points(size: int, z: int) -> np.ndarray:
    """All points of the G^z grid, (G**z, z), in C order (last direction fastest)."""
    axes = np.meshgrid(*([grid_axis(size)] * z), indexing="ij")
    return np.stack([a.ravel() for a in axes], axis=1)


def range_points(grid: int, z: int, alpha_range=None) -> np.ndarray:
    """``grid_points`` mapped into ``alpha_range`` ([[lo, hi]] per direction; None: [0, 1])."""
    pts = grid_points(grid, z)
    if alpha_range is not None:
        lo = np.array([r[0] for r in alpha_range], dtype=np.float64)
        hi = np.array([r[1] for r in alpha_range], dtype=np.float64)
        pts = lo + (hi - lo) * pts
    return pts


def grid_array(total: np.ndarray, grid: int, z: int) -> np.ndarray:
    """(G**z, heads) -> (G,)*z for one head, else (heads,)+(G,)*z."""
    heads = total.shape[1]
    arr = np.moveaxis(total.reshape((grid,) * z + (heads,)), -1, 0)
    return arr[0] if heads == 1 else arr


def level_indices(grid: int, start: int = 8) -> list[np.ndarray]:
    """Nested index sets along one axis, coarse to fine; the last is ``arange(grid)``.

    Level k holds every 2^k-th index plus the last one, so each level contains the previous
    one. The first has at least ``min(start, grid)`` entries (fewer levels when start >= grid).
    """
    if grid < 1:
        raise ValueError(f"grid {grid} must be >= 1")
    levels: list[np.ndarray] = []
    k = max(0, int(np.ceil(np.log2(max(grid - 1, 1)))))
    while k >= 0:
        idx = np.union1d(np.arange(0, grid, 2**k), [grid - 1])
        if len(idx) >= min(start, grid) or k == 0:
            if not levels or len(idx) > len(levels[-1]):
                levels.append(idx)
        k -= 1
    return levels


def subgrid_indices(grid: int, size: int) -> np.ndarray | None:
    """The ``size``-point level of a ``grid``-point axis (see ``level_indices``), or None."""
    for idx in level_indices(grid, start=1):
        if len(idx) == size:
            return idx
    return None


def flat_positions(idx: np.ndarray, grid: int, z: int) -> np.ndarray:
    """Flat C-order positions of the sub-grid idx^z inside the grid^z grid."""
    mesh = np.meshgrid(*([idx] * z), indexing="ij")
    return np.ravel_multi_index([m.ravel() for m in mesh], (grid,) * z)
