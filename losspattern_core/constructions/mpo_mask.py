"""Skorokhodov & Burtsev's icon masks: a binary icon, its ternary boundary mask, and the map
between their cell layout (row i from the top, column j) and our grid layout (axis k is
direction k; direction 1 points right, direction 2 points up, as for every pattern).

Their ``make_mask_ternary`` (universome/loss-patterns, ``src/trainers/mask_trainer.py``):
0 cells become -1 ("bad": high loss wanted), 1 cells stay 1 ("good": low loss wanted), then a
cell is ignored (0) when it is a 0 cell with no 1 in its 3x3 neighbourhood, or a 1 cell whose
whole 3x3 neighbourhood (clipped at the icon's edges) is 1. What remains is a band one cell wide
on each side of the shape's boundary.
"""

from __future__ import annotations

import numpy as np

from losspattern_core.data.pattern_core import Pattern
from losspattern_core.errors import PatternError

GOOD, BAD, IGNORED = 1, -1, 0
THRESHOLD = 0.5          # their convert_img_to_binary: value > 0.5 -> 1


def grid_to_image(grid: np.ndarray) -> np.ndarray:
    """A (G, G) grid array (axis 0 = direction 1 = x, axis 1 = direction 2 = up) as an image
    (row 0 at the top, column 0 at the left)."""
    return np.asarray(grid)[:, ::-1].T


def image_to_grid(image: np.ndarray) -> np.ndarray:
    """The inverse of ``grid_to_image``: image[i, j] -> grid[j, H - 1 - i]."""
    return np.asarray(image)[::-1].T


def binary_icon(pattern: Pattern, size: int, good: str = "dark") -> np.ndarray:
    """The icon as a (size, size) 0/1 image (1 = the shape = low loss wanted), row 0 on top.

    The pattern is sampled on the same ``size``-point grid our constructions are measured on,
    then thresholded at 0.5 as their ``convert_img_to_binary`` does. ``good="dark"`` takes the
    dark pixels as the shape: their icons are black shapes on a transparent background (they
    threshold the alpha channel) and our image reader composites transparency onto white, so
    the shape is dark here; it also matches our constructions, where dark means low loss.
    ``good="bright"`` is their rule for greyscale images without alpha.
    """
    if pattern.z != 2 or pattern.channels != 1:
        raise PatternError(f"pattern {pattern.name} is not a 2-D greyscale pattern: the "
                           "multi-point optimisation fits a 2-D binary icon")
    if good not in ("dark", "bright"):
        raise PatternError(f"good = {good!r}: the shape is either 'dark' or 'bright'")
    values = grid_to_image(pattern.grid(size))
    shape = values < THRESHOLD if good == "dark" else values > THRESHOLD
    return shape.astype(np.int8)


def _window_sums(a: np.ndarray) -> np.ndarray:
    """Sum over each cell's 3x3 neighbourhood, clipped at the edges (zero padding)."""
    p = np.pad(a.astype(np.int64), 1)
    h, w = a.shape
    return sum(p[di:di + h, dj:dj + w] for di in range(3) for dj in range(3))


def ternary_mask(icon: np.ndarray) -> np.ndarray:
    """Their ternary mask of a 0/1 icon: 1 good, -1 bad, 0 ignored (see the module text).

    Their loop's three border cases (corner: 4 neighbours, edge: 6, inside: 9) are one rule
    here: a 1 cell is ignored when every in-icon cell of its 3x3 neighbourhood is 1.
    """
    icon = np.asarray(icon)
    if icon.ndim != 2 or not np.isin(icon, (0, 1)).all():
        raise PatternError(f"an icon is a 2-D array of 0 and 1, got shape {icon.shape}")
    ones = _window_sums(icon)
    cells = _window_sums(np.ones_like(icon))
    out = np.where(icon == 1, GOOD, BAD).astype(np.int8)
    out[(icon == 0) & (ones == 0)] = IGNORED
    out[(icon == 1) & (ones == cells)] = IGNORED
    return out


def check_mask(mask: np.ndarray, name: str) -> None:
    """Refuse a mask the method cannot train on: it needs good and bad cells."""
    good, bad = int((mask == GOOD).sum()), int((mask == BAD).sum())
    if good == 0 or bad == 0:
        raise PatternError(
            f"icon {name} has {good} good and {bad} bad boundary cells at this size: the "
            "multi-point optimisation needs a shape with an edge (some pixels darker than 0.5 "
            "and some brighter). Try another image or --grid.")


def cells_of(mask: np.ndarray, kind: int) -> np.ndarray:
    """(n, 2) int64 (row, column) of every cell of ``kind``, in row-major order (their
    ``get_class_idx``)."""
    return np.argwhere(mask == kind).astype(np.int64)


def centred(cells: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Their ``should_center_origin``: (i - H // 2, j - W // 2)."""
    return cells - np.array([shape[0] // 2, shape[1] // 2], dtype=np.int64)
