"""Constructions as generators: each ``yield`` is a progress frame and a cancellation point.

    gen = construct(resolved)
    for frame in gen: ...            # stop iterating (or gen.close()) to cancel
    result = drive(construct(resolved), on_frame)   # or run it to the end
"""

from __future__ import annotations

from typing import Callable, Generator

from ..config import Resolved
from .common import Construction, Frame


def construct(resolved: Resolved) -> Generator[Frame, None, Construction]:
    if resolved.config.theorem == 1:
        from .theorem1 import construct as run
    else:
        from .theorem2 import construct as run
    return run(resolved)


def drive(gen: Generator[Frame, None, Construction],
          on_frame: Callable[[Frame], None] | None = None) -> Construction:
    """Run a construction generator to the end, passing frames on; returns its result."""
    while True:
        try:
            frame = next(gen)
        except StopIteration as stop:
            return stop.value
        if on_frame is not None:
            on_frame(frame)


__all__ = ["Construction", "Frame", "construct", "drive"]
