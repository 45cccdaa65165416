"""Turn surfaces of any shape into what a 2-D or 3-D view can show (numpy only, no Qt)."""

from __future__ import annotations

import numpy as np


def plane(arr: np.ndarray, heads: int = 1) -> np.ndarray:
    """A (G, G) array: heads averaged, extra directions cut through their middle.

    Axis 0 stays direction 1 (x), axis 1 direction 2 (y). A 1-D surface becomes (G, 1).
    """
    a = np.asarray(arr, dtype=np.float64)
    if heads > 1:
        a = a.mean(axis=0)
    while a.ndim > 2:
        a = a[..., a.shape[-1] // 2]
    if a.ndim == 1:
        a = a[:, None]
    return a


def volume(arr: np.ndarray, heads: int = 1) -> np.ndarray:
    """A (G, G, G) array for z >= 3 (heads averaged, further directions cut in the middle)."""
    a = np.asarray(arr, dtype=np.float64)
    if heads > 1:
        a = a.mean(axis=0)
    while a.ndim > 3:
        a = a[..., a.shape[-1] // 2]
    return a


def argmin_xy(arr2d: np.ndarray) -> tuple[float, float, float]:
    """(alpha_1, alpha_2, value) of the minimum of a (G, G) array on the [0, 1]^2 grid."""
    i, j = np.unravel_index(int(np.argmin(arr2d)), arr2d.shape)
    gx, gy = arr2d.shape
    return (i / max(gx - 1, 1), j / max(gy - 1, 1), float(arr2d[i, j]))


def shared_levels(arrays, low: float | None = None,
                  high: float | None = None) -> tuple[float, float]:
    """One colour scale for target/train/test: the loss range, widened to fit measured data."""
    vals = [np.nanmin(a) for a in arrays if a is not None] + ([low] if low is not None else [])
    tops = [np.nanmax(a) for a in arrays if a is not None] + ([high] if high is not None else [])
    lo, hi = float(min(vals)), float(max(tops))
    if not hi > lo:
        hi = lo + 1e-6
    return lo, hi


AXIS_NAMES = ("α1", "α2", "α3")


def slice_plane(arr: np.ndarray, axis: int = 2, index: int | None = None) -> np.ndarray:
    """A (G, G) slice of a (G, G, G) array at ``index`` along ``axis`` (default the middle).

    The two remaining axes keep their order (axis 0 of the slice is the lower direction).
    """
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim < 3:
        return plane(a)
    while a.ndim > 3:
        a = a[..., a.shape[-1] // 2]
    n = a.shape[axis]
    i = n // 2 if index is None else int(np.clip(index, 0, n - 1))
    return np.take(a, i, axis=axis)


def rgb_composite(heads_arr: np.ndarray, low: float, high: float) -> np.ndarray:
    """(3, G, G) per-head losses -> (G, G, 3) colours in [0, 1].

    The display squash is linear over the loss range, per head: c = (L - low) / (high - low),
    clipped to [0, 1] -- the inverse of how the target maps pixel values to losses.
    """
    a = np.asarray(heads_arr, dtype=np.float64)
    while a.ndim > 3:
        a = a[..., a.shape[-1] // 2]
    c = (a - low) / max(high - low, 1e-12)
    return np.clip(np.moveaxis(c, 0, -1), 0.0, 1.0)


RGB_SQUASH = "colour = (loss − low) / (high − low) per head, linear over the loss range, clipped"
