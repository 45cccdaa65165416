"""Constructions as generators: each ``yield`` is a progress frame and a cancellation point.

    gen = construct(resolved)
    for frame in gen: ...            # stop iterating (or gen.close()) to cancel
    result = drive(construct(resolved), on_frame)   # or run it to the end
"""

from __future__ import annotations

from collections.abc import Generator

from losspattern_core.config import Resolved
from losspattern_core.frames import Frame, drive

from .common import Construction


def construct(resolved: Resolved) -> Generator[Frame, None, Construction]:
    if resolved.config.theorem == 1:
        from .theorem1 import construct as run
    else:
        from .theorem2 import construct as run
    return run(resolved)



__all__ = ["Construction", "Frame", "construct", "drive"]
