"""How many CPU threads torch may use.

Measured on the 2-core machine this project is built on: an idle machine runs the default
construction 1.3x faster with 2 threads than with 1 (6.8 s vs 9.1 s), but when anything else
wants a core (another job, or the GUI thread repainting), torch's 2 spinning threads slow it
7-18x. So the GUI leaves one core to itself, and the CLI takes ``--threads`` (default: torch's).
"""

from __future__ import annotations

import os

import torch

ENV = "LOSSPATTERN_THREADS"
MAX_THREADS = 1024  # torch.set_num_threads overflows on absurd counts


def configure_threads(n: int | None = None, reserve: int = 0) -> int:
    """Set torch's intra-op threads: ``n``, else $LOSSPATTERN_THREADS, else cores - reserve.

    Values are clamped to 1..1024; an unusable $LOSSPATTERN_THREADS is ignored here (the CLI
    refuses it up front with ``options.threads_from_env``).
    """
    if n is None and os.environ.get(ENV, "").strip():
        text = os.environ[ENV].strip()
        n = int(text) if text.isdigit() and len(text) <= 6 else None
    if n is None:
        n = max(1, (os.cpu_count() or 1) - reserve) if reserve else torch.get_num_threads()
    n = min(MAX_THREADS, max(1, int(n)))
    torch.set_num_threads(n)
    return n
