"""Progress frames and ``drive``: the hand-off between long work and whoever shows it.

Every long computation in the core (constructions, ordinary training, progressive measurement)
is a generator: each ``yield`` is a data hand-off, a progress tick and a cancellation point
(stop iterating, or ``gen.close()``, to cancel). This module is a leaf: it imports nothing else
from the package, so any module may use it without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

R = TypeVar("R")


@dataclass(frozen=True)
class Frame:
    """One progress report. ``surface`` is a measured train surface (numpy copy) or None."""

    step: int
    total: int
    reg_loss: float
    elapsed: float
    phase: str = "regression"
    surface: np.ndarray | None = None
    message: str = ""


def drive(gen: Generator[Any, None, R], on_item: Callable[[Any], None] | None = None) -> R:
    """Run a generator to the end, passing each yielded item on; return its return value."""
    while True:
        try:
            item = next(gen)
        except StopIteration as stop:
            return stop.value
        if on_item is not None:
            on_item(item)
