"""Progressive refinement: a coarse exact surface first, then finer ones, streamed as frames.

Every frame holds exact losses (mean over every sample of the split) at a sub-grid of the final
G^z grid: level k takes every 2^k-th index along each axis plus the last one, so each level
contains the previous one and only the new points are evaluated. Frames come out as
``(size, array)`` with ``array`` in the orientation of ``surface.grid_array``: shape
``(size,)*z`` or ``(heads,)+(size,)*z``. The last frame is the full G^z surface.
``level_indices`` gives the grid indices (hence the coordinates) a frame's entries sit at.

The generator is the cancellation point: stop iterating (or call ``close()``) and no more work
is done.
"""

from __future__ import annotations

import time
from collections.abc import Generator

import numpy as np

from losspattern_core.grid import flat_positions as _flat
from losspattern_core.grid import level_indices, range_points
from losspattern_core.surface import evaluate_points, prepare


def progressive_surface(model, directions, X, y, grid: int, alpha_range=None, *, classes: int,
                        heads: int = 1, loss: str = "cross_entropy", device="cpu",
                        start: int = 8, first_frame_s: float | None = None,
                        budget: int | None = None, prepared=None, per_class: bool = False,
                        ) -> Generator[tuple[int, np.ndarray], None, np.ndarray]:
    """Yield ``(size, surface at the size^z sub-grid)`` coarse to fine; return the full one
    (with ``per_class=True``: ``(full, per-class mean losses (G^z, heads, K))`` as
    ``evaluate_points`` gives them, for metrics that need them).

    ``X`` is the split as the network takes it (``networks.as_input`` for the conv families),
    as for ``evaluate_points``.

    ``first_frame_s``: when set, the first frame's level is chosen from the time one point
    takes so that it arrives within about that many seconds (a level of 2 per axis at least).
    """
    z = len(directions)
    prep = prepared or prepare(model, directions, X, y, classes, device)
    alphas = range_points(grid, z, alpha_range)
    values = np.full((len(alphas), heads), np.nan)
    classes_ = np.full((len(alphas), heads, classes), np.nan) if per_class else None
    done = np.zeros(len(alphas), dtype=bool)
    kw = dict(classes=classes, heads=heads, loss=loss, budget=budget, prepared=prep)
    if first_frame_s is not None:
        t0 = time.perf_counter()
        values[:1], pc = evaluate_points(model, directions, X, y, alphas[:1], **kw)
        if per_class:
            classes_[:1] = pc
        done[0] = True
        per_point = max(time.perf_counter() - t0, 1e-9)
        fit = max(2, int((first_frame_s / per_point) ** (1 / z)))
        start = min(start, fit)
    for idx in level_indices(grid, start):
        flat = _flat(idx, grid, z)
        todo = flat[~done[flat]]
        if len(todo):
            values[todo], pc = evaluate_points(model, directions, X, y, alphas[todo], **kw)
            if per_class:
                classes_[todo] = pc
            done[todo] = True
        frame = values[flat].reshape((len(idx),) * z + (heads,))
        frame = np.moveaxis(frame, -1, 0)
        yield len(idx), (frame[0] if heads == 1 else frame).copy()
    full = np.moveaxis(values.reshape((grid,) * z + (heads,)), -1, 0)
    full = full[0] if heads == 1 else full
    return (full, classes_) if per_class else full
